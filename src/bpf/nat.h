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

/* Folds a change (a sum of csum_add* terms from 0) into a TCP/UDP
 * checksum.  A UDP checksum of 0 means "none" and stays 0; a computed 0
 * goes out as 0xffff (RFC 768). */
static __always_inline void l4_csum_fold(struct l4_csum *c, __u32 change)
{
	__u16 check;

	if (c->udp && !*c->check)
		return;
	check = csum_end(csum_start(*c->check) + change);
	*c->check = c->udp && !check ? 0xffff : check;
}

/* Updates a TCP/UDP checksum for a rewrite of the 4-tuple to (saddr,
 * sport, daddr, dport), before the fields are written. */
static __always_inline void l4_csum_tuple(struct l4_csum *c, struct iphdr *ip,
					  struct l4_ports *l4, __u32 saddr,
					  __u16 sport, __u32 daddr, __u16 dport)
{
	l4_csum_fold(c, csum_add_tuple(0, saddr, sport, daddr, dport, ip, l4));
}

/* The IP header checksum after both addresses change. */
static __always_inline __u16 ip_csum_addrs(const struct iphdr *ip,
					   __u32 saddr, __u32 daddr)
{
	return csum_end(csum_add4(csum_add4(csum_start(ip->check), ip->saddr,
					    saddr),
				  ip->daddr, daddr));
}

static __always_inline void set_tuple(struct iphdr *ip, struct l4_ports *l4,
				      __u32 saddr, __u16 sport, __u32 daddr,
				      __u16 dport)
{
	ip->saddr = saddr;
	ip->daddr = daddr;
	l4->source = sport;
	l4->dest = dport;
}

/* Rewrites both addresses and both ports of a TCP/UDP packet with one fold
 * per checksum.  Addresses are in the IP header and in the L4 checksum's
 * pseudo-header; ports only in L4. */
static __always_inline void nat_rewrite(struct iphdr *ip, struct l4_ports *l4,
					struct l4_csum *c, __u32 saddr,
					__u16 sport, __u32 daddr, __u16 dport)
{
	l4_csum_tuple(c, ip, l4, saddr, sport, daddr, dport);
	ip->check = ip_csum_addrs(ip, saddr, daddr);
	set_tuple(ip, l4, saddr, sport, daddr, dport);
}

/* Rewrites only the destination address and port (DSR: the client's
 * source stays), one fold per checksum. */
static __always_inline void nat_dnat(struct iphdr *ip, struct l4_ports *l4,
				     struct l4_csum *c, __u32 daddr,
				     __u16 dport)
{
	l4_csum_fold(c, csum_add2(csum_add4(0, ip->daddr, daddr), l4->dest,
				  dport));
	ip->check = csum_end(csum_add4(csum_start(ip->check), ip->daddr,
				       daddr));
	ip->daddr = daddr;
	l4->dest = dport;
}

/* Rewrites the packet quoted in an ICMP error: its addresses (and its IP
 * checksum), its ports and, when the quote holds it (c->check not NULL),
 * its L4 checksum, keeping the ICMP checksum, which covers the quote,
 * right: every word that changes is folded into it once. */
static __always_inline void nat_quoted(struct icmphdr *icmp,
				       struct iphdr *in, struct l4_ports *l4,
				       struct l4_csum *c, __u32 saddr,
				       __u16 sport, __u32 daddr, __u16 dport)
{
	__u32 sum = csum_add_tuple(csum_start(icmp->checksum), saddr, sport,
				   daddr, dport, in, l4);
	__u16 old;

	if (c->check) {
		old = *c->check;
		l4_csum_tuple(c, in, l4, saddr, sport, daddr, dport);
		sum = csum_add2(sum, old, *c->check);
	}
	old = in->check;
	in->check = ip_csum_addrs(in, saddr, daddr);
	icmp->checksum = csum_end(csum_add2(sum, old, in->check));
	set_tuple(in, l4, saddr, sport, daddr, dport);
}

/* Rewrites the outer addresses of an ICMP error (no pseudo-header). */
static __always_inline void nat_outer(struct iphdr *ip, __u32 saddr,
				      __u32 daddr)
{
	ip->check = ip_csum_addrs(ip, saddr, daddr);
	ip->saddr = saddr;
	ip->daddr = daddr;
}

#endif
