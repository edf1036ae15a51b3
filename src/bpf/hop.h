/* hop.h: where a packet about to be rewritten goes next, decided before
 * anything in it changes.
 *
 * Every path that rewrites a packet (SNAT both ways, ICMP errors, DSR,
 * Local, NodePort) first asks hop_find() with the addresses the packet
 * will carry, then rewrites, then leaves through hop_emit().  The rule:
 * no rewritten packet is ever handed to the kernel to route.  Its source
 * may now be this node's own address, which a node with accept_local=0
 * drops as a martian, and the kernel would never resolve the neighbour it
 * lacks.
 *
 *   route and neighbour known     XDP_TX out of the same interface (XDP),
 *                                 bpf_redirect with the MACs set (tc)
 *   neighbour not resolved yet,   XDP: the packet goes up untouched, and
 *   or another interface (VXLAN,  the tc entry on the same interface does
 *   a pod's bridge)               the same work again (hop_handoff);
 *                                 tc: bpf_redirect_neigh to the next hop,
 *                                 which queues the packet while the kernel
 *                                 resolves it (ARP), as forwarding does
 *   blackhole, unreachable,       dropped and counted (drop_no_route)
 *   prohibited, forwarding off
 *   a local destination           only a Local delivery to this node's
 *                                 own address (a host-network endpoint):
 *                                 given to the kernel rewritten, its
 *                                 source the client's
 *   bigger than the next hop's    an ICMP fragmentation-needed with that
 *   MTU                           MTU goes back to the sender (icmp_back.h)
 *   TTL 1 or 0                    ICMP time exceeded back to the sender;
 *                                 else the TTL is decremented, as a router
 *                                 does (hop_forward)
 *
 * Why the handoff and not neighbour entries alone: the first packet of a
 * flow to a next hop the node has never talked to must get through, and
 * only the kernel's neighbour layer can hold it while ARP runs.  The
 * agent also keeps managed neighbour entries for every backend's next hop
 * (src/dataplane/neigh.c) so that the XDP path rarely needs the handoff.
 *
 * The XDP entry marks, in the packet's metadata, what it passed on
 * purpose (LB_META_DONE): the tc entry lets those through at once and
 * works only on the rest (on a driver without XDP metadata, tc works on
 * every packet again, with the same result and its counters counted
 * twice).
 */
#ifndef BMLB_BPF_HOP_H
#define BMLB_BPF_HOP_H

#include "bpf/csum.h"
#include "bpf/maps.h"

#define AF_INET 2

enum hop_rc {
	HOP_OK,      /* p->hop says where; hop_emit() sends it */
	HOP_HANDOFF, /* XDP: pass the packet up untouched (hop_handoff) */
	HOP_DROP,    /* no way there (counted) */
	HOP_LOCAL,   /* the destination is this node */
	HOP_TOO_BIG, /* p->mtu is the next hop's MTU */
	HOP_TTL,     /* its TTL ran out here (hop_forward) */
};

/* Looks up the next hop for a packet from saddr to daddr (network order)
 * of len bytes.  `cache` (a flow's, or NULL) is used while its lookup is
 * less than a tick (2^30 ns) old, so that the route lookup is paid about
 * once a second per flow; a hop that needs the neighbour resolved is never
 * cached. */
static __always_inline enum hop_rc hop_find(struct pkt *p,
					    struct lb_hop *cache,
					    __u32 saddr, __u32 daddr,
					    __u16 len, __u64 now)
{
	struct lb_hop *hop = cache ? cache : &p->hop_buf;
	__u32 tick = (__u32)(now >> 30);
	struct bpf_fib_lookup fib;
	long rc;

	p->hop = hop;
	p->resolve = false;
	if (cache && cache->ifindex && cache->checked == tick)
		goto found;
	/* Field by field: clang 14 leaves members of a designated
	 * initializer of this struct (anonymous unions) unset. */
	__builtin_memset(&fib, 0, sizeof(fib));
	fib.family = AF_INET;
	fib.tos = p->ip->tos;
	fib.l4_protocol = p->ip->protocol;
	fib.tot_len = len;
	fib.ipv4_src = saddr;
	fib.ipv4_dst = daddr;
	fib.ifindex = p->ifindex;
	rc = bpf_fib_lookup(p->ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		count(LB_C_FIB_MISS);
		hop->ifindex = 0;
		if (p->xdp)
			return HOP_HANDOFF;
		p->hop = &p->hop_buf;
		p->hop_buf.ifindex = fib.ifindex;
		p->nexthop = fib.ipv4_dst; /* the gateway, if any */
		p->resolve = true;
		return HOP_OK;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		p->mtu = fib.mtu_result;
		return HOP_TOO_BIG;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		return HOP_LOCAL;
	default:
		count(LB_C_DROP_NO_ROUTE);
		return HOP_DROP;
	}
	__builtin_memcpy(hop->dmac, fib.dmac, 6);
	__builtin_memcpy(hop->smac, fib.smac, 6);
	hop->ifindex = fib.ifindex;
	hop->checked = tick;
found:
	/* XDP sends out of its own interface only. */
	return p->xdp && hop->ifindex != p->ifindex ? HOP_HANDOFF : HOP_OK;
}

/* hop_find() for a packet bmlb forwards, with a router's duty: a packet
 * whose TTL runs out here goes no further (loops die), the others leave
 * with one less. */
static __always_inline enum hop_rc hop_forward(struct pkt *p,
					       struct lb_hop *cache,
					       __u32 saddr, __u32 daddr,
					       __u16 len, __u64 now)
{
	struct iphdr *ip = p->ip;
	enum hop_rc rc;
	__u16 from;

	if (ip->ttl <= 1)
		return HOP_TTL;
	rc = hop_find(p, cache, saddr, daddr, len, now);
	if (rc != HOP_OK)
		return rc;
	from = bpf_htons(ip->ttl << 8 | ip->protocol);
	ip->ttl--;
	ip->check = csum_end(csum_add2(csum_start(ip->check), from,
				       bpf_htons(ip->ttl << 8 | ip->protocol)));
	return HOP_OK;
}

/* XDP: the packet, untouched, goes up to the tc entry, which decides
 * again and can reach any interface and resolve neighbours. */
static __always_inline enum verdict hop_handoff(struct pkt *p)
{
	p->handoff = true;
	count(LB_C_TO_TC);
	return V_PASS;
}

/* Sends the rewritten packet where hop_find() said (HOP_OK). */
static __always_inline enum verdict hop_emit(struct pkt *p)
{
	struct lb_hop *hop = p->hop;

	p->redirect_to = hop->ifindex;
	if (p->resolve) {
		count(LB_C_RESOLVE);
		return V_REDIRECT_NEIGH;
	}
	__builtin_memcpy(p->eth->h_dest, hop->dmac, 6);
	__builtin_memcpy(p->eth->h_source, hop->smac, 6);
	if (p->xdp) {
		count(LB_C_TX);
		return V_TX;
	}
	count(LB_C_REDIRECT);
	return V_REDIRECT;
}

#endif
