/* frames.h: builds Ethernet/IPv4/TCP/UDP/ICMP frames for the packet tests,
 * with every checksum computed from scratch, so that the programs'
 * incremental updates are checked against an independent computation. */
#ifndef BMLB_TESTS_FRAMES_H
#define BMLB_TESTS_FRAMES_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#define FRAME_MAX 1600

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
	uint32_t meta; /* XDP: the metadata it left for tc (0: none) */
};

/* What a test says about a packet; addresses and ports in host order. */
struct pspec {
	uint8_t dmac[6], smac[6];
	uint16_t vlan;    /* 802.1Q tag when not 0 */
	uint8_t proto;    /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP */
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t ttl;      /* 64 when 0 */
	uint16_t frag;    /* the frag_off field (host order) */
	uint8_t optlen;   /* IPv4 options (NOPs, then an end), bytes */
	const uint8_t *opt; /* else these optlen bytes of options */
	uint16_t udp_csum_off; /* 1: send UDP with checksum 0 */
	const char *payload;
	size_t payload_len; /* when the payload holds NULs; else strlen */
	size_t cut;       /* drop this many bytes off the end */
	/* ICMP errors: type/code/mtu, quoting `inner` (its IP header and the
	 * first 8 bytes of its L4 header). */
	uint8_t icmp_type, icmp_code;
	uint16_t mtu;
	const struct pspec *inner;
};

/* Unaligned big-endian stores. */
static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* csum_finish returns network order; store it as bytes. */
static inline void put_csum(uint8_t *p, uint16_t be)
{
	memcpy(p, &be, 2);
}

static inline uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	return sum;
}

static inline uint16_t csum_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Writes the IPv4 packet of s at p; returns its length. */
static inline size_t build_ip(uint8_t *p, const struct pspec *s)
{
	size_t ihl = 20 + s->optlen, l4len;
	uint8_t *l4 = p + ihl;
	size_t plen = s->payload_len ? s->payload_len
		      : s->payload ? strlen(s->payload)
				   : 0;

	memset(p, 0, ihl);
	p[0] = 0x40 | (uint8_t)(ihl / 4);
	p[6] = (uint8_t)(s->frag >> 8);
	p[7] = (uint8_t)s->frag;
	p[8] = s->ttl ? s->ttl : 64;
	p[9] = s->proto;
	put32(p + 12, s->saddr);
	put32(p + 16, s->daddr);
	for (size_t i = 20; i + 1 < ihl; i++)
		p[i] = 1; /* NOP; the last option byte stays 0: end */
	if (s->opt)
		memcpy(p + 20, s->opt, s->optlen);
	if (s->proto == IPPROTO_ICMP) {
		size_t q;

		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		l4[2] = l4[3] = 0;
		put32(l4 + 4, s->mtu);
		q = build_ip(l4 + 8, s->inner);
		/* Quote the header and 8 bytes of L4, as RFC 792 asks. */
		q = (size_t)((l4[8] & 0xf) * 4) + 8 < q
			    ? (size_t)((l4[8] & 0xf) * 4) + 8
			    : q;
		l4len = 8 + q;
		put_csum(l4 + 2, csum_finish(csum_add(0, l4, l4len)));
	} else {
		size_t hl = s->proto == IPPROTO_TCP ? 20 : 8;
		uint32_t sum;
		uint8_t pseudo[12];

		memset(l4, 0, hl);
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		if (s->proto == IPPROTO_TCP) {
			l4[12] = 5 << 4;
			l4[13] = s->tcp_flags;
			put16(l4 + 14, 65535);
		}
		if (plen)
			memcpy(l4 + hl, s->payload, plen);
		l4len = hl + plen;
		if (s->proto == IPPROTO_UDP)
			put16(l4 + 4, (uint16_t)l4len);
		memcpy(pseudo, p + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = s->proto;
		put16(pseudo + 10, (uint16_t)l4len);
		sum = csum_add(csum_add(0, pseudo, 12), l4, l4len);
		if (!(s->proto == IPPROTO_UDP && s->udp_csum_off))
			put_csum(l4 + (s->proto == IPPROTO_TCP ? 16 : 6),
				 csum_finish(sum));
	}
	put16(p + 2, (uint16_t)(ihl + l4len));
	put_csum(p + 10, csum_finish(csum_add(0, p, ihl)));
	return ihl + l4len;
}

static inline void build_frame(struct frame *f, const struct pspec *s)
{
	size_t off = 12;

	memcpy(f->b, s->dmac, 6);
	memcpy(f->b + 6, s->smac, 6);
	if (s->vlan) {
		put16(f->b + off, 0x8100);
		put16(f->b + off + 2, s->vlan);
		off += 4;
	}
	put16(f->b + off, 0x0800);
	f->len = off + 2 + build_ip(f->b + off + 2, s);
	f->len -= s->cut;
}

/* The IPv4 destination of an untagged frame, host order. */
static inline uint32_t daddr_of(const struct frame *f)
{
	return (uint32_t)f->b[14 + 16] << 24 | f->b[14 + 17] << 16 |
	       f->b[14 + 18] << 8 | f->b[14 + 19];
}

#endif
