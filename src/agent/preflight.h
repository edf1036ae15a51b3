/* preflight: the checks of SPEC.md §2 that need the live machine, run by
 * the agent at start and before every reload is applied: the interface
 * holding the node's cluster address exists and is up, and (on an LB
 * node) its subnet holds every other LB node, the controlPlaneVIP and
 * every pool address.  Problems are diagnostics located in the cluster
 * file or the Node manifest. */
#ifndef BMLB_AGENT_PREFLIGHT_H
#define BMLB_AGENT_PREFLIGHT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/cluster.h"
#include "k8s/objects.h"

struct pf_iface {
	char name[IF_NAMESIZE];
	uint32_t addr; /* host order */
	int prefix;    /* subnet prefix length */
	bool up;
};

/* Finds the interface that holds addr (a non-loopback one first).
 * Returns 0, -ENOENT when none does, or -errno. */
int pf_find_iface(uint32_t addr, struct pf_iface *out);

/* The one host setting bmlb needs: IPv4 forwarding on an interface the
 * data plane forwards from (bpf_fib_lookup refuses to route a packet that
 * came in on an interface without it).  Kubernetes nodes have it; where
 * it is off, this turns it on for that interface only.  Returns 1 when it
 * did, 0 when it was on, -errno. */
int pf_enable_forwarding(const char *ifname);

/* Checks node (whose InternalIP the caller looked up as ifc, NULL when no
 * interface holds it).  Returns true when every check passed. */
bool pf_check(const struct cfg_cluster *c, const struct k8s_node *node,
	      const struct pf_iface *ifc, bool lb, struct diag_list *dl);

#endif
