/* previous: the VIPs held in an earlier `bmlb plan --json` output.
 *
 * JSON is read with the YAML parser (JSON is a subset of the YAML that
 * libyaml accepts for this shape), so line/column diagnostics come for free.
 * Only forwardMode, and namespace, name and vip of each service are read;
 * everything else in the file is ignored, so the same file also works
 * across versions.
 */
#include "plan/plan.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "lib/yaml_decode.h"

struct load {
	struct plan_previous *p;
	size_t cap;
	int docs;
	struct diag_list *dl;
};

static void read_service(struct ydec *d, const struct ynode *s, struct load *l)
{
	const char *ns = NULL, *name = NULL, *vip = NULL;
	uint32_t addr = 0;
	unsigned errors = d->errors;

	if (!ydec_expect(d, s, YNODE_MAP))
		return;
	if (ydec_str(d, s, "namespace", &ns) == 0)
		ydec_error(d, s, "namespace", "missing; every service entry "
			   "names its namespace");
	if (ydec_str(d, s, "name", &name) == 0)
		ydec_error(d, s, "name", "missing; every service entry has "
			   "a name");
	if (ydec_str(d, s, "vip", &vip) == 1 && ipv4_parse(vip, &addr) < 0)
		ydec_error(d, ydec_get(s, "vip"), "vip", "'%s' is not an IPv4 "
			   "address; write a dotted quad or null", vip);
	if (d->errors != errors || !addr)
		return;
	struct plan_held *h = xpush(&l->p->held, &l->p->n, &l->cap,
				    sizeof(*h));

	h->namespace_ = xstrdup(ns);
	h->name = xstrdup(name);
	h->vip = addr;
}

static void read_mode(struct ydec *d, const struct ynode *root,
		      struct plan_previous *p)
{
	const char *mode;

	if (ydec_str(d, root, "forwardMode", &mode) != 1)
		return;
	p->mode_line = ydec_get(root, "forwardMode")->line;
	p->mode_col = ydec_get(root, "forwardMode")->col;
	p->has_mode = true;
	if (!strcmp(mode, cfg_forward_mode_name(CFG_FORWARD_SNAT)))
		p->mode = CFG_FORWARD_SNAT;
	else if (!strcmp(mode, cfg_forward_mode_name(CFG_FORWARD_DSR)))
		p->mode = CFG_FORWARD_DSR;
	else
		ydec_error(d, ydec_get(root, "forwardMode"), "forwardMode",
			   "'%s' is not a forwarding mode; give the output of "
			   "bmlb plan --json, whose forwardMode is snat or dsr",
			   mode);
}

static int read_doc(const struct ydoc *doc, void *arg)
{
	struct load *l = arg;
	const struct ynode *services = NULL;
	struct ydec d;
	int r;

	if (!doc->root)
		return 0;
	l->docs++;
	ydec_init(&d, doc->file, l->dl);
	if (l->docs > 1) {
		ydec_error(&d, doc->root, NULL, "more than one document; give "
			   "the output of one bmlb plan --json");
		return 0;
	}
	if (!ydec_expect(&d, doc->root, YNODE_MAP))
		return 0;
	read_mode(&d, doc->root, l->p);
	r = ydec_seq(&d, doc->root, "services", &services);
	if (r == 0)
		ydec_error(&d, doc->root, "services", "missing; give the "
			   "output of bmlb plan --json");
	if (r == 1)
		for (size_t i = 0; i < services->n; i++) {
			size_t mark = ydec_enter(&d, "services");

			ydec_enter_index(&d, i);
			read_service(&d, services->items[i], l);
			ydec_leave(&d, mark);
		}
	return 0;
}

static int held_cmp(const void *a, const void *b)
{
	const struct plan_held *x = a, *y = b;
	int c = strcmp(x->namespace_, y->namespace_);

	return c ? c : strcmp(x->name, y->name);
}

static struct plan_previous *finish(struct load *l, const char *file,
				    size_t diags_before)
{
	if (!l->docs && l->dl->n == diags_before)
		diag_add(l->dl, file, 1, 1, "", "empty; give the output of "
			 "bmlb plan --json");
	if (l->dl->n != diags_before) {
		plan_previous_free(l->p);
		return NULL;
	}
	if (l->p->n)
		qsort(l->p->held, l->p->n, sizeof(*l->p->held), held_cmp);
	return l->p;
}

struct plan_previous *plan_previous_load(const char *path,
					 struct diag_list *dl)
{
	struct load l = {.p = xcalloc(1, sizeof(*l.p)), .dl = dl};
	size_t before = dl->n;

	ytree_parse_file(path, PLAN_PREVIOUS_MAX_BYTES, read_doc, &l, dl);
	return finish(&l, path, before);
}

struct plan_previous *plan_previous_parse(const char *file, const char *buf,
					  size_t len, struct diag_list *dl)
{
	struct load l = {.p = xcalloc(1, sizeof(*l.p)), .dl = dl};
	size_t before = dl->n;

	ytree_parse(file, buf, len, read_doc, &l, dl);
	return finish(&l, file, before);
}

void plan_previous_free(struct plan_previous *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->held[i].namespace_);
		free(p->held[i].name);
	}
	free(p->held);
	free(p);
}

bool plan_previous_fits(const struct plan_previous *p, const char *file,
			const struct cfg_cluster *c, struct diag_list *dl)
{
	if (!p->has_mode || p->mode == c->forward_mode)
		return true;
	diag_add(dl, file, p->mode_line, p->mode_col, "forwardMode",
		 "this plan is for forwardMode %s, and the cluster file %s says "
		 "%s; give a plan of this cluster, or none",
		 cfg_forward_mode_name(p->mode), c->file,
		 cfg_forward_mode_name(c->forward_mode));
	return false;
}

uint32_t plan_previous_find(const struct plan_previous *p, const char *ns,
			    const char *name)
{
	struct plan_held key = {.namespace_ = (char *)ns, .name = (char *)name};
	const struct plan_held *h =
		p->n ? bsearch(&key, p->held, p->n, sizeof(*p->held), held_cmp)
		     : NULL;

	return h ? h->vip : 0;
}
