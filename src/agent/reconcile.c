/* reconcile: plan -> service ports for dp_sync, and their differences (see
 * reconcile.h).  Cost: O(P log P) for P service ports, plus their
 * backends. */
#include "agent/reconcile.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ipv4.h"
#include "lib/xalloc.h"

static int key_cmp(const struct dp_service *a, const struct dp_service *b)
{
	if (a->vip != b->vip)
		return a->vip < b->vip ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return (int)a->proto - (int)b->proto;
}

/* Sorting svcs and meta together: sort an index, then permute. */
static int idx_cmp(const void *a, const void *b, void *arg)
{
	const struct dp_service *v = arg;

	return key_cmp(&v[*(const size_t *)a], &v[*(const size_t *)b]);
}

static void sort_set(struct rec_set *s)
{
	size_t *idx = xcalloc(s->n, sizeof(*idx));
	struct dp_service *svcs = xcalloc(s->n, sizeof(*svcs));
	struct rec_meta *meta = xcalloc(s->n, sizeof(*meta));

	for (size_t i = 0; i < s->n; i++)
		idx[i] = i;
	qsort_r(idx, s->n, sizeof(*idx), idx_cmp, s->svcs);
	for (size_t i = 0; i < s->n; i++) {
		svcs[i] = s->svcs[idx[i]];
		meta[i] = s->meta[idx[i]];
	}
	free(s->svcs);
	free(s->meta);
	free(idx);
	s->svcs = svcs;
	s->meta = meta;
}

/* Whether backend b of service ps is programmed on node: a Local
 * service's only when it runs there. */
static bool serves(const struct plan_service *ps, const struct plan_backend *b,
		   const char *node)
{
	return !ps->svc->local || (b->node && !strcmp(b->node, node));
}

/* Adds port pp of ps at address addr (its VIP, or the node's address for
 * its nodePort), with the backends node serves. */
static void add_port(struct rec_set *out, size_t *b,
		     const struct plan_service *ps, const struct plan_port *pp,
		     uint32_t addr, uint16_t port, const char *node)
{
	struct dp_service *d = &out->svcs[out->n];

	*d = (struct dp_service){
		.vip = addr,
		.port = port,
		.proto = pp->spec->protocol == K8S_UDP ? IPPROTO_UDP
						       : IPPROTO_TCP,
		.local = ps->svc->local,
		.backends = &out->backends[*b],
	};
	out->meta[out->n++] = (struct rec_meta){
		.namespace_ = ps->svc->namespace_,
		.name = ps->svc->name,
		.owner = ps->owner,
		.reason = ps->reason,
		.local = ps->svc->local,
	};
	/* plan backends are sorted by (ip, port) and unique */
	for (size_t e = 0; e < pp->nbackends; e++) {
		if (!serves(ps, &pp->backends[e], node))
			continue;
		out->backends[(*b)++] = (struct dp_backend){
			.ip = pp->backends[e].ip,
			.port = pp->backends[e].port};
		d->nbackends++;
	}
}

/* Service ports of the services s[0..n) at node: each port at the VIP
 * (when vips and it has one) and at node_ip on its nodePort.  With out
 * NULL, only counts them (*nports, *nbackends). */
static void add_services(struct rec_set *out, size_t *b,
			 const struct plan_service *s, size_t n,
			 const char *node, uint32_t node_ip, bool vips,
			 size_t *nports, size_t *nbackends)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < s[i].nports; j++) {
			const struct plan_port *pp = &s[i].ports[j];
			bool at_vip = vips && s[i].vip;

			if (!out) {
				size_t uses = at_vip + (pp->node_port != 0);

				*nports += uses;
				*nbackends += uses * pp->nbackends;
				continue;
			}
			if (at_vip)
				add_port(out, b, &s[i], pp, s[i].vip,
					 pp->spec->port, node);
			if (pp->node_port)
				add_port(out, b, &s[i], pp, node_ip,
					 pp->node_port, node);
		}
}

void rec_build(const struct plan *p, const char *node, uint32_t node_ip,
	       bool vips, struct rec_set *out)
{
	size_t nports = 0, nbackends = 0, b = 0;

	*out = (struct rec_set){0};
	add_services(NULL, NULL, p->services, p->n, node, node_ip, vips,
		     &nports, &nbackends);
	add_services(NULL, NULL, p->node_port_services, p->n_node_port, node,
		     node_ip, false, &nports, &nbackends);
	if (!nports)
		return;
	out->svcs = xcalloc(nports, sizeof(*out->svcs));
	out->meta = xcalloc(nports, sizeof(*out->meta));
	out->backends = xcalloc(nbackends ? nbackends : 1,
				sizeof(*out->backends));
	add_services(out, &b, p->services, p->n, node, node_ip, vips, NULL,
		     NULL);
	add_services(out, &b, p->node_port_services, p->n_node_port, node,
		     node_ip, false, NULL, NULL);
	sort_set(out);
}

void rec_free(struct rec_set *s)
{
	free(s->svcs);
	free(s->meta);
	free(s->backends);
	*s = (struct rec_set){0};
}

size_t rec_backend_ips(const struct rec_set *s, uint32_t **out)
{
	size_t total = 0, n = 0;

	for (size_t i = 0; i < s->n; i++)
		total += s->svcs[i].nbackends;
	*out = xcalloc(total ? total : 1, sizeof(**out));
	for (size_t i = 0; i < s->n; i++)
		for (size_t b = 0; b < s->svcs[i].nbackends; b++)
			(*out)[n++] = s->svcs[i].backends[b].ip;
	if (n)
		qsort(*out, n, sizeof(**out), ipv4_cmp);
	total = n;
	n = 0;
	for (size_t i = 0; i < total; i++)
		if (!n || (*out)[n - 1] != (*out)[i])
			(*out)[n++] = (*out)[i];
	return n;
}

void rec_without(const struct rec_set *in, const uint32_t *down, size_t n,
		 struct rec_set *out)
{
	size_t total = 0, k = 0;

	*out = (struct rec_set){0};
	if (!in->n)
		return;
	for (size_t i = 0; i < in->n; i++)
		total += in->svcs[i].nbackends;
	out->svcs = xcalloc(in->n, sizeof(*out->svcs));
	out->meta = xcalloc(in->n, sizeof(*out->meta));
	out->backends = xcalloc(total ? total : 1, sizeof(*out->backends));
	for (size_t i = 0; i < in->n; i++) {
		const struct dp_service *s = &in->svcs[i];
		struct dp_service *d = &out->svcs[i];

		*d = *s;
		d->backends = &out->backends[k];
		d->nbackends = 0;
		out->meta[i] = in->meta[i];
		out->meta[i].left_out = 0;
		for (size_t b = 0; b < s->nbackends; b++) {
			if (n && bsearch(&s->backends[b].ip, down, n,
					 sizeof(*down), ipv4_cmp)) {
				out->meta[i].left_out++;
				continue;
			}
			out->backends[k++] = s->backends[b];
			d->nbackends++;
		}
	}
	out->n = in->n;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_port(const struct rec_set *a, size_t i,
		      const struct rec_set *b, size_t j)
{
	const struct dp_service *x = &a->svcs[i], *y = &b->svcs[j];

	return x->nbackends == y->nbackends &&
	       a->meta[i].local == b->meta[j].local &&
	       str_eq(a->meta[i].namespace_, b->meta[j].namespace_) &&
	       str_eq(a->meta[i].name, b->meta[j].name) &&
	       (!x->nbackends ||
		!memcmp(x->backends, y->backends,
			x->nbackends * sizeof(*x->backends)));
}

void rec_diff(const struct rec_set *old, const struct rec_set *next,
	      void (*fn)(const struct rec_event *ev, void *arg), void *arg)
{
	size_t i = 0, j = 0;

	while (i < old->n || j < next->n) {
		int c = i == old->n    ? 1
			: j == next->n ? -1
				       : key_cmp(&old->svcs[i], &next->svcs[j]);
		struct rec_event ev;

		if (c < 0) {
			ev = (struct rec_event){REC_REMOVED, &old->svcs[i],
						&old->meta[i], 0};
			i++;
		} else if (c > 0) {
			ev = (struct rec_event){REC_ADDED, &next->svcs[j],
						&next->meta[j], 0};
			j++;
		} else if (!same_port(old, i, next, j)) {
			ev = (struct rec_event){REC_CHANGED, &next->svcs[j],
						&next->meta[j],
						old->svcs[i].nbackends};
			i++, j++;
		} else {
			i++, j++;
			continue;
		}
		fn(&ev, arg);
	}
}

struct plan_previous *rec_previous(const struct plan *p)
{
	struct plan_previous *prev = xcalloc(1, sizeof(*prev));
	size_t cap = 0;

	/* plan services are sorted by (namespace, name), as held must be */
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_service *ps = &p->services[i];
		struct plan_held *h;

		if (!ps->vip)
			continue;
		h = xpush(&prev->held, &prev->n, &cap, sizeof(*h));
		h->namespace_ = xstrdup(ps->svc->namespace_);
		h->name = xstrdup(ps->svc->name);
		h->vip = ps->vip;
	}
	return prev;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t rec_problems(const struct diag_list *dl, size_t from, char ***out)
{
	size_t n = 0, k = 0;

	*out = xcalloc(dl->n > from ? dl->n - from : 1, sizeof(**out));
	for (size_t i = from; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];
		size_t len = strlen(d->file) + strlen(d->path) +
			     strlen(d->msg) + 3;

		(*out)[n] = xmalloc(len);
		snprintf((*out)[n++], len, "%s\n%s\n%s", d->file, d->path,
			 d->msg);
	}
	if (n)
		qsort(*out, n, sizeof(**out), str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && !strcmp((*out)[k - 1], (*out)[i]))
			free((*out)[i]);
		else
			(*out)[k++] = (*out)[i];
	}
	return k;
}

void rec_problems_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

size_t rec_new_problems(char *const *prev, size_t nprev, char *const *next,
			size_t nnext)
{
	size_t fresh = 0;

	for (size_t i = 0; i < nnext; i++)
		fresh += !nprev || !bsearch(&next[i], prev, nprev,
					    sizeof(*prev), str_cmp);
	return fresh;
}

const char *rec_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "UDP" : "TCP";
}
