/* reconcile: from a plan to what the data plane must hold, and what
 * changed.  Pure: the agent calls these and does the I/O.
 *
 * Every LoadBalancer Service port that has a VIP is programmed on every LB
 * node, not only on its owner, so that a node that becomes owner later
 * (failover) already forwards; a node that does not own a VIP simply never
 * receives its traffic. */
#ifndef BMLB_AGENT_RECONCILE_H
#define BMLB_AGENT_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/dp.h"
#include "plan/plan.h"

/* Where a programmed service port comes from. */
struct rec_meta {
	const char *namespace_, *name; /* point into the plan's objects */
	const char *owner;             /* Node name, or NULL */
	const char *reason;            /* why no owner (NULL when one) */
	bool local;                    /* externalTrafficPolicy: Local */
	size_t left_out; /* backends left out by rec_without */
};

/* The service ports of one plan, sorted by (VIP, port, protocol). */
struct rec_set {
	struct dp_service *svcs; /* what dp_sync takes */
	struct rec_meta *meta;   /* svcs[i] comes from meta[i] */
	size_t n;
	struct dp_backend *backends; /* svcs[i].backends point in here */
};

/* Builds the service ports of p as node (address node_ip, host order)
 * programs them: each port at its VIP (with vips: an LB node), and at
 * node_ip:nodePort when it has one (every node); a Local Service's ports with only the endpoints on node (flagged
 * local: delivered there, source kept), a Cluster one's with every ready
 * endpoint.  The set points into p (and p's objects): free it before
 * them. */
void rec_build(const struct plan *p, const char *node, uint32_t node_ip,
	       bool vips, struct rec_set *out);
void rec_free(struct rec_set *s);

/* The backends' addresses of s, sorted, each once (malloc'd). */
size_t rec_backend_ips(const struct rec_set *s, uint32_t **out);

/* in without the backends whose address is in down[0..n) (sorted): every
 * service port stays, with fewer backends (possibly none), and counts
 * those it lost in meta.left_out.  Points into what in points into. */
void rec_without(const struct rec_set *in, const uint32_t *down, size_t n,
		 struct rec_set *out);

enum rec_change { REC_ADDED, REC_CHANGED, REC_REMOVED };

/* One difference between two sets: svc/meta from the new set (from the
 * old one for REC_REMOVED); was_nbackends the old count (REC_CHANGED). */
struct rec_event {
	enum rec_change change;
	const struct dp_service *svc;
	const struct rec_meta *meta;
	size_t was_nbackends;
};

/* Calls fn for every service port added, changed (backends, policy or
 * owning Service) or removed from old to next, in (VIP, port, protocol)
 * order. */
void rec_diff(const struct rec_set *old, const struct rec_set *next,
	      void (*fn)(const struct rec_event *ev, void *arg), void *arg);

/* The VIPs p holds, as `previous` for the next plan (so that a reload and
 * a restart keep every allocation). */
struct plan_previous *rec_previous(const struct plan *p);

/* Problems found in the manifests (dl->v[from..n)) as keys that do not
 * move when lines are added elsewhere: "file, field path, message", sorted
 * and unique.  A running agent refuses a reload that brings a problem its
 * current state did not have (SPEC.md §7: keep the last good state). */
size_t rec_problems(const struct diag_list *dl, size_t from, char ***out);
void rec_problems_free(char **keys, size_t n);

/* How many of next[0..nnext) are not in prev[0..nprev) (both from
 * rec_problems). */
size_t rec_new_problems(char *const *prev, size_t nprev, char *const *next,
			size_t nnext);

/* "TCP" or "UDP" for a dp_service protocol. */
const char *rec_proto_name(uint8_t proto);

#endif
