/* announce: the VIPs this LB node announces, as the plan gives them, and
 * telling the segment when that changes (SPEC.md §4).
 *
 * For every VIP of the plan it keeps who owns it, since when, the last
 * takeover and why, and the gratuitous ARPs this node sent for it.  A VIP
 * this node takes over is announced at once and again ANN_GARP_ROUNDS - 1
 * times over the next second (request and reply forms each time), so that
 * the gateway and the neighbours switch even if a frame is lost.  Answering
 * ARP requests is the data plane's job (src/bpf/arp.h); the agent gives it
 * the owned set (dp_announce).  Another host claiming an owned VIP is a
 * conflict the data plane records; this node answers it with a gratuitous
 * ARP, rate-limited (ann_conflicts).
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

/* Conflicts (another MAC claiming an owned VIP) that are new or grew
 * since the last call: defended as RFC 5227 §2.4 (c) says, with one
 * gratuitous ARP (both forms) at most once per ARP_DEFEND_INTERVAL_MS per
 * VIP, and logged (once more at most between two defences).  The VIP stays
 * announced and answered whatever happens.  now_ms: a monotonic clock. */
void ann_conflicts(struct announcer *a, const struct dp_conflict *c,
		   size_t n, uint64_t now_ms);

/* "vips": [...] for the status. */
void ann_report(const struct announcer *a, struct jw *w);

#endif
