/* yaml_decode: typed getters over yaml_tree with diagnostics (see .h). */
#include "lib/yaml_decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ydec_init(struct ydec *d, const char *file, struct diag_list *dl)
{
	*d = (struct ydec){.file = file, .dl = dl};
}

/* Appends up to n bytes of s to the path, truncating at YDEC_PATH_MAX.
 * Plain copies: decoding enters a path for every field it reads. */
static void ydec_put(struct ydec *d, const char *s, size_t n)
{
	size_t room = sizeof(d->path) - 1 - d->len;

	if (n > room)
		n = room;
	memcpy(d->path + d->len, s, n);
	d->len += n;
	d->path[d->len] = '\0';
}

size_t ydec_enter(struct ydec *d, const char *key)
{
	size_t mark = d->len;

	if (d->len)
		ydec_put(d, ".", 1);
	ydec_put(d, key, strlen(key));
	return mark;
}

size_t ydec_enter_index(struct ydec *d, size_t i)
{
	size_t mark = d->len;
	char buf[24];
	char *p = buf + sizeof(buf);

	*--p = ']';
	do
		*--p = (char)('0' + i % 10);
	while (i /= 10);
	*--p = '[';
	ydec_put(d, p, (size_t)(buf + sizeof(buf) - p));
	return mark;
}

void ydec_leave(struct ydec *d, size_t mark)
{
	d->len = mark;
	d->path[mark] = '\0';
}

void ydec_error(struct ydec *d, const struct ynode *at, const char *key,
		const char *fmt, ...)
{
	size_t mark = key ? ydec_enter(d, key) : d->len;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(d->dl, d->file, at ? at->line : 0, at ? at->col : 0, d->path,
		 "%s", msg);
	ydec_leave(d, mark);
	d->errors++;
}

const struct ynode *ydec_get(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return ynode_is_null(v) ? NULL : v;
}

static const char *kind_wanted(enum ynode_kind kind)
{
	switch (kind) {
	case YNODE_SEQ:
		return "a list";
	case YNODE_MAP:
		return "a mapping (key: value pairs)";
	case YNODE_SCALAR:
		break;
	}
	return "a single value";
}

static bool check_kind(struct ydec *d, const struct ynode *n, const char *key,
		       enum ynode_kind kind)
{
	if (n->kind == kind)
		return true;
	ydec_error(d, n, key, "expected %s, found %s; write %s here",
		   kind_wanted(kind), ynode_kind_name(n), kind_wanted(kind));
	return false;
}

bool ydec_expect(struct ydec *d, const struct ynode *n, enum ynode_kind kind)
{
	return check_kind(d, n, NULL, kind);
}

static int get_kind(struct ydec *d, const struct ynode *map, const char *key,
		    enum ynode_kind kind, const struct ynode **out)
{
	const struct ynode *v = ydec_get(map, key);

	if (!v)
		return 0;
	if (!check_kind(d, v, key, kind))
		return -1;
	*out = v;
	return 1;
}

int ydec_map(struct ydec *d, const struct ynode *map, const char *key,
	     const struct ynode **out)
{
	return get_kind(d, map, key, YNODE_MAP, out);
}

int ydec_seq(struct ydec *d, const struct ynode *map, const char *key,
	     const struct ynode **out)
{
	return get_kind(d, map, key, YNODE_SEQ, out);
}

int ydec_str(struct ydec *d, const struct ynode *map, const char *key,
	     const char **out)
{
	const struct ynode *v;
	int r = get_kind(d, map, key, YNODE_SCALAR, &v);

	if (r == 1)
		*out = v->str;
	return r;
}

int ydec_bool(struct ydec *d, const struct ynode *map, const char *key,
	      bool *out)
{
	const struct ynode *v;
	int r = get_kind(d, map, key, YNODE_SCALAR, &v);

	if (r != 1)
		return r;
	/* YAML 1.2 core booleans only: a quoted "true" is a string, and
	 * YAML 1.1's yes/no/on/off are too easy to write by accident. */
	if (v->plain && (!strcmp(v->str, "true") || !strcmp(v->str, "True") ||
			 !strcmp(v->str, "TRUE"))) {
		*out = true;
		return 1;
	}
	if (v->plain && (!strcmp(v->str, "false") ||
			 !strcmp(v->str, "False") || !strcmp(v->str, "FALSE"))) {
		*out = false;
		return 1;
	}
	ydec_error(d, v, key, "'%s' is not a boolean; write true or false "
		   "(without quotes)", v->str);
	return -1;
}

bool ynode_to_long(const struct ynode *n, long min, long max, long *out)
{
	const char *s = n->str;
	long v = 0;
	size_t i = 0;
	bool neg = false;

	if (n->kind != YNODE_SCALAR || !n->plain || !n->len)
		return false;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
	}
	/* 18 digits always fit a long: no overflow to guard against. */
	if (i == n->len || n->len - i > 18)
		return false;
	for (; i < n->len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

int ydec_int(struct ydec *d, const struct ynode *map, const char *key,
	     long min, long max, long *out)
{
	const struct ynode *v;
	int r = get_kind(d, map, key, YNODE_SCALAR, &v);

	if (r != 1)
		return r;
	if (!ynode_to_long(v, min, max, out)) {
		ydec_error(d, v, key, "'%s' is not a whole number from %ld "
			   "to %ld; write one (without quotes)", v->str, min,
			   max);
		return -1;
	}
	return 1;
}
