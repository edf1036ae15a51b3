/* pins: the LB nodes' verified MACs (see pins.h). */
#include "announce/pins.h"

#include <stdlib.h>
#include <string.h>

#include "lib/ipv4.h"
#include "lib/xalloc.h"

static int node_cmp(const void *a, const void *b)
{
	return ipv4_cmp(&((const struct pin_node *)a)->ip,
			&((const struct pin_node *)b)->ip);
}

static struct pin_node *find(const struct pins *p, uint32_t ip)
{
	struct pin_node key = {.ip = ip};

	return p->n ? bsearch(&key, p->v, p->n, sizeof(*p->v), node_cmp)
		    : NULL;
}

void pins_nodes(struct pins *p, const uint32_t *ips, size_t n)
{
	struct pin_node *v = xcalloc(n + 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct pin_node *old = find(p, ips[i]);

		if (ips[i]) /* a Node without InternalIP: nothing to probe */
			v[k++] = old ? *old : (struct pin_node){.ip = ips[i]};
	}
	qsort(v, k, sizeof(*v), node_cmp);
	free(p->v);
	p->v = v;
	p->n = k;
}

void pins_seed(struct pins *p, uint32_t ip, const uint8_t mac[6],
	       uint64_t now_ms)
{
	struct pin_node *x = find(p, ip);

	if (!x)
		return;
	memcpy(x->mac, mac, 6);
	x->pinned = true;
	/* as due for re-verification: probed at the next tick */
	x->verified_ms = now_ms - PIN_REVERIFY_MS;
}

static bool seen(const struct pin_node *x, const uint8_t mac[6])
{
	for (size_t i = 0; i < x->nseen; i++)
		if (!memcmp(x->seen[i], mac, 6))
			return true;
	return false;
}

void pins_claim(struct pins *p, uint32_t ip, const uint8_t mac[6])
{
	struct pin_node *x = find(p, ip);

	if (!x || seen(x, mac) || x->nseen == PIN_CLAIMS)
		return;
	memcpy(x->seen[x->nseen++], mac, 6);
}

/* The first MAC of the window that is not the pin, or NULL. */
static const uint8_t *stranger(const struct pin_node *x)
{
	for (size_t i = 0; i < x->nseen; i++)
		if (!x->pinned || memcmp(x->seen[i], x->mac, 6))
			return x->seen[i];
	return NULL;
}

/* An event about stranger s, unless s is the one reported last, less
 * than PIN_REVERIFY_MS ago (a poisoner repeating itself is logged twice a
 * minute, not at every frame). */
static void note(struct pin_node *x, const uint8_t *s, uint64_t now_ms,
		 struct pin_event *ev, size_t *nev, struct pin_event e)
{
	if (!memcmp(x->noted, s, 6) &&
	    now_ms - x->noted_ms < PIN_REVERIFY_MS)
		return;
	memcpy(x->noted, s, 6);
	x->noted_ms = now_ms;
	e.ip = x->ip;
	memcpy(e.mac, s, 6);
	e.had = x->pinned;
	memcpy(e.was, x->mac, 6);
	ev[(*nev)++] = e;
}

/* The end of x's probe window: one MAC alone is adopted. */
static void decide(struct pin_node *x, uint64_t now_ms, struct pin_event *ev,
		   size_t *nev)
{
	const uint8_t *s = stranger(x);
	bool pin_seen = x->pinned && seen(x, x->mac);

	if (x->nseen == 1 && s) {
		ev[(*nev)++] = (struct pin_event){
			.kind = PIN_ADOPTED, .ip = x->ip, .had = x->pinned};
		memcpy(ev[*nev - 1].mac, s, 6);
		memcpy(ev[*nev - 1].was, x->mac, 6);
		memcpy(x->mac, s, 6);
		x->pinned = true;
	}
	if (x->nseen == 1) {
		x->verified_ms = now_ms;
		return;
	}
	if (x->nseen < 2)
		return;
	note(x, s, now_ms, ev, nev,
	     (struct pin_event){.kind = PIN_CONFLICT, .kept = pin_seen,
				.nseen = x->nseen});
	x->pinned = pin_seen;
}

size_t pins_tick(struct pins *p, uint64_t now_ms, uint32_t *probe,
		 struct pin_event *ev, size_t *nev)
{
	size_t k = 0;

	*nev = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct pin_node *x = &p->v[i];
		const uint8_t *s = stranger(x);
		bool window = x->probing;

		if (window)
			decide(x, now_ms, ev, nev);
		else if (s)
			note(x, s, now_ms, ev, nev,
			     (struct pin_event){.kind = PIN_STRANGER});
		/* a stranger outside a window brings one */
		x->probing = !x->pinned || (!window && s) ||
			     now_ms - x->verified_ms >= PIN_REVERIFY_MS;
		if (x->probing)
			probe[k++] = x->ip;
		x->nseen = 0;
	}
	return k;
}

size_t pins_believed(const struct pins *p, uint32_t *ips, uint8_t (*macs)[6])
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].pinned) {
			ips[k] = p->v[i].ip;
			memcpy(macs[k++], p->v[i].mac, 6);
		}
	return k;
}

void pins_free(struct pins *p)
{
	free(p->v);
	*p = (struct pins){0};
}
