/* bench/dataplane: per-packet cost of bmlb's SNAT and DSR fast paths (and
 * of the DSR worker's programs) against the floor (a program that only
 * parses and bounces), through BPF_PROG_TEST_RUN, in a private network
 * namespace; then what 10k concurrent flows cost in map entries and
 * memory, SNAT against DSR (bench/dsr).
 *
 * The programs rewrite the packet in place, and a test run with repeat > 1
 * runs again on the rewritten frame (a translated packet is no longer for
 * the VIP), so each packet is its own run with repeat = 1, and the
 * kernel's per-run timing is read.  What one run costs without any program
 * work (the timer, the context setup) is measured with an empty program and
 * reported; "net" figures subtract it.  Medians of many runs, so that a
 * preemption does not move the result.
 *
 * usage: build/bench/dataplane [RUNS]     (default 20000; root)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/dp.h"
#include "floor.skel.h"
#include "pass.skel.h"
#include "frames.h"
#include "netns.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define NODE NETNS_NODE_IP
#define VIP IP(198, 18, 0, 100)

static uint8_t node_mac[6];
static int ifindex;

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Runs prog once per frame (frames[i % nframes]); returns the median
 * duration in ns and the verdict of the last run. */
static uint32_t median_ns(int prog, bool tc, struct frame *frames,
			  size_t nframes, size_t runs, uint32_t *verdict)
{
	uint32_t *d = calloc(runs, sizeof(*d)), med;
	uint8_t out[FRAME_MAX];
	struct xdp_md x = {.ingress_ifindex = (uint32_t)ifindex};
	struct __sk_buff s = {.ifindex = (uint32_t)ifindex};

	for (size_t i = 0; i < runs; i++) {
		struct frame *f = &frames[i % nframes];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
			    .data_size_in = (uint32_t)f->len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		x.data_end = (uint32_t)f->len;
		o.ctx_in = tc ? (void *)&s : (void *)&x;
		o.ctx_size_in = tc ? sizeof(s) : sizeof(x);
		if (bpf_prog_test_run_opts(prog, &o)) {
			perror("BPF_PROG_TEST_RUN");
			exit(1);
		}
		d[i] = o.duration;
		*verdict = o.retval;
	}
	qsort(d, runs, sizeof(*d), cmp_u32);
	med = d[runs / 2];
	free(d);
	return med;
}

static struct frame syn(uint32_t client, uint16_t sport, uint8_t flags)
{
	struct pspec s = from_client(node_mac, IPPROTO_TCP, VIP, 80, flags);
	struct frame f;

	s.saddr = client;
	s.sport = sport;
	s.payload = "0123456789abcdef";
	build_frame(&f, &s);
	return f;
}

static struct dp *open_dp(const struct dp_service *svc, bool dsr,
			  bool worker)
{
	struct dp_config c;
	struct dp *dp;
	char err[512];

	netns_dp_config(&c);
	c.dsr = dsr;
	c.worker = worker;
	dp = netns_dp_open(&c, svc, 1, err, sizeof(err));
	if (!dp) {
		fprintf(stderr, "data plane: %s\n", err);
		exit(1);
	}
	return dp;
}

/* A DSR worker that believes the option of the LB node (this interface's
 * MAC) for svc's VIP:port, as its agent makes it. */
static struct dp *open_worker(const struct dp_service *svc)
{
	struct dp *w = open_dp(svc, true, true);
	struct dp_peer lb = {.ip = NODE};
	struct dp_vip_port v = {svc->vip, svc->port, svc->proto};

	memcpy(lb.mac, node_mac, 6);
	if (dp_set_peers(w, &lb, 1) || dp_set_dsr_vips(w, &v, 1)) {
		fprintf(stderr, "data plane: cannot set the worker's peers\n");
		exit(1);
	}
	return w;
}

/* Runs frame f through prog once; returns the output frame. */
static struct frame once(int prog, bool tc, const struct frame *f)
{
	struct frame out = {0};
	struct xdp_md x = {.data_end = (uint32_t)f->len,
			   .ingress_ifindex = (uint32_t)ifindex};
	struct __sk_buff s = {.ifindex = (uint32_t)ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = (uint32_t)f->len, .data_out = out.b,
		    .data_size_out = sizeof(out.b), .repeat = 1);

	o.ctx_in = tc ? (void *)&s : (void *)&x;
	o.ctx_size_in = tc ? sizeof(s) : sizeof(x);
	if (bpf_prog_test_run_opts(prog, &o)) {
		perror("BPF_PROG_TEST_RUN");
		exit(1);
	}
	out.len = o.data_size_out;
	return out;
}

/* Bytes the kernel charges a map (its fdinfo "memlock": a preallocated
 * hash is charged in full, used or not). */
static unsigned long long map_bytes(int fd)
{
	char path[64], line[128];
	unsigned long long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

static unsigned max_entries(int fd)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

/* One row of the flows table: entries of map name after the flows, and
 * their share of the map's memory. */
static void flow_row(const char *what, struct dp *dp, const char *name)
{
	int fd = dp_map_fd(dp, name);
	long entries = 0;
	unsigned long long bytes = map_bytes(fd);
	unsigned max = max_entries(fd);
	void *key = calloc(1, 64), *next = calloc(1, 64);

	for (void *k = NULL; !bpf_map_get_next_key(fd, k, next); k = key) {
		memcpy(key, next, 64);
		entries++;
	}
	free(key);
	free(next);
	printf("%-36s %-13s %8ld %10.0f %12.2f %10.1f\n", what, name, entries,
	       max ? (double)bytes / max : 0, (double)entries * bytes /
	       (max ? max : 1) / 1048576.0, (double)bytes / 1048576.0);
}

/* 10k concurrent TCP flows (their SYNs) through SNAT and DSR LB nodes,
 * and the DSR ones on into a worker: the map entries each side keeps. */
static void flows_table(const struct dp_service *svc, size_t nflows)
{
	struct dp *snat = open_dp(svc, false, false);
	struct dp *dsr = open_dp(svc, true, false);
	struct dp *w = open_worker(svc);

	for (size_t i = 0; i < nflows; i++) {
		uint32_t client = IP(203, 0, 113, 10 + (uint32_t)(i / 50000));
		struct frame f = syn(client, (uint16_t)(1024 + i % 50000),
				     0x02);
		struct frame out;

		once(dp_prog_fd(snat, false), false, &f);
		out = once(dp_prog_fd(dsr, false), false, &f);
		once(dp_worker_prog_fd(w, false), true, &out);
	}
	printf("\n%zu concurrent TCP flows: map entries and memory\n",
	       nflows);
	printf("%-36s %-13s %8s %10s %12s %10s\n", "node", "map", "entries",
	       "B/entry", "MiB in use", "MiB alloc");
	flow_row("LB node, SNAT", snat, "lb_ct");
	flow_row("LB node, SNAT", snat, "lb_snat");
	flow_row("LB node, DSR", dsr, "lb_ct");
	flow_row("LB node, DSR", dsr, "lb_snat");
	flow_row("LB node, DSR (route per backend)", dsr, "lb_dsr_hops");
	flow_row("worker, DSR (spread over workers)", w, "lb_dsr");
	dp_destroy(snat);
	dp_destroy(dsr);
	dp_destroy(w);
}

int main(int argc, char **argv)
{
	size_t runs = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	static const struct dp_backend backends[] = {
		{IP(198, 19, 21, 5), 8080}, {IP(198, 19, 21, 6), 8080},
		{IP(198, 19, 21, 7), 8080}, {IP(198, 19, 21, 8), 8080}};
	const struct dp_service svc = {VIP, 80, IPPROTO_TCP, false, backends,
				       4};
	struct frame est, *fresh;
	struct floor *fl;
	struct pass *ps;
	struct dp *dp;
	uint32_t v, empty, floor_x, floor_t, est_x, est_t, new_x, new_t;

	make_netns(node_mac, &ifindex);
	fl = floor__open_and_load();
	ps = pass__open_and_load();
	if (!fl || !ps) {
		perror("loading the floor programs");
		return 1;
	}
	dp = open_dp(&svc, false, false);
	/* One established flow, and `runs` distinct new ones. */
	est = syn(IP(203, 0, 113, 10), 40000, 0x02);
	median_ns(dp_prog_fd(dp, false), false, &est, 1, 1, &v);
	est = syn(IP(203, 0, 113, 10), 40000, 0x10);
	fresh = calloc(runs, sizeof(*fresh));
	for (size_t i = 0; i < runs; i++)
		fresh[i] = syn(IP(203, 0, 113, 11 + (uint32_t)(i / 50000)),
			       (uint16_t)(1024 + i % 50000), 0x02);

	empty = median_ns(bpf_program__fd(ps->progs.xdp_pass), false, &est, 1,
			  runs, &v);
	floor_x = median_ns(bpf_program__fd(fl->progs.floor_xdp), false, &est,
			    1, runs, &v);
	floor_t = median_ns(bpf_program__fd(fl->progs.floor_tc), true, &est, 1,
			    runs, &v);
	est_x = median_ns(dp_prog_fd(dp, false), false, &est, 1, runs, &v);
	if (v != XDP_TX)
		fprintf(stderr, "warning: established flow verdict %u\n", v);
	est_t = median_ns(dp_prog_fd(dp, true), true, &est, 1, runs, &v);
	new_x = median_ns(dp_prog_fd(dp, false), false, fresh, runs, runs, &v);
	dp_gc(dp, UINT64_MAX / 2);
	new_t = median_ns(dp_prog_fd(dp, true), true, fresh, runs, runs, &v);

	/* DSR: stateless, so one frame of each kind is every packet. */
	struct dp *dsr = open_dp(&svc, true, false), *w = open_worker(&svc);
	struct frame dsyn = syn(IP(203, 0, 113, 10), 40000, 0x02), wire, back;
	uint32_t dsyn_x, dsyn_t, dest_x, win, wout;

	dsyn_x = median_ns(dp_prog_fd(dsr, false), false, &dsyn, 1, runs, &v);
	dsyn_t = median_ns(dp_prog_fd(dsr, true), true, &dsyn, 1, runs, &v);
	dest_x = median_ns(dp_prog_fd(dsr, false), false, &est, 1, runs, &v);
	wire = once(dp_prog_fd(dsr, false), false, &dsyn);
	win = median_ns(dp_worker_prog_fd(w, false), true, &wire, 1, runs, &v);
	back = once(dp_worker_prog_fd(w, false), true, &wire);
	{
		/* The pod's answer: the delivered packet, turned round. */
		uint8_t tmp[6];
		uint8_t a[4];

		memcpy(tmp, back.b, 6);
		memcpy(back.b, back.b + 6, 6);
		memcpy(back.b + 6, tmp, 6);
		memcpy(a, back.b + 26, 4);
		memcpy(back.b + 26, back.b + 30, 4);
		memcpy(back.b + 30, a, 4);
		memcpy(a, back.b + 34, 2);
		memcpy(back.b + 34, back.b + 36, 2);
		memcpy(back.b + 36, a, 2);
	}
	wout = median_ns(dp_worker_prog_fd(w, true), true, &back, 1, runs, &v);

	printf("per-packet cost, median of %zu BPF_PROG_TEST_RUN runs (ns)\n",
	       runs);
	printf("test-run overhead (empty program): %u ns, subtracted in 'net'\n\n",
	       empty);
#define ROW(name, x, floor)                                                  \
	printf("%-34s %6u %6d %9.2f\n", name, x, (int)(x) - (int)empty,      \
	       (double)(x) / (floor))
	printf("%-34s %6s %6s %9s\n", "case", "raw", "net", "raw/floor");
	ROW("floor: parse + bounce (XDP)", floor_x, floor_x);
	ROW("floor: parse + bounce (tc)", floor_t, floor_t);
	ROW("bmlb established flow (XDP)", est_x, floor_x);
	ROW("bmlb established flow (tc)", est_t, floor_t);
	ROW("bmlb new flow (XDP)", new_x, floor_x);
	ROW("bmlb new flow (tc)", new_t, floor_t);
	ROW("DSR, SYN + option (XDP)", dsyn_x, floor_x);
	ROW("DSR, SYN + option (tc)", dsyn_t, floor_t);
	ROW("DSR, later packet (XDP)", dest_x, floor_x);
	ROW("DSR worker in: record + strip (tc)", win, floor_t);
	ROW("DSR worker out: reply -> VIP (tc)", wout, floor_t);
	printf("\nDSR/SNAT, later packets (XDP): %.2f; DSR SYN/SNAT new flow "
	       "(XDP): %.2f\n", (double)dest_x / est_x,
	       (double)dsyn_x / new_x);
	dp_destroy(dsr);
	dp_destroy(w);
	flows_table(&svc, 10000);
	free(fresh);
	dp_destroy(dp);
	floor__destroy(fl);
	pass__destroy(ps);
	return 0;
}
