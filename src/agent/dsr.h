/* dsr: a worker's part of DSR mode in the agent: telling its data plane
 * which LB nodes' option to believe.  The packet that carries the option
 * keeps the client's address, so the LB node that forwarded it shows only
 * as the Ethernet source: the LB nodes are known by their MACs, read from
 * the kernel's neighbour table (an LB node missing there is sent one empty
 * UDP datagram, port 9 "discard", which makes the kernel resolve it). */
#ifndef BMLB_AGENT_DSR_H
#define BMLB_AGENT_DSR_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/dp.h"

/* The MAC /proc/net/arp's text gives ip (host order) on ifname, complete
 * entries only.  Returns 0, or -ENOENT. */
int dsr_arp_lookup(const char *text, const char *ifname, uint32_t ip,
		   uint8_t mac[6]);

/* Makes dp's peers the LB nodes ips[0..n) whose MAC is known on ifname,
 * asking the kernel to resolve the others.  Returns how many are known,
 * or -errno. */
long dsr_peers_refresh(struct dp *dp, const char *ifname,
		       const uint32_t *ips, size_t n);

#endif
