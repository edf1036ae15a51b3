/* owner: rendezvous hashing of VIPs onto LB nodes (see owner.h). */
#include "announce/owner.h"

#include <string.h>

#include "lib/hash.h"

uint64_t own_score(const char *name, uint32_t vip)
{
	return hash_mix64(hash_bytes(name, strlen(name), 0) ^
			  hash_mix64(0x9e3779b97f4a7c15ULL + vip));
}

int own_pick(const char *const *names, size_t n, uint32_t vip)
{
	int best = -1;
	uint64_t best_score = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t s = own_score(names[i], vip);

		if (best < 0 || s > best_score ||
		    (s == best_score && strcmp(names[i], names[best]) < 0)) {
			best = (int)i;
			best_score = s;
		}
	}
	return best;
}
