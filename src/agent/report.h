/* report: what the agent tells `bmlb status`, as one JSON object.
 * Pure: the agent fills a struct report, this writes it.  The shape:
 *
 *   {"node":"lb-1","role":"lb","interface":"eth0","address":"198.18.0.11",
 *    "tunnelInterface":null,"mode":"snat","hook":"xdp","dataplane":true,
 *    "pid":42,"startedAt":"2026-11-24T08:00:00Z",
 *    "lastReload":{"at":"...","trigger":"manifests","ok":true,
 *                  "error":null},                    (null: none yet)
 *    "syncError":null,
 *    "vipsOwned":["198.18.0.101"],
 *    "programmed":[{"namespace":"default","name":"web",
 *                   "vip":"198.18.0.101","port":80,"protocol":"TCP",
 *                   "owner":"lb-1","local":false,
 *                   "backends":["198.19.21.5:8080"],"leftOut":0}],
 *    "unallocated":[{"namespace":"default","name":"x","reason":"..."}],
 *    "counters":{"packets":0,...},                   (null: no data plane)
 *    "flows":0,                                      (null: no data plane)
 *    "nextHops":[{"address":"198.18.0.21","neighbour":"REACHABLE",
 *                 "managed":true,"unreachable":false,"backends":2}],
 *    "backendsLeftOut":0,"backendsLeftOutTotal":0,   (null: no data plane)
 *    "children":[{"name":"haproxy","pid":43,"restarts":0,
 *                 "lastExit":null,"adopted":false}]}  ([] on a worker)
 *
 * "programmed" lists the service ports the data plane holds (every VIP's,
 * not only the owned ones), each with the backends left out because their
 * next hop is unreachable; counters are named after enum lb_counter.
 * "nextHops" are the backends' next hops on the interface: the state of
 * their neighbour entry, whether it is bmlb's managed one (false: an
 * operator's static entry, left as it is) and how many backends are
 * behind it; "backendsLeftOut" how many backends are left out now,
 * "backendsLeftOutTotal" how many times one was since the start.
 * "children" are the daemons of the control-plane VIP: pid 0 while one
 * waits to be started again, lastExit "status N", "signal NAME",
 * "unknown" (a process started by an earlier agent) or "not started". */
#ifndef BMLB_AGENT_REPORT_H
#define BMLB_AGENT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "agent/announce.h"
#include "agent/peers.h"
#include "agent/reconcile.h"
#include "agent/supervise.h"
#include "bpf/lb.h"
#include "dataplane/nexthop.h"

/* JSON names of enum lb_counter, indexed by it. */
extern const char *const report_counter_names[LB_C_MAX];

struct report {
	const char *node, *role, *ifname, *tunnel_ifname, *mode, *hook;
	uint32_t node_ip;
	long pid;
	time_t started;
	time_t reload_at; /* 0: no reload yet */
	const char *reload_trigger;
	const char *reload_error; /* NULL: the reload was applied */
	const char *sync_error;   /* NULL: the data plane holds the plan */
	const struct plan *plan;
	const struct rec_set *programmed; /* NULL: no data plane */
	const uint64_t *counters;         /* LB_C_MAX; NULL: none */
	long flows;                       /* < 0: none */
	const struct nh_table *hops;      /* NULL: no data plane */
	size_t left_out;                  /* backends left out now */
	uint64_t left_out_total;          /* ... and since the start */
	const struct sup_info *children;
	size_t nchildren;
	/* LB nodes: VIPs announced and peers (both or neither). */
	const struct announcer *ann;
	const struct peers *peers;
	uint64_t now_ms; /* monotonic, for "last heard" */
};

void report_write_json(const struct report *r, FILE *out);

#endif
