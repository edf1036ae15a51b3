/* neigh: the neighbour entries the agent keeps for the backends' next hops
 * on the cluster interface, through rtnetlink (libmnl).  It owns bmlb's
 * managed entries there (NTF_EXT_MANAGED, NDA_PROTOCOL NH_PROTO) and a
 * subscription to the interface's neighbour events; what to create,
 * remove and leave out is nexthop.h's (pure) decision.
 *
 * Managed entries are resolved and refreshed by the kernel itself, so
 * that bpf_fib_lookup in XDP finds the MAC of every backend's next hop,
 * and the state of each tells when a next hop is gone (FAILED).  They
 * outlive the agent (as the pinned maps do): the next agent adopts them
 * and removes those no backend needs any more.  Next hops on other
 * interfaces (the pod bridge, a tunnel device) are the kernel's and the
 * CNI's business and are not managed. */
#ifndef BMLB_DATAPLANE_NEIGH_H
#define BMLB_DATAPLANE_NEIGH_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/nexthop.h"

struct neigh;

/* Opens the request socket and the subscription, for interface ifname.
 * Returns 0 or -errno with a message naming the object and the errno in
 * err. */
int neigh_open(const char *ifname, struct neigh **out, char *err,
	       size_t errlen);

/* Closes the sockets; the entries stay. */
void neigh_close(struct neigh *n);

/* The subscription's fd, readable when events wait (for the event loop). */
int neigh_fd(const struct neigh *n);

/* Makes the next hops those of backends[0..n) (host order): looks up
 * each one's route, creates the managed entries missing, removes bmlb's
 * unused ones, and reads every entry's state.  Returns 0 or -errno (the
 * first failure, in err; the rest is still done). */
int neigh_sync(struct neigh *n, const uint32_t *backends, size_t nbackends,
	       char *err, size_t errlen);

/* Reads the events waiting (a bounded number; the fd stays readable for
 * the rest).  Returns true when a next hop went down or came back. */
bool neigh_events(struct neigh *n);

/* The next hops and their backends, as last read. */
const struct nh_table *neigh_table(const struct neigh *n);

#endif
