/* Unit tests of src/config: decoding the cluster file, each rule of
 * SPEC.md §2 broken on its own, bad files, and refused changes. */
#include "helpers.h"

#include <stdlib.h>
#include <unistd.h>

#include "config/cluster.h"

/* SPEC.md §2's example with benchmark and TEST-NET addresses, plus fields
 * bmlb does not read.  Line numbers matter: the tests below point at them. */
static const char VALID[] =
	"apiVersion: baremetal.cluster.gke.io/v1\n"		/* 1 */
	"kind: Cluster\n"
	"metadata:\n"
	"  name: bm\n"
	"  namespace: cluster-bm\n"				/* 5 */
	"  annotations:\n"
	"    preview.baremetal.cluster.gke.io/dpv2-lbmode-dsr: enable\n"
	"spec:\n"
	"  type: user\n"
	"  anthosBareMetalVersion: 1.16.0\n"			/* 10 */
	"  clusterNetwork:\n"
	"    forwardMode: dsr\n"
	"    flatIPv4: true\n"
	"    pods: {cidrBlocks: [198.19.0.0/16]}\n"
	"    services: {cidrBlocks: [198.18.128.0/20]}\n"	/* 15 */
	"  controlPlane:\n"
	"    nodePoolSpec:\n"
	"      nodes: [{address: 198.18.0.10}, {address: 198.18.0.11}]\n"
	"  loadBalancer:\n"
	"    mode: bundled\n"					/* 20 */
	"    ports: {controlPlaneLBPort: 6443}\n"
	"    vips:\n"
	"      controlPlaneVIP: 198.18.0.8\n"
	"      ingressVIP: 198.18.0.2\n"
	"    addressPools:\n"					/* 25 */
	"    - name: pool1\n"
	"      avoidBuggyIPs: false\n"
	"      manualAssign: false\n"
	"      addresses: [198.18.0.64/27, 198.18.0.1-198.18.0.4]\n"
	"    - name: pool2\n"					/* 30 */
	"      avoidBuggyIPs: true\n"
	"      manualAssign: true\n"
	"      addresses:\n"
	"      - 203.0.113.0/24\n"
	"    nodePoolSpec:\n"					/* 35 */
	"      nodes:\n"
	"      - address: 192.0.2.4\n"
	"        k8sIP: 198.18.0.32\n"
	"      - address: 198.18.0.33\n"
	"        labels: {rack: r1}\n"				/* 40 */
	"  storage: {lvpNodeMounts: {path: /mnt}}\n";

/* A bmctl-style file: the Cluster among other kinds, no LB node list. */
static const char BMCTL[] =
	"apiVersion: v1\n"
	"kind: Namespace\n"
	"metadata:\n"
	"  name: cluster-demo\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Secret\n"
	"metadata: {name: creds, namespace: cluster-demo}\n"
	"data: {key: c2VjcmV0}\n"
	"---\n"
	"apiVersion: baremetal.cluster.gke.io/v1\n"
	"kind: Cluster\n"
	"metadata: {name: demo, namespace: cluster-demo}\n"
	"spec:\n"
	"  controlPlane:\n"
	"    nodePoolSpec:\n"
	"      nodes:\n"
	"      - address: 198.51.100.10\n"
	"      - address: 198.51.100.11\n"
	"  loadBalancer:\n"
	"    mode: bundled\n"
	"    vips: {controlPlaneVIP: 198.51.100.8}\n"
	"---\n"
	"apiVersion: baremetal.cluster.gke.io/v1\n"
	"kind: NodePool\n"
	"metadata: {name: workers, namespace: cluster-demo}\n"
	"spec:\n"
	"  clusterName: demo\n"
	"  nodes: [{address: 198.51.100.21}]\n"
	"---\n";

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(ipv4_parse(s, &a), 0);
	return a;
}

static struct cfg_cluster *parse(const char *yaml, struct diag_list *dl)
{
	return cfg_parse("c.yaml", yaml, strlen(yaml), dl);
}

/* base with each (from, to) pair of the NULL-terminated list replaced;
 * each `from` must occur exactly once. */
static char *vedit(const char *base, va_list ap)
{
	char *s = strdup(base);
	const char *from;

	while ((from = va_arg(ap, const char *))) {
		const char *to = va_arg(ap, const char *);
		char *at = strstr(s, from), *t;

		assert_non_null(at);
		assert_null(strstr(at + 1, from));
		assert_true(asprintf(&t, "%.*s%s%s", (int)(at - s), s, to,
				     at + strlen(from)) > 0);
		free(s);
		s = t;
	}
	return s;
}

static char *edit(const char *base, ...)
{
	va_list ap;
	char *s;

	va_start(ap, base);
	s = vedit(base, ap);
	va_end(ap);
	return s;
}

#define EDIT(...) edit(VALID, __VA_ARGS__, (const char *)NULL)

/* Parses yaml; expects it refused with exactly n diagnostics, one of them
 * containing want. */
static void refuse(const char *yaml, size_t n, const char *want)
{
	struct diag_list dl = {0};
	struct cfg_cluster *c = parse(yaml, &dl);

	if (dl.n != n)
		diag_dump(&dl);
	assert_null(c);
	assert_int_equal(dl.n, n);
	assert_diag(&dl, want);
	diag_free(&dl);
}

/* VALID with one or more edits is refused with one diagnostic. */
#define REFUSE(want, ...)                                               \
	do {                                                            \
		char *y_ = EDIT(__VA_ARGS__);                           \
		refuse(y_, 1, want);                                    \
		free(y_);                                               \
	} while (0)

/* VALID with edits is accepted; returns the cluster. */
static struct cfg_cluster *accept_edit(const char *from, const char *to)
{
	struct diag_list dl = {0};
	char *y = edit(VALID, from, to, (const char *)NULL);
	struct cfg_cluster *c = parse(y, &dl);

	diag_dump(&dl);
	assert_int_equal(dl.n, 0);
	assert_non_null(c);
	free(y);
	return c;
}

static void test_valid_file(void **state)
{
	struct diag_list dl = {0};
	struct cfg_cluster *c = parse(VALID, &dl);
	const struct cfg_node *lb;
	size_t n;
	(void)state;

	diag_dump(&dl);
	assert_int_equal(dl.n, 0);
	assert_non_null(c);
	assert_string_equal(c->file, "c.yaml");
	assert_string_equal(c->name, "bm");
	assert_string_equal(c->namespace_, "cluster-bm");
	assert_int_equal(c->type, CFG_TYPE_USER);
	assert_int_equal(c->forward_mode, CFG_FORWARD_DSR);
	assert_int_equal(c->mode_source, CFG_MODE_FIELD);
	assert_int_equal(c->mode_line, 12);
	assert_int_equal(c->mode_col, 18);
	assert_true(c->flat_ipv4);
	assert_int_equal(c->ncp_nodes, 2);
	assert_int_equal(c->cp_nodes[0].address, ip("198.18.0.10"));
	assert_int_equal(c->cp_nodes[1].address, ip("198.18.0.11"));
	assert_int_equal(c->cp_nodes[1].k8s_ip, 0);
	assert_int_equal(c->cp_lb_port, 6443);
	assert_int_equal(c->cp_vip, ip("198.18.0.8"));
	assert_int_equal(c->ingress_vip, ip("198.18.0.2"));

	assert_int_equal(c->npools, 2);
	assert_int_equal(c->pools_line, 26);
	assert_int_equal(c->pools_col, 5);
	assert_string_equal(c->pools[0].name, "pool1");
	assert_int_equal(c->pools[0].line, 26);
	assert_int_equal(c->pools[0].col, 7);
	assert_int_equal(c->pools[0].addresses_line, 29);
	assert_int_equal(c->pools[0].addresses_col, 18);
	assert_false(c->pools[0].avoid_buggy_ips);
	assert_false(c->pools[0].manual_assign);
	assert_int_equal(c->pools[0].nranges, 2);
	/* sorted by first address, not in file order */
	assert_int_equal(c->pools[0].ranges[0].first, ip("198.18.0.1"));
	assert_int_equal(c->pools[0].ranges[0].last, ip("198.18.0.4"));
	assert_int_equal(c->pools[0].ranges[1].first, ip("198.18.0.64"));
	assert_int_equal(c->pools[0].ranges[1].last, ip("198.18.0.95"));
	assert_string_equal(c->pools[1].name, "pool2");
	assert_true(c->pools[1].avoid_buggy_ips);
	assert_true(c->pools[1].manual_assign);
	assert_int_equal(c->pools[1].ranges[0].first, ip("203.0.113.0"));
	assert_int_equal(c->pools[1].ranges[0].last, ip("203.0.113.255"));

	assert_false(c->lb_nodes_from_cp);
	lb = cfg_lb_nodes(c, &n);
	assert_int_equal(n, 2);
	assert_ptr_equal(lb, c->lb_nodes);
	assert_int_equal(lb[0].address, ip("192.0.2.4"));
	assert_int_equal(lb[0].k8s_ip, ip("198.18.0.32"));
	assert_int_equal(cfg_node_cluster_ip(&lb[0]), ip("198.18.0.32"));
	assert_int_equal(cfg_node_cluster_ip(&lb[1]), ip("198.18.0.33"));
	assert_int_equal(lb[1].line, 39);
	assert_int_equal(lb[1].col, 9);
	assert_string_equal(cfg_forward_mode_name(c->forward_mode), "dsr");
	assert_string_equal(cfg_forward_mode_name(CFG_FORWARD_SNAT), "snat");
	cfg_free(c);
	diag_free(&dl);
}

static void test_pool_lookups(void **state)
{
	struct diag_list dl = {0};
	struct cfg_cluster *c = parse(VALID, &dl);
	const struct cfg_pool *p2;
	(void)state;

	assert_non_null(c);
	assert_int_equal(cfg_pool_of(c, ip("198.18.0.1")), 0);
	assert_int_equal(cfg_pool_of(c, ip("198.18.0.4")), 0);
	assert_int_equal(cfg_pool_of(c, ip("198.18.0.5")), -1);
	assert_int_equal(cfg_pool_of(c, ip("198.18.0.63")), -1);
	assert_int_equal(cfg_pool_of(c, ip("198.18.0.64")), 0);
	assert_int_equal(cfg_pool_of(c, ip("198.18.0.95")), 0);
	assert_int_equal(cfg_pool_of(c, ip("198.18.0.96")), -1);
	assert_int_equal(cfg_pool_of(c, ip("203.0.113.0")), 1);
	assert_int_equal(cfg_pool_of(c, ip("192.0.2.1")), -1);
	assert_int_equal(cfg_pool_by_name(c, "pool1"), 0);
	assert_int_equal(cfg_pool_by_name(c, "pool2"), 1);
	assert_int_equal(cfg_pool_by_name(c, "pool"), -1);
	/* avoidBuggyIPs (pool2) removes .0 and .255 only */
	p2 = &c->pools[1];
	assert_false(cfg_pool_usable(p2, ip("203.0.113.0")));
	assert_true(cfg_pool_usable(p2, ip("203.0.113.1")));
	assert_true(cfg_pool_usable(p2, ip("203.0.113.254")));
	assert_false(cfg_pool_usable(p2, ip("203.0.113.255")));
	assert_false(cfg_pool_usable(p2, ip("198.18.0.1")));
	assert_true(cfg_pool_usable(&c->pools[0], ip("198.18.0.1")));
	assert_false(cfg_pool_usable(&c->pools[0], ip("198.18.0.63")));
	cfg_free(c);
	diag_free(&dl);
}

static void test_bmctl_file(void **state)
{
	struct diag_list dl = {0};
	struct cfg_cluster *c = parse(BMCTL, &dl);
	const struct cfg_node *lb;
	size_t n;
	(void)state;

	diag_dump(&dl);
	assert_int_equal(dl.n, 0);
	assert_non_null(c);
	assert_string_equal(c->name, "demo");
	assert_int_equal(c->type, CFG_TYPE_USER);
	assert_int_equal(c->forward_mode, CFG_FORWARD_SNAT);
	assert_int_equal(c->mode_source, CFG_MODE_DEFAULT);
	assert_false(c->flat_ipv4);
	assert_int_equal(c->cp_lb_port, 443);
	assert_int_equal(c->ingress_vip, 0);
	assert_int_equal(c->npools, 0);
	assert_true(c->lb_nodes_from_cp);
	lb = cfg_lb_nodes(c, &n);
	assert_int_equal(n, 2);
	assert_ptr_equal(lb, c->cp_nodes);
	assert_int_equal(cfg_node_cluster_ip(&lb[1]), ip("198.51.100.11"));
	cfg_free(c);
	diag_free(&dl);
}

static void test_minimal_defaults(void **state)
{
	struct diag_list dl = {0};
	struct cfg_cluster *c = parse(
		"apiVersion: baremetal.cluster.gke.io/v1beta1\n"
		"kind: Cluster\n"
		"spec:\n"
		"  loadBalancer:\n"
		"    mode: bundled\n"
		"    vips: {controlPlaneVIP: 192.0.2.8}\n"
		"    nodePoolSpec: {nodes: [{address: 192.0.2.4}]}\n",
		&dl);
	(void)state;

	diag_dump(&dl);
	assert_non_null(c);
	assert_string_equal(c->name, "");
	assert_string_equal(c->namespace_, "");
	assert_false(c->lb_nodes_from_cp);
	assert_int_equal(c->nlb_nodes, 1);
	assert_int_equal(c->ncp_nodes, 0);
	assert_int_equal(c->mode_line, 4); /* spec: nothing decided it */
	assert_int_equal(c->pools_line, 5);
	cfg_free(c);
	diag_free(&dl);
}

static void test_load_mode(void **state)
{
	(void)state;
	REFUSE("c.yaml:20:11: spec.loadBalancer.mode: \"manual\" is not a "
	       "load-balancer mode bmlb implements; write bundled",
	       "mode: bundled", "mode: manual");
	REFUSE("c.yaml:20:5: spec.loadBalancer.mode: required field is "
	       "missing; add mode: bundled",
	       "    mode: bundled\n", "");
	REFUSE("c.yaml:20:11: spec.loadBalancer.mode: expected a single value, "
	       "found a list",
	       "mode: bundled", "mode: [bundled]");
}

static void test_forward_mode_value(void **state)
{
	(void)state;
	REFUSE("c.yaml:12:18: spec.clusterNetwork.forwardMode: \"DSR\" is not "
	       "a forwarding mode; write snat or dsr",
	       "forwardMode: dsr", "forwardMode: DSR");
	REFUSE("c.yaml:7:55: metadata.annotations.preview.baremetal.cluster."
	       "gke.io/dpv2-lbmode-dsr: \"true\" is not a value of this "
	       "annotation; write disable or enable",
	       "dsr: enable", "dsr: \"true\"");
	REFUSE("c.yaml:9:9: spec.type: \"workload\" is not a cluster type; "
	       "write user, admin, hybrid or standalone",
	       "type: user", "type: workload");
}

static void test_dsr_needs_flat(void **state)
{
	(void)state;
	REFUSE("c.yaml:13:15: spec.clusterNetwork.flatIPv4: DSR forwarding "
	       "needs a flat pod network, and flatIPv4 is false; set flatIPv4: "
	       "true, or use forwardMode: snat",
	       "flatIPv4: true", "flatIPv4: false");
	REFUSE("c.yaml:12:18: spec.clusterNetwork.flatIPv4: DSR forwarding "
	       "needs a flat pod network, and flatIPv4 is not set",
	       "    flatIPv4: true\n", "");
	/* the annotation alone asks for DSR: located there */
	REFUSE("c.yaml:7:55: spec.clusterNetwork.flatIPv4: DSR forwarding",
	       "    forwardMode: dsr\n    flatIPv4: true\n", "");
	REFUSE("c.yaml:13:15: spec.clusterNetwork.flatIPv4: 'True ' is not",
	       "flatIPv4: true", "flatIPv4: 'True '");
}

struct matrix_case {
	const char *annotation, *field; /* NULL: absent */
	int want;			/* enum cfg_forward_mode, or -1 */
	enum cfg_mode_source source;
};

/* Every combination of the legacy annotation and forwardMode. */
static void test_annotation_matrix(void **state)
{
	static const struct matrix_case cases[] = {
		{NULL, NULL, CFG_FORWARD_SNAT, CFG_MODE_DEFAULT},
		{NULL, "snat", CFG_FORWARD_SNAT, CFG_MODE_FIELD},
		{NULL, "dsr", CFG_FORWARD_DSR, CFG_MODE_FIELD},
		{"enable", NULL, CFG_FORWARD_DSR, CFG_MODE_ANNOTATION},
		{"enable", "dsr", CFG_FORWARD_DSR, CFG_MODE_FIELD},
		{"enable", "snat", -1, 0},
		{"disable", NULL, CFG_FORWARD_SNAT, CFG_MODE_ANNOTATION},
		{"disable", "snat", CFG_FORWARD_SNAT, CFG_MODE_FIELD},
		{"disable", "dsr", -1, 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct matrix_case *m = &cases[i];
		struct diag_list dl = {0};
		char *y, *ann = NULL, *fm = NULL;
		struct cfg_cluster *c;

		if (m->annotation)
			assert_true(asprintf(&ann, "dsr: %s\n",
					     m->annotation) > 0);
		if (m->field)
			assert_true(asprintf(&fm, "forwardMode: %s\n",
					     m->field) > 0);
		/* line numbers kept: the tests below point at them */
		y = edit(VALID, "dsr: enable\n",
			 ann ? ann : "dsr: enable\n", "  annotations:\n",
			 ann ? "  annotations:\n" : "  labels:\n",
			 "forwardMode: dsr\n", fm ? fm : "# no forwardMode\n",
			 (const char *)NULL);
		c = parse(y, &dl);
		if (m->want < 0) {
			assert_null(c);
			assert_int_equal(dl.n, 1);
			assert_diag(&dl, "c.yaml:12:18: spec.clusterNetwork."
				    "forwardMode: ", " disagrees with the "
				    "annotation preview.baremetal.cluster.gke."
				    "io/dpv2-lbmode-dsr: ", "(line 7), which "
				    "means ", "; make them agree, or remove "
				    "the annotation");
		} else {
			diag_dump(&dl);
			assert_non_null(c);
			assert_int_equal(c->forward_mode, m->want);
			assert_int_equal(c->mode_source, m->source);
		}
		cfg_free(c);
		diag_free(&dl);
		free(y);
		free(ann);
		free(fm);
	}
}

static void test_ports(void **state)
{
	(void)state;
	REFUSE("c.yaml:21:33: spec.loadBalancer.ports.controlPlaneLBPort: '0' "
	       "is not a whole number from 1 to 65535",
	       "6443", "0");
	REFUSE("c.yaml:21:33: spec.loadBalancer.ports.controlPlaneLBPort: "
	       "'65536' is not a whole number from 1 to 65535",
	       "6443", "65536");
	REFUSE("c.yaml:21:33: spec.loadBalancer.ports.controlPlaneLBPort: "
	       "'443' is not a whole number",
	       "6443", "\"443\"");
	REFUSE("c.yaml:21:12: spec.loadBalancer.ports: expected a mapping",
	       "{controlPlaneLBPort: 6443}", "[6443]");
}

static void test_control_plane_vip(void **state)
{
	(void)state;
	REFUSE("c.yaml:23:7: spec.loadBalancer.vips.controlPlaneVIP: required "
	       "field is missing; add the address of the Kubernetes API",
	       "      controlPlaneVIP: 198.18.0.8\n", "");
	REFUSE("c.yaml:23:24: spec.loadBalancer.vips.controlPlaneVIP: "
	       "\"198.18.0.256\" is not an IPv4 address; write four numbers "
	       "0-255 without leading zeros, such as 192.0.2.10",
	       "198.18.0.8\n", "198.18.0.256\n");
	REFUSE("c.yaml:23:24: spec.loadBalancer.vips.controlPlaneVIP: "
	       "127.0.0.1 is not a unicast host address",
	       "198.18.0.8\n", "127.0.0.1\n");
	REFUSE("c.yaml:23:24: spec.loadBalancer.vips.controlPlaneVIP: "
	       "198.18.0.70 lies in address pool \"pool1\" (line 26); give the "
	       "control plane an address outside every pool",
	       "198.18.0.8\n", "198.18.0.70\n");
	REFUSE("c.yaml:20:5: spec.loadBalancer.vips: required field is "
	       "missing; add vips with controlPlaneVIP",
	       "    vips:\n      controlPlaneVIP: 198.18.0.8\n"
	       "      ingressVIP: 198.18.0.2\n", "");
	REFUSE("c.yaml:23:7: spec.loadBalancer.vips: expected a mapping "
	       "(key: value pairs), found a list",
	       "      controlPlaneVIP: 198.18.0.8\n      ingressVIP: "
	       "198.18.0.2\n", "      - 198.18.0.8\n");
}

static void test_ingress_vip(void **state)
{
	struct cfg_cluster *c;
	(void)state;

	REFUSE("c.yaml:24:19: spec.loadBalancer.vips.ingressVIP: 198.18.0.40 "
	       "lies in no address pool; pick an address of one of the pools",
	       "198.18.0.2\n", "198.18.0.40\n");
	REFUSE("c.yaml:24:19: spec.loadBalancer.vips.ingressVIP: \"198.18.0\" "
	       "is not an IPv4 address",
	       "198.18.0.2\n", "198.18.0\n");
	REFUSE("c.yaml:24:19: spec.loadBalancer.vips.ingressVIP: 203.0.113.255 "
	       "ends in .0 or .255, which avoidBuggyIPs removes from pool "
	       "\"pool2\"; pick another address of the pool",
	       "198.18.0.2\n", "203.0.113.255\n");
	REFUSE("c.yaml:24:19: spec.loadBalancer.vips.ingressVIP: an admin "
	       "cluster runs no ingress Service; remove ingressVIP",
	       "type: user", "type: admin");
	/* optional; any other type may have it */
	c = accept_edit("      ingressVIP: 198.18.0.2\n", "");
	assert_int_equal(c->ingress_vip, 0);
	cfg_free(c);
	c = accept_edit("type: user", "type: hybrid");
	assert_int_equal(c->type, CFG_TYPE_HYBRID);
	cfg_free(c);
	c = accept_edit("type: user", "type: standalone");
	assert_int_equal(c->type, CFG_TYPE_STANDALONE);
	cfg_free(c);
	c = accept_edit("  type: user\n", "");
	assert_int_equal(c->type, CFG_TYPE_USER);
	cfg_free(c);
}

static void test_pool_names(void **state)
{
	(void)state;
	REFUSE("c.yaml:30:13: spec.loadBalancer.addressPools[1].name: "
	       "\"pool1\" is also the name of addressPools[0] (line 26); give "
	       "each pool a unique name",
	       "name: pool2", "name: pool1");
	REFUSE("c.yaml:30:7: spec.loadBalancer.addressPools[1].name: required "
	       "field is missing; give the pool a unique name",
	       "- name: pool2\n      avoidBuggyIPs: true\n",
	       "- avoidBuggyIPs: true\n");
	REFUSE("c.yaml:30:13: spec.loadBalancer.addressPools[1].name: the name "
	       "is empty; give the pool a unique name",
	       "name: pool2", "name: ''");
	REFUSE("c.yaml:30:13: spec.loadBalancer.addressPools[1].name: expected "
	       "a single value, found a mapping",
	       "name: pool2", "name: {x: 1}");
}

static void test_pool_addresses(void **state)
{
	(void)state;
	REFUSE("c.yaml:29:35: spec.loadBalancer.addressPools[0].addresses[1]: "
	       "\"198.18.0.1 - 198.18.0.4\" is not a valid range: spaces are "
	       "not allowed in a range; write first-last "
	       "(198.18.0.1-198.18.0.4) or a CIDR prefix (198.18.0.0/29)",
	       "198.18.0.1-198.18.0.4", "198.18.0.1 - 198.18.0.4");
	REFUSE("c.yaml:29:19: spec.loadBalancer.addressPools[0].addresses[0]: "
	       "\"198.18.0.65/27\" is not a valid range: host bits set after "
	       "the prefix length; write first-last (198.18.0.64-198.18.0.95) "
	       "or a CIDR prefix (198.18.0.64/27)",
	       "198.18.0.64/27", "198.18.0.65/27");
	REFUSE("c.yaml:29:35: spec.loadBalancer.addressPools[0].addresses[1]: "
	       "\"198.18.0.4-198.18.0.1\" is not a valid range: the first "
	       "address is above the last; write first-last "
	       "(198.18.0.1-198.18.0.4)",
	       "198.18.0.1-198.18.0.4", "198.18.0.4-198.18.0.1");
	REFUSE("c.yaml:34:9: spec.loadBalancer.addressPools[1].addresses[0]: "
	       "\"203.0.113.7\" is not a valid range: neither a CIDR prefix "
	       "nor a first-last range; write first-last "
	       "(203.0.113.7-203.0.113.7) or a CIDR prefix (203.0.113.7/32)",
	       "203.0.113.0/24", "203.0.113.7");
	REFUSE("c.yaml:34:9: spec.loadBalancer.addressPools[1].addresses[0]: "
	       "\"pool\" is not a valid range: neither a CIDR prefix nor a "
	       "first-last range; write first-last (198.51.100.1-198.51.100.9) "
	       "or a CIDR prefix (198.51.100.0/28)",
	       "203.0.113.0/24", "pool");
	REFUSE("c.yaml:34:9: spec.loadBalancer.addressPools[1].addresses[0]: "
	       "expected a single value, found a list",
	       "203.0.113.0/24", "[203.0.113.0/24]");
	REFUSE("c.yaml:29:18: spec.loadBalancer.addressPools[0].addresses: "
	       "the list is empty; list at least one range",
	       "[198.18.0.64/27, 198.18.0.1-198.18.0.4]", "[]");
	REFUSE("c.yaml:26:7: spec.loadBalancer.addressPools[0].addresses: "
	       "required field is missing; list the pool's ranges",
	       "      addresses: [198.18.0.64/27, 198.18.0.1-198.18.0.4]\n",
	       "");
	/* a scalar where the list belongs */
	REFUSE("c.yaml:29:18: spec.loadBalancer.addressPools[0].addresses: "
	       "expected a list, found a scalar; write a list here",
	       "[198.18.0.64/27, 198.18.0.1-198.18.0.4]", "198.18.0.64/27");
	REFUSE("c.yaml:26:7: spec.loadBalancer.addressPools[0]: expected a "
	       "mapping (key: value pairs), found a scalar",
	       "    - name: pool1\n      avoidBuggyIPs: false\n"
	       "      manualAssign: false\n"
	       "      addresses: [198.18.0.64/27, 198.18.0.1-198.18.0.4]\n",
	       "    - pool1\n");
	REFUSE("c.yaml:26:7: spec.loadBalancer.addressPools: expected a list",
	       "    addressPools:\n    - name: pool1\n      avoidBuggyIPs: "
	       "false\n      manualAssign: false\n      addresses: "
	       "[198.18.0.64/27, 198.18.0.1-198.18.0.4]\n    - name: pool2\n"
	       "      avoidBuggyIPs: true\n      manualAssign: true\n      "
	       "addresses:\n      - 203.0.113.0/24\n",
	       "    addressPools:\n      pool1: [198.18.0.64/27]\n");
}

static void test_pool_booleans(void **state)
{
	struct cfg_cluster *c;
	(void)state;

	REFUSE("c.yaml:27:22: spec.loadBalancer.addressPools[0].avoidBuggyIPs: "
	       "'true' is not a boolean; write true or false (without quotes)",
	       "avoidBuggyIPs: false", "avoidBuggyIPs: \"true\"");
	REFUSE("c.yaml:32:21: spec.loadBalancer.addressPools[1].manualAssign: "
	       "'yes' is not a boolean; write true or false",
	       "manualAssign: true", "manualAssign: yes");
	/* absent means false */
	c = accept_edit("      manualAssign: true\n", "");
	assert_false(c->pools[1].manual_assign);
	cfg_free(c);
}

static void test_pool_overlaps(void **state)
{
	char *y;
	(void)state;

	REFUSE("c.yaml:34:9: spec.loadBalancer.addressPools[1].addresses[0]: "
	       "\"198.18.0.90-198.18.0.100\" overlaps \"198.18.0.64/27\" of "
	       "pool \"pool1\" (addressPools[0].addresses[0], line 29); make "
	       "the ranges of all pools disjoint",
	       "203.0.113.0/24", "198.18.0.90-198.18.0.100");
	/* within one pool; reported at the range written later */
	REFUSE("c.yaml:29:58: spec.loadBalancer.addressPools[0].addresses[2]: "
	       "\"198.18.0.94/31\" overlaps \"198.18.0.64/27\" of pool "
	       "\"pool1\" (addressPools[0].addresses[0], line 29)",
	       "198.18.0.1-198.18.0.4",
	       "198.18.0.1-198.18.0.4, 198.18.0.94/31");
	REFUSE("c.yaml:29:58: spec.loadBalancer.addressPools[0].addresses[2]: "
	       "\"198.18.0.64/27\" overlaps \"198.18.0.64/27\"",
	       "198.18.0.1-198.18.0.4",
	       "198.18.0.1-198.18.0.4, 198.18.0.64/27");
	/* touching is fine */
	cfg_free(accept_edit("203.0.113.0/24", "198.18.0.96/27"));
	/* a range inside a wide one is caught even when one in between
	 * ends earlier */
	y = edit(VALID, "203.0.113.0/24",
		 "198.18.1.0/24\n      - 198.18.1.5-198.18.1.6\n"
		 "      - 198.18.1.200/29",
		 (const char *)NULL);
	refuse(y, 2, "c.yaml:36:9: spec.loadBalancer.addressPools[1]."
		     "addresses[2]: \"198.18.1.200/29\" overlaps "
		     "\"198.18.1.0/24\" of pool \"pool2\" "
		     "(addressPools[1].addresses[0], line 34)");
	free(y);
}

static void test_avoid_buggy_empties_pool(void **state)
{
	struct cfg_cluster *c;
	(void)state;

	REFUSE("c.yaml:31:22: spec.loadBalancer.addressPools[1].avoidBuggyIPs: "
	       "every address of the pool ends in .0 or .255, so "
	       "avoidBuggyIPs: true leaves it empty; add addresses ending in "
	       ".1 to .254, or set avoidBuggyIPs: false",
	       "203.0.113.0/24", "203.0.113.255-203.0.114.0");
	REFUSE("avoidBuggyIPs: true leaves it empty",
	       "203.0.113.0/24", "203.0.113.0/32");
	c = accept_edit("203.0.113.0/24", "203.0.113.255-203.0.114.1");
	assert_true(cfg_pool_usable(&c->pools[1], ip("203.0.114.1")));
	assert_false(cfg_pool_usable(&c->pools[1], ip("203.0.114.0")));
	cfg_free(c);
	c = accept_edit("avoidBuggyIPs: true", "avoidBuggyIPs: false");
	assert_true(cfg_pool_usable(&c->pools[1], ip("203.0.113.255")));
	cfg_free(c);
}

static void test_lb_nodes(void **state)
{
	(void)state;
	REFUSE("c.yaml:39:9: spec.loadBalancer.nodePoolSpec.nodes[1].address: "
	       "required field is missing; add the node's address",
	       "- address: 198.18.0.33\n        labels",
	       "- k8sIP: 198.18.0.34\n        labels");
	REFUSE("c.yaml:37:18: spec.loadBalancer.nodePoolSpec.nodes[0].address: "
	       "\"192.0.2.004\" is not an IPv4 address",
	       "192.0.2.4", "192.0.2.004");
	REFUSE("c.yaml:38:16: spec.loadBalancer.nodePoolSpec.nodes[0].k8sIP: "
	       "\"lb-1\" is not an IPv4 address",
	       "k8sIP: 198.18.0.32", "k8sIP: lb-1");
	REFUSE("c.yaml:39:18: spec.loadBalancer.nodePoolSpec.nodes[1].address: "
	       "198.18.0.32 is also the cluster address of nodes[0] (line 38); "
	       "list each node once, with its own address",
	       "198.18.0.33", "198.18.0.32");
	/* management addresses may repeat; cluster addresses may not */
	cfg_free(accept_edit("- address: 198.18.0.33\n",
			     "- address: 192.0.2.4\n        k8sIP: "
			     "198.18.0.33\n"));
	REFUSE("c.yaml:38:16: spec.loadBalancer.nodePoolSpec.nodes[0].k8sIP: "
	       "198.18.0.8 is also the controlPlaneVIP; give the node and the "
	       "VIP different addresses",
	       "k8sIP: 198.18.0.32", "k8sIP: 198.18.0.8");
	/* The ingressVIP is a pool's: the pool holds the node's address too. */
	char *y = EDIT("198.18.0.33", "198.18.0.2");
	refuse(y, 2, "c.yaml:39:18: spec.loadBalancer.nodePoolSpec.nodes[1]."
	       "address: 198.18.0.2 is also the ingressVIP");
	free(y);
	REFUSE("c.yaml:37:9: spec.loadBalancer.nodePoolSpec.nodes[0]: "
	       "expected a mapping (key: value pairs), found a scalar",
	       "- address: 192.0.2.4\n        k8sIP: 198.18.0.32\n",
	       "- 192.0.2.4\n");
	REFUSE("c.yaml:36:14: spec.loadBalancer.nodePoolSpec.nodes: expected a "
	       "list, found a mapping",
	       "      nodes:\n      - address: 192.0.2.4\n        k8sIP: "
	       "198.18.0.32\n      - address: 198.18.0.33\n        labels: "
	       "{rack: r1}\n", "      nodes: {address: 192.0.2.4}\n");
}

/* No pool address may be a node's (its address or its k8sIP), and no pool
 * may overlap the pod or the Service network: reported on the pool. */
static void test_pools_outside_nodes_and_networks(void **state)
{
	(void)state;
	REFUSE("c.yaml:29:19: spec.loadBalancer.addressPools[0].addresses[0]: "
	       "\"198.18.0.64/27\" holds 198.18.0.70, the address of "
	       "spec.loadBalancer.nodePoolSpec.nodes[1] (line 39), so a "
	       "Service could be given that node's address; take the address "
	       "out of the pool",
	       "198.18.0.33", "198.18.0.70");
	/* The management address of a node with a k8sIP as well. */
	REFUSE("c.yaml:34:9: spec.loadBalancer.addressPools[1].addresses[0]: "
	       "\"203.0.113.0/24\" holds 203.0.113.4, the address of "
	       "spec.loadBalancer.nodePoolSpec.nodes[0] (line 37)",
	       "address: 192.0.2.4", "address: 203.0.113.4");
	REFUSE("c.yaml:29:19: spec.loadBalancer.addressPools[0].addresses[0]: "
	       "\"198.18.0.64/27\" holds 198.18.0.65, the k8sIP of "
	       "spec.loadBalancer.nodePoolSpec.nodes[0] (line 37)",
	       "k8sIP: 198.18.0.32", "k8sIP: 198.18.0.65");
	REFUSE("c.yaml:29:35: spec.loadBalancer.addressPools[0].addresses[1]: "
	       "\"198.18.0.1-198.18.0.4\" holds 198.18.0.3, the address of "
	       "spec.controlPlane.nodePoolSpec.nodes[1] (line 18)",
	       "{address: 198.18.0.11}", "{address: 198.18.0.3}");
	REFUSE("c.yaml:34:9: spec.loadBalancer.addressPools[1].addresses[0]: "
	       "\"198.19.7.0/24\" overlaps 198.19.0.0/16, "
	       "spec.clusterNetwork.pods.cidrBlocks[0] (line 14); take the "
	       "pool's addresses from outside the pod and Service networks",
	       "203.0.113.0/24", "198.19.7.0/24");
	REFUSE("c.yaml:34:9: spec.loadBalancer.addressPools[1].addresses[0]: "
	       "\"198.18.0.128-198.18.128.0\" overlaps 198.18.128.0/20, "
	       "spec.clusterNetwork.services.cidrBlocks[0] (line 15)",
	       "203.0.113.0/24", "198.18.0.128-198.18.128.0");
	REFUSE("c.yaml:14:40: spec.clusterNetwork.pods.cidrBlocks[1]: "
	       "\"10.0.0.1/8\" is not a CIDR block: host bits set after the "
	       "prefix length; write a prefix such as 192.168.0.0/16",
	       "198.19.0.0/16]", "198.19.0.0/16, 10.0.0.1/8]");
	/* IPv6 blocks (dual stack) are no concern of bmlb's. */
	cfg_free(accept_edit("[198.19.0.0/16]", "[198.19.0.0/16, fd00::/48]"));
}

/* Until BGP lands (SPEC.md §11), type: bgp is refused, not served as
 * layer 2. */
static void test_lb_type(void **state)
{
	(void)state;
	cfg_free(accept_edit("    mode: bundled\n",
			     "    mode: bundled\n    type: layer2\n"));
	REFUSE("c.yaml:21:11: spec.loadBalancer.type: BGP is not yet "
	       "supported: bmlb announces VIPs on layer 2 only; write type: "
	       "layer2, or remove type",
	       "    mode: bundled\n", "    mode: bundled\n    type: bgp\n");
	REFUSE("c.yaml:21:11: spec.loadBalancer.type: \"l3\" is not a "
	       "load-balancer type bmlb implements; write layer2",
	       "    mode: bundled\n", "    mode: bundled\n    type: l3\n");
}

static void test_control_plane_nodes(void **state)
{
	struct cfg_cluster *c;
	size_t n;
	(void)state;

	REFUSE("c.yaml:18:39: spec.controlPlane.nodePoolSpec.nodes[1].address: "
	       "required field is missing",
	       "{address: 198.18.0.11}", "{name: cp2}");
	REFUSE("c.yaml:18:25: spec.controlPlane.nodePoolSpec.nodes[0].address: "
	       "\"198.18.0.10/24\" is not an IPv4 address",
	       "198.18.0.10}", "198.18.0.10/24}");
	REFUSE("c.yaml:18:49: spec.controlPlane.nodePoolSpec.nodes[1].address: "
	       "198.18.0.10 is also the cluster address of nodes[0] (line 18)",
	       "198.18.0.11}", "198.18.0.10}");
	REFUSE("c.yaml:18:49: spec.controlPlane.nodePoolSpec.nodes[1].address: "
	       "198.18.0.8 is also the controlPlaneVIP",
	       "198.18.0.11}", "198.18.0.8}");
	/* an LB node may also be a control-plane node */
	c = accept_edit("198.18.0.33", "198.18.0.11");
	cfg_free(c);
	/* no LB list: the control-plane nodes serve */
	c = accept_edit("    nodePoolSpec:\n      nodes:\n      - address: "
			"192.0.2.4\n", "    nodePoolSpec:\n      nodes: []\n"
			"      x:\n      - address: 192.0.2.4\n");
	assert_true(c->lb_nodes_from_cp);
	assert_ptr_equal(cfg_lb_nodes(c, &n), c->cp_nodes);
	assert_int_equal(n, 2);
	cfg_free(c);
}

static void test_no_lb_node(void **state)
{
	char *y = EDIT("      nodes: [{address: 198.18.0.10}, "
		       "{address: 198.18.0.11}]\n", "      nodes: []\n",
		       "    nodePoolSpec:\n      nodes:\n      - address: "
		       "192.0.2.4\n        k8sIP: 198.18.0.32\n      - "
		       "address: 198.18.0.33\n        labels: {rack: r1}\n",
		       "");
	(void)state;

	refuse(y, 1, "c.yaml:20:5: spec.loadBalancer.nodePoolSpec.nodes: no "
		     "load-balancer node: neither this list nor spec."
		     "controlPlane.nodePoolSpec.nodes names a node; list the "
		     "nodes that announce the VIPs in one of them");
	free(y);
}

static void test_document_shape(void **state)
{
	(void)state;
	REFUSE("c.yaml:1:13: apiVersion: \"cluster.x-k8s.io/v1beta1\" is not "
	       "the bare-metal cluster API; write baremetal.cluster.gke.io/v1",
	       "baremetal.cluster.gke.io/v1\n", "cluster.x-k8s.io/v1beta1\n");
	REFUSE("c.yaml:1:1: apiVersion: required field is missing; add "
	       "apiVersion: baremetal.cluster.gke.io/v1",
	       "apiVersion: baremetal.cluster.gke.io/v1\n", "");
	REFUSE("c.yaml:9:3: spec.loadBalancer: required field is missing; add "
	       "loadBalancer with mode: bundled, vips and addressPools",
	       "  loadBalancer:\n", "  loadBalancerX:\n");
	refuse("kind: Cluster\napiVersion: baremetal.cluster.gke.io/v1\n", 1,
	       "c.yaml:1:1: spec: required field is missing; add the "
	       "cluster's spec");
	REFUSE("c.yaml:4:9: metadata.name: expected a single value, found a "
	       "list",
	       "name: bm", "name: [bm]");
	REFUSE("c.yaml:6:16: metadata.annotations: expected a mapping",
	       "  annotations:\n    preview.baremetal.cluster.gke.io/"
	       "dpv2-lbmode-dsr: enable\n", "  annotations: [x]\n");
	REFUSE("c.yaml:8:7: spec: expected a mapping (key: value pairs), found "
	       "a list",
	       "spec:\n", "spec: []\nx:\n");
}

static void test_documents(void **state)
{
	char *y;
	(void)state;

	refuse("", 1, "c.yaml:1:1: holds no kind: Cluster document; add the "
		      "cluster's resource (apiVersion: baremetal.cluster.gke."
		      "io/v1, kind: Cluster) as bmctl writes it");
	refuse("# only a comment\n---\n", 1, "c.yaml:1:1: holds no kind: "
	       "Cluster document");
	refuse("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", 1,
	       "c.yaml:1:1: holds no kind: Cluster document");
	assert_true(asprintf(&y, "%s---\n%s", VALID, VALID) > 0);
	refuse(y, 1, "c.yaml:44:7: kind: a second Cluster document (the first "
		     "is at line 2); keep exactly one Cluster per file");
	free(y);
	assert_true(asprintf(&y, "- a list\n---\n%s", VALID) > 0);
	refuse(y, 1, "c.yaml:1:1: the document is a list; each document must "
		     "be a mapping (apiVersion: ..., kind: ...)");
	free(y);
	assert_true(asprintf(&y, "%s---\njust text\n", VALID) > 0);
	refuse(y, 1, "c.yaml:43:1: the document is a scalar");
	free(y);
}

static void test_yaml_problems(void **state)
{
	static const char garbage[] = "\x7f" "ELF\x02\x01\x01\x00\x00\xff\xfe"
				      "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
	struct diag_list dl = {0};
	char *y;
	(void)state;

	assert_null(cfg_parse("c.yaml", garbage, sizeof(garbage) - 1, &dl));
	assert_diag(&dl, "c.yaml:1:", "YAML syntax error");
	diag_free(&dl);
	/* duplicate keys in the Cluster: refused, other problems still found */
	y = edit(VALID, "  type: user\n", "  type: user\n  type: admin\n",
		 "mode: bundled", "mode: manual", (const char *)NULL);
	refuse(y, 2, "c.yaml:10:3: spec.type: duplicate key (first at line 9, "
		     "column 3)");
	assert_null(parse(y, &dl));
	assert_diag(&dl, "c.yaml:21:11: spec.loadBalancer.mode: \"manual\"");
	diag_free(&dl);
	free(y);
	/* a broken document elsewhere in the file refuses the file */
	assert_true(asprintf(&y, "%s---\nkind: Secret\nkind: Secret\n", VALID)
		    > 0);
	refuse(y, 1, "c.yaml:44:1: kind: duplicate key");
	free(y);
	/* a syntax error after a valid Cluster */
	assert_true(asprintf(&y, "%s---\na: [1, 2\n", VALID) > 0);
	refuse(y, 1, "YAML syntax error");
	free(y);
	refuse("kind: Cluster\nspec: {a: *nothing}\n", 3,
	       "alias to an undefined anchor");
}

static void test_all_problems_at_once(void **state)
{
	struct diag_list dl = {0};
	char *y = edit(VALID, "name: bm", "name: [bm]", "forwardMode: dsr",
		       "forwardMode: fast", "mode: bundled", "mode: l2",
		       "6443", "0", "198.18.0.8\n", "198.18.0.70\n",
		       "198.18.0.1-198.18.0.4", "198.18.0.1 - 198.18.0.4",
		       "name: pool2", "name: pool1", "192.0.2.4", "192.0.2",
		       (const char *)NULL);
	(void)state;

	assert_null(parse(y, &dl));
	assert_int_equal(dl.n, 8);
	assert_diag(&dl, "c.yaml:4:9: metadata.name:");
	assert_diag(&dl, "c.yaml:12:18: spec.clusterNetwork.forwardMode:");
	assert_diag(&dl, "c.yaml:20:11: spec.loadBalancer.mode:");
	assert_diag(&dl, "c.yaml:21:33: spec.loadBalancer.ports.");
	assert_diag(&dl, "c.yaml:23:24: spec.loadBalancer.vips."
		    "controlPlaneVIP:");
	assert_diag(&dl, "c.yaml:29:35: spec.loadBalancer.addressPools[0]."
		    "addresses[1]:");
	assert_diag(&dl, "c.yaml:30:13: spec.loadBalancer.addressPools[1]."
		    "name:");
	assert_diag(&dl, "c.yaml:37:18: spec.loadBalancer.nodePoolSpec."
		    "nodes[0].address:");
	diag_free(&dl);
	free(y);
}

static char *write_temp(const char *text, off_t size)
{
	char *path = strdup("/tmp/test_config.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	if (size)
		assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
	return path;
}

static void test_load_files(void **state)
{
	struct diag_list dl = {0};
	struct cfg_cluster *c;
	char *path, want[256];
	(void)state;

	path = write_temp(VALID, 0);
	c = cfg_load(path, &dl);
	assert_int_equal(dl.n, 0);
	assert_non_null(c);
	assert_string_equal(c->file, path);
	cfg_free(c);
	unlink(path);
	free(path);

	path = write_temp(VALID, 50 << 20);
	assert_null(cfg_load(path, &dl));
	assert_int_equal(dl.n, 1);
	snprintf(want, sizeof(want), "%s:0:0: file is 52428800 bytes, above "
		 "the limit of 4194304 bytes", path);
	assert_diag(&dl, want);
	diag_free(&dl);
	unlink(path);

	assert_null(cfg_load(path, &dl));
	assert_int_equal(dl.n, 1);
	assert_diag(&dl, "cannot open: No such file or directory");
	diag_free(&dl);
	free(path);
}

/* Checks cfg_check_change's verdict on prev -> next and, when refused,
 * its only diagnostic. */
static void change(const char *prev_yaml, const char *next_yaml,
		   const char *want)
{
	struct diag_list dl = {0};
	struct cfg_cluster *prev = parse(prev_yaml, &dl);
	struct cfg_cluster *next = parse(next_yaml, &dl);

	diag_dump(&dl);
	assert_non_null(prev);
	assert_non_null(next);
	assert_int_equal(cfg_check_change(prev, next, &dl), want == NULL);
	if (want) {
		assert_int_equal(dl.n, 1);
		assert_diag(&dl, want);
	} else {
		diag_dump(&dl);
		assert_int_equal(dl.n, 0);
	}
	cfg_free(prev);
	cfg_free(next);
	diag_free(&dl);
}

/* From VALID to VALID with the (from, to) edits. */
static void change_to(const char *want, ...)
{
	va_list ap;
	char *next;

	va_start(ap, want);
	next = vedit(VALID, ap);
	va_end(ap);
	change(VALID, next, want);
	free(next);
}

static void test_change_mode(void **state)
{
	/* SNAT by forwardMode, by the annotation, DSR by the annotation */
	char *snat = EDIT("dsr: enable", "dsr: disable", "forwardMode: dsr",
			  "forwardMode: snat");
	char *ann_snat = EDIT("dsr: enable", "dsr: disable",
			      "    forwardMode: dsr\n", "");
	char *ann_dsr = EDIT("    forwardMode: dsr\n", "");
	(void)state;

	/* the same mode, decided another way */
	change(VALID, ann_dsr, NULL);
	change(snat, ann_snat, NULL);
	change(ann_snat, snat, NULL);
	/* a new mode */
	change(ann_snat, VALID,
	       "c.yaml:12:18: spec.clusterNetwork.forwardMode: the forwarding "
	       "mode is fixed when the cluster is created: was snat, now dsr; "
	       "recreate the cluster to change it");
	change(VALID, snat, "c.yaml:12:18: spec.clusterNetwork.forwardMode: "
	       "the forwarding mode is fixed when the cluster is created: was "
	       "dsr, now snat; recreate the cluster to change it");
	change(VALID, ann_snat,
	       "c.yaml:7:55: metadata.annotations.preview.baremetal.cluster."
	       "gke.io/dpv2-lbmode-dsr: the forwarding mode is fixed when the "
	       "cluster is created: was dsr, now snat; recreate the cluster");
	free(snat);
	free(ann_snat);
	free(ann_dsr);
}

static void test_change_default_mode(void **state)
{
	char *prev = EDIT("  annotations:\n", "  labels:\n");
	char *next = EDIT("  annotations:\n", "  labels:\n",
			  "    forwardMode: dsr\n", "");
	(void)state;

	change(prev, next, "c.yaml:12:5: spec.clusterNetwork.forwardMode: the "
	       "forwarding mode is fixed when the cluster is created: was dsr, "
	       "now snat; recreate the cluster to change it (snat is the "
	       "default when forwardMode is not set)");
	change(next, next, NULL);
	free(prev);
	free(next);
}

static void test_change_pools(void **state)
{
	(void)state;
	change(VALID, VALID, NULL);
	/* avoidBuggyIPs and manualAssign may change */
	change_to(NULL, "avoidBuggyIPs: true", "avoidBuggyIPs: false",
		  "manualAssign: false", "manualAssign: true", NULL);
	/* the same addresses written another way */
	change_to(NULL, "198.18.0.64/27, 198.18.0.1-198.18.0.4",
		  "198.18.0.80/28, 198.18.0.1/32, 198.18.0.2-198.18.0.4, "
		  "198.18.0.64-198.18.0.79", NULL);
	/* a new pool */
	change_to(NULL, "    nodePoolSpec:\n      nodes:\n      - address: "
		  "192.0.2",
		  "    - name: pool3\n      addresses: [198.51.100.0/24]\n"
		  "    nodePoolSpec:\n      nodes:\n      - address: 192.0.2",
		  NULL);
	/* addresses changed */
	change_to("c.yaml:29:18: spec.loadBalancer.addressPools[0].addresses: "
		  "the addresses of pool \"pool1\" are fixed when the cluster "
		  "is created: was 198.18.0.1-198.18.0.4, 198.18.0.64/27, now "
		  "198.18.0.1-198.18.0.5, 198.18.0.64/27; restore them, and "
		  "add a new pool for more addresses",
		  "198.18.0.1-198.18.0.4", "198.18.0.1-198.18.0.5", NULL);
	change_to("addressPools[1].addresses: the addresses of pool \"pool2\" "
		  "are fixed when the cluster is created: was 203.0.113.0/24, "
		  "now 203.0.113.0/25;",
		  "203.0.113.0/24", "203.0.113.0/25", NULL);
	/* pool removed, or renamed */
	change_to("c.yaml:26:5: spec.loadBalancer.addressPools: pool \"pool2\" "
		  "(203.0.113.0/24) was removed, but a pool's name and "
		  "addresses are fixed when the cluster is created; put it "
		  "back (pools may be added, not removed or renamed)",
		  "    - name: pool2\n      avoidBuggyIPs: true\n      "
		  "manualAssign: true\n      addresses:\n      - "
		  "203.0.113.0/24\n", "", NULL);
	change_to("c.yaml:26:5: spec.loadBalancer.addressPools: pool \"pool1\" "
		  "(198.18.0.1-198.18.0.4, 198.18.0.64/27) was removed",
		  "name: pool1", "name: first", NULL);
}

static void test_change_all_pools_removed(void **state)
{
	struct diag_list dl = {0};
	char *ny = edit(VALID, "    addressPools:\n", "    addressPoolsX:\n",
			"      ingressVIP: 198.18.0.2\n", "",
			(const char *)NULL);
	struct cfg_cluster *prev = parse(VALID, &dl), *next = parse(ny, &dl);
	(void)state;

	diag_dump(&dl);
	assert_non_null(next);
	assert_false(cfg_check_change(prev, next, &dl));
	assert_int_equal(dl.n, 2);
	/* no addressPools: located at spec.loadBalancer */
	assert_diag(&dl, "c.yaml:20:5: spec.loadBalancer.addressPools: pool "
		    "\"pool1\"");
	assert_diag(&dl, "c.yaml:20:5: spec.loadBalancer.addressPools: pool "
		    "\"pool2\"");
	cfg_free(prev);
	cfg_free(next);
	diag_free(&dl);
	free(ny);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_file),
		cmocka_unit_test(test_pool_lookups),
		cmocka_unit_test(test_bmctl_file),
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_load_mode),
		cmocka_unit_test(test_forward_mode_value),
		cmocka_unit_test(test_dsr_needs_flat),
		cmocka_unit_test(test_annotation_matrix),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_control_plane_vip),
		cmocka_unit_test(test_ingress_vip),
		cmocka_unit_test(test_pool_names),
		cmocka_unit_test(test_pool_addresses),
		cmocka_unit_test(test_pool_booleans),
		cmocka_unit_test(test_pool_overlaps),
		cmocka_unit_test(test_avoid_buggy_empties_pool),
		cmocka_unit_test(test_lb_nodes),
		cmocka_unit_test(test_pools_outside_nodes_and_networks),
		cmocka_unit_test(test_lb_type),
		cmocka_unit_test(test_control_plane_nodes),
		cmocka_unit_test(test_no_lb_node),
		cmocka_unit_test(test_document_shape),
		cmocka_unit_test(test_documents),
		cmocka_unit_test(test_yaml_problems),
		cmocka_unit_test(test_all_problems_at_once),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_change_mode),
		cmocka_unit_test(test_change_default_mode),
		cmocka_unit_test(test_change_pools),
		cmocka_unit_test(test_change_all_pools_removed),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
