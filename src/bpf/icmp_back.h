/* icmp_back.h: the ICMP errors the data plane sends back, as a router
 * sends them, for a packet it will not forward:
 *
 *   fragmentation needed  it does not fit where it goes next (the next
 *                         hop's MTU, or in DSR mode no room for the
 *                         option): from the packet's destination (the VIP,
 *                         or this node for a reply to a SNAT port), with
 *                         the MTU the sender must use, so that path MTU
 *                         discovery works through the VIP.  Sent whatever
 *                         the DF bit: without fragmentation in the data
 *                         plane the packet is lost either way.
 *   time exceeded         its TTL ran out here (1 or 0 on arrival): from
 *                         this node's address, so that a loop (Services
 *                         pointing at each other's VIPs) dies, and a
 *                         traceroute shows the LB node.
 *
 * Each quotes the packet as it came (its 20-byte header and the first 8
 * bytes of its L4 header).
 */
#ifndef BMLB_BPF_ICMP_BACK_H
#define BMLB_BPF_ICMP_BACK_H

#include "bpf/csum.h"
#include "bpf/hop.h"
#include "bpf/maps.h"

#define ETH_HLEN 14
#define ICMP_FRAG_NEEDED 4
/* IP header, ICMP header, then the quote. */
#define ICMP_BACK_PUSH (sizeof(struct iphdr) + sizeof(struct icmphdr))
#define ICMP_BACK_IP_LEN (ICMP_BACK_PUSH + sizeof(struct iphdr) + 8)
#define ICMP_BACK_LEN (ETH_HLEN + ICMP_BACK_IP_LEN)

/* Packet p will not be forwarded: an ICMP error of this type and code
 * goes back to its sender from `from` (p->mtu: the MTU to announce, for
 * fragmentation needed).  Finds the way back first (the packet is still
 * untouched, so XDP can still hand it to tc); V_ICMP tells the entry to
 * build it. */
static __always_inline enum verdict icmp_back(struct pkt *p, __u8 type,
					      __u8 code, __u32 from)
{
	__u16 mtu = p->mtu;
	enum hop_rc rc = hop_find(p, NULL, from, p->ip->saddr,
				  ICMP_BACK_IP_LEN, 0);

	if (rc == HOP_HANDOFF)
		return hop_handoff(p);
	if (rc != HOP_OK) {
		if (rc != HOP_DROP)
			count(LB_C_DROP_NO_ROUTE);
		return V_DROP;
	}
	p->mtu = mtu;
	p->icmp_type = type;
	p->icmp_code = code;
	p->icmp_from = from;
	return V_ICMP;
}

/* The verdict for a hop_forward() result other than HOP_OK, on a path
 * that does not deliver to this node itself. */
static __always_inline enum verdict hop_fail(struct pkt *p, enum hop_rc rc)
{
	/* Never an ICMP error about an ICMP error (RFC 1812 4.3.2.7). */
	bool err = p->ip->protocol == IPPROTO_ICMP;

	switch (rc) {
	case HOP_HANDOFF:
		return hop_handoff(p);
	case HOP_TOO_BIG:
		count(LB_C_TOO_BIG);
		return err ? V_DROP
			   : icmp_back(p, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
				       p->ip->daddr);
	case HOP_TTL:
		count(LB_C_TTL_EXCEEDED);
		return err ? V_DROP
			   : icmp_back(p, ICMP_TIME_EXCEEDED, 0, cfg_node_ip);
	case HOP_LOCAL:
		count(LB_C_DROP_NO_ROUTE);
		break;
	case HOP_OK:
	case HOP_DROP:
		break;
	}
	return V_DROP;
}

/* The entry has opened ICMP_BACK_PUSH bytes after the Ethernet header and
 * cut the frame to ICMP_BACK_LEN: the packet, now quoted, gets an IP and
 * an ICMP header in front. */
static __always_inline enum verdict icmp_back_build(struct pkt *p, void *data,
						    void *end)
{
	struct icmphdr *icmp;
	struct iphdr *ip, *q;
	__s64 sum;

	if (!pkt_reparse(p, data, end))
		return V_DROP;
	ip = p->ip;
	icmp = (void *)(ip + 1);
	q = (void *)(icmp + 1);
	if ((void *)(q + 1) + 8 > end)
		return V_DROP;
	__builtin_memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = bpf_htons(ICMP_BACK_IP_LEN);
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = p->icmp_from;
	ip->daddr = q->saddr;
	sum = bpf_csum_diff(NULL, 0, (void *)ip, sizeof(*ip), 0);
	if (sum < 0)
		return V_DROP;
	ip->check = csum_end(csum_fold32((__u32)sum));
	__builtin_memset(icmp, 0, sizeof(*icmp));
	icmp->type = p->icmp_type;
	icmp->code = p->icmp_code;
	if (p->icmp_type == ICMP_DEST_UNREACH)
		icmp->un.frag.mtu = bpf_htons(p->mtu);
	sum = bpf_csum_diff(NULL, 0, (void *)icmp,
			    sizeof(*icmp) + sizeof(*q) + 8, 0);
	if (sum < 0)
		return V_DROP;
	icmp->checksum = csum_end(csum_fold32((__u32)sum));
	return hop_emit(p);
}

/* XDP: moves the Ethernet header down into the headroom, cuts the frame,
 * builds the ICMP. */
static __always_inline enum verdict icmp_back_xdp(struct xdp_md *ctx,
						  struct pkt *p)
{
	struct ethhdr eth;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + sizeof(eth) > end)
		return V_DROP;
	__builtin_memcpy(&eth, data, sizeof(eth));
	if (bpf_xdp_adjust_head(ctx, -(int)ICMP_BACK_PUSH))
		return V_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(eth) > end)
		return V_DROP;
	__builtin_memcpy(data, &eth, sizeof(eth));
	if (bpf_xdp_adjust_tail(ctx, (int)ICMP_BACK_LEN - (int)(end - data)))
		return V_DROP;
	return icmp_back_build(p, (void *)(long)ctx->data,
			       (void *)(long)ctx->data_end);
}

/* tc: the kernel opens the room after the Ethernet header and cuts the
 * frame. */
static __always_inline enum verdict icmp_back_tc(struct __sk_buff *skb,
						 struct pkt *p)
{
	if (bpf_skb_adjust_room(skb, ICMP_BACK_PUSH, BPF_ADJ_ROOM_MAC, 0) ||
	    bpf_skb_change_tail(skb, ICMP_BACK_LEN, 0))
		return V_DROP;
	return icmp_back_build(p, (void *)(long)skb->data,
			       (void *)(long)skb->data_end);
}

#endif
