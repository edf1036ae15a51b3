/* diag: collects and prints user-facing diagnostics (see diag.h). */
#include "lib/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/xalloc.h"

void diag_add(struct diag_list *dl, const char *file, int line, int col,
	      const char *path, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		xalloc_fail();
	va_end(ap);
	struct diag *d = xpush(&dl->v, &dl->n, &dl->cap, sizeof(*dl->v));

	*d = (struct diag){
		.file = xstrdup(file ? file : "-"),
		.line = line,
		.col = col,
		.path = xstrdup(path ? path : ""),
		.msg = msg,
		.seq = dl->n - 1,
	};
}

static int diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	/* Equal positions keep the order they were found in. */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

const char *diag_format(const struct diag *d, char *buf, size_t len)
{
	char raw[4096];
	const char *text;

	/* Messages quote names and values from the input: escaped, a name
	 * cannot forge a line of output or drive the terminal. */
	snprintf(raw, sizeof(raw), "%s:%d:%d: %s%s%s", d->file, d->line,
		 d->col, d->path, *d->path ? ": " : "", d->msg);
	text = esc_text(raw, buf, len);
	if (text != buf)
		snprintf(buf, len, "%s", text);
	return buf;
}

void diag_print(struct diag_list *dl, FILE *out)
{
	char buf[4096];

	if (dl->n)
		qsort(dl->v, dl->n, sizeof(*dl->v), diag_cmp);
	for (size_t i = 0; i < dl->n; i++)
		fprintf(out, "%s\n", diag_format(&dl->v[i], buf, sizeof(buf)));
}

void diag_free(struct diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++) {
		free(dl->v[i].file);
		free(dl->v[i].path);
		free(dl->v[i].msg);
	}
	free(dl->v);
	*dl = (struct diag_list){0};
}
