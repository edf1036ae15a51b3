/* conntrack.h: flow timeouts, expiry and TCP state tracking.
 *
 * Timeouts are per state: a SYN that is never answered goes quickly, an
 * established TCP flow stays for hours of silence, a closing one lingers
 * only long enough for retransmitted FINs, UDP lives while it is used.
 */
#ifndef BMLB_BPF_CONNTRACK_H
#define BMLB_BPF_CONNTRACK_H

#include "bpf/lb.h"
#include "bpf/parse.h"

/* Set by the agent before load. */
const volatile struct lb_timeouts cfg_timeouts = {
	.tcp_syn = 60,
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

/* Moves a flow's state on for a packet of either direction (the LB
 * node's conntrack entries and the DSR worker's flows alike). */
static __always_inline void flow_touch(__u64 *last_seen, __u8 *state,
				       __u8 proto, __u8 flags, bool reply,
				       __u64 now)
{
	/* The clock is coarse: most packets find it unchanged and leave the
	 * cache line clean. */
	if (*last_seen != now)
		*last_seen = now;
	if (proto != IPPROTO_TCP) {
		if (reply && *state != LB_CT_ESTABLISHED)
			*state = LB_CT_ESTABLISHED;
		return;
	}
	if (flags & (LB_TCP_FIN | LB_TCP_RST)) {
		if (*state != LB_CT_CLOSING)
			*state = LB_CT_CLOSING;
	} else if (reply && *state == LB_CT_NEW) {
		*state = LB_CT_ESTABLISHED;
	}
}

static __always_inline void ct_touch(struct lb_ct *ct, __u8 proto,
				     __u8 flags, bool reply, __u64 now)
{
	flow_touch(&ct->last_seen, &ct->state, proto, flags, reply, now);
}

#endif
