/* local.h: externalTrafficPolicy Local (SPEC.md §3): a packet to a Local
 * service's VIP:port goes to a pod on this node, its source untouched, in
 * SNAT and DSR mode alike.
 *
 *   client -> VIP:port   Maglev picks among this node's endpoints (the
 *                        agent programs a Local service with those only);
 *                        destination -> pod:targetPort; the flow (client
 *                        -> pod:port) -> VIP:port is recorded in lb_dsr
 *                        (refreshed when known); tc redirects it to the
 *                        pod's bridge (XDP hands it to tc: hop.h).
 *   pod -> client        dsr_out on the cluster interface's tc egress finds
 *                        the flow and rewrites the source to VIP:port.
 * Stateless like DSR: every packet of a flow picks the same pod (Maglev is
 * deterministic), and the records are pinned: an agent restart loses
 * nothing.  Only a SYN (or a datagram) opens a flow: a TCP packet without
 * SYN and without a record passes, recording nothing (a stray or forged
 * packet takes no entry).  No conntrack entry, no SNAT port.
 *
 * A Cluster service's flow whose backend runs on this node takes the same
 * path (backend_here), in either mode: translated, its reply would go to
 * the node's kernel through the pod's bridge, never past this program.
 */
#ifndef BMLB_BPF_LOCAL_H
#define BMLB_BPF_LOCAL_H

#include "bpf/conntrack.h"
#include "bpf/hop.h"
#include "bpf/maps.h"
#include "bpf/nat.h"
#include "bpf/unreplied.h"

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

/* Set by the agent before load: this node's pod network (network order;
 * mask 0: none known). */
const volatile __u32 cfg_pod_net = 0;
const volatile __u32 cfg_pod_mask = 0;

/* Whether backend b runs on this node (a pod of its pod network, or a
 * host-network endpoint): such a backend is always delivered the Local
 * way, since its reply to a SNAT port would reach the node's kernel, not
 * this program. */
static __always_inline bool backend_here(const struct lb_backend *b)
{
	return b->ip == cfg_node_ip ||
	       (cfg_pod_mask && (b->ip & cfg_pod_mask) == cfg_pod_net);
}

/* Flow f to backend b of this node: destination only, recorded. */
static __always_inline enum verdict local_deliver(struct pkt *p,
						  struct l4_ports *l4,
						  struct l4_csum *c,
						  __u8 flags,
						  const struct lb_flow *f,
						  const struct lb_backend *b)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct lb_flow k = *f;
	enum hop_rc rc;
	bool known;

	k.daddr = b->ip;
	k.dport = b->port;
	known = bpf_map_lookup_elem(&lb_dsr, &k) != NULL;
	/* Only a SYN opens a TCP flow (a stray packet records nothing). */
	if (!known && f->proto == IPPROTO_TCP &&
	    (flags & (LB_TCP_SYN | LB_TCP_ACK)) != LB_TCP_SYN) {
		count(LB_C_PASS_NOT_SYN);
		return V_PASS;
	}
	rc = hop_forward(p, NULL, f->saddr, b->ip, bpf_ntohs(p->ip->tot_len),
			 now);
	if (rc != HOP_OK && rc != HOP_LOCAL)
		return hop_fail(p, rc);
	if (!known && !source_admit(f->saddr, now))
		return V_DROP;
	if (!flow_record(&k, f->daddr, f->dport, flags, now)) {
		count(LB_C_LOCAL_DROP_FULL);
		return V_DROP;
	}
	nat_dnat(p->ip, l4, c, b->ip, b->port);
	count(LB_C_LOCAL);
	/* A host-network endpoint: the kernel delivers it, the source the
	 * client's (hop.h). */
	return rc == HOP_LOCAL ? V_PASS : hop_emit(p);
}

/* Client -> VIP:port of a Local service (svc, found for flow f). */
static __always_inline enum verdict local_to_service(struct pkt *p,
						     struct l4_ports *l4,
						     struct l4_csum *c,
						     __u8 flags,
						     const struct lb_svc *svc,
						     const struct lb_flow *f)
{
	struct lb_backend *b;
	__u32 id;

	if (!svc->nbackends || !(b = pick_backend(svc, f, &id))) {
		count(LB_C_DROP_NO_BACKEND);
		return V_DROP;
	}
	return local_deliver(p, l4, c, flags, f, b);
}

#endif
