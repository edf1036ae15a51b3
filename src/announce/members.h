/* members: which LB nodes are alive, as this node's agent sees it
 * (SPEC.md §4).
 *
 * Every LB node sends a HELLO to every other one each interval.  A peer is
 * alive from the first authentic message it sends until it says BYE (a
 * clean stop: at once) or stays silent longer than the timeout (SIGKILL,
 * link down, frozen).  Only peers that have joined (PEER_F_READY) count for
 * the leader, the alive node with the smallest name, which decides new
 * address allocations for everyone (table.h).  They count for ownership,
 * and so do the peers that were still joining when this node joined, if
 * they had started before every ready peer joined (memb_joined): at a cold
 * start, the first node to join leaves the others' VIPs to them for the
 * moment they take to join, instead of claiming every VIP and handing most
 * of them over again.  A peer that starts once a node has joined counts
 * only once it has joined itself: until then the running nodes, which do
 * not count it either, keep serving its VIPs.
 *
 * Pure: the caller passes every datagram (already through peer_open) and
 * the time; nothing here reads a clock or a socket.
 */
#ifndef BMLB_ANNOUNCE_MEMBERS_H
#define BMLB_ANNOUNCE_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "announce/peer_msg.h"

struct memb_peer {
	char *name;
	uint32_t ip;       /* its InternalIP, host order */
	bool alive;        /* heard within the timeout, no BYE since */
	bool ready;        /* alive and joined */
	uint64_t heard_ms; /* monotonic time of the last accepted message;
			    * 0: never */
	uint64_t last_ts;  /* timestamp of the last accepted message */
	uint64_t digest;   /* table digest it last announced */
	uint64_t ready_ms; /* when it joined, heard here; 0: ready already
			    * when heard (first, or after silence) */
	uint64_t joins_by_ms; /* nonzero: it was joining when this node
			       * joined, and counts as an owner until it
			       * joins, stops or this time passes */
	uint64_t accepted;
	uint64_t refused[PEER_VERDICT_MAX]; /* by verdict, [PEER_OK] unused */
	const char *why;   /* why it last changed state ("started",
			    * "joined", "not ready", "stopped", "missed
			    * messages", "came back", "did not join in
			    * time"), static; NULL: never */
	uint64_t changed_ms; /* when */
	uint64_t grace_ms; /* alive until then at least (PEER_F_RESTART) */
};

struct memb {
	char *self;
	uint64_t timeout_ms;
	struct memb_peer *peers; /* the other LB nodes, sorted by name */
	size_t n;
	/* Refused datagrams that name no LB node (or could not be read). */
	uint64_t unattributed[PEER_VERDICT_MAX];
};

/* self and every LB node as (names[i], ips[i]); self is left out of the
 * peers.  Copies the names. */
void memb_init(struct memb *m, const char *self, const char *const *names,
	       const uint32_t *ips, size_t n, uint64_t timeout_ms);
void memb_free(struct memb *m);

/* The peer named name, or NULL. */
struct memb_peer *memb_find(struct memb *m, const char *name);

/* What one received datagram did. */
struct memb_event {
	enum peer_verdict verdict; /* PEER_OK: accepted */
	struct memb_peer *peer;    /* the named LB node, or NULL */
	bool changed; /* the ready peers or the owners (memb_ready) changed
		       * (replan) */
};

/* Takes one datagram: v and m from peer_open, src_ip (host order) the
 * address it came from, now_ms monotonic and now_ns the wall clock.
 * Refusals are counted on the named peer (or unattributed) and change
 * nothing else.  A message naming this node itself is PEER_UNKNOWN. */
struct memb_event memb_receive(struct memb *mb, enum peer_verdict v,
			       const struct peer_msg *m, uint32_t src_ip,
			       uint64_t now_ms, uint64_t now_ns);

/* This node joins at now_ms: the peers alive and not ready that started
 * (changed_ms) before every ready peer joined (ready_ms) join with it; they
 * count as owners until they join, stop, or join_ms pass. */
void memb_joined(struct memb *m, uint64_t now_ms, uint64_t join_ms);

/* Marks peers silent for longer than the timeout dead, and stops counting
 * the peers joining with this node that are past their time.  Returns true
 * when the ready peers or the owners changed. */
bool memb_expire(struct memb *m, uint64_t now_ms);

/* The owners' names: the ready nodes, this node's included when
 * self_ready, and the peers joining with this node (memb_joined), sorted;
 * *names is malloc'd (the strings are m's).  Returns the count. */
size_t memb_ready(const struct memb *m, bool self_ready, const char ***names);

/* The leader: the smallest name among the ready nodes (self included when
 * self_ready), or NULL when there is none. */
const char *memb_leader(const struct memb *m, bool self_ready);

#endif
