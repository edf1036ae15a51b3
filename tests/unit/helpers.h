/* helpers: what every cmocka unit test of bmlb includes. */
#ifndef BMLB_TESTS_HELPERS_H
#define BMLB_TESTS_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/diag.h"

/* Index of the first diagnostic whose formatted line contains every one of
 * the given substrings (NULL-terminated list), or -1. */
static inline int diag_find(const struct diag_list *dl, ...)
{
	char buf[4096];

	for (size_t i = 0; i < dl->n; i++) {
		const char *line = diag_format(&dl->v[i], buf, sizeof(buf));
		const char *want;
		int all = 1;
		va_list ap;

		va_start(ap, dl);
		while ((want = va_arg(ap, const char *)))
			if (!strstr(line, want))
				all = 0;
		va_end(ap);
		if (all)
			return (int)i;
	}
	return -1;
}

/* Prints every diagnostic (to see why a test failed). */
static inline void diag_dump(const struct diag_list *dl)
{
	char buf[4096];

	for (size_t i = 0; i < dl->n; i++)
		fprintf(stderr, "  diag: %s\n",
			diag_format(&dl->v[i], buf, sizeof(buf)));
}

/* Asserts that some diagnostic contains all the given substrings. */
#define assert_diag(dl, ...)                                            \
	do {                                                            \
		if (diag_find((dl), __VA_ARGS__, (const char *)NULL) < 0) { \
			diag_dump(dl);                                  \
			fail_msg("no diagnostic with: %s",              \
				 #__VA_ARGS__);                         \
		}                                                       \
	} while (0)

#endif
