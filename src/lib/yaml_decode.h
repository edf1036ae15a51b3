/* yaml_decode: typed reading of yaml_tree nodes with field-path diagnostics.
 *
 * A decoder walks a document with a `struct ydec` that tracks the field path
 * ("spec.loadBalancer.addressPools[1].name").  Each typed getter looks up a
 * key in a mapping and returns
 *    1  the value was read into *out,
 *    0  the key is absent or null (*out untouched),
 *   -1  the value has the wrong type; a diagnostic was added.
 * so that one bad field is reported and decoding goes on to find the rest.
 */
#ifndef BMLB_LIB_YAML_DECODE_H
#define BMLB_LIB_YAML_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/diag.h"
#include "lib/yaml_tree.h"

#define YDEC_PATH_MAX 512

struct ydec {
	const char *file;
	struct diag_list *dl;
	char path[YDEC_PATH_MAX];
	size_t len;
	unsigned errors; /* diagnostics added through this decoder */
};

void ydec_init(struct ydec *d, const char *file, struct diag_list *dl);

/* Path handling: enter returns a mark that leave restores. */
size_t ydec_enter(struct ydec *d, const char *key);
size_t ydec_enter_index(struct ydec *d, size_t i);
void ydec_leave(struct ydec *d, size_t mark);

/* A diagnostic at node `at` for the current path (plus `key` if not NULL).
 * fmt gives "what is wrong; what would be valid". */
void ydec_error(struct ydec *d, const struct ynode *at, const char *key,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The value of key in map, or NULL if absent or null. */
const struct ynode *ydec_get(const struct ynode *map, const char *key);

int ydec_map(struct ydec *d, const struct ynode *map, const char *key,
	     const struct ynode **out);
int ydec_seq(struct ydec *d, const struct ynode *map, const char *key,
	     const struct ynode **out);
int ydec_str(struct ydec *d, const struct ynode *map, const char *key,
	     const char **out);
int ydec_bool(struct ydec *d, const struct ynode *map, const char *key,
	      bool *out);
/* A plain decimal integer in [min, max]. */
int ydec_int(struct ydec *d, const struct ynode *map, const char *key,
	     long min, long max, long *out);

/* Checks that node n (e.g. a list item) is of the given kind; on mismatch
 * reports at n for the current path and returns false. */
bool ydec_expect(struct ydec *d, const struct ynode *n, enum ynode_kind kind);

/* Parses a plain decimal scalar in [min, max]; false if it is not one. */
bool ynode_to_long(const struct ynode *n, long min, long max, long *out);

#endif
