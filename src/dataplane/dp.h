/* dp: the data plane as the agent sees it: load the BPF programs, attach
 * them, and program services into their maps.
 *
 * dp_sync() takes the whole desired set of service ports and applies only
 * the difference: unchanged services are not touched, a changed backend
 * set swaps in a new Maglev table in one map update, backends no longer
 * used by any service are retired after the tables stop naming them.
 * Maps (and the XDP link) are pinned under pin_dir, so that a restarted
 * agent finds the running data plane, reads back what is programmed, and
 * takes over without dropping a packet.
 */
#ifndef BMLB_DATAPLANE_DP_H
#define BMLB_DATAPLANE_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "bpf/lb.h"

struct dp;

struct dp_config {
	const char *ifname;  /* the cluster interface (XDP or tc ingress) */
	const char *tunnel_ifname; /* optional: tc ingress too (VXLAN) */
	uint32_t node_ip;    /* host order */
	uint32_t pod_net;    /* this node's pod network, host order */
	uint8_t pod_prefix;  /* its prefix length; 0: none known */
	uint16_t snat_min, snat_max;
	struct lb_timeouts timeouts;
	uint32_t source_new_max; /* unanswered flows per source per window */
	uint64_t hash_seed;  /* the flow hash's seed: the same on every node */
	uint32_t ct_entries; /* flows tracked at most; 0: LB_CT_ENTRIES */
	const char *pin_dir; /* NULL: nothing pinned (packet tests) */
	bool use_tc;         /* tc ingress instead of XDP on ifname */
	bool attach;         /* false: load only (packet tests, benches) */
	bool dsr;            /* forwardMode dsr: no conntrack, no SNAT */
	bool worker;         /* DSR on a worker: also reads the option
				(dsr_in on tc ingress, or within lb_tc) */
};

/* SNAT ports by default: 13616 of them, below Kubernetes' NodePort range
 * (30000-32767, K8S_NODE_PORT_MIN/MAX, which must reach the services) and
 * Linux's ephemeral range (32768-60999, so that the node's own connections
 * never take one).  Per backend, a port comes free a second after its
 * flow closed both ways (10 s after a flow closed one way, or expired). */
#define DP_SNAT_MIN_DEFAULT 16384
#define DP_SNAT_MAX_DEFAULT 29999

/* Defaults: the SNAT ports above, Cilium-like timeouts (but 5 s for a
 * flow its backend has not answered), LB_SOURCE_NEW_MAX, seed 0. */
void dp_config_defaults(struct dp_config *c);

struct dp_backend {
	uint32_t ip;   /* host order */
	uint16_t port; /* host order */
};

/* A service port; one on the node's own address (cfg.node_ip) is a
 * NodePort. */
struct dp_service {
	uint32_t vip;  /* host order */
	uint16_t port; /* host order */
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	bool local;
	const struct dp_backend *backends;
	size_t nbackends;
};

/* Loads (or, with pinned maps present, takes over) and attaches.  On
 * failure returns -errno with a message naming the object and the errno in
 * err. */
int dp_open(const struct dp_config *c, struct dp **out, char *err,
	    size_t errlen);

/* True when dp_open found maps of this layout version pinned and took them
 * over (what a previous agent programmed), false on a fresh start. */
bool dp_adopted(const struct dp *dp);

/* The interface the data plane serves: its index and MAC. */
void dp_iface(const struct dp *dp, int *ifindex, uint8_t mac[6]);

/* Detaches nothing: the data plane keeps forwarding after the agent exits
 * (an agent restart must not break connections).  dp_destroy() detaches and
 * unpins everything. */
void dp_close(struct dp *dp);
void dp_destroy(struct dp *dp);

/* Makes the programmed services exactly svcs[0..n).  Returns 0 or -errno
 * (what was applied before the error stays consistent). */
int dp_sync(struct dp *dp, const struct dp_service *svcs, size_t n,
	    char *err, size_t errlen);

/* Sums the per-CPU counters into out[LB_C_MAX]. */
int dp_counters(struct dp *dp, uint64_t *out);

/* Deletes expired flows: tracked ones with their SNAT bindings, and
 * those whose replies are rewritten (DSR worker, Local); returns how
 * many. */
long dp_gc(struct dp *dp, uint64_t now_ns);

/* Number of flows: tracked ones, plus those whose replies are rewritten
 * (a DSR worker's: the flows the option announced; Local ones), or -errno (reads the whole table, a batch of flows per
 * system call: for status, not hot paths). */
long dp_flows(struct dp *dp);

/* Makes the VIPs this node answers ARP for exactly vips[0..n) (host
 * order); conflicts recorded for VIPs no longer owned are forgotten.
 * Returns 0 or -errno (message in err). */
int dp_announce(struct dp *dp, const uint32_t *vips, size_t n, char *err,
		size_t errlen);

/* Lets the data plane answer ARP until until_ns (CLOCK_MONOTONIC); 0
 * silences it at once. */
int dp_lease(struct dp *dp, uint64_t until_ns);

/* The lease as the data plane holds it (0 when none). */
uint64_t dp_lease_until(struct dp *dp);

/* Another MAC seen claiming an owned VIP. */
struct dp_conflict {
	uint32_t vip; /* host order */
	uint8_t mac[6];
	uint64_t count;
};

/* The conflicts recorded, at most max of them.  Returns how many. */
size_t dp_conflicts(struct dp *dp, struct dp_conflict *out, size_t max);

/* For packet tests and benches: the program fds and the map fds. */
int dp_prog_fd(struct dp *dp, bool tc);
int dp_map_fd(struct dp *dp, const char *name);

/* DSR, worker side: makes the LB nodes whose option is believed exactly
 * peers[0..n) (their MACs, and addresses for the record).  Returns 0 or
 * -errno. */
struct dp_peer {
	uint8_t mac[6];
	uint32_t ip; /* host order */
};
int dp_set_peers(struct dp *dp, const struct dp_peer *peers, size_t n);

/* DSR, worker side, for packet tests: the ingress or egress program. */
int dp_worker_prog_fd(struct dp *dp, bool egress);

#endif
