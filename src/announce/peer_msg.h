/* peer_msg: the messages LB nodes exchange (SPEC.md §4), on the wire.
 *
 * One UDP datagram each, authenticated with HMAC-SHA256 under the cluster
 * key, so that a host without the key can neither make a node look alive or
 * dead nor take over a VIP.  Every message carries the sender's wall clock
 * in ns; a receiver accepts from each sender only timestamps that increase
 * (members.h keeps the last one per sender), and within PEER_SKEW_NS of its
 * own clock.  Each message is sealed for one receiver, named by its
 * InternalIP: one captured on its way to an LB node is refused by every
 * other (PEER_RECEIVER), whatever they have heard.  A captured message can
 * thus be played again only to the node it was sealed for, within
 * PEER_SKEW_NS, and only while that node has heard nothing newer from its
 * sender (an agent just started): what the sender said 2 s before at most.
 *
 *   offset  size  field (integers big-endian)
 *   0       4     magic "BMLB"
 *   4       1     version (PEER_VERSION)
 *   5       1     type (enum peer_type)
 *   6       1     flags (PEER_F_*)
 *   7       1     name length N (1..PEER_NAME_MAX)
 *   8       8     timestamp, ns since the epoch (CLOCK_REALTIME)
 *   16      8     digest of the allocation table the sender holds
 *   24      4     receiver's InternalIP (IPv4)
 *   28      N     sender's Node name
 *   28+N    P     payload (PEER_TABLE: table.h's chunk; else empty)
 *   28+N+P  32    HMAC-SHA256 of every byte before it
 *
 * Version 2 added the receiver; version 1 datagrams are malformed.
 *
 * Pure: no I/O, no clock (callers pass the time).
 */
#ifndef BMLB_ANNOUNCE_PEER_MSG_H
#define BMLB_ANNOUNCE_PEER_MSG_H

#include <stddef.h>
#include <stdint.h>

#define PEER_VERSION 2
#define PEER_NAME_MAX 63
#define PEER_HDR_LEN 28
#define PEER_MAC_LEN 32
#define PEER_DGRAM_MAX 1400 /* fits any cluster segment's MTU */
/* How far a timestamp may be from the receiver's clock: LB nodes keep
 * their clocks within it (NTP keeps them within milliseconds). */
#define PEER_SKEW_NS (2ull * 1000000000ull)

enum peer_type {
	PEER_HELLO = 1, /* I am alive (sent every interval) */
	PEER_BYE = 2,   /* I am stopping: take my VIPs now */
	PEER_TABLE = 3, /* a chunk of the leader's allocation table */
};

#define PEER_F_READY 0x1 /* has joined: counts for ownership and leader */
/* Exiting to be restarted: its data plane keeps announcing; wait up to
 * PEER_RESTART_GRACE_MS for the next agent before declaring it dead. */
#define PEER_F_RESTART 0x2
#define PEER_RESTART_GRACE_MS 10000

struct peer_msg {
	enum peer_type type;
	uint8_t flags;
	uint64_t ts_ns;
	uint64_t digest;
	uint32_t to; /* the receiver's InternalIP, host order */
	char name[PEER_NAME_MAX + 1];
	const uint8_t *payload; /* into the buffer given to peer_open */
	size_t payload_len;
};

/* Why a datagram was refused (or PEER_OK). */
enum peer_verdict {
	PEER_OK = 0,
	PEER_MALFORMED, /* too short, bad magic/version/type/name */
	PEER_AUTH,      /* HMAC does not match: not from a key holder */
	PEER_UNKNOWN,   /* authentic, but the name is not an LB node */
	PEER_SOURCE,    /* sent from another address than the node's */
	PEER_REPLAY,    /* timestamp not after the last one accepted */
	PEER_SKEW,      /* timestamp too far from the receiver's clock */
	PEER_RECEIVER,  /* authentic, but sealed for another node */
	PEER_VERDICT_MAX,
};

/* "malformed", "auth", ... as status shows them. */
const char *peer_verdict_name(enum peer_verdict v);

/* Writes m (m->payload/payload_len included) sealed with the key into
 * buf[0..cap).  Returns the datagram's length, or 0 when it does not fit,
 * the name is empty or too long, the type unknown, or a payload is given
 * to another type than PEER_TABLE. */
size_t peer_seal(const struct peer_msg *m, const void *key, size_t keylen,
		 uint8_t *buf, size_t cap);

/* Checks buf[0..len) (format, then HMAC, in constant time, then that it
 * was sealed for self_ip, this node's InternalIP in host order) and
 * decodes it into m.  Returns PEER_OK, PEER_MALFORMED, PEER_AUTH or
 * PEER_RECEIVER; replay and source checks are members.h's.  On PEER_AUTH
 * and PEER_RECEIVER m is decoded all the same (its name says whom the
 * datagram claims to be from, unauthenticated on PEER_AUTH); on
 * PEER_MALFORMED m is zeroed (empty name). */
enum peer_verdict peer_open(const uint8_t *buf, size_t len, uint32_t self_ip,
			    const void *key, size_t keylen,
			    struct peer_msg *m);

#endif
