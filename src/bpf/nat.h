/* nat.h: address and port rewrites with their checksum updates.
 *
 * One function per rewrite, shared by the forward path, the reply path and
 * the ICMP error path, so that every checksum rule lives in one place.
 */
#ifndef BMLB_BPF_NAT_H
#define BMLB_BPF_NAT_H

#include "bpf/csum.h"
#include "bpf/parse.h"

/* Where a TCP or UDP checksum sits, and whether 0 means "none" (UDP). */
struct l4_csum {
	__u16 *check;
	bool udp;
};

/* Adds the change of an address/port 4-tuple to checksum sum. */
static __always_inline __u32 csum_add_tuple(__u32 sum, __u32 saddr,
					    __u16 sport, __u32 daddr,
					    __u16 dport, struct iphdr *ip,
					    struct l4_ports *l4)
{
	sum = csum_add4(sum, ip->saddr, saddr);
	sum = csum_add4(sum, ip->daddr, daddr);
	sum = csum_add2(sum, l4->source, sport);
	return csum_add2(sum, l4->dest, dport);
}

/* Rewrites both addresses and both ports of a TCP/UDP packet with one fold
 * per checksum.  Addresses are in the IP header and in the L4 checksum's
 * pseudo-header; ports only in L4.  A UDP checksum of 0 means "none" and
 * stays 0; a computed 0 goes out as 0xffff (RFC 768). */
static __always_inline void nat_rewrite(struct iphdr *ip, struct l4_ports *l4,
					struct l4_csum *c, __u32 saddr,
					__u16 sport, __u32 daddr, __u16 dport)
{
	__u32 ipsum = csum_start(ip->check);

	if (!c->udp || *c->check) {
		__u16 check = csum_end(csum_add_tuple(csum_start(*c->check),
						      saddr, sport, daddr,
						      dport, ip, l4));

		*c->check = c->udp && !check ? 0xffff : check;
	}
	ipsum = csum_add4(ipsum, ip->saddr, saddr);
	ip->check = csum_end(csum_add4(ipsum, ip->daddr, daddr));
	ip->saddr = saddr;
	ip->daddr = daddr;
	l4->source = sport;
	l4->dest = dport;
}

/* Rewrites the packet quoted in an ICMP error: its addresses (and its IP
 * checksum), its ports and, when the quote holds it (c->check not NULL),
 * its L4 checksum, keeping the ICMP checksum, which covers the quote,
 * right. */
static __always_inline void nat_quoted(struct icmphdr *icmp,
				       struct iphdr *in, struct l4_ports *l4,
				       struct l4_csum *c, __u32 saddr,
				       __u16 sport, __u32 daddr, __u16 dport)
{
	__u16 old_ip = in->check, old_l4 = c->check ? *c->check : 0;

	if (c->check && (!c->udp || *c->check)) {
		__u16 check = csum_end(csum_add_tuple(csum_start(*c->check),
						      saddr, sport, daddr,
						      dport, in, l4));

		*c->check = c->udp && !check ? 0xffff : check;
		csum_replace2(&icmp->checksum, old_l4, *c->check);
	}
	csum_replace4(&in->check, in->saddr, saddr);
	csum_replace4(&in->check, in->daddr, daddr);
	csum_replace4(&icmp->checksum, in->saddr, saddr);
	csum_replace4(&icmp->checksum, in->daddr, daddr);
	csum_replace2(&icmp->checksum, old_ip, in->check);
	csum_replace2(&icmp->checksum, l4->source, sport);
	csum_replace2(&icmp->checksum, l4->dest, dport);
	in->saddr = saddr;
	in->daddr = daddr;
	l4->source = sport;
	l4->dest = dport;
}

/* Rewrites the outer addresses of an ICMP error (no pseudo-header). */
static __always_inline void nat_outer(struct iphdr *ip, __u32 saddr,
				      __u32 daddr)
{
	csum_replace4(&ip->check, ip->saddr, saddr);
	csum_replace4(&ip->check, ip->daddr, daddr);
	ip->saddr = saddr;
	ip->daddr = daddr;
}

#endif
