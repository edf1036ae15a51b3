/* yaml_tree: YAML documents as small trees of nodes that know their line.
 *
 * libyaml does the parsing; this module builds, per document, a tree whose
 * nodes carry their 1-based line and column so that every later diagnostic
 * can point at the offending text.  While building it also refuses what YAML
 * allows but a configuration must not: duplicate keys, non-scalar keys,
 * undefined aliases, NUL bytes in scalars.  A node (or any node below it)
 * with such a problem is marked `bad`, so that a caller can leave that
 * object out and keep the rest.  Nesting deeper than YTREE_DEPTH stops the
 * parse, as a syntax error does (libyaml's cost grows with the square of
 * it: see yaml_tree.c).
 *
 * Aliases are kept as shared nodes, never copied, but a reader walking the
 * tree visits a shared node once per reference: a few hundred bytes of
 * nested aliases ("billion laughs") would make it walk billions of nodes.
 * So every node knows its expanded size, and a document whose expanded
 * size exceeds YTREE_EXPANSION times its real size (plus a little slack for
 * small files) is reported and not delivered to the caller at all.
 */
#ifndef BMLB_LIB_YAML_TREE_H
#define BMLB_LIB_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/arena.h"
#include "lib/diag.h"

#define YTREE_DEPTH 64
#define YTREE_EXPANSION 4
#define YTREE_EXPANSION_SLACK 4096

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_kind kind;
	bool plain; /* scalar written without quotes and without a tag */
	bool bad;   /* this node or one below it was refused while building */
	int line, col;
	const char *str; /* scalar text, NUL-terminated */
	size_t len;      /* scalar length */
	size_t n;        /* seq: number of items; map: number of pairs */
	size_t weight;   /* nodes in the subtree, aliases expanded (capped) */
	struct ynode **items; /* seq: n items; map: key0, value0, key1, ... */
};

struct ydoc {
	const char *file;
	const struct ynode *root; /* NULL for an empty document */
	int line;                 /* where the document starts */
	struct arena arena;
};

/* Called once per complete document; the document is freed after it
 * returns.  A non-zero return stops the parse and is returned. */
typedef int (*ydoc_fn)(const struct ydoc *doc, void *arg);

/* Parses every document of buf.  Problems go to dl with `file` as their
 * file name.  Returns 0, the callback's non-zero value, or -EINVAL after a
 * syntax error or nesting deeper than YTREE_DEPTH (documents before it
 * were delivered). */
int ytree_parse(const char *file, const char *buf, size_t len, ydoc_fn fn,
		void *arg, struct diag_list *dl);

/* Reads path (refusing files above max_bytes) and parses it.  Returns as
 * ytree_parse, or -errno when the file cannot be read (reported in dl). */
int ytree_parse_file(const char *path, size_t max_bytes, ydoc_fn fn,
		     void *arg, struct diag_list *dl);

/* A plain null: absent value, "~", "null", "Null", "NULL". */
bool ynode_is_null(const struct ynode *n);

/* Value of `key` in map n, or NULL if n is not a map or has no such key. */
const struct ynode *ynode_get(const struct ynode *n, const char *key);

/* "a mapping", "a list", "a string" etc., for messages. */
const char *ynode_kind_name(const struct ynode *n);

#endif
