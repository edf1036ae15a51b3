/* fuzz_range: the address-range and address parsers on any string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ipv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[IPV4_STRLEN];
	struct ipv4_range r;
	const char *why = NULL;
	uint32_t a, b;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ipv4_range_parse(s, &r, &why) == 0) {
		if (r.first > r.last)
			__builtin_trap();
	} else if (!why || !*why) {
		__builtin_trap();
	}
	/* What parses formats back to the same text, and back again. */
	if (ipv4_parse(s, &a) == 0 &&
	    (strcmp(ipv4_format(a, buf), s) || ipv4_parse(buf, &b) || a != b))
		__builtin_trap();
	/* ipv4_parse_n reads only its len bytes. */
	if (size && ipv4_parse_n((const char *)data, size, &b) == 0 &&
	    (ipv4_parse(s, &a) || a != b))
		__builtin_trap();
	free(s);
	return 0;
}
