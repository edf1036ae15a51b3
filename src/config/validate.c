/* validate: the cluster file's rules across fields (see validate.h): the
 * forwarding mode and its legacy annotation, the VIPs against the pools,
 * pool names and overlapping ranges, pools against the nodes' addresses
 * and the pod and Service networks, and the load-balancer nodes.
 */
#include "config/validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define POOLS "spec.loadBalancer.addressPools"
#define VIPS "spec.loadBalancer.vips"
#define CP_NODES "spec.controlPlane.nodePoolSpec.nodes"
#define LB_NODES "spec.loadBalancer.nodePoolSpec.nodes"
#define MODE_PATH "spec.clusterNetwork.forwardMode"

__attribute__((format(printf, 4, 5))) static void
report(struct cfg_decoder *dc, const struct ynode *at, const char *path,
       const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(dc->d.dl, dc->d.file, at ? at->line : 0, at ? at->col : 0,
		 path, "%s", msg);
}

static const char *pool_name(const struct cfg_pool *p)
{
	return p->name ? p->name : "(unnamed)";
}

/* The forwarding mode: forwardMode, else the legacy annotation, else
 * SNAT; DSR needs a flat pod network. */
static void resolve_mode(struct cfg_decoder *dc)
{
	struct cfg_cluster *c = dc->c;
	const struct ynode *at = dc->network ? dc->network : dc->spec;

	if (dc->annotation_at) {
		c->forward_mode = dc->annotation_mode;
		c->mode_source = CFG_MODE_ANNOTATION;
		at = dc->annotation_at;
	}
	if (dc->mode_at) {
		if (dc->annotation_at && dc->annotation_mode != dc->field_mode)
			report(dc, dc->mode_at, MODE_PATH,
			       "%s disagrees with the annotation %s: %s (line "
			       "%d), which means %s; make them agree, or "
			       "remove the annotation",
			       cfg_forward_mode_name(dc->field_mode),
			       CFG_DSR_ANNOTATION, dc->annotation_at->str,
			       dc->annotation_at->line,
			       cfg_forward_mode_name(dc->annotation_mode));
		c->forward_mode = dc->field_mode;
		c->mode_source = CFG_MODE_FIELD;
		at = dc->mode_at;
	}
	if (at) {
		c->mode_line = at->line;
		c->mode_col = at->col;
	}
	if (c->forward_mode == CFG_FORWARD_DSR && !c->flat_ipv4 &&
	    !dc->flat_bad && dc->spec)
		report(dc, dc->flat_at ? dc->flat_at : at,
		       "spec.clusterNetwork.flatIPv4",
		       "DSR forwarding needs a flat pod network, and flatIPv4 "
		       "is %s; set flatIPv4: true, or use forwardMode: snat",
		       dc->flat_at ? "false" : "not set");
}

static void check_vips(struct cfg_decoder *dc)
{
	const struct cfg_cluster *c = dc->c;
	char a[IPV4_STRLEN];
	int p;

	if (dc->cp_vip_at && (p = cfg_pool_of(c, c->cp_vip)) >= 0)
		report(dc, dc->cp_vip_at, VIPS ".controlPlaneVIP",
		       "%s lies in address pool \"%s\" (line %d); give the "
		       "control plane an address outside every pool, so that "
		       "no Service is given it", ipv4_format(c->cp_vip, a),
		       pool_name(&c->pools[p]), c->pools[p].line);
	if (!dc->ingress_at)
		return;
	ipv4_format(c->ingress_vip, a);
	p = cfg_pool_of(c, c->ingress_vip);
	if (c->type == CFG_TYPE_ADMIN)
		report(dc, dc->ingress_at, VIPS ".ingressVIP",
		       "an admin cluster runs no ingress Service; remove "
		       "ingressVIP (it is only for user, hybrid and standalone "
		       "clusters)");
	else if (p < 0 && !dc->pools_bad)
		report(dc, dc->ingress_at, VIPS ".ingressVIP",
		       "%s lies in no address pool; pick an address of one of "
		       "the pools, from which the ingress Service is given it",
		       a);
	else if (p >= 0 && !cfg_pool_usable(&c->pools[p], c->ingress_vip))
		report(dc, dc->ingress_at, VIPS ".ingressVIP",
		       "%s ends in .0 or .255, which avoidBuggyIPs removes "
		       "from pool \"%s\"; pick another address of the pool",
		       a, pool_name(&c->pools[p]));
}

struct name_ref {
	const char *name;
	size_t i;
};

static int name_ref_cmp(const void *x, const void *y)
{
	const struct name_ref *a = x, *b = y;
	int r = strcmp(a->name, b->name);

	return r ? r : (a->i > b->i) - (a->i < b->i);
}

static void check_pool_names(struct cfg_decoder *dc)
{
	const struct cfg_cluster *c = dc->c;
	struct name_ref *v = xcalloc(c->npools, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < c->npools; i++)
		if (c->pools[i].name)
			v[n++] = (struct name_ref){c->pools[i].name, i};
	qsort(v, n, sizeof(*v), name_ref_cmp);
	for (size_t k = 1; k < n; k++) {
		char path[64];

		if (strcmp(v[k].name, v[k - 1].name))
			continue;
		snprintf(path, sizeof(path), POOLS "[%zu].name", v[k].i);
		report(dc, dc->pool_name_at[v[k].i], path,
		       "\"%s\" is also the name of addressPools[%zu] (line "
		       "%d); give each pool a unique name", v[k].name,
		       v[k - 1].i, dc->pool_name_at[v[k - 1].i]->line);
	}
	free(v);
}

static int range_ref_cmp(const void *x, const void *y)
{
	const struct cfg_range_ref *a = x, *b = y;

	if (a->r.first != b->r.first)
		return a->r.first < b->r.first ? -1 : 1;
	if (a->pool != b->pool)
		return a->pool < b->pool ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static void range_path(char *buf, size_t len, const struct cfg_range_ref *r)
{
	snprintf(buf, len, POOLS "[%zu].addresses[%zu]", r->pool, r->idx);
}

static bool ref_before(const struct cfg_range_ref *a,
		       const struct cfg_range_ref *b)
{
	return a->pool < b->pool || (a->pool == b->pool && a->idx < b->idx);
}

/* Every range against every other, by sorting them all once: a range
 * overlaps an earlier-starting one iff it starts before the furthest end
 * seen so far.  Reported at the one written later in the file. */
static void check_overlaps(struct cfg_decoder *dc)
{
	const struct cfg_cluster *c = dc->c;
	const struct cfg_range_ref *reach = NULL;

	if (!dc->nranges)
		return;
	qsort(dc->ranges, dc->nranges, sizeof(*dc->ranges), range_ref_cmp);
	for (size_t k = 0; k < dc->nranges; k++) {
		const struct cfg_range_ref *r = &dc->ranges[k];

		if (reach && r->r.first <= reach->r.last) {
			const struct cfg_range_ref *later =
				ref_before(reach, r) ? r : reach;
			const struct cfg_range_ref *first =
				later == r ? reach : r;
			char path[96];

			range_path(path, sizeof(path), later);
			report(dc, later->at, path,
			       "\"%s\" overlaps \"%s\" of pool \"%s\" "
			       "(addressPools[%zu].addresses[%zu], line %d); "
			       "make the ranges of all pools disjoint",
			       later->at->str, first->at->str,
			       pool_name(&c->pools[first->pool]), first->pool,
			       first->idx, first->at->line);
		}
		if (!reach || r->r.last > reach->r.last)
			reach = r;
	}
}

struct node_ref {
	uint32_t ip;
	size_t i;
};

static int node_ref_cmp(const void *x, const void *y)
{
	const struct node_ref *a = x, *b = y;

	if (a->ip != b->ip)
		return a->ip < b->ip ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

static void node_path(char *buf, size_t len, const char *list, size_t i,
		      const struct cfg_node *n)
{
	snprintf(buf, len, "%s[%zu].%s", list, i, n->k8s_ip ? "k8sIP"
							   : "address");
}

/* A node's cluster address must be its own: not a VIP.  (That it lies in
 * no pool is a rule on the pools: check_pools_hold_no_node.) */
static void check_node_ip(struct cfg_decoder *dc, const char *list, size_t i,
			  const struct cfg_node *n, const struct ynode *at)
{
	const struct cfg_cluster *c = dc->c;
	uint32_t ip = cfg_node_cluster_ip(n);
	char path[96], a[IPV4_STRLEN];

	node_path(path, sizeof(path), list, i, n);
	if (ip == c->cp_vip || ip == c->ingress_vip)
		report(dc, at, path, "%s is also the %s; give the node and "
		       "the VIP different addresses", ipv4_format(ip, a),
		       ip == c->cp_vip ? "controlPlaneVIP" : "ingressVIP");
}

/* No pool address may be a node's, its address or its k8sIP (SPEC.md §2):
 * a Service could be given it.  Reported on the pool's range. */
static void check_pools_hold_no_node(struct cfg_decoder *dc, const char *list,
				     const struct cfg_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++) {
			uint32_t ip = k ? nodes[i].k8s_ip : nodes[i].address;
			char path[96], a[IPV4_STRLEN];

			for (size_t j = 0; ip && j < dc->nranges; j++) {
				const struct cfg_range_ref *r = &dc->ranges[j];

				if (!ipv4_range_contains(&r->r, ip))
					continue;
				range_path(path, sizeof(path), r);
				report(dc, r->at, path, "\"%s\" holds %s, the "
				       "%s of %s[%zu] (line %d), so a Service "
				       "could be given that node's address; "
				       "take the address out of the pool",
				       r->at->str, ipv4_format(ip, a),
				       k ? "k8sIP" : "address", list, i,
				       nodes[i].line);
			}
		}
}

/* No pool may overlap the pod or the Service network (SPEC.md §2): the
 * VIP would shadow a pod's or a ClusterIP.  Reported on the pool's range. */
static void check_pools_outside_networks(struct cfg_decoder *dc)
{
	for (size_t j = 0; j < dc->nranges; j++)
		for (size_t k = 0; k < dc->ncidrs; k++) {
			const struct cfg_range_ref *r = &dc->ranges[j];
			const struct cfg_cidr_ref *net = &dc->cidrs[k];
			char path[96];

			if (!ipv4_ranges_overlap(&r->r, &net->r))
				continue;
			range_path(path, sizeof(path), r);
			report(dc, r->at, path, "\"%s\" overlaps %s, %s[%zu] "
			       "(line %d); take the pool's addresses from "
			       "outside the pod and Service networks",
			       r->at->str, net->at->str, net->list, net->idx,
			       net->at->line);
		}
}

/* One node list: addresses its own, and no two nodes with one address. */
static void check_nodes(struct cfg_decoder *dc, const char *list,
			const struct cfg_node *nodes, size_t n,
			const struct ynode **at)
{
	struct node_ref *v = xcalloc(n, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!at[i])
			continue;
		check_node_ip(dc, list, i, &nodes[i], at[i]);
		v[k++] = (struct node_ref){cfg_node_cluster_ip(&nodes[i]), i};
	}
	qsort(v, k, sizeof(*v), node_ref_cmp);
	for (size_t j = 1; j < k; j++) {
		char path[96], a[IPV4_STRLEN];

		if (v[j].ip != v[j - 1].ip)
			continue;
		node_path(path, sizeof(path), list, v[j].i, &nodes[v[j].i]);
		report(dc, at[v[j].i], path, "%s is also the cluster address "
		       "of nodes[%zu] (line %d); list each node once, with "
		       "its own address", ipv4_format(v[j].ip, a), v[j - 1].i,
		       at[v[j - 1].i]->line);
	}
	free(v);
}

void cfg_validate(struct cfg_decoder *dc)
{
	const struct cfg_cluster *c = dc->c;

	resolve_mode(dc);
	check_vips(dc);
	check_pool_names(dc);
	check_overlaps(dc);
	check_nodes(dc, CP_NODES, c->cp_nodes, c->ncp_nodes, dc->cp_addr_at);
	check_nodes(dc, LB_NODES, c->lb_nodes, c->nlb_nodes, dc->lb_addr_at);
	check_pools_hold_no_node(dc, CP_NODES, c->cp_nodes, c->ncp_nodes);
	check_pools_hold_no_node(dc, LB_NODES, c->lb_nodes, c->nlb_nodes);
	check_pools_outside_networks(dc);
	if (dc->lb && c->lb_nodes_from_cp && !c->ncp_nodes)
		report(dc, dc->lb, LB_NODES, "no load-balancer node: neither "
		       "this list nor " CP_NODES " names a node; list the "
		       "nodes that announce the VIPs in one of them");
}
