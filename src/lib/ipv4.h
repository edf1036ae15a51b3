/* ipv4: IPv4 addresses, prefixes and ranges as plain host-order integers.
 *
 * Parsing is strict on purpose: a configuration that guards a production
 * cluster must not accept "10.0.0.010" or "10.0.0.1 - 10.0.0.9" and guess.
 */
#ifndef BMLB_LIB_IPV4_H
#define BMLB_LIB_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPV4_STRLEN 16 /* "255.255.255.255" + NUL */

/* An inclusive range [first, last] of addresses. */
struct ipv4_range {
	uint32_t first, last;
};

/* Dotted quad, four decimal octets 0..255, no leading zeros, nothing else.
 * Returns 0 or -EINVAL. */
int ipv4_parse(const char *s, uint32_t *out);

/* Like ipv4_parse, for a string of `len` bytes that need not be terminated. */
int ipv4_parse_n(const char *s, size_t len, uint32_t *out);

/* Orders two addresses (const uint32_t *, or structs starting with one),
 * for qsort and bsearch. */
int ipv4_cmp(const void *a, const void *b);

/* Writes the dotted quad of `a` into buf (IPV4_STRLEN bytes); returns buf. */
char *ipv4_format(uint32_t a, char *buf);

/* "A.B.C.D/N" with 0 <= N <= 32 and no host bits set.  Returns 0, or
 * -EINVAL with *why set to a short reason. */
int ipv4_cidr_parse(const char *s, struct ipv4_range *out, const char **why);

/* An address pool range: either CIDR ("198.51.100.0/24") or "first-last"
 * with no spaces around the dash and first <= last.  Returns 0, or -EINVAL
 * with *why set to a short reason suitable for a diagnostic. */
int ipv4_range_parse(const char *s, struct ipv4_range *out, const char **why);

static inline bool ipv4_range_contains(const struct ipv4_range *r, uint32_t a)
{
	return a >= r->first && a <= r->last;
}

static inline bool ipv4_ranges_overlap(const struct ipv4_range *a,
				       const struct ipv4_range *b)
{
	return a->first <= b->last && b->first <= a->last;
}

/* Number of addresses in r (up to 2^32, hence 64 bits). */
static inline uint64_t ipv4_range_size(const struct ipv4_range *r)
{
	return (uint64_t)r->last - r->first + 1;
}

#endif
