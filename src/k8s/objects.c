/* objects: loads the manifests of one directory into sorted arrays of
 * Nodes, Services and EndpointSlices, and looks them up (see objects.h).
 *
 * This file walks documents and Lists, dispatches each object on its kind
 * to node.c, service.c or endpointslice.c, keeps the objects that decoded
 * without a problem, drops every copy of a duplicated object and sorts once
 * at the end, so that the result depends on the set of objects only.
 *
 * Parsing YAML is most of the cost (libyaml reads ~40 MB/s), so the files
 * of a directory are parsed on as many threads as there are CPUs, each
 * into its own partial result; the partial results are then joined in
 * file-name order, which keeps the outcome independent of scheduling.
 */
#include "k8s/objects.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s/decode.h"
#include "lib/xalloc.h"
#include "lib/yaml_tree.h"

/* 100k Services with their slices are ~110 MB of YAML; this only stops a
 * file that is certainly a mistake. */
#define K8S_MAX_FILE_BYTES ((size_t)1 << 30)

/* What makes two objects of one kind the same object. */
struct ident {
	const char *ns, *name;
	struct k8s_origin *origin;
	size_t idx;
};

struct kind {
	const char *kind, *api_version;
	size_t size;
	bool (*decode)(struct ydec *d, struct k8s_ctx *c,
		       const struct ynode *obj, void *out);
	struct ident (*ident)(void *obj);
	int (*cmp)(const void *, const void *); /* the final order */
};

enum { KIND_NODE, KIND_SERVICE, KIND_SLICE, NKINDS };

struct loader {
	struct k8s_objects *o;
	struct diag_list *dl;
	struct k8s_ctx ctx;
	void *arrays[NKINDS]; /* &o->nodes, &o->services, &o->slices */
	size_t *counts[NKINDS];
	size_t caps[NKINDS];
};

/* NULL sorts before every string. */
static int str_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return !b - !a;
	return strcmp(a, b);
}

static int node_cmp(const void *x, const void *y)
{
	const struct k8s_node *a = x, *b = y;

	return strcmp(a->name, b->name);
}

static int service_cmp(const void *x, const void *y)
{
	const struct k8s_service *a = x, *b = y;
	int c = strcmp(a->namespace_, b->namespace_);

	return c ? c : strcmp(a->name, b->name);
}

/* Orders slices by (namespace, Service); name breaks ties when given. */
static int slice_key_cmp(const struct k8s_slice *a, const char *ns,
			 const char *svc, const char *name)
{
	int c = strcmp(a->namespace_, ns);

	if (!c)
		c = str_cmp(a->service_name, svc);
	if (!c && name)
		c = strcmp(a->name, name);
	return c;
}

static int slice_cmp(const void *x, const void *y)
{
	const struct k8s_slice *b = y;

	return slice_key_cmp(x, b->namespace_, b->service_name, b->name);
}

static struct ident node_ident(void *p)
{
	struct k8s_node *n = p;

	return (struct ident){"", n->name, &n->origin, 0};
}

static struct ident service_ident(void *p)
{
	struct k8s_service *s = p;

	return (struct ident){s->namespace_, s->name, &s->origin, 0};
}

static struct ident slice_ident(void *p)
{
	struct k8s_slice *s = p;

	return (struct ident){s->namespace_, s->name, &s->origin, 0};
}

static const struct kind kinds[NKINDS] = {
	[KIND_NODE] = {"Node", "v1", sizeof(struct k8s_node),
		       k8s_decode_node, node_ident, node_cmp},
	[KIND_SERVICE] = {"Service", "v1", sizeof(struct k8s_service),
			  k8s_decode_service, service_ident, service_cmp},
	[KIND_SLICE] = {"EndpointSlice", "discovery.k8s.io/v1",
			sizeof(struct k8s_slice), k8s_decode_slice,
			slice_ident, slice_cmp},
};

static void load_object(struct loader *l, struct ydec *d,
			const struct ynode *obj);

/* `kind: List` and the typed lists (ServiceList, ...): items[] are
 * objects. */
static void load_list(struct loader *l, struct ydec *d,
		      const struct ynode *obj)
{
	const struct ynode *items;
	size_t mark;

	if (ydec_seq(d, obj, "items", &items) != 1)
		return;
	mark = ydec_enter(d, "items");
	for (size_t i = 0; i < items->n; i++) {
		size_t im = ydec_enter_index(d, i);

		load_object(l, d, items->items[i]);
		ydec_leave(d, im);
	}
	ydec_leave(d, mark);
}

static void check_api_version(struct ydec *d, const struct ynode *obj,
			      const struct kind *k)
{
	const char *api;
	int r = ydec_str(d, obj, "apiVersion", &api);

	if (r == 0)
		ydec_error(d, obj, "apiVersion", "missing; write apiVersion: "
			   "%s for a %s", k->api_version, k->kind);
	else if (r == 1 && strcmp(api, k->api_version))
		ydec_error(d, ydec_get(obj, "apiVersion"), "apiVersion",
			   "'%s' is not the API version bmlb reads for a %s; "
			   "write %s", api, k->kind, k->api_version);
}

static void load_object(struct loader *l, struct ydec *d,
			const struct ynode *obj)
{
	const struct kind *k = NULL;
	const char *kind;
	unsigned errors = d->errors;
	size_t len, i;
	void *slot;
	int r;

	if (obj->kind != YNODE_MAP) {
		ydec_error(d, obj, NULL, "expected a Kubernetes object, found "
			   "%s; write a mapping with apiVersion, kind and "
			   "metadata", ynode_kind_name(obj));
		return;
	}
	r = ydec_str(d, obj, "kind", &kind);
	if (r == 0)
		ydec_error(d, obj, "kind", "missing; every object needs a "
			   "kind, such as Service");
	if (r != 1)
		return;
	len = strlen(kind);
	if (len >= 4 && !strcmp(kind + len - 4, "List")) {
		load_list(l, d, obj);
		return;
	}
	for (i = 0; i < NKINDS && !k; i++)
		if (!strcmp(kind, kinds[i].kind))
			k = &kinds[i];
	/* A bad object was reported while the tree was built. */
	if (!k || obj->bad)
		return;
	i = (size_t)(k - kinds);
	check_api_version(d, obj, k);
	slot = xpush(l->arrays[i], l->counts[i], &l->caps[i], k->size);
	if (!k->decode(d, &l->ctx, obj, slot) || d->errors != errors) {
		(*l->counts[i])--;
		return;
	}
	*k->ident(slot).origin = (struct k8s_origin){
		.file = d->file,
		.line = obj->line,
		.col = obj->col,
		.path = d->len ? arena_strndup(&l->o->arena, d->path, d->len)
			       : "",
	};
}

static int load_doc(const struct ydoc *doc, void *arg)
{
	struct loader *l = arg;
	struct ydec d;

	if (ynode_is_null(doc->root))
		return 0;
	ydec_init(&d, doc->file, l->dl);
	load_object(l, &d, doc->root);
	return 0;
}

static int ident_cmp(const void *x, const void *y)
{
	const struct ident *a = x, *b = y;
	int c = strcmp(a->ns, b->ns);

	if (!c)
		c = strcmp(a->name, b->name);
	if (!c)
		c = strcmp(a->origin->file, b->origin->file);
	if (!c)
		c = a->origin->line - b->origin->line;
	if (!c)
		c = a->origin->col - b->origin->col;
	return c;
}

static void report_duplicate(struct diag_list *dl, const struct kind *k,
			     const struct ident *id, const struct ident *other,
			     size_t copies)
{
	const struct k8s_origin *o = id->origin;
	char path[YDEC_PATH_MAX + 16], times[32];

	snprintf(path, sizeof(path), "%s%smetadata.name", o->path,
		 *o->path ? "." : "");
	snprintf(times, sizeof(times), copies == 2 ? "twice" : "%zu times",
		 copies);
	diag_add(dl, o->file, o->line, o->col, path, "%s %s%s%s is defined "
		 "%s: also at %s:%d; each object must appear once", k->kind,
		 id->ns, *id->ns ? "/" : "", id->name, times,
		 other->origin->file, other->origin->line);
}

/* Reports every copy of an object defined more than once and drops them
 * all, so that which copy survives never depends on file order.  Returns
 * the new count. */
static size_t drop_duplicates(const struct kind *k, char *v, size_t n,
			      struct diag_list *dl)
{
	struct ident *ids = xmalloc(n * sizeof(*ids));
	bool *drop = xcalloc(n, sizeof(*drop));
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		ids[i] = k->ident(v + i * k->size);
		ids[i].idx = i;
	}
	qsort(ids, n, sizeof(*ids), ident_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(ids[i].ns, ids[j].ns) &&
				!strcmp(ids[i].name, ids[j].name);
		     j++)
			;
		for (size_t m = i; j - i > 1 && m < j; m++) {
			report_duplicate(dl, k, &ids[m],
					 &ids[m == i ? i + 1 : i], j - i);
			drop[ids[m].idx] = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!drop[i] && kept++ != i)
			memcpy(v + (kept - 1) * k->size, v + i * k->size,
			       k->size);
	free(ids);
	free(drop);
	return kept;
}

/* Points l's arrays at o's. */
static void loader_bind(struct loader *l, struct k8s_objects *o)
{
	l->o = o;
	l->ctx.arena = &o->arena;
	l->arrays[KIND_NODE] = &o->nodes;
	l->arrays[KIND_SERVICE] = &o->services;
	l->arrays[KIND_SLICE] = &o->slices;
	l->counts[KIND_NODE] = &o->nnodes;
	l->counts[KIND_SERVICE] = &o->nservices;
	l->counts[KIND_SLICE] = &o->nslices;
}

static struct k8s_objects *loader_start(struct loader *l,
					struct diag_list *dl)
{
	struct k8s_objects *o = xcalloc(1, sizeof(*o));

	*l = (struct loader){.dl = dl};
	loader_bind(l, o);
	return o;
}

static void loader_finish(struct loader *l)
{
	for (size_t i = 0; i < NKINDS; i++) {
		char *v = *(char **)l->arrays[i];
		size_t *n = l->counts[i];

		if (!*n)
			continue;
		*n = drop_duplicates(&kinds[i], v, *n, l->dl);
		qsort(v, *n, kinds[i].size, kinds[i].cmp);
	}
}

static bool is_manifest_name(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.')
		return false;
	return (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(name + len - 4, ".yml"));
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted paths of dir's manifest files, or -errno. */
static int list_manifests(const char *dir, char ***paths, size_t *n)
{
	DIR *dp = opendir(dir);
	size_t cap = 0, dlen = strlen(dir);
	struct dirent *e;
	int err;

	*paths = NULL;
	*n = 0;
	if (!dp)
		return -errno;
	while ((errno = 0, e = readdir(dp))) {
		struct stat st;
		char *p;

		if (!is_manifest_name(e->d_name))
			continue;
		if (asprintf(&p, "%s%s%s", dir,
			     dlen && dir[dlen - 1] == '/' ? "" : "/",
			     e->d_name) < 0)
			xalloc_fail();
		/* Not a regular file (a directory named x.yaml): not ours.
		 * One that cannot be examined is reported when read. */
		if (stat(p, &st) == 0 && !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		*(char **)xpush(paths, n, &cap, sizeof(char *)) = p;
	}
	err = errno;
	closedir(dp);
	if (err) {
		for (size_t i = 0; i < *n; i++)
			free((*paths)[i]);
		free(*paths);
		return -err;
	}
	qsort(*paths, *n, sizeof(char *), path_cmp);
	return 0;
}

/* One file's partial result. */
struct file_load {
	const char *path;
	off_t size;
	struct k8s_objects *o;
	struct diag_list dl;
};

struct pool {
	struct file_load **order; /* largest first: the last file taken is a
				     small one, so the threads end together */
	size_t n;
	atomic_size_t next;
};

static int larger_first(const void *a, const void *b)
{
	const struct file_load *x = *(struct file_load *const *)a;
	const struct file_load *y = *(struct file_load *const *)b;

	return (x->size < y->size) - (x->size > y->size);
}

static void *load_worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n) {
		struct file_load *f = p->order[i];
		struct loader l;

		f->o = loader_start(&l, &f->dl);
		ytree_parse_file(f->path, K8S_MAX_FILE_BYTES, load_doc, &l,
				 &f->dl);
	}
	return NULL;
}

/* Moves a file's partial result behind what o and dl hold; caps are the
 * capacities of o's arrays. */
static void join(struct k8s_objects *o, struct diag_list *dl,
		 struct file_load *f, size_t caps[NKINDS])
{
	struct loader into = {0}, from = {0};

	loader_bind(&into, o);
	loader_bind(&from, f->o);
	for (size_t k = 0; k < NKINDS; k++) {
		size_t n = *from.counts[k], size = kinds[k].size;
		char **dst = into.arrays[k], **src = from.arrays[k];

		if (*into.counts[k] + n > caps[k]) {
			caps[k] = (*into.counts[k] + n) * 2;
			*dst = xreallocarray(*dst, caps[k], size);
		}
		if (n)
			memcpy(*dst + *into.counts[k] * size, *src, n * size);
		*into.counts[k] += n;
		free(*src);
	}
	arena_merge(&o->arena, &f->o->arena);
	free(f->o);
	for (size_t i = 0; i < f->dl.n; i++) {
		const struct diag *d = &f->dl.v[i];

		diag_add(dl, d->file, d->line, d->col, d->path, "%s", d->msg);
	}
	diag_free(&f->dl);
}

struct k8s_objects *k8s_load_dir(const char *dir, struct diag_list *dl)
{
	struct k8s_objects *o;
	struct loader l;
	struct pool p = {0};
	struct file_load *files;
	pthread_t threads[8];
	size_t nthreads = 0, caps[NKINDS] = {0};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char **paths;
	size_t n;
	int err = list_manifests(dir, &paths, &n);

	if (err) {
		diag_add(dl, dir, 0, 0, "", "cannot read the manifests "
			 "directory: %s; give a readable directory of *.yaml "
			 "files", strerror(-err));
		return NULL;
	}
	files = xcalloc(n, sizeof(*files));
	p.order = xcalloc(n, sizeof(*p.order));
	p.n = n;
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		files[i].path = paths[i];
		files[i].size = stat(paths[i], &st) ? 0 : st.st_size;
		p.order[i] = &files[i];
	}
	if (n)
		qsort(p.order, n, sizeof(*p.order), larger_first);
	while (nthreads + 1 < (size_t)(cpus > 8 ? 8 : cpus) &&
	       nthreads + 1 < n &&
	       !pthread_create(&threads[nthreads], NULL, load_worker, &p))
		nthreads++;
	load_worker(&p); /* this thread works too */
	for (size_t i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);

	o = loader_start(&l, dl);
	o->files = paths;
	o->nfiles = n;
	for (size_t i = 0; i < n; i++)
		join(o, dl, &files[i], caps);
	free(p.order);
	free(files);
	loader_finish(&l);
	return o;
}

struct k8s_objects *k8s_parse(const char *file, const char *buf, size_t len,
			      struct diag_list *dl)
{
	struct loader l;
	struct k8s_objects *o = loader_start(&l, dl);

	o->files = xmalloc(sizeof(*o->files));
	o->files[0] = xstrdup(file);
	o->nfiles = 1;
	ytree_parse(o->files[0], buf, len, load_doc, &l, dl);
	loader_finish(&l);
	return o;
}

void k8s_objects_free(struct k8s_objects *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nfiles; i++)
		free(o->files[i]);
	free(o->files);
	free(o->nodes);
	free(o->services);
	free(o->slices);
	arena_free(&o->arena);
	free(o);
}

const struct k8s_node *k8s_node_by_name(const struct k8s_objects *o,
					const char *name)
{
	struct k8s_node key = {.name = (char *)name};

	if (!o->nnodes)
		return NULL;
	return bsearch(&key, o->nodes, o->nnodes, sizeof(key), node_cmp);
}

/* Nodes are few (tens to thousands): a scan is enough. */
const struct k8s_node *k8s_node_by_ip(const struct k8s_objects *o,
				      uint32_t ip)
{
	for (size_t i = 0; ip && i < o->nnodes; i++)
		if (o->nodes[i].internal_ip == ip)
			return &o->nodes[i];
	return NULL;
}

const struct k8s_service *k8s_service_find(const struct k8s_objects *o,
					   const char *ns, const char *name)
{
	struct k8s_service key = {.namespace_ = (char *)ns,
				  .name = (char *)name};

	if (!o->nservices)
		return NULL;
	return bsearch(&key, o->services, o->nservices, sizeof(key),
		       service_cmp);
}

/* The first slice not below (ns, svc), or the first above it when
 * `above`. */
static size_t slice_bound(const struct k8s_objects *o, const char *ns,
			  const char *svc, bool above)
{
	size_t lo = 0, hi = o->nslices;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = slice_key_cmp(&o->slices[mid], ns, svc, NULL);

		if (c < 0 || (above && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct k8s_slice *k8s_slices_of(const struct k8s_objects *o,
				      const char *ns, const char *svc,
				      size_t *n)
{
	size_t first = slice_bound(o, ns, svc, false);

	*n = svc ? slice_bound(o, ns, svc, true) - first : 0;
	return *n ? &o->slices[first] : NULL;
}

const char *k8s_protocol_name(enum k8s_protocol p)
{
	return p == K8S_UDP ? "UDP" : "TCP";
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

int k8s_service_age_cmp(const struct k8s_service *a,
			const struct k8s_service *b)
{
	int d;

	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	d = strcmp(or_empty(a->namespace_), or_empty(b->namespace_));
	return d ? d : strcmp(or_empty(a->name), or_empty(b->name));
}
