/* owner: which LB node announces a VIP (SPEC.md §4).
 *
 * Rendezvous (highest random weight) hashing: every candidate node gets a
 * score hash(node name, VIP) and the highest score owns the VIP.  A pure
 * function of (candidates, VIP), so every agent computes the same owner with
 * no negotiation; when a node leaves, only the VIPs it owned move (every
 * other VIP's highest scorer is still there); when it comes back, only
 * those move back.  Services sharing a VIP share its owner because the VIP,
 * not the Service, is hashed.
 */
#ifndef BMLB_ANNOUNCE_OWNER_H
#define BMLB_ANNOUNCE_OWNER_H

#include <stddef.h>
#include <stdint.h>

/* Index into names[0..n) of the owner of vip, or -1 when n is 0.  Ties
 * (never seen in practice) go to the smaller name. */
int own_pick(const char *const *names, size_t n, uint32_t vip);

/* The score of (name, vip); exposed for tests and the evenness bench. */
uint64_t own_score(const char *name, uint32_t vip);

#endif
