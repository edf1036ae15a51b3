/* pools: the addresses of the cluster's pools, as allocation asks about
 * them: which pool holds an address, whether the pool gives it out, and
 * the lowest address still free.
 *
 * Pools may hold millions of addresses, so nothing here is per address:
 * lookups binary-search the ranges, and "lowest free" walks a per-pool
 * cursor that only moves up (addresses are only ever taken during one
 * allocation run, never freed, so every address the cursor passed stays
 * taken).
 */
#ifndef BMLB_IPAM_POOLS_H
#define BMLB_IPAM_POOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cluster.h"
#include "ipam/map.h"

struct ipam_span {
	uint32_t first, last;
	int pool;
};

struct ipam_cursor {
	size_t range; /* index into the pool's ranges */
	uint64_t next; /* every address below it is taken or not usable */
};

struct ipam_pools {
	const struct cfg_cluster *c;
	struct ipam_span *spans; /* every range of every pool, by address */
	size_t nspans;
	int *by_name; /* pool indexes sorted by name */
	struct ipam_cursor *cursors; /* one per pool */
	size_t first_open; /* pools below are manualAssign or full */
};

/* O(R log R) for R ranges in all pools. */
void ipam_pools_init(struct ipam_pools *p, const struct cfg_cluster *c);
void ipam_pools_free(struct ipam_pools *p);

/* Index of the pool holding a, or -1 (also for 0.0.0.0, which stands for
 * "no address" everywhere).  O(log R) over all pools at once. */
int ipam_pools_find(const struct ipam_pools *p, uint32_t a);

/* Index of the pool named name, or -1.  O(log P) for P pools, where
 * cfg_pool_by_name is O(P): it runs once per annotated Service. */
int ipam_pools_by_name(const struct ipam_pools *p, const char *name);

/* The lowest address of pool i that it gives out (cfg_pool_usable), that
 * is neither the controlPlaneVIP nor the ingressVIP (which only goes to a
 * Service that asks for it), and that is not a key of taken; 0 when there
 * is none.  The caller takes the address before asking again.  Over a
 * whole run, O(log R) per address taken or skipped. */
uint32_t ipam_pools_lowest_free(struct ipam_pools *p, int i,
				const struct ipam_map *taken);

/* As ipam_pools_lowest_free over the first pool in file order that is not
 * manualAssign and has a free address; *pool is set to it.  Amortized over
 * the pools as well. */
uint32_t ipam_pools_first_free(struct ipam_pools *p,
			       const struct ipam_map *taken, int *pool);

#endif
