/* diag: the list of user-facing problems found in input files.
 *
 * Deep code never prints; it appends here, and the command decides how to
 * show them.  Every entry is one line of the form
 *   FILE:LINE:COL: field.path: what is wrong; what would be valid
 */
#ifndef BMLB_LIB_DIAG_H
#define BMLB_LIB_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct diag {
	char *file;
	int line; /* 1-based; 0 when the problem concerns the whole file */
	int col;
	char *path; /* field path, e.g. spec.loadBalancer.vips.ingressVIP */
	char *msg;  /* "what is wrong; what would be valid" */
	size_t seq; /* order found, to keep sorting stable */
};

struct diag_list {
	struct diag *v;
	size_t n, cap;
};

void diag_add(struct diag_list *dl, const char *file, int line, int col,
	      const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Sorts by file, line, column (stable) and prints one line per entry. */
void diag_print(struct diag_list *dl, FILE *out);

/* Formats entry d into buf (truncating), control characters escaped
 * (lib/escape.h); returns buf. */
const char *diag_format(const struct diag *d, char *buf, size_t len);

void diag_free(struct diag_list *dl);

#endif
