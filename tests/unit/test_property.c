/* Property tests of allocation (src/ipam) and owner election
 * (src/announce): 20000 random small clusters, 2000 Service histories of
 * 25 steps and 2000 node sets, from a seeded PRNG (splitmix64, fixed
 * seeds), so every run tests the same cases and a failure prints the seed
 * that shows it.  About 2 s under ASan.
 *
 * Allocation is compared with a brute-force reference written straight
 * from SPEC.md §3 (every address scanned, every pair checked), and every
 * result is checked for the rules that must always hold. */
#include "helpers.h"

#include <stdlib.h>

#include "announce/owner.h"
#include "ipam/alloc.h"
#include "lib/hash.h"

#define MAX_POOLS 3
#define MAX_RANGES 6
#define MAX_SVCS 24
#define MAX_PORTS 2

/* ---- random numbers ---- */

static uint64_t next64(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	return hash_mix64(*s);
}

/* Uniform in [0, n). */
static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return (uint32_t)(next64(s) % n);
}

/* ---- random clusters and Services ---- */

struct world {
	struct cfg_cluster c;
	struct cfg_pool pools[MAX_POOLS];
	struct ipv4_range ranges[MAX_POOLS][MAX_RANGES];
	char pool_names[MAX_POOLS][24];
	struct k8s_service svcs[MAX_SVCS];
	struct k8s_svc_port ports[MAX_SVCS][MAX_PORTS];
	uint32_t ingress[MAX_SVCS][2];
	char names[MAX_SVCS][16];
	struct ipam_svc in[MAX_SVCS];
	size_t n;
};

/* 1..3 pools of 1..6 small ranges, sometimes across a .255/.0 boundary,
 * some avoidBuggyIPs or manualAssign; sometimes an ingressVIP; a
 * controlPlaneVIP outside the pools, or (a file validation refuses, but
 * allocation must still never give it) inside. */
static void gen_cluster(struct world *w, uint64_t *s)
{
	size_t np = 1 + rnd(s, MAX_POOLS);
	size_t nr = np + rnd(s, (uint32_t)np + 1), perm[MAX_POOLS];
	uint32_t next = 0x0a000000 + rnd(s, 4) * 256 + (rnd(s, 2) ? 250 : 1);

	memset(w, 0, sizeof(*w));
	w->c.pools = w->pools;
	w->c.npools = np;
	for (size_t p = 0; p < np; p++) {
		snprintf(w->pool_names[p], sizeof(w->pool_names[p]), "p%zu", p);
		w->pools[p].name = w->pool_names[p];
		w->pools[p].ranges = w->ranges[p];
		w->pools[p].avoid_buggy_ips = rnd(s, 4) == 0;
		w->pools[p].manual_assign = rnd(s, 5) == 0;
	}
	/* Ranges in address order; the first np go one to each pool in a
	 * random order, the rest anywhere: pools interleave in address. */
	for (size_t p = 0; p < np; p++) {
		size_t j = rnd(s, (uint32_t)p + 1);

		perm[p] = perm[j];
		perm[j] = p;
	}
	for (size_t r = 0; r < nr; r++) {
		size_t p = r < np ? perm[r] : rnd(s, (uint32_t)np);
		struct cfg_pool *pool = &w->pools[p];
		struct ipv4_range *range = &w->ranges[p][pool->nranges++];

		next += rnd(s, 3);
		range->first = next;
		range->last = next + rnd(s, 8);
		next = range->last + 1;
	}
	w->c.cp_vip = 0x0a090909;
	if (rnd(s, 3) == 0) {
		const struct cfg_pool *pool = &w->pools[rnd(s, (uint32_t)np)];
		const struct ipv4_range *r = &pool->ranges[rnd(
			s, (uint32_t)pool->nranges)];

		w->c.ingress_vip = r->first + rnd(s, r->last - r->first + 1);
	}
	if (rnd(s, 10) == 0)
		w->c.cp_vip = w->ranges[0][0].first;
}

/* An address of some pool, or now and then one beside the pools. */
static uint32_t pick_addr(const struct world *w, uint64_t *s)
{
	const struct cfg_pool *pool = &w->pools[rnd(s, (uint32_t)w->c.npools)];
	const struct ipv4_range *r =
		&pool->ranges[rnd(s, (uint32_t)pool->nranges)];

	if (rnd(s, 6) == 0)
		return r->last + 1 + rnd(s, 3);
	return r->first + rnd(s, r->last - r->first + 1);
}

/* Sets what Service i asks for (address, pool), at random. */
static void gen_request(struct world *w, size_t i, uint64_t *s)
{
	struct k8s_service *k = &w->svcs[i];
	uint32_t r = rnd(s, 100);

	k->lb_ip = k->ann_ip = 0;
	k->ann_pool = NULL;
	if (r < 15)
		k->lb_ip = pick_addr(w, s);
	else if (r < 20)
		k->ann_ip = pick_addr(w, s);
	else if (r < 23)
		k->lb_ip = k->ann_ip = pick_addr(w, s);
	else if (r < 25)
		k->lb_ip = pick_addr(w, s), k->ann_ip = pick_addr(w, s);
	r = rnd(s, 40);
	if (r < 4)
		k->ann_pool = w->pool_names[rnd(s, (uint32_t)w->c.npools)];
	else if (r == 4)
		k->ann_pool = "nope";
}

/* Service i, named s<id>, in one of three namespaces. */
static void gen_svc(struct world *w, size_t i, unsigned id, int64_t created,
		    uint64_t *s)
{
	static const struct k8s_svc_port menu[] = {
		{.protocol = K8S_TCP, .port = 80},
		{.protocol = K8S_TCP, .port = 443},
		{.protocol = K8S_UDP, .port = 53},
		{.protocol = K8S_UDP, .port = 80},
	};
	static const char *const ns[] = {"a", "b", "c"};
	static const char *const keys[] = {"k1", "k2"};
	struct k8s_service *k = &w->svcs[i];
	uint32_t first = rnd(s, 4);

	memset(k, 0, sizeof(*k));
	snprintf(w->names[i], sizeof(w->names[i]), "s%u", id);
	k->namespace_ = (char *)ns[rnd(s, 3)];
	k->name = w->names[i];
	k->type = K8S_SVC_LOADBALANCER;
	k->created = created;
	k->ports = w->ports[i];
	k->ports[0] = menu[first];
	k->nports = 1;
	if (rnd(s, 3) == 0)
		k->ports[k->nports++] = menu[(first + 1 + rnd(s, 3)) % 4];
	else if (rnd(s, 20) == 0)
		k->nports = 0; /* invalid for the API, but must not matter */
	k->ingress_ips = w->ingress[i];
	k->share_key = rnd(s, 3) == 0 ? (char *)keys[rnd(s, 2)] : NULL;
	k->local = rnd(s, 5) == 0;
	gen_request(w, i, s);
	w->in[i] = (struct ipam_svc){.svc = k, .endpoints_id = rnd(s, 2)};
}

/* Moves Service `from` into slot `to`, with what it points to. */
static void move_svc(struct world *w, size_t to, size_t from)
{
	w->svcs[to] = w->svcs[from];
	memcpy(w->ports[to], w->ports[from], sizeof(w->ports[to]));
	memcpy(w->names[to], w->names[from], sizeof(w->names[to]));
	memcpy(w->ingress[to], w->ingress[from], sizeof(w->ingress[to]));
	w->svcs[to].ports = w->ports[to];
	w->svcs[to].name = w->names[to];
	w->svcs[to].ingress_ips = w->ingress[to];
	w->in[to] = w->in[from];
	w->in[to].svc = &w->svcs[to];
}

/* ---- the reference: SPEC.md §3 by brute force ---- */

static int ref_pool_of(const struct cfg_cluster *c, uint32_t a)
{
	for (size_t p = 0; p < c->npools && a; p++)
		for (size_t r = 0; r < c->pools[p].nranges; r++)
			if (a >= c->pools[p].ranges[r].first &&
			    a <= c->pools[p].ranges[r].last)
				return (int)p;
	return -1;
}

static bool ref_buggy(uint32_t a)
{
	return (a & 0xff) == 0 || (a & 0xff) == 0xff;
}

static bool ref_usable(const struct cfg_cluster *c, int p, uint32_t a)
{
	return p >= 0 && ref_pool_of(c, a) == p &&
	       !(c->pools[p].avoid_buggy_ips && ref_buggy(a));
}

static int ref_cmp(const void *x, const void *y, void *arg)
{
	const struct ipam_svc *in = arg;
	const struct k8s_service *a = in[*(const size_t *)x].svc;
	const struct k8s_service *b = in[*(const size_t *)y].svc;
	int d;

	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	d = strcmp(a->namespace_, b->namespace_);
	return d ? d : strcmp(a->name, b->name);
}

struct ref {
	uint32_t vip[MAX_SVCS];
	int pool[MAX_SVCS];
	bool no[MAX_SVCS]; /* given up on: a reason */
};

/* Whether s may go on a: every Service already there may share with it. */
static bool ref_fits(const struct ipam_svc *in, size_t n,
		     const struct ref *r, size_t s, uint32_t a)
{
	for (size_t t = 0; t < n; t++)
		if (t != s && r->vip[t] == a &&
		    !ipam_can_share(&in[s], &in[t], NULL))
			return false;
	return true;
}

static bool ref_used(const struct ref *r, size_t n, uint32_t a)
{
	for (size_t t = 0; t < n; t++)
		if (r->vip[t] == a)
			return true;
	return false;
}

/* Every address of the pools, ascending, into v; returns how many. */
static size_t ref_addresses(const struct cfg_cluster *c, uint32_t *v)
{
	size_t n = 0;

	for (size_t p = 0; p < c->npools; p++)
		for (size_t r = 0; r < c->pools[p].nranges; r++)
			for (uint32_t a = c->pools[p].ranges[r].first;
			     a <= c->pools[p].ranges[r].last; a++)
				v[n++] = a;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint32_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n;
}

static void ref_allocate(const struct world *w, struct ref *r)
{
	const struct cfg_cluster *c = &w->c;
	const struct ipam_svc *in = w->in;
	size_t n = w->n, order[MAX_SVCS], naddr;
	uint32_t want[MAX_SVCS], addrs[MAX_POOLS * MAX_RANGES * 8];
	int wpool[MAX_SVCS];

	naddr = ref_addresses(c, addrs);
	for (size_t i = 0; i < n; i++) {
		const struct k8s_service *k = in[i].svc;

		order[i] = i;
		r->vip[i] = 0;
		r->pool[i] = -1;
		want[i] = k->lb_ip ? k->lb_ip : k->ann_ip;
		r->no[i] = k->lb_ip && k->ann_ip && k->lb_ip != k->ann_ip;
		wpool[i] = -1;
		if (k->ann_pool && *k->ann_pool) {
			for (size_t p = 0; p < c->npools; p++)
				if (!strcmp(c->pools[p].name, k->ann_pool))
					wpool[i] = (int)p;
			r->no[i] |= wpool[i] < 0;
		}
	}
	qsort_r(order, n, sizeof(*order), ref_cmp, (void *)in);

	/* Holders keep what is still valid. */
	for (size_t o = 0; o < n; o++) {
		size_t s = order[o];
		const struct k8s_service *k = in[s].svc;
		uint32_t a = in[s].previous;
		int p;

		for (size_t j = k->ningress_ips; j-- > 0;)
			if (ref_pool_of(c, k->ingress_ips[j]) >= 0)
				a = k->ingress_ips[j];
		p = ref_pool_of(c, a);
		if (r->no[s] || !ref_usable(c, p, a) ||
		    (want[s] && a != want[s]) ||
		    (wpool[s] >= 0 && p != wpool[s]) ||
		    (a == c->ingress_vip && want[s] != a) || a == c->cp_vip ||
		    !ref_fits(in, n, r, s, a))
			continue;
		r->vip[s] = a;
		r->pool[s] = p;
	}

	/* The rest, in order. */
	for (size_t o = 0; o < n; o++) {
		size_t s = order[o];
		uint32_t a = 0;

		if (r->vip[s] || r->no[s])
			continue;
		if (want[s]) {
			int p = ref_pool_of(c, want[s]);

			if (want[s] != c->cp_vip && ref_usable(c, p, want[s]) &&
			    (wpool[s] < 0 || p == wpool[s]) &&
			    ref_fits(in, n, r, s, want[s]))
				a = want[s];
		} else {
			/* Beside Services with its key: the lowest address
			 * in a pool it may take from. */
			for (size_t i = 0; i < naddr && !a; i++) {
				int p = ref_pool_of(c, addrs[i]);

				if (in[s].svc->share_key &&
				    *in[s].svc->share_key &&
				    ref_used(r, n, addrs[i]) &&
				    addrs[i] != c->ingress_vip &&
				    (wpool[s] >= 0 ? p == wpool[s] :
				     !c->pools[p].manual_assign) &&
				    ref_fits(in, n, r, s, addrs[i]))
					a = addrs[i];
			}
			/* Else the lowest free of the annotated pool, or of
			 * the first non-manual pool with one. */
			for (size_t p = 0; p < c->npools && !a; p++) {
				if (wpool[s] >= 0 ? (int)p != wpool[s] :
				    c->pools[p].manual_assign)
					continue;
				for (size_t i = 0; i < naddr && !a; i++)
					if (ref_usable(c, (int)p, addrs[i]) &&
					    addrs[i] != c->cp_vip &&
					    addrs[i] != c->ingress_vip &&
					    !ref_used(r, n, addrs[i]))
						a = addrs[i];
			}
		}
		r->vip[s] = a;
		r->pool[s] = a ? ref_pool_of(c, a) : -1;
		r->no[s] = !a;
	}
}

/* ---- checks ---- */

/* What must hold of every allocation, whatever the inputs. */
static void check_rules(const struct world *w, const struct ipam_result *out,
			uint64_t seed)
{
	const struct cfg_cluster *c = &w->c;

	for (size_t i = 0; i < w->n; i++) {
		const struct k8s_service *k = w->in[i].svc;
		uint32_t a = out[i].vip, want = k->lb_ip ? k->lb_ip : k->ann_ip;

		if (!a) {
			if (!out[i].reason || out[i].pool != -1)
				fail_msg("seed %#llx: %s: no VIP, no reason",
					 (unsigned long long)seed, k->name);
			continue;
		}
		if (out[i].reason || out[i].pool != ref_pool_of(c, a) ||
		    !ref_usable(c, out[i].pool, a) || a == c->cp_vip ||
		    (a == c->ingress_vip && want != a) ||
		    (want && a != want) ||
		    (k->ann_pool && *k->ann_pool &&
		     strcmp(k->ann_pool, c->pools[out[i].pool].name)))
			fail_msg("seed %#llx: %s: VIP %#x (pool %d) breaks a "
				 "rule", (unsigned long long)seed, k->name, a,
				 out[i].pool);
		for (size_t j = i + 1; j < w->n; j++) {
			const char *why;

			if (out[j].vip == a &&
			    !ipam_can_share(&w->in[i], &w->in[j], &why))
				fail_msg("seed %#llx: %s and %s share %#x: %s",
					 (unsigned long long)seed, k->name,
					 w->in[j].svc->name, a, why);
		}
	}
}

static void check_reference(const struct world *w,
			    const struct ipam_result *out, uint64_t seed)
{
	struct ref r;

	ref_allocate(w, &r);
	for (size_t i = 0; i < w->n; i++)
		if (out[i].vip != r.vip[i] || out[i].pool != r.pool[i])
			fail_msg("seed %#llx: %s: VIP %#x pool %d (%s), the "
				 "reference says %#x pool %d",
				 (unsigned long long)seed, w->svcs[i].name,
				 out[i].vip, out[i].pool,
				 out[i].reason ? out[i].reason : "",
				 r.vip[i], r.pool[i]);
}

/* ---- the properties ---- */

/* Random clusters and Services, some holding addresses (status or
 * previous plan), some shuffled copies: allocation matches the reference
 * (lowest free, requests, sharing, holders), obeys every rule, and does
 * not depend on the input order. */
static void test_random_clusters(void **state)
{
	(void)state;

	for (uint64_t seed = 1; seed <= 20000; seed++) {
		static struct world w;
		struct ipam_result out[MAX_SVCS], out2[MAX_SVCS];
		struct ipam_svc shuffled[MAX_SVCS];
		size_t perm[MAX_SVCS];
		uint64_t s = seed;

		gen_cluster(&w, &s);
		w.n = 1 + rnd(&s, MAX_SVCS);
		for (size_t i = 0; i < w.n; i++) {
			gen_svc(&w, i, (unsigned)i, rnd(&s, 6), &s);
			if (rnd(&s, 3) == 0)
				w.in[i].previous = pick_addr(&w, &s);
			if (rnd(&s, 4) == 0) {
				w.ingress[i][w.svcs[i].ningress_ips++] =
					pick_addr(&w, &s);
				if (rnd(&s, 2))
					w.ingress[i][w.svcs[i].ningress_ips++] =
						pick_addr(&w, &s);
			}
		}
		ipam_allocate(&w.c, w.in, w.n, out);
		check_rules(&w, out, seed);
		check_reference(&w, out, seed);

		/* The same Services in another order. */
		for (size_t i = 0; i < w.n; i++)
			perm[i] = i;
		for (size_t i = w.n - 1; i > 0; i--) {
			size_t j = rnd(&s, (uint32_t)i + 1), t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		for (size_t i = 0; i < w.n; i++)
			shuffled[i] = w.in[perm[i]];
		ipam_allocate(&w.c, shuffled, w.n, out2);
		for (size_t i = 0; i < w.n; i++) {
			const struct ipam_result *a = &out[perm[i]];
			const struct ipam_result *b = &out2[i];

			if (a->vip != b->vip || a->pool != b->pool ||
			    !a->reason != !b->reason ||
			    (a->reason && strcmp(a->reason, b->reason)))
				fail_msg("seed %#llx: input order changed %s",
					 (unsigned long long)seed,
					 w.in[perm[i]].svc->name);
		}
		ipam_results_free(out, w.n);
		ipam_results_free(out2, w.n);
	}
}

/* Histories: Services come and go over many steps, each step's VIPs fed
 * back as the previous plan or as the Service's status.  A Service that
 * stays and does not change its own request never changes address. */
static void test_histories_are_stable(void **state)
{
	(void)state;

	for (uint64_t seed = 1; seed <= 2000; seed++) {
		static struct world w;
		struct ipam_result out[MAX_SVCS];
		uint32_t last[MAX_SVCS] = {0};
		bool changed[MAX_SVCS];
		uint64_t s = seed * 7919;
		unsigned id = 0;

		gen_cluster(&w, &s);
		w.n = 0;
		for (int step = 0; step < 25; step++) {
			/* Some leave (the last one takes their slot). */
			for (size_t i = 0; i < w.n;) {
				if (rnd(&s, 8)) {
					i++;
					continue;
				}
				if (i != --w.n) {
					move_svc(&w, i, w.n);
					last[i] = last[w.n];
				}
			}
			memset(changed, 0, sizeof(changed));
			/* Some change what they ask for. */
			for (size_t i = 0; i < w.n; i++) {
				if (rnd(&s, 15) == 0) {
					gen_request(&w, i, &s);
					changed[i] = true;
				}
			}
			/* Some arrive, created now or (restored from a
			 * backup) long ago. */
			for (uint32_t k = rnd(&s, 4); k > 0 && w.n < MAX_SVCS;
			     k--, w.n++) {
				gen_svc(&w, w.n, id++,
					rnd(&s, 4) ? 10 * step
						   : (int64_t)rnd(&s, 10),
					&s);
				last[w.n] = 0;
			}
			/* Feed back what they hold. */
			for (size_t i = 0; i < w.n; i++) {
				struct k8s_service *k = &w.svcs[i];
				uint32_t how = rnd(&s, 3);

				w.in[i].previous = how != 1 ? last[i] : 0;
				k->ningress_ips = 0;
				if (how != 0 && last[i])
					k->ingress_ips[k->ningress_ips++] =
						last[i];
			}
			ipam_allocate(&w.c, w.in, w.n, out);
			check_rules(&w, out, seed);
			check_reference(&w, out, seed);
			for (size_t i = 0; i < w.n; i++) {
				if (last[i] && !changed[i] &&
				    out[i].vip != last[i])
					fail_msg("seed %#llx step %d: %s moved "
						 "from %#x to %#x (%s)",
						 (unsigned long long)seed, step,
						 w.svcs[i].name, last[i],
						 out[i].vip,
						 out[i].reason ? out[i].reason
							       : "");
				last[i] = out[i].vip;
			}
			ipam_results_free(out, w.n);
		}
	}
}

/* Random node sets and VIPs: removing a random node moves only its VIPs,
 * and bringing it back moves exactly those back. */
static void test_owner_failover(void **state)
{
	(void)state;

	for (uint64_t seed = 1; seed <= 2000; seed++) {
		char buf[12][16];
		const char *names[12], *alive[12];
		uint64_t s = seed * 104729;
		size_t n = 1 + rnd(&s, 12), dead, na = 0;

		for (size_t i = 0; i < n; i++) {
			size_t len = 1 + rnd(&s, 10);

			for (size_t j = 0; j < len; j++)
				buf[i][j] = (char)('a' + rnd(&s, 26));
			buf[i][len] = '\0';
			snprintf(buf[i] + len, sizeof(buf[i]) - len, "%zu", i);
			names[i] = buf[i];
		}
		dead = rnd(&s, (uint32_t)n);
		for (size_t i = 0; i < n; i++)
			if (i != dead)
				alive[na++] = names[i];
		for (int v = 0; v < 200; v++) {
			uint32_t vip = (uint32_t)next64(&s);
			int was = own_pick(names, n, vip);
			int now = own_pick(alive, na, vip);

			if ((size_t)was == dead)
				assert_true(n == 1 ? now == -1 : now >= 0);
			else
				assert_string_equal(alive[now], names[was]);
			assert_int_equal(own_pick(names, n, vip), was);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_clusters),
		cmocka_unit_test(test_histories_are_stable),
		cmocka_unit_test(test_owner_failover),
	};
	return cmocka_run_group_tests_name("property", tests, NULL, NULL);
}
