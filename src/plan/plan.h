/* plan: the desired state every agent reaches from the same inputs.
 *
 *   plan = f(cluster file, manifests, alive LB nodes, previous plan)
 *
 * For each LoadBalancer Service: its VIP (or why it has none), its pool, the
 * LB node that announces it, and per port the ready backends.  Pure: the
 * inputs are structs, the output is a struct; `bmlb plan` prints it and the
 * agent programs it.
 */
#ifndef BMLB_PLAN_PLAN_H
#define BMLB_PLAN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/cluster.h"
#include "k8s/objects.h"

/* A Service's VIP in an earlier plan (`bmlb plan --json` output). */
struct plan_held {
	char *namespace_, *name;
	uint32_t vip;
};

struct plan_previous {
	struct plan_held *held; /* sorted by (namespace, name) */
	size_t n;
	/* Its forwardMode (an agent's allocation table has none). */
	bool has_mode;
	enum cfg_forward_mode mode;
	int mode_line, mode_col;
};

struct plan_backend {
	uint32_t ip;
	uint16_t port;
	const char *node; /* endpoint's nodeName, or NULL */
};

struct plan_port {
	const struct k8s_svc_port *spec;
	uint16_t target_port; /* resolved; 0 when a named port has no match */
	uint16_t node_port;   /* spec's; 0 when none, or an older Service's */
	struct plan_backend *backends; /* sorted by (ip, port), unique */
	size_t nbackends;
};

struct plan_service {
	const struct k8s_service *svc;
	uint32_t vip;      /* 0: none, see reason */
	const char *pool;  /* pool name, or NULL */
	const char *owner; /* Node name, or NULL: see reason */
	char *reason;      /* NULL when vip and owner are set */
	struct plan_port *ports;
	size_t nports;
};

struct plan {
	enum cfg_forward_mode mode;
	struct plan_service *services; /* sorted by (namespace, name) */
	size_t n;
	/* type NodePort Services, in the same order: no VIP, no owner; only
	 * their nodePorts, served on every node. */
	struct plan_service *node_port_services;
	size_t n_node_port;
};

struct plan_input {
	const struct cfg_cluster *cluster;
	const struct k8s_objects *objects;
	/* Node names of the LB nodes taken as alive; NULL means all. */
	const char *const *alive;
	size_t nalive;
	const struct plan_previous *previous; /* may be NULL */
	/* Non-NULL: previous is the leader's allocation table, to be
	 * followed, not extended; Services it lacks get this reason. */
	const char *follow_reason;
};

/* Computes the plan.  Problems that make inputs inconsistent (an LB node
 * with no Node manifest, an endpoint address that cannot be a backend) go
 * to dl; the plan is still computed, without what they concern. */
struct plan *plan_compute(const struct plan_input *in, struct diag_list *dl);
void plan_free(struct plan *p);

/* Reports every endpoint address of o's EndpointSlices, ready or not,
 * that cannot be a backend in cluster c (SPEC.md §10): 0.0.0.0/8,
 * loopback, link-local, multicast, broadcast, the controlPlaneVIP and
 * every address of a pool (the VIPs of all Services, the ingressVIP).
 * plan_compute reports them (and programs none); validate does too. */
void plan_check_endpoints(const struct cfg_cluster *c,
			  const struct k8s_objects *o, struct diag_list *dl);

/* The LB nodes' Node names (those that have a Node manifest), sorted. */
size_t plan_lb_node_names(const struct cfg_cluster *c,
			  const struct k8s_objects *o, const char ***names);

/* Output: the JSON object of SPEC.md §8, and a human-readable table. */
void plan_write_json(const struct plan *p, FILE *out);
void plan_write_text(const struct plan *p, FILE *out);

/* Reads the VIPs held in an earlier `bmlb plan --json` output, of at most
 * PLAN_PREVIOUS_MAX_BYTES (one of 100k services is ~30 MB: ample room).
 * Returns NULL (problems in dl) when the file is not such an output. */
#define PLAN_PREVIOUS_MAX_BYTES (512u << 20)
struct plan_previous *plan_previous_load(const char *path,
					 struct diag_list *dl);
struct plan_previous *plan_previous_parse(const char *file, const char *buf,
					  size_t len, struct diag_list *dl);
void plan_previous_free(struct plan_previous *p);
/* False (reported in dl, at p's forwardMode in `file`) when p was planned
 * for the other forwarding mode than cluster c's: its addresses were given
 * in another cluster, or before a mode change that c's creation refuses. */
bool plan_previous_fits(const struct plan_previous *p, const char *file,
			const struct cfg_cluster *c, struct diag_list *dl);
uint32_t plan_previous_find(const struct plan_previous *p, const char *ns,
			    const char *name);

#endif
