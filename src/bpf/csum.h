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

/* Start from a checksum, add every (from, to) change, fold once at the
 * end: a NAT rewrite of addresses and ports is one fold per checksum. */
static __always_inline __u32 csum_start(__u16 check)
{
	return (__u16)~check;
}

static __always_inline __u32 csum_add2(__u32 sum, __u16 from, __u16 to)
{
	return sum + (__u16)~from + to;
}

static __always_inline __u32 csum_add4(__u32 sum, __u32 from, __u32 to)
{
	return csum_add2(csum_add2(sum, (__u16)from, (__u16)to),
			 (__u16)(from >> 16), (__u16)(to >> 16));
}

static __always_inline __u16 csum_end(__u32 sum)
{
	return ~csum_fold32(sum);
}

#endif
