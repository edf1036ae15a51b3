/* pools: address -> pool lookups and the lowest-free cursors; see
 * pools.h. */
#include "ipam/pools.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

static int span_cmp(const void *x, const void *y)
{
	const struct ipam_span *a = x, *b = y;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->pool - b->pool;
}

static int name_cmp(const void *x, const void *y, void *arg)
{
	const struct cfg_cluster *c = arg;
	int a = *(const int *)x, b = *(const int *)y;
	int d = strcmp(c->pools[a].name, c->pools[b].name);

	return d ? d : a - b;
}

void ipam_pools_init(struct ipam_pools *p, const struct cfg_cluster *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->npools; i++)
		n += c->pools[i].nranges;
	p->c = c;
	p->spans = xreallocarray(NULL, n, sizeof(*p->spans));
	p->nspans = 0;
	for (size_t i = 0; i < c->npools; i++) {
		for (size_t j = 0; j < c->pools[i].nranges; j++) {
			struct ipam_span *s = &p->spans[p->nspans++];

			s->first = c->pools[i].ranges[j].first;
			s->last = c->pools[i].ranges[j].last;
			s->pool = (int)i;
		}
	}
	qsort(p->spans, p->nspans, sizeof(*p->spans), span_cmp);
	p->by_name = xreallocarray(NULL, c->npools, sizeof(*p->by_name));
	for (size_t i = 0; i < c->npools; i++)
		p->by_name[i] = (int)i;
	qsort_r(p->by_name, c->npools, sizeof(*p->by_name), name_cmp,
		(void *)c);
	p->cursors = xcalloc(c->npools, sizeof(*p->cursors));
	p->first_open = 0;
}

void ipam_pools_free(struct ipam_pools *p)
{
	free(p->spans);
	free(p->by_name);
	free(p->cursors);
	p->spans = NULL;
	p->by_name = NULL;
	p->cursors = NULL;
}

int ipam_pools_find(const struct ipam_pools *p, uint32_t a)
{
	size_t lo = 0, hi = p->nspans;

	if (a == 0)
		return -1;
	/* The last span starting at or below a is the only candidate. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->spans[mid].first <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || a > p->spans[lo - 1].last)
		return -1;
	return p->spans[lo - 1].pool;
}

int ipam_pools_by_name(const struct ipam_pools *p, const char *name)
{
	size_t lo = 0, hi = p->c->npools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(p->c->pools[p->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->c->npools &&
	    strcmp(p->c->pools[p->by_name[lo]].name, name) == 0)
		return p->by_name[lo];
	return -1;
}

uint32_t ipam_pools_lowest_free(struct ipam_pools *p, int i,
				const struct ipam_map *taken)
{
	const struct cfg_cluster *c = p->c;
	const struct cfg_pool *pool = &c->pools[i];
	struct ipam_cursor *k = &p->cursors[i];

	while (k->range < pool->nranges) {
		const struct ipv4_range *r = &pool->ranges[k->range];
		uint32_t a;

		if (k->next < r->first)
			k->next = r->first;
		if (k->next > r->last) {
			k->range++;
			continue;
		}
		a = (uint32_t)k->next;
		if (a != 0 && a != c->cp_vip && a != c->ingress_vip &&
		    cfg_pool_usable(pool, a) && !ipam_map_find(taken, a))
			return a;
		k->next++;
	}
	return 0;
}

uint32_t ipam_pools_first_free(struct ipam_pools *p,
			       const struct ipam_map *taken, int *pool)
{
	for (; p->first_open < p->c->npools; p->first_open++) {
		int i = (int)p->first_open;
		uint32_t a;

		if (p->c->pools[i].manual_assign)
			continue;
		a = ipam_pools_lowest_free(p, i, taken);
		if (a) {
			*pool = i;
			return a;
		}
	}
	return 0;
}
