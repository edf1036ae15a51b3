/* alloc: which Service holds which VIP (see alloc.h, SPEC.md §3).
 *
 * One run:
 *   1. per Service, what it asks for: an address (spec.loadBalancerIP or
 *      the MetalLB annotation) and a pool (annotation);
 *   2. the order (creationTimestamp, namespace, name), by sorting indexes;
 *   3. holders, in order, keep their address while it is still valid;
 *   4. the rest, in order, get the address they ask for, a place beside
 *      Services with their sharing key, or the lowest free address.
 *
 * Every address in use is a "group": the Services on it, all pairwise
 * shareable.  Sharing (ipam_can_share) is an equivalence on key and traffic
 * policy plus disjoint ports, so a Service may join a group when it falls
 * in the group's "bucket" (same key, same policy, same endpoints if Local)
 * and none of its ports is already used on the address; both are O(1)
 * lookups per port, whatever the number of Services on the address.
 *
 * Costs, for n Services with q ports in all and R ranges in all pools:
 * sorting O(n log n); every lookup (address -> group, (address, port) ->
 * Service) O(1) expected, q + n of them; address -> pool O(log R); "lowest
 * free" O(log R) per address taken or skipped (pools.h), so O(n log R) in
 * all however large the pools.  Memory O(n + q).
 *
 * A Service with a sharing key and no request also looks for the lowest
 * group of its bucket that it may join: O(1) when one of its ports is in
 * every group, else a scan of the bucket's open groups (those that do not
 * yet use every port of the bucket; full ones are dropped for good).  A
 * key is held by a handful of Services in practice.  The quadratic case is
 * one key on very many Services whose ports collide unevenly: 100k
 * Services with one key, 90% on TCP/80 and 5% each on TCP/81 and TCP/82,
 * take 3 s, where 100k in 16 keys alternating TCP/80 and TCP/81 take 45 ms
 * and 100k without keys 30 ms.
 */
#include "ipam/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam/map.h"
#include "ipam/pools.h"
#include "lib/ipv4.h"
#include "lib/xalloc.h"

#define NONE UINT32_MAX

/* What a Service asks for. */
struct want {
	uint32_t ip;     /* explicit request, or 0 */
	int pool;        /* annotated pool, or -1 */
	uint32_t bucket; /* sharing bucket, or NONE without a key */
};

/* The Services on one address. */
struct group {
	uint32_t addr;
	int pool;
	uint32_t first;  /* the Service that took it */
	uint32_t bucket; /* the first Service's bucket: every member's */
	uint32_t next;   /* next group of the same bucket, or NONE */
	uint32_t nports; /* distinct (protocol, port) pairs used on it */
};

struct bucket {
	uint32_t head;    /* its open groups, linked by group.next */
	uint32_t ngroups; /* open or full */
	/* Distinct (protocol, port) pairs of its Services; UINT32_MAX when
	 * one has no port (it could join any group). */
	uint32_t nports;
};

struct run {
	const struct cfg_cluster *c;
	const struct ipam_svc *svcs;
	struct ipam_result *out;
	size_t n;
	struct want *want;
	struct group *groups; /* at most one per Service */
	size_t ngroups;
	struct bucket *buckets;
	struct ipam_pools pools;
	struct ipam_map at;           /* address -> group */
	struct ipam_map ports;        /* (address, protocol, port) -> Service */
	struct ipam_map bucket_ports; /* (bucket, protocol, port) -> groups */
};

static char *reason(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *reason(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		xalloc_fail();
	va_end(ap);
	return s;
}

static const char *str(const char *s)
{
	return s ? s : "";
}

/* Key of (x, protocol, port), x an address or a bucket. */
static uint64_t port_key(uint32_t x, const struct k8s_svc_port *p)
{
	return (uint64_t)x << 17 | (uint64_t)p->protocol << 16 | p->port;
}

/* (creationTimestamp, namespace, name); the index only breaks ties between
 * duplicates, which the manifest loader does not produce. */
static int order_cmp(const void *x, const void *y, void *arg)
{
	const struct ipam_svc *svcs = arg;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
	int d = k8s_service_age_cmp(svcs[i].svc, svcs[j].svc);

	return d ? d : (i > j) - (i < j);
}

/* Orders Services with a sharing key so that those who may share an
 * address (ipam_can_share short of ports) are adjacent. */
static int bucket_cmp(const void *x, const void *y, void *arg)
{
	const struct ipam_svc *svcs = arg;
	const struct ipam_svc *a = &svcs[*(const uint32_t *)x];
	const struct ipam_svc *b = &svcs[*(const uint32_t *)y];
	int d = strcmp(a->svc->share_key, b->svc->share_key);

	if (d)
		return d;
	if (a->svc->local != b->svc->local)
		return a->svc->local ? 1 : -1;
	if (a->svc->local && a->endpoints_id != b->endpoints_id)
		return a->endpoints_id < b->endpoints_id ? -1 : 1;
	return 0;
}

static void assign_buckets(struct run *r)
{
	uint32_t *keyed = xreallocarray(NULL, r->n, sizeof(*keyed));
	size_t nkeyed = 0;
	uint32_t nb = 0;

	for (size_t i = 0; i < r->n; i++) {
		const char *k = r->svcs[i].svc->share_key;

		r->want[i].bucket = NONE;
		if (k && *k)
			keyed[nkeyed++] = (uint32_t)i;
	}
	qsort_r(keyed, nkeyed, sizeof(*keyed), bucket_cmp, (void *)r->svcs);
	for (size_t i = 0; i < nkeyed; i++) {
		if (i > 0 && bucket_cmp(&keyed[i - 1], &keyed[i],
					(void *)r->svcs) != 0)
			nb++;
		r->want[keyed[i]].bucket = nb;
	}
	r->buckets = xcalloc(nb + 1, sizeof(*r->buckets));
	for (uint32_t b = 0; b <= nb; b++)
		r->buckets[b].head = NONE;
	for (size_t i = 0; i < nkeyed; i++) {
		const struct k8s_service *k = r->svcs[keyed[i]].svc;
		struct bucket *b = &r->buckets[r->want[keyed[i]].bucket];

		if (!k->nports)
			b->nports = UINT32_MAX;
		for (size_t j = 0; j < k->nports; j++) {
			int added;

			ipam_map_put(&r->bucket_ports,
				     port_key(r->want[keyed[i]].bucket,
					      &k->ports[j]),
				     0, &added);
			if (added && b->nports != UINT32_MAX)
				b->nports++;
		}
	}
	free(keyed);
}

/* Reads what Service i asks for; a contradiction is its reason for having
 * no VIP. */
static void read_want(struct run *r, size_t i)
{
	const struct k8s_service *s = r->svcs[i].svc;
	struct want *w = &r->want[i];
	char a[IPV4_STRLEN], b[IPV4_STRLEN];

	w->ip = s->lb_ip ? s->lb_ip : s->ann_ip;
	w->pool = -1;
	if (s->lb_ip && s->ann_ip && s->lb_ip != s->ann_ip) {
		r->out[i].reason = reason(
			"spec.loadBalancerIP %s and annotation %s %s ask for "
			"different addresses; give one, or the same in both",
			ipv4_format(s->lb_ip, a), K8S_ANN_IPS,
			ipv4_format(s->ann_ip, b));
		return;
	}
	if (s->ann_pool && *s->ann_pool) {
		w->pool = ipam_pools_by_name(&r->pools, s->ann_pool);
		if (w->pool < 0)
			r->out[i].reason = reason(
				"annotation %s names pool \"%s\", which is "
				"not in the cluster file",
				K8S_ANN_POOL, s->ann_pool);
	}
}

/* Whether Service s may join group g, sharing with every Service on it.
 * When not, *with is the Service it conflicts with and *port the port
 * both use (NULL when key or policy is the obstacle). */
static bool may_join(const struct run *r, uint32_t s, const struct group *g,
		     uint32_t *with, const struct k8s_svc_port **port)
{
	const struct k8s_service *k = r->svcs[s].svc;

	*with = g->first;
	*port = NULL;
	if (r->want[s].bucket == NONE || r->want[s].bucket != g->bucket)
		return false;
	for (size_t i = 0; i < k->nports; i++) {
		const uint32_t *v = ipam_map_find(
			&r->ports, port_key(g->addr, &k->ports[i]));

		if (v) {
			*with = *v;
			*port = &k->ports[i];
			return false;
		}
	}
	return true;
}

static void join(struct run *r, uint32_t s, uint32_t gi)
{
	struct group *g = &r->groups[gi];
	const struct k8s_service *k = r->svcs[s].svc;

	r->out[s].vip = g->addr;
	r->out[s].pool = g->pool;
	for (size_t i = 0; i < k->nports; i++) {
		const struct k8s_svc_port *p = &k->ports[i];
		int added;

		ipam_map_put(&r->ports, port_key(g->addr, p), s, &added);
		if (added && g->bucket != NONE) {
			(*ipam_map_find(&r->bucket_ports,
					port_key(g->bucket, p)))++;
			g->nports++;
		}
	}
}

static void take(struct run *r, uint32_t s, uint32_t addr, int pool)
{
	uint32_t gi = (uint32_t)r->ngroups++;
	struct group *g = &r->groups[gi];
	int added;

	*g = (struct group){.addr = addr, .pool = pool, .first = s,
			    .bucket = r->want[s].bucket, .next = NONE,
			    .nports = 0};
	if (g->bucket != NONE) {
		struct bucket *b = &r->buckets[g->bucket];

		g->next = b->head;
		b->head = gi;
		b->ngroups++;
	}
	ipam_map_put(&r->at, addr, gi, &added);
	join(r, s, gi);
}

/* Puts Service s on addr (in pool), alone or beside the Services already
 * there; false (with the conflict, as may_join) when it may not. */
static bool place(struct run *r, uint32_t s, uint32_t addr, int pool,
		  uint32_t *with, const struct k8s_svc_port **port)
{
	const uint32_t *gi = ipam_map_find(&r->at, addr);

	if (!gi) {
		take(r, s, addr, pool);
		return true;
	}
	if (!may_join(r, s, &r->groups[*gi], with, port))
		return false;
	join(r, s, *gi);
	return true;
}

/* The address Service s holds: the first of its status that is in a pool,
 * else its address in the previous plan. */
static uint32_t held(const struct run *r, uint32_t s)
{
	const struct k8s_service *k = r->svcs[s].svc;

	for (size_t i = 0; i < k->ningress_ips; i++)
		if (ipam_pools_find(&r->pools, k->ingress_ips[i]) >= 0)
			return k->ingress_ips[i];
	return r->svcs[s].previous;
}

/* Phase 1: Service s keeps the address it holds if it is still valid. */
static void keep_held(struct run *r, uint32_t s)
{
	const struct cfg_cluster *c = r->c;
	const struct want *w = &r->want[s];
	uint32_t a = held(r, s), with;
	const struct k8s_svc_port *port;
	int pool = ipam_pools_find(&r->pools, a);

	if (pool < 0 || !cfg_pool_usable(&c->pools[pool], a) ||
	    (w->ip && a != w->ip) || (w->pool >= 0 && pool != w->pool) ||
	    (a == c->ingress_vip && a != w->ip) || a == c->cp_vip)
		return;
	place(r, s, a, pool, &with, &port);
}

/* Phase 2: Service s gets the address it asks for, or why not. */
static void grant_request(struct run *r, uint32_t s)
{
	const struct cfg_cluster *c = r->c;
	uint32_t a = r->want[s].ip, with;
	int want_pool = r->want[s].pool;
	int pool = ipam_pools_find(&r->pools, a);
	const struct k8s_svc_port *port;
	char ip[IPV4_STRLEN];
	const char *why;

	ipv4_format(a, ip);
	if (a == c->cp_vip) {
		r->out[s].reason = reason("requested address %s is the "
					  "controlPlaneVIP", ip);
	} else if (pool < 0) {
		r->out[s].reason = reason("requested address %s is not in any "
					  "address pool", ip);
	} else if (!cfg_pool_usable(&c->pools[pool], a)) {
		r->out[s].reason = reason(
			"requested address %s is removed from pool %s by "
			"avoidBuggyIPs (it ends in .0 or .255)",
			ip, c->pools[pool].name);
	} else if (want_pool >= 0 && pool != want_pool) {
		r->out[s].reason = reason(
			"requested address %s is in pool %s, not in pool %s "
			"named by annotation %s",
			ip, c->pools[pool].name, c->pools[want_pool].name,
			K8S_ANN_POOL);
	} else if (!place(r, s, a, pool, &with, &port)) {
		const struct k8s_service *h = r->svcs[with].svc;

		if (port) {
			r->out[s].reason = reason(
				"requested address %s is held by %s/%s: port "
				"conflict on %s/%u",
				ip, str(h->namespace_), str(h->name),
				k8s_protocol_name(port->protocol), port->port);
		} else {
			ipam_can_share(&r->svcs[s], &r->svcs[with], &why);
			r->out[s].reason = reason(
				"requested address %s is held by %s/%s, and "
				"they cannot share it: %s",
				ip, str(h->namespace_), str(h->name),
				why ? why : "sharing rule");
		}
	}
}

/* The lowest address where Services with s's sharing key already are and
 * which s may join, within the pools s may take from without asking for
 * an address; NONE when there is none. */
static uint32_t find_shared(struct run *r, uint32_t s)
{
	const struct want *w = &r->want[s];
	const struct k8s_service *k = r->svcs[s].svc;
	uint32_t best = NONE, with, *link;
	const struct k8s_svc_port *port;
	struct bucket *b;

	if (w->bucket == NONE)
		return NONE;
	b = &r->buckets[w->bucket];
	/* One of its ports in every group of the bucket: no need to look. */
	for (size_t i = 0; i < k->nports; i++)
		if (*ipam_map_find(&r->bucket_ports,
				   port_key(w->bucket, &k->ports[i])) ==
		    b->ngroups)
			return NONE;
	for (link = &b->head; *link != NONE;) {
		const struct group *g = &r->groups[*link];
		bool pool_ok = w->pool >= 0 ?
			g->pool == w->pool :
			!r->c->pools[g->pool].manual_assign;

		if (g->nports == b->nports) {
			/* Full: every port of the bucket is used on it, so
			 * no Service of the bucket fits any more. */
			*link = g->next;
			continue;
		}
		if (pool_ok && g->addr != r->c->ingress_vip &&
		    (best == NONE || g->addr < r->groups[best].addr) &&
		    may_join(r, s, g, &with, &port))
			best = *link;
		link = &r->groups[*link].next;
	}
	return best;
}

/* Phase 2: Service s, which asks for no address, gets one, or why not. */
static void grant_any(struct run *r, uint32_t s)
{
	int pool = r->want[s].pool;
	uint32_t gi = find_shared(r, s), a;

	if (gi != NONE) {
		join(r, s, gi);
		return;
	}
	if (pool >= 0)
		a = ipam_pools_lowest_free(&r->pools, pool, &r->at);
	else
		a = ipam_pools_first_free(&r->pools, &r->at, &pool);
	if (a)
		take(r, s, a, pool);
	else if (pool >= 0)
		r->out[s].reason = reason("no free address in pool %s",
					  r->c->pools[pool].name);
	else
		r->out[s].reason = reason("no pool has a free address (pools "
					  "with manualAssign give addresses "
					  "only on request)");
}

static void allocate(const struct cfg_cluster *c, const struct ipam_svc *svcs,
		     size_t n, const char *wait, struct ipam_result *out)
{
	struct run r = {.c = c, .svcs = svcs, .out = out, .n = n};
	uint32_t *order = xreallocarray(NULL, n, sizeof(*order));
	size_t nports = 0;

	for (size_t i = 0; i < n; i++) {
		out[i] = (struct ipam_result){.vip = 0, .pool = -1};
		order[i] = (uint32_t)i;
		nports += svcs[i].svc->nports;
	}
	r.want = xreallocarray(NULL, n, sizeof(*r.want));
	r.groups = xreallocarray(NULL, n, sizeof(*r.groups));
	ipam_pools_init(&r.pools, c);
	ipam_map_init(&r.at, n);
	ipam_map_init(&r.ports, nports);
	ipam_map_init(&r.bucket_ports, nports);
	for (size_t i = 0; i < n; i++)
		read_want(&r, i);
	assign_buckets(&r);
	qsort_r(order, n, sizeof(*order), order_cmp, (void *)svcs);

	for (size_t i = 0; i < n; i++)
		if (!out[order[i]].reason)
			keep_held(&r, order[i]);
	for (size_t i = 0; i < n; i++) {
		uint32_t s = order[i];

		if (out[s].vip || out[s].reason)
			continue;
		if (wait)
			out[s].reason = reason("%s", wait);
		else if (r.want[s].ip)
			grant_request(&r, s);
		else
			grant_any(&r, s);
	}

	ipam_map_free(&r.at);
	ipam_map_free(&r.ports);
	ipam_map_free(&r.bucket_ports);
	ipam_pools_free(&r.pools);
	free(r.buckets);
	free(r.groups);
	free(r.want);
	free(order);
}

void ipam_allocate(const struct cfg_cluster *c, const struct ipam_svc *svcs,
		   size_t n, struct ipam_result *out)
{
	allocate(c, svcs, n, NULL, out);
}

void ipam_keep(const struct cfg_cluster *c, const struct ipam_svc *svcs,
	       size_t n, const char *wait, struct ipam_result *out)
{
	allocate(c, svcs, n, wait, out);
}

void ipam_results_free(struct ipam_result *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(out[i].reason);
		out[i].reason = NULL;
	}
}
