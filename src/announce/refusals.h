/* refusals: how often refused peer datagrams are logged (SPEC.md §7).
 *
 * Anyone on the segment can send datagrams to the peer port, and a line
 * each would let them fill the disk.  The first refusal after a quiet
 * interval is logged on its own (what, from where: a single forgery is
 * seen at once); the others are only counted, and each interval that had
 * more ends in one summary line, counting them all:
 *
 *   refused 1234 messages in the last 10 s: auth 1200, malformed 34
 *
 * An interval with no refusal but its first closes the run: the next one
 * is logged on its own again.  So a flood costs at most one line per interval, whatever
 * its rate.  Per-peer counts are members.h's (status); these are only the
 * log's.
 *
 * Pure: the caller passes the time.
 */
#ifndef BMLB_ANNOUNCE_REFUSALS_H
#define BMLB_ANNOUNCE_REFUSALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "announce/peer_msg.h"

struct refusals {
	uint64_t interval_ms;
	uint64_t since_ms; /* start of the current interval */
	bool open;         /* an interval is running */
	bool first_logged; /* it began with a line of its own */
	uint64_t n[PEER_VERDICT_MAX]; /* refused in it, by verdict */
};

void refusals_init(struct refusals *r, uint64_t interval_ms);

/* Counts one refusal for reason v at now_ms.  Returns true when the
 * caller is to log it on its own line (the first after a quiet
 * interval); otherwise it goes into the next summary. */
bool refusals_add(struct refusals *r, enum peer_verdict v, uint64_t now_ms);

/* Once the interval has passed, writes its summary into buf[0..len) and
 * returns true if it had a refusal not logged on its own; starts the next
 * interval, or closes the run when this one was quiet. */
bool refusals_flush(struct refusals *r, uint64_t now_ms, char *buf,
		    size_t len);

#endif
