/* endpointslice: decodes one discovery.k8s.io/v1 EndpointSlice: its
 * Service, its endpoints (addresses, readiness, node) and its ports. */
#include <string.h>

#include "k8s/decode.h"

static void slice_endpoint(struct ydec *d, struct k8s_ctx *c,
			   const struct ynode *e, void *out)
{
	struct k8s_endpoint *ep = out;
	const struct ynode *seq = NULL, *cond = NULL;
	const char *node;
	int r = ydec_seq(d, e, "addresses", &seq);

	if (r == 0 || (r == 1 && !seq->n))
		ydec_error(d, r ? seq : e, "addresses", "missing; list the "
			   "endpoint's IPv4 address");
	if (r == 1 && seq->n) {
		size_t mark = ydec_enter(d, "addresses");

		ep->addresses = arena_alloc(c->arena,
					    seq->n * sizeof(*ep->addresses));
		ep->naddresses = seq->n;
		ep->line = seq->line;
		ep->col = seq->col;
		for (size_t i = 0; i < seq->n; i++) {
			size_t im = ydec_enter_index(d, i);

			k8s_decode_ip(d, seq->items[i], NULL, false,
				      &ep->addresses[i]);
			ydec_leave(d, im);
		}
		ydec_leave(d, mark);
	}
	/* An absent (unknown) readiness counts as ready: the API says so. */
	ep->ready = true;
	if (ydec_map(d, e, "conditions", &cond) == 1) {
		size_t mark = ydec_enter(d, "conditions");

		ydec_bool(d, cond, "ready", &ep->ready);
		ydec_leave(d, mark);
	}
	if (ydec_str(d, e, "nodeName", &node) == 1)
		ep->node_name = k8s_strdup(c, node);
}

static void slice_port(struct ydec *d, struct k8s_ctx *c,
		       const struct ynode *item, void *out)
{
	struct k8s_slice_port *p = out;
	const char *name = "";

	ydec_str(d, item, "name", &name);
	p->name = k8s_strdup(c, name);
	k8s_decode_protocol(d, item, &p->protocol);
	k8s_decode_port(d, item, "port", &p->port);
}

/* Decodes each item of obj's list `key` with fn into an array of *n items
 * of `size` bytes, and returns it (NULL when there is no list). */
static void *slice_list(struct ydec *d, struct k8s_ctx *c,
			const struct ynode *obj, const char *key, size_t *n,
			size_t size,
			void (*fn)(struct ydec *, struct k8s_ctx *,
				   const struct ynode *, void *))
{
	const struct ynode *seq;
	size_t mark;
	char *items;

	if (ydec_seq(d, obj, key, &seq) != 1)
		return NULL;
	mark = ydec_enter(d, key);
	items = arena_alloc(c->arena, seq->n * size);
	*n = seq->n;
	for (size_t i = 0; i < seq->n; i++) {
		size_t im = ydec_enter_index(d, i);

		if (ydec_expect(d, seq->items[i], YNODE_MAP))
			fn(d, c, seq->items[i], items + i * size);
		ydec_leave(d, im);
	}
	ydec_leave(d, mark);
	return items;
}

bool k8s_decode_slice(struct ydec *d, struct k8s_ctx *c,
		      const struct ynode *obj, void *out)
{
	struct k8s_slice *s = out;
	const struct ynode *meta, *labels = NULL;
	const char *str;
	size_t mark;
	int r = ydec_str(d, obj, "addressType", &str);

	/* Slices of the other families exist beside the IPv4 one of a
	 * dual-stack Service; bmlb has no use for them. */
	if (r == 1 && (!strcmp(str, "IPv6") || !strcmp(str, "FQDN")))
		return false;
	if (r == 0)
		ydec_error(d, obj, "addressType", "missing; write IPv4");
	else if (r == 1 && strcmp(str, "IPv4"))
		ydec_error(d, ydec_get(obj, "addressType"), "addressType",
			   "'%s' is not an address type; write IPv4 (IPv6 "
			   "and FQDN slices are skipped)", str);
	meta = k8s_decode_meta(d, c, obj, &s->name, &s->namespace_);
	mark = ydec_enter(d, "metadata");
	if (ydec_map(d, meta, "labels", &labels) == 1) {
		ydec_enter(d, "labels");
		if (ydec_str(d, labels, K8S_LABEL_SERVICE_NAME, &str) == 1)
			s->service_name = k8s_strdup(c, str);
	}
	ydec_leave(d, mark);
	s->endpoints = slice_list(d, c, obj, "endpoints", &s->nendpoints,
				  sizeof(*s->endpoints), slice_endpoint);
	s->ports = slice_list(d, c, obj, "ports", &s->nports,
			      sizeof(*s->ports), slice_port);
	return true;
}
