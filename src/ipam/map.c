/* map: open-addressing (linear probing) u64 -> u32 map; see map.h. */
#include "ipam/map.h"

#include <stdlib.h>

#include "lib/hash.h"
#include "lib/xalloc.h"

static void init_cap(struct ipam_map *m, size_t cap)
{
	m->keys = xreallocarray(NULL, cap, sizeof(*m->keys));
	m->vals = xreallocarray(NULL, cap, sizeof(*m->vals));
	m->mask = cap - 1;
	m->n = 0;
	for (size_t i = 0; i < cap; i++)
		m->keys[i] = IPAM_MAP_EMPTY;
}

void ipam_map_init(struct ipam_map *m, size_t expect)
{
	size_t cap = 16;

	while (cap < 2 * expect + 1)
		cap *= 2;
	init_cap(m, cap);
}

void ipam_map_free(struct ipam_map *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct ipam_map *m, uint64_t key)
{
	size_t i = hash_mix64(key) & m->mask;

	while (m->keys[i] != key && m->keys[i] != IPAM_MAP_EMPTY)
		i = (i + 1) & m->mask;
	return i;
}

uint32_t *ipam_map_find(const struct ipam_map *m, uint64_t key)
{
	size_t i = slot_of(m, key);

	return m->keys[i] == key ? &m->vals[i] : NULL;
}

static void grow(struct ipam_map *m)
{
	struct ipam_map old = *m;

	init_cap(m, 2 * (old.mask + 1));
	for (size_t i = 0; i <= old.mask; i++) {
		if (old.keys[i] != IPAM_MAP_EMPTY) {
			size_t j = slot_of(m, old.keys[i]);

			m->keys[j] = old.keys[i];
			m->vals[j] = old.vals[i];
			m->n++;
		}
	}
	ipam_map_free(&old);
}

uint32_t *ipam_map_put(struct ipam_map *m, uint64_t key, uint32_t val,
		       int *added)
{
	size_t i = slot_of(m, key);

	*added = m->keys[i] != key;
	if (*added) {
		if (2 * (m->n + 1) > m->mask + 1) {
			grow(m);
			i = slot_of(m, key);
		}
		m->keys[i] = key;
		m->vals[i] = val;
		m->n++;
	}
	return &m->vals[i];
}
