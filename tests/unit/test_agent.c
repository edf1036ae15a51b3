/* Unit tests of the agent's pure parts (src/agent): the service ports a
 * plan programs and their differences, the backends left out behind an
 * unreachable next hop, the previous plan a reload keeps,
 * the manifests' problem keys, the preflight checks, the key file, the
 * status object and the log time stamp; plus the state directory's atomic
 * files and lock (in a temporary directory). */
#include "helpers.h"
#include "plan_fixture.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "agent/dsr.h"
#include "agent/key.h"
#include "agent/log.h"
#include "agent/loop.h"
#include "agent/preflight.h"
#include "agent/reconcile.h"
#include "agent/report.h"
#include "agent/state.h"
#include "lib/xalloc.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

/* Line 10 col 24 is the controlPlaneVIP; line 13 col 32 pool2's addresses;
 * line 16 col 16 the third LB node. */
static const char cluster_yaml[] =
	"apiVersion: baremetal.cluster.gke.io/v1\n"              /* 1 */
	"kind: Cluster\n"                                        /* 2 */
	"metadata: {name: t, namespace: cluster-t}\n"            /* 3 */
	"spec:\n"                                                /* 4 */
	"  controlPlane:\n"                                      /* 5 */
	"    nodePoolSpec: {nodes: [{address: 198.18.0.10}]}\n"  /* 6 */
	"  loadBalancer:\n"                                      /* 7 */
	"    mode: bundled\n"                                    /* 8 */
	"    vips:\n"                                            /* 9 */
	"      controlPlaneVIP: 198.18.0.8\n"                    /* 10 */
	"    addressPools:\n"                                    /* 11 */
	"    - {name: pool1, addresses: [198.18.0.100-198.18.0.103]}\n"
	"    - {name: pool2, addresses: [198.18.0.192/28]}\n"    /* 13 */
	"    nodePoolSpec:\n"                                    /* 14 */
	"      nodes: [{address: 198.18.0.11}, {address: 198.18.0.12},\n"
	"              {address: 198.18.0.13}]\n";               /* 16 */

static const char objects_yaml[] =
	NODE("lb-a", "198.18.0.11") NODE("lb-b", "198.18.0.12")
	NODE("lb-c", "198.18.0.13") NODE("w-1", "198.18.0.21")
	"---\napiVersion: v1\nkind: Service\n"
	"metadata: {name: web, namespace: default,"
	" creationTimestamp: '2026-01-01T00:00:00Z'}\n"
	"spec:\n  type: LoadBalancer\n"
	"  ports: [{name: https, port: 443, targetPort: 8443},"
	" {name: http, port: 80, targetPort: http}]\n"
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	"metadata: {name: web-1, namespace: default,"
	" labels: {kubernetes.io/service-name: web}}\n"
	"addressType: IPv4\n"
	"ports: [{name: http, port: 8080}, {name: https, port: 8443}]\n"
	"endpoints:\n"
	"- {addresses: [198.19.1.9], nodeName: w-1}\n"
	"- {addresses: [198.19.1.5], nodeName: w-1}\n"
	"---\napiVersion: v1\nkind: Service\n"
	"metadata: {name: dns, namespace: default,"
	" creationTimestamp: '2026-01-02T00:00:00Z'}\n"
	"spec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n"
	"  ports: [{protocol: UDP, port: 53, targetPort: 5353}]\n"
	/* asks for an address in no pool: no VIP, not programmed */
	"---\napiVersion: v1\nkind: Service\n"
	"metadata: {name: lost, namespace: default,"
	" creationTimestamp: '2026-01-03T00:00:00Z'}\n"
	"spec:\n  type: LoadBalancer\n  loadBalancerIP: 198.18.0.250\n"
	"  ports: [{port: 80}]\n";

static struct fixture *setup(const char *objects,
			     const struct plan_previous *prev)
{
	return plan_fixture(cluster_yaml, objects, NULL, 0, prev);
}

/* ---- reconcile */

static void test_build(void **state)
{
	struct fixture *f = setup(objects_yaml, NULL);
	struct rec_set s;
	(void)state;

	rec_build(f->p, "lb-a", IP(198, 18, 0, 11), true, &s);
	/* lost has no VIP; web's two ports sorted by port; dns after web */
	assert_int_equal(s.n, 3);
	assert_int_equal(s.svcs[0].vip, IP(198, 18, 0, 100));
	assert_int_equal(s.svcs[0].port, 80);
	assert_int_equal(s.svcs[0].proto, IPPROTO_TCP);
	assert_int_equal(s.svcs[0].nbackends, 2);
	assert_int_equal(s.svcs[0].backends[0].ip, IP(198, 19, 1, 5));
	assert_int_equal(s.svcs[0].backends[0].port, 8080); /* named port */
	assert_int_equal(s.svcs[0].backends[1].ip, IP(198, 19, 1, 9));
	assert_int_equal(s.svcs[1].port, 443);
	assert_int_equal(s.svcs[1].backends[0].port, 8443);
	assert_string_equal(s.meta[1].name, "web");
	assert_non_null(s.meta[1].owner);
	assert_int_equal(s.svcs[2].vip, IP(198, 18, 0, 101));
	assert_int_equal(s.svcs[2].proto, IPPROTO_UDP);
	assert_int_equal(s.svcs[2].nbackends, 0);
	assert_true(s.svcs[2].local);
	assert_true(s.meta[2].local);
	assert_string_equal(rec_proto_name(s.svcs[2].proto), "UDP");
	rec_free(&s);
	teardown(f);
}

/* A Local Service's ports hold, on each node, only that node's endpoints
 * (test_build: a Cluster one's hold every endpoint, on any node); a port
 * with a nodePort is programmed at the node's own address too. */
static void test_build_local(void **state)
{
	static const char objs[] =
		NODE("lb-a", "198.18.0.11") NODE("lb-b", "198.18.0.12")
		NODE("w-1", "198.18.0.21")
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: ing, namespace: default}\n"
		"spec: {type: LoadBalancer, externalTrafficPolicy: Local,"
		" ports: [{port: 80, targetPort: 8080, nodePort: 30080}]}\n"
		"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		"metadata: {name: ing-1, namespace: default,"
		" labels: {kubernetes.io/service-name: ing}}\n"
		"addressType: IPv4\nports: [{port: 8080}]\n"
		"endpoints:\n"
		"- {addresses: [198.19.11.2], nodeName: lb-a}\n"
		"- {addresses: [198.19.11.3], nodeName: lb-a}\n"
		"- {addresses: [198.19.21.2], nodeName: w-1}\n"
		"- {addresses: [198.19.0.9]}\n";
	static const struct {
		const char *node;
		uint32_t ip;
		size_t n;
	} want[] = {{"lb-a", IP(198, 18, 0, 11), 2},
		    {"lb-b", IP(198, 18, 0, 12), 0},
		    {"w-1", IP(198, 18, 0, 21), 1}};
	struct fixture *f = setup(objs, NULL);
	(void)state;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct rec_set s;

		rec_build(f->p, want[i].node, want[i].ip, true, &s);
		assert_int_equal(s.n, 2);
		/* sorted: the node's address first, then the VIP */
		assert_int_equal(s.svcs[0].vip, want[i].ip);
		assert_int_equal(s.svcs[0].port, 30080);
		assert_int_equal(s.svcs[1].vip, IP(198, 18, 0, 100));
		assert_int_equal(s.svcs[1].port, 80);
		for (size_t k = 0; k < 2; k++) {
			assert_true(s.svcs[k].local);
			assert_int_equal(s.svcs[k].nbackends, want[i].n);
			if (want[i].n)
				assert_int_equal(s.svcs[k].backends[0].ip >> 8,
						 i ? IP(198, 19, 21, 0) >> 8
						   : IP(198, 19, 11, 0) >> 8);
		}
		rec_free(&s);
	}
	/* a worker: the nodePort only (no VIP's traffic reaches it) */
	{
		struct rec_set s;

		rec_build(f->p, "w-1", IP(198, 18, 0, 21), false, &s);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.svcs[0].vip, IP(198, 18, 0, 21));
		assert_int_equal(s.svcs[0].nbackends, 1);
		rec_free(&s);
	}
	teardown(f);
}

/* A NodePort Service: its nodePort at every node's own address, LB node
 * or worker, with every ready endpoint; never a VIP. */
static void test_build_node_port_service(void **state)
{
	static const char objs[] =
		NODE("lb-a", "198.18.0.11") NODE("w-1", "198.18.0.21")
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: np, namespace: default}\n"
		"spec: {type: NodePort,"
		" ports: [{protocol: UDP, port: 53, targetPort: 5353,"
		" nodePort: 30053}]}\n"
		"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		"metadata: {name: np-1, namespace: default,"
		" labels: {kubernetes.io/service-name: np}}\n"
		"addressType: IPv4\nports: [{protocol: UDP, port: 5353}]\n"
		"endpoints:\n"
		"- {addresses: [198.19.21.2], nodeName: w-1}\n"
		"- {addresses: [198.19.11.2], nodeName: lb-a}\n";
	static const struct {
		const char *node;
		uint32_t ip;
		bool vips;
	} at[] = {{"lb-a", IP(198, 18, 0, 11), true},
		  {"w-1", IP(198, 18, 0, 21), false}};
	struct fixture *f = setup(objs, NULL);
	(void)state;

	assert_int_equal(f->p->n, 0);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct rec_set s;

		rec_build(f->p, at[i].node, at[i].ip, at[i].vips, &s);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.svcs[0].vip, at[i].ip);
		assert_int_equal(s.svcs[0].port, 30053);
		assert_int_equal(s.svcs[0].proto, IPPROTO_UDP);
		assert_false(s.svcs[0].local);
		assert_int_equal(s.svcs[0].nbackends, 2);
		assert_int_equal(s.svcs[0].backends[0].port, 5353);
		assert_null(s.meta[0].owner);
		assert_string_equal(s.meta[0].name, "np");
		rec_free(&s);
	}
	teardown(f);
}

static void test_build_empty(void **state)
{
	struct plan p = {0};
	struct rec_set s;
	(void)state;

	rec_build(&p, "lb-a", IP(198, 18, 0, 11), true, &s);
	assert_int_equal(s.n, 0);
	rec_free(&s);
}

struct seen {
	char lines[8][96];
	size_t n;
};

static void record(const struct rec_event *ev, void *arg)
{
	static const char *const kind[] = {"added", "changed", "removed"};
	struct seen *s = arg;

	assert_true(s->n < 8);
	snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s %s %u/%s %zu %zu",
		 kind[ev->change], ev->meta->name, ev->svc->port,
		 rec_proto_name(ev->svc->proto), ev->svc->nbackends,
		 ev->was_nbackends);
}

static const struct dp_backend b1[] = {{IP(198, 19, 1, 5), 8080},
				       {IP(198, 19, 1, 9), 8080}};
static const struct dp_backend b2[] = {{IP(198, 19, 1, 5), 8080},
				       {IP(198, 19, 1, 7), 8080}};

static void test_diff(void **state)
{
	struct dp_service old_svcs[] = {
		{IP(198, 18, 0, 100), 53, IPPROTO_UDP, false, NULL, 0},
		{IP(198, 18, 0, 100), 80, IPPROTO_TCP, false, b1, 2},
		{IP(198, 18, 0, 100), 443, IPPROTO_TCP, false, b1, 2},
		{IP(198, 18, 0, 101), 80, IPPROTO_TCP, false, b1, 2},
	};
	struct rec_meta old_meta[] = {{"d", "dns", NULL, NULL, false, 0},
				      {"d", "web", NULL, NULL, false, 0},
				      {"d", "web", NULL, NULL, false, 0},
				      {"d", "old", NULL, NULL, false, 0}};
	struct dp_service new_svcs[] = {
		{IP(198, 18, 0, 100), 53, IPPROTO_TCP, false, NULL, 0},
		{IP(198, 18, 0, 100), 53, IPPROTO_UDP, false, NULL, 0},
		{IP(198, 18, 0, 100), 80, IPPROTO_TCP, false, b2, 2},
		{IP(198, 18, 0, 100), 443, IPPROTO_TCP, false, b1, 1},
		{IP(198, 18, 0, 102), 80, IPPROTO_TCP, false, b1, 2},
	};
	struct rec_meta new_meta[] = {{"d", "dns-tcp", NULL, NULL, false, 0},
				      {"d", "dns", "lb-b", NULL, false, 0},
				      {"d", "web", NULL, NULL, false, 0},
				      {"d", "web", NULL, NULL, false, 0},
				      {"d", "new", NULL, NULL, false, 0}};
	struct rec_set old = {old_svcs, old_meta, 4, NULL};
	struct rec_set next = {new_svcs, new_meta, 5, NULL};
	struct seen s = {0};
	(void)state;

	rec_diff(&old, &next, record, &s);
	/* (VIP, port, protocol) order; an owner change is no data plane
	 * change; a backend swap with the same count is one */
	assert_int_equal(s.n, 5);
	assert_string_equal(s.lines[0], "added dns-tcp 53/TCP 0 0");
	assert_string_equal(s.lines[1], "changed web 80/TCP 2 2");
	assert_string_equal(s.lines[2], "changed web 443/TCP 1 2");
	assert_string_equal(s.lines[3], "removed old 80/TCP 2 0");
	assert_string_equal(s.lines[4], "added new 80/TCP 2 0");

	s.n = 0;
	rec_diff(&next, &next, record, &s);
	assert_int_equal(s.n, 0);

	/* the same port taken over by another Service, or turned Local */
	new_meta[1].name = "dns2";
	new_meta[2].local = true;
	rec_diff(&old, &next, record, &s);
	assert_string_equal(s.lines[1], "changed dns2 53/UDP 0 0");
	assert_string_equal(s.lines[2], "changed web 80/TCP 2 2");
}

/* The backends behind an unreachable next hop leave every service port
 * that has them, and only those; a port may be left with none. */
static void test_without(void **state)
{
	struct dp_backend b[] = {{IP(198, 19, 2, 5), 8080},
				 {IP(198, 19, 1, 5), 8080},
				 {IP(198, 19, 2, 6), 8080},
				 {IP(198, 19, 2, 5), 9090}};
	struct dp_service svcs[] = {
		{IP(198, 18, 0, 100), 80, IPPROTO_TCP, false, b, 3},
		{IP(198, 18, 0, 100), 81, IPPROTO_TCP, false, &b[3], 1},
		{IP(198, 18, 0, 101), 80, IPPROTO_TCP, false, NULL, 0},
	};
	struct rec_meta meta[3] = {{"d", "web", NULL, NULL, false, 0},
				   {"d", "web", NULL, NULL, false, 0},
				   {"d", "none", NULL, NULL, false, 0}};
	struct rec_set in = {svcs, meta, 3, b}, out;
	const uint32_t down[] = {IP(198, 19, 2, 5), IP(198, 19, 9, 9)};
	uint32_t *ips;
	(void)state;

	assert_int_equal(rec_backend_ips(&in, &ips), 3);
	assert_int_equal(ips[0], IP(198, 19, 1, 5));
	assert_int_equal(ips[1], IP(198, 19, 2, 5));
	assert_int_equal(ips[2], IP(198, 19, 2, 6));
	free(ips);

	rec_without(&in, down, 2, &out);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.svcs[0].nbackends, 2);
	assert_int_equal(out.svcs[0].backends[0].ip, IP(198, 19, 1, 5));
	assert_int_equal(out.svcs[0].backends[1].ip, IP(198, 19, 2, 6));
	assert_int_equal(out.meta[0].left_out, 1);
	assert_int_equal(out.svcs[1].nbackends, 0); /* left with none */
	assert_int_equal(out.meta[1].left_out, 1);
	assert_int_equal(out.svcs[2].nbackends, 0);
	assert_int_equal(out.meta[2].left_out, 0);
	assert_string_equal(out.meta[2].name, "none");
	rec_free(&out);

	/* nothing down: the same set */
	rec_without(&in, NULL, 0, &out);
	assert_int_equal(out.svcs[0].nbackends, 3);
	assert_int_equal(out.svcs[1].nbackends, 1);
	assert_int_equal(out.meta[0].left_out, 0);
	rec_free(&out);

	in.n = 0;
	rec_without(&in, down, 2, &out);
	assert_int_equal(out.n, 0);
	assert_int_equal(rec_backend_ips(&in, &ips), 0);
	free(ips);
}

static void test_previous(void **state)
{
	/* An older Service appears: alone it would take .100; with the
	 * previous plan every VIP stays where it was. */
	static const char more[] =
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: older, namespace: default,"
		" creationTimestamp: '2025-01-01T00:00:00Z'}\n"
		"spec: {type: LoadBalancer, ports: [{port: 8000}]}\n";
	struct fixture *f = setup(objects_yaml, NULL), *g;
	struct plan_previous *prev = rec_previous(f->p);
	char *objects = malloc(sizeof(objects_yaml) + sizeof(more));
	(void)state;

	assert_int_equal(prev->n, 2); /* lost has no VIP */
	assert_string_equal(prev->held[0].name, "dns");
	assert_int_equal(plan_previous_find(prev, "default", "web"),
			 IP(198, 18, 0, 100));
	strcpy(objects, objects_yaml);
	strcat(objects, more);
	g = setup(objects, prev);
	assert_int_equal(g->p->services[3].vip, IP(198, 18, 0, 100)); /* web */
	assert_int_equal(g->p->services[0].vip, IP(198, 18, 0, 101)); /* dns */
	assert_int_equal(g->p->services[2].vip, IP(198, 18, 0, 102));
	teardown(g);
	plan_previous_free(prev);
	free(objects);
	teardown(f);
}

static void test_problems(void **state)
{
	struct diag_list a = {0}, b = {0};
	char **ka, **kb;
	size_t na, nb;
	(void)state;

	diag_add(&a, "cfg.yaml", 1, 1, "spec", "not counted; before from");
	diag_add(&a, "m.yaml", 10, 3, "spec.ports[0].port", "bad; 1..65535");
	diag_add(&a, "m.yaml", 12, 3, "spec.ports[0].port", "bad; 1..65535");
	diag_add(&a, "n.yaml", 3, 1, "", "YAML syntax error; fix it");
	/* lines moved by an edit elsewhere: the same problems */
	diag_add(&b, "n.yaml", 30, 1, "", "YAML syntax error; fix it");
	diag_add(&b, "m.yaml", 40, 3, "spec.ports[0].port", "bad; 1..65535");
	na = rec_problems(&a, 1, &ka);
	nb = rec_problems(&b, 0, &kb);
	assert_int_equal(na, 2); /* the same key twice counts once */
	assert_int_equal(nb, 2);
	assert_int_equal(rec_new_problems(ka, na, kb, nb), 0);
	assert_int_equal(rec_new_problems(NULL, 0, kb, nb), 2);
	rec_problems_free(kb, nb);
	diag_add(&b, "m.yaml", 41, 3, "spec.ports[1].port", "bad; 1..65535");
	nb = rec_problems(&b, 0, &kb);
	assert_int_equal(rec_new_problems(ka, na, kb, nb), 1);
	/* fixing problems is never refused */
	assert_int_equal(rec_new_problems(kb, nb, ka, na), 0);
	assert_int_equal(rec_new_problems(kb, nb, NULL, 0), 0);
	rec_problems_free(ka, na);
	rec_problems_free(kb, nb);
	diag_free(&a);
	diag_free(&b);
}

/* ---- preflight */

static const struct pf_iface eth0 = {"eth0", IP(198, 18, 0, 11), 24, true};

static void test_preflight_passes(void **state)
{
	struct fixture *f = setup(objects_yaml, NULL);
	struct pf_iface w = {"eth1", IP(198, 18, 0, 21), 30, true};
	(void)state;

	assert_true(pf_check(f->c, k8s_node_by_name(f->o, "lb-a"),
			     &eth0, true, &f->dl));
	/* a worker's subnet need not hold the LB nodes or the VIPs */
	assert_true(pf_check(f->c, k8s_node_by_name(f->o, "w-1"),
			     &w, false, &f->dl));
	assert_int_equal(f->dl.n, 0);
	teardown(f);
}

static void test_preflight_no_interface(void **state)
{
	struct fixture *f = setup(objects_yaml, NULL);
	struct pf_iface down = eth0;
	(void)state;

	assert_false(pf_check(f->c, k8s_node_by_name(f->o, "lb-a"),
			      NULL, true, &f->dl));
	/* the Node document starts on line 2 of o.yaml (after "---") */
	assert_diag(&f->dl, "o.yaml:2:1: status.addresses: no interface of "
		    "this machine holds 198.18.0.11, the InternalIP of Node "
		    "lb-a; ");
	down.up = false;
	assert_false(pf_check(f->c, k8s_node_by_name(f->o, "lb-a"),
			      &down, false, &f->dl));
	assert_diag(&f->dl, "o.yaml:2:1: status.addresses: interface eth0, "
		    "which holds 198.18.0.11 (Node lb-a), is down; bring it "
		    "up");
	assert_int_equal(f->dl.n, 2);
	teardown(f);
}

static void test_preflight_subnet(void **state)
{
	struct fixture *f = setup(objects_yaml, NULL);
	/* 198.18.0.0/28: .11 and .8 are in, .12/.13 too; the pools not */
	struct pf_iface small = {"eth0", IP(198, 18, 0, 11), 28, true};
	struct pf_iface tiny = {"eth0", IP(198, 18, 0, 11), 31, true};
	(void)state;

	assert_false(pf_check(f->c, k8s_node_by_name(f->o, "lb-a"),
			      &small, true, &f->dl));
	assert_diag(&f->dl, "c.yaml:12:", "spec.loadBalancer.addressPools[0]"
		    ".addresses: addresses 198.18.0.100-198.18.0.103 of pool "
		    "\"pool1\" are not all in 198.18.0.0/28, the subnet of "
		    "eth0 on lb-a; ");
	assert_diag(&f->dl, "c.yaml:13:32: spec.loadBalancer.addressPools[1]"
		    ".addresses: addresses 198.18.0.192-198.18.0.207");
	assert_int_equal(f->dl.n, 2);
	diag_free(&f->dl);

	/* /31 around .11: .8 is out, .12 and .13 are out */
	assert_false(pf_check(f->c, k8s_node_by_name(f->o, "lb-a"),
			      &tiny, true, &f->dl));
	assert_diag(&f->dl, "c.yaml:10:24: spec.loadBalancer.vips."
		    "controlPlaneVIP: 198.18.0.8 is not in 198.18.0.10/31, the "
		    "subnet of eth0 on lb-a; ");
	assert_diag(&f->dl, "c.yaml:15:", "spec.loadBalancer.nodePoolSpec."
		    "nodes: LB node 198.18.0.12 is not in 198.18.0.10/31");
	assert_diag(&f->dl, "c.yaml:16:15:", "LB node 198.18.0.13 is not in");
	teardown(f);
}

static void test_find_iface(void **state)
{
	struct pf_iface ifc;
	(void)state;

	/* nothing holds a TEST-NET address here; loopback always exists */
	assert_int_equal(pf_find_iface(IP(192, 0, 2, 254), &ifc), -ENOENT);
	if (!pf_find_iface(IP(127, 0, 0, 1), &ifc)) {
		assert_int_equal(ifc.prefix, 8);
		assert_string_equal(ifc.name, "lo");
	}
}

/* ---- key */

static void test_key(void **state)
{
	char why[160];
	struct key k;
	const char k32[] = "0123456789abcdef0123456789abcdef";
	(void)state;

	assert_false(key_parse("short\n", 6, &k, why, sizeof(why)));
	assert_string_equal(why, "the key (first line) is 5 characters long; "
			    "it must be at least 32 (openssl rand -hex 32 "
			    "makes one)");
	assert_false(key_parse("", 0, &k, why, sizeof(why)));
	assert_non_null(strstr(why, "is 0 characters"));
	/* only the first line counts */
	assert_false(key_parse("abc\n0123456789abcdef0123456789abcdef\n", 37,
			       &k, why, sizeof(why)));
	assert_false(key_parse("0123456789abcdef\0" "0123456789abcdef", 33,
			       &k, why, sizeof(why)));
	assert_non_null(strstr(why, "NUL"));
	assert_true(key_parse(k32, 32, &k, why, sizeof(why)));
	assert_int_equal(k.len, 32);
	key_free(&k);
	assert_null(k.buf);
	assert_true(key_parse("0123456789abcdef0123456789abcdef0\r\n", 35, &k,
			      why, sizeof(why)));
	assert_int_equal(k.len, 33);
	assert_string_equal(k.buf, "0123456789abcdef0123456789abcdef0");
	key_free(&k);
}

/* ---- state directory */

static void test_state_files(void **state)
{
	char dir[] = "/tmp/bmlb-test-agent.XXXXXX", err[256], *buf, *path;
	struct state st, other;
	size_t len;
	(void)state;

	assert_non_null(mkdtemp(dir));
	path = state_path(dir, "sub/state");
	assert_int_equal(state_open(&st, path, err, sizeof(err)), 0);
	/* a second agent on the same directory is refused, naming it */
	assert_int_equal(state_open(&other, path, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "another agent (pid "));
	assert_non_null(strstr(err, path));
	assert_int_equal(state_write(&st, "f", "one", 3, err, sizeof(err)), 0);
	assert_int_equal(state_write(&st, "f", "two!", 4, err, sizeof(err)), 0);
	free(path);
	path = state_path(st.dir, "f");
	assert_int_equal(state_read_file(path, 100, &buf, &len), 0);
	assert_int_equal(len, 4);
	assert_string_equal(buf, "two!");
	free(buf);
	assert_int_equal(state_read_file(path, 3, &buf, &len), -EFBIG);
	assert_int_equal(state_read_file(st.dir, 3, &buf, &len), -EISDIR);
	unlink(path);
	assert_int_equal(state_read_file(path, 3, &buf, &len), -ENOENT);
	free(path);
	/* the lock goes with the agent */
	path = xstrdup(st.dir);
	state_close(&st);
	assert_int_equal(state_open(&st, path, err, sizeof(err)), 0);
	state_close(&st);
	free(path);
	path = state_path(dir, "sub/state/lock");
	unlink(path);
	free(path);
	path = state_path(dir, "sub/state");
	rmdir(path);
	free(path);
	path = state_path(dir, "sub");
	rmdir(path);
	free(path);
	rmdir(dir);
}

/* ---- status object and log */

static void test_counter_names(void **state)
{
	(void)state;

	for (int i = 0; i < LB_C_MAX; i++) {
		assert_non_null(report_counter_names[i]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(report_counter_names[i],
						report_counter_names[j]);
	}
	assert_string_equal(report_counter_names[LB_C_FWD_NEW], "fwd_new");
}

static char *render(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	report_write_json(r, f);
	fclose(f);
	return buf;
}

static void test_report(void **state)
{
	struct fixture *f = setup(objects_yaml, NULL);
	uint64_t counters[LB_C_MAX] = {[LB_C_PACKETS] = 7, [LB_C_FIB_MISS] = 2};
	struct rec_set s;
	struct report r = {
		.node = "w-1", .role = "worker", .ifname = "eth0",
		.mode = "snat", .node_ip = IP(198, 18, 0, 21),
		.pid = 42, .started = 1795507200, /* 2026-11-24T08:00:00Z */
		.plan = f->p, .flows = -1,
	};
	struct nh_hop hop = {.ip = IP(198, 18, 0, 21), .state = NUD_FAILED,
			     .down = true, .ours = true, .nbackends = 2};
	struct nh_table hops = {.hops = &hop, .nhops = 1};
	const char *owner;
	char *json, want[2048];
	(void)state;

	rec_build(f->p, "lb-a", IP(198, 18, 0, 11), true, &s);
	json = render(&r);
	assert_string_equal(json,
		"{\"node\":\"w-1\",\"role\":\"worker\",\"interface\":\"eth0\","
		"\"address\":\"198.18.0.21\",\"tunnelInterface\":null,"
		"\"mode\":\"snat\",\"hook\":null,\"dataplane\":false,"
		"\"pid\":42,\"startedAt\":\"2026-11-24T08:00:00Z\","
		"\"lastReload\":null,\"syncError\":null,\"vipsOwned\":[],"
		"\"vips\":null,\"peers\":null,"
		"\"programmed\":[],\"unallocated\":[{\"namespace\":\"default\","
		"\"name\":\"lost\",\"reason\":\"requested address "
		"198.18.0.250 is not in any address pool\"}],\"counters\":null,"
		"\"flows\":null,\"nextHops\":null,\"backendsLeftOut\":null,"
		"\"backendsLeftOutTotal\":null,\"children\":[]}\n");
	free(json);

	/* the owner of web is whichever LB node the plan chose: make the
	 * report for that node */
	owner = s.meta[0].owner;
	r.node = owner;
	r.role = "lb";
	r.hook = "xdp";
	r.flows = 3;
	s.meta[0].left_out = 1;
	r.programmed = &s;
	r.hops = &hops;
	r.left_out = 1;
	r.left_out_total = 4;
	r.counters = counters;
	r.reload_at = 1795507260;
	r.reload_trigger = "manifests";
	r.reload_error = "m.yaml:1:1: x: bad; good";
	r.children = (const struct sup_info[]){
		{.name = "haproxy", .pid = 43, .restarts = 2,
		 .last_exit = "signal KILL"},
		{.name = "keepalived", .adopted = true},
	};
	r.nchildren = 2;
	json = render(&r);
	snprintf(want, sizeof(want),
		 "\"lastReload\":{\"at\":\"2026-11-24T08:01:00Z\","
		 "\"trigger\":\"manifests\",\"ok\":false,"
		 "\"error\":\"m.yaml:1:1: x: bad; good\"},\"syncError\":null,"
		 "\"vipsOwned\":[\"198.18.0.100\"%s],\"vips\":null,"
		 "\"peers\":null,\"programmed\":["
		 "{\"namespace\":\"default\",\"name\":\"web\","
		 "\"vip\":\"198.18.0.100\",\"port\":80,\"protocol\":\"TCP\","
		 "\"owner\":\"%s\",\"reason\":null,\"local\":false,"
		 "\"backends\":"
		 "[\"198.19.1.5:8080\",\"198.19.1.9:8080\"],\"leftOut\":1},",
		 s.meta[2].owner && !strcmp(s.meta[2].owner, owner)
			 ? ",\"198.18.0.101\""
			 : "",
		 owner);
	assert_non_null(strstr(json, want));
	assert_non_null(strstr(json, "\"dataplane\":true"));
	assert_non_null(
		strstr(json, ",\"counters\":{\"packets\":7,\"pass\":0,"));
	assert_non_null(strstr(json, "\"fib_miss\":2,\"arp_reply\":0,"
				    "\"arp_conflict\":0,\"dsr_fwd\":0,"));
	assert_non_null(strstr(json, "\"dsr_out\":0,\"local\":0,"
				    "\"local_drop_full\":0,\"snat_reuse\":0,"
				    "\"resolve\":0,\"drop_no_route\":0,"
				    "\"too_big\":0,\"ttl_exceeded\":0,"
				    "\"drop_no_binding\":0,"
				    "\"evict_unreplied\":0,"
				    "\"drop_source_limit\":0},"
				    "\"flows\":3,\"nextHops\":[{\"address\":"
				    "\"198.18.0.21\",\"neighbour\":\"FAILED\","
				    "\"managed\":true,\"unreachable\":true,"
				    "\"backends\":2}],\"backendsLeftOut\":1,"
				    "\"backendsLeftOutTotal\":4,"
				    "\"children\":[{\"name\":\"haproxy\","
				    "\"pid\":43,\"restarts\":2,\"lastExit\":"
				    "\"signal KILL\",\"adopted\":false},"
				    "{\"name\":\"keepalived\",\"pid\":0,"
				    "\"restarts\":0,\"lastExit\":null,"
				    "\"adopted\":true}]}\n"));
	assert_non_null(strstr(json, "\"name\":\"dns\","
				     "\"vip\":\"198.18.0.101\",\"port\":53,"
				     "\"protocol\":\"UDP\""));
	assert_non_null(strstr(json, "\"owner\":null,\"reason\":"
				     "\"externalTrafficPolicy is Local and no "
				     "alive LB node has a ready endpoint of "
				     "it\",\"local\":true,\"backends\":[],"
				     "\"leftOut\":0}"));
	free(json);
	rec_free(&s);
	teardown(f);
}

/* ---- event loop */

struct src {
	struct loop *l;
	int fd, calls;
	int *other; /* deletes this source when called */
};

static void on_ready(void *arg, uint32_t events)
{
	struct src *s = arg;
	char c;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(s->fd, &c, 1), 1);
	s->calls++;
	loop_del(s->l, *s->other);
}

static void on_timer(void *arg, uint32_t events)
{
	(void)events;
	*(bool *)arg = true;
}

static void test_loop(void **state)
{
	struct loop *l = loop_new();
	int a[2], b[2], t = loop_timer_new();
	bool stop = false;
	struct src sa = {l, 0, 0, &b[0]}, sb = {l, 0, 0, &a[0]};
	(void)state;

	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_true(t >= 0);
	sa.fd = a[0];
	sb.fd = b[0];
	/* whichever runs first removes the other, whose event is already
	 * fetched in the same wakeup: it must not run; the timer stops */
	assert_int_equal(loop_add(l, a[0], EPOLLIN, on_ready, &sa), 0);
	assert_int_equal(loop_add(l, b[0], EPOLLIN, on_ready, &sb), 0);
	assert_int_equal(loop_add(l, t, EPOLLIN, on_timer, &stop), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(loop_timer_arm(t, 20, 0), 0);
	assert_int_equal(loop_run(l, &stop), 0);
	assert_int_equal(sa.calls + sb.calls, 1);
	assert_int_equal(loop_timer_read(t), 1);
	assert_int_equal(loop_timer_read(t), 0); /* non-blocking */
	assert_int_equal(loop_mod(l, t, EPOLLIN), 0);
	/* exactly one of the pipes is still registered */
	assert_int_equal(loop_mod(l, a[0], EPOLLIN) +
				 loop_mod(l, b[0], EPOLLIN),
			 -ENOENT);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
	close(t);
	loop_free(l);
}

static void test_log_stamp(void **state)
{
	char buf[LOG_STAMP_LEN];
	(void)state;

	assert_string_equal(log_stamp(0, buf), "1970-01-01T00:00:00Z");
	assert_string_equal(log_stamp(1795507200, buf), "2026-11-24T08:00:00Z");
}

/* A DSR worker finds an LB node's MAC in /proc/net/arp's text: complete
 * entries of its interface only. */
static void test_dsr_arp_lookup(void **state)
{
	static const char text[] =
		"IP address       HW type     Flags       HW address            "
		"Mask     Device\n"
		"198.18.0.11      0x1         0x2         02:aa:bb:cc:dd:0b     *"
		"        eth0\n"
		"198.18.0.12      0x1         0x0         00:00:00:00:00:00     *"
		"        eth0\n"
		"198.18.0.13      0x1         0x2         02:aa:bb:cc:dd:0d     *"
		"        eth1\n"
		"198.18.0.111     0x1         0x2         02:aa:bb:cc:dd:6f     *"
		"        eth0\n";
	static const uint8_t want[6] = {2, 0xaa, 0xbb, 0xcc, 0xdd, 0x0b};
	uint8_t mac[6];
	(void)state;

	assert_int_equal(dsr_arp_lookup(text, "eth0", 0xc612000b, mac), 0);
	assert_memory_equal(mac, want, 6);
	/* incomplete, another interface, a longer address, none at all */
	assert_int_equal(dsr_arp_lookup(text, "eth0", 0xc612000c, mac),
			 -ENOENT);
	assert_int_equal(dsr_arp_lookup(text, "eth0", 0xc612000d, mac),
			 -ENOENT);
	assert_int_equal(dsr_arp_lookup(text, "eth0", 0xc6120001, mac),
			 -ENOENT);
	assert_int_equal(dsr_arp_lookup("", "eth0", 0xc612000b, mac),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_local),
		cmocka_unit_test(test_build_node_port_service),
		cmocka_unit_test(test_build_empty),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_without),
		cmocka_unit_test(test_previous),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_preflight_passes),
		cmocka_unit_test(test_preflight_no_interface),
		cmocka_unit_test(test_preflight_subnet),
		cmocka_unit_test(test_find_iface),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_state_files),
		cmocka_unit_test(test_counter_names),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_log_stamp),
		cmocka_unit_test(test_dsr_arp_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
