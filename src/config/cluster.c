/* cluster: reads the cluster file (SPEC.md §2) into a struct cfg_cluster.
 *
 * It finds the one `kind: Cluster` document among the file's documents,
 * decodes every field bmlb uses and checks what each field alone can tell;
 * validate.c checks the rules across fields and change.c the edits that a
 * created cluster refuses.  Also the lookups other modules make on pools.
 */
#include "config/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "config/validate.h"
#include "lib/xalloc.h"
#include "lib/yaml_decode.h"
#include "lib/yaml_tree.h"

#define API_GROUP "baremetal.cluster.gke.io/"
#define DEFAULT_CP_LB_PORT 443

static const char *const type_names[] = {"user", "admin", "hybrid",
					 "standalone"};
static const char *const mode_names[] = {"snat", "dsr"};
static const char *const annotation_names[] = {"disable", "enable"};
static const char *const lb_mode_names[] = {"bundled"};
static const char *const lb_type_names[] = {"layer2"};

#define NAMES(a) a, sizeof(a) / sizeof(*(a))

const char *cfg_forward_mode_name(enum cfg_forward_mode m)
{
	return mode_names[m == CFG_FORWARD_DSR];
}

static void missing(struct ydec *d, const struct ynode *map, const char *key,
		    const char *hint)
{
	ydec_error(d, map, key, "required field is missing; %s", hint);
}

/* Reads key of map as one of n names; *out is its index.  Returns as the
 * ydec getters. */
static int decode_enum(struct ydec *d, const struct ynode *map,
		       const char *key, const char *const *names, size_t n,
		       const char *what, int *out)
{
	char valid[128] = "";
	const char *s;
	int r = ydec_str(d, map, key, &s);

	if (r != 1)
		return r;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, names[i])) {
			*out = (int)i;
			return 1;
		}
	for (size_t i = 0; i < n; i++)
		snprintf(valid + strlen(valid), sizeof(valid) - strlen(valid),
			 "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " or ",
			 names[i]);
	ydec_error(d, ydec_get(map, key), key, "\"%s\" is not %s; write %s", s,
		   what, valid);
	return -1;
}

/* Reads key of map as a host's IPv4 address; *at is where it is written. */
static int decode_ip(struct ydec *d, const struct ynode *map, const char *key,
		     uint32_t *out, const struct ynode **at)
{
	const struct ynode *v = ydec_get(map, key);
	const char *s;
	uint32_t a;
	int r = ydec_str(d, map, key, &s);

	if (r != 1)
		return r;
	if (ipv4_parse(s, &a) < 0) {
		ydec_error(d, v, key, "\"%s\" is not an IPv4 address; write "
			   "four numbers 0-255 without leading zeros, such as "
			   "192.0.2.10", s);
		return -1;
	}
	/* 0/8 "this network", 127/8 loopback, 224/3 multicast and reserved */
	if (a >> 24 == 0 || a >> 24 == 127 || a >= 0xe0000000u) {
		ydec_error(d, v, key, "%s is not a unicast host address; write "
			   "an address on the nodes' subnet", s);
		return -1;
	}
	*out = a;
	*at = v;
	return 1;
}

static void decode_metadata(struct cfg_decoder *dc, const struct ynode *root)
{
	struct ydec *d = &dc->d;
	const struct ynode *meta, *ann;
	const char *s;
	size_t mark;
	int v;

	if (ydec_map(d, root, "metadata", &meta) != 1)
		return;
	mark = ydec_enter(d, "metadata");
	if (ydec_str(d, meta, "name", &s) == 1)
		dc->c->name = xstrdup(s);
	if (ydec_str(d, meta, "namespace", &s) == 1)
		dc->c->namespace_ = xstrdup(s);
	if (ydec_map(d, meta, "annotations", &ann) == 1) {
		size_t m = ydec_enter(d, "annotations");

		if (decode_enum(d, ann, CFG_DSR_ANNOTATION,
				NAMES(annotation_names),
				"a value of this annotation", &v) == 1) {
			dc->annotation_at = ydec_get(ann, CFG_DSR_ANNOTATION);
			dc->annotation_mode = (enum cfg_forward_mode)v;
		}
		ydec_leave(d, m);
	}
	ydec_leave(d, mark);
}

#define NETWORK "spec.clusterNetwork."

/* clusterNetwork.KEY.cidrBlocks (KEY pods or services): its IPv4 blocks
 * go to dc->cidrs; IPv6 ones (dual stack) are bmlb's concern nowhere. */
static void decode_cidr_blocks(struct cfg_decoder *dc, const struct ynode *net,
			       const char *key, const char *list)
{
	struct ydec *d = &dc->d;
	const struct ynode *m, *seq;
	size_t mark, mark2;

	if (ydec_map(d, net, key, &m) != 1)
		return;
	mark = ydec_enter(d, key);
	if (ydec_seq(d, m, "cidrBlocks", &seq) == 1) {
		mark2 = ydec_enter(d, "cidrBlocks");
		for (size_t i = 0; i < seq->n; i++) {
			const struct ynode *v = seq->items[i];
			size_t im = ydec_enter_index(d, i);
			struct ipv4_range r;
			const char *why;

			if (!ydec_expect(d, v, YNODE_SCALAR) ||
			    strchr(v->str, ':')) {
				ydec_leave(d, im);
				continue;
			}
			if (ipv4_cidr_parse(v->str, &r, &why) < 0)
				ydec_error(d, v, NULL, "\"%s\" is not a CIDR "
					   "block: %s; write a prefix such as "
					   "192.168.0.0/16", v->str, why);
			else
				*(struct cfg_cidr_ref *)xpush(
					&dc->cidrs, &dc->ncidrs, &dc->ccidrs,
					sizeof(*dc->cidrs)) =
					(struct cfg_cidr_ref){r, list, i, v};
			ydec_leave(d, im);
		}
		ydec_leave(d, mark2);
	}
	ydec_leave(d, mark);
}

static void decode_network(struct cfg_decoder *dc, const struct ynode *spec)
{
	struct ydec *d = &dc->d;
	const struct ynode *net;
	size_t mark;
	int v;

	if (ydec_map(d, spec, "clusterNetwork", &net) != 1)
		return;
	dc->network = net;
	mark = ydec_enter(d, "clusterNetwork");
	if (decode_enum(d, net, "forwardMode", NAMES(mode_names),
			"a forwarding mode", &v) == 1) {
		dc->mode_at = ydec_get(net, "forwardMode");
		dc->field_mode = (enum cfg_forward_mode)v;
	}
	dc->flat_at = ydec_get(net, "flatIPv4");
	dc->flat_bad = ydec_bool(d, net, "flatIPv4", &dc->c->flat_ipv4) < 0;
	decode_cidr_blocks(dc, net, "pods", NETWORK "pods.cidrBlocks");
	decode_cidr_blocks(dc, net, "services", NETWORK "services.cidrBlocks");
	ydec_leave(d, mark);
}

static void decode_node(struct ydec *d, const struct ynode *item,
			struct cfg_node *node, const struct ynode **at)
{
	const struct ynode *addr_at = NULL, *k8s_at = NULL;
	int r, k;

	node->line = item->line;
	node->col = item->col;
	r = decode_ip(d, item, "address", &node->address, &addr_at);
	if (r == 0)
		missing(d, item, "address", "add the node's address");
	k = decode_ip(d, item, "k8sIP", &node->k8s_ip, &k8s_at);
	*at = k == 1 ? k8s_at : k == 0 ? addr_at : NULL;
}

/* Decodes parent.nodePoolSpec.nodes.  Returns as ydec_seq on the list. */
static int decode_nodes(struct cfg_decoder *dc, const struct ynode *parent,
			struct cfg_node **out, size_t *n,
			const struct ynode ***at)
{
	struct ydec *d = &dc->d;
	const struct ynode *pool, *nodes;
	size_t mark, mark2;
	int r = ydec_map(d, parent, "nodePoolSpec", &pool);

	if (r != 1)
		return r;
	mark = ydec_enter(d, "nodePoolSpec");
	r = ydec_seq(d, pool, "nodes", &nodes);
	if (r == 1) {
		mark2 = ydec_enter(d, "nodes");
		*n = nodes->n;
		*out = xcalloc(nodes->n, sizeof(**out));
		*at = xcalloc(nodes->n, sizeof(**at));
		for (size_t i = 0; i < nodes->n; i++) {
			size_t m = ydec_enter_index(d, i);

			if (ydec_expect(d, nodes->items[i], YNODE_MAP))
				decode_node(d, nodes->items[i], &(*out)[i],
					    &(*at)[i]);
			ydec_leave(d, m);
		}
		ydec_leave(d, mark2);
	}
	ydec_leave(d, mark);
	return r;
}

/* Reads a range that the user may have written almost right: with spaces,
 * with its ends swapped, with host bits set after the prefix, or as a
 * single address. */
static bool guess_range(const char *s, struct ipv4_range *r)
{
	char t[64];
	const char *why, *dash, *slash;
	uint32_t a, b;
	size_t k = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t')
			continue;
		if (k == sizeof(t) - 1)
			return false;
		t[k++] = *s;
	}
	t[k] = '\0';
	if (ipv4_range_parse(t, r, &why) == 0)
		return true;
	if (ipv4_parse(t, &a) == 0) {
		*r = (struct ipv4_range){a, a};
		return true;
	}
	dash = strchr(t, '-');
	if (dash && ipv4_parse_n(t, (size_t)(dash - t), &a) == 0 &&
	    ipv4_parse(dash + 1, &b) == 0) {
		*r = (struct ipv4_range){a < b ? a : b, a < b ? b : a};
		return true;
	}
	slash = strchr(t, '/');
	if (slash && ipv4_parse_n(t, (size_t)(slash - t), &a) == 0) {
		char *end;
		unsigned long len = strtoul(slash + 1, &end, 10);
		uint32_t mask;

		if (*end || end == slash + 1 || len > 32)
			return false;
		mask = len ? ~0u << (32 - len) : 0;
		*r = (struct ipv4_range){a & mask, a | ~mask};
		return true;
	}
	return false;
}

/* "what would be valid" for the bad range s: its corrected first-last and
 * the smallest CIDR prefix around it, when s shows what was meant. */
static void range_hint(const char *s, char *buf, size_t len)
{
	/* 198.51.100.1-198.51.100.9 when nothing better is known */
	struct ipv4_range r = {0xc6336401u, 0xc6336409u};
	char a[IPV4_STRLEN], b[IPV4_STRLEN], p[IPV4_STRLEN];
	unsigned plen = 32;

	guess_range(s, &r);
	while (plen > 0 && r.first >> (32 - plen) != r.last >> (32 - plen))
		plen--;
	snprintf(buf, len, "write first-last (%s-%s) or a CIDR prefix (%s/%u)",
		 ipv4_format(r.first, a), ipv4_format(r.last, b),
		 ipv4_format(plen ? r.first & ~0u << (32 - plen) : 0, p), plen);
}

static int range_cmp(const void *x, const void *y)
{
	const struct ipv4_range *a = x, *b = y;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return (a->last > b->last) - (a->last < b->last);
}

/* Whether a is one of the addresses that avoidBuggyIPs removes. */
static bool buggy(uint32_t a)
{
	return (a & 0xff) == 0 || (a & 0xff) == 0xff;
}

static bool pool_has_usable(const struct cfg_pool *p)
{
	/* Of any three consecutive addresses one ends in .1 to .254. */
	for (size_t i = 0; i < p->nranges; i++)
		for (uint64_t a = p->ranges[i].first;
		     a <= p->ranges[i].last && a < p->ranges[i].first + 3ull;
		     a++)
			if (!buggy((uint32_t)a))
				return true;
	return false;
}

static void decode_addresses(struct cfg_decoder *dc, const struct ynode *item,
			     size_t i)
{
	struct ydec *d = &dc->d;
	struct cfg_pool *p = &dc->c->pools[i];
	const struct ynode *list;
	size_t mark;
	int r = ydec_seq(d, item, "addresses", &list);

	if (r == 0)
		missing(d, item, "addresses", "list the pool's ranges, such as "
			"[198.51.100.0/28, 198.51.100.20-198.51.100.29]");
	if (r != 1)
		return;
	p->addresses_line = list->line;
	p->addresses_col = list->col;
	if (list->n == 0) {
		ydec_error(d, list, "addresses", "the list is empty; list at "
			   "least one range, such as 198.51.100.0/28");
		return;
	}
	mark = ydec_enter(d, "addresses");
	p->ranges = xcalloc(list->n, sizeof(*p->ranges));
	for (size_t j = 0; j < list->n; j++) {
		const struct ynode *v = list->items[j];
		size_t m = ydec_enter_index(d, j);
		struct ipv4_range rg;
		const char *why;
		char hint[128];

		if (!ydec_expect(d, v, YNODE_SCALAR)) {
			ydec_leave(d, m);
			continue;
		}
		if (ipv4_range_parse(v->str, &rg, &why) < 0) {
			range_hint(v->str, hint, sizeof(hint));
			ydec_error(d, v, NULL, "\"%s\" is not a valid range: "
				   "%s; %s", v->str, why, hint);
		} else {
			struct cfg_range_ref *ref =
				xpush(&dc->ranges, &dc->nranges, &dc->cranges,
				      sizeof(*ref));

			*ref = (struct cfg_range_ref){rg, i, j, v};
			p->ranges[p->nranges++] = rg;
		}
		ydec_leave(d, m);
	}
	ydec_leave(d, mark);
	qsort(p->ranges, p->nranges, sizeof(*p->ranges), range_cmp);
	if (p->avoid_buggy_ips && p->nranges == list->n && !pool_has_usable(p))
		ydec_error(d, ydec_get(item, "avoidBuggyIPs"), "avoidBuggyIPs",
			   "every address of the pool ends in .0 or .255, so "
			   "avoidBuggyIPs: true leaves it empty; add addresses "
			   "ending in .1 to .254, or set avoidBuggyIPs: false");
}

static void decode_pool(struct cfg_decoder *dc, const struct ynode *item,
			size_t i)
{
	struct ydec *d = &dc->d;
	struct cfg_pool *p = &dc->c->pools[i];
	const char *s;
	int r;

	p->line = item->line;
	p->col = item->col;
	r = ydec_str(d, item, "name", &s);
	if (r == 0) {
		missing(d, item, "name", "give the pool a unique name");
	} else if (r == 1 && !*s) {
		ydec_error(d, ydec_get(item, "name"), "name", "the name is "
			   "empty; give the pool a unique name");
	} else if (r == 1) {
		p->name = xstrdup(s);
		dc->pool_name_at[i] = ydec_get(item, "name");
	}
	ydec_bool(d, item, "avoidBuggyIPs", &p->avoid_buggy_ips);
	ydec_bool(d, item, "manualAssign", &p->manual_assign);
	decode_addresses(dc, item, i);
}

static void decode_pools(struct cfg_decoder *dc, const struct ynode *lb)
{
	struct ydec *d = &dc->d;
	struct cfg_cluster *c = dc->c;
	const struct ynode *pools;
	size_t mark;

	if (ydec_seq(d, lb, "addressPools", &pools) != 1)
		return;
	c->pools_line = pools->line;
	c->pools_col = pools->col;
	mark = ydec_enter(d, "addressPools");
	c->npools = pools->n;
	c->pools = xcalloc(pools->n, sizeof(*c->pools));
	dc->pool_name_at = xcalloc(pools->n, sizeof(*dc->pool_name_at));
	for (size_t i = 0; i < pools->n; i++) {
		size_t m = ydec_enter_index(d, i);

		if (ydec_expect(d, pools->items[i], YNODE_MAP))
			decode_pool(dc, pools->items[i], i);
		ydec_leave(d, m);
	}
	ydec_leave(d, mark);
}

static void decode_vips(struct cfg_decoder *dc, const struct ynode *lb)
{
	struct ydec *d = &dc->d;
	struct cfg_cluster *c = dc->c;
	const struct ynode *vips;
	size_t mark;
	int r = ydec_map(d, lb, "vips", &vips);

	if (r == 0)
		missing(d, lb, "vips", "add vips with controlPlaneVIP, the "
			"address of the Kubernetes API");
	if (r != 1)
		return;
	mark = ydec_enter(d, "vips");
	r = decode_ip(d, vips, "controlPlaneVIP", &c->cp_vip, &dc->cp_vip_at);
	if (r == 0)
		missing(d, vips, "controlPlaneVIP", "add the address of the "
			"Kubernetes API, an unused address of the nodes' "
			"subnet outside every address pool");
	if (r == 1) {
		c->cp_vip_line = dc->cp_vip_at->line;
		c->cp_vip_col = dc->cp_vip_at->col;
	}
	decode_ip(d, vips, "ingressVIP", &c->ingress_vip, &dc->ingress_at);
	ydec_leave(d, mark);
}

/* loadBalancer.type: layer2 (also when absent); bgp is refused until
 * bmlb announces by BGP (SPEC.md §11), not served as layer 2. */
static void decode_lb_type(struct ydec *d, const struct ynode *lb)
{
	const struct ynode *t = ydec_get(lb, "type");
	int v;

	if (t && t->kind == YNODE_SCALAR && !strcmp(t->str, "bgp"))
		ydec_error(d, t, "type", "BGP is not yet supported: bmlb "
			   "announces VIPs on layer 2 only; write type: "
			   "layer2, or remove type");
	else
		decode_enum(d, lb, "type", NAMES(lb_type_names),
			    "a load-balancer type bmlb implements", &v);
}

static void decode_lb(struct cfg_decoder *dc, const struct ynode *spec)
{
	struct ydec *d = &dc->d;
	struct cfg_cluster *c = dc->c;
	const struct ynode *lb, *ports;
	unsigned errors;
	size_t mark;
	long port;
	int r = ydec_map(d, spec, "loadBalancer", &lb), v;

	if (r == 0)
		missing(d, spec, "loadBalancer", "add loadBalancer with "
			"mode: bundled, vips and addressPools");
	if (r != 1)
		return;
	dc->lb = lb;
	c->pools_line = lb->line;
	c->pools_col = lb->col;
	mark = ydec_enter(d, "loadBalancer");
	if (decode_enum(d, lb, "mode", NAMES(lb_mode_names),
			"a load-balancer mode bmlb implements", &v) == 0)
		missing(d, lb, "mode", "add mode: bundled");
	decode_lb_type(d, lb);
	if (ydec_map(d, lb, "ports", &ports) == 1) {
		size_t m = ydec_enter(d, "ports");

		if (ydec_int(d, ports, "controlPlaneLBPort", 1, 65535,
			     &port) == 1)
			c->cp_lb_port = (uint16_t)port;
		ydec_leave(d, m);
	}
	decode_vips(dc, lb);
	errors = d->errors;
	decode_pools(dc, lb);
	dc->pools_bad = d->errors != errors;
	r = decode_nodes(dc, lb, &c->lb_nodes, &c->nlb_nodes, &dc->lb_addr_at);
	c->lb_nodes_from_cp = r == 0 || (r == 1 && c->nlb_nodes == 0);
	ydec_leave(d, mark);
}

static void decode_spec(struct cfg_decoder *dc, const struct ynode *root)
{
	struct ydec *d = &dc->d;
	struct cfg_cluster *c = dc->c;
	const struct ynode *spec, *cp;
	size_t mark;
	int r = ydec_map(d, root, "spec", &spec), v;

	if (r == 0)
		missing(d, root, "spec", "add the cluster's spec, with at "
			"least loadBalancer");
	if (r != 1)
		return;
	dc->spec = spec;
	mark = ydec_enter(d, "spec");
	if (decode_enum(d, spec, "type", NAMES(type_names), "a cluster type",
			&v) == 1)
		c->type = (enum cfg_cluster_type)v;
	decode_network(dc, spec);
	if (ydec_map(d, spec, "controlPlane", &cp) == 1) {
		size_t m = ydec_enter(d, "controlPlane");

		decode_nodes(dc, cp, &c->cp_nodes, &c->ncp_nodes,
			     &dc->cp_addr_at);
		ydec_leave(d, m);
	}
	decode_lb(dc, spec);
	ydec_leave(d, mark);
}

static void decode_cluster(struct cfg_cluster *c, const struct ydoc *doc,
			   struct diag_list *dl)
{
	struct cfg_decoder dc = {.c = c};
	const struct ynode *root = doc->root;
	const char *s;
	int r;

	ydec_init(&dc.d, doc->file, dl);
	r = ydec_str(&dc.d, root, "apiVersion", &s);
	if (r == 0)
		missing(&dc.d, root, "apiVersion",
			"add apiVersion: " API_GROUP "v1");
	if (r == 1 && strncmp(s, API_GROUP, strlen(API_GROUP)))
		ydec_error(&dc.d, ydec_get(root, "apiVersion"), "apiVersion",
			   "\"%s\" is not the bare-metal cluster API; write "
			   API_GROUP "v1", s);
	decode_metadata(&dc, root);
	decode_spec(&dc, root);
	cfg_validate(&dc);
	free(dc.pool_name_at);
	free(dc.cp_addr_at);
	free(dc.lb_addr_at);
	free(dc.ranges);
	free(dc.cidrs);
}

struct load {
	struct diag_list *dl;
	struct cfg_cluster *c; /* the Cluster document, once found */
	int line;	       /* of its kind */
	bool bad;	       /* yaml_tree refused part of it */
};

static int on_document(const struct ydoc *doc, void *arg)
{
	struct load *ld = arg;
	const struct ynode *root = doc->root, *kind;

	if (ynode_is_null(root))
		return 0;
	if (root->kind != YNODE_MAP) {
		diag_add(ld->dl, doc->file, root->line, root->col, "",
			 "the document is %s; each document must be a mapping "
			 "(apiVersion: ..., kind: ...)", ynode_kind_name(root));
		return 0;
	}
	kind = ynode_get(root, "kind");
	if (!kind || kind->kind != YNODE_SCALAR || strcmp(kind->str, "Cluster"))
		return 0;
	if (ld->c) {
		diag_add(ld->dl, doc->file, kind->line, kind->col, "kind",
			 "a second Cluster document (the first is at line %d); "
			 "keep exactly one Cluster per file", ld->line);
		return 0;
	}
	ld->c = xcalloc(1, sizeof(*ld->c));
	ld->c->file = xstrdup(doc->file);
	ld->c->cp_lb_port = DEFAULT_CP_LB_PORT;
	ld->line = kind->line;
	ld->bad = root->bad;
	decode_cluster(ld->c, doc, ld->dl);
	if (!ld->c->name)
		ld->c->name = xstrdup("");
	if (!ld->c->namespace_)
		ld->c->namespace_ = xstrdup("");
	return 0;
}

/* The result of a parse that returned r: the cluster if nothing at all was
 * reported since dl held `before` entries. */
static struct cfg_cluster *load_finish(struct load *ld, const char *file,
				       int r, size_t before)
{
	if (r == 0 && !ld->c)
		diag_add(ld->dl, file, 1, 1, "", "holds no kind: Cluster "
			 "document; add the cluster's resource (apiVersion: "
			 API_GROUP "v1, kind: Cluster) as bmctl writes it");
	if (ld->c && !ld->bad && ld->dl->n == before)
		return ld->c;
	cfg_free(ld->c);
	return NULL;
}

struct cfg_cluster *cfg_load(const char *path, struct diag_list *dl)
{
	struct load ld = {.dl = dl};
	size_t before = dl->n;
	int r = ytree_parse_file(path, CFG_MAX_BYTES, on_document, &ld, dl);

	return load_finish(&ld, path, r, before);
}

struct cfg_cluster *cfg_parse(const char *file, const char *buf, size_t len,
			      struct diag_list *dl)
{
	struct load ld = {.dl = dl};
	size_t before = dl->n;
	int r = ytree_parse(file, buf, len, on_document, &ld, dl);

	return load_finish(&ld, file, r, before);
}

void cfg_free(struct cfg_cluster *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npools; i++) {
		free(c->pools[i].name);
		free(c->pools[i].ranges);
	}
	free(c->pools);
	free(c->cp_nodes);
	free(c->lb_nodes);
	free(c->name);
	free(c->namespace_);
	free(c->file);
	free(c);
}

const struct cfg_node *cfg_lb_nodes(const struct cfg_cluster *c, size_t *n)
{
	if (c->lb_nodes_from_cp) {
		*n = c->ncp_nodes;
		return c->cp_nodes;
	}
	*n = c->nlb_nodes;
	return c->lb_nodes;
}

/* The range of p that holds a, or NULL. */
static const struct ipv4_range *pool_range(const struct cfg_pool *p,
					   uint32_t a)
{
	size_t lo = 0, hi = p->nranges;

	/* The last range starting at or below a is the only candidate. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->ranges[mid].first <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && ipv4_range_contains(&p->ranges[lo - 1], a))
		return &p->ranges[lo - 1];
	return NULL;
}

int cfg_pool_of(const struct cfg_cluster *c, uint32_t a)
{
	for (size_t i = 0; i < c->npools; i++)
		if (pool_range(&c->pools[i], a))
			return (int)i;
	return -1;
}

int cfg_pool_by_name(const struct cfg_cluster *c, const char *name)
{
	for (size_t i = 0; i < c->npools; i++)
		if (c->pools[i].name && !strcmp(c->pools[i].name, name))
			return (int)i;
	return -1;
}

bool cfg_pool_usable(const struct cfg_pool *p, uint32_t a)
{
	return pool_range(p, a) && !(p->avoid_buggy_ips && buggy(a));
}
