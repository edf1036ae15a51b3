/* local.h: externalTrafficPolicy Local (SPEC.md §3): a packet to a Local
 * service's VIP:port goes to a pod on this node, its source untouched, in
 * SNAT and DSR mode alike.
 *
 *   client -> VIP:port   Maglev picks among this node's endpoints (the
 *                        agent programs a Local service with those only);
 *                        destination -> pod:targetPort; the flow (client
 *                        -> pod:port) -> VIP:port is recorded in lb_dsr
 *                        (refreshed when known); the kernel (XDP) or a
 *                        redirect (tc) takes it to the pod's bridge.
 *   pod -> client        dsr_out on the cluster interface's tc egress finds
 *                        the flow and rewrites the source to VIP:port.
 * Stateless like DSR: every packet of a flow picks the same pod (Maglev is
 * deterministic), so a TCP packet without SYN and without a record is
 * forwarded too (and recorded): an agent restart or a table swap loses
 * nothing.  No conntrack entry, no SNAT port.
 */
#ifndef BMLB_BPF_LOCAL_H
#define BMLB_BPF_LOCAL_H

#include "bpf/conntrack.h"
#include "bpf/maps.h"
#include "bpf/nat.h"

/* Records flow k (as the pod sees it) as one whose replies leave from
 * vip:vport; a known flow of the same service is only refreshed unless a
 * SYN starts it again.  False when the table is full. */
static __always_inline bool flow_record(const struct lb_flow *k, __u32 vip,
					__u16 vport, __u8 flags, __u64 now)
{
	struct lb_dsr v = {.last_seen = now, .vip = vip, .vport = vport};
	struct lb_dsr *old = bpf_map_lookup_elem(&lb_dsr, k);

	if (old && old->vip == vip && old->vport == vport &&
	    !(flags & LB_TCP_SYN)) {
		flow_touch(&old->last_seen, &old->state, k->proto, flags,
			   false, now);
		return true;
	}
	return !bpf_map_update_elem(&lb_dsr, k, &v, BPF_ANY);
}

/* Client -> VIP:port of a Local service (svc, found for flow f). */
static __always_inline enum verdict local_to_service(struct pkt *p,
						     struct l4_ports *l4,
						     struct l4_csum *c,
						     __u8 flags,
						     const struct lb_svc *svc,
						     const struct lb_flow *f)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct lb_backend *b;
	struct lb_flow k = *f;
	__u32 id;

	if (!svc->nbackends || !(b = pick_backend(svc, f, &id))) {
		count(LB_C_DROP_NO_BACKEND);
		return V_DROP;
	}
	k.daddr = b->ip;
	k.dport = b->port;
	if (!flow_record(&k, f->daddr, f->dport, flags, now)) {
		count(LB_C_LOCAL_DROP_FULL);
		return V_DROP;
	}
	nat_dnat(p->ip, l4, c, b->ip, b->port);
	count(LB_C_LOCAL);
	return forward(p, NULL, now);
}

#endif
