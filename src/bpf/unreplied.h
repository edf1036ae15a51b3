/* unreplied.h: flows their backend has not answered yet, which anyone can
 * open by the million (a SYN or a datagram from a spoofed address costs
 * the sender nothing), kept from crowding out the others:
 *
 *   short-lived   they expire after `unreplied` seconds (5 by default),
 *                 established flows after hours
 *   first to go   one idle past unreplied_yield_ms gives its SNAT
 *                 port to a new flow that draws it (ct_yields), and when
 *                 the flow table is full the oldest of those this CPU
 *                 opened gives up its entry (a ring of the latest
 *                 LB_UNREPLIED_RING, per CPU): under a flood the table
 *                 stays full of the flood's newest flows, and a real
 *                 client's flow, answered within milliseconds, becomes
 *                 established and is never chosen
 *   per source    one source address may open cfg_source_new_max of them
 *                 per `unreplied` window (lb_sources, an LRU: a flood
 *                 from random addresses churns it, it never fills)
 *
 * Uses lb.bpf.c's snat_unbind() (included after it).
 */
#ifndef BMLB_BPF_UNREPLIED_H
#define BMLB_BPF_UNREPLIED_H

#include "bpf/conntrack.h"
#include "bpf/maps.h"

#define UNREPLIED_EVICT_TRIES 8

/* Where this CPU's ring of unanswered flows starts and ends: the flows
 * noted are (tail, head], the oldest first. */
struct unreplied_pos {
	__u32 head; /* flows noted */
	__u32 tail; /* ... of which looked at for eviction */
};

/* Set by the agent before load. */
const volatile __u32 cfg_source_new_max = LB_SOURCE_NEW_MAX;

/* Source address -> its unanswered flows in the current window. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_SOURCES);
	__type(key, __u32);
	__type(value, struct lb_source);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_sources SEC(".maps");

/* Per CPU: the latest unanswered flows it opened, a ring, and where it
 * starts and ends. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_UNREPLIED_RING);
	__type(key, __u32);
	__type(value, struct lb_flow);
} lb_unreplied SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unreplied_pos);
} lb_unreplied_pos SEC(".maps");

/* Whether source saddr may open one more unanswered flow now; counts it
 * when it may. */
static __always_inline bool source_admit(__u32 saddr, __u64 now)
{
	__u64 window = (__u64)cfg_timeouts.unreplied * 1000000000ull;
	struct lb_source *s = bpf_map_lookup_elem(&lb_sources, &saddr);

	if (!s) {
		struct lb_source fresh = {.window = now, .count = 1};

		bpf_map_update_elem(&lb_sources, &saddr, &fresh, BPF_ANY);
		return true;
	}
	if (now - s->window > window) {
		s->window = now;
		s->count = 1;
		return true;
	}
	if (s->count >= cfg_source_new_max) {
		count(LB_C_DROP_SOURCE_LIMIT);
		return false;
	}
	__sync_fetch_and_add(&s->count, 1);
	return true;
}

/* The backend answered one of saddr's flows: it holds one less. */
static __always_inline void source_answered(__u32 saddr)
{
	struct lb_source *s = bpf_map_lookup_elem(&lb_sources, &saddr);

	/* Adding -1: clang 14's BPF target has no atomic subtract. */
	if (s && s->count)
		__sync_fetch_and_add(&s->count, (__u32)-1);
}

/* Notes new flow f (unanswered) in this CPU's ring. */
static __always_inline void unreplied_note(const struct lb_flow *f)
{
	__u32 zero = 0, slot;
	struct unreplied_pos *pos = bpf_map_lookup_elem(&lb_unreplied_pos,
							 &zero);
	struct lb_flow *e;

	if (!pos)
		return;
	slot = ++pos->head % LB_UNREPLIED_RING;
	e = bpf_map_lookup_elem(&lb_unreplied, &slot);
	if (e)
		*e = *f;
}

/* Makes room in the full flow table: removes the oldest flow of this
 * CPU's ring that is still unanswered and yields, with its binding; those
 * answered or gone meanwhile are passed over for good.  False when none
 * of the next few is. */
static __always_inline bool unreplied_evict(__u64 now)
{
	__u32 zero = 0;
	struct unreplied_pos *pos = bpf_map_lookup_elem(&lb_unreplied_pos,
							 &zero);

	if (!pos)
		return false;
	if (pos->head - pos->tail > LB_UNREPLIED_RING)
		pos->tail = pos->head - LB_UNREPLIED_RING; /* overwritten */
	for (int i = 0; i < UNREPLIED_EVICT_TRIES && pos->tail != pos->head;
	     i++) {
		__u32 slot = ++pos->tail % LB_UNREPLIED_RING;
		struct lb_flow *e = bpf_map_lookup_elem(&lb_unreplied, &slot);
		struct lb_flow key;
		struct lb_ct *ct, old;

		if (!e)
			continue;
		key = *e;
		ct = bpf_map_lookup_elem(&lb_ct, &key);
		if (!ct || ct->state != LB_CT_NEW ||
		    !ct_yields(ct, key.proto, now))
			continue;
		old = *ct;
		if (bpf_map_delete_elem(&lb_ct, &key))
			continue;
		snat_unbind(&old, &key);
		count(LB_C_EVICT_UNREPLIED);
		return true;
	}
	return false;
}

#endif
