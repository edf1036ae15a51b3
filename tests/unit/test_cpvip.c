/* Unit tests of src/cpvip: keepalived.conf and haproxy.cfg rendered from a
 * cluster file and Node manifests, compared byte for byte with the files
 * in tests/unit/cpvip/ (BMLB_UPDATE_EXPECTED=1 rewrites them after a
 * deliberate change; the lab test has the daemons check them); the
 * router id; and what cannot be rendered. */
#include "helpers.h"

#include <errno.h>
#include <stdlib.h>

#include "cpvip/render.h"

#define EXPECTED "tests/unit/cpvip/"

/* A cluster with its own LB nodes (CLUSTER_LB) or none, in which case the
 * control-plane nodes are the LB nodes. */
static char *cluster_text(const char *name, const char *vip, bool lb_pool)
{
	char *s;

	if (asprintf(&s,
		     "apiVersion: baremetal.cluster.gke.io/v1\n"
		     "kind: Cluster\n"
		     "metadata: {name: %s, namespace: cluster-%s}\n"
		     "spec:\n"
		     "  controlPlane:\n"
		     "    nodePoolSpec:\n"
		     "      nodes: [{address: 198.18.0.10}, "
		     "{address: 198.18.0.31}]\n"
		     "  loadBalancer:\n"
		     "    mode: bundled\n"
		     "    ports: {controlPlaneLBPort: 443}\n"
		     "    vips: {controlPlaneVIP: %s}\n"
		     "    addressPools:\n"
		     "    - {name: pool1,\n"
		     "       addresses: [198.18.0.100-198.18.0.127]}\n"
		     "%s",
		     name, name, vip,
		     lb_pool ? "    nodePoolSpec:\n"
			       "      nodes: [{address: 198.18.0.11}, "
			       "{address: 198.18.0.12}, "
			       "{address: 198.18.0.13}]\n"
			     : "") < 0)
		abort();
	return s;
}

static const char NODES[] =
	"apiVersion: v1\n"
	"kind: List\n"
	"items:\n"
	"- {apiVersion: v1, kind: Node, metadata: {name: cp-1},\n"
	"   status: {addresses: [{type: InternalIP, address: 198.18.0.10}]}}\n"
	"- {apiVersion: v1, kind: Node, metadata: {name: lb-1},\n"
	"   status: {addresses: [{type: InternalIP, address: 198.18.0.11}]}}\n";

/* A cluster of one control-plane node, which is its only LB node. */
static const char ALONE[] =
	"apiVersion: baremetal.cluster.gke.io/v1\n"
	"kind: Cluster\n"
	"metadata: {name: %s}\n"
	"spec:\n"
	"  controlPlane: {nodePoolSpec: {nodes: [{address: 198.18.0.10}]}}\n"
	"  loadBalancer:\n"
	"    mode: bundled\n"
	"    vips: {controlPlaneVIP: 198.18.0.8}\n"
	"    addressPools: [{name: p, addresses: [198.18.0.100/30]}]\n";

static struct cfg_cluster *alone(const char *name, struct diag_list *dl)
{
	char text[sizeof(ALONE) + 64];
	int n = snprintf(text, sizeof(text), ALONE, name);
	struct cfg_cluster *c = cfg_parse("alone.yaml", text, (size_t)n, dl);

	if (!c)
		diag_dump(dl);
	assert_non_null(c);
	return c;
}

struct fixture {
	struct cfg_cluster *c;
	struct k8s_objects *o;
	struct diag_list dl;
};

static void load(struct fixture *f, const char *name, const char *vip,
		 bool lb_pool)
{
	char *text = cluster_text(name, vip, lb_pool);

	*f = (struct fixture){0};
	f->c = cfg_parse("cluster.yaml", text, strlen(text), &f->dl);
	f->o = k8s_parse("nodes.yaml", NODES, sizeof(NODES) - 1, &f->dl);
	free(text);
	if (!f->c || !f->o || f->dl.n)
		diag_dump(&f->dl);
	assert_non_null(f->c);
	assert_non_null(f->o);
}

static void unload(struct fixture *f)
{
	cfg_free(f->c);
	k8s_objects_free(f->o);
	diag_free(&f->dl);
}

static struct cpvip_input input(const struct fixture *f, const char *node,
				const char *ip)
{
	uint32_t a = 0;

	assert_int_equal(ipv4_parse(ip, &a), 0);
	return (struct cpvip_input){
		.cluster = f->c,
		.objects = f->o,
		.node = node,
		.node_ip = a,
		.ifname = "eth0",
		.prefix = 24,
		.dir = "/var/lib/bmlb",
		.apiserver_port = CPVIP_APISERVER_PORT,
		.advert_ms = CPVIP_ADVERT_MS,
	};
}

static void render_ok(const struct cpvip_input *in, struct cpvip_config *out)
{
	char err[512] = "";

	if (cpvip_render(in, out, err, sizeof(err)))
		fail_msg("not rendered: %s", err);
}

/* text must equal the expected file (or rewrites it, on request). */
static void expect_file(const char *text, const char *name)
{
	char path[256], *want = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), EXPECTED "%s", name);
	if (getenv("BMLB_UPDATE_EXPECTED")) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot read %s", path);
	assert_int_equal(getdelim(&want, &len, '\0', f) > 0, 1);
	fclose(f);
	if (strcmp(text, want))
		fail_msg("%s differs; rendered:\n%s", path, text);
	free(want);
}

static void test_lb_nodes(void **state)
{
	struct fixture f;
	struct cpvip_config out;
	struct cpvip_input in;

	(void)state;
	load(&f, "lab", "198.18.0.8", true);
	in = input(&f, "lb-1", "198.18.0.11");
	render_ok(&in, &out);
	expect_file(out.keepalived, "lb-1.keepalived.conf");
	expect_file(out.haproxy, "lb-1.haproxy.cfg");
	assert_int_equal(out.vrid, cpvip_vrid(f.c));
	cpvip_config_free(&out);
	unload(&f);
}

/* No nodePoolSpec: the control-plane nodes are the LB nodes. */
static void test_cp_nodes_are_lb_nodes(void **state)
{
	struct fixture f;
	struct cpvip_config out;
	struct cpvip_input in;

	(void)state;
	load(&f, "lab", "198.18.0.8", false);
	in = input(&f, "cp-2", "198.18.0.31");
	in.advert_ms = 1000;
	render_ok(&in, &out);
	expect_file(out.keepalived, "cp-2.keepalived.conf");
	assert_non_null(strstr(out.keepalived, "\tunicast_src_ip 198.18.0.31\n"
				"\tunicast_peer {\n\t\t198.18.0.10\n\t}\n"));
	assert_non_null(strstr(out.keepalived, "\tadvert_int 1.00\n"));
	cpvip_config_free(&out);
	unload(&f);
}

/* Alone, the node names itself as its peer (no peer would be multicast). */
static void test_alone(void **state)
{
	struct fixture f = {0};
	struct cpvip_config out;
	struct cpvip_input in;

	(void)state;
	f.c = alone("one", &f.dl);
	in = input(&f, "cp-1", "198.18.0.10");
	in.advert_ms = 10;
	render_ok(&in, &out);
	assert_non_null(strstr(out.keepalived, "\tunicast_peer {\n"
				"\t\t198.18.0.10\n\t}\n"));
	assert_non_null(strstr(out.keepalived, "\tadvert_int 0.01\n"));
	/* Without Node manifests, servers are named by address; the port is
	 * controlPlaneLBPort's default. */
	assert_non_null(strstr(out.haproxy, "\tserver 198.18.0.10 "
				"198.18.0.10:6443\n"));
	assert_non_null(strstr(out.haproxy, "\tbind 198.18.0.8:443 "
				"transparent\n"));
	cpvip_config_free(&out);
	unload(&f);
}

static void test_vrid(void **state)
{
	struct fixture a, b, c;
	uint8_t va, vb, vc;

	(void)state;
	load(&a, "lab", "198.18.0.8", true);
	load(&b, "other", "198.18.0.8", true);
	load(&c, "lab", "198.18.0.9", true);
	va = cpvip_vrid(a.c);
	vb = cpvip_vrid(b.c);
	vc = cpvip_vrid(c.c);
	assert_in_range(va, 1, 255);
	assert_int_equal(va, cpvip_vrid(a.c));
	assert_int_not_equal(va, vb); /* another cluster on the segment */
	assert_int_not_equal(va, vc); /* another VIP */
	unload(&a);
	unload(&b);
	unload(&c);
}

/* Every id is reachable and none is favoured much: 2550 clusters. */
static void test_vrid_spread(void **state)
{
	unsigned seen[256] = {0}, most = 0;

	(void)state;
	for (unsigned i = 0; i < 2550; i++) {
		struct diag_list dl = {0};
		char name[16];
		struct cfg_cluster *c;

		snprintf(name, sizeof(name), "c%u", i);
		c = alone(name, &dl);
		seen[cpvip_vrid(c)]++;
		cfg_free(c);
		diag_free(&dl);
	}
	assert_int_equal(seen[0], 0);
	for (int v = 1; v < 256; v++)
		most = seen[v] > most ? seen[v] : most;
	assert_in_range(most, 10, 30); /* mean 10; a fair die rarely 30 */
}

static void test_refused(void **state)
{
	struct fixture f;
	struct cpvip_config out;
	struct cpvip_input in;
	char err[512];

	(void)state;
	load(&f, "lab", "198.18.0.8", true);
	in = input(&f, "lb-1", "198.18.0.11");
	in.dir = "/var/lib/my bmlb";
	assert_int_equal(cpvip_render(&in, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the state directory '/var/lib/my bmlb' "
				"holds a space"));
	assert_null(out.keepalived);
	in.dir = "state";
	assert_int_equal(cpvip_render(&in, &out, err, sizeof(err)), -EINVAL);
	in = input(&f, "lb-\"1", "198.18.0.11");
	assert_int_equal(cpvip_render(&in, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the node name"));
	in = input(&f, "lb-1", "198.18.0.11");
	in.ifname = "eth0}";
	assert_int_equal(cpvip_render(&in, &out, err, sizeof(err)), -EINVAL);
	unload(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lb_nodes),
		cmocka_unit_test(test_cp_nodes_are_lb_nodes),
		cmocka_unit_test(test_alone),
		cmocka_unit_test(test_vrid),
		cmocka_unit_test(test_vrid_spread),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests_name("cpvip", tests, NULL, NULL);
}
