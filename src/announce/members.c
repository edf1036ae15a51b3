/* members: the liveness state machine of the other LB nodes (see
 * members.h).
 *
 * A peer is in one of three states: dead (never heard, said BYE, or
 * silent past the timeout), alive, or ready (alive and joined); an alive
 * one may also be joining with this node (joins_by_ms).  An
 * authentic message naming this node itself is refused as PEER_UNKNOWN:
 * it is either another key holder claiming our name or our own datagram
 * looped back, and neither says anything about a peer.
 */
#include "announce/members.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

static int peer_cmp(const void *a, const void *b)
{
	return strcmp(((const struct memb_peer *)a)->name,
		      ((const struct memb_peer *)b)->name);
}

void memb_init(struct memb *m, const char *self, const char *const *names,
	       const uint32_t *ips, size_t n, uint64_t timeout_ms)
{
	memset(m, 0, sizeof(*m));
	m->self = xstrdup(self);
	m->timeout_ms = timeout_ms;
	m->peers = xcalloc(n, sizeof(*m->peers));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], self)) {
			m->peers[m->n].name = (char *)names[i];
			m->peers[m->n++].ip = ips[i];
		}
	}
	qsort(m->peers, m->n, sizeof(*m->peers), peer_cmp);
	/* A name listed twice is one peer. */
	n = 0;
	for (size_t i = 0; i < m->n; i++)
		if (!n || strcmp(m->peers[i].name, m->peers[n - 1].name))
			m->peers[n++] = m->peers[i];
	m->n = n;
	for (size_t i = 0; i < m->n; i++)
		m->peers[i].name = xstrdup(m->peers[i].name);
}

void memb_free(struct memb *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->peers[i].name);
	free(m->peers);
	free(m->self);
	memset(m, 0, sizeof(*m));
}

struct memb_peer *memb_find(struct memb *m, const char *name)
{
	struct memb_peer key = {.name = (char *)name};

	if (!m->n) /* bsearch takes no NULL array, even empty */
		return NULL;
	return bsearch(&key, m->peers, m->n, sizeof(*m->peers), peer_cmp);
}

/* p counts as an owner. */
static bool owner(const struct memb_peer *p)
{
	return p->ready || p->joins_by_ms;
}

/* Applies one accepted message to p. */
static void peer_accept(struct memb_peer *p, const struct peer_msg *msg,
			uint64_t now_ms)
{
	bool was_alive = p->alive, was_ready = p->ready;
	bool heard = p->heard_ms != 0;

	p->accepted++;
	p->heard_ms = now_ms;
	p->last_ts = msg->ts_ns;
	p->digest = msg->digest;
	if (msg->type == PEER_BYE) {
		p->alive = p->ready = false;
	} else {
		p->alive = true;
		if (msg->type == PEER_HELLO)
			p->ready = msg->flags & PEER_F_READY;
		p->grace_ms = msg->flags & PEER_F_RESTART
				      ? now_ms + PEER_RESTART_GRACE_MS
				      : 0;
	}
	if (p->ready && !was_ready)
		p->ready_ms = was_alive ? now_ms : 0;
	if (p->ready || !p->alive)
		p->joins_by_ms = 0;
	if (was_alive == p->alive && was_ready == p->ready)
		return;
	if (!p->alive)
		p->why = "stopped";
	else if (!was_alive && heard)
		p->why = "came back";
	else if (p->ready)
		p->why = "joined";
	else if (!was_alive)
		p->why = "started";
	else
		p->why = "not ready";
	p->changed_ms = now_ms;
}

struct memb_event memb_receive(struct memb *mb, enum peer_verdict v,
			       const struct peer_msg *m, uint32_t src_ip,
			       uint64_t now_ms, uint64_t now_ns)
{
	struct memb_event ev = {.verdict = v};
	struct memb_peer *p = m->name[0] ? memb_find(mb, m->name) : NULL;
	bool was_ready = p && p->ready, was_owner = p && owner(p);

	ev.peer = p;
	if (v == PEER_OK) {
		if (!p)
			ev.verdict = PEER_UNKNOWN;
		else if (src_ip != p->ip)
			ev.verdict = PEER_SOURCE;
		else if (m->ts_ns <= p->last_ts)
			ev.verdict = PEER_REPLAY;
		else if ((m->ts_ns > now_ns ? m->ts_ns - now_ns
					    : now_ns - m->ts_ns) > PEER_SKEW_NS)
			ev.verdict = PEER_SKEW;
	}
	if (ev.verdict != PEER_OK) {
		if ((unsigned)ev.verdict >= PEER_VERDICT_MAX)
			ev.verdict = PEER_MALFORMED;
		if (p)
			p->refused[ev.verdict]++;
		else
			mb->unattributed[ev.verdict]++;
		return ev;
	}
	peer_accept(p, m, now_ms);
	ev.changed = was_ready != p->ready || was_owner != owner(p);
	return ev;
}

void memb_joined(struct memb *m, uint64_t now_ms, uint64_t join_ms)
{
	uint64_t first = UINT64_MAX; /* the first ready peer joined then */

	for (size_t i = 0; i < m->n; i++)
		if (m->peers[i].ready && m->peers[i].ready_ms < first)
			first = m->peers[i].ready_ms;
	/* A peer that started after a node had joined is not counted by
	 * that node, which serves its VIPs meanwhile. */
	for (size_t i = 0; i < m->n; i++) {
		struct memb_peer *p = &m->peers[i];

		if (p->alive && !p->ready && p->changed_ms <= first)
			p->joins_by_ms = now_ms + join_ms;
	}
}

bool memb_expire(struct memb *m, uint64_t now_ms)
{
	bool changed = false;

	for (size_t i = 0; i < m->n; i++) {
		struct memb_peer *p = &m->peers[i];

		if (p->joins_by_ms && now_ms > p->joins_by_ms) {
			p->joins_by_ms = 0;
			p->why = "did not join in time";
			p->changed_ms = now_ms;
			changed = true;
		}
		if (!p->alive || now_ms <= p->heard_ms ||
		    now_ms - p->heard_ms <= m->timeout_ms ||
		    now_ms <= p->grace_ms)
			continue;
		changed |= owner(p);
		p->alive = p->ready = false;
		p->joins_by_ms = 0;
		p->why = "missed messages";
		p->changed_ms = now_ms;
	}
	return changed;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t memb_ready(const struct memb *m, bool self_ready, const char ***names)
{
	const char **v = xcalloc(m->n + 1, sizeof(*v));
	size_t n = 0;

	if (self_ready)
		v[n++] = m->self;
	for (size_t i = 0; i < m->n; i++)
		if (owner(&m->peers[i]))
			v[n++] = m->peers[i].name;
	qsort(v, n, sizeof(*v), name_cmp);
	*names = v;
	return n;
}

const char *memb_leader(const struct memb *m, bool self_ready)
{
	const char *best = self_ready ? m->self : NULL;

	/* The peers are sorted: the first ready one is the smallest. */
	for (size_t i = 0; i < m->n; i++) {
		if (!m->peers[i].ready)
			continue;
		if (!best || strcmp(m->peers[i].name, best) < 0)
			best = m->peers[i].name;
		break;
	}
	return best;
}
