/* conntrack.h: flow timeouts, expiry and TCP state tracking.
 *
 * Timeouts are per state: a flow its backend never answers (a lost SYN,
 * a spoofed one) goes within seconds, an
 * established TCP flow stays for hours of silence, a closing one lingers
 * only long enough for retransmitted FINs, UDP lives while it is used.
 * A flow closed both ways gives its SNAT port up after a second.
 */
#ifndef BMLB_BPF_CONNTRACK_H
#define BMLB_BPF_CONNTRACK_H

#include "bpf/lb.h"
#include "bpf/parse.h"

/* Set by the agent before load. */
const volatile struct lb_timeouts cfg_timeouts = {
	.unreplied = 5,
	.unreplied_yield_ms = 10,
	.tcp_established = 21600,
	.tcp_closing = 10,
	.udp = 60,
};

/* A packet's flow, as it travels (the key of lb_ct and lb_dsr). */
static __always_inline struct lb_flow flow_of(const struct iphdr *ip,
					      const struct l4_ports *l4)
{
	return (struct lb_flow){
		.saddr = ip->saddr,
		.daddr = ip->daddr,
		.sport = l4->source,
		.dport = l4->dest,
		.proto = ip->protocol,
	};
}

static __always_inline bool ct_expired(const struct lb_ct *ct, __u8 proto,
				       __u64 now)
{
	return now - ct->last_seen >
	       lb_ct_timeout_ns(ct, proto, &cfg_timeouts);
}

/* The state a TCP flow moves to for a packet with these flags: a SYN
 * alone opens it again (a client reusing its port after a close), a RST
 * closes it, a FIN closes the sender's side and, after the other side's,
 * the flow; a reply makes a new flow established. */
static __always_inline __u8 tcp_next(__u8 state, __u8 flags, bool reply)
{
	__u8 mine = reply ? LB_CT_CLOSING_REPLY : LB_CT_CLOSING;
	__u8 other = reply ? LB_CT_CLOSING : LB_CT_CLOSING_REPLY;

	if ((flags & (LB_TCP_SYN | LB_TCP_ACK)) == LB_TCP_SYN)
		return state >= LB_CT_CLOSING ? LB_CT_NEW : state;
	if (flags & LB_TCP_RST)
		return LB_CT_CLOSED;
	if (flags & LB_TCP_FIN)
		return state == other || state == LB_CT_CLOSED ? LB_CT_CLOSED
							       : mine;
	return reply && state == LB_CT_NEW ? LB_CT_ESTABLISHED : state;
}

/* Moves a flow's state on for a packet of either direction (the LB
 * node's conntrack entries and the DSR worker's flows alike). */
static __always_inline void flow_touch(__u64 *last_seen, __u8 *state,
				       __u8 proto, __u8 flags, bool reply,
				       __u64 now)
{
	__u8 next;

	/* The clock is coarse: most packets find it unchanged, and the
	 * state rarely changes: the cache line stays clean. */
	if (*last_seen != now)
		*last_seen = now;
	if (proto != IPPROTO_TCP)
		next = reply ? LB_CT_ESTABLISHED : *state;
	else
		next = tcp_next(*state, flags, reply);
	if (*state != next)
		*state = next;
}

/* A flow that is over: expired (the sweep has not come by yet), or closed
 * and idle past LB_CT_REUSE_NS. */
static __always_inline bool ct_over(const struct lb_ct *ct, __u8 proto,
				    __u64 now)
{
	return ct_expired(ct, proto, now) ||
	       (ct->state == LB_CT_CLOSED &&
		now - ct->last_seen > LB_CT_REUSE_NS);
}

/* A flow whose port and entry may go to a new one: over, or never
 * answered and idle past unreplied_yield_ms (unreplied.h). */
static __always_inline bool ct_yields(const struct lb_ct *ct, __u8 proto,
				      __u64 now)
{
	return ct_over(ct, proto, now) ||
	       (ct->state == LB_CT_NEW &&
		now - ct->last_seen >
			(__u64)cfg_timeouts.unreplied_yield_ms * 1000000ull);
}

static __always_inline void ct_touch(struct lb_ct *ct, __u8 proto,
				     __u8 flags, bool reply, __u64 now)
{
	flow_touch(&ct->last_seen, &ct->state, proto, flags, reply, now);
}

#endif
