/* refusals: the rate limit of the refusal log (see refusals.h). */
#include "announce/refusals.h"

#include <stdio.h>
#include <string.h>

void refusals_init(struct refusals *r, uint64_t interval_ms)
{
	memset(r, 0, sizeof(*r));
	r->interval_ms = interval_ms;
}

bool refusals_add(struct refusals *r, enum peer_verdict v, uint64_t now_ms)
{
	bool first = !r->open;

	if (first) {
		r->open = r->first_logged = true;
		r->since_ms = now_ms;
	}
	r->n[(unsigned)v < PEER_VERDICT_MAX ? v : PEER_MALFORMED]++;
	return first;
}

bool refusals_flush(struct refusals *r, uint64_t now_ms, char *buf,
		    size_t len)
{
	uint64_t total = 0, unlogged;
	const char *sep = "";
	size_t off;

	if (!r->open || now_ms - r->since_ms < r->interval_ms)
		return false;
	for (int v = PEER_OK + 1; v < PEER_VERDICT_MAX; v++)
		total += r->n[v];
	unlogged = total - (r->first_logged ? 1 : 0);
	/* The run goes on, by summaries only, while refusals keep coming. */
	r->open = unlogged > 0;
	r->first_logged = false;
	r->since_ms = now_ms;
	if (unlogged) {
		off = (size_t)snprintf(buf, len, "refused %llu message%s in "
				       "the last %llu s:",
				       (unsigned long long)total,
				       total == 1 ? "" : "s",
				       (unsigned long long)(r->interval_ms /
							    1000));
		for (int v = PEER_OK + 1; v < PEER_VERDICT_MAX && off < len;
		     v++) {
			if (!r->n[v])
				continue;
			off += (size_t)snprintf(buf + off, len - off,
						"%s %s %llu", sep,
						peer_verdict_name(v),
						(unsigned long long)r->n[v]);
			sep = ",";
		}
	}
	memset(r->n, 0, sizeof(r->n));
	return unlogged > 0;
}
