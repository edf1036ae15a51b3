/* service: decodes one v1 Service: identity, the MetalLB annotations, the
 * creation time (RFC 3339), type, ports, traffic policy, the requested
 * address and the addresses its status already holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/decode.h"
#include "lib/ipv4.h"
#include "lib/xalloc.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil): no time zone, no libc. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 date-time ("2024-05-01T10:00:00Z", "...:00.5+02:00") to
 * seconds since the epoch, fractions dropped. */
static bool rfc3339(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, off = 0;
	const char *p = s + 19;

	if (strnlen(s, 20) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return false;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60 ||
	    d > mdays[mo - 1] + (mo == 2 && leap_year(y)))
		return false;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int oh = digits(p + 1, 2), om = digits(p + 4, 2);

		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return false;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
	} else if ((*p != 'Z' && *p != 'z') || p[1]) {
		return false;
	}
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	       h * 3600 + mi * 60 + sec - off;
	return true;
}

/* metallb.universe.tf/loadBalancerIPs: one address, or a dual-stack pair
 * "IPv4,IPv6"; bmlb takes the IPv4 one. */
static void service_ann_ips(struct ydec *d, const struct ynode *v,
			    struct k8s_service *s)
{
	const char *p = v->str, *end = v->str + v->len;
	const char *why = NULL;
	size_t n4 = 0;

	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		uint32_t ip;

		while (p < e && *p == ' ')
			p++;
		while (e > p && e[-1] == ' ')
			e--;
		if (ipv4_parse_n(p, (size_t)(e - p), &ip) == 0) {
			if (n4++ == 0)
				s->ann_ip = ip;
		} else if (!k8s_is_ipv6(p, (size_t)(e - p))) {
			why = "is not a list of IP addresses";
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	if (!why && n4 == 0)
		why = "holds no IPv4 address, and bmlb serves IPv4 only";
	if (!why && n4 > 1)
		why = "holds more than one IPv4 address";
	if (why)
		ydec_error(d, v, K8S_ANN_IPS, "'%s' %s; write one IPv4 address "
			   "such as 198.51.100.7, optionally followed by "
			   "\",\" and an IPv6 one", v->str, why);
}

static void service_meta(struct ydec *d, struct k8s_ctx *c,
			 const struct ynode *meta, struct k8s_service *s)
{
	const struct ynode *ann = NULL;
	const char *str;
	size_t mark = ydec_enter(d, "metadata");

	s->created = INT64_MAX;
	if (ydec_str(d, meta, "creationTimestamp", &str) == 1 &&
	    !rfc3339(str, &s->created))
		ydec_error(d, ydec_get(meta, "creationTimestamp"),
			   "creationTimestamp", "'%s' is not an RFC 3339 time; "
			   "write one such as 2024-05-01T10:00:00Z", str);
	if (ydec_map(d, meta, "annotations", &ann) == 1) {
		ydec_enter(d, "annotations");
		if (ydec_str(d, ann, K8S_ANN_POOL, &str) == 1 && *str)
			s->ann_pool = k8s_strdup(c, str);
		if (ydec_str(d, ann, K8S_ANN_SHARE, &str) == 1)
			s->share_key = k8s_strdup(c, str);
		if (ydec_str(d, ann, K8S_ANN_IPS, &str) == 1 && *str)
			service_ann_ips(d, ydec_get(ann, K8S_ANN_IPS), s);
	}
	ydec_leave(d, mark);
}

/* An IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', with at
 * least one letter and no '-' at either end or next to another. */
static bool iana_svc_name(const char *s, size_t len)
{
	bool letter = false;

	if (!len || len > 15 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (s[i] == '-' ? s[i - 1] == '-'
				     : s[i] < '0' || s[i] > '9')
			return false;
	}
	return letter;
}

/* A plain scalar of an optional sign and digits: meant as a number. */
static bool looks_integer(const struct ynode *v)
{
	size_t sign = v->str[0] == '-' || v->str[0] == '+';

	return v->plain && v->len > sign &&
	       strspn(v->str + sign, "0123456789") == v->len - sign;
}

static void service_target_port(struct ydec *d, struct k8s_ctx *c,
				const struct ynode *item,
				struct k8s_svc_port *p)
{
	const struct ynode *v = ydec_get(item, "targetPort");
	long n;

	if (!v) {
		p->target_port = p->port;
	} else if (v->kind == YNODE_SCALAR && looks_integer(v)) {
		if (ydec_int(d, item, "targetPort", 1, 65535, &n) == 1)
			p->target_port = (uint16_t)n;
	} else if (v->kind == YNODE_SCALAR && iana_svc_name(v->str, v->len)) {
		p->target_port_name = arena_strndup(c->arena, v->str, v->len);
	} else {
		ydec_error(d, v, "targetPort", "'%s' is neither a port number "
			   "nor a port name; write a number from 1 to 65535 "
			   "or a name of at most 15 lowercase letters, digits "
			   "and single inner '-', with at least one letter",
			   v->kind == YNODE_SCALAR ? v->str
						   : ynode_kind_name(v));
	}
}

static void service_port(struct ydec *d, struct k8s_ctx *c,
			 const struct ynode *item, struct k8s_svc_port *p)
{
	const char *name = "";
	const struct ynode *np = ydec_get(item, "nodePort");
	long node_port;

	ydec_str(d, item, "name", &name);
	p->name = k8s_strdup(c, name);
	k8s_decode_protocol(d, item, &p->protocol);
	k8s_decode_port(d, item, "port", &p->port);
	if (!ydec_get(item, "port"))
		ydec_error(d, item, "port", "missing; write the Service's "
			   "port, from 1 to 65535");
	service_target_port(d, c, item, p);
	/* Kubernetes' NodePort range: bmlb keeps its SNAT ports out of it,
	 * so a nodePort elsewhere could not be told from a reply. */
	if (ydec_int(d, item, "nodePort", K8S_NODE_PORT_MIN, K8S_NODE_PORT_MAX,
		     &node_port) == 1)
		p->node_port = (uint16_t)node_port;
	if (np) {
		p->node_port_line = np->line;
		p->node_port_col = np->col;
	}
}

static int port_name_cmp(const void *x, const void *y)
{
	const struct k8s_svc_port *a = *(const struct k8s_svc_port *const *)x;
	const struct k8s_svc_port *b = *(const struct k8s_svc_port *const *)y;
	int c = strcmp(a->name, b->name);

	return c ? c : (a > b) - (a < b);
}

static int port_number_cmp(const void *x, const void *y)
{
	const struct k8s_svc_port *a = *(const struct k8s_svc_port *const *)x;
	const struct k8s_svc_port *b = *(const struct k8s_svc_port *const *)y;

	if (a->protocol != b->protocol)
		return a->protocol < b->protocol ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return (a > b) - (a < b);
}

/* Reports every port whose name (by_name) or protocol and port number
 * repeats an earlier port's.  Sorted, so that many ports stay cheap. */
static void ports_unique(struct ydec *d, const struct ynode *seq,
			 const struct k8s_service *s, bool by_name)
{
	const struct k8s_svc_port *buf[16], **v = buf;
	const char *key = by_name ? "name" : "port";
	size_t first = 0, n = 0;

	if (s->nports > 16)
		v = xmalloc(s->nports * sizeof(*v));
	/* An entry that is not a mapping was reported and has no name. */
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i].name)
			v[n++] = &s->ports[i];
	qsort(v, n, sizeof(*v), by_name ? port_name_cmp : port_number_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct k8s_svc_port *p = v[i], *f = v[first];
		size_t idx = (size_t)(p - s->ports), mark;

		if (by_name ? !*p->name || strcmp(p->name, f->name)
			    : !p->port || p->port != f->port ||
				      p->protocol != f->protocol) {
			first = i;
			continue;
		}
		mark = ydec_enter_index(d, idx);
		if (by_name)
			ydec_error(d, ydec_get(seq->items[idx], key), key,
				   "'%s' is already the name of ports[%zu]; "
				   "give each port its own name", p->name,
				   (size_t)(f - s->ports));
		else
			ydec_error(d, ydec_get(seq->items[idx], key), key,
				   "%u/%s is already served by ports[%zu]; "
				   "list each port and protocol once", p->port,
				   k8s_protocol_name(p->protocol),
				   (size_t)(f - s->ports));
		ydec_leave(d, mark);
	}
	if (v != buf)
		free(v);
}

static void service_ports(struct ydec *d, struct k8s_ctx *c,
			  const struct ynode *spec, struct k8s_service *s)
{
	const struct ynode *seq;
	size_t mark;

	if (ydec_seq(d, spec, "ports", &seq) != 1)
		return;
	mark = ydec_enter(d, "ports");
	s->ports = arena_alloc(c->arena, seq->n * sizeof(*s->ports));
	s->nports = seq->n;
	for (size_t i = 0; i < seq->n; i++) {
		size_t im = ydec_enter_index(d, i);

		if (ydec_expect(d, seq->items[i], YNODE_MAP))
			service_port(d, c, seq->items[i], &s->ports[i]);
		ydec_leave(d, im);
	}
	ports_unique(d, seq, s, true);
	ports_unique(d, seq, s, false);
	ydec_leave(d, mark);
}

static void service_spec(struct ydec *d, struct k8s_ctx *c,
			 const struct ynode *spec, struct k8s_service *s)
{
	const struct ynode *v;
	const char *str;
	size_t mark = ydec_enter(d, "spec");

	if (ydec_str(d, spec, "type", &str) == 1)
		s->type = !strcmp(str, "LoadBalancer") ? K8S_SVC_LOADBALANCER
			  : !strcmp(str, "NodePort")   ? K8S_SVC_NODEPORT
						       : K8S_SVC_OTHER;
	service_ports(d, c, spec, s);
	/* "Global" is the policy's name before Kubernetes 1.7. */
	if (ydec_str(d, spec, "externalTrafficPolicy", &str) == 1) {
		s->local = !strcmp(str, "Local");
		if (!s->local && *str && strcmp(str, "Cluster") &&
		    strcmp(str, "Global"))
			ydec_error(d, ydec_get(spec, "externalTrafficPolicy"),
				   "externalTrafficPolicy", "'%s' is not a "
				   "traffic policy; write Cluster or Local",
				   str);
	}
	v = ydec_get(spec, "loadBalancerIP");
	if (v && !(v->kind == YNODE_SCALAR && !v->len))
		k8s_decode_ip(d, v, "loadBalancerIP", false, &s->lb_ip);
	ydec_leave(d, mark);
}

/* status.loadBalancer.ingress[].ip: entries with only a hostname are for
 * cloud load balancers and carry nothing for bmlb. */
static void service_ingress(struct ydec *d, struct k8s_ctx *c,
			    const struct ynode *status, struct k8s_service *s)
{
	const struct ynode *seq = NULL, *lb = NULL;
	size_t mark = ydec_enter(d, "status");

	if (ydec_map(d, status, "loadBalancer", &lb) != 1)
		goto out;
	ydec_enter(d, "loadBalancer");
	if (ydec_seq(d, lb, "ingress", &seq) != 1)
		goto out;
	ydec_enter(d, "ingress");
	s->ingress_ips = arena_alloc(c->arena,
				     seq->n * sizeof(*s->ingress_ips));
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *e = seq->items[i], *ip;
		size_t im = ydec_enter_index(d, i);
		uint32_t *slot = &s->ingress_ips[s->ningress_ips];

		if (ydec_expect(d, e, YNODE_MAP) && (ip = ydec_get(e, "ip")) &&
		    k8s_decode_ip(d, ip, "ip", true, slot) == 1)
			s->ningress_ips++;
		ydec_leave(d, im);
	}
out:
	ydec_leave(d, mark);
}

bool k8s_decode_service(struct ydec *d, struct k8s_ctx *c,
			const struct ynode *obj, void *out)
{
	struct k8s_service *s = out;
	const struct ynode *meta, *spec = NULL, *status = NULL;

	meta = k8s_decode_meta(d, c, obj, &s->name, &s->namespace_);
	service_meta(d, c, meta, s);
	if (ydec_map(d, obj, "spec", &spec) == 1)
		service_spec(d, c, spec, s);
	if (ydec_map(d, obj, "status", &status) == 1)
		service_ingress(d, c, status, s);
	return true;
}
