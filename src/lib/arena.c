/* arena: chunked bump allocation (see arena.h). */
#include "lib/arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	alignas(16) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!a->head || a->size - a->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		struct arena_chunk *c = xmalloc(sizeof(*c) + size);

		c->next = a->head;
		a->head = c;
		a->used = 0;
		a->size = size;
	}
	p = a->head->data + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;

	while (c) {
		struct arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	*a = (struct arena){0};
}

void arena_merge(struct arena *dst, struct arena *src)
{
	struct arena_chunk *tail = src->head;

	if (!tail)
		return;
	while (tail->next)
		tail = tail->next;
	/* src's chunks go behind dst's current one, which keeps its room. */
	if (dst->head) {
		tail->next = dst->head->next;
		dst->head->next = src->head;
	} else {
		*dst = *src;
	}
	*src = (struct arena){0};
}
