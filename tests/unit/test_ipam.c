/* Unit tests of src/ipam: address allocation and the sharing rule (SPEC.md
 * §3 "Address allocation").  Clusters and Services are built directly as
 * structs, independent of the parsers. */
#include "helpers.h"

#include <stdlib.h>

#include "ipam/alloc.h"
#include "lib/ipv4.h"

#define MAX_POOLS 4
#define MAX_RANGES 4
#define MAX_SVCS 16
#define MAX_PORTS 4

struct world {
	struct cfg_cluster c;
	struct cfg_pool pools[MAX_POOLS];
	struct ipv4_range ranges[MAX_POOLS][MAX_RANGES];
	struct k8s_service svcs[MAX_SVCS];
	struct k8s_svc_port ports[MAX_SVCS][MAX_PORTS];
	uint32_t ingress[MAX_SVCS][2];
	struct ipam_svc in[MAX_SVCS];
	struct ipam_result out[MAX_SVCS];
	size_t n;
};

static uint32_t ip(const char *s)
{
	uint32_t a;

	assert_int_equal(ipv4_parse(s, &a), 0);
	return a;
}

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->c.pools = w->pools;
	w->c.cp_vip = ip("192.0.2.250");
	return w;
}

static void world_free(struct world *w)
{
	ipam_results_free(w->out, w->n);
	free(w);
}

/* Adds a pool with up to MAX_RANGES comma-separated ranges, in order. */
static struct cfg_pool *add_pool(struct world *w, const char *name,
				 const char *ranges)
{
	size_t i = w->c.npools++;
	struct cfg_pool *p = &w->pools[i];
	char buf[256], *save = NULL;
	const char *why;

	p->name = (char *)name;
	p->ranges = w->ranges[i];
	snprintf(buf, sizeof(buf), "%s", ranges);
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save))
		assert_int_equal(ipv4_range_parse(t, &p->ranges[p->nranges++],
						  &why), 0);
	return p;
}

/* Adds Service ns/name created at `created`, with port TCP/80. */
static struct k8s_service *add_svc(struct world *w, const char *ns,
				   const char *name, int64_t created)
{
	size_t i = w->n++;
	struct k8s_service *s = &w->svcs[i];

	s->namespace_ = (char *)ns;
	s->name = (char *)name;
	s->type = K8S_SVC_LOADBALANCER;
	s->created = created;
	s->ports = w->ports[i];
	s->ports[0] = (struct k8s_svc_port){.name = "", .protocol = K8S_TCP,
					    .port = 80, .target_port = 80};
	s->nports = 1;
	s->ingress_ips = w->ingress[i];
	w->in[i].svc = s;
	return s;
}

static void set_ports(struct k8s_service *s, enum k8s_protocol proto,
		      uint16_t a, uint16_t b)
{
	s->ports[0].protocol = proto;
	s->ports[0].port = a;
	s->nports = 1;
	if (b) {
		s->ports[1] = s->ports[0];
		s->ports[1].port = b;
		s->nports = 2;
	}
}

static void run(struct world *w)
{
	ipam_results_free(w->out, w->n);
	ipam_allocate(&w->c, w->in, w->n, w->out);
}

#define assert_vip(w, i, addr, pool_index)                                  \
	do {                                                                \
		char b_[IPV4_STRLEN];                                       \
		if ((w)->out[i].reason)                                     \
			fail_msg("service %d: no VIP: %s", (int)(i),        \
				 (w)->out[i].reason);                       \
		assert_string_equal(ipv4_format((w)->out[i].vip, b_), addr); \
		assert_int_equal((w)->out[i].pool, pool_index);             \
	} while (0)

#define assert_reason(w, i, text)                                           \
	do {                                                                \
		assert_int_equal((w)->out[i].vip, 0);                       \
		assert_int_equal((w)->out[i].pool, -1);                     \
		assert_non_null((w)->out[i].reason);                        \
		if (!strstr((w)->out[i].reason, text))                      \
			fail_msg("service %d: reason \"%s\" lacks \"%s\"",  \
				 (int)(i), (w)->out[i].reason, text);       \
	} while (0)

/* Lowest free address of the first pool, in file order, that is not
 * manualAssign and has one free. */
static void test_lowest_free_first_pool(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "manual", "10.0.0.1-10.0.0.9")->manual_assign = true;
	add_pool(w, "small", "10.0.2.7-10.0.2.8");
	add_pool(w, "big", "10.0.3.0/24,10.0.9.0/24");
	add_pool(w, "last", "10.0.1.0/24");
	for (int i = 0; i < 5; i++)
		add_svc(w, "default", (const char *[]){"a", "b", "c", "d",
						       "e"}[i], 100 + i);
	run(w);
	assert_vip(w, 0, "10.0.2.7", 1);
	assert_vip(w, 1, "10.0.2.8", 1);
	assert_vip(w, 2, "10.0.3.0", 2);
	assert_vip(w, 3, "10.0.3.1", 2);
	assert_vip(w, 4, "10.0.3.2", 2);
	world_free(w);
}

/* The cursor walks ranges in order, across range ends. */
static void test_lowest_free_across_ranges(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.255/32,10.0.1.7-10.0.1.8");
	for (int i = 0; i < 4; i++)
		add_svc(w, "ns", (const char *[]){"a", "b", "c", "d"}[i], i);
	run(w);
	assert_vip(w, 0, "10.0.0.255", 0);
	assert_vip(w, 1, "10.0.1.7", 0);
	assert_vip(w, 2, "10.0.1.8", 0);
	assert_reason(w, 3, "no pool has a free address");
	world_free(w);
}

/* Order is (creationTimestamp, namespace, name), never input order. */
static void test_order(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	add_svc(w, "b", "x", 5);  /* 4th: latest */
	add_svc(w, "b", "a", 1);  /* 3rd: same time, namespace b */
	add_svc(w, "a", "z", 1);  /* 2nd: same time and namespace, name z */
	add_svc(w, "a", "y", 1);  /* 1st */
	add_svc(w, "a", "a", INT64_MAX); /* no timestamp: last */
	run(w);
	assert_vip(w, 3, "10.0.0.1", 0);
	assert_vip(w, 2, "10.0.0.2", 0);
	assert_vip(w, 1, "10.0.0.3", 0);
	assert_vip(w, 0, "10.0.0.4", 0);
	assert_vip(w, 4, "10.0.0.5", 0);
	world_free(w);
}

/* avoidBuggyIPs removes .0 and .255, for automatic allocation and for
 * requests alike; without it they are ordinary addresses. */
static void test_avoid_buggy_ips(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.254-10.0.1.1")->avoid_buggy_ips = true;
	add_pool(w, "q", "10.0.2.255-10.0.3.0");
	add_svc(w, "ns", "a", 1);
	add_svc(w, "ns", "b", 2);
	add_svc(w, "ns", "c", 3)->lb_ip = ip("10.0.1.0");
	add_svc(w, "ns", "d", 4);
	add_svc(w, "ns", "e", 5);
	run(w);
	assert_vip(w, 0, "10.0.0.254", 0);
	assert_vip(w, 1, "10.0.1.1", 0);
	assert_reason(w, 2, "requested address 10.0.1.0 is removed from pool "
			    "p by avoidBuggyIPs");
	assert_vip(w, 3, "10.0.2.255", 1);
	assert_vip(w, 4, "10.0.3.0", 1);
	world_free(w);
}

/* ingressVIP goes only to the Service that asks for it. */
static void test_ingress_vip(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.3");
	w->c.ingress_vip = ip("10.0.0.1");
	add_svc(w, "ns", "a", 1);
	add_svc(w, "ns", "b", 2);
	add_svc(w, "ns", "c", 3);
	add_svc(w, "ingress", "gw", 4)->ann_ip = ip("10.0.0.1");
	run(w);
	assert_vip(w, 0, "10.0.0.2", 0);
	assert_vip(w, 1, "10.0.0.3", 0);
	assert_reason(w, 2, "no pool has a free address");
	assert_vip(w, 3, "10.0.0.1", 0);

	/* Holding it without asking for it does not keep it. */
	w->svcs[2].lb_ip = ip("10.0.0.1");
	w->svcs[3].ann_ip = 0;
	w->in[3].previous = ip("10.0.0.1");
	run(w);
	assert_vip(w, 2, "10.0.0.1", 0);
	assert_reason(w, 3, "no pool has a free address");
	world_free(w);
}

/* The controlPlaneVIP is never given, even if a (bad) file put it in a
 * pool. */
static void test_control_plane_vip(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.2");
	w->c.cp_vip = ip("10.0.0.1");
	add_svc(w, "ns", "a", 1);
	add_svc(w, "ns", "b", 2)->lb_ip = ip("10.0.0.1");
	add_svc(w, "ns", "c", 3)->ingress_ips[0] = ip("10.0.0.1");
	w->svcs[2].ningress_ips = 1;
	run(w);
	assert_vip(w, 0, "10.0.0.2", 0);
	assert_reason(w, 1, "requested address 10.0.0.1 is the "
			    "controlPlaneVIP");
	assert_reason(w, 2, "no pool has a free address");
	world_free(w);
}

/* An explicit request gets exactly that address, from any pool (manual
 * ones too), or a reason. */
static void test_request(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	add_pool(w, "m", "10.0.1.0/24")->manual_assign = true;
	add_svc(w, "ns", "a", 1)->lb_ip = ip("10.0.0.5");
	add_svc(w, "ns", "b", 2)->ann_ip = ip("10.0.1.9");
	add_svc(w, "ns", "c", 3)->lb_ip = ip("10.0.0.5");
	add_svc(w, "ns", "d", 4)->lb_ip = ip("10.0.2.1");
	add_svc(w, "ns", "e", 5)->lb_ip = ip("10.0.0.6");
	w->svcs[4].ann_ip = ip("10.0.0.7");
	add_svc(w, "ns", "f", 6)->lb_ip = ip("10.0.0.7");
	w->svcs[5].ann_ip = ip("10.0.0.7");
	add_svc(w, "ns", "g", 0); /* oldest, no request */
	run(w);
	assert_vip(w, 0, "10.0.0.5", 0);
	assert_vip(w, 1, "10.0.1.9", 1);
	assert_reason(w, 2, "requested address 10.0.0.5 is held by ns/a, and "
			    "they cannot share it: one of them has no "
			    "sharing key");
	assert_reason(w, 3, "requested address 10.0.2.1 is not in any "
			    "address pool");
	assert_reason(w, 4, "spec.loadBalancerIP 10.0.0.6 and annotation "
			    K8S_ANN_IPS " 10.0.0.7 ask for different "
			    "addresses");
	assert_vip(w, 5, "10.0.0.7", 0);
	assert_vip(w, 6, "10.0.0.1", 0);
	world_free(w);
}

/* Requests are served in order too: the older of two asking for one
 * address gets it, whatever the input order. */
static void test_request_order(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	add_svc(w, "ns", "young", 9)->lb_ip = ip("10.0.0.3");
	add_svc(w, "ns", "old", 1)->lb_ip = ip("10.0.0.3");
	run(w);
	assert_reason(w, 0, "held by ns/old");
	assert_vip(w, 1, "10.0.0.3", 0);
	world_free(w);
}

/* metallb.universe.tf/address-pool: take from that pool (a manualAssign
 * one too: naming it is asking), or a reason. */
static void test_annotated_pool(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	add_pool(w, "q", "10.0.1.1-10.0.1.2");
	add_pool(w, "m", "10.0.2.1-10.0.2.9")->manual_assign = true;
	add_svc(w, "ns", "a", 1)->ann_pool = "q";
	add_svc(w, "ns", "b", 2)->ann_pool = "m";
	add_svc(w, "ns", "c", 3)->ann_pool = "nope";
	add_svc(w, "ns", "d", 4)->ann_pool = "q";
	add_svc(w, "ns", "e", 5)->ann_pool = "q";
	add_svc(w, "ns", "f", 6)->ann_pool = "p";
	w->svcs[5].lb_ip = ip("10.0.2.5");
	add_svc(w, "ns", "g", 7)->ann_pool = "m";
	w->svcs[6].lb_ip = ip("10.0.2.5");
	add_svc(w, "ns", "h", 8)->ann_pool = "";
	run(w);
	assert_vip(w, 0, "10.0.1.1", 1);
	assert_vip(w, 1, "10.0.2.1", 2);
	assert_reason(w, 2, "annotation " K8S_ANN_POOL " names pool \"nope\", "
			    "which is not in the cluster file");
	assert_vip(w, 3, "10.0.1.2", 1);
	assert_reason(w, 4, "no free address in pool q");
	assert_reason(w, 5, "requested address 10.0.2.5 is in pool m, not in "
			    "pool p named by annotation " K8S_ANN_POOL);
	assert_vip(w, 6, "10.0.2.5", 2);
	assert_vip(w, 7, "10.0.0.1", 0);
	world_free(w);
}

static void test_no_pool(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "m", "10.0.2.1-10.0.2.9")->manual_assign = true;
	add_svc(w, "ns", "a", 1);
	run(w);
	assert_reason(w, 0, "no pool has a free address");
	world_free(w);
	w = world_new();
	add_svc(w, "ns", "a", 1);
	run(w);
	assert_reason(w, 0, "no pool has a free address");
	world_free(w);
}

/* A holder (status first, else previous plan) keeps its address, even when
 * lower ones are free and older Services arrive. */
static void test_holders_keep(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	add_pool(w, "m", "10.0.1.0/24")->manual_assign = true;
	add_svc(w, "ns", "status", 5)->ingress_ips[0] = ip("192.0.2.1");
	w->svcs[0].ingress_ips[1] = ip("10.0.0.7");
	w->svcs[0].ningress_ips = 2;
	w->in[0].previous = ip("10.0.0.8");
	add_svc(w, "ns", "previous", 6);
	w->in[1].previous = ip("10.0.0.4");
	add_svc(w, "ns", "older", 1)->lb_ip = ip("10.0.0.4");
	add_svc(w, "ns", "oldest", 0);
	add_svc(w, "ns", "manual", 7)->ingress_ips[0] = ip("10.0.1.3");
	w->svcs[4].ningress_ips = 1;
	run(w);
	assert_vip(w, 0, "10.0.0.7", 0);
	assert_vip(w, 1, "10.0.0.4", 0);
	assert_reason(w, 2, "requested address 10.0.0.4 is held by "
			    "ns/previous");
	assert_vip(w, 3, "10.0.0.1", 0);
	assert_vip(w, 4, "10.0.1.3", 1);
	world_free(w);
}

/* A follower keeps what the leader's table holds and allocates nothing
 * new: a Service the table lacks, or whose held address is no longer
 * valid, waits with the given reason. */
static void test_keep_only(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	add_svc(w, "ns", "held", 2);
	w->in[0].previous = ip("10.0.0.5");
	add_svc(w, "ns", "new", 1);
	add_svc(w, "ns", "invalid", 3);
	w->in[2].previous = ip("10.9.9.9");
	ipam_keep(&w->c, w->in, w->n, "waiting for the leader (lb-1)",
		  w->out);
	assert_vip(w, 0, "10.0.0.5", 0);
	assert_reason(w, 1, "waiting for the leader (lb-1)");
	assert_reason(w, 2, "waiting for the leader (lb-1)");
	/* The same inputs, allocating: the others get addresses. */
	run(w);
	assert_vip(w, 0, "10.0.0.5", 0);
	assert_vip(w, 1, "10.0.0.1", 0);
	assert_vip(w, 2, "10.0.0.2", 0);
	world_free(w);
}

/* A held address that is no longer valid is given up, and the Service is
 * allocated as if it held nothing. */
static void test_holders_invalid(void **state)
{
	struct world *w = world_new();
	struct cfg_pool *p;
	(void)state;

	p = add_pool(w, "p", "10.0.0.1-10.0.0.9,10.0.1.0/24");
	add_pool(w, "q", "10.0.2.1-10.0.2.9");
	add_svc(w, "ns", "outside", 1);
	w->in[0].previous = ip("10.0.5.5");
	add_svc(w, "ns", "buggy", 2);
	w->in[1].previous = ip("10.0.1.0");
	add_svc(w, "ns", "other-pool", 3)->ann_pool = "q";
	w->in[2].previous = ip("10.0.0.9");
	add_svc(w, "ns", "asks-other", 4)->lb_ip = ip("10.0.0.8");
	w->in[3].previous = ip("10.0.0.7");
	run(w);
	assert_vip(w, 1, "10.0.1.0", 0); /* valid while avoidBuggyIPs is off */
	p->avoid_buggy_ips = true;
	run(w);
	assert_vip(w, 0, "10.0.0.1", 0);
	assert_vip(w, 1, "10.0.0.2", 0);
	assert_vip(w, 2, "10.0.2.1", 1);
	assert_vip(w, 3, "10.0.0.8", 0);
	world_free(w);
}

/* Two holders of one address that may not share: the older keeps it. */
static void test_holders_conflict(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	add_svc(w, "ns", "young", 9);
	w->in[0].previous = ip("10.0.0.5");
	add_svc(w, "ns", "old", 1);
	w->in[1].previous = ip("10.0.0.5");
	add_svc(w, "ns", "shares", 10);
	w->in[2].previous = ip("10.0.0.5");
	run(w);
	assert_vip(w, 1, "10.0.0.5", 0);
	assert_vip(w, 0, "10.0.0.1", 0);
	assert_vip(w, 2, "10.0.0.2", 0);

	/* With a common key and distinct ports, all three stay. */
	for (int i = 0; i < 3; i++)
		w->svcs[i].share_key = "k";
	set_ports(&w->svcs[0], K8S_TCP, 443, 0);
	set_ports(&w->svcs[2], K8S_UDP, 80, 0);
	run(w);
	for (int i = 0; i < 3; i++)
		assert_vip(w, i, "10.0.0.5", 0);
	world_free(w);
}

static void test_can_share(void **state)
{
	struct world *w = world_new();
	const char *why;
	struct k8s_service *a, *b;
	(void)state;

	a = add_svc(w, "ns", "a", 1);
	b = add_svc(w, "ns", "b", 2);
	set_ports(b, K8S_TCP, 443, 0);
	assert_false(ipam_can_share(&w->in[0], &w->in[1], &why));
	assert_string_equal(why, "one of them has no sharing key "
				 "(" K8S_ANN_SHARE ")");
	a->share_key = "k";
	b->share_key = "";
	assert_false(ipam_can_share(&w->in[0], &w->in[1], &why));
	assert_string_equal(why, "one of them has no sharing key "
				 "(" K8S_ANN_SHARE ")");
	b->share_key = "j";
	assert_false(ipam_can_share(&w->in[0], &w->in[1], &why));
	assert_string_equal(why, "their sharing keys differ");
	b->share_key = "k";
	assert_true(ipam_can_share(&w->in[0], &w->in[1], &why));
	assert_null(why);
	assert_true(ipam_can_share(&w->in[1], &w->in[0], NULL));

	/* Same port number, other protocol: no conflict. */
	set_ports(b, K8S_UDP, 53, 80);
	assert_true(ipam_can_share(&w->in[0], &w->in[1], &why));
	set_ports(b, K8S_UDP, 53, 0);
	b->ports[1] = (struct k8s_svc_port){.protocol = K8S_TCP, .port = 80};
	b->nports = 2;
	assert_false(ipam_can_share(&w->in[0], &w->in[1], &why));
	assert_string_equal(why, "they use a (protocol, port) pair in common");
	set_ports(b, K8S_TCP, 443, 0);

	b->local = true;
	assert_false(ipam_can_share(&w->in[0], &w->in[1], &why));
	assert_string_equal(why, "one is externalTrafficPolicy Cluster, the "
				 "other Local");
	a->local = true;
	w->in[0].endpoints_id = 1;
	w->in[1].endpoints_id = 2;
	assert_false(ipam_can_share(&w->in[0], &w->in[1], &why));
	assert_string_equal(why, "both are externalTrafficPolicy Local but "
				 "their endpoints differ");
	w->in[1].endpoints_id = 1;
	assert_true(ipam_can_share(&w->in[0], &w->in[1], &why));
	/* Cluster Services share whatever their endpoints. */
	a->local = b->local = false;
	w->in[1].endpoints_id = 2;
	assert_true(ipam_can_share(&w->in[0], &w->in[1], &why));
	world_free(w);
}

/* A Service with a sharing key goes beside Services with that key when
 * it may (the lowest such address), else to the lowest free address. */
static void test_sharing_allocation(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	add_svc(w, "ns", "a-80", 1)->share_key = "k";
	add_svc(w, "ns", "b-80", 2)->share_key = "k";
	add_svc(w, "ns", "c-443", 3)->share_key = "k";
	set_ports(&w->svcs[2], K8S_TCP, 443, 0);
	add_svc(w, "ns", "d-other-key", 4)->share_key = "j";
	set_ports(&w->svcs[3], K8S_TCP, 8080, 0);
	add_svc(w, "ns", "e-local", 5)->share_key = "k";
	set_ports(&w->svcs[4], K8S_TCP, 8443, 0);
	w->svcs[4].local = true;
	add_svc(w, "ns", "f-443-8443", 6)->share_key = "k";
	set_ports(&w->svcs[5], K8S_TCP, 443, 8443);
	add_svc(w, "ns", "g-local", 7)->share_key = "k";
	set_ports(&w->svcs[6], K8S_UDP, 53, 0);
	w->svcs[6].local = true;
	add_svc(w, "ns", "h-local-other", 8)->share_key = "k";
	set_ports(&w->svcs[7], K8S_UDP, 54, 0);
	w->svcs[7].local = true;
	w->in[7].endpoints_id = 7;
	run(w);
	assert_vip(w, 0, "10.0.0.1", 0);
	assert_vip(w, 1, "10.0.0.2", 0); /* TCP/80 taken on .1 */
	assert_vip(w, 2, "10.0.0.1", 0); /* lowest of .1 and .2 */
	assert_vip(w, 3, "10.0.0.3", 0);
	assert_vip(w, 4, "10.0.0.4", 0); /* Local: not beside Cluster ones */
	assert_vip(w, 5, "10.0.0.2", 0); /* 443 taken on .1, free on .2 */
	assert_vip(w, 6, "10.0.0.4", 0); /* same (empty) endpoints */
	assert_vip(w, 7, "10.0.0.5", 0);
	world_free(w);
}

/* Auto-sharing stays in the pools the Service may take from: not a
 * manualAssign pool, not ingressVIP, the annotated pool if any. */
static void test_sharing_respects_pools(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "m", "10.0.1.1-10.0.1.9")->manual_assign = true;
	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	w->c.ingress_vip = ip("10.0.0.1");
	add_svc(w, "ns", "in-manual", 1)->lb_ip = ip("10.0.1.5");
	add_svc(w, "ns", "ingress", 2)->lb_ip = ip("10.0.0.1");
	for (int i = 0; i < 3; i++)
		add_svc(w, "ns", (const char *[]){"c", "d", "e"}[i], 3 + i);
	for (int i = 0; i < 5; i++) {
		w->svcs[i].share_key = "k";
		set_ports(&w->svcs[i], K8S_TCP, (uint16_t)(1000 + i), 0);
	}
	w->svcs[4].ann_pool = "m";
	run(w);
	assert_vip(w, 0, "10.0.1.5", 0);
	assert_vip(w, 1, "10.0.0.1", 1);
	assert_vip(w, 2, "10.0.0.2", 1);
	assert_vip(w, 3, "10.0.0.2", 1);
	assert_vip(w, 4, "10.0.1.5", 0);
	world_free(w);
}

/* An address that uses every port of its key's Services is full and is
 * passed over; a Service without ports still fits there. */
static void test_sharing_full_groups(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	for (int i = 0; i < 6; i++) {
		add_svc(w, "ns", (const char *[]){"a", "b", "c", "d", "e",
						  "f"}[i], i)->share_key = "k";
		set_ports(&w->svcs[i], K8S_TCP, (uint16_t)(80 + i % 2), 0);
	}
	w->svcs[5].nports = 0;
	w->n = 5;
	run(w);
	assert_vip(w, 0, "10.0.0.1", 0);
	assert_vip(w, 1, "10.0.0.1", 0); /* .1 is now full */
	assert_vip(w, 2, "10.0.0.2", 0);
	assert_vip(w, 3, "10.0.0.2", 0);
	assert_vip(w, 4, "10.0.0.3", 0);
	w->n = 6;
	run(w);
	assert_vip(w, 3, "10.0.0.2", 0);
	assert_vip(w, 5, "10.0.0.1", 0);
	world_free(w);
}

/* A request for a shared address must fit with every Service on it; the
 * reason names the one in the way. */
static void test_sharing_request(void **state)
{
	struct world *w = world_new();
	(void)state;

	add_pool(w, "p", "10.0.0.1-10.0.0.9");
	for (int i = 0; i < 5; i++) {
		add_svc(w, "ns", (const char *[]){"a", "b", "c", "d", "e"}[i],
			i)->lb_ip = ip("10.0.0.3");
		w->svcs[i].share_key = "k";
	}
	set_ports(&w->svcs[1], K8S_TCP, 443, 0);
	set_ports(&w->svcs[2], K8S_UDP, 443, 0);
	set_ports(&w->svcs[3], K8S_TCP, 22, 443);
	w->svcs[4].share_key = "other";
	set_ports(&w->svcs[4], K8S_TCP, 9, 0);
	run(w);
	assert_vip(w, 0, "10.0.0.3", 0);
	assert_vip(w, 1, "10.0.0.3", 0);
	assert_vip(w, 2, "10.0.0.3", 0);
	assert_reason(w, 3, "requested address 10.0.0.3 is held by ns/b: port "
			    "conflict on TCP/443");
	assert_reason(w, 4, "requested address 10.0.0.3 is held by ns/a, and "
			    "they cannot share it: their sharing keys differ");
	world_free(w);
}

/* No per-address work: a /8 pool costs what a /24 does; 20k Services get
 * distinct addresses in order. */
static void test_large_pool(void **state)
{
	enum { N = 20000 };
	struct cfg_pool pool = {.name = "big"};
	struct ipv4_range r = {0x0a000000, 0x0affffff};
	struct cfg_cluster c = {.pools = &pool, .npools = 1,
				.cp_vip = 0x0a000001};
	struct k8s_service *svcs = calloc(N, sizeof(*svcs));
	struct ipam_svc *in = calloc(N, sizeof(*in));
	struct ipam_result *out = calloc(N, sizeof(*out));
	(void)state;

	pool.ranges = &r;
	pool.nranges = 1;
	pool.avoid_buggy_ips = true;
	for (size_t i = 0; i < N; i++) {
		svcs[i].namespace_ = "ns";
		svcs[i].name = "svc";
		svcs[i].created = (int64_t)(N - i); /* reverse order */
		in[i].svc = &svcs[i];
	}
	in[N - 1].previous = 0x0a00ff01; /* the oldest holds one */
	ipam_allocate(&c, in, N, out);
	assert_int_equal(out[N - 1].vip, 0x0a00ff01);
	/* .0 (buggy), .1 (controlPlaneVIP) skipped: the youngest got the
	 * (N-1)th usable address from 10.0.0.2 */
	assert_int_equal(out[N - 2].vip, 0x0a000002);
	for (size_t i = 0; i + 2 < N; i++) {
		assert_true(out[i].vip > out[i + 1].vip);
		assert_int_not_equal(out[i].vip & 0xff, 0);
		assert_int_not_equal(out[i].vip & 0xff, 0xff);
	}
	ipam_results_free(out, N);
	free(out);
	free(in);
	free(svcs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lowest_free_first_pool),
		cmocka_unit_test(test_lowest_free_across_ranges),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_avoid_buggy_ips),
		cmocka_unit_test(test_ingress_vip),
		cmocka_unit_test(test_control_plane_vip),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_order),
		cmocka_unit_test(test_annotated_pool),
		cmocka_unit_test(test_no_pool),
		cmocka_unit_test(test_holders_keep),
		cmocka_unit_test(test_keep_only),
		cmocka_unit_test(test_holders_invalid),
		cmocka_unit_test(test_holders_conflict),
		cmocka_unit_test(test_can_share),
		cmocka_unit_test(test_sharing_allocation),
		cmocka_unit_test(test_sharing_respects_pools),
		cmocka_unit_test(test_sharing_full_groups),
		cmocka_unit_test(test_sharing_request),
		cmocka_unit_test(test_large_pool),
	};
	return cmocka_run_group_tests_name("ipam", tests, NULL, NULL);
}
