/* dsr: a worker's part of DSR mode in the agent: which LB nodes' option
 * its data plane believes (lb_dsr_peers), and the ARP it sends and reads
 * to know them.  The packet that carries the option keeps the client's
 * address, so the LB node that forwarded it shows only as the Ethernet
 * source.  The LB nodes are the Node objects' (their InternalIPs); the MAC
 * of each is the one that alone answered an ARP probe this agent sent for
 * its address, pinned then and re-verified (src/announce/pins.h explains
 * why the neighbour cache is never read, and what ARP cannot prove).
 * The VIP:ports the option may name come from the plan (rec_dsr_vips,
 * dp_set_dsr_vips). */
#ifndef BMLB_AGENT_DSR_H
#define BMLB_AGENT_DSR_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/dp.h"

#define DSR_TICK_MS 500 /* a probe window */

struct dsr_watch;

/* Opens a packet socket for ARP on dp's interface; self_ip (host order)
 * is the probes' sender address.  The peers dp holds (an earlier agent's)
 * are believed while they are verified again.  Returns 0 or -errno
 * (message in err). */
int dsr_watch_open(struct dsr_watch **out, struct dp *dp, uint32_t self_ip,
		   char *err, size_t errlen);
void dsr_watch_close(struct dsr_watch *w);

/* The socket, for the loop; dsr_watch_read takes what it holds. */
int dsr_watch_fd(const struct dsr_watch *w);
void dsr_watch_read(struct dsr_watch *w);

/* Ends a probe window: the LB nodes are ips[0..n) (host order); logs what
 * changed, sends the probes due and gives the data plane the MACs now
 * believed.  Returns how many LB nodes are believed, or -errno. */
long dsr_watch_tick(struct dsr_watch *w, const uint32_t *ips, size_t n,
		    uint64_t now_ms);

#endif
