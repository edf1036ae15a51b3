/* alloc: which Service holds which VIP (SPEC.md §3 "Address allocation").
 *
 *   allocation = f(previous allocation, cluster, services)
 *
 * A pure function: no I/O, no clock, no globals.  Services are considered in
 * (creationTimestamp, namespace, name) order whatever order they are given
 * in.  First every Service that already holds an address (its status, or the
 * previous plan) keeps it while it is still valid, so that an allocation
 * never moves when other Services come and go; then the others get an
 * address: the one they explicitly ask for, or the lowest free address of
 * the first pool that fits.  Two Services share an address only under the
 * sharing rules (ipam_can_share).
 */
#ifndef BMLB_IPAM_ALLOC_H
#define BMLB_IPAM_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/cluster.h"
#include "k8s/objects.h"

/* One LoadBalancer Service, as allocation sees it. */
struct ipam_svc {
	const struct k8s_service *svc;
	uint32_t previous; /* its VIP in the previous plan; 0 if none */
	/* Identity of its endpoint set (every endpoint address of its
	 * slices, ready or not), for the Local sharing rule. */
	uint64_t endpoints_id;
};

struct ipam_result {
	uint32_t vip; /* 0 when it has none */
	int pool;     /* index into cluster->pools; -1 when vip is 0 */
	/* Why it has no VIP ("requested address 198.51.100.7 is held by
	 * default/web and cannot be shared: no sharing key"), allocated, or
	 * NULL when vip is set. */
	char *reason;
};

/* Allocates for svcs[0..n); writes out[i] for svcs[i].  Never fails.
 * O(n log n) for n Services (alloc.c states the costs in full). */
void ipam_allocate(const struct cfg_cluster *c, const struct ipam_svc *svcs,
		   size_t n, struct ipam_result *out);

/* As ipam_allocate, but gives no new address: a Service without a valid
 * held one gets `wait` as its reason.  An LB node that follows the
 * leader's allocation table (given as the previous addresses) plans so,
 * and every node ends with the leader's allocation (SPEC.md §4). */
void ipam_keep(const struct cfg_cluster *c, const struct ipam_svc *svcs,
	       size_t n, const char *wait, struct ipam_result *out);

/* Frees the reasons of out[0..n) (out itself is the caller's). */
void ipam_results_free(struct ipam_result *out, size_t n);

/* The sharing rule of SPEC.md §3: both carry the same non-empty sharing
 * key, no (protocol, port) pair in common, and both Cluster, or both Local
 * with the same endpoints.  On false, *why says which part failed. */
bool ipam_can_share(const struct ipam_svc *a, const struct ipam_svc *b,
		    const char **why);

#endif
