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

static __always_inline void l4_csum_addr(struct l4_csum *c, __u32 from,
					 __u32 to)
{
	if (c->udp)
		udp_csum_replace4(c->check, from, to);
	else
		csum_replace4(c->check, from, to);
}

static __always_inline void l4_csum_port(struct l4_csum *c, __u16 from,
					 __u16 to)
{
	if (c->udp)
		udp_csum_replace2(c->check, from, to);
	else
		csum_replace2(c->check, from, to);
}

/* Rewrites the source address and port of a TCP/UDP packet.  The address
 * is in the IP header and in the L4 pseudo-header; the port only in L4. */
static __always_inline void nat_source(struct iphdr *ip, struct l4_ports *l4,
				       struct l4_csum *c, __u32 addr,
				       __u16 port)
{
	csum_replace4(&ip->check, ip->saddr, addr);
	l4_csum_addr(c, ip->saddr, addr);
	l4_csum_port(c, l4->source, port);
	ip->saddr = addr;
	l4->source = port;
}

static __always_inline void nat_dest(struct iphdr *ip, struct l4_ports *l4,
				     struct l4_csum *c, __u32 addr, __u16 port)
{
	csum_replace4(&ip->check, ip->daddr, addr);
	l4_csum_addr(c, ip->daddr, addr);
	l4_csum_port(c, l4->dest, port);
	ip->daddr = addr;
	l4->dest = port;
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

	if (c->check) {
		l4_csum_addr(c, in->saddr, saddr);
		l4_csum_addr(c, in->daddr, daddr);
		l4_csum_port(c, l4->source, sport);
		l4_csum_port(c, l4->dest, dport);
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
