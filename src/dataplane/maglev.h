/* maglev: the lookup table of Maglev consistent hashing (Eisenbud et al.,
 * "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016,
 * §3.4), built in user space and read by the BPF data plane, which sends a
 * new flow to backend table[flow_hash % m].
 *
 * Every backend gets a permutation of the m slots from two fixed hashes of
 * its (address, port); the backends then take turns, each claiming the next
 * free slot of its own permutation, until the table is full.  So:
 * - every agent builds the same table from the same backend set, whatever
 *   order it lists the backends in (a private copy is sorted by identity);
 * - each backend holds m/n slots, give or take one (if weights are equal);
 * - when a backend goes, its slots go to the others and only a small share
 *   of the other slots move; when it comes back, the table is exactly the
 *   one it was before.
 * Building costs O(m log m) expected slot probes and O(n) memory: the
 * permutations are walked lazily, never stored.  Unequal weights add O(n)
 * per round, at most m rounds.
 */
#ifndef BMLB_DATAPLANE_MAGLEV_H
#define BMLB_DATAPLANE_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

/* The slot value of an empty table (no backend). */
#define MAGLEV_NONE UINT32_MAX

/* A backend, identified by its (ip, port); weight is its share relative to
 * the others (2 gets twice the slots of 1); 0 counts as 1. */
struct maglev_backend {
	uint32_t ip;	 /* host order */
	uint16_t port;	 /* host order */
	uint16_t weight;
};

/* The table size for n backends: 65521 up to 100 backends, 131071 (512 KiB
 * of u32 slots) above.  Two limits set it:
 * - balance: backends hold m/n slots rounded up or down, so m >= 100 n
 *   keeps the most loaded backend within 1% of the least loaded one
 *   (Maglev's rule of thumb); past 1310 backends the spread grows as
 *   n / 131071;
 * - disruption: when a backend goes, the share of the other slots that
 *   move grows as m shrinks (and peaks near m = 150-250 n).  Measured over
 *   1,400 random sets of 3-100 backends and 210 of 200-2000 backends (and
 *   pod-like ones in bench/maglev), the flows remapped beyond the 1/n that
 *   must move average under 0.6% with these sizes up to 100 backends
 *   and under 0.75% above (one removal in 11,600 reached 2.5%, one of 5
 *   backends), against 1.4% for 100-300 backends at m = 16381 and up to
 *   15% for 3 backends at m = 509: smaller tables miss issue #4's target
 *   of 1/n + 1%.
 * Callers short of memory may pass a smaller prime to maglev_build. */
uint32_t maglev_pick_size(size_t n);

/* Fills table[0..m) with indexes into b[0..n) (the caller's order).  m must
 * be prime and above n, and no two backends may share an (ip, port): else
 * -EINVAL and table is untouched.  n == 0 fills table with MAGLEV_NONE.
 * Returns 0. */
int maglev_build(const struct maglev_backend *b, size_t n, uint32_t *table,
		 uint32_t m);

#endif
