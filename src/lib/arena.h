/* arena: a bump allocator whose allocations are all freed at once.
 *
 * A parsed YAML document is thousands of small nodes with one lifetime; an
 * arena makes building it a pointer bump and freeing it a few free() calls.
 */
#ifndef BMLB_LIB_ARENA_H
#define BMLB_LIB_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used, size; /* within head */
};

void *arena_alloc(struct arena *a, size_t n); /* aligned to 16, zeroed */
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);

/* Moves every allocation of src into dst (src is left empty). */
void arena_merge(struct arena *dst, struct arena *src);

#endif
