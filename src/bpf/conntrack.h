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

static __always_inline bool ct_expired(const struct lb_ct *ct, __u8 proto,
				       __u64 now)
{
	return now - ct->last_seen >
	       lb_ct_timeout_ns(ct, proto, &cfg_timeouts);
}

/* Moves the state on for a packet of either direction. */
static __always_inline void ct_touch(struct lb_ct *ct, __u8 proto,
				     __u8 flags, bool reply, __u64 now)
{
	/* The clock is coarse: most packets find it unchanged and leave the
	 * cache line clean. */
	if (ct->last_seen != now)
		ct->last_seen = now;
	if (proto != IPPROTO_TCP) {
		if (reply && ct->state != LB_CT_ESTABLISHED)
			ct->state = LB_CT_ESTABLISHED;
		return;
	}
	if (flags & (LB_TCP_FIN | LB_TCP_RST)) {
		if (ct->state != LB_CT_CLOSING)
			ct->state = LB_CT_CLOSING;
	} else if (reply && ct->state == LB_CT_NEW) {
		ct->state = LB_CT_ESTABLISHED;
	}
}

#endif
