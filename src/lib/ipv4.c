/* ipv4: strict parsing and formatting of IPv4 addresses and ranges. */
#include "lib/ipv4.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ipv4_parse_n(const char *s, size_t len, uint32_t *out)
{
	uint32_t addr = 0;
	size_t i = 0;

	for (int octet = 0; octet < 4; octet++) {
		unsigned v = 0;
		size_t start = i;

		if (octet > 0) {
			if (i >= len || s[i] != '.')
				return -EINVAL;
			start = ++i;
		}
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255)
			return -EINVAL;
		if (s[start] == '0' && i - start > 1)
			return -EINVAL; /* leading zero: octal in some parsers */
		addr = addr << 8 | v;
	}
	if (i != len)
		return -EINVAL;
	*out = addr;
	return 0;
}

int ipv4_parse(const char *s, uint32_t *out)
{
	return ipv4_parse_n(s, strlen(s), out);
}

int ipv4_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

char *ipv4_format(uint32_t a, char *buf)
{
	snprintf(buf, IPV4_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
	return buf;
}

int ipv4_cidr_parse(const char *s, struct ipv4_range *out, const char **why)
{
	const char *slash = strchr(s, '/');
	uint32_t addr, mask;
	unsigned len = 0;
	const char *p;

	if (!slash || ipv4_parse_n(s, (size_t)(slash - s), &addr) < 0) {
		*why = "not an IPv4 prefix";
		return -EINVAL;
	}
	p = slash + 1;
	if (!*p || strlen(p) > 2 || (p[0] == '0' && p[1])) {
		*why = "bad prefix length";
		return -EINVAL;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			*why = "bad prefix length";
			return -EINVAL;
		}
		len = len * 10 + (unsigned)(*p - '0');
	}
	if (len > 32) {
		*why = "prefix length above 32";
		return -EINVAL;
	}
	mask = len ? ~0u << (32 - len) : 0;
	if (addr & ~mask) {
		*why = "host bits set after the prefix length";
		return -EINVAL;
	}
	out->first = addr;
	out->last = addr | ~mask;
	return 0;
}

int ipv4_range_parse(const char *s, struct ipv4_range *out, const char **why)
{
	const char *dash = strchr(s, '-');

	if (strchr(s, '/'))
		return ipv4_cidr_parse(s, out, why);
	if (!dash) {
		*why = "neither a CIDR prefix nor a first-last range";
		return -EINVAL;
	}
	if (strchr(s, ' ') || strchr(s, '\t')) {
		*why = "spaces are not allowed in a range";
		return -EINVAL;
	}
	if (ipv4_parse_n(s, (size_t)(dash - s), &out->first) < 0) {
		*why = "the first address is not an IPv4 address";
		return -EINVAL;
	}
	if (ipv4_parse(dash + 1, &out->last) < 0) {
		*why = "the last address is not an IPv4 address";
		return -EINVAL;
	}
	if (out->first > out->last) {
		*why = "the first address is above the last";
		return -EINVAL;
	}
	return 0;
}
