/* json_writer: compact streaming JSON output (see json_writer.h). */
#include "lib/json_writer.h"

#include <string.h>

void jw_init(struct jw *w, FILE *out)
{
	*w = (struct jw){.out = out};
}

/* Writes the separator a new value needs at the current position. */
static void jw_value(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && w->need_comma[w->depth - 1])
		putc_unlocked(',', w->out);
	if (w->depth > 0)
		w->need_comma[w->depth - 1] = true;
}

static void jw_open(struct jw *w, char c)
{
	jw_value(w);
	putc_unlocked(c, w->out);
	if (w->depth < JW_DEPTH)
		w->need_comma[w->depth] = false;
	w->depth++;
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	putc_unlocked(c, w->out);
}

void jw_obj_begin(struct jw *w) { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr_begin(struct jw *w) { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

/* Writes s quoted, copying runs that need no escape in one call: a plan
 * of 100k services is millions of short strings. */
static void jw_quoted(FILE *out, const char *s)
{
	const char *run = s;

	putc_unlocked('"', out);
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		fwrite_unlocked(run, 1, (size_t)(p - run), out);
		run = p + 1;
		switch (c) {
		case '"':
			fputs_unlocked("\\\"", out);
			break;
		case '\\':
			fputs_unlocked("\\\\", out);
			break;
		case '\n':
			fputs_unlocked("\\n", out);
			break;
		case '\t':
			fputs_unlocked("\\t", out);
			break;
		case '\r':
			fputs_unlocked("\\r", out);
			break;
		default:
			fprintf(out, "\\u%04x", c);
		}
	}
	fwrite_unlocked(run, 1, strlen(run), out);
	putc_unlocked('"', out);
}

void jw_key(struct jw *w, const char *key)
{
	jw_value(w);
	jw_quoted(w->out, key);
	putc_unlocked(':', w->out);
	w->after_key = true;
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_value(w);
	jw_quoted(w->out, s);
}

void jw_int(struct jw *w, long long v)
{
	jw_value(w);
	fprintf(w->out, "%lld", v);
}

void jw_bool(struct jw *w, bool v)
{
	jw_value(w);
	fputs(v ? "true" : "false", w->out);
}

void jw_null(struct jw *w)
{
	jw_value(w);
	fputs("null", w->out);
}
