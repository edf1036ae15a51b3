/* objects: the Kubernetes objects bmlb reads (Node, Service, EndpointSlice)
 * as plain structs, loaded from the YAML manifests of one directory.
 *
 * Input is what `kubectl get -o yaml` prints: any number of documents per
 * file, each one object or a `kind: List` with `items`.  Kinds bmlb does not
 * use are skipped.  An invalid object is reported (file, line, field) and
 * left out; every other object still loads, except that an object defined
 * twice is left out in every copy.  After loading, every array is sorted
 * (see struct k8s_objects), so that the same objects in any file order and
 * any document order give the same arrays.
 */
#ifndef BMLB_K8S_OBJECTS_H
#define BMLB_K8S_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/diag.h"

#define K8S_ANN_POOL "metallb.universe.tf/address-pool"
#define K8S_ANN_IPS "metallb.universe.tf/loadBalancerIPs"
#define K8S_ANN_SHARE "metallb.universe.tf/allow-shared-ip"
#define K8S_LABEL_SERVICE_NAME "kubernetes.io/service-name"
#define K8S_LABEL_LBNODE "baremetal.cluster.gke.io/lbnode"

/* Where an object came from, for diagnostics. */
struct k8s_origin {
	const char *file; /* owned by struct k8s_objects */
	int line, col;
	const char *path; /* in its document: "" or "items[3]" for a List */
};

struct k8s_label {
	char *key, *value;
};

struct k8s_node {
	char *name;
	struct k8s_label *labels;
	size_t nlabels;
	uint32_t internal_ip; /* status.addresses[type=InternalIP]; 0 if none */
	uint32_t *pod_cidrs;  /* spec.podCIDR / podCIDRs: network, prefix len */
	uint8_t *pod_cidr_lens;
	size_t npod_cidrs;
	bool ready; /* Ready condition is "True" */
	struct k8s_origin origin;
};

enum k8s_protocol { K8S_TCP, K8S_UDP };

enum k8s_svc_type { K8S_SVC_OTHER, K8S_SVC_LOADBALANCER, K8S_SVC_NODEPORT };

/* The nodePort range (Kubernetes' default --service-node-port-range). */
#define K8S_NODE_PORT_MIN 30000
#define K8S_NODE_PORT_MAX 32767

struct k8s_svc_port {
	char *name; /* "" when unnamed */
	enum k8s_protocol protocol;
	uint16_t port;
	uint16_t target_port; /* 0 when target_port_name is set */
	char *target_port_name; /* NULL unless targetPort is a name */
	uint16_t node_port; /* 0 when absent */
	int node_port_line, node_port_col; /* where it is written */
};

struct k8s_service {
	char *namespace_, *name;
	enum k8s_svc_type type;
	int64_t created; /* creationTimestamp, seconds since the epoch;
			    INT64_MAX when absent (sorts as newest) */
	bool local; /* externalTrafficPolicy: Local */
	uint32_t lb_ip; /* spec.loadBalancerIP; 0 if absent */
	uint32_t ann_ip; /* metallb.universe.tf/loadBalancerIPs; 0 if absent */
	char *ann_pool;  /* metallb.universe.tf/address-pool; NULL if absent */
	char *share_key; /* metallb.universe.tf/allow-shared-ip; NULL/"" none */
	uint32_t *ingress_ips; /* status.loadBalancer.ingress[].ip */
	size_t ningress_ips;
	struct k8s_svc_port *ports;
	size_t nports;
	struct k8s_origin origin;
};

struct k8s_endpoint {
	uint32_t *addresses;
	size_t naddresses;
	int line, col; /* where its addresses are listed */
	bool ready; /* conditions.ready; absent means ready (k8s API rule) */
	char *node_name; /* NULL if absent */
};

struct k8s_slice_port {
	char *name; /* "" when unnamed */
	enum k8s_protocol protocol;
	uint16_t port; /* 0 when absent (the API's "all ports") */
};

struct k8s_slice {
	char *namespace_, *name;
	char *service_name; /* label kubernetes.io/service-name; NULL if none */
	struct k8s_endpoint *endpoints;
	size_t nendpoints;
	struct k8s_slice_port *ports;
	size_t nports;
	struct k8s_origin origin;
};

struct k8s_objects {
	struct k8s_node *nodes; /* sorted by name */
	size_t nnodes;
	struct k8s_service *services; /* sorted by (namespace, name) */
	size_t nservices;
	struct k8s_slice *slices; /* sorted by (namespace, service, name) */
	size_t nslices;
	char **files; /* file names the origins point into */
	size_t nfiles;
	struct arena arena; /* every string and array of the objects */
};

/* Loads every *.yaml / *.yml file of dir (not recursive; hidden files
 * skipped).  Problems go to dl.  Returns the objects (possibly empty), or
 * NULL only when the directory itself cannot be read. */
struct k8s_objects *k8s_load_dir(const char *dir, struct diag_list *dl);

/* Loads one buffer as if it were file `file` (tests, fuzzing). */
struct k8s_objects *k8s_parse(const char *file, const char *buf, size_t len,
			      struct diag_list *dl);

void k8s_objects_free(struct k8s_objects *o);

/* Lookups over the sorted arrays: NULL when not found. */
const struct k8s_node *k8s_node_by_name(const struct k8s_objects *o,
					const char *name);
const struct k8s_node *k8s_node_by_ip(const struct k8s_objects *o,
				      uint32_t ip);
const struct k8s_service *k8s_service_find(const struct k8s_objects *o,
					   const char *ns, const char *name);
/* The slices of service ns/name: *n of them from the returned pointer. */
const struct k8s_slice *k8s_slices_of(const struct k8s_objects *o,
				      const char *ns, const char *svc,
				      size_t *n);

const char *k8s_protocol_name(enum k8s_protocol p);

/* Services oldest first: by creationTimestamp, then namespace and name
 * (the order in which addresses and nodePorts are given out). */
int k8s_service_age_cmp(const struct k8s_service *a,
			const struct k8s_service *b);

#endif
