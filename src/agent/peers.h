/* peers: the LB nodes' liveness channel, the agent's side (SPEC.md §4).
 *
 * A UDP socket on this node's address and the peer port, and a timer: every
 * interval a HELLO goes to every other LB node, silent peers are declared
 * dead (members.h), and the leader sends its allocation table to any peer
 * that announces another digest (table.h).  Datagrams are sealed and
 * checked with the cluster key (peer_msg.h).  This node joins (becomes
 * ready, so that it may own VIPs) once it has listened for the timeout and
 * holds the leader's table (with no leader: has heard every LB node), or
 * after PEERS_JOIN_MAX_MS at the latest; the peers still joining then join
 * with it (members.h): it leaves their VIPs to them.
 *
 * What happens is reported through callbacks; nothing here touches the
 * plan or the data plane.
 */
#ifndef BMLB_AGENT_PEERS_H
#define BMLB_AGENT_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/loop.h"
#include "announce/members.h"
#include "announce/table.h"
#include "lib/json_writer.h"

#define PEERS_INTERVAL_MS 50 /* default: a HELLO each 50 ms */
#define PEERS_TIMEOUT_MS 200 /* default: dead after 200 ms of silence */
#define PEERS_JOIN_MAX_MS 2000
#define PEERS_TABLE_RESEND_MS 500

struct peers;

struct peers_cb {
	/* The set of ready LB nodes (this one included) changed; why says
	 * how ("lb-2 stopped", "lb-3 missed messages", "joined"). */
	void (*changed)(void *arg, const char *why);
	/* A complete table from the leader (named), differing from ours. */
	void (*table)(void *arg, const struct table *t, const char *from);
	/* After each interval's HELLOs: renew the lease, send GARPs. */
	void (*tick)(void *arg, uint64_t now_ms);
	void *arg;
};

struct peers_config {
	const char *self;
	uint32_t self_ip; /* host order */
	uint16_t port;
	uint64_t interval_ms, timeout_ms;
	const void *key;
	size_t keylen;
	/* Every LB node (this one included). */
	const char *const *names;
	const uint32_t *ips;
	size_t n;
	/* A previous agent exited for a restart and its data plane still
	 * announces: say READY from the first message (the peers kept this
	 * node alive), and settle after listening for the timeout. */
	bool resume;
};

/* Binds and starts the timer.  Returns 0 or -errno (message in err). */
int peers_open(struct loop *l, const struct peers_config *c,
	       const struct peers_cb *cb, struct peers **out, char *err,
	       size_t errlen);

/* How this node leaves. */
enum peers_leave {
	PEERS_SILENT,  /* just close (start-up failure) */
	PEERS_BYE,     /* a clean stop: the peers take the VIPs at once */
	PEERS_RESTART, /* a restart: the peers wait PEER_RESTART_GRACE_MS */
};

/* Tells every peer how this node leaves, closes, frees. */
void peers_close(struct peers *p, enum peers_leave how);

/* The LB nodes changed (cluster file or Node manifests): peers keep their
 * state by name. */
void peers_set_nodes(struct peers *p, const char *const *names,
		     const uint32_t *ips, size_t n);

/* The table this node holds: its digest goes in every HELLO, and the
 * leader sends it to peers holding another.  Copied. */
void peers_set_table(struct peers *p, const struct table *t);

bool peers_ready(const struct peers *p);

/* Ready, and has listened long enough to know who else is (a resumed
 * node is ready before it has): owners may be computed. */
bool peers_settled(const struct peers *p);

/* The owners: the ready LB nodes' names, this one included once ready,
 * and those joining with it (members.h), sorted (*names malloc'd; the
 * strings live until the next peers_ call). */
size_t peers_alive(const struct peers *p, const char ***names);

/* The leader (the smallest ready name), or NULL. */
const char *peers_leader(const struct peers *p);

/* "peers": [...] and "refusedUnattributed": {...} for the status. */
void peers_report(const struct peers *p, struct jw *w, uint64_t now_ms);

#endif
