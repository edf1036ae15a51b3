/* json_writer: compact streaming JSON output (see json_writer.h). */
#include "lib/json_writer.h"

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
		fputc(',', w->out);
	if (w->depth > 0)
		w->need_comma[w->depth - 1] = true;
}

static void jw_open(struct jw *w, char c)
{
	jw_value(w);
	fputc(c, w->out);
	if (w->depth < JW_DEPTH)
		w->need_comma[w->depth] = false;
	w->depth++;
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	fputc(c, w->out);
}

void jw_obj_begin(struct jw *w) { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr_begin(struct jw *w) { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

static void jw_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void jw_key(struct jw *w, const char *key)
{
	jw_value(w);
	jw_quoted(w->out, key);
	fputc(':', w->out);
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
