/* Unit tests of src/plan: backends per port, owners, the previous plan,
 * and the exact JSON output. */
#include "helpers.h"
#include "plan_fixture.h"

#include <stdlib.h>

#include "plan/plan.h"

static const char cluster_yaml[] =
	"apiVersion: baremetal.cluster.gke.io/v1\n"
	"kind: Cluster\n"
	"metadata: {name: t, namespace: cluster-t}\n"
	"spec:\n"
	"  controlPlane:\n"
	"    nodePoolSpec:\n"
	"      nodes: [{address: 198.18.0.10}]\n"
	"  loadBalancer:\n"
	"    mode: bundled\n"
	"    ports: {controlPlaneLBPort: 443}\n"
	"    vips: {controlPlaneVIP: 198.18.0.8}\n"
	"    addressPools:\n"
	"    - {name: pool1, addresses: [198.18.0.100-198.18.0.103]}\n"
	"    nodePoolSpec:\n"
	"      nodes: [{address: 198.18.0.11}, {address: 198.18.0.12},\n"
	"              {address: 198.18.0.13}]\n";

static const char objects_yaml[] =
	NODE("lb-a", "198.18.0.11") NODE("lb-b", "198.18.0.12")
	NODE("w-1", "198.18.0.21")
	/* lb 198.18.0.13 has no Node object on purpose */
	"---\napiVersion: v1\nkind: Service\n"
	"metadata: {name: web, namespace: default,"
	" creationTimestamp: '2026-01-01T00:00:00Z'}\n"
	"spec:\n  type: LoadBalancer\n"
	"  ports:\n"
	"  - {name: http, port: 80, targetPort: web-http, nodePort: 30080}\n"
	"  - {name: dns, protocol: UDP, port: 53, targetPort: 5353}\n"
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	"metadata: {name: web-1, namespace: default,"
	" labels: {kubernetes.io/service-name: web}}\n"
	"addressType: IPv4\n"
	"ports: [{name: http, port: 8080}, {name: dns, protocol: UDP, port: 5353}]\n"
	"endpoints:\n"
	"- {addresses: [198.19.1.9], nodeName: w-1}\n"
	"- {addresses: [198.19.1.5], conditions: {ready: true}, nodeName: w-1}\n"
	"- {addresses: [198.19.1.6], conditions: {ready: false}, nodeName: w-1}\n"
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	"metadata: {name: web-2, namespace: default,"
	" labels: {kubernetes.io/service-name: web}}\n"
	"addressType: IPv4\n"
	"ports: [{name: http, port: 8080}]\n"
	"endpoints:\n"
	"- {addresses: [198.19.1.5], nodeName: w-1}\n"
	/* Local service whose only endpoint is on lb-b. */
	"---\napiVersion: v1\nkind: Service\n"
	"metadata: {name: local, namespace: default,"
	" creationTimestamp: '2026-01-02T00:00:00Z'}\n"
	"spec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n"
	"  ports: [{port: 80}]\n"
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	"metadata: {name: local-1, namespace: default,"
	" labels: {kubernetes.io/service-name: local}}\n"
	"addressType: IPv4\n"
	"ports: [{port: 80}]\n"
	"endpoints:\n"
	"- {addresses: [198.19.2.1], nodeName: lb-b}\n"
	/* A NodePort Service: no VIP, its nodePort on every node; and a
	 * ClusterIP one, which bmlb leaves alone. */
	"---\napiVersion: v1\nkind: Service\n"
	"metadata: {name: np, namespace: default,"
	" creationTimestamp: '2026-01-03T00:00:00Z'}\n"
	"spec:\n  type: NodePort\n"
	"  ports: [{port: 80, targetPort: 8080, nodePort: 30090}]\n"
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	"metadata: {name: np-1, namespace: default,"
	" labels: {kubernetes.io/service-name: np}}\n"
	"addressType: IPv4\n"
	"ports: [{port: 8080}]\n"
	"endpoints:\n"
	"- {addresses: [198.19.3.1], nodeName: w-1}\n"
	"---\napiVersion: v1\nkind: Service\n"
	"metadata: {name: internal, namespace: default,"
	" creationTimestamp: '2026-01-04T00:00:00Z'}\n"
	"spec:\n  ports: [{port: 80}]\n";

static struct fixture *setup(const char *const *alive, size_t nalive,
			     const struct plan_previous *prev)
{
	return plan_fixture(cluster_yaml, objects_yaml, alive, nalive, prev);
}

static const struct plan_service *find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->services[i].svc->name, name))
			return &p->services[i];
	fail_msg("no service %s in the plan", name);
	return NULL;
}

static void test_backends(void **state)
{
	struct fixture *f = setup(NULL, 0, NULL);
	const struct plan_service *web = find(f->p, "web");
	(void)state;

	assert_int_equal(web->nports, 2);
	/* Named targetPort resolved from the slices; ready defaults to true;
	 * not-ready left out; the same pod in two slices listed once. */
	assert_int_equal(web->ports[0].target_port, 8080);
	assert_int_equal(web->ports[0].nbackends, 2);
	assert_int_equal(web->ports[0].backends[0].ip, 0xc6130105);
	assert_int_equal(web->ports[0].backends[1].ip, 0xc6130109);
	assert_int_equal(web->ports[1].target_port, 5353);
	assert_int_equal(web->ports[1].nbackends, 2);
	teardown(f);
}

/* A NodePort Service gets no VIP and no owner, only its ports and their
 * backends; a ClusterIP Service is not in the plan. */
static void test_node_port_services(void **state)
{
	struct fixture *f = setup(NULL, 0, NULL);
	const struct plan_service *np;
	(void)state;

	assert_int_equal(f->p->n, 2);
	assert_int_equal(f->p->n_node_port, 1);
	np = &f->p->node_port_services[0];
	assert_string_equal(np->svc->name, "np");
	assert_int_equal(np->vip, 0);
	assert_null(np->owner);
	assert_int_equal(np->nports, 1);
	assert_int_equal(np->ports[0].spec->node_port, 30090);
	assert_int_equal(np->ports[0].target_port, 8080);
	assert_int_equal(np->ports[0].nbackends, 1);
	assert_int_equal(np->ports[0].backends[0].ip, 0xc6130301);
	teardown(f);
}

/* Two Services claiming one nodePort (same protocol): the older keeps it,
 * the other's is reported where it is written and left out (its VIP and
 * its other ports stay); the same number over UDP is another port. */
static void test_node_port_claimed_twice(void **state)
{
	static const char objs[] =
		NODE("lb-a", "198.18.0.11")
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: old, namespace: default,"
		" creationTimestamp: '2026-01-01T00:00:00Z'}\n"
		"spec: {type: NodePort, ports: [{port: 80, nodePort: 30080}]}\n"
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: a-new, namespace: default,"
		" creationTimestamp: '2026-01-02T00:00:00Z'}\n"
		"spec: {type: LoadBalancer, ports: [{port: 81, nodePort: 30081},"
		" {port: 80, nodePort: 30080},"
		" {port: 53, protocol: UDP, nodePort: 30080}]}\n";
	struct fixture *f = plan_fixture(cluster_yaml, objs, NULL, 0, NULL);
	const struct plan_service *fresh = find(f->p, "a-new");
	int clash = diag_find(&f->dl, "spec.ports[1].nodePort",
			      "30080/TCP is already the nodePort of "
			      "default/old, an older Service; default/a-new's "
			      "is left out",
			      NULL);
	(void)state;

	assert_int_not_equal(fresh->vip, 0);
	assert_int_equal(f->p->node_port_services[0].ports[0].node_port,
			 30080);
	assert_int_equal(fresh->ports[0].node_port, 30081);
	assert_int_equal(fresh->ports[1].node_port, 0);
	assert_int_equal(fresh->ports[1].spec->node_port, 30080);
	assert_int_equal(fresh->ports[2].node_port, 30080); /* UDP */
	assert_true(clash >= 0);
	assert_int_equal(diag_find(&f->dl, "nodePort", NULL), clash);
	teardown(f);
}

/* Addresses that cannot be a backend (SPEC.md §10) are reported with the
 * slice and the field, and programmed nowhere; a node's own address and a
 * pod's are backends. */
static void test_endpoints_not_backends(void **state)
{
	static const char objs[] =
		NODE("lb-a", "198.18.0.11")
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: web, namespace: default,"
		" creationTimestamp: '2026-01-01T00:00:00Z'}\n"
		"spec: {type: LoadBalancer, ports: [{port: 80}]}\n"
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: other, namespace: default,"
		" creationTimestamp: '2026-01-02T00:00:00Z'}\n"
		"spec: {type: NodePort, ports: [{port: 80, nodePort: 30080}]}\n"
		"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		"metadata: {name: web-1, namespace: default,"
		" labels: {kubernetes.io/service-name: web}}\n"
		"addressType: IPv4\n"
		"ports: [{port: 8080}]\n"
		"endpoints:\n"					/* 22 */
		"- {addresses: [0.0.0.0]}\n"
		"- {addresses: [127.0.0.1]}\n"
		"- {addresses: [224.0.0.1]}\n"
		"- {addresses: [255.255.255.255]}\n"
		"- {addresses: [169.254.1.1]}\n"
		"- {addresses: [198.18.0.8]}\n"
		"- {addresses: [198.18.0.100], conditions: {ready: false}}\n"
		"- {addresses: [198.19.1.5, 198.18.0.103]}\n"	/* 30 */
		"- {addresses: [198.18.0.11]}\n"
		"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		"metadata: {name: other-1, namespace: default,"
		" labels: {kubernetes.io/service-name: other}}\n"
		"addressType: IPv4\n"
		"ports: [{port: 8080}]\n"
		"endpoints: [{addresses: [198.18.0.101, 198.19.1.6]}]\n";
	static const char *const refused[][2] = {
		{"o.yaml:23:15: endpoints[0].addresses[0]: EndpointSlice "
		 "default/web-1 lists 0.0.0.0, an address of 0.0.0.0/8",
		 "which cannot be a backend, so it is left out; list the pods' "
		 "own addresses (a node's address serves hostNetwork pods)"},
		{"o.yaml:24:15: endpoints[1].addresses[0]:", "127.0.0.1, a "
		 "loopback address"},
		{"o.yaml:25:15: endpoints[2].addresses[0]:", "224.0.0.1, a "
		 "multicast address"},
		{"o.yaml:26:15: endpoints[3].addresses[0]:", "255.255.255.255, "
		 "the broadcast address"},
		{"o.yaml:27:15: endpoints[4].addresses[0]:", "169.254.1.1, a "
		 "link-local address"},
		{"o.yaml:28:15: endpoints[5].addresses[0]:", "198.18.0.8, the "
		 "controlPlaneVIP"},
		{"o.yaml:29:15: endpoints[6].addresses[0]:", "198.18.0.100, an "
		 "address of pool \"pool1\" (every pool address is a "
		 "Service's VIP or may become one)"},
		{"o.yaml:30:15: endpoints[7].addresses[1]:", "198.18.0.103, an "
		 "address of pool \"pool1\""},
		{"o.yaml:38:25: endpoints[0].addresses[0]: EndpointSlice "
		 "default/other-1 lists 198.18.0.101", "an address of pool"},
	};
	struct fixture *f = plan_fixture(cluster_yaml, objs, NULL, 0, NULL);
	const struct plan_service *web = find(f->p, "web");
	const struct plan_port *np = &f->p->node_port_services[0].ports[0];
	struct diag_list dl = {0};
	(void)state;

	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		assert_diag(&f->dl, refused[i][0], refused[i][1]);
	assert_int_equal(diag_find(&f->dl, "198.19.1.", NULL), -1);
	assert_int_equal(diag_find(&f->dl, "198.18.0.11,", NULL), -1);
	assert_int_equal(web->vip, 0xc6120064); /* its VIP: not its backend */
	assert_int_equal(web->ports[0].nbackends, 2);
	assert_int_equal(web->ports[0].backends[0].ip, 0xc612000b);
	assert_int_equal(web->ports[0].backends[1].ip, 0xc6130105);
	assert_int_equal(np->nbackends, 1);
	assert_int_equal(np->backends[0].ip, 0xc6130106);

	/* validate reports the same. */
	plan_check_endpoints(f->c, f->o, &dl);
	assert_int_equal(dl.n, sizeof(refused) / sizeof(*refused));
	diag_free(&dl);
	teardown(f);
}

/* A Service without ports has nothing to serve: no VIP, and none taken. */
static void test_no_ports(void **state)
{
	static const char objs[] =
		NODE("lb-a", "198.18.0.11")
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: empty, namespace: default,"
		" creationTimestamp: '2026-01-01T00:00:00Z'}\n"
		"spec: {type: LoadBalancer, ports: []}\n"
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: none, namespace: default,"
		" creationTimestamp: '2026-01-02T00:00:00Z'}\n"
		"spec: {type: LoadBalancer, loadBalancerIP: 198.18.0.102}\n"
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: web, namespace: default,"
		" creationTimestamp: '2026-01-03T00:00:00Z'}\n"
		"spec: {type: LoadBalancer, ports: [{port: 80}]}\n";
	struct fixture *f = plan_fixture(cluster_yaml, objs, NULL, 0, NULL);
	(void)state;

	for (int i = 0; i < 2; i++) {
		const struct plan_service *s = find(f->p, i ? "none" : "empty");

		assert_int_equal(s->vip, 0);
		assert_null(s->owner);
		assert_string_equal(s->reason, "it has no ports; list the ports "
				    "to serve in spec.ports");
	}
	assert_int_equal(find(f->p, "web")->vip, 0xc6120064);
	teardown(f);
}

static void test_lb_node_without_node_object(void **state)
{
	struct fixture *f = setup(NULL, 0, NULL);
	(void)state;

	assert_diag(&f->dl, "c.yaml:16:", "spec.loadBalancer.nodePoolSpec.nodes",
		    "no Node manifest has InternalIP 198.18.0.13");
	teardown(f);
}

static void test_owners(void **state)
{
	struct fixture *f = setup(NULL, 0, NULL);
	const struct plan_service *local = find(f->p, "local");
	const struct plan_service *web = find(f->p, "web");
	(void)state;

	assert_non_null(web->owner);
	assert_null(web->reason);
	assert_string_equal(local->owner, "lb-b");
	teardown(f);

	/* lb-b dead: the Local service keeps its VIP but has no owner. */
	const char *alive[] = {"lb-a"};
	f = setup(alive, 1, NULL);
	local = find(f->p, "local");
	assert_int_not_equal(local->vip, 0);
	assert_null(local->owner);
	assert_non_null(strstr(local->reason, "no alive LB node has a ready "
					      "endpoint"));
	assert_string_equal(find(f->p, "web")->owner, "lb-a");
	teardown(f);

	/* Nobody alive. */
	f = setup(alive, 0, NULL);
	assert_string_equal(find(f->p, "web")->reason, "no LB node is alive");
	teardown(f);
}

static void test_previous(void **state)
{
	static const char prev_json[] =
		"{\"forwardMode\":\"snat\",\"services\":["
		"{\"namespace\":\"default\",\"name\":\"local\","
		"\"vip\":\"198.18.0.100\"},"
		"{\"namespace\":\"default\",\"name\":\"gone\",\"vip\":null}]}";
	struct diag_list dl = {0};
	struct plan_previous *prev = plan_previous_parse(
		"p.json", prev_json, sizeof(prev_json) - 1, &dl);
	(void)state;

	assert_non_null(prev);
	assert_int_equal(plan_previous_find(prev, "default", "local"),
			 0xc6120064);
	assert_int_equal(plan_previous_find(prev, "default", "gone"), 0);
	assert_int_equal(plan_previous_find(prev, "x", "local"), 0);

	/* "local" is younger than "web" but keeps .100 it held. */
	struct fixture *f = setup(NULL, 0, prev);
	assert_int_equal(find(f->p, "local")->vip, 0xc6120064);
	assert_int_equal(find(f->p, "web")->vip, 0xc6120065);
	teardown(f);
	plan_previous_free(prev);

	static const char *bad[] = {"", "[1]", "{\"services\": 3}",
				    "{\"services\": [{\"name\": \"x\"}]}",
				    "{}\n---\n{}\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		prev = plan_previous_parse("p.json", bad[i], strlen(bad[i]),
					   &dl);
		assert_null(prev);
		assert_true(dl.n > 0);
		diag_free(&dl);
	}
}

/* A previous plan of the other forwarding mode does not fit. */
static void test_previous_mode(void **state)
{
	static const char *const json[] = {
		"{\"forwardMode\":\"dsr\",\"services\":[]}",
		"{\"forwardMode\":\"snat\",\"services\":[]}",
		"{\"services\":[]}",
	};
	struct diag_list dl = {0};
	struct cfg_cluster *c =
		cfg_parse("c.yaml", cluster_yaml, strlen(cluster_yaml), &dl);
	(void)state;

	assert_non_null(c);
	for (size_t i = 0; i < 3; i++) {
		struct plan_previous *p = plan_previous_parse(
			"p.json", json[i], strlen(json[i]), &dl);

		assert_non_null(p);
		assert_int_equal(plan_previous_fits(p, "p.json", c, &dl), i > 0);
		plan_previous_free(p);
	}
	assert_int_equal(dl.n, 1);
	assert_diag(&dl, "p.json:1:16: forwardMode: this plan is for "
		    "forwardMode dsr, and the cluster file c.yaml says snat; "
		    "give a plan of this cluster, or none");
	diag_free(&dl);
	static const char bad[] = "{\"forwardMode\":\"x\"}";
	assert_null(plan_previous_parse("p.json", bad, strlen(bad), &dl));
	assert_diag(&dl, "p.json:1:16: forwardMode: 'x' is not a forwarding "
		    "mode");
	diag_free(&dl);
	cfg_free(c);
}

static void test_json_output(void **state)
{
	const char *alive[] = {"lb-b"};
	struct fixture *f = setup(alive, 1, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	(void)state;

	plan_write_json(f->p, out);
	fclose(out);
	assert_string_equal(
		buf,
		"{\"forwardMode\":\"snat\",\"services\":["
		"{\"namespace\":\"default\",\"name\":\"local\","
		"\"vip\":\"198.18.0.101\",\"pool\":\"pool1\",\"owner\":\"lb-b\","
		"\"reason\":null,\"ports\":[{\"protocol\":\"TCP\",\"port\":80,"
		"\"targetPort\":80,\"nodePort\":null,"
		"\"backends\":[\"198.19.2.1\"]}]},"
		"{\"namespace\":\"default\",\"name\":\"web\","
		"\"vip\":\"198.18.0.100\",\"pool\":\"pool1\",\"owner\":\"lb-b\","
		"\"reason\":null,\"ports\":[{\"protocol\":\"TCP\",\"port\":80,"
		"\"targetPort\":8080,\"nodePort\":30080,"
		"\"backends\":[\"198.19.1.5\",\"198.19.1.9\"]},"
		"{\"protocol\":\"UDP\",\"port\":53,\"targetPort\":5353,"
		"\"nodePort\":null,"
		"\"backends\":[\"198.19.1.5\",\"198.19.1.9\"]}]}]}\n");
	free(buf);
	teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backends),
		cmocka_unit_test(test_node_port_services),
		cmocka_unit_test(test_node_port_claimed_twice),
		cmocka_unit_test(test_endpoints_not_backends),
		cmocka_unit_test(test_no_ports),
		cmocka_unit_test(test_lb_node_without_node_object),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_previous),
		cmocka_unit_test(test_previous_mode),
		cmocka_unit_test(test_json_output),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
