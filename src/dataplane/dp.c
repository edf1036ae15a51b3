/* dp: loads the data plane and programs its maps (see dp.h).
 *
 * Loader steps, each failing with its own message: open -> set rodata ->
 * load (reusing pinned maps) -> attach (updating a pinned XDP link, of this
 * maps version or an older one, or replacing the tc filter, so that the
 * program is swapped, never removed; switching between XDP and tc removes
 * the other hook's program).
 */
#include "dataplane/dp.h"

#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/maglev.h"
#include "lb.skel.h"
#include "lib/xalloc.h"

#define TC_HANDLE 0xb1b
#define TC_PRIORITY 1
#define FLOW_BATCH 1024 /* flows dp_flows reads per system call */

/* A backend slot as the agent tracks it. */
struct slot {
	uint32_t ip;   /* host order */
	uint16_t port; /* host order */
	uint32_t refs; /* services whose table names it */
	bool alive;    /* written to lb_backends as alive */
};

/* A programmed service port. */
struct prog_svc {
	struct lb_svc_key key;
	uint32_t id;
	uint16_t flags;
	uint32_t *backend_ids; /* sorted by (ip, port); NULL: unknown */
	size_t nbackends;
	uint32_t table_size; /* of its Maglev table */
	bool keep; /* seen in the current sync */
};

struct dp {
	struct dp_config cfg;
	struct lb *skel;
	struct bpf_link *xdp_link;
	int ifindex, tunnel_ifindex;
	char pin_path[256];
	struct slot *slots; /* LB_MAX_BACKENDS */
	uint32_t next_slot; /* round robin: freed ids are reused last */
	struct prog_svc *svcs;
	size_t nsvcs, csvcs;
	bool *ids_used; /* LB_MAX_SERVICES */
	uint32_t *table; /* scratch Maglev table */
	bool adopted; /* found this version's maps pinned */
	uint8_t mac[6]; /* of ifname */
};

static int fail(char *err, size_t len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;
	size_t off;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	off = strlen(err);
	if (ret < 0 && off < len)
		snprintf(err + off, len - off, ": %s (%d)", strerror(-ret),
			 -ret);
	return ret < 0 ? ret : -EINVAL;
}

void dp_config_defaults(struct dp_config *c)
{
	*c = (struct dp_config){
		.snat_min = DP_SNAT_MIN_DEFAULT,
		.snat_max = DP_SNAT_MAX_DEFAULT,
		.timeouts = {.unreplied = 5, .tcp_established = 21600,
			     .tcp_closing = 10, .udp = 60,
			     .unreplied_yield_ms = 10},
		.source_new_max = LB_SOURCE_NEW_MAX,
		.attach = true,
	};
}

/* Asks the kernel about interface ifname (SIOCGIFHWADDR). */
static int iface_ioctl(const char *ifname, unsigned long req,
		       struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int iface_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {0};
	int ret = iface_ioctl(ifname, SIOCGIFHWADDR, &ifr);

	if (!ret)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return ret;
}

/* Sizes the flow tables.  Every node may translate (NodePort Cluster) and
 * rewrite replies (Local, DSR worker); only DSR caches routes to backends
 * (an LB node's stateless forwarding). */
static int size_tables(struct dp *dp)
{
	const struct dp_config *c = &dp->cfg;
	uint32_t flows = c->ct_entries ? c->ct_entries : LB_CT_ENTRIES;
	uint32_t hops = c->dsr && !c->worker ? LB_MAX_BACKENDS : 1;

	if (bpf_map__set_max_entries(dp->skel->maps.lb_ct, flows) ||
	    bpf_map__set_max_entries(dp->skel->maps.lb_snat, flows) ||
	    bpf_map__set_max_entries(dp->skel->maps.lb_dsr, flows) ||
	    bpf_map__set_max_entries(dp->skel->maps.lb_dsr_hops, hops))
		return -errno;
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Reads back what a previous agent programmed: alive backends and the
 * services' ids.  Their backend lists are unknown, so the first sync
 * rebuilds their tables (identical, Maglev being deterministic). */
static void adopt(struct dp *dp)
{
	int bfd = bpf_map__fd(dp->skel->maps.lb_backends);
	int sfd = bpf_map__fd(dp->skel->maps.lb_services);
	struct lb_svc_key key, next, *prev = NULL;

	for (uint32_t id = 0; id < LB_MAX_BACKENDS; id++) {
		struct lb_backend b;

		if (bpf_map_lookup_elem(bfd, &id, &b) || !(b.flags & LB_BACKEND_ALIVE))
			continue;
		dp->slots[id] = (struct slot){.ip = ntohl(b.ip),
					      .port = ntohs(b.port),
					      .alive = true};
	}
	while (!bpf_map_get_next_key(sfd, prev, &next)) {
		struct lb_svc v;
		struct prog_svc *s;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(sfd, &key, &v) || v.id >= LB_MAX_SERVICES)
			continue;
		s = xpush(&dp->svcs, &dp->nsvcs, &dp->csvcs, sizeof(*s));
		s->key = key;
		s->id = v.id;
		s->flags = v.flags;
		s->table_size = v.table_size;
		dp->ids_used[v.id] = true;
	}
}

/* Removes bmlb's tc filter from ifindex's ingress (or egress): -ENOENT
 * when there is none, -EINVAL when the interface has no clsact qdisc at
 * all.  libbpf would print the kernel's message on those expected errors:
 * it is silenced here (as around creating the hook below), callers
 * report. */
static int tc_detach_at(int ifindex, enum bpf_tc_attach_point at)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = at);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE,
		    .priority = TC_PRIORITY);
	libbpf_print_fn_t print = libbpf_set_print(NULL);
	int ret = bpf_tc_detach(&hook, &opts);

	libbpf_set_print(print);
	return ret;
}

static int tc_detach(int ifindex)
{
	return tc_detach_at(ifindex, BPF_TC_INGRESS);
}

/* bmlb's tc filter prog on ifindex's ingress (or egress), replacing an
 * older one (the clsact qdisc may exist already: the kernel says so,
 * libbpf is quiet). */
static int tc_attach_prog(int ifindex, const char *ifname,
			  enum bpf_tc_attach_point at,
			  const struct bpf_program *prog, char *err,
			  size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = at);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE,
		    .priority = TC_PRIORITY, .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(prog));
	libbpf_print_fn_t print = libbpf_set_print(NULL);
	int ret = bpf_tc_hook_create(&hook);

	libbpf_set_print(print);
	if (ret && ret != -EEXIST)
		return fail(err, errlen, ret, "couldn't create the tc hook on "
			    "'%s'", ifname);
	ret = bpf_tc_attach(&hook, &opts);
	if (ret)
		return fail(err, errlen, ret, "couldn't attach the tc program "
			    "%s on '%s'", bpf_program__name(prog), ifname);
	return 0;
}

static int tc_attach(struct dp *dp, int ifindex, const char *ifname,
		     char *err, size_t errlen)
{
	return tc_attach_prog(ifindex, ifname, BPF_TC_INGRESS,
			      dp->skel->progs.lb_tc, err, errlen);
}

/* The reply rewriter on the cluster interface's egress: a DSR worker's
 * pods and an LB node's Local pods answer from VIP:port. */
static int egress_attach(struct dp *dp, char *err, size_t errlen)
{
	return tc_attach_prog(dp->ifindex, dp->cfg.ifname, BPF_TC_EGRESS,
			      dp->skel->progs.dsr_out, err, errlen);
}

/* Finds the XDP link of this interface that an agent pinned: under the
 * current maps version's directory, else under another version's (an
 * agent from before a layout change).  Checks before opening, so that a
 * first start has libbpf warn about nothing. */
static bool xdp_pin_find(const struct dp *dp, char *path, size_t len)
{
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (!dp->cfg.pin_dir)
		return false;
	snprintf(path, len, "%s/xdp_%s", dp->pin_path, dp->cfg.ifname);
	if (!access(path, F_OK))
		return true;
	d = opendir(dp->cfg.pin_dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] != 'v' ||
		    strspn(e->d_name + 1, "0123456789") !=
			    strlen(e->d_name + 1))
			continue;
		snprintf(path, len, "%s/%s/xdp_%s", dp->cfg.pin_dir, e->d_name,
			 dp->cfg.ifname);
		found = !access(path, F_OK);
	}
	closedir(d);
	return found;
}

/* Detaches and unpins every pinned XDP link of this interface (tc takes
 * over from XDP). */
static int xdp_remove(struct dp *dp, char *err, size_t errlen)
{
	char path[300];

	while (xdp_pin_find(dp, path, sizeof(path))) {
		struct bpf_link *l = bpf_link__open(path);
		int ret = l ? bpf_link__detach(l) : -errno;

		if (!ret)
			ret = bpf_link__unpin(l);
		bpf_link__destroy(l);
		if (ret)
			return fail(err, errlen, ret, "couldn't remove the XDP "
				    "link pinned at %s", path);
	}
	return 0;
}

/* Takes over the XDP link pinned at old: swaps in this program (never
 * detaching) and pins it at path, the current version's place.  A link
 * whose interface is gone (deleted, or replaced by a namesake) is only
 * unpinned, leaving dp->xdp_link NULL. */
static int xdp_take_over(struct dp *dp, const char *old, const char *path,
			 char *err, size_t errlen)
{
	struct bpf_link *l = bpf_link__open(old);
	struct bpf_link_info info = {0};
	__u32 len = sizeof(info);
	int ret;

	if (!l)
		return fail(err, errlen, -errno, "couldn't open the XDP link "
			    "pinned at %s", old);
	if (bpf_obj_get_info_by_fd(bpf_link__fd(l), &info, &len) ||
	    info.type != BPF_LINK_TYPE_XDP ||
	    info.xdp.ifindex != (__u32)dp->ifindex) {
		ret = bpf_link__unpin(l);
		bpf_link__destroy(l);
		return ret ? fail(err, errlen, ret, "couldn't unpin the stale "
				  "XDP link at %s", old)
			   : 0;
	}
	ret = bpf_link__update_program(l, dp->skel->progs.lb_xdp);
	if (ret) {
		bpf_link__destroy(l);
		return fail(err, errlen, ret, "couldn't replace the XDP "
			    "program on '%s'", dp->cfg.ifname);
	}
	if (strcmp(old, path)) {
		/* Pinned at the new place before leaving the old one, so that
		 * it stays pinned throughout; reopened to own the new pin. */
		ret = bpf_obj_pin(bpf_link__fd(l), path);
		if (!ret)
			ret = bpf_link__unpin(l);
		bpf_link__destroy(l);
		if (ret)
			return fail(err, errlen, ret, "couldn't move the XDP "
				    "link from %s to %s", old, path);
		l = bpf_link__open(path);
		if (!l)
			return fail(err, errlen, -errno, "couldn't open the "
				    "XDP link pinned at %s", path);
	}
	dp->xdp_link = l;
	return 0;
}

/* Attaches XDP: takes over a pinned link (of any maps version) or makes
 * and pins a new one. */
static int xdp_attach(struct dp *dp, char *err, size_t errlen)
{
	char path[300], old[300];
	int ret;

	snprintf(path, sizeof(path), "%s/xdp_%s", dp->pin_path,
		 dp->cfg.ifname);
	if (xdp_pin_find(dp, old, sizeof(old)) &&
	    (ret = xdp_take_over(dp, old, path, err, errlen)))
		return ret;
	if (dp->xdp_link)
		return 0;
	dp->xdp_link = bpf_program__attach_xdp(dp->skel->progs.lb_xdp,
					       dp->ifindex);
	if (!dp->xdp_link)
		return fail(err, errlen, -errno, "couldn't attach the XDP "
			    "program on '%s'", dp->cfg.ifname);
	if (dp->cfg.pin_dir && (ret = bpf_link__pin(dp->xdp_link, path)))
		return fail(err, errlen, ret, "couldn't pin the XDP link at %s",
			    path);
	return 0;
}

/* Every node: lb_tc on ingress (behind XDP it forwards what XDP hands
 * it: src/bpf/hop.h; a DSR worker's also reads the option), XDP in front
 * of it unless --hook tc, lb_tc on the tunnel's ingress too, the reply
 * rewriter on egress. */
static int attach(struct dp *dp, char *err, size_t errlen)
{
	int ret = tc_attach(dp, dp->ifindex, dp->cfg.ifname, err, errlen);

	if (!ret)
		ret = dp->cfg.use_tc ? xdp_remove(dp, err, errlen)
				     : xdp_attach(dp, err, errlen);
	if (!ret && dp->tunnel_ifindex)
		ret = tc_attach(dp, dp->tunnel_ifindex, dp->cfg.tunnel_ifname,
				err, errlen);
	return ret ? ret : egress_attach(dp, err, errlen);
}

/* Removes the pins of older map layouts once this version runs: their
 * maps (tens of MB of flow tables) are used by nothing any more. */
static void unpin_old_versions(const char *pin_dir)
{
	for (int v = 1; v < LB_MAPS_VERSION; v++) {
		char dir[300], path[600];
		struct dirent *e;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/v%d", pin_dir, v);
		d = opendir(dir);
		if (!d)
			continue;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", dir,
					 e->d_name);
				unlink(path);
			}
		closedir(d);
		rmdir(dir);
	}
}

/* The index of interface name (none asked: 0), or -errno with a message. */
static int ifindex_of(const char *name, int *out, char *err, size_t errlen)
{
	if (!name)
		return 0;
	*out = (int)if_nametoindex(name);
	return *out ? 0 : fail(err, errlen, -errno, "no interface '%s'", name);
}

int dp_open(const struct dp_config *c, struct dp **out, char *err,
	    size_t errlen)
{
	struct dp *dp = xcalloc(1, sizeof(*dp));
	struct bpf_map *map;
	int ret;

	dp->cfg = *c;
	dp->slots = xcalloc(LB_MAX_BACKENDS, sizeof(*dp->slots));
	dp->ids_used = xcalloc(LB_MAX_SERVICES, sizeof(*dp->ids_used));
	dp->table = xcalloc(LB_MAGLEV_MAX, sizeof(*dp->table));
	if ((ret = ifindex_of(c->ifname, &dp->ifindex, err, errlen)) ||
	    (ret = ifindex_of(c->tunnel_ifname, &dp->tunnel_ifindex, err,
			      errlen)))
		goto fail;
	if (c->pin_dir) {
		char services[300];

		snprintf(dp->pin_path, sizeof(dp->pin_path), "%s/v%d",
			 c->pin_dir, LB_MAPS_VERSION);
		ret = mkdir_p(dp->pin_path);
		if (ret) {
			fail(err, errlen, ret, "couldn't create %s",
			     dp->pin_path);
			goto fail;
		}
		snprintf(services, sizeof(services), "%s/lb_services",
			 dp->pin_path);
		dp->adopted = !access(services, F_OK);
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts,
		    .pin_root_path = c->pin_dir ? dp->pin_path : NULL);
	dp->skel = lb__open_opts(&opts);
	if (!dp->skel) {
		ret = fail(err, errlen, -errno, "couldn't open the BPF object");
		goto fail;
	}
	if (!c->pin_dir)
		bpf_object__for_each_map(map, dp->skel->obj)
			bpf_map__set_pin_path(map, NULL);
	if ((ret = size_tables(dp))) {
		fail(err, errlen, ret, "couldn't size the flow tables");
		goto fail;
	}
	dp->skel->rodata->cfg_node_ip = htonl(c->node_ip);
	dp->skel->rodata->cfg_snat_min = c->snat_min;
	dp->skel->rodata->cfg_snat_max = c->snat_max;
	dp->skel->rodata->cfg_timeouts = c->timeouts;
	dp->skel->rodata->cfg_source_new_max = c->source_new_max;
	dp->skel->rodata->cfg_hash_seed = c->hash_seed;
	dp->skel->rodata->cfg_dsr = c->dsr;
	dp->skel->rodata->cfg_dsr_in = c->worker;
	if (c->pod_prefix) {
		uint32_t mask = ~0u << (32 - c->pod_prefix);

		dp->skel->rodata->cfg_pod_mask = htonl(mask);
		dp->skel->rodata->cfg_pod_net = htonl(c->pod_net & mask);
	}
	if (c->ifname) {
		ret = iface_mac(c->ifname, dp->mac);
		if (ret) {
			fail(err, errlen, ret, "couldn't read the MAC of '%s'",
			     c->ifname);
			goto fail;
		}
		memcpy((void *)dp->skel->rodata->cfg_node_mac, dp->mac, 6);
	}
	ret = lb__load(dp->skel);
	if (ret) {
		fail(err, errlen, ret, "couldn't load the BPF programs");
		goto fail;
	}
	adopt(dp);
	if (c->attach && (ret = attach(dp, err, errlen)))
		goto fail;
	if (c->pin_dir)
		unpin_old_versions(c->pin_dir);
	*out = dp;
	return 0;
fail:
	/* A data plane a previous agent left running keeps running: a start
	 * that fails must not stop the forwarding it found. */
	if (dp->adopted)
		dp_close(dp);
	else
		dp_destroy(dp);
	return ret;
}

static void svc_free(struct prog_svc *s)
{
	free(s->backend_ids);
	s->backend_ids = NULL;
}

void dp_close(struct dp *dp)
{
	if (!dp)
		return;
	for (size_t i = 0; i < dp->nsvcs; i++)
		svc_free(&dp->svcs[i]);
	free(dp->svcs);
	/* Pinned, the link stays attached when its fd closes; unpinned (no
	 * --bpf-dir), keep it attached by never closing the fd. */
	if (dp->xdp_link && !dp->cfg.pin_dir)
		bpf_link__disconnect(dp->xdp_link);
	bpf_link__destroy(dp->xdp_link);
	lb__destroy(dp->skel);
	free(dp->slots);
	free(dp->ids_used);
	free(dp->table);
	free(dp);
}

void dp_destroy(struct dp *dp)
{
	if (!dp)
		return;
	if (dp->cfg.attach && dp->skel) {
		if ((dp->cfg.use_tc || dp->cfg.worker) && dp->ifindex)
			tc_detach(dp->ifindex);
		if (dp->ifindex)
			tc_detach_at(dp->ifindex, BPF_TC_EGRESS);
		if (dp->tunnel_ifindex)
			tc_detach(dp->tunnel_ifindex);
		if (dp->xdp_link)
			bpf_link__unpin(dp->xdp_link);
	}
	if (dp->skel && dp->cfg.pin_dir) {
		bpf_object__unpin_maps(dp->skel->obj, NULL);
		rmdir(dp->pin_path);
	}
	dp_close(dp);
}

static int key_cmp(const struct lb_svc_key *a, const struct lb_svc_key *b)
{
	return memcmp(a, b, sizeof(*a));
}

static struct prog_svc *svc_find(struct dp *dp, const struct lb_svc_key *k)
{
	for (size_t i = 0; i < dp->nsvcs; i++)
		if (!key_cmp(&dp->svcs[i].key, k))
			return &dp->svcs[i];
	return NULL;
}

/* The id of backend (ip, port): its slot if it has one, else a new slot
 * taken round-robin so that a just-retired id is the last to be reused. */
static int slot_get(struct dp *dp, const struct dp_backend *b, uint32_t *id)
{
	for (uint32_t i = 0; i < LB_MAX_BACKENDS; i++)
		if (dp->slots[i].alive && dp->slots[i].ip == b->ip &&
		    dp->slots[i].port == b->port) {
			*id = i;
			return 0;
		}
	for (uint32_t n = 0; n < LB_MAX_BACKENDS; n++) {
		uint32_t i = (dp->next_slot + n) % LB_MAX_BACKENDS;
		struct lb_backend v = {.ip = htonl(b->ip),
				       .port = htons(b->port),
				       .flags = LB_BACKEND_ALIVE};
		int ret;

		if (dp->slots[i].alive)
			continue;
		ret = bpf_map_update_elem(
			bpf_map__fd(dp->skel->maps.lb_backends), &i, &v, 0);
		if (ret)
			return ret;
		dp->slots[i] = (struct slot){.ip = b->ip, .port = b->port,
					     .alive = true};
		dp->next_slot = (i + 1) % LB_MAX_BACKENDS;
		*id = i;
		return 0;
	}
	return -ENOSPC;
}

static int backend_cmp(const void *a, const void *b)
{
	const struct dp_backend *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (int)x->port - (int)y->port;
}

/* The slots of a service's Maglev table: enough that losing one of n
 * backends remaps at most about 1/n + 1% of flows (bench/maglev), small
 * for the usual few backends: 64 KiB up to 16 backends, 256 KiB up to
 * 100, 512 KiB beyond. */
static uint32_t table_size(size_t n)
{
	return n <= 16 ? 16381 : maglev_pick_size(n);
}

/* Builds the Maglev table of ids[] (backends b[] in the same order), m
 * slots, in a new inner map and swaps it in for service id. */
static int table_swap(struct dp *dp, uint32_t svc_id,
		      const struct dp_backend *b, const uint32_t *ids,
		      size_t n, uint32_t m)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP);
	struct maglev_backend *mb = xcalloc(n, sizeof(*mb));
	uint32_t *keys = xcalloc(m, sizeof(*keys));
	int inner, ret;

	for (size_t i = 0; i < n; i++)
		mb[i] = (struct maglev_backend){.ip = b[i].ip,
						.port = b[i].port};
	ret = maglev_build(mb, n, dp->table, m);
	free(mb);
	if (ret) {
		free(keys);
		return ret;
	}
	for (uint32_t i = 0; i < m; i++) {
		keys[i] = i;
		dp->table[i] = n ? ids[dp->table[i]] : LB_MAGLEV_NONE;
	}
	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lb_maglev_t",
			       sizeof(uint32_t), sizeof(uint32_t), m, &opts);
	if (inner < 0) {
		free(keys);
		return inner;
	}
	uint32_t count = m;

	ret = bpf_map_update_batch(inner, keys, dp->table, &count, NULL);
	if (!ret)
		ret = bpf_map_update_elem(bpf_map__fd(dp->skel->maps.lb_maglev),
					  &svc_id, &inner, 0);
	close(inner);
	free(keys);
	return ret;
}

static int vip_count(struct dp *dp, uint32_t vip_n, int delta)
{
	int fd = bpf_map__fd(dp->skel->maps.lb_vips);
	uint32_t n = 0;

	bpf_map_lookup_elem(fd, &vip_n, &n);
	n += (uint32_t)delta;
	return n ? bpf_map_update_elem(fd, &vip_n, &n, 0)
		 : bpf_map_delete_elem(fd, &vip_n);
}

/* Programs one desired service; existing with the same backends: no-op. */
static int svc_apply(struct dp *dp, const struct dp_service *d)
{
	struct lb_svc_key key = {.vip = htonl(d->vip), .port = htons(d->port),
				 .proto = d->proto};
	struct prog_svc *s = svc_find(dp, &key);
	struct dp_backend *b = xcalloc(d->nbackends, sizeof(*b));
	uint32_t *ids = xcalloc(d->nbackends, sizeof(*ids));
	bool nodeport = d->vip == dp->cfg.node_ip;
	uint16_t flags = (d->local ? LB_SVC_LOCAL : 0) |
			 (nodeport ? LB_SVC_NODEPORT : 0);
	int svc_fd = bpf_map__fd(dp->skel->maps.lb_services);
	struct lb_svc v;
	uint32_t m;
	size_t n = 0;
	int ret = 0;

	if (d->nbackends)
		memcpy(b, d->backends, d->nbackends * sizeof(*b));
	if (d->nbackends)
		qsort(b, d->nbackends, sizeof(*b), backend_cmp);
	for (size_t i = 0; i < d->nbackends; i++)
		if (!n || backend_cmp(&b[n - 1], &b[i]))
			b[n++] = b[i];
	for (size_t i = 0; i < n && !ret; i++)
		ret = slot_get(dp, &b[i], &ids[i]);
	if (ret)
		goto out;
	if (s && s->backend_ids && s->nbackends == n && s->flags == flags &&
	    !memcmp(s->backend_ids, ids, n * sizeof(*ids))) {
		s->keep = true;
		goto out;
	}
	if (!s) {
		uint32_t id = 0;

		while (id < LB_MAX_SERVICES && dp->ids_used[id])
			id++;
		if (id == LB_MAX_SERVICES) {
			ret = -ENOSPC;
			goto out;
		}
		s = xpush(&dp->svcs, &dp->nsvcs, &dp->csvcs, sizeof(*s));
		s->key = key;
		s->id = id;
		dp->ids_used[id] = true;
		ret = nodeport ? 0 : vip_count(dp, key.vip, +1);
		if (ret)
			goto out;
	}
	/* A packet reads the table size from the service and the slot from
	 * the table: growing, the table goes first; shrinking, the size does,
	 * so that no packet looks past the end of the table it finds. */
	m = table_size(n);
	v = (struct lb_svc){.id = s->id, .nbackends = (uint16_t)n,
			    .flags = flags, .table_size = m};
	if (m >= s->table_size) {
		ret = table_swap(dp, s->id, b, ids, n, m);
		if (!ret)
			ret = bpf_map_update_elem(svc_fd, &key, &v, 0);
	} else {
		ret = bpf_map_update_elem(svc_fd, &key, &v, 0);
		if (!ret)
			ret = table_swap(dp, s->id, b, ids, n, m);
	}
	if (ret)
		goto out;
	s->table_size = m;
	/* Only now stop counting the old backends: the old table is gone. */
	for (size_t i = 0; s->backend_ids && i < s->nbackends; i++)
		dp->slots[s->backend_ids[i]].refs--;
	for (size_t i = 0; i < n; i++)
		dp->slots[ids[i]].refs++;
	free(s->backend_ids);
	s->backend_ids = ids;
	s->nbackends = n;
	s->flags = flags;
	s->keep = true;
	ids = NULL;
out:
	free(ids);
	free(b);
	return ret;
}

static void svc_remove(struct dp *dp, struct prog_svc *s)
{
	bpf_map_delete_elem(bpf_map__fd(dp->skel->maps.lb_services), &s->key);
	bpf_map_delete_elem(bpf_map__fd(dp->skel->maps.lb_maglev), &s->id);
	if (!(s->flags & LB_SVC_NODEPORT))
		vip_count(dp, s->key.vip, -1);
	for (size_t i = 0; s->backend_ids && i < s->nbackends; i++)
		dp->slots[s->backend_ids[i]].refs--;
	dp->ids_used[s->id] = false;
	svc_free(s);
}

/* Marks every backend no table names as gone: flows still tracked to it
 * see it retired and new flows never pick it. */
static void retire_backends(struct dp *dp)
{
	int fd = bpf_map__fd(dp->skel->maps.lb_backends);

	for (uint32_t i = 0; i < LB_MAX_BACKENDS; i++) {
		struct lb_backend dead = {0};

		if (!dp->slots[i].alive || dp->slots[i].refs)
			continue;
		bpf_map_update_elem(fd, &i, &dead, 0);
		dp->slots[i].alive = false;
	}
}

int dp_sync(struct dp *dp, const struct dp_service *svcs, size_t n,
	    char *err, size_t errlen)
{
	size_t k = 0;
	int ret = 0;

	for (size_t i = 0; i < dp->nsvcs; i++)
		dp->svcs[i].keep = false;
	for (size_t i = 0; i < n; i++) {
		ret = svc_apply(dp, &svcs[i]);
		if (ret) {
			char buf[INET_ADDRSTRLEN];
			struct in_addr a = {.s_addr = htonl(svcs[i].vip)};

			fail(err, errlen, ret, "couldn't program service "
			     "%s:%u/%s", inet_ntop(AF_INET, &a, buf, sizeof(buf)),
			     svcs[i].port, svcs[i].proto == IPPROTO_TCP ? "TCP"
									: "UDP");
			break;
		}
	}
	if (ret) /* keep what is programmed; remove nothing on a failure */
		return ret;
	for (size_t i = 0; i < dp->nsvcs; i++) {
		if (dp->svcs[i].keep)
			dp->svcs[k++] = dp->svcs[i];
		else
			svc_remove(dp, &dp->svcs[i]);
	}
	dp->nsvcs = k;
	retire_backends(dp);
	return 0;
}

int dp_counters(struct dp *dp, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(dp->skel->maps.lb_stats);
	uint64_t *v;

	if (ncpu < 0)
		return ncpu;
	v = xcalloc((size_t)ncpu, sizeof(*v));
	for (uint32_t c = 0; c < LB_C_MAX; c++) {
		out[c] = 0;
		if (bpf_map_lookup_elem(fd, &c, v))
			continue;
		for (int i = 0; i < ncpu; i++)
			out[c] += v[i];
	}
	free(v);
	return 0;
}

/* Deletes the expired flows whose replies dsr_out rewrites; returns how
 * many. */
static long dsr_gc(struct dp *dp, uint64_t now_ns)
{
	int fd = bpf_map__fd(dp->skel->maps.lb_dsr);
	struct lb_flow key, next, *prev = NULL;
	long n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct lb_dsr v;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) || v.last_seen > now_ns ||
		    now_ns - v.last_seen <= lb_timeout_ns(v.state, key.proto,
							  &dp->cfg.timeouts))
			continue;
		bpf_map_delete_elem(fd, &key);
		n++;
	}
	return n;
}

long dp_gc(struct dp *dp, uint64_t now_ns)
{
	int ct = bpf_map__fd(dp->skel->maps.lb_ct);
	int snat = bpf_map__fd(dp->skel->maps.lb_snat);
	struct lb_flow key, next, *prev = NULL;
	long n = dsr_gc(dp, now_ns);

	while (!bpf_map_get_next_key(ct, prev, &next)) {
		struct lb_ct v;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(ct, &key, &v) ||
		    now_ns - v.last_seen <=
			    lb_ct_timeout_ns(&v, key.proto, &dp->cfg.timeouts) ||
		    v.last_seen > now_ns)
			continue;
		struct lb_snat_key sk = {.backend_ip = v.backend_ip,
					 .backend_port = v.backend_port,
					 .snat_port = v.snat_port,
					 .proto = key.proto};
		struct lb_snat rev;

		/* The data plane may have given the port to a new flow
		 * already (a closed flow's port is reused): only this
		 * flow's binding goes. */
		if (!bpf_map_lookup_elem(snat, &sk, &rev) &&
		    lb_snat_is_of(&rev, &key))
			bpf_map_delete_elem(snat, &sk);
		bpf_map_delete_elem(ct, &key);
		n++;
	}
	return n;
}

/* The entries of a flow table, reading it a batch at a time. */
static long map_count(struct bpf_map *map)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int ct = bpf_map__fd(map);
	struct lb_flow *keys = xcalloc(FLOW_BATCH, sizeof(*keys));
	void *vals = xcalloc(FLOW_BATCH, bpf_map__value_size(map));
	__u32 token, *in = NULL; /* a hash map's token is a bucket index */
	long n = 0;
	int ret;

	do {
		__u32 count = FLOW_BATCH;

		ret = bpf_map_lookup_batch(ct, in, &token, keys, vals, &count,
					   &opts);
		if (!ret || ret == -ENOENT) /* -ENOENT: the last batch */
			n += count;
		in = &token;
	} while (!ret);
	free(keys);
	free(vals);
	return ret == -ENOENT ? n : ret;
}

long dp_flows(struct dp *dp)
{
	long ct = map_count(dp->skel->maps.lb_ct);
	long dsr = map_count(dp->skel->maps.lb_dsr);

	return ct < 0 ? ct : dsr < 0 ? dsr : ct + dsr;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The keys (network order) of a map keyed by a VIP, at most max. */
static size_t vip_keys(int fd, uint32_t *out, size_t max)
{
	uint32_t key, *prev = NULL;
	size_t n = 0;

	while (n < max && !bpf_map_get_next_key(fd, prev, &key)) {
		out[n++] = key;
		prev = &out[n - 1];
	}
	return n;
}

int dp_announce(struct dp *dp, const uint32_t *vips, size_t n, char *err,
		size_t errlen)
{
	int owned = bpf_map__fd(dp->skel->maps.lb_owned);
	int conflicts = bpf_map__fd(dp->skel->maps.lb_arp_conflicts);
	uint32_t *want = xreallocarray(NULL, n + 1, sizeof(*want));
	uint32_t *have = xcalloc(LB_MAX_SERVICES, sizeof(*have));
	struct lb_owned v = {0};
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		want[i] = htonl(vips[i]);
	qsort(want, n, sizeof(*want), u32_cmp);
	for (int fd = owned; fd >= 0; fd = fd == owned ? conflicts : -1) {
		size_t k = vip_keys(fd, have, LB_MAX_SERVICES);

		for (size_t i = 0; i < k; i++)
			if (!bsearch(&have[i], want, n, sizeof(*want),
				     u32_cmp))
				bpf_map_delete_elem(fd, &have[i]);
	}
	for (size_t i = 0; i < n && !ret; i++)
		if (bpf_map_update_elem(owned, &want[i], &v, BPF_ANY))
			ret = fail(err, errlen, -errno, "couldn't announce "
				   "VIP %s", inet_ntoa((struct in_addr){
						     want[i]}));
	free(want);
	free(have);
	return ret;
}

int dp_lease(struct dp *dp, uint64_t until_ns)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(bpf_map__fd(dp->skel->maps.lb_lease), &zero,
				   &until_ns, BPF_ANY)
		       ? -errno
		       : 0;
}

uint64_t dp_lease_until(struct dp *dp)
{
	uint32_t zero = 0;
	uint64_t until = 0;

	bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.lb_lease), &zero,
			    &until);
	return until;
}

size_t dp_conflicts(struct dp *dp, struct dp_conflict *out, size_t max)
{
	int fd = bpf_map__fd(dp->skel->maps.lb_arp_conflicts);
	uint32_t *keys = xcalloc(max + 1, sizeof(*keys));
	size_t k = vip_keys(fd, keys, max), n = 0;

	for (size_t i = 0; i < k; i++) {
		struct lb_arp_conflict c;

		if (bpf_map_lookup_elem(fd, &keys[i], &c))
			continue;
		out[n].vip = ntohl(keys[i]);
		memcpy(out[n].mac, c.mac, 6);
		out[n++].count = c.count;
	}
	free(keys);
	return n;
}

void dp_iface(const struct dp *dp, int *ifindex, uint8_t mac[6])
{
	*ifindex = dp->ifindex;
	memcpy(mac, dp->mac, 6);
}

bool dp_adopted(const struct dp *dp)
{
	return dp->adopted;
}

int dp_prog_fd(struct dp *dp, bool tc)
{
	return bpf_program__fd(tc ? dp->skel->progs.lb_tc
				  : dp->skel->progs.lb_xdp);
}

int dp_worker_prog_fd(struct dp *dp, bool egress)
{
	return bpf_program__fd(egress ? dp->skel->progs.dsr_out
				      : dp->skel->progs.lb_tc);
}

int dp_set_peers(struct dp *dp, const struct dp_peer *peers, size_t n)
{
	int fd = bpf_map__fd(dp->skel->maps.lb_dsr_peers);
	struct lb_mac key, next, *prev = NULL;
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		struct lb_mac k = {0};
		uint32_t ip = htonl(peers[i].ip);

		memcpy(k.addr, peers[i].mac, 6);
		ret = bpf_map_update_elem(fd, &k, &ip, 0);
	}
	/* Then the MACs no LB node has any more (deleting moves the
	 * iteration on: restart from the first key after each). */
	while (!ret && !bpf_map_get_next_key(fd, prev, &next)) {
		bool keep = false;

		key = next;
		prev = &key;
		for (size_t i = 0; i < n && !keep; i++)
			keep = !memcmp(peers[i].mac, key.addr, 6);
		if (!keep) {
			ret = bpf_map_delete_elem(fd, &key) ? -errno : 0;
			prev = NULL;
		}
	}
	return ret;
}

int dp_map_fd(struct dp *dp, const char *name)
{
	struct bpf_map *m =
		bpf_object__find_map_by_name(dp->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}
