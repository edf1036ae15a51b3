/* csum.h: incremental Internet checksum updates (RFC 1624), on packet
 * bytes, usable from XDP and tc alike.
 *
 * HC' = ~(~HC + ~m + m'): only the changed words are folded in, so a NAT
 * rewrite costs a few adds, not a pass over the payload.  The tc entry sees
 * the same complete checksums as XDP: the LB node translates packets that
 * arrived from a wire (or, in the lab, from veths with tx checksum offload
 * off), never CHECKSUM_PARTIAL ones it built itself.
 */
#ifndef BMLB_BPF_CSUM_H
#define BMLB_BPF_CSUM_H

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Replaces a 16-bit word `from` by `to` in the data a checksum covers. */
static __always_inline void csum_replace2(__u16 *check, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~*check;

	sum += (__u16)~from;
	sum += to;
	*check = ~csum_fold32(sum);
}

/* Replaces a 32-bit word (an address) in the covered data. */
static __always_inline void csum_replace4(__u16 *check, __u32 from, __u32 to)
{
	csum_replace2(check, (__u16)from, (__u16)to);
	csum_replace2(check, (__u16)(from >> 16), (__u16)(to >> 16));
}

/* The same for a UDP checksum, where 0 means "none" and a computed 0 is
 * sent as 0xffff (RFC 768). */
static __always_inline void udp_csum_replace4(__u16 *check, __u32 from,
					      __u32 to)
{
	if (!*check)
		return;
	csum_replace4(check, from, to);
	if (!*check)
		*check = 0xffff;
}

static __always_inline void udp_csum_replace2(__u16 *check, __u16 from,
					      __u16 to)
{
	if (!*check)
		return;
	csum_replace2(check, from, to);
	if (!*check)
		*check = 0xffff;
}

#endif
