/* floor.bpf.c: the benchmarks' floor, the least any XDP load balancer
 * does per packet: parse Ethernet, IPv4 and the L4 ports, swap the MACs and
 * bounce the frame out (XDP_TX; tc: redirect).  Never attached by the
 * agent. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/parse.h"

static __always_inline bool bounce(void *data, void *end)
{
	struct ethhdr *eth = parse_eth(data, end);
	struct iphdr *ip;
	__u8 mac[6];

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return false;
	ip = parse_ipv4(eth + 1, end);
	if (!ip || !parse_ports((void *)ip + ip->ihl * 4, end))
		return false;
	__builtin_memcpy(mac, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, mac, 6);
	return true;
}

SEC("xdp")
int floor_xdp(struct xdp_md *ctx)
{
	return bounce((void *)(long)ctx->data, (void *)(long)ctx->data_end)
		       ? XDP_TX
		       : XDP_PASS;
}

SEC("tc")
int floor_tc(struct __sk_buff *skb)
{
	return bounce((void *)(long)skb->data, (void *)(long)skb->data_end)
		       ? bpf_redirect(skb->ifindex, 0)
		       : 0 /* TC_ACT_OK */;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
