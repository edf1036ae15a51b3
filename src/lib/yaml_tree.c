/* yaml_tree: builds positioned node trees from libyaml's event stream.
 *
 * Events rather than yaml_parser_load(): the builder needs to check keys and
 * depth as it goes, and allocating from one arena per document is several
 * times cheaper than libyaml's own document model on 100k-object inputs.
 *
 * Depth is checked twice.  libyaml's scanner costs O(flow depth) per token
 * (it rechecks every open flow level's possible simple key), so 80 KB of
 * nested brackets take it seconds: a pre-scan of the bytes (flow_depth_ok)
 * refuses flow nesting deeper than YTREE_DEPTH before libyaml sees the
 * buffer.  It reads brackets, quotes and comments only, not block scalars,
 * so the builder stops the parse, too, at the first level past YTREE_DEPTH
 * (block or flow): whatever the pre-scan misreads costs libyaml at most
 * YTREE_DEPTH levels.
 */
#include "lib/yaml_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/xalloc.h"

struct anchor {
	const char *name;
	struct ynode *node;
};

/* An open sequence or mapping: its node and where its children start on
 * the scratch stack. */
struct frame {
	struct ynode *node;
	size_t first;
};

struct builder {
	const char *file;
	struct diag_list *dl;
	struct ydoc doc;
	struct frame frames[YTREE_DEPTH];
	size_t depth;
	struct ynode **scratch;
	size_t nscratch, cscratch;
	struct anchor *anchors;
	size_t nanchors, canchors;
	size_t nodes; /* nodes allocated in this document */
};

/* Caps expanded sizes far below overflow; anything near it is refused. */
#define WEIGHT_CAP ((size_t)1 << 48)

#define TOO_DEEP "nesting is deeper than 64 levels; flatten the document"

bool ynode_is_null(const struct ynode *n)
{
	if (!n)
		return true;
	if (n->kind != YNODE_SCALAR || !n->plain)
		return false;
	/* Most scalars start with none of ~ n N: decide on one byte. */
	if (n->len && n->str[0] != '~' && n->str[0] != 'n' && n->str[0] != 'N')
		return false;
	return n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

const struct ynode *ynode_get(const struct ynode *n, const char *key)
{
	if (!n || n->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (!strcmp(n->items[2 * i]->str, key))
			return n->items[2 * i + 1];
	return NULL;
}

const char *ynode_kind_name(const struct ynode *n)
{
	switch (n->kind) {
	case YNODE_SEQ:
		return "a list";
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SCALAR:
		break;
	}
	return ynode_is_null(n) ? "nothing" : "a scalar";
}

/* The field path of the node about to be added under the open frames,
 * e.g. "spec.loadBalancer.addressPools[1]". */
static void builder_path(const struct builder *b, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < b->depth && off < len; i++) {
		const struct frame *f = &b->frames[i];
		size_t kids = (i + 1 < b->depth ? b->frames[i + 1].first
						: b->nscratch) - f->first;
		int w;

		if (f->node->kind == YNODE_SEQ) {
			w = snprintf(buf + off, len - off, "[%zu]", kids);
		} else {
			/* An odd count means the key is in and its value is
			 * being built; an even one, that a key is. */
			if (kids % 2 == 0)
				break;
			w = snprintf(buf + off, len - off, "%s%s",
				     off ? "." : "",
				     b->scratch[f->first + kids - 1]->str);
		}
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

static void builder_error(struct builder *b, int line, int col,
			  const char *key, const char *msg)
{
	char path[512];
	size_t off;

	builder_path(b, path, sizeof(path));
	off = strlen(path);
	if (key)
		snprintf(path + off, sizeof(path) - off, "%s%s",
			 off ? "." : "", key);
	diag_add(b->dl, b->file, line, col, path, "%s", msg);
}

static void scratch_push(struct builder *b, struct ynode *n)
{
	struct ynode **slot =
		xpush(&b->scratch, &b->nscratch, &b->cscratch, sizeof(*slot));

	*slot = n;
}

static void mark_pos(struct ynode *n, const yaml_mark_t *m)
{
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
}

static void anchor_add(struct builder *b, const yaml_char_t *name,
		       struct ynode *n)
{
	struct anchor *a;

	if (!name)
		return;
	a = xpush(&b->anchors, &b->nanchors, &b->canchors, sizeof(*a));
	a->name = arena_strndup(&b->doc.arena, (const char *)name,
				strlen((const char *)name));
	a->node = n;
}

static struct ynode *anchor_find(struct builder *b, const yaml_char_t *name)
{
	/* Latest definition wins, as YAML says for redefined anchors. */
	for (size_t i = b->nanchors; i-- > 0;)
		if (!strcmp(b->anchors[i].name, (const char *)name))
			return b->anchors[i].node;
	return NULL;
}

static int str_cmp_node(const void *x, const void *y)
{
	const struct ynode *a = *(struct ynode *const *)x;
	const struct ynode *b = *(struct ynode *const *)y;
	int c = strcmp(a->str, b->str);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line - b->line;
	return a->col - b->col;
}

/* Reports every key that repeats an earlier one in map m. */
static void check_duplicate_keys(struct builder *b, struct ynode *m)
{
	struct ynode **keys;

	if (m->n < 2)
		return;
	keys = xmalloc(m->n * sizeof(*keys));
	for (size_t i = 0; i < m->n; i++)
		keys[i] = m->items[2 * i];
	qsort(keys, m->n, sizeof(*keys), str_cmp_node);
	for (size_t i = 1; i < m->n; i++) {
		if (strcmp(keys[i]->str, keys[i - 1]->str))
			continue;
		char msg[256];

		snprintf(msg, sizeof(msg),
			 "duplicate key (first at line %d, column %d); "
			 "each key may appear only once in a mapping",
			 keys[i - 1]->line, keys[i - 1]->col);
		builder_error(b, keys[i]->line, keys[i]->col, keys[i]->str,
			      msg);
		m->bad = true;
	}
	free(keys);
}

/* Adds a finished node to the open container (or makes it the root). */
static void builder_add(struct builder *b, struct ynode *n)
{
	if (b->depth == 0) {
		b->doc.root = n;
		return;
	}
	struct frame *f = &b->frames[b->depth - 1];

	if (f->node->kind == YNODE_MAP && (b->nscratch - f->first) % 2 == 0 &&
	    n->kind != YNODE_SCALAR) {
		builder_error(b, n->line, n->col, NULL,
			      "a key must be a plain string; write key: value");
		f->node->bad = true;
		/* Keep the map well-formed: substitute an empty key. */
		struct ynode *k = arena_alloc(&b->doc.arena, sizeof(*k));

		*k = (struct ynode){.kind = YNODE_SCALAR, .str = "",
				    .line = n->line, .col = n->col,
				    .weight = 1};
		n = k;
	}
	if (n->bad)
		f->node->bad = true;
	scratch_push(b, n);
}

/* Opens a container; false (reported) one level past YTREE_DEPTH. */
static bool builder_open(struct builder *b, struct ynode *n)
{
	if (b->depth == YTREE_DEPTH) {
		builder_error(b, n->line, n->col, NULL, TOO_DEEP);
		return false;
	}
	b->frames[b->depth++] = (struct frame){.node = n, .first = b->nscratch};
	return true;
}

/* Closes the innermost container: moves its children into the arena. */
static struct ynode *builder_close(struct builder *b)
{
	struct frame *f = &b->frames[--b->depth];
	struct ynode *n = f->node;
	size_t kids = b->nscratch - f->first;

	n->items = arena_alloc(&b->doc.arena, kids * sizeof(*n->items));
	if (kids)
		memcpy(n->items, b->scratch + f->first,
		       kids * sizeof(*n->items));
	n->n = n->kind == YNODE_MAP ? kids / 2 : kids;
	n->weight = 1;
	for (size_t i = 0; i < kids; i++) {
		n->weight += n->items[i]->weight;
		if (n->weight > WEIGHT_CAP)
			n->weight = WEIGHT_CAP;
	}
	b->nscratch = f->first;
	if (n->kind == YNODE_MAP)
		check_duplicate_keys(b, n);
	return n;
}

static struct ynode *scalar_node(struct builder *b, const yaml_event_t *e)
{
	struct ynode *n = arena_alloc(&b->doc.arena, sizeof(*n));
	const char *v = (const char *)e->data.scalar.value;
	size_t len = e->data.scalar.length;

	mark_pos(n, &e->start_mark);
	n->kind = YNODE_SCALAR;
	n->weight = 1;
	b->nodes++;
	n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   !e->data.scalar.tag;
	n->str = arena_strndup(&b->doc.arena, v, len);
	n->len = len;
	if (memchr(v, '\0', len)) {
		builder_error(b, n->line, n->col, NULL,
			      "the value contains a NUL character; "
			      "remove it");
		n->bad = true;
	}
	return n;
}

static void builder_reset(struct builder *b)
{
	arena_free(&b->doc.arena);
	b->doc.root = NULL;
	b->depth = 0;
	b->nscratch = 0;
	b->nanchors = 0;
	b->nodes = 0;
}

/* False (after reporting it) for a document that aliases make much larger
 * than it is: it is not delivered at all. */
static bool expansion_ok(struct builder *b)
{
	const struct ynode *root = b->doc.root;
	size_t limit = YTREE_EXPANSION * b->nodes + YTREE_EXPANSION_SLACK;

	if (!root || root->weight <= limit)
		return true;
	diag_add(b->dl, b->file, root->line, root->col, "",
		 "aliases expand this document to over %zu nodes, more than "
		 "%d times the %zu it holds; write it out with fewer aliases",
		 limit, YTREE_EXPANSION, b->nodes);
	return false;
}

/* Handles one event; returns 1 at the end of a document, 2 at the end of
 * the stream, -1 when nesting is too deep (reported), 0 otherwise. */
static int builder_event(struct builder *b, const yaml_event_t *e)
{
	struct ynode *n;

	switch (e->type) {
	case YAML_STREAM_END_EVENT:
		return 2;
	case YAML_DOCUMENT_START_EVENT:
		builder_reset(b);
		b->doc.line = (int)e->start_mark.line + 1;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return 1;
	case YAML_SCALAR_EVENT:
		n = scalar_node(b, e);
		anchor_add(b, e->data.scalar.anchor, n);
		builder_add(b, n);
		return 0;
	case YAML_ALIAS_EVENT:
		n = anchor_find(b, e->data.alias.anchor);
		if (!n) {
			n = arena_alloc(&b->doc.arena, sizeof(*n));
			*n = (struct ynode){.kind = YNODE_SCALAR, .str = "",
					    .bad = true, .weight = 1};
			mark_pos(n, &e->start_mark);
			builder_error(b, n->line, n->col, NULL,
				      "alias to an undefined anchor; define "
				      "the anchor (&name) before using it");
		}
		builder_add(b, n);
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = arena_alloc(&b->doc.arena, sizeof(*n));
		mark_pos(n, &e->start_mark);
		n->kind = e->type == YAML_MAPPING_START_EVENT ? YNODE_MAP
							      : YNODE_SEQ;
		b->nodes++;
		/* Anchors are registered when the node is complete, so an
		 * alias can never refer to its own ancestor: no cycles. */
		n->str = (const char *)e->data.mapping_start.anchor;
		n->str = n->str ? arena_strndup(&b->doc.arena, n->str,
						strlen(n->str))
				: NULL;
		return builder_open(b, n) ? 0 : -1;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = builder_close(b);
		if (n->str)
			anchor_add(b, (const yaml_char_t *)n->str, n);
		n->str = NULL;
		builder_add(b, n);
		return 0;
	default:
		return 0;
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The pre-scan (see the top of this file): false, reported at the bracket
 * that opens level YTREE_DEPTH + 1, when flow collections nest deeper.
 * A quote opens a quoted scalar, and a bracket a collection outside flow
 * context, only where a node may begin (`it's` and `a[1]` are plain
 * scalars); a comment starts at a # after a blank.  Columns count
 * characters, as libyaml's do. */
static bool flow_depth_ok(const char *file, const char *buf, size_t len,
			  struct diag_list *dl)
{
	enum { PLAIN, SINGLE, DOUBLE, COMMENT } mode = PLAIN;
	bool start = true, blank = true;
	size_t depth = 0;
	int line = 1, col = 0;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i], next = i + 1 < len ? buf[i + 1] : '\n';

		if (c == '\n') {
			line++;
			col = 0;
		} else if (((unsigned char)c & 0xc0) != 0x80) {
			col++;
		}
		switch (mode) {
		case SINGLE: /* '' is a quote inside */
			if (c == '\'' && next == '\'')
				i++, col++;
			else if (c == '\'')
				mode = PLAIN;
			continue;
		case DOUBLE: /* a backslash escapes the next byte */
			if (c == '\\' && next != '\n')
				i++, col++;
			else if (c == '"')
				mode = PLAIN;
			continue;
		case COMMENT:
			if (c == '\n')
				mode = PLAIN, start = blank = true;
			continue;
		case PLAIN:
			break;
		}
		if (is_blank(c)) {
			start |= c == '\n';
			blank = true;
			continue;
		}
		if (c == '#' && blank) {
			mode = COMMENT;
		} else if ((c == '[' || c == '{') && (depth || start)) {
			if (++depth > YTREE_DEPTH) {
				diag_add(dl, file, line, col, "", TOO_DEEP);
				return false;
			}
			start = true;
		} else if (c == ']' || c == '}') {
			depth -= depth > 0;
			start = false;
		} else if (start && (c == '\'' || c == '"')) {
			mode = c == '"' ? DOUBLE : SINGLE;
			start = false;
		} else if (start && (c == '&' || c == '!')) {
			/* an anchor or a tag: the node comes after it */
			while (i + 1 < len && !is_blank(buf[i + 1]) &&
			       !strchr(",[]{}", buf[i + 1]))
				i++, col++;
		} else {
			start = (depth && (c == ',' || c == ':')) ||
				((c == '-' || c == '?' || c == ':') &&
				 is_blank(next));
		}
		blank = false;
	}
	return true;
}

int ytree_parse(const char *file, const char *buf, size_t len, ydoc_fn fn,
		void *arg, struct diag_list *dl)
{
	struct builder b = {.file = file, .dl = dl, .doc.file = file};
	yaml_parser_t parser;
	int ret = 0;

	if (!flow_depth_ok(file, buf, len, dl))
		return -EINVAL;
	if (!yaml_parser_initialize(&parser))
		xalloc_fail();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		yaml_event_t e;
		int r;

		if (!yaml_parser_parse(&parser, &e)) {
			const yaml_mark_t *m = parser.problem_mark.line ||
						       parser.problem_mark.column
					       ? &parser.problem_mark
					       : &parser.context_mark;

			diag_add(dl, file, (int)m->line + 1, (int)m->column + 1,
				 "", "YAML syntax error: %s%s%s; fix the YAML "
				 "syntax here",
				 parser.problem ? parser.problem : "unknown",
				 parser.context ? " " : "",
				 parser.context ? parser.context : "");
			ret = -EINVAL;
			break;
		}
		r = builder_event(&b, &e);
		yaml_event_delete(&e);
		if (r == 2)
			break;
		if (r < 0) {
			ret = -EINVAL;
			break;
		}
		if (r == 1 && expansion_ok(&b)) {
			ret = fn(&b.doc, arg);
			if (ret)
				break;
		}
	}
	yaml_parser_delete(&parser);
	builder_reset(&b);
	free(b.scratch);
	free(b.anchors);
	return ret;
}

int ytree_parse_file(const char *path, size_t max_bytes, ydoc_fn fn,
		     void *arg, struct diag_list *dl)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, ret;

	/* Non-blocking: a FIFO must not wait for a writer (it is refused
	 * below, as everything but a regular file is). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		diag_add(dl, path, 0, 0, "", "cannot open: %s; give a readable "
			 "file", strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		diag_add(dl, path, 0, 0, "", "not a regular file; give a "
			 "YAML file");
		goto out;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		ret = -EFBIG;
		diag_add(dl, path, 0, 0, "", "file is %lld bytes, above the "
			 "limit of %zu bytes; give a smaller file",
			 (long long)st.st_size, max_bytes);
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = r < 0 ? -errno : -EIO;
			diag_add(dl, path, 0, 0, "", "cannot read: %s",
				 strerror(-ret));
			goto out;
		}
		got += (size_t)r;
	}
	ret = ytree_parse(path, buf, got, fn, arg, dl);
out:
	free(buf);
	close(fd);
	return ret;
}
