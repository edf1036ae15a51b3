/* map: an open-addressing hash map from 64-bit keys to 32-bit values, for
 * the allocator's per-run indexes (address -> holder, (address, port) ->
 * Service, ...).
 *
 * Linear probing, kept at most half full (it doubles when it would pass
 * that), so a lookup takes O(1) expected probes.  Sizing it right at init
 * avoids any rehash.  Keys are anything but IPAM_MAP_EMPTY.
 */
#ifndef BMLB_IPAM_MAP_H
#define BMLB_IPAM_MAP_H

#include <stddef.h>
#include <stdint.h>

#define IPAM_MAP_EMPTY UINT64_MAX

struct ipam_map {
	uint64_t *keys;
	uint32_t *vals;
	size_t mask, n;
};

/* An empty map sized for about `expect` entries. */
void ipam_map_init(struct ipam_map *m, size_t expect);
void ipam_map_free(struct ipam_map *m);

/* The value of key, or NULL.  The pointer is valid until the next put. */
uint32_t *ipam_map_find(const struct ipam_map *m, uint64_t key);

/* The value of key, inserting key with value val first when absent (*added
 * tells which).  The pointer is valid until the next put. */
uint32_t *ipam_map_put(struct ipam_map *m, uint64_t key, uint32_t val,
		       int *added);

#endif
