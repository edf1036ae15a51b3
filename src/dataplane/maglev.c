/* maglev: builds the Maglev lookup table of a backend set (see maglev.h). */
#include "dataplane/maglev.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/hash.h"
#include "lib/xalloc.h"

/* Seeds of the two hashes of a backend's identity: any two distinct fixed
 * values, never to be changed (see lib/hash.h). */
#define SEED_OFFSET 0x6d61676c65764f46ULL /* "maglevOF" */
#define SEED_SKIP 0x6d61676c65765350ULL	  /* "maglevSP" */

/* One backend while the table fills: the state of its permutation
 * (pos, pos + skip, pos + 2 skip, ... mod m) and of its turns. */
struct turn {
	uint32_t ip;
	uint16_t port;
	uint16_t weight;
	uint32_t idx; /* in the caller's b[] */
	uint32_t pos; /* the next slot it will try */
	uint32_t skip;
	uint32_t credit;
};

uint32_t maglev_pick_size(size_t n)
{
	return n <= 100 ? 65521 : 131071;
}

static bool is_prime(uint32_t m)
{
	if (m < 2)
		return false;
	for (uint32_t d = 2; (uint64_t)d * d <= m; d++)
		if (m % d == 0)
			return false;
	return true;
}

static int turn_cmp(const void *pa, const void *pb)
{
	const struct turn *a = pa, *b = pb;

	if (a->ip != b->ip)
		return a->ip < b->ip ? -1 : 1;
	return (a->port > b->port) - (a->port < b->port);
}

/* (pos + skip) mod m without overflowing 32 bits. */
static uint32_t advance(uint32_t pos, uint32_t skip, uint32_t m)
{
	return pos >= m - skip ? pos - (m - skip) : pos + skip;
}

/* The backends sorted by identity, with their permutations started, or
 * NULL if two share an identity. */
static struct turn *turns_new(const struct maglev_backend *b, size_t n,
			      uint32_t m)
{
	struct turn *v = xcalloc(n, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		/* Hash a fixed byte layout (network order), so that every
		 * machine computes the same permutation. */
		const unsigned char key[6] = {
			b[i].ip >> 24, b[i].ip >> 16, b[i].ip >> 8, b[i].ip,
			b[i].port >> 8, b[i].port,
		};

		v[i].ip = b[i].ip;
		v[i].port = b[i].port;
		v[i].weight = b[i].weight ? b[i].weight : 1;
		v[i].idx = (uint32_t)i;
		v[i].pos = hash_bytes(key, sizeof(key), SEED_OFFSET) % m;
		v[i].skip = hash_bytes(key, sizeof(key), SEED_SKIP) % (m - 1) + 1;
	}
	qsort(v, n, sizeof(*v), turn_cmp);
	for (size_t i = 1; i < n; i++) {
		if (turn_cmp(&v[i - 1], &v[i]) == 0) {
			free(v);
			return NULL;
		}
	}
	return v;
}

/* Fills an empty table.  In each round every backend earns its weight in
 * credit and takes a turn per `wmax` of credit: with equal weights, one turn
 * each per round, as in the paper.  A turn claims the first free slot of
 * its permutation, which exists while the table is not full since m is
 * prime, so every skip in [1, m) walks through all the slots. */
static void fill(struct turn *v, size_t n, uint32_t *table, uint32_t m)
{
	uint32_t wmax = 0, filled = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].weight > wmax)
			wmax = v[i].weight;
	for (;;) {
		for (size_t i = 0; i < n; i++) {
			struct turn *t = &v[i];

			t->credit += t->weight;
			if (t->credit < wmax)
				continue;
			t->credit -= wmax;
			while (table[t->pos] != MAGLEV_NONE)
				t->pos = advance(t->pos, t->skip, m);
			table[t->pos] = t->idx;
			t->pos = advance(t->pos, t->skip, m);
			if (++filled == m)
				return;
		}
	}
}

int maglev_build(const struct maglev_backend *b, size_t n, uint32_t *table,
		 uint32_t m)
{
	struct turn *v = NULL;

	if (!is_prime(m) || n >= m)
		return -EINVAL;
	if (n > 0 && !(v = turns_new(b, n, m)))
		return -EINVAL;
	for (uint32_t s = 0; s < m; s++)
		table[s] = MAGLEV_NONE;
	if (v)
		fill(v, n, table, m);
	free(v);
	return 0;
}
