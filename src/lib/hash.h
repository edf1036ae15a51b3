/* hash: fixed, seedless hash functions.
 *
 * Every agent must reach the same owner for a VIP and the same Maglev table
 * from the same inputs, so these hashes never depend on the process, the
 * machine or a random seed.  Changing them moves VIPs between nodes of a
 * cluster that upgrades agents one by one: don't.
 */
#ifndef BMLB_LIB_HASH_H
#define BMLB_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The splitmix64 finalizer: a bijection that spreads every input bit. */
static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* FNV-1a over n bytes, finished with hash_mix64. */
static inline uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return hash_mix64(h);
}

#endif
