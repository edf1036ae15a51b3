/* parse.h: header parsing with one bounds-checked step per header.
 *
 * Contract: each parser takes the packet's end and a pointer where the
 * header should start, and returns the header or NULL when the packet is
 * too short to hold it (the verifier sees the check it needs).
 */
#ifndef BMLB_BPF_PARSE_H
#define BMLB_BPF_PARSE_H

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
/* TCP flag bits of byte 13; prefixed: vmlinux.h has TCP_FLAG_* enums
 * with other values (the flags word of a TCP header). */
#define LB_TCP_FIN 0x01
#define LB_TCP_SYN 0x02
#define LB_TCP_RST 0x04
#define LB_TCP_ACK 0x10

#define PARSE_HDR(type, name)                                              \
	static __always_inline struct type *parse_##name(void *p, void *end) \
	{                                                                      \
		return p + sizeof(struct type) > end ? NULL : p;               \
	}

PARSE_HDR(ethhdr, eth)
PARSE_HDR(udphdr, udp)
PARSE_HDR(tcphdr, tcp)
PARSE_HDR(icmphdr, icmp)

/* An IPv4 header, options included (ihl 5..15); NULL if short or not v4. */
static __always_inline struct iphdr *parse_ipv4(void *p, void *end)
{
	struct iphdr *ip = p;

	if (p + sizeof(*ip) > end || ip->version != 4 || ip->ihl < 5)
		return NULL;
	if (p + ip->ihl * 4 > end)
		return NULL;
	return ip;
}

static __always_inline bool ipv4_is_fragment(const struct iphdr *ip)
{
	return ip->frag_off & bpf_htons(IP_MF | IP_OFFSET);
}

/* The first 8 bytes of a TCP or UDP header: the ports and, for UDP, the
 * checksum.  Enough to translate a quoted header inside an ICMP error. */
struct l4_ports {
	__u16 source;
	__u16 dest;
	__u16 w2;
	__u16 w3;
};

static __always_inline struct l4_ports *parse_ports(void *p, void *end)
{
	return p + sizeof(struct l4_ports) > end ? NULL : p;
}

/* TCP flags byte (byte 13 of the header). */
static __always_inline __u8 tcp_flags(const struct tcphdr *tcp)
{
	return ((const __u8 *)tcp)[13];
}

#endif
