/* node: decodes one v1 Node: name, labels, InternalIP, pod CIDRs and the
 * Ready condition. */
#include <string.h>

#include "k8s/decode.h"
#include "lib/ipv4.h"

static void node_labels(struct ydec *d, struct k8s_ctx *c,
			const struct ynode *meta, struct k8s_node *n)
{
	const struct ynode *m;
	size_t mark;

	mark = ydec_enter(d, "metadata");
	if (ydec_map(d, meta, "labels", &m) != 1)
		goto out;
	ydec_enter(d, "labels");
	n->labels = arena_alloc(c->arena, m->n * sizeof(*n->labels));
	for (size_t i = 0; i < m->n; i++) {
		const struct ynode *k = m->items[2 * i];
		const struct ynode *v = m->items[2 * i + 1];
		struct k8s_label *l = &n->labels[n->nlabels++];

		if (v->kind != YNODE_SCALAR) {
			ydec_error(d, v, k->str, "expected a string, found %s; "
				   "a label value is a string",
				   ynode_kind_name(v));
			continue;
		}
		l->key = arena_strndup(c->arena, k->str, k->len);
		l->value = ynode_is_null(v)
				   ? k8s_strdup(c, "")
				   : arena_strndup(c->arena, v->str, v->len);
	}
out:
	ydec_leave(d, mark);
}

/* status.addresses[]: the first IPv4 InternalIP is the node's address. */
static void node_addresses(struct ydec *d, const struct ynode *status,
			   struct k8s_node *n)
{
	const struct ynode *seq;
	size_t mark;

	if (ydec_seq(d, status, "addresses", &seq) != 1)
		return;
	mark = ydec_enter(d, "addresses");
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *e = seq->items[i], *v;
		size_t im = ydec_enter_index(d, i);
		const char *type = NULL;
		uint32_t ip;

		if (!ydec_expect(d, e, YNODE_MAP))
			goto next;
		if (ydec_str(d, e, "type", &type) == 0)
			ydec_error(d, e, "type", "missing; write the address "
				   "type, such as InternalIP");
		v = ydec_get(e, "address");
		if (!v) {
			ydec_error(d, e, "address", "missing; write the "
				   "address");
			goto next;
		}
		/* Hostname and DNS entries hold names, not addresses. */
		if (!type || (strcmp(type, "InternalIP") &&
			      strcmp(type, "ExternalIP")))
			goto next;
		if (k8s_decode_ip(d, v, "address", true, &ip) == 1 &&
		    !strcmp(type, "InternalIP") && !n->internal_ip)
			n->internal_ip = ip;
next:
		ydec_leave(d, im);
	}
	ydec_leave(d, mark);
}

/* An IPv6 prefix such as fd00:10:244::/64 (dual-stack pod CIDRs). */
static bool is_ipv6_cidr(const char *s)
{
	const char *slash = strchr(s, '/');
	unsigned len = 0;
	const char *p;

	if (!slash || !k8s_is_ipv6(s, (size_t)(slash - s)) || !slash[1] ||
	    strlen(slash + 1) > 3)
		return false;
	for (p = slash + 1; *p >= '0' && *p <= '9'; p++)
		len = len * 10 + (unsigned)(*p - '0');
	return !*p && len <= 128;
}

/* One pod CIDR at v (reported at path + key); IPv6 ones are skipped. */
static void node_pod_cidr(struct ydec *d, struct k8s_ctx *c,
			  const struct ynode *v, const char *key,
			  struct k8s_node *n, size_t cap)
{
	struct ipv4_range r;
	const char *why;
	uint8_t len;

	if (v->kind != YNODE_SCALAR) {
		ydec_error(d, v, key, "expected a CIDR, found %s; write a "
			   "network and prefix length such as 198.19.0.0/24",
			   ynode_kind_name(v));
		return;
	}
	if (ipv4_cidr_parse(v->str, &r, &why) < 0) {
		if (!is_ipv6_cidr(v->str))
			ydec_error(d, v, key, "'%s' is not a pod CIDR: %s; "
				   "write a network and prefix length such as "
				   "198.19.0.0/24", v->str, why);
		return;
	}
	len = (uint8_t)(32 - __builtin_popcount(r.last - r.first));
	for (size_t i = 0; i < n->npod_cidrs; i++)
		if (n->pod_cidrs[i] == r.first && n->pod_cidr_lens[i] == len)
			return;
	if (!n->pod_cidrs) {
		n->pod_cidrs = arena_alloc(c->arena,
					   cap * sizeof(*n->pod_cidrs));
		n->pod_cidr_lens = arena_alloc(c->arena, cap);
	}
	n->pod_cidrs[n->npod_cidrs] = r.first;
	n->pod_cidr_lens[n->npod_cidrs++] = len;
}

static void node_pod_cidrs(struct ydec *d, struct k8s_ctx *c,
			   const struct ynode *spec, struct k8s_node *n)
{
	const struct ynode *one = ydec_get(spec, "podCIDR");
	const struct ynode *seq = NULL;
	size_t cap, mark = ydec_enter(d, "spec");

	/* The API allows one CIDR per address family. */
	if (ydec_seq(d, spec, "podCIDRs", &seq) == 1 && seq->n > 2) {
		ydec_error(d, seq, "podCIDRs", "%zu CIDRs listed; a Node has "
			   "at most two, one per address family", seq->n);
		seq = NULL;
	}
	cap = (one ? 1 : 0) + (seq ? seq->n : 0);
	if (one)
		node_pod_cidr(d, c, one, "podCIDR", n, cap);
	for (size_t i = 0; seq && i < seq->n; i++) {
		char key[32];

		snprintf(key, sizeof(key), "podCIDRs[%zu]", i);
		node_pod_cidr(d, c, seq->items[i], key, n, cap);
	}
	ydec_leave(d, mark);
}

static void node_ready(struct ydec *d, const struct ynode *status,
		       struct k8s_node *n)
{
	const struct ynode *seq;
	size_t mark;

	if (ydec_seq(d, status, "conditions", &seq) != 1)
		return;
	mark = ydec_enter(d, "conditions");
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *cond = seq->items[i];
		size_t im = ydec_enter_index(d, i);
		const char *type, *st;

		if (ydec_expect(d, cond, YNODE_MAP) &&
		    ydec_str(d, cond, "type", &type) == 1 &&
		    !strcmp(type, "Ready") &&
		    ydec_str(d, cond, "status", &st) == 1)
			n->ready = !strcmp(st, "True");
		ydec_leave(d, im);
	}
	ydec_leave(d, mark);
}

bool k8s_decode_node(struct ydec *d, struct k8s_ctx *c,
		     const struct ynode *obj, void *out)
{
	struct k8s_node *n = out;
	const struct ynode *meta, *spec = NULL, *status = NULL;

	meta = k8s_decode_meta(d, c, obj, &n->name, NULL);
	node_labels(d, c, meta, n);
	if (ydec_map(d, obj, "spec", &spec) == 1)
		node_pod_cidrs(d, c, spec, n);
	if (ydec_map(d, obj, "status", &status) == 1) {
		size_t mark = ydec_enter(d, "status");

		node_addresses(d, status, n);
		node_ready(d, status, n);
		ydec_leave(d, mark);
	}
	return true;
}
