/* nexthop: next hops of the backends and their state (see nexthop.h).
 * Cost: O(B log B + H log H) per change of routes, O(log H) per neighbour
 * event, for B backends and H next hops.  Routes, hops and entries all
 * start with their address: ipv4_cmp sorts and finds each. */
#include "dataplane/nexthop.h"

#include <linux/neighbour.h>
#include <stdlib.h>

#include "lib/ipv4.h"
#include "lib/xalloc.h"

/* States holding an address (the kernel's NUD_VALID, not in uapi). */
#define NH_VALID                                                          \
	(NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | \
	 NUD_DELAY)

static struct nh_hop *hop_find(const struct nh_table *t, uint32_t ip)
{
	return t->nhops ? bsearch(&ip, t->hops, t->nhops, sizeof(*t->hops),
				  ipv4_cmp)
			: NULL;
}

void nh_set_routes(struct nh_table *t, const struct nh_route *r, size_t n)
{
	struct nh_table next = {
		.routes = xcalloc(n ? n : 1, sizeof(*next.routes)),
		.hops = xcalloc(n ? n : 1, sizeof(*next.hops)),
	};
	uint32_t *ips = xcalloc(n ? n : 1, sizeof(*ips));
	size_t nips = 0;

	for (size_t i = 0; i < n; i++)
		next.routes[i] = r[i];
	if (n)
		qsort(next.routes, n, sizeof(*next.routes), ipv4_cmp);
	for (size_t i = 0; i < n; i++) {
		if (next.nroutes && next.routes[next.nroutes - 1].backend ==
					    next.routes[i].backend)
			continue;
		next.routes[next.nroutes++] = next.routes[i];
		if (next.routes[i].hop)
			ips[nips++] = next.routes[i].hop;
	}
	if (nips)
		qsort(ips, nips, sizeof(*ips), ipv4_cmp);
	for (size_t i = 0; i < nips; i++) {
		const struct nh_hop *was;

		if (next.nhops && next.hops[next.nhops - 1].ip == ips[i]) {
			next.hops[next.nhops - 1].nbackends++;
			continue;
		}
		was = hop_find(t, ips[i]);
		next.hops[next.nhops] = was ? *was : (struct nh_hop){.ip = ips[i]};
		next.hops[next.nhops++].nbackends = 1;
	}
	free(ips);
	nh_free(t);
	*t = next;
}

void nh_free(struct nh_table *t)
{
	free(t->routes);
	free(t->hops);
	*t = (struct nh_table){0};
}

bool nh_is_down(bool was, uint16_t state)
{
	if (state & NUD_FAILED)
		return true;
	if (state & NH_VALID)
		return false;
	return was; /* INCOMPLETE, NONE: not known yet, or being probed again */
}

bool nh_observe(struct nh_table *t, uint32_t ip, uint16_t state)
{
	struct nh_hop *h = hop_find(t, ip);
	bool was;

	if (!h)
		return false;
	was = h->down;
	h->state = state;
	h->down = nh_is_down(was, state);
	return h->down != was;
}

bool nh_observe_event(struct nh_table *t, uint32_t ip, uint16_t state)
{
	struct nh_hop *h = hop_find(t, ip);

	if (h && (state & NUD_FAILED)) {
		h->suspect = true;
		return false;
	}
	if (h)
		h->suspect = false; /* deleted (NUD_NONE), or answering */
	return nh_observe(t, ip, state);
}

/* e[0..n), sorted by ip (malloc'd). */
static struct nh_entry *entries_sorted(const struct nh_entry *e, size_t n)
{
	struct nh_entry *s = xcalloc(n ? n : 1, sizeof(*s));

	for (size_t i = 0; i < n; i++)
		s[i] = e[i];
	if (n)
		qsort(s, n, sizeof(*s), ipv4_cmp);
	return s;
}

static const struct nh_entry *entry_find(const struct nh_entry *s, size_t n,
					 uint32_t ip)
{
	return n ? bsearch(&ip, s, n, sizeof(*s), ipv4_cmp) : NULL;
}

bool nh_observe_entries(struct nh_table *t, const struct nh_entry *e,
			size_t n)
{
	struct nh_entry *s = entries_sorted(e, n);
	bool changed = false;

	for (size_t i = 0; i < t->nhops; i++) {
		const struct nh_entry *x = entry_find(s, n, t->hops[i].ip);

		uint16_t st = x ? x->state : NUD_NONE;

		if (x && t->hops[i].suspect && !(st & NH_VALID))
			st = NUD_FAILED;
		t->hops[i].suspect = false;
		changed |= nh_observe(t, t->hops[i].ip, st);
	}
	free(s);
	return changed;
}

void nh_plan(struct nh_table *t, const struct nh_entry *e, size_t n,
	     uint32_t **create, size_t *ncreate, uint32_t **remove,
	     size_t *nremove)
{
	struct nh_entry *s = entries_sorted(e, n);

	*create = xcalloc(t->nhops ? t->nhops : 1, sizeof(**create));
	*remove = xcalloc(n ? n : 1, sizeof(**remove));
	*ncreate = *nremove = 0;
	for (size_t i = 0; i < t->nhops; i++) {
		struct nh_hop *h = &t->hops[i];
		const struct nh_entry *x = entry_find(s, n, h->ip);

		/* An operator's static entry, or another program's managed
		 * one, is left as it is. */
		h->ours = !x || x->ours ||
			  !(x->managed || x->state & (NUD_PERMANENT | NUD_NOARP));
		if (h->ours && !(x && x->ours && x->managed))
			(*create)[(*ncreate)++] = h->ip;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i].ours && !hop_find(t, s[i].ip) &&
		    (!*nremove || (*remove)[*nremove - 1] != s[i].ip))
			(*remove)[(*nremove)++] = s[i].ip;
	free(s);
}

size_t nh_down_backends(const struct nh_table *t, uint32_t **out)
{
	size_t n = 0;

	*out = xcalloc(t->nroutes ? t->nroutes : 1, sizeof(**out));
	for (size_t i = 0; i < t->nroutes; i++) {
		const struct nh_hop *h = nh_hop_of(t, t->routes[i].backend);

		if (h && h->down)
			(*out)[n++] = t->routes[i].backend;
	}
	return n;
}

const struct nh_route *nh_route_of(const struct nh_table *t,
				   uint32_t backend)
{
	return t->nroutes ? bsearch(&backend, t->routes, t->nroutes,
				    sizeof(*t->routes), ipv4_cmp)
			  : NULL;
}

const struct nh_hop *nh_hop_of(const struct nh_table *t, uint32_t backend)
{
	const struct nh_route *r = nh_route_of(t, backend);

	return r && r->hop ? hop_find(t, r->hop) : NULL;
}

const char *nh_state_name(uint16_t state)
{
	static const struct {
		uint16_t state;
		const char *name;
	} names[] = {
		{NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"},
		{NUD_STALE, "STALE"},           {NUD_DELAY, "DELAY"},
		{NUD_PROBE, "PROBE"},           {NUD_FAILED, "FAILED"},
		{NUD_NOARP, "NOARP"},           {NUD_PERMANENT, "PERMANENT"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (state & names[i].state)
			return names[i].name;
	return "NONE";
}
