/* announce: the VIPs this LB node announces, as the plan gives them, and
 * telling the segment when that changes (SPEC.md §4).
 *
 * For every VIP of the plan it keeps who owns it, since when, the last
 * takeover and why, and the gratuitous ARPs this node sent for it.  A VIP
 * this node takes over is announced at once and again ANN_GARP_ROUNDS - 1
 * times over the next second (request and reply forms each time), so that
 * the gateway and the neighbours switch even if a frame is lost.  Answering
 * ARP requests is the data plane's job (src/bpf/arp.h); the agent gives it
 * the owned set (dp_announce).
 */
#ifndef BMLB_AGENT_ANNOUNCE_H
#define BMLB_AGENT_ANNOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/dp.h"
#include "lib/json_writer.h"
#include "plan/plan.h"

#define ANN_GARP_ROUNDS 4 /* at 0, 200, 500 and 1000 ms */

struct announcer;

/* Opens a packet socket on the interface (index, MAC).  Returns 0 or
 * -errno (message in err). */
int ann_open(struct announcer **out, const char *self, int ifindex,
	     const uint8_t mac[6], char *err, size_t errlen);
void ann_close(struct announcer *a);

/* Takes the owners of plan p (or of nobody, when this node may not announce
 * yet: !active).  why says what caused the change (logged, and kept for
 * status on the VIPs that moved); with again, VIPs this node keeps are
 * announced once more too (the set of alive nodes changed: a neighbour may
 * have followed another node meanwhile).  Returns this node's VIPs (host
 * order, sorted) in *mine (malloc'd). */
size_t ann_update(struct announcer *a, const struct plan *p, bool active,
		  const char *why, bool again, uint64_t now_ms,
		  uint32_t **mine);

/* Sends the gratuitous ARPs that are due. */
void ann_tick(struct announcer *a, uint64_t now_ms);

/* Logs conflicts (another MAC answering for an owned VIP) that are new or
 * grew since the last call. */
void ann_conflicts(struct announcer *a, const struct dp_conflict *c,
		   size_t n);

/* "vips": [...] for the status. */
void ann_report(const struct announcer *a, struct jw *w);

#endif
