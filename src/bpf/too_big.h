/* too_big.h: a packet that does not fit where it goes next (the next
 * hop's MTU, or in DSR mode no room for the option) is answered with an
 * ICMP fragmentation-needed, as a router answers it, so that path MTU
 * discovery works through the VIP.
 *
 * The ICMP goes from the packet's destination (the VIP, or this node for
 * a reply to a SNAT port) back to its sender, quoting the packet as it
 * came (its 20-byte header and the first 8 bytes of its L4 header), with
 * the MTU the sender must use.  It is sent whatever the packet's DF bit:
 * without reassembly or fragmentation in the data plane, a packet that
 * does not fit is lost either way, and the sender learns the size.
 */
#ifndef BMLB_BPF_TOO_BIG_H
#define BMLB_BPF_TOO_BIG_H

#include "bpf/csum.h"
#include "bpf/hop.h"
#include "bpf/maps.h"

#define ETH_HLEN 14
#define ICMP_FRAG_NEEDED 4
/* IP header, ICMP header, then the quote. */
#define TOO_BIG_PUSH (sizeof(struct iphdr) + sizeof(struct icmphdr))
#define TOO_BIG_IP_LEN (TOO_BIG_PUSH + sizeof(struct iphdr) + 8)
#define TOO_BIG_LEN (ETH_HLEN + TOO_BIG_IP_LEN)

/* Packet p does not fit: p->mtu is the MTU to announce.  Finds the way
 * back to the sender first (the packet is still untouched, so XDP can
 * still hand it to tc); V_TOO_BIG tells the entry to build the ICMP. */
static __always_inline enum verdict too_big(struct pkt *p)
{
	__u16 mtu = p->mtu;
	enum hop_rc rc = hop_find(p, NULL, p->ip->daddr, p->ip->saddr,
				  TOO_BIG_IP_LEN, 0);

	if (rc == HOP_HANDOFF)
		return hop_handoff(p);
	if (rc != HOP_OK) {
		if (rc != HOP_DROP)
			count(LB_C_DROP_NO_ROUTE);
		return V_DROP;
	}
	p->mtu = mtu;
	return V_TOO_BIG;
}

/* The verdict for a hop_find() result other than HOP_OK, on a path that
 * does not deliver to this node itself. */
static __always_inline enum verdict hop_fail(struct pkt *p, enum hop_rc rc)
{
	if (rc == HOP_HANDOFF)
		return hop_handoff(p);
	if (rc == HOP_TOO_BIG)
		return too_big(p);
	if (rc == HOP_LOCAL)
		count(LB_C_DROP_NO_ROUTE);
	return V_DROP;
}

/* The entry has opened TOO_BIG_PUSH bytes after the Ethernet header and
 * cut the frame to TOO_BIG_LEN: the packet, now quoted, gets an IP and an
 * ICMP header in front. */
static __always_inline enum verdict too_big_build(struct pkt *p, void *data,
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
	ip->tot_len = bpf_htons(TOO_BIG_IP_LEN);
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = q->daddr;
	ip->daddr = q->saddr;
	sum = bpf_csum_diff(NULL, 0, (void *)ip, sizeof(*ip), 0);
	if (sum < 0)
		return V_DROP;
	ip->check = csum_end(csum_fold32((__u32)sum));
	__builtin_memset(icmp, 0, sizeof(*icmp));
	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = ICMP_FRAG_NEEDED;
	icmp->un.frag.mtu = bpf_htons(p->mtu);
	sum = bpf_csum_diff(NULL, 0, (void *)icmp,
			    sizeof(*icmp) + sizeof(*q) + 8, 0);
	if (sum < 0)
		return V_DROP;
	icmp->checksum = csum_end(csum_fold32((__u32)sum));
	count(LB_C_TOO_BIG);
	return hop_emit(p);
}

/* XDP: moves the Ethernet header down into the headroom, cuts the frame,
 * builds the ICMP. */
static __always_inline enum verdict too_big_xdp(struct xdp_md *ctx,
						struct pkt *p)
{
	struct ethhdr eth;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + sizeof(eth) > end)
		return V_DROP;
	__builtin_memcpy(&eth, data, sizeof(eth));
	if (bpf_xdp_adjust_head(ctx, -(int)TOO_BIG_PUSH))
		return V_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(eth) > end)
		return V_DROP;
	__builtin_memcpy(data, &eth, sizeof(eth));
	if (bpf_xdp_adjust_tail(ctx, (int)TOO_BIG_LEN - (int)(end - data)))
		return V_DROP;
	return too_big_build(p, (void *)(long)ctx->data,
			     (void *)(long)ctx->data_end);
}

/* tc: the kernel opens the room after the Ethernet header and cuts the
 * frame. */
static __always_inline enum verdict too_big_tc(struct __sk_buff *skb,
					       struct pkt *p)
{
	if (bpf_skb_adjust_room(skb, TOO_BIG_PUSH, BPF_ADJ_ROOM_MAC, 0) ||
	    bpf_skb_change_tail(skb, TOO_BIG_LEN, 0))
		return V_DROP;
	return too_big_build(p, (void *)(long)skb->data,
			     (void *)(long)skb->data_end);
}

#endif
