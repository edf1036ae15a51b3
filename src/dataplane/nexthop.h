/* nexthop: the next hops of the backends, as the agent manages their
 * neighbour entries, and which backends are unreachable.  Pure: the
 * shell (neigh.c) asks the kernel for the routes and the neighbour
 * entries and does what this decides.
 *
 * A next hop is the gateway of a backend's route on the cluster
 * interface, or the backend itself when on-link.  Each gets a managed
 * neighbour entry (the kernel keeps it resolved, so that XDP finds the
 * MAC) unless an operator's static entry (PERMANENT, NOARP) or another
 * program's managed one is there: those are left as they are.  bmlb's own
 * entries carry NH_PROTO, so that the next agent finds them.
 *
 * A next hop is down once its entry is FAILED, and stays down through the
 * INCOMPLETE that the kernel's next probe of a managed entry brings, until
 * the entry holds an address again; the backends behind a down next hop
 * are left out of the data plane, as if removed. */
#ifndef BMLB_DATAPLANE_NEXTHOP_H
#define BMLB_DATAPLANE_NEXTHOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NDA_PROTOCOL of the entries bmlb makes (unassigned in rt_protos). */
#define NH_PROTO 0xb1

/* A backend and its next hop (host order; hop 0: none to manage, e.g.
 * no route, a local address, or a route on another interface). */
struct nh_route {
	uint32_t backend, hop;
};

struct nh_hop {
	uint32_t ip;       /* host order */
	uint16_t state;    /* NUD_* last seen (NUD_NONE: none yet) */
	bool down;         /* see above */
	bool suspect;      /* announced FAILED since the last table read */
	bool ours;         /* its entry is bmlb's (made or adopted) */
	size_t nbackends;  /* routes through it */
};

struct nh_table {
	struct nh_route *routes; /* sorted by backend, unique */
	size_t nroutes;
	struct nh_hop *hops;     /* sorted by ip, unique */
	size_t nhops;
};

/* A neighbour entry of the cluster interface, as the kernel reports it. */
struct nh_entry {
	uint32_t ip;    /* host order */
	uint16_t state; /* NUD_* */
	bool managed;   /* NTF_EXT_MANAGED */
	bool ours;      /* NDA_PROTOCOL NH_PROTO */
};

/* Makes r[0..n) t's routes (any order, duplicates ignored) and their next
 * hops its hops; a hop that stays keeps its state. */
void nh_set_routes(struct nh_table *t, const struct nh_route *r, size_t n);
void nh_free(struct nh_table *t);

/* Whether a next hop is down, seen in state, having been down before
 * (was). */
bool nh_is_down(bool was, uint16_t state);

/* Records that hop ip's entry is in state (NUD_NONE: it is gone); returns
 * true when that changes whether the hop is down.  Any other ip: false. */
bool nh_observe(struct nh_table *t, uint32_t ip, uint16_t state);

/* nh_observe() for a state the kernel announced (a neighbour event), but
 * for FAILED: an entry deleted (`ip neigh flush`, an operator's `ip neigh
 * del`) is announced FAILED on its way out, so an event cannot tell a
 * dead next hop from a deleted entry.  It makes the hop suspect; the
 * table read at the next tick decides (nh_observe_entries): still there
 * and holding no address (FAILED, or INCOMPLETE again as the kernel
 * re-probes a managed entry), it is down; gone, it was deleted. */
bool nh_observe_event(struct nh_table *t, uint32_t ip, uint16_t state);

/* Records every hop's state from the entries e[0..n) of the interface
 * (any order; a hop without one: gone); true when a hop went down or came
 * back. */
bool nh_observe_entries(struct nh_table *t, const struct nh_entry *e,
			size_t n);

/* What to do, given the entries e[0..n) of the interface (any order):
 * *create gets the hops to give a managed entry of bmlb's (none there,
 * or a learned one to take over), *remove bmlb's entries that no hop
 * needs (both sorted, malloc'd).  Marks the hops whose entry is or will
 * be bmlb's. */
void nh_plan(struct nh_table *t, const struct nh_entry *e, size_t n,
	     uint32_t **create, size_t *ncreate, uint32_t **remove,
	     size_t *nremove);

/* The backends whose next hop is down, sorted (malloc'd). */
size_t nh_down_backends(const struct nh_table *t, uint32_t **out);

/* The route of backend, or NULL when it is none of t's backends. */
const struct nh_route *nh_route_of(const struct nh_table *t,
				   uint32_t backend);

/* The next hop of backend, or NULL when it has none. */
const struct nh_hop *nh_hop_of(const struct nh_table *t, uint32_t backend);

/* "REACHABLE", "FAILED", ... for a NUD_* state ("NONE" for 0). */
const char *nh_state_name(uint16_t state);

#endif
