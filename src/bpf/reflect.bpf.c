/* reflect.bpf.c: the traffic loop of bench/nodeport, on the switch end of
 * the measured node's wire.  A UDP frame carrying a loop tag (a frame the
 * generator sent, which the node then forwarded, translated or not) gets
 * back the addresses and ports of the tag, a fresh TTL and both checksums
 * fixed, its MACs swapped, and goes straight back to the node (XDP_TX).
 * A burst sent once then circulates at the node's own pace, the node's
 * CPU saturated: the veth's XDP_TX count per second is the node's
 * forwarding rate.  Anything else passes.  Never attached by the agent. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/csum.h"
#include "bpf/loop_tag.h"
#include "bpf/parse.h"

#define LOOP_TTL 64

static __always_inline bool tagged(const struct loop_tag *t)
{
	const char magic[] = LOOP_MAGIC; /* and its NUL, not compared */

	for (int i = 0; i < (int)sizeof(t->magic); i++)
		if (t->magic[i] != magic[i])
			return false;
	return true;
}

SEC("xdp")
int xdp_reflect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = parse_eth(data, end);
	struct iphdr *ip;
	struct udphdr *udp;
	struct loop_tag *t;
	__u32 sum;
	__u8 mac[6];

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = parse_ipv4(eth + 1, end);
	if (!ip || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = parse_udp(ip + 1, end);
	if (!udp)
		return XDP_PASS;
	t = (void *)(udp + 1);
	if ((void *)(t + 1) > end || !tagged(t))
		return XDP_PASS;

	if (udp->check) {
		sum = csum_start(udp->check);
		sum = csum_add4(sum, ip->saddr, t->saddr);
		sum = csum_add4(sum, ip->daddr, t->daddr);
		sum = csum_add2(sum, udp->source, t->sport);
		sum = csum_add2(sum, udp->dest, t->dport);
		udp->check = csum_end(sum) ?: 0xffff;
	}
	sum = csum_start(ip->check);
	sum = csum_add4(sum, ip->saddr, t->saddr);
	sum = csum_add4(sum, ip->daddr, t->daddr);
	sum = csum_add2(sum, bpf_htons(ip->ttl << 8 | ip->protocol),
			bpf_htons(LOOP_TTL << 8 | ip->protocol));
	ip->check = csum_end(sum);
	ip->saddr = t->saddr;
	ip->daddr = t->daddr;
	ip->ttl = LOOP_TTL;
	udp->source = t->sport;
	udp->dest = t->dport;

	__builtin_memcpy(mac, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, mac, 6);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
