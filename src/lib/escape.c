/* escape: control characters in printed text (see escape.h). */
#include "lib/escape.h"

#include <stdio.h>
#include <string.h>

/* Bytes of the control character at s (1 for C0 and DEL, 2 for a C1 in
 * UTF-8), or 0 when s starts with none. */
static size_t control_at(const unsigned char *s)
{
	if (*s < 0x20 || *s == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	return 0;
}

const char *esc_text(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0;

	if (!s)
		return NULL;
	while (*p && !control_at(p))
		p++;
	if (!*p)
		return s;
	if (len < 4)
		return "...";
	for (p = (const unsigned char *)s; *p; p++) {
		size_t n = control_at(p);
		char one[8] = {(char)*p, '\0'};

		if (n == 2)
			snprintf(one, sizeof(one), "\\u00%02x", p[1]);
		else if (*p == '\n' || *p == '\r' || *p == '\t')
			snprintf(one, sizeof(one), "\\%c",
				 *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
		else if (n)
			snprintf(one, sizeof(one), "\\x%02x", *p);
		p += n == 2;
		/* Room is kept for "..." and the NUL. */
		if (off + strlen(one) + 4 > len) {
			strcpy(buf + off, "...");
			return buf;
		}
		memcpy(buf + off, one, strlen(one) + 1);
		off += strlen(one);
	}
	return buf;
}
