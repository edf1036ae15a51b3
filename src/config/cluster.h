/* cluster: the cluster file (a GKE-style `kind: Cluster` resource) as a
 * plain struct, and the rules of SPEC.md §2 that need no live machine.
 *
 * cfg_load() reads the file, decodes every field bmlb uses, checks every
 * rule, and reports ALL problems at once into a diag_list.  Fields bmlb does
 * not use are ignored, so an operator's full file is accepted unchanged.
 * The file may hold other documents (Namespace, NodePool, ...): exactly one
 * of them must be the Cluster.
 */
#ifndef BMLB_CONFIG_CLUSTER_H
#define BMLB_CONFIG_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/diag.h"
#include "lib/ipv4.h"

/* A cluster file is a few kilobytes; anything past this is a mistake. */
#define CFG_MAX_BYTES (4u << 20)

#define CFG_DSR_ANNOTATION "preview.baremetal.cluster.gke.io/dpv2-lbmode-dsr"

enum cfg_cluster_type {
	CFG_TYPE_USER, /* the default */
	CFG_TYPE_ADMIN,
	CFG_TYPE_HYBRID,
	CFG_TYPE_STANDALONE,
};

enum cfg_forward_mode {
	CFG_FORWARD_SNAT, /* the default */
	CFG_FORWARD_DSR,
};

/* What decided the forwarding mode. */
enum cfg_mode_source {
	CFG_MODE_DEFAULT,    /* neither forwardMode nor the annotation */
	CFG_MODE_FIELD,      /* spec.clusterNetwork.forwardMode */
	CFG_MODE_ANNOTATION, /* only CFG_DSR_ANNOTATION */
};

struct cfg_pool {
	char *name;
	struct ipv4_range *ranges; /* sorted by first address */
	size_t nranges;
	bool avoid_buggy_ips;
	bool manual_assign;
	int line, col; /* where the pool's entry starts */
	int addresses_line, addresses_col; /* its addresses list */
};

struct cfg_node {
	uint32_t address; /* management (SSH) address */
	uint32_t k8s_ip;  /* 0 when not set */
	int line, col;
};

/* The node's address in the cluster: k8sIP when set, else address. */
static inline uint32_t cfg_node_cluster_ip(const struct cfg_node *n)
{
	return n->k8s_ip ? n->k8s_ip : n->address;
}

struct cfg_cluster {
	char *file;
	char *name, *namespace_; /* "" when absent, never NULL */
	enum cfg_cluster_type type;
	enum cfg_forward_mode forward_mode;
	bool flat_ipv4;

	struct cfg_node *cp_nodes; /* spec.controlPlane.nodePoolSpec.nodes */
	size_t ncp_nodes;
	struct cfg_node *lb_nodes; /* spec.loadBalancer.nodePoolSpec.nodes */
	size_t nlb_nodes;
	bool lb_nodes_from_cp; /* no LB node list (absent or empty):
				  the control-plane nodes serve */

	uint16_t cp_lb_port;    /* controlPlaneLBPort, 443 when absent */
	uint32_t cp_vip;        /* controlPlaneVIP */
	int cp_vip_line, cp_vip_col; /* where it is written */
	uint32_t ingress_vip;   /* 0 when absent */
	struct cfg_pool *pools; /* in file order */
	size_t npools;

	/* Where things are, for cfg_check_change's diagnostics: what decided
	 * the mode (the spec.clusterNetwork or spec mapping when defaulted),
	 * and spec.loadBalancer.addressPools (or spec.loadBalancer). */
	enum cfg_mode_source mode_source;
	int mode_line, mode_col;
	int pools_line, pools_col;
};

/* Loads and validates path.  Returns the cluster, or NULL when any problem
 * was found (every problem is in dl). */
struct cfg_cluster *cfg_load(const char *path, struct diag_list *dl);

/* As cfg_load, from a buffer (for tests and fuzzing). */
struct cfg_cluster *cfg_parse(const char *file, const char *buf, size_t len,
			      struct diag_list *dl);

void cfg_free(struct cfg_cluster *c);

/* The LB nodes: lb_nodes, or the control-plane nodes when none are listed. */
const struct cfg_node *cfg_lb_nodes(const struct cfg_cluster *c, size_t *n);

/* Index of the pool holding address a, or -1. */
int cfg_pool_of(const struct cfg_cluster *c, uint32_t a);

/* Index of the pool named name, or -1. */
int cfg_pool_by_name(const struct cfg_cluster *c, const char *name);

/* True when a is in pool p and not removed by avoidBuggyIPs. */
bool cfg_pool_usable(const struct cfg_pool *p, uint32_t a);

/* Checks that `next` may replace `prev`, the configuration the cluster was
 * created with (SPEC.md §2: the forwarding mode and every pool's name and
 * addresses are fixed; avoidBuggyIPs and manualAssign may change).  Every
 * refused change goes to dl, located in next's file.  Returns true when
 * allowed. */
bool cfg_check_change(const struct cfg_cluster *prev,
		      const struct cfg_cluster *next, struct diag_list *dl);

const char *cfg_forward_mode_name(enum cfg_forward_mode m);

#endif
