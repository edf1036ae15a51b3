/* arp.h: the VIP owner's ARP responder (SPEC.md §4), in the same pass as
 * the load balancer.
 *
 * A request for a VIP in lb_owned is answered from here with this
 * interface's MAC while the agent's lease holds: the VIP need not be an
 * interface address, so the kernel never answers for it, and a node whose
 * agent died falls silent when the lease runs out.  Any ARP packet from
 * another MAC claiming an owned VIP is counted in lb_arp_conflicts (two
 * owners on the segment) and passed on, not answered here: the agent
 * reads the map and defends the VIP with one gratuitous ARP at most every
 * 10 s (RFC 5227 §2.4 (c), src/agent/announce.h), a pace no per-packet
 * answer would keep.  Everything else is passed untouched: other hosts'
 * ARP is not ours.
 */
#ifndef BMLB_BPF_ARP_H
#define BMLB_BPF_ARP_H

#include "bpf/maps.h"
#include "bpf/parse.h"

#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

/* ARP for IPv4 over Ethernet; the addresses are not 4-byte aligned. */
struct arp_eth {
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

static __always_inline bool arp_owned(__u32 vip)
{
	__u32 zero = 0;
	__u64 *lease;

	if (!bpf_map_lookup_elem(&lb_owned, &vip))
		return false;
	lease = bpf_map_lookup_elem(&lb_lease, &zero);
	return lease && bpf_ktime_get_ns() < *lease;
}

static __always_inline bool mac_eq(const __u8 *a, const volatile __u8 *b)
{
	for (int i = 0; i < 6; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static __always_inline void arp_conflict(__u32 vip, const __u8 *mac)
{
	struct lb_arp_conflict *c = bpf_map_lookup_elem(&lb_arp_conflicts,
							 &vip);
	struct lb_arp_conflict fresh = {};

	count(LB_C_ARP_CONFLICT);
	if (!c) {
		__builtin_memcpy(fresh.mac, mac, 6);
		fresh.count = 1;
		fresh.last_ns = bpf_ktime_get_ns();
		bpf_map_update_elem(&lb_arp_conflicts, &vip, &fresh,
				    BPF_NOEXIST);
		return;
	}
	__builtin_memcpy(c->mac, mac, 6);
	__sync_fetch_and_add(&c->count, 1);
	c->last_ns = bpf_ktime_get_ns();
}

/* Handles the ARP frame after eth; returns true when it became the reply
 * to send back out of the interface it came in on. */
static __always_inline bool arp_answer(struct ethhdr *eth, void *end,
				       const volatile __u8 *mac)
{
	struct arp_eth *a = (void *)(eth + 1);
	__u32 spa, tpa;

	if ((void *)(a + 1) > end || a->htype != bpf_htons(1) ||
	    a->ptype != bpf_htons(ETH_P_IP) || a->hlen != 6 || a->plen != 4)
		return false;
	__builtin_memcpy(&spa, a->spa, 4);
	__builtin_memcpy(&tpa, a->tpa, 4);
	if (mac_eq(a->sha, mac))
		return false; /* our own (a test, or a looped frame) */
	if (arp_owned(spa)) {
		/* Counted; the agent defends it, rate-limited. */
		arp_conflict(spa, a->sha);
		return false;
	}
	if (a->op != bpf_htons(ARPOP_REQUEST) || !arp_owned(tpa))
		return false;

	/* The reply goes to the asker: its addresses become the target's,
	 * ours the sender's (a probe's sender address 0.0.0.0 stays). */
	a->op = bpf_htons(ARPOP_REPLY);
	__builtin_memcpy(a->tha, a->sha, 6);
	__builtin_memcpy(a->tpa, &spa, 4);
	for (int i = 0; i < 6; i++)
		a->sha[i] = mac[i];
	__builtin_memcpy(a->spa, &tpa, 4);
	__builtin_memcpy(eth->h_dest, a->tha, 6);
	__builtin_memcpy(eth->h_source, a->sha, 6);
	count(LB_C_ARP_REPLY);
	return true;
}

#endif
