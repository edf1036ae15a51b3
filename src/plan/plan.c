/* plan: computes the desired state from the cluster and its objects.
 *
 * Order of work, each step a pure function of the previous ones:
 *   1. LB nodes: the cluster file's LB node addresses matched to Node
 *      manifests by InternalIP, named by Node name;
 *   2. per LoadBalancer Service, per port: ready backends from its
 *      EndpointSlices (port resolved by the Service port's name), but
 *      never an address that cannot be one (not_backend);
 *   3. addresses: ipam_allocate (previous plan and status as inputs);
 *   4. owners: per VIP, rendezvous hashing over the alive LB nodes that are
 *      eligible for every Service on it (Local: a ready endpoint there).
 * Cost: O(S log S + E log E) for S Services and E endpoints.
 */
#include "plan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "announce/owner.h"
#include "ipam/alloc.h"
#include "lib/hash.h"
#include "lib/xalloc.h"

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t plan_lb_node_names(const struct cfg_cluster *c,
			  const struct k8s_objects *o, const char ***names)
{
	size_t n, k = 0;
	const struct cfg_node *nodes = cfg_lb_nodes(c, &n);

	*names = xcalloc(n, sizeof(**names));
	for (size_t i = 0; i < n; i++) {
		const struct k8s_node *node =
			k8s_node_by_ip(o, cfg_node_cluster_ip(&nodes[i]));

		if (node)
			(*names)[k++] = node->name;
	}
	if (k)
		qsort(*names, k, sizeof(**names), str_ptr_cmp);
	return k;
}

/* Reports LB nodes of the cluster file that no Node manifest matches. */
static void check_lb_nodes(const struct cfg_cluster *c,
			   const struct k8s_objects *o, struct diag_list *dl)
{
	size_t n;
	const struct cfg_node *nodes = cfg_lb_nodes(c, &n);

	for (size_t i = 0; i < n; i++) {
		uint32_t ip = cfg_node_cluster_ip(&nodes[i]);
		char buf[IPV4_STRLEN];

		if (k8s_node_by_ip(o, ip))
			continue;
		diag_add(dl, c->file, nodes[i].line, nodes[i].col,
			 c->lb_nodes_from_cp ? "spec.controlPlane.nodePoolSpec.nodes"
					     : "spec.loadBalancer.nodePoolSpec.nodes",
			 "no Node manifest has InternalIP %s, so this LB node "
			 "cannot announce VIPs; add its Node object to the "
			 "manifests", ipv4_format(ip, buf));
	}
}

/* Why ip cannot be a backend in cluster c, or NULL when it can; *pool is
 * the pool it lies in, or -1.  A pool address is a VIP (or will be one):
 * a Service pointing at VIPs would loop packets between LB nodes, as
 * would the controlPlaneVIP.  A node's own address is a backend
 * (hostNetwork pods): no pool holds one (config/validate.c). */
static const char *not_backend(const struct cfg_cluster *c, uint32_t ip,
			       int *pool)
{
	*pool = -1;
	if (ip >> 24 == 0)
		return "an address of 0.0.0.0/8 (\"this network\")";
	if (ip >> 24 == 127)
		return "a loopback address";
	if (ip >> 16 == 0xa9fe)
		return "a link-local address (169.254.0.0/16)";
	if (ip >> 28 == 0xe)
		return "a multicast address (224.0.0.0/4)";
	if (ip == 0xffffffffu)
		return "the broadcast address";
	if (ip == c->cp_vip)
		return "the controlPlaneVIP";
	if (ip == c->ingress_vip)
		return "the ingressVIP";
	*pool = cfg_pool_of(c, ip);
	return *pool >= 0 ? "an address of pool" : NULL;
}

void plan_check_endpoints(const struct cfg_cluster *c,
			  const struct k8s_objects *o, struct diag_list *dl)
{
	for (size_t i = 0; i < o->nslices; i++) {
		const struct k8s_slice *s = &o->slices[i];

		for (size_t e = 0; e < s->nendpoints; e++) {
			const struct k8s_endpoint *ep = &s->endpoints[e];

			for (size_t a = 0; a < ep->naddresses; a++) {
				char ip[IPV4_STRLEN], in_pool[160] = "",
					path[640];
				int pool;
				const char *why =
					not_backend(c, ep->addresses[a], &pool);

				if (!why)
					continue;
				if (pool >= 0)
					snprintf(in_pool, sizeof(in_pool),
						 " \"%s\" (every pool address "
						 "is a Service's VIP or may "
						 "become one)",
						 c->pools[pool].name);
				snprintf(path, sizeof(path),
					 "%s%sendpoints[%zu].addresses[%zu]",
					 s->origin.path,
					 *s->origin.path ? "." : "", e, a);
				diag_add(dl, s->origin.file, ep->line, ep->col,
					 path, "EndpointSlice %s/%s lists %s, "
					 "%s%s, which cannot be a backend, so "
					 "it is left out; list the pods' own "
					 "addresses (a node's address serves "
					 "hostNetwork pods)", s->namespace_,
					 s->name,
					 ipv4_format(ep->addresses[a], ip),
					 why, in_pool);
			}
		}
	}
}

static int backend_cmp(const void *a, const void *b)
{
	const struct plan_backend *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (int)x->port - (int)y->port;
}

/* Sorts and removes duplicates (the same pod listed by two slices). */
static size_t backends_unique(struct plan_backend *v, size_t n)
{
	size_t k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), backend_cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || backend_cmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
	return k;
}

static const struct k8s_slice_port *
slice_port_for(const struct k8s_slice *s, const struct k8s_svc_port *sp)
{
	for (size_t i = 0; i < s->nports; i++)
		if (!strcmp(s->ports[i].name, sp->name) &&
		    s->ports[i].protocol == sp->protocol && s->ports[i].port)
			return &s->ports[i];
	return NULL;
}

/* EndpointSlices name their ports after the Service port, with the target
 * port already resolved, so a named targetPort needs no pod lookup. */
static void plan_port_fill(struct plan_port *pp, const struct k8s_svc_port *sp,
			   const struct cfg_cluster *c,
			   const struct k8s_slice *slices, size_t nslices)
{
	size_t cap = 0;
	int pool;

	pp->spec = sp;
	pp->target_port = sp->target_port_name ? 0 : sp->target_port;
	pp->node_port = sp->node_port;
	for (size_t i = 0; i < nslices; i++) {
		const struct k8s_slice_port *p = slice_port_for(&slices[i], sp);

		if (!p)
			continue;
		for (size_t e = 0; e < slices[i].nendpoints; e++) {
			const struct k8s_endpoint *ep = &slices[i].endpoints[e];

			if (!ep->ready)
				continue;
			for (size_t a = 0; a < ep->naddresses; a++) {
				if (not_backend(c, ep->addresses[a], &pool))
					continue;
				struct plan_backend *b = xpush(
					&pp->backends, &pp->nbackends, &cap,
					sizeof(*b));

				*b = (struct plan_backend){
					.ip = ep->addresses[a],
					.port = p->port,
					.node = ep->node_name,
				};
			}
		}
	}
	pp->nbackends = backends_unique(pp->backends, pp->nbackends);
	if (!pp->target_port && pp->nbackends)
		pp->target_port = pp->backends[0].port;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Identity of a Service's endpoint set (every address, ready or not), for
 * the rule that two Local Services share a VIP only with the same
 * endpoints. */
static uint64_t endpoints_id(const struct k8s_slice *slices, size_t nslices)
{
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t id;

	for (size_t i = 0; i < nslices; i++)
		for (size_t e = 0; e < slices[i].nendpoints; e++)
			for (size_t a = 0; a < slices[i].endpoints[e].naddresses;
			     a++)
				*(uint32_t *)xpush(&v, &n, &cap, sizeof(*v)) =
					slices[i].endpoints[e].addresses[a];
	if (n)
		qsort(v, n, sizeof(*v), u32_cmp);
	id = hash_bytes(v, n * sizeof(*v), n);
	free(v);
	return id;
}

/* True when node `name` hosts a ready endpoint of the service. */
static bool has_local_endpoint(const struct plan_service *ps, const char *name)
{
	for (size_t p = 0; p < ps->nports; p++)
		for (size_t b = 0; b < ps->ports[p].nbackends; b++) {
			const char *node = ps->ports[p].backends[b].node;

			if (node && !strcmp(node, name))
				return true;
		}
	return false;
}

static int by_vip(const void *a, const void *b, void *arg)
{
	const struct plan_service *s = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (s[x].vip != s[y].vip)
		return s[x].vip < s[y].vip ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Picks the owner of every VIP: the Services on one VIP (a run of `order`)
 * share it, among the alive LB nodes eligible for all of them. */
static void assign_owners(struct plan *p, const char *const *alive,
			  size_t nalive)
{
	size_t *order = xcalloc(p->n, sizeof(*order));
	const char **cand = xcalloc(nalive, sizeof(*cand));
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->services[i].vip)
			order[n++] = i;
	if (n)
		qsort_r(order, n, sizeof(*order), by_vip, p->services);
	for (size_t start = 0, end; start < n; start = end) {
		uint32_t vip = p->services[order[start]].vip;
		bool local = false;
		size_t ncand = 0;
		int pick;

		for (end = start; end < n && p->services[order[end]].vip == vip;
		     end++)
			local |= p->services[order[end]].svc->local;
		for (size_t a = 0; a < nalive; a++) {
			bool ok = true;

			for (size_t s = start; s < end && ok; s++) {
				const struct plan_service *ps =
					&p->services[order[s]];

				ok = !ps->svc->local ||
				     has_local_endpoint(ps, alive[a]);
			}
			if (ok)
				cand[ncand++] = alive[a];
		}
		pick = own_pick(cand, ncand, vip);
		for (size_t s = start; s < end; s++) {
			struct plan_service *ps = &p->services[order[s]];

			if (pick >= 0)
				ps->owner = cand[pick];
			else
				ps->reason = xstrdup(
					local ? "externalTrafficPolicy is Local "
						"and no alive LB node has a "
						"ready endpoint of it"
					      : "no LB node is alive");
		}
	}
	free(cand);
	free(order);
}

/* Fills the ports of ps from its EndpointSlices; returns the slices
 * (*nslices of them). */
static const struct k8s_slice *fill_ports(struct plan_service *ps,
					  const struct cfg_cluster *c,
					  const struct k8s_objects *o,
					  size_t *nslices)
{
	const struct k8s_service *svc = ps->svc;
	const struct k8s_slice *slices =
		k8s_slices_of(o, svc->namespace_, svc->name, nslices);

	ps->nports = svc->nports;
	ps->ports = xcalloc(svc->nports, sizeof(*ps->ports));
	for (size_t k = 0; k < svc->nports; k++)
		plan_port_fill(&ps->ports[k], &svc->ports[k], c, slices,
			       *nslices);
	return slices;
}

struct port_claim {
	const struct k8s_service *svc;
	struct plan_port *pp;
	size_t index; /* in svc->ports */
};

static bool same_port(const struct port_claim *a, const struct port_claim *b)
{
	return a->pp->spec->node_port == b->pp->spec->node_port &&
	       a->pp->spec->protocol == b->pp->spec->protocol;
}

static int claim_cmp(const void *x, const void *y)
{
	const struct port_claim *a = x, *b = y;

	if (a->pp->spec->node_port != b->pp->spec->node_port)
		return a->pp->spec->node_port < b->pp->spec->node_port ? -1 : 1;
	if (a->pp->spec->protocol != b->pp->spec->protocol)
		return a->pp->spec->protocol < b->pp->spec->protocol ? -1 : 1;
	return k8s_service_age_cmp(a->svc, b->svc);
}

static void add_claims(struct port_claim **c, size_t *n, size_t *cap,
		       struct plan_service *s, size_t ns)
{
	for (size_t i = 0; i < ns; i++)
		for (size_t k = 0; k < s[i].nports; k++)
			if (s[i].ports[k].node_port)
				*(struct port_claim *)xpush(c, n, cap,
							    sizeof(**c)) =
					(struct port_claim){s[i].svc,
							    &s[i].ports[k], k};
}

/* Kubernetes gives a nodePort (with its protocol) to one Service: when two
 * claim the same one, the older Service (k8s_service_age_cmp) keeps it and
 * the other's is reported and left out. */
static void claim_node_ports(struct plan *p, struct diag_list *dl)
{
	struct port_claim *c = NULL;
	size_t n = 0, cap = 0;

	add_claims(&c, &n, &cap, p->services, p->n);
	add_claims(&c, &n, &cap, p->node_port_services, p->n_node_port);
	if (n)
		qsort(c, n, sizeof(*c), claim_cmp);
	for (size_t i = 0, j; i < n; i = j)
		for (j = i + 1; j < n && same_port(&c[i], &c[j]); j++) {
			const struct k8s_origin *at = &c[j].svc->origin;
			const struct k8s_svc_port *sp = c[j].pp->spec;
			char path[96];

			snprintf(path, sizeof(path), "%s%sspec.ports[%zu].nodePort",
				 at->path, *at->path ? "." : "", c[j].index);
			diag_add(dl, at->file, sp->node_port_line,
				 sp->node_port_col, path,
				 "%u/%s is already the nodePort of %s/%s, an "
				 "older Service; %s/%s's is left out: give each "
				 "Service its own nodePort",
				 c[i].pp->node_port,
				 k8s_protocol_name(c[i].pp->spec->protocol),
				 c[i].svc->namespace_, c[i].svc->name,
				 c[j].svc->namespace_, c[j].svc->name);
			c[j].pp->node_port = 0;
		}
	free(c);
}

struct plan *plan_compute(const struct plan_input *in, struct diag_list *dl)
{
	const struct cfg_cluster *c = in->cluster;
	const struct k8s_objects *o = in->objects;
	struct plan *p = xcalloc(1, sizeof(*p));
	struct ipam_svc *req;
	struct ipam_result *res;
	const char **lb_names;
	size_t nlb, cap = 0, np_cap = 0, nreq = 0, *of_req;

	p->mode = c->forward_mode;
	check_lb_nodes(c, o, dl);
	plan_check_endpoints(c, o, dl);
	for (size_t i = 0; i < o->nservices; i++) {
		const struct k8s_service *svc = &o->services[i];

		if (svc->type == K8S_SVC_LOADBALANCER)
			((struct plan_service *)xpush(&p->services, &p->n, &cap,
						      sizeof(*p->services)))
				->svc = svc;
		else if (svc->type == K8S_SVC_NODEPORT)
			((struct plan_service *)xpush(
				 &p->node_port_services, &p->n_node_port,
				 &np_cap, sizeof(*p->node_port_services)))
				->svc = svc;
	}
	for (size_t i = 0; i < p->n_node_port; i++) {
		size_t nslices;

		fill_ports(&p->node_port_services[i], c, o, &nslices);
	}
	/* Allocation sees the Services with ports: one without has nothing
	 * to serve, and an address would be taken for nothing. */
	req = xcalloc(p->n, sizeof(*req));
	res = xcalloc(p->n, sizeof(*res));
	of_req = xcalloc(p->n, sizeof(*of_req));
	for (size_t i = 0; i < p->n; i++) {
		struct plan_service *ps = &p->services[i];
		const struct k8s_service *svc = ps->svc;
		size_t nslices;
		const struct k8s_slice *slices = fill_ports(ps, c, o, &nslices);

		if (!svc->nports) {
			ps->reason = xstrdup("it has no ports; list the ports "
					     "to serve in spec.ports");
			continue;
		}
		of_req[nreq] = i;
		req[nreq++] = (struct ipam_svc){
			.svc = svc,
			.previous = in->previous
					    ? plan_previous_find(in->previous,
								 svc->namespace_,
								 svc->name)
					    : 0,
			.endpoints_id = endpoints_id(slices, nslices),
		};
	}
	claim_node_ports(p, dl);
	if (in->follow_reason)
		ipam_keep(c, req, nreq, in->follow_reason, res);
	else
		ipam_allocate(c, req, nreq, res);
	for (size_t i = 0; i < nreq; i++) {
		struct plan_service *ps = &p->services[of_req[i]];

		ps->vip = res[i].vip;
		ps->pool = res[i].pool >= 0 ? c->pools[res[i].pool].name : NULL;
		ps->reason = res[i].reason;
		res[i].reason = NULL; /* moved into the plan */
	}
	ipam_results_free(res, nreq);
	free(of_req);
	free(res);
	free(req);

	nlb = plan_lb_node_names(c, o, &lb_names);
	if (in->alive)
		assign_owners(p, in->alive, in->nalive);
	else
		assign_owners(p, lb_names, nlb);
	free(lb_names);
	return p;
}

static void free_services(struct plan_service *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < s[i].nports; k++)
			free(s[i].ports[k].backends);
		free(s[i].ports);
		free(s[i].reason);
	}
	free(s);
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	free_services(p->services, p->n);
	free_services(p->node_port_services, p->n_node_port);
	free(p);
}
