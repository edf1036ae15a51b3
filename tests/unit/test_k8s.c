/* Unit tests of src/k8s: manifests as kubectl prints them, Lists, skipped
 * kinds, every invalid-object rule, duplicates, order independence,
 * creation times, endpoint readiness and the lookups. */
#include "helpers.h"

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s/objects.h"
#include "lib/ipv4.h"

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(ipv4_parse(s, &a), 0);
	return a;
}

static struct k8s_objects *parse(const char *yaml, struct diag_list *dl)
{
	struct k8s_objects *o = k8s_parse("t.yaml", yaml, strlen(yaml), dl);

	assert_non_null(o);
	return o;
}

/* A manifests directory under /tmp: create, fill, load, remove. */
static char *tmpdir_new(void)
{
	char *dir = strdup("/tmp/bmlb-test-k8s.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tmpdir_free(char *dir)
{
	assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

/* --- kubectl get -o yaml ---------------------------------------------- */

static const char kubectl_node[] =
	"apiVersion: v1\n"
	"kind: Node\n"
	"metadata:\n"
	"  annotations:\n"
	"    node.alpha.kubernetes.io/ttl: \"0\"\n"
	"    volumes.kubernetes.io/controller-managed-attach-detach: \"true\"\n"
	"  creationTimestamp: \"2024-04-30T08:00:00Z\"\n"
	"  labels:\n"
	"    baremetal.cluster.gke.io/lbnode: \"true\"\n"
	"    kubernetes.io/hostname: lb-1\n"
	"    kubernetes.io/os: linux\n"
	"  managedFields:\n"
	"  - apiVersion: v1\n"
	"    fieldsType: FieldsV1\n"
	"    fieldsV1:\n"
	"      f:metadata:\n"
	"        f:labels:\n"
	"          .: {}\n"
	"          f:kubernetes.io/hostname: {}\n"
	"    manager: kubelet\n"
	"    operation: Update\n"
	"    time: \"2024-04-30T08:00:00Z\"\n"
	"  name: lb-1\n"
	"  resourceVersion: \"4711\"\n"
	"  uid: 0b5f3c1e-8a0e-4f52-9d1b-3f1e2d4c5b6a\n"
	"spec:\n"
	"  podCIDR: 198.19.11.0/24\n"
	"  podCIDRs:\n"
	"  - 198.19.11.0/24\n"
	"  - fd00:10:244:1::/64\n"
	"  taints:\n"
	"  - effect: NoSchedule\n"
	"    key: node-role.kubernetes.io/control-plane\n"
	"status:\n"
	"  addresses:\n"
	"  - address: fd00::11\n"
	"    type: InternalIP\n"
	"  - address: 198.18.0.11\n"
	"    type: InternalIP\n"
	"  - address: lb-1\n"
	"    type: Hostname\n"
	"  allocatable:\n"
	"    cpu: \"4\"\n"
	"    memory: 8Gi\n"
	"  conditions:\n"
	"  - lastHeartbeatTime: \"2024-05-01T10:00:00Z\"\n"
	"    message: kubelet has sufficient memory available\n"
	"    reason: KubeletHasSufficientMemory\n"
	"    status: \"False\"\n"
	"    type: MemoryPressure\n"
	"  - lastHeartbeatTime: \"2024-05-01T10:00:00Z\"\n"
	"    message: kubelet is posting ready status\n"
	"    reason: KubeletReady\n"
	"    status: \"True\"\n"
	"    type: Ready\n"
	"  daemonEndpoints:\n"
	"    kubeletEndpoint:\n"
	"      Port: 10250\n"
	"  nodeInfo:\n"
	"    architecture: amd64\n"
	"    kubeletVersion: v1.30.2\n";

static const char kubectl_service[] =
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata:\n"
	"  annotations:\n"
	"    kubectl.kubernetes.io/last-applied-configuration: |\n"
	"      {\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
	"{\"name\":\"web\"}}\n"
	"    metallb.universe.tf/address-pool: pool1\n"
	"    metallb.universe.tf/allow-shared-ip: web-key\n"
	"    metallb.universe.tf/loadBalancerIPs: 198.51.100.10,2001:db8::10\n"
	"  creationTimestamp: \"2024-05-01T10:00:00Z\"\n"
	"  labels:\n"
	"    app: web\n"
	"  managedFields:\n"
	"  - apiVersion: v1\n"
	"    fieldsType: FieldsV1\n"
	"    fieldsV1:\n"
	"      f:spec:\n"
	"        f:ports:\n"
	"          .: {}\n"
	"          k:{\"port\":80,\"protocol\":\"TCP\"}:\n"
	"            .: {}\n"
	"            f:port: {}\n"
	"    manager: kubectl-client-side-apply\n"
	"    operation: Update\n"
	"    time: \"2024-05-01T10:00:00Z\"\n"
	"  name: web\n"
	"  namespace: shop\n"
	"  resourceVersion: \"12345\"\n"
	"  uid: 6f1d2c1e-1b7a-4d0e-9a55-0d7e9b1c2f3a\n"
	"spec:\n"
	"  allocateLoadBalancerNodePorts: true\n"
	"  clusterIP: 198.18.200.10\n"
	"  clusterIPs:\n"
	"  - 198.18.200.10\n"
	"  externalTrafficPolicy: Local\n"
	"  healthCheckNodePort: 31234\n"
	"  internalTrafficPolicy: Cluster\n"
	"  ipFamilies:\n"
	"  - IPv4\n"
	"  ipFamilyPolicy: SingleStack\n"
	"  loadBalancerIP: 198.51.100.10\n"
	"  ports:\n"
	"  - name: http\n"
	"    nodePort: 30080\n"
	"    port: 80\n"
	"    protocol: TCP\n"
	"    targetPort: http-web\n"
	"  - name: dns\n"
	"    nodePort: 30053\n"
	"    port: 53\n"
	"    protocol: UDP\n"
	"    targetPort: 5353\n"
	"  selector:\n"
	"    app: web\n"
	"  sessionAffinity: None\n"
	"  type: LoadBalancer\n"
	"status:\n"
	"  loadBalancer:\n"
	"    ingress:\n"
	"    - ip: 198.51.100.10\n"
	"      ipMode: VIP\n"
	"    - ip: 2001:db8::10\n"
	"    - hostname: lb.example.com\n";

static const char kubectl_slice[] =
	"addressType: IPv4\n"
	"apiVersion: discovery.k8s.io/v1\n"
	"endpoints:\n"
	"- addresses:\n"
	"  - 198.19.1.5\n"
	"  conditions:\n"
	"    ready: true\n"
	"    serving: true\n"
	"    terminating: false\n"
	"  nodeName: worker-1\n"
	"  targetRef:\n"
	"    kind: Pod\n"
	"    name: web-5d8f7c9b4-abcde\n"
	"    namespace: shop\n"
	"    uid: 1c2d3e4f-0000-4000-8000-000000000001\n"
	"- addresses:\n"
	"  - 198.19.2.7\n"
	"  conditions:\n"
	"    ready: false\n"
	"    serving: true\n"
	"    terminating: true\n"
	"  nodeName: worker-2\n"
	"kind: EndpointSlice\n"
	"metadata:\n"
	"  annotations:\n"
	"    endpoints.kubernetes.io/last-change-trigger-time: "
	"\"2024-05-01T10:00:05Z\"\n"
	"  creationTimestamp: \"2024-05-01T10:00:01Z\"\n"
	"  generateName: web-\n"
	"  generation: 3\n"
	"  labels:\n"
	"    endpointslice.kubernetes.io/managed-by: "
	"endpointslice-controller.k8s.io\n"
	"    kubernetes.io/service-name: web\n"
	"  name: web-x7k2p\n"
	"  namespace: shop\n"
	"  ownerReferences:\n"
	"  - apiVersion: v1\n"
	"    blockOwnerDeletion: true\n"
	"    controller: true\n"
	"    kind: Service\n"
	"    name: web\n"
	"    uid: 6f1d2c1e-1b7a-4d0e-9a55-0d7e9b1c2f3a\n"
	"  resourceVersion: \"12350\"\n"
	"  uid: 9a8b7c6d-0000-4000-8000-000000000002\n"
	"ports:\n"
	"- name: http\n"
	"  port: 8080\n"
	"  protocol: TCP\n"
	"- name: dns\n"
	"  port: 5353\n"
	"  protocol: UDP\n";

static void test_kubectl_output(void **state)
{
	struct diag_list dl = {0};
	char *dir = tmpdir_new();
	char *all = NULL, path[512];
	(void)state;

	assert_true(asprintf(&all, "%s---\n%s", kubectl_service,
			     kubectl_slice) > 0);
	write_file(dir, "node.yaml", kubectl_node);
	write_file(dir, "web.yml", all);
	free(all);

	struct k8s_objects *o = k8s_load_dir(dir, &dl);

	assert_non_null(o);
	if (dl.n)
		diag_dump(&dl);
	assert_int_equal(dl.n, 0);
	assert_int_equal(o->nfiles, 2);
	assert_int_equal(o->nnodes, 1);
	assert_int_equal(o->nservices, 1);
	assert_int_equal(o->nslices, 1);

	const struct k8s_node *n = &o->nodes[0];

	assert_string_equal(n->name, "lb-1");
	assert_int_equal(n->nlabels, 3);
	assert_string_equal(n->labels[0].key, K8S_LABEL_LBNODE);
	assert_string_equal(n->labels[0].value, "true");
	assert_string_equal(n->labels[2].key, "kubernetes.io/os");
	assert_string_equal(n->labels[2].value, "linux");
	assert_int_equal(n->internal_ip, ip("198.18.0.11"));
	assert_int_equal(n->npod_cidrs, 1); /* deduplicated, IPv6 skipped */
	assert_int_equal(n->pod_cidrs[0], ip("198.19.11.0"));
	assert_int_equal(n->pod_cidr_lens[0], 24);
	assert_true(n->ready);
	snprintf(path, sizeof(path), "%s/node.yaml", dir);
	assert_string_equal(n->origin.file, path);
	assert_int_equal(n->origin.line, 1);
	assert_int_equal(n->origin.col, 1);
	assert_string_equal(n->origin.path, "");

	const struct k8s_service *s = &o->services[0];

	assert_string_equal(s->namespace_, "shop");
	assert_string_equal(s->name, "web");
	assert_int_equal(s->type, K8S_SVC_LOADBALANCER);
	assert_int_equal(s->created, 1714557600);
	assert_true(s->local);
	assert_int_equal(s->lb_ip, ip("198.51.100.10"));
	assert_int_equal(s->ann_ip, ip("198.51.100.10"));
	assert_string_equal(s->ann_pool, "pool1");
	assert_string_equal(s->share_key, "web-key");
	assert_int_equal(s->ningress_ips, 1);
	assert_int_equal(s->ingress_ips[0], ip("198.51.100.10"));
	assert_int_equal(s->nports, 2);
	assert_string_equal(s->ports[0].name, "http");
	assert_int_equal(s->ports[0].protocol, K8S_TCP);
	assert_int_equal(s->ports[0].port, 80);
	assert_int_equal(s->ports[0].target_port, 0);
	assert_string_equal(s->ports[0].target_port_name, "http-web");
	assert_int_equal(s->ports[0].node_port, 30080);
	assert_string_equal(s->ports[1].name, "dns");
	assert_int_equal(s->ports[1].protocol, K8S_UDP);
	assert_int_equal(s->ports[1].port, 53);
	assert_int_equal(s->ports[1].target_port, 5353);
	assert_null(s->ports[1].target_port_name);
	assert_int_equal(s->ports[1].node_port, 30053);
	snprintf(path, sizeof(path), "%s/web.yml", dir);
	assert_string_equal(s->origin.file, path);
	assert_int_equal(s->origin.line, 1);

	const struct k8s_slice *e = &o->slices[0];

	assert_string_equal(e->namespace_, "shop");
	assert_string_equal(e->name, "web-x7k2p");
	assert_string_equal(e->service_name, "web");
	assert_int_equal(e->nendpoints, 2);
	assert_int_equal(e->endpoints[0].naddresses, 1);
	assert_int_equal(e->endpoints[0].addresses[0], ip("198.19.1.5"));
	assert_true(e->endpoints[0].ready);
	assert_string_equal(e->endpoints[0].node_name, "worker-1");
	assert_int_equal(e->endpoints[1].addresses[0], ip("198.19.2.7"));
	assert_false(e->endpoints[1].ready);
	assert_string_equal(e->endpoints[1].node_name, "worker-2");
	assert_int_equal(e->nports, 2);
	assert_string_equal(e->ports[0].name, "http");
	assert_int_equal(e->ports[0].port, 8080);
	assert_int_equal(e->ports[0].protocol, K8S_TCP);
	assert_int_equal(e->ports[1].protocol, K8S_UDP);
	assert_string_equal(e->origin.file, path);
	/* The slice document starts after the Service and its "---". */
	assert_int_equal(e->origin.line, 65);
	assert_string_equal(k8s_protocol_name(K8S_UDP), "UDP");
	assert_string_equal(k8s_protocol_name(K8S_TCP), "TCP");

	k8s_objects_free(o);
	diag_free(&dl);
	tmpdir_free(dir);
}

/* --- Lists, documents, skipped kinds ------------------------------------ */

static void test_list_and_kinds(void **state)
{
	const char *y =
		"# what kubectl get svc,nodes -o yaml prints\n"
		"apiVersion: v1\n"
		"kind: List\n"
		"metadata:\n"
		"  resourceVersion: \"\"\n"
		"items:\n"
		"- apiVersion: v1\n"
		"  kind: Service\n"
		"  metadata: {name: a}\n"
		"  spec: {ports: [{port: 80}]}\n"
		"- apiVersion: v1\n"
		"  kind: Pod\n"
		"  metadata: {name: skipped}\n"
		"- apiVersion: v1\n"
		"  kind: Service\n"
		"  metadata: {name: b}\n"
		"  spec: {ports: [{port: 0}]}\n"
		"- apiVersion: v1\n"
		"  kind: Node\n"
		"  metadata: {name: n1}\n"
		"---\n"
		"---\n"
		"# only a comment\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: ServiceList\n"
		"items:\n"
		"- {apiVersion: v1, kind: Service, metadata: {name: c}}\n"
		"---\n"
		"apiVersion: apps/v1\n"
		"kind: Deployment\n"
		"metadata: {name: d}\n"
		"spec: {replicas: 3}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: ConfigMap\n"
		"metadata: {name: cm}\n"
		"data: {x: y}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: List\n"
		"items: []\n";
	struct diag_list dl = {0};
	(void)state;

	struct k8s_objects *o = parse(y, &dl);

	/* Only the bad port of b is reported; the Pod, Deployment and
	 * ConfigMap are skipped silently. */
	assert_int_equal(dl.n, 1);
	assert_diag(&dl, "t.yaml:17:25: items[2].spec.ports[0].port: '0' is "
		    "not a whole number from 1 to 65535");
	assert_int_equal(o->nservices, 2);
	assert_string_equal(o->services[0].name, "a");
	assert_string_equal(o->services[0].namespace_, "default");
	assert_string_equal(o->services[0].origin.path, "items[0]");
	assert_int_equal(o->services[0].origin.line, 7);
	assert_int_equal(o->services[0].origin.col, 3);
	assert_string_equal(o->services[1].name, "c");
	assert_int_equal(o->services[1].origin.line, 28);
	assert_int_equal(o->nnodes, 1);
	assert_string_equal(o->nodes[0].origin.path, "items[3]");
	k8s_objects_free(o);
	diag_free(&dl);
}

static void test_document_shape_errors(void **state)
{
	const char *y =
		"- just\n"
		"- a list\n"
		"---\n"
		"plain text\n"
		"---\n"
		"apiVersion: v1\n"
		"metadata: {name: nokind}\n"
		"---\n"
		"kind: List\n"
		"items:\n"
		"- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
		"- {apiVersion: v1, metadata: {name: b}}\n"
		"- 42\n"
		"- {apiVersion: v1, kind: Service, metadata: {name: c}}\n"
		"---\n"
		"kind: List\n"
		"items: {a: b}\n"
		"---\n"
		"kind: [Service]\n";
	struct diag_list dl = {0};
	(void)state;

	struct k8s_objects *o = parse(y, &dl);

	assert_diag(&dl, "t.yaml:1:1: expected a Kubernetes object, found a "
		    "list; write a mapping with apiVersion, kind and metadata");
	assert_diag(&dl, "t.yaml:4:1: expected a Kubernetes object, found a "
		    "scalar");
	assert_diag(&dl, "t.yaml:6:1: kind: missing; every object needs a "
		    "kind");
	assert_diag(&dl, "t.yaml:12:3: items[1].kind: missing; every object "
		    "needs a kind");
	assert_diag(&dl, "t.yaml:13:3: items[2]: expected a Kubernetes "
		    "object, found a scalar");
	assert_diag(&dl, "t.yaml:17:8: items: expected a list, found a "
		    "mapping");
	assert_diag(&dl, "t.yaml:19:7: kind: expected a single value, found a "
		    "list");
	assert_int_equal(dl.n, 7);
	assert_int_equal(o->nservices, 2);
	assert_string_equal(o->services[0].name, "a");
	assert_string_equal(o->services[1].name, "c");
	k8s_objects_free(o);
	diag_free(&dl);
}

static void test_syntax_error_keeps_earlier_documents(void **state)
{
	const char *y =
		"{apiVersion: v1, kind: Service, metadata: {name: a}}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata: {name: b\n";
	struct diag_list dl = {0};
	(void)state;

	struct k8s_objects *o = parse(y, &dl);

	assert_diag(&dl, "t.yaml:", "YAML syntax error");
	assert_int_equal(o->nservices, 1);
	assert_string_equal(o->services[0].name, "a");
	k8s_objects_free(o);
	diag_free(&dl);
}

/* --- Invalid objects: reported and left out, neighbours kept ------------ */

/* Good objects after the bad document: each must still load. */
static const char neighbours[] =
	"---\n"
	"{apiVersion: v1, kind: Node, metadata: {name: ok}}\n"
	"---\n"
	"{apiVersion: v1, kind: Service, metadata: {name: ok}}\n"
	"---\n"
	"{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, addressType: "
	"IPv4, metadata: {name: ok}}\n";

struct bad_case {
	const char *yaml;
	const char *diag; /* FILE:LINE:COL: path: message (a prefix of it) */
};

#define SVC "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\n"
#define NODE "apiVersion: v1\nkind: Node\nmetadata: {name: bad}\n"
#define SLICE "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n" \
	      "metadata: {name: bad}\naddressType: IPv4\n"

static const struct bad_case bad_cases[] = {
	/* Ports. */
	{SVC "spec: {ports: [{port: 0}]}\n",
	 "t.yaml:4:23: spec.ports[0].port: '0' is not a whole number from 1 "
	 "to 65535; write one"},
	{SVC "spec: {ports: [{port: 70000}]}\n",
	 "t.yaml:4:23: spec.ports[0].port: '70000' is not a whole number"},
	{SVC "spec: {ports: [{port: http}]}\n",
	 "t.yaml:4:23: spec.ports[0].port: 'http' is not a whole number"},
	{SVC "spec: {ports: [{name: x}]}\n",
	 "t.yaml:4:16: spec.ports[0].port: missing; write the Service's port, "
	 "from 1 to 65535"},
	{SVC "spec:\n  ports:\n  - port: 80\n    nodePort: 65536\n",
	 "t.yaml:7:15: spec.ports[0].nodePort: '65536' is not a whole number "
	 "from 30000 to 32767"},
	{SVC "spec:\n  ports:\n  - port: 80\n    nodePort: 29999\n",
	 "t.yaml:7:15: spec.ports[0].nodePort: '29999' is not a whole number "
	 "from 30000 to 32767"},
	{SVC "spec: {ports: [{port: 80, targetPort: 0}]}\n",
	 "t.yaml:4:39: spec.ports[0].targetPort: '0' is not a whole number "
	 "from 1 to 65535"},
	{SVC "spec: {ports: [{port: 80, targetPort: Http}]}\n",
	 "t.yaml:4:39: spec.ports[0].targetPort: 'Http' is neither a port "
	 "number nor a port name; write a number from 1 to 65535 or a name"},
	{SVC "spec: {ports: [{port: 80, targetPort: web--1}]}\n",
	 "t.yaml:4:39: spec.ports[0].targetPort: 'web--1' is neither"},
	{SVC "spec: {ports: [{port: 80, targetPort: -web}]}\n",
	 "t.yaml:4:39: spec.ports[0].targetPort: '-web' is neither"},
	{SVC "spec: {ports: [{port: 80, targetPort: abcdefghijklmnop}]}\n",
	 "t.yaml:4:39: spec.ports[0].targetPort: 'abcdefghijklmnop' is "
	 "neither"},
	{SVC "spec: {ports: [{port: 80, targetPort: \"8080\"}]}\n",
	 "t.yaml:4:39: spec.ports[0].targetPort: '8080' is neither"},
	{SVC "spec: {ports: [{port: 80, targetPort: 1-2}]}\n",
	 "t.yaml:4:39: spec.ports[0].targetPort: '1-2' is neither"},
	{SVC "spec: {ports: [{port: 80, protocol: SCTP}]}\n",
	 "t.yaml:4:37: spec.ports[0].protocol: 'SCTP' is not supported; "
	 "write TCP or UDP"},
	{SVC "spec: {ports: [{port: 80, protocol: tcp}]}\n",
	 "t.yaml:4:37: spec.ports[0].protocol: 'tcp' is not supported"},
	{SVC "spec:\n  ports:\n  - {name: a, port: 80}\n"
	     "  - {name: a, port: 81}\n",
	 "t.yaml:7:12: spec.ports[1].name: 'a' is already the name of "
	 "ports[0]; give each port its own name"},
	{SVC "spec:\n  ports:\n  - {name: a, port: 80}\n"
	     "  - {name: b, port: 81}\n  - {name: c, port: 80}\n",
	 "t.yaml:8:21: spec.ports[2].port: 80/TCP is already served by "
	 "ports[0]; list each port and protocol once"},
	{SVC "spec: {ports: {port: 80}}\n",
	 "t.yaml:4:15: spec.ports: expected a list, found a mapping"},
	{SVC "spec: {ports: [80]}\n",
	 "t.yaml:4:16: spec.ports[0]: expected a mapping"},
	{SVC "spec: {ports: [80, {name: a, port: 1}, {name: a, port: 2}]}\n",
	 "t.yaml:4:47: spec.ports[2].name: 'a' is already the name of "
	 "ports[1]"},
	/* Addresses, in each place they appear. */
	{SVC "spec: {loadBalancerIP: 198.51.100.300}\n",
	 "t.yaml:4:24: spec.loadBalancerIP: '198.51.100.300' is not an IPv4 "
	 "address; write four decimal numbers 0-255 such as 198.51.100.7"},
	{SVC "spec: {loadBalancerIP: \"2001:db8::1\"}\n",
	 "t.yaml:4:24: spec.loadBalancerIP: '2001:db8::1' is an IPv6 "
	 "address; bmlb serves IPv4 only"},
	{SVC "status: {loadBalancer: {ingress: [{ip: 198.51.100.07}]}}\n",
	 "t.yaml:4:40: status.loadBalancer.ingress[0].ip: '198.51.100.07' is "
	 "not an IPv4 address"},
	{"apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\n"
	 "  annotations: {metallb.universe.tf/loadBalancerIPs: 198.51.100.x}\n",
	 "t.yaml:5:54: metadata.annotations.metallb.universe.tf/"
	 "loadBalancerIPs: '198.51.100.x' is not a list of IP addresses; "
	 "write one IPv4 address"},
	{"apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\n"
	 "  annotations: {metallb.universe.tf/loadBalancerIPs: "
	 "\"2001:db8::1\"}\n",
	 "t.yaml:5:54: metadata.annotations.metallb.universe.tf/"
	 "loadBalancerIPs: '2001:db8::1' holds no IPv4 address"},
	{"apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\n"
	 "  annotations: {metallb.universe.tf/loadBalancerIPs: "
	 "\"198.51.100.1,198.51.100.2\"}\n",
	 "t.yaml:5:54: metadata.annotations.metallb.universe.tf/"
	 "loadBalancerIPs: '198.51.100.1,198.51.100.2' holds more than one "
	 "IPv4 address"},
	{NODE "status:\n  addresses:\n  - {type: InternalIP, address: "
	      "198.18.0}\n",
	 "t.yaml:6:33: status.addresses[0].address: '198.18.0' is not an "
	 "IPv4 address"},
	{NODE "status:\n  addresses:\n  - {type: InternalIP}\n",
	 "t.yaml:6:5: status.addresses[0].address: missing; write the "
	 "address"},
	{NODE "spec: {podCIDR: 198.19.1.1/24}\n",
	 "t.yaml:4:17: spec.podCIDR: '198.19.1.1/24' is not a pod CIDR: host "
	 "bits set after the prefix length; write a network and prefix "
	 "length such as 198.19.0.0/24"},
	{NODE "spec: {podCIDRs: [198.19.1.0/24, fd00::/129]}\n",
	 "t.yaml:4:34: spec.podCIDRs[1]: 'fd00::/129' is not a pod CIDR"},
	{NODE "spec: {podCIDRs: [198.19.1.0/24, 198.19.2.0/24, "
	      "198.19.3.0/24]}\n",
	 "t.yaml:4:18: spec.podCIDRs: 3 CIDRs listed; a Node has at most two"},
	{"apiVersion: v1\nkind: Node\n"
	 "metadata: {name: bad, labels: {a: [b]}}\n",
	 "t.yaml:3:35: metadata.labels.a: expected a string, found a list"},
	{SLICE "endpoints:\n- addresses: [198.19.1.256]\n",
	 "t.yaml:6:15: endpoints[0].addresses[0]: '198.19.1.256' is not an "
	 "IPv4 address"},
	{SLICE "endpoints:\n- addresses: []\n",
	 "t.yaml:6:14: endpoints[0].addresses: missing; list the endpoint's "
	 "IPv4 address"},
	{SLICE "endpoints:\n- nodeName: w1\n",
	 "t.yaml:6:3: endpoints[0].addresses: missing"},
	{SLICE "endpoints:\n- addresses: [198.19.1.1]\n"
	       "  conditions: {ready: yes}\n",
	 "t.yaml:7:23: endpoints[0].conditions.ready: 'yes' is not a "
	 "boolean"},
	{SLICE "ports: [{port: 8080, protocol: SCTP}]\n",
	 "t.yaml:5:32: ports[0].protocol: 'SCTP' is not supported"},
	{SLICE "ports: [{port: 65536}]\n",
	 "t.yaml:5:16: ports[0].port: '65536' is not a whole number"},
	{"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	 "metadata: {name: bad}\naddressType: ipv4\n",
	 "t.yaml:4:14: addressType: 'ipv4' is not an address type; write "
	 "IPv4"},
	{"apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	 "metadata: {name: bad}\n",
	 "t.yaml:1:1: addressType: missing; write IPv4"},
	/* Times and policies. */
	{"apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\n"
	 "  creationTimestamp: \"2024-02-30T10:00:00Z\"\n",
	 "t.yaml:5:22: metadata.creationTimestamp: '2024-02-30T10:00:00Z' is "
	 "not an RFC 3339 time; write one such as 2024-05-01T10:00:00Z"},
	{SVC "spec: {externalTrafficPolicy: local}\n",
	 "t.yaml:4:31: spec.externalTrafficPolicy: 'local' is not a traffic "
	 "policy; write Cluster or Local"},
	/* Identity and kind. */
	{"apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n",
	 "t.yaml:3:11: metadata.name: missing; every object needs a name"},
	{"apiVersion: v1\nkind: Node\n",
	 "t.yaml:1:1: metadata.name: missing; every object needs a name"},
	{"apiVersion: v1\nkind: Service\nmetadata: {name: \"\"}\n",
	 "t.yaml:3:18: metadata.name: missing"},
	{"apiVersion: v2\nkind: Service\nmetadata: {name: bad}\n",
	 "t.yaml:1:13: apiVersion: 'v2' is not the API version bmlb reads for "
	 "a Service; write v1"},
	{"apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\n"
	 "metadata: {name: bad}\naddressType: IPv4\n",
	 "t.yaml:1:13: apiVersion: 'discovery.k8s.io/v1beta1' is not the API "
	 "version bmlb reads for a EndpointSlice; write discovery.k8s.io/v1"},
	{"kind: Node\nmetadata: {name: bad}\n",
	 "t.yaml:1:1: apiVersion: missing; write apiVersion: v1 for a Node"},
	/* yaml_tree refusals leave the object out. */
	{SVC "spec: {type: LoadBalancer, type: NodePort}\n",
	 "t.yaml:4:28: spec.type: duplicate key"},
};

static void test_invalid_objects(void **state)
{
	(void)state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++) {
		struct diag_list dl = {0};
		char *y = NULL;

		assert_true(asprintf(&y, "%s%s", bad_cases[i].yaml,
				     neighbours) > 0);
		struct k8s_objects *o = parse(y, &dl);

		if (diag_find(&dl, bad_cases[i].diag, (char *)NULL) < 0) {
			diag_dump(&dl);
			fail_msg("case %zu: no diagnostic %s", i,
				 bad_cases[i].diag);
		}
		assert_int_equal(o->nnodes, 1);
		assert_int_equal(o->nservices, 1);
		assert_int_equal(o->nslices, 1);
		assert_string_equal(o->nodes[0].name, "ok");
		assert_string_equal(o->services[0].name, "ok");
		assert_string_equal(o->slices[0].name, "ok");
		k8s_objects_free(o);
		diag_free(&dl);
		free(y);
	}
}

static void test_every_problem_of_an_object(void **state)
{
	const char *y =
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata:\n"
		"  name: web\n"
		"  creationTimestamp: yesterday\n"
		"spec:\n"
		"  externalTrafficPolicy: Nearby\n"
		"  loadBalancerIP: 198.51.100\n"
		"  ports:\n"
		"  - {port: 80, protocol: SCTP}\n"
		"  - {port: 99999, targetPort: A}\n";
	struct diag_list dl = {0};
	(void)state;

	struct k8s_objects *o = parse(y, &dl);

	assert_int_equal(dl.n, 6);
	assert_diag(&dl, "t.yaml:5:22: metadata.creationTimestamp:");
	assert_diag(&dl, "t.yaml:7:26: spec.externalTrafficPolicy:");
	assert_diag(&dl, "t.yaml:8:19: spec.loadBalancerIP:");
	assert_diag(&dl, "t.yaml:10:26: spec.ports[0].protocol:");
	assert_diag(&dl, "t.yaml:11:12: spec.ports[1].port:");
	assert_diag(&dl, "t.yaml:11:31: spec.ports[1].targetPort:");
	assert_int_equal(o->nservices, 0);
	k8s_objects_free(o);
	diag_free(&dl);
}

static void test_duplicate_objects(void **state)
{
	struct diag_list dl = {0};
	char *dir = tmpdir_new();
	char msg[512];
	(void)state;

	write_file(dir, "a.yaml",
		   "{apiVersion: v1, kind: Service, metadata: {name: web}}\n"
		   "---\n"
		   "{apiVersion: v1, kind: Service, metadata: {name: web, "
		   "namespace: other}}\n"
		   "---\n"
		   "{apiVersion: v1, kind: Node, metadata: {name: n1}}\n");
	write_file(dir, "b.yaml",
		   "kind: List\n"
		   "items:\n"
		   "- {apiVersion: v1, kind: Service, metadata: {name: web, "
		   "namespace: default}}\n"
		   "- {apiVersion: v1, kind: Node, metadata: {name: n1}}\n"
		   "- {apiVersion: v1, kind: Node, metadata: {name: n1}}\n"
		   "- {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, "
		   "addressType: IPv4, metadata: {name: s, labels: "
		   "{kubernetes.io/service-name: web}}}\n"
		   "- {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, "
		   "addressType: IPv4, metadata: {name: s, labels: "
		   "{kubernetes.io/service-name: db}}}\n");

	struct k8s_objects *o = k8s_load_dir(dir, &dl);

	assert_non_null(o);
	snprintf(msg, sizeof(msg), "%s/a.yaml:1:1: metadata.name: Service "
		 "default/web is defined twice: also at %s/b.yaml:3; each "
		 "object must appear once", dir, dir);
	assert_diag(&dl, msg);
	snprintf(msg, sizeof(msg), "%s/b.yaml:3:3: items[0].metadata.name: "
		 "Service default/web is defined twice: also at %s/a.yaml:1",
		 dir, dir);
	assert_diag(&dl, msg);
	snprintf(msg, sizeof(msg), "%s/b.yaml:5:3: items[2].metadata.name: "
		 "Node n1 is defined 3 times: also at %s/a.yaml:5", dir, dir);
	assert_diag(&dl, msg);
	/* Slices are the same object by namespace and name, whatever their
	 * Service. */
	snprintf(msg, sizeof(msg), "%s/b.yaml:6:3: items[3].metadata.name: "
		 "EndpointSlice default/s is defined twice", dir);
	assert_diag(&dl, msg);
	assert_int_equal(dl.n, 7);
	assert_int_equal(o->nservices, 1);
	assert_string_equal(o->services[0].namespace_, "other");
	assert_int_equal(o->nnodes, 0);
	assert_int_equal(o->nslices, 0);
	k8s_objects_free(o);
	diag_free(&dl);
	tmpdir_free(dir);
}

static void test_bad_subtree_in_list(void **state)
{
	const char *y =
		"kind: List\n"
		"items:\n"
		"- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
		"- {apiVersion: v1, kind: Service, metadata: {name: b, name: c}"
		"}\n"
		"- {apiVersion: v1, kind: Service, metadata: *nowhere}\n"
		"- {apiVersion: v1, kind: Service, metadata: {name: d}}\n";
	struct diag_list dl = {0};
	(void)state;

	struct k8s_objects *o = parse(y, &dl);

	assert_diag(&dl, "t.yaml:4:55: items[1].metadata.name: duplicate key");
	assert_diag(&dl, "t.yaml:5:45: items[2].metadata: alias to an "
		    "undefined anchor");
	assert_int_equal(dl.n, 2);
	assert_int_equal(o->nservices, 2);
	assert_string_equal(o->services[0].name, "a");
	assert_string_equal(o->services[1].name, "d");
	k8s_objects_free(o);
	diag_free(&dl);
}

static void test_aliases(void **state)
{
	/* Aliases written by hand are fine... */
	const char *ok =
		"kind: List\n"
		"items:\n"
		"- {apiVersion: v1, kind: Node, metadata: {name: a, labels: &l "
		"{zone: z1}}}\n"
		"- {apiVersion: v1, kind: Node, metadata: {name: b, labels: *l}"
		"}\n";
	struct diag_list dl = {0};
	char *bomb = NULL;
	size_t len = 0;
	FILE *f;
	(void)state;

	struct k8s_objects *o = parse(ok, &dl);

	assert_int_equal(dl.n, 0);
	assert_int_equal(o->nnodes, 2);
	assert_string_equal(o->nodes[1].labels[0].value, "z1");
	k8s_objects_free(o);

	/* ...but a document whose aliases multiply (10^9 Pods) is refused,
	 * not walked for minutes, and so is one whose Nodes each name a
	 * 2000-entry list; the file's other documents still load. */
	f = open_memstream(&bomb, &len);
	fprintf(f, "kind: List\nitems:\n- &l0 {kind: List, items: [");
	for (int i = 0; i < 10; i++)
		fprintf(f, "%s{kind: Pod}", i ? ", " : "");
	fprintf(f, "]}\n");
	for (int l = 1; l < 10; l++) {
		fprintf(f, "- &l%d {kind: List, items: [", l);
		for (int i = 0; i < 10; i++)
			fprintf(f, "%s*l%d", i ? ", " : "", l - 1);
		fprintf(f, "]}\n");
	}
	fprintf(f, "---\n{apiVersion: v1, kind: Node, metadata: {name: late}}"
		"\n");
	fclose(f);
	o = parse(bomb, &dl);
	free(bomb);
	assert_int_equal(dl.n, 1);
	assert_diag(&dl, "t.yaml:1:1: aliases expand this document to over",
		    "write it out with fewer aliases");
	assert_int_equal(o->nnodes, 1);
	assert_string_equal(o->nodes[0].name, "late");
	k8s_objects_free(o);
	diag_free(&dl);

	f = open_memstream(&bomb, &len);
	fprintf(f, "kind: List\nitems:\n- {kind: Pod, big: &big [");
	for (int i = 0; i < 2000; i++)
		fprintf(f, "%s{type: Hostname, address: h}", i ? "," : "");
	fprintf(f, "]}\n");
	for (int i = 0; i < 2000; i++)
		fprintf(f, "- {apiVersion: v1, kind: Node, metadata: "
			"{name: n%d}, status: {addresses: *big}}\n", i);
	fclose(f);
	o = parse(bomb, &dl);
	free(bomb);
	assert_int_equal(dl.n, 1);
	assert_diag(&dl, "t.yaml:1:1: aliases expand this document");
	assert_int_equal(o->nnodes, 0);
	k8s_objects_free(o);
	diag_free(&dl);
}

/* --- Defaults and dual-stack -------------------------------------------- */

static void test_service_defaults(void **state)
{
	const char *y =
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata: {name: plain}\n"
		"spec:\n"
		"  ports: [{port: 80}, {port: 81, targetPort: 9090}]\n"
		"  loadBalancerIP: \"\"\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata:\n"
		"  name: old\n"
		"  namespace: \"\"\n"
		"  creationTimestamp: null\n"
		"  annotations:\n"
		"    metallb.universe.tf/allow-shared-ip: \"\"\n"
		"    metallb.universe.tf/address-pool: \"\"\n"
		"    metallb.universe.tf/loadBalancerIPs: \"2001:db8::5, "
		"198.51.100.5\"\n"
		"spec: {type: NodePort, externalTrafficPolicy: Global}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata: {name: cip, namespace: kube-system}\n"
		"spec: {type: ClusterIP, externalTrafficPolicy: Cluster}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata: {name: ext, namespace: kube-system}\n"
		"spec: {type: ExternalName, externalName: db.example.com}\n";
	struct diag_list dl = {0};
	(void)state;

	struct k8s_objects *o = parse(y, &dl);

	if (dl.n)
		diag_dump(&dl);
	assert_int_equal(dl.n, 0);
	assert_int_equal(o->nservices, 4);

	const struct k8s_service *s = k8s_service_find(o, "default", "plain");

	assert_non_null(s);
	assert_int_equal(s->type, K8S_SVC_OTHER);
	assert_int_equal(s->created, INT64_MAX);
	assert_false(s->local);
	assert_int_equal(s->lb_ip, 0);
	assert_int_equal(s->ann_ip, 0);
	assert_null(s->ann_pool);
	assert_null(s->share_key);
	assert_int_equal(s->ningress_ips, 0);
	assert_int_equal(s->nports, 2);
	assert_string_equal(s->ports[0].name, "");
	assert_int_equal(s->ports[0].protocol, K8S_TCP);
	assert_int_equal(s->ports[0].target_port, 80);
	assert_null(s->ports[0].target_port_name);
	assert_int_equal(s->ports[0].node_port, 0);
	assert_int_equal(s->ports[1].target_port, 9090);

	s = k8s_service_find(o, "default", "old");
	assert_non_null(s);
	assert_int_equal(s->type, K8S_SVC_NODEPORT);
	assert_int_equal(s->created, INT64_MAX);
	assert_false(s->local);
	assert_string_equal(s->share_key, "");
	assert_null(s->ann_pool);
	assert_int_equal(s->ann_ip, ip("198.51.100.5"));

	s = k8s_service_find(o, "kube-system", "cip");
	assert_non_null(s);
	assert_int_equal(s->type, K8S_SVC_OTHER);
	assert_non_null(k8s_service_find(o, "kube-system", "ext"));
	assert_null(k8s_service_find(o, "kube-system", "plain"));
	k8s_objects_free(o);
	diag_free(&dl);
}

static void test_dual_stack_and_other_families(void **state)
{
	const char *y =
		"apiVersion: v1\n"
		"kind: Node\n"
		"metadata: {name: n6}\n"
		"spec: {podCIDRs: [\"fd00:1::/64\", 198.19.4.0/24]}\n"
		"status:\n"
		"  addresses:\n"
		"  - {type: InternalIP, address: \"fd00::4\"}\n"
		"  - {type: ExternalIP, address: 203.0.113.4}\n"
		"  - {type: InternalDNS, address: n6.internal}\n"
		"---\n"
		"apiVersion: discovery.k8s.io/v1\n"
		"kind: EndpointSlice\n"
		"metadata: {name: web-v6, labels: "
		"{kubernetes.io/service-name: web}}\n"
		"addressType: IPv6\n"
		"endpoints: [{addresses: [\"fd00::1\"]}]\n"
		"---\n"
		"apiVersion: discovery.k8s.io/v1\n"
		"kind: EndpointSlice\n"
		"metadata: {name: web-fqdn}\n"
		"addressType: FQDN\n"
		"endpoints: [{addresses: [db.example.com]}]\n";
	struct diag_list dl = {0};
	(void)state;

	struct k8s_objects *o = parse(y, &dl);

	if (dl.n)
		diag_dump(&dl);
	assert_int_equal(dl.n, 0);
	assert_int_equal(o->nnodes, 1);
	assert_int_equal(o->nodes[0].internal_ip, 0);
	assert_int_equal(o->nodes[0].npod_cidrs, 1);
	assert_int_equal(o->nodes[0].pod_cidrs[0], ip("198.19.4.0"));
	assert_false(o->nodes[0].ready);
	assert_null(k8s_node_by_ip(o, 0));
	assert_int_equal(o->nslices, 0);
	k8s_objects_free(o);
	diag_free(&dl);
}

static void test_endpoint_ready_default(void **state)
{
	const char *y =
		"apiVersion: discovery.k8s.io/v1\n"
		"kind: EndpointSlice\n"
		"metadata: {name: s1, namespace: ns, labels: "
		"{kubernetes.io/service-name: web}}\n"
		"addressType: IPv4\n"
		"ports: [{}]\n"
		"endpoints:\n"
		"- addresses: [198.19.0.1]\n"
		"- addresses: [198.19.0.2]\n"
		"  conditions: {}\n"
		"- addresses: [198.19.0.3]\n"
		"  conditions: {ready: null}\n"
		"- addresses: [198.19.0.4, 198.19.0.5]\n"
		"  conditions: {ready: false, serving: true}\n"
		"- addresses: [198.19.0.6]\n"
		"  conditions: {ready: true}\n";
	struct diag_list dl = {0};
	(void)state;

	struct k8s_objects *o = parse(y, &dl);

	assert_int_equal(dl.n, 0);
	assert_int_equal(o->nslices, 1);

	const struct k8s_slice *s = &o->slices[0];

	assert_int_equal(s->nendpoints, 5);
	assert_true(s->endpoints[0].ready);
	assert_true(s->endpoints[1].ready);
	assert_true(s->endpoints[2].ready);
	assert_false(s->endpoints[3].ready);
	assert_int_equal(s->endpoints[3].naddresses, 2);
	assert_int_equal(s->endpoints[3].addresses[1], ip("198.19.0.5"));
	assert_true(s->endpoints[4].ready);
	assert_null(s->endpoints[0].node_name);
	/* A port entry with nothing set: unnamed, TCP, all ports. */
	assert_int_equal(s->nports, 1);
	assert_string_equal(s->ports[0].name, "");
	assert_int_equal(s->ports[0].protocol, K8S_TCP);
	assert_int_equal(s->ports[0].port, 0);
	k8s_objects_free(o);
	diag_free(&dl);
}

/* --- Creation times ----------------------------------------------------- */

static void test_rfc3339(void **state)
{
	static const struct {
		const char *text;
		int64_t epoch;
	} good[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"2024-05-01T10:00:00Z", 1714557600},
		{"2024-05-01T10:00:00.123456789Z", 1714557600},
		{"2024-05-01T10:00:00.9Z", 1714557600},
		{"2024-05-01T12:00:00+02:00", 1714557600},
		{"2024-05-01T05:30:00-04:30", 1714557600},
		{"2024-05-01T12:00:00.5+02:00", 1714557600},
		{"2024-05-01t10:00:00z", 1714557600},
		{"2024-02-29T23:59:59Z", 1709251199},
		{"2000-03-01T00:00:00Z", 951868800},
		{"1969-12-31T23:59:59Z", -1},
		{"0001-01-01T00:00:00Z", -62135596800},
		{"9999-12-31T23:59:59Z", 253402300799},
		{"2026-01-01T00:00:00+23:59", 1767139260},
	};
	static const char *const bad[] = {
		"2024-05-01T10:00:00",   "2024-05-01 10:00:00Z",
		"2024-5-01T10:00:00Z",   "2024-05-01T24:00:00Z",
		"2024-05-01T10:60:00Z",  "2024-13-01T10:00:00Z",
		"2024-00-01T10:00:00Z",  "2023-02-29T10:00:00Z",
		"2100-02-29T10:00:00Z",  "2024-04-31T10:00:00Z",
		"2024-05-01T10:00:00.Z", "2024-05-01T10:00:00+0200",
		"2024-05-01T10:00:00+24:00", "2024-05-01T10:00:00Zx",
		"2024-05-01",            "1714557600",
		"2024-05-01T10:00:00+02:00x", "2024-05-01T10:00:0aZ",
	};
	struct diag_list dl = {0};
	char *y = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&y, &len);
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		fprintf(f, "---\n{apiVersion: v1, kind: Service, metadata: "
			"{name: g%02zu, creationTimestamp: \"%s\"}}\n", i,
			good[i].text);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		fprintf(f, "---\n{apiVersion: v1, kind: Service, metadata: "
			"{name: b%02zu, creationTimestamp: \"%s\"}}\n", i,
			bad[i]);
	fclose(f);

	struct k8s_objects *o = parse(y, &dl);

	assert_int_equal(o->nservices, sizeof(good) / sizeof(*good));
	for (size_t i = 0; i < o->nservices; i++) {
		if (o->services[i].created != good[i].epoch)
			fail_msg("%s: got %lld, want %lld", good[i].text,
				 (long long)o->services[i].created,
				 (long long)good[i].epoch);
	}
	assert_int_equal(dl.n, sizeof(bad) / sizeof(*bad));
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char want[128];

		snprintf(want, sizeof(want), "'%s' is not an RFC 3339 time",
			 bad[i]);
		assert_diag(&dl, want);
	}
	k8s_objects_free(o);
	diag_free(&dl);
	free(y);
}

/* --- Order independence ------------------------------------------------- */

/* Objects in flow style, so that each can be a document or a List item. */
static const char *const objs[] = {
	"{apiVersion: v1, kind: Node, metadata: {name: w2, labels: {a: b, "
	"c: d}}, spec: {podCIDR: 198.19.2.0/24}, status: {addresses: "
	"[{type: InternalIP, address: 198.18.0.102}], conditions: "
	"[{type: Ready, status: \"True\"}]}}",
	"{apiVersion: v1, kind: Node, metadata: {name: w1}, status: "
	"{addresses: [{type: InternalIP, address: 198.18.0.101}]}}",
	"{apiVersion: v1, kind: Node, metadata: {name: lb1, labels: "
	"{baremetal.cluster.gke.io/lbnode: \"true\"}}, status: {addresses: "
	"[{type: InternalIP, address: 198.18.0.11}]}}",
	"{apiVersion: v1, kind: Service, metadata: {name: web, namespace: b, "
	"creationTimestamp: \"2024-05-01T10:00:00Z\"}, spec: {type: "
	"LoadBalancer, ports: [{name: http, port: 80, targetPort: http}]}}",
	"{apiVersion: v1, kind: Service, metadata: {name: web, namespace: a, "
	"annotations: {metallb.universe.tf/allow-shared-ip: k, "
	"metallb.universe.tf/address-pool: p}}, spec: {type: LoadBalancer, "
	"externalTrafficPolicy: Local, loadBalancerIP: 198.51.100.1, ports: "
	"[{port: 53, protocol: UDP, nodePort: 30053}]}, status: "
	"{loadBalancer: {ingress: [{ip: 198.51.100.1}]}}}",
	"{apiVersion: v1, kind: Service, metadata: {name: api, namespace: "
	"b}, spec: {type: NodePort, ports: [{port: 443, targetPort: 8443}]}}",
	"{apiVersion: v1, kind: Service, metadata: {name: db, namespace: a, "
	"annotations: {metallb.universe.tf/loadBalancerIPs: 198.51.100.9}}}",
	"{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, addressType: "
	"IPv4, metadata: {name: web-2, namespace: b, labels: "
	"{kubernetes.io/service-name: web}}, endpoints: [{addresses: "
	"[198.19.2.5], nodeName: w2}], ports: [{name: http, port: 8080}]}",
	"{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, addressType: "
	"IPv4, metadata: {name: web-1, namespace: b, labels: "
	"{kubernetes.io/service-name: web}}, endpoints: [{addresses: "
	"[198.19.1.5], conditions: {ready: false}, nodeName: w1}], ports: "
	"[{name: http, port: 8080}]}",
	"{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, addressType: "
	"IPv4, metadata: {name: a-web, namespace: a, labels: "
	"{kubernetes.io/service-name: web}}, endpoints: [{addresses: "
	"[198.19.3.5, 198.19.3.6]}], ports: [{port: 5353, protocol: UDP}]}",
	"{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, addressType: "
	"IPv4, metadata: {name: orphan, namespace: a}, endpoints: "
	"[{addresses: [198.19.9.9]}]}",
	"{apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, addressType: "
	"IPv4, metadata: {name: api-x, namespace: b, labels: "
	"{kubernetes.io/service-name: api}}}",
};

#define NOBJS (sizeof(objs) / sizeof(*objs))

static void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_same_objects(const struct k8s_objects *a,
				const struct k8s_objects *b)
{
	assert_int_equal(a->nnodes, b->nnodes);
	for (size_t i = 0; i < a->nnodes; i++) {
		const struct k8s_node *x = &a->nodes[i], *y = &b->nodes[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->nlabels, y->nlabels);
		for (size_t j = 0; j < x->nlabels; j++) {
			assert_string_equal(x->labels[j].key,
					    y->labels[j].key);
			assert_string_equal(x->labels[j].value,
					    y->labels[j].value);
		}
		assert_int_equal(x->internal_ip, y->internal_ip);
		assert_int_equal(x->npod_cidrs, y->npod_cidrs);
		for (size_t j = 0; j < x->npod_cidrs; j++) {
			assert_int_equal(x->pod_cidrs[j], y->pod_cidrs[j]);
			assert_int_equal(x->pod_cidr_lens[j],
					 y->pod_cidr_lens[j]);
		}
		assert_int_equal(x->ready, y->ready);
	}
	assert_int_equal(a->nservices, b->nservices);
	for (size_t i = 0; i < a->nservices; i++) {
		const struct k8s_service *x = &a->services[i];
		const struct k8s_service *y = &b->services[i];

		assert_string_equal(x->namespace_, y->namespace_);
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->created, y->created);
		assert_int_equal(x->local, y->local);
		assert_int_equal(x->lb_ip, y->lb_ip);
		assert_int_equal(x->ann_ip, y->ann_ip);
		assert_str_or_null(x->ann_pool, y->ann_pool);
		assert_str_or_null(x->share_key, y->share_key);
		assert_int_equal(x->ningress_ips, y->ningress_ips);
		for (size_t j = 0; j < x->ningress_ips; j++)
			assert_int_equal(x->ingress_ips[j], y->ingress_ips[j]);
		assert_int_equal(x->nports, y->nports);
		for (size_t j = 0; j < x->nports; j++) {
			const struct k8s_svc_port *p = &x->ports[j];
			const struct k8s_svc_port *q = &y->ports[j];

			assert_string_equal(p->name, q->name);
			assert_int_equal(p->protocol, q->protocol);
			assert_int_equal(p->port, q->port);
			assert_int_equal(p->target_port, q->target_port);
			assert_str_or_null(p->target_port_name,
					   q->target_port_name);
			assert_int_equal(p->node_port, q->node_port);
		}
	}
	assert_int_equal(a->nslices, b->nslices);
	for (size_t i = 0; i < a->nslices; i++) {
		const struct k8s_slice *x = &a->slices[i], *y = &b->slices[i];

		assert_string_equal(x->namespace_, y->namespace_);
		assert_string_equal(x->name, y->name);
		assert_str_or_null(x->service_name, y->service_name);
		assert_int_equal(x->nendpoints, y->nendpoints);
		for (size_t j = 0; j < x->nendpoints; j++) {
			const struct k8s_endpoint *p = &x->endpoints[j];
			const struct k8s_endpoint *q = &y->endpoints[j];

			assert_int_equal(p->naddresses, q->naddresses);
			for (size_t k = 0; k < p->naddresses; k++)
				assert_int_equal(p->addresses[k],
						 q->addresses[k]);
			assert_int_equal(p->ready, q->ready);
			assert_str_or_null(p->node_name, q->node_name);
		}
		assert_int_equal(x->nports, y->nports);
		for (size_t j = 0; j < x->nports; j++) {
			assert_string_equal(x->ports[j].name, y->ports[j].name);
			assert_int_equal(x->ports[j].protocol,
					 y->ports[j].protocol);
			assert_int_equal(x->ports[j].port, y->ports[j].port);
		}
	}
}

/* Writes objs in the given order over nfiles files; every third object of
 * a file goes into a List with the next one. */
static char *write_split(const size_t *order, size_t nfiles)
{
	char *dir = tmpdir_new();

	for (size_t f = 0; f < nfiles; f++) {
		char *text = NULL, name[32];
		size_t len = 0, k = 0;
		FILE *out = open_memstream(&text, &len);

		for (size_t i = f; i < NOBJS; i += nfiles, k++) {
			if (k % 3 == 2 && i + nfiles < NOBJS) {
				fprintf(out, "---\nkind: List\nitems:\n- %s\n"
					"- %s\n", objs[order[i]],
					objs[order[i + nfiles]]);
				i += nfiles;
			} else {
				fprintf(out, "---\n%s\n", objs[order[i]]);
			}
		}
		fclose(out);
		/* Names sort differently from the order they are written. */
		snprintf(name, sizeof(name), "%c-part.%s",
			 (char)('z' - f), f % 2 ? "yml" : "yaml");
		write_file(dir, name, text);
		free(text);
	}
	return dir;
}

static void test_order_independence(void **state)
{
	size_t forward[NOBJS], backward[NOBJS], shuffled[NOBJS];
	struct k8s_objects *loaded[4];
	struct diag_list dl = {0};
	char *dirs[3];
	uint32_t seed = 7;
	(void)state;

	for (size_t i = 0; i < NOBJS; i++) {
		forward[i] = shuffled[i] = i;
		backward[i] = NOBJS - 1 - i;
	}
	for (size_t i = NOBJS - 1; i > 0; i--) {
		size_t j, t;

		seed = seed * 1103515245 + 12345;
		j = (seed >> 8) % (i + 1);
		t = shuffled[i];
		shuffled[i] = shuffled[j];
		shuffled[j] = t;
	}
	dirs[0] = write_split(forward, 1);
	dirs[1] = write_split(backward, 3);
	dirs[2] = write_split(shuffled, 4);
	for (size_t i = 0; i < 3; i++) {
		loaded[i] = k8s_load_dir(dirs[i], &dl);
		assert_non_null(loaded[i]);
	}

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	fprintf(f, "kind: List\nitems:\n");
	for (size_t i = 0; i < NOBJS; i++)
		fprintf(f, "- %s\n", objs[shuffled[NOBJS - 1 - i]]);
	fclose(f);
	loaded[3] = parse(text, &dl);
	free(text);

	if (dl.n)
		diag_dump(&dl);
	assert_int_equal(dl.n, 0);
	assert_int_equal(loaded[0]->nnodes, 3);
	assert_int_equal(loaded[0]->nservices, 4);
	assert_int_equal(loaded[0]->nslices, 5);
	for (size_t i = 1; i < 4; i++)
		assert_same_objects(loaded[0], loaded[i]);

	/* The order itself: nodes by name, Services by namespace/name,
	 * slices by namespace/Service/name (no Service first). */
	const struct k8s_objects *o = loaded[0];

	assert_string_equal(o->nodes[0].name, "lb1");
	assert_string_equal(o->nodes[2].name, "w2");
	assert_string_equal(o->services[0].name, "db");
	assert_string_equal(o->services[1].name, "web");
	assert_string_equal(o->services[1].namespace_, "a");
	assert_string_equal(o->services[2].name, "api");
	assert_string_equal(o->slices[0].name, "orphan");
	assert_string_equal(o->slices[1].name, "a-web");
	assert_string_equal(o->slices[2].name, "api-x");
	assert_string_equal(o->slices[3].name, "web-1");
	assert_string_equal(o->slices[4].name, "web-2");

	for (size_t i = 0; i < 4; i++)
		k8s_objects_free(loaded[i]);
	for (size_t i = 0; i < 3; i++)
		tmpdir_free(dirs[i]);
	diag_free(&dl);
}

/* --- Lookups and the directory ------------------------------------------ */

static void test_lookups(void **state)
{
	struct diag_list dl = {0};
	char *text = NULL;
	size_t len = 0, n = 99;
	FILE *f = open_memstream(&text, &len);
	(void)state;

	for (size_t i = 0; i < NOBJS; i++)
		fprintf(f, "---\n%s\n", objs[i]);
	fclose(f);

	struct k8s_objects *o = parse(text, &dl);
	const struct k8s_slice *s;

	free(text);
	assert_int_equal(dl.n, 0);
	assert_string_equal(k8s_node_by_name(o, "w1")->name, "w1");
	assert_null(k8s_node_by_name(o, "w3"));
	assert_string_equal(k8s_node_by_ip(o, ip("198.18.0.11"))->name, "lb1");
	assert_null(k8s_node_by_ip(o, ip("198.18.0.12")));
	assert_string_equal(k8s_service_find(o, "b", "web")->namespace_, "b");
	assert_null(k8s_service_find(o, "c", "web"));
	assert_null(k8s_service_find(o, "b", "db"));

	s = k8s_slices_of(o, "b", "web", &n);
	assert_int_equal(n, 2);
	assert_string_equal(s[0].name, "web-1");
	assert_string_equal(s[1].name, "web-2");
	s = k8s_slices_of(o, "a", "web", &n);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].name, "a-web");
	s = k8s_slices_of(o, "a", "db", &n);
	assert_int_equal(n, 0);
	assert_null(s);
	s = k8s_slices_of(o, "a", NULL, &n);
	assert_int_equal(n, 0);
	s = k8s_slices_of(o, "zz", "web", &n);
	assert_int_equal(n, 0);
	k8s_objects_free(o);

	/* An empty input: every lookup finds nothing. */
	o = parse("", &dl);
	assert_null(k8s_node_by_name(o, "w1"));
	assert_null(k8s_service_find(o, "a", "b"));
	assert_null(k8s_slices_of(o, "a", "b", &n));
	assert_int_equal(n, 0);
	k8s_objects_free(o);
	diag_free(&dl);
}

static void test_load_dir_files(void **state)
{
	struct diag_list dl = {0};
	char *dir = tmpdir_new();
	char sub[512], want[600];
	(void)state;

	write_file(dir, "b.yaml",
		   "{apiVersion: v1, kind: Node, metadata: {name: b}}\n");
	write_file(dir, "a.yml",
		   "{apiVersion: v1, kind: Node, metadata: {name: a}}\n");
	write_file(dir, ".hidden.yaml",
		   "{apiVersion: v1, kind: Node, metadata: {name: hidden}}\n");
	write_file(dir, "notes.txt", "not: [yaml\n");
	write_file(dir, "c.yaml.bak",
		   "{apiVersion: v1, kind: Node, metadata: {name: bak}}\n");
	write_file(dir, "empty.yaml", "");
	write_file(dir, "broken.yaml", "apiVersion: v1\nkind: [Node\n");
	snprintf(sub, sizeof(sub), "%s/sub.yaml", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file(sub, "d.yaml",
		   "{apiVersion: v1, kind: Node, metadata: {name: deep}}\n");

	struct k8s_objects *o = k8s_load_dir(dir, &dl);

	assert_non_null(o);
	/* Sorted by name: a.yml, b.yaml, broken.yaml, empty.yaml. */
	assert_int_equal(o->nfiles, 4);
	snprintf(want, sizeof(want), "%s/a.yml", dir);
	assert_string_equal(o->files[0], want);
	snprintf(want, sizeof(want), "%s/empty.yaml", dir);
	assert_string_equal(o->files[3], want);
	assert_int_equal(o->nnodes, 2);
	assert_string_equal(o->nodes[0].name, "a");
	assert_string_equal(o->nodes[1].name, "b");
	assert_int_equal(dl.n, 1);
	snprintf(want, sizeof(want), "%s/broken.yaml:3:1: YAML syntax error",
		 dir);
	assert_diag(&dl, want);
	k8s_objects_free(o);
	diag_free(&dl);

	/* A trailing slash does not double it in file names. */
	snprintf(sub, sizeof(sub), "%s/", dir);
	o = k8s_load_dir(sub, &dl);
	snprintf(want, sizeof(want), "%s/a.yml", dir);
	assert_string_equal(o->nodes[0].origin.file, want);
	k8s_objects_free(o);
	diag_free(&dl);
	tmpdir_free(dir);

	o = k8s_load_dir("/tmp/bmlb-test-k8s-does-not-exist", &dl);
	assert_null(o);
	assert_diag(&dl, "/tmp/bmlb-test-k8s-does-not-exist:0:0: cannot read "
		    "the manifests directory: No such file or directory; give "
		    "a readable directory");
	diag_free(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubectl_output),
		cmocka_unit_test(test_list_and_kinds),
		cmocka_unit_test(test_document_shape_errors),
		cmocka_unit_test(test_syntax_error_keeps_earlier_documents),
		cmocka_unit_test(test_invalid_objects),
		cmocka_unit_test(test_every_problem_of_an_object),
		cmocka_unit_test(test_duplicate_objects),
		cmocka_unit_test(test_bad_subtree_in_list),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_service_defaults),
		cmocka_unit_test(test_dual_stack_and_other_families),
		cmocka_unit_test(test_endpoint_ready_default),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_order_independence),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_load_dir_files),
	};
	return cmocka_run_group_tests_name("k8s", tests, NULL, NULL);
}
