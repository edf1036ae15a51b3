/* bench/dataplane: per-packet cost of bmlb's SNAT fast path against the
 * floor (a program that only parses and bounces), through
 * BPF_PROG_TEST_RUN, in a private network namespace.
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

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/dp.h"
#include "floor.skel.h"
#include "pass.skel.h"
#include "frames.h"
#include "netns.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define NODE IP(198, 18, 0, 11)
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
	struct pspec s = {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_UDP,
			  .saddr = client, .daddr = VIP, .sport = sport,
			  .dport = 80, .tcp_flags = flags,
			  .payload = "0123456789abcdef"};
	struct frame f;

	s.proto = IPPROTO_TCP;
	memcpy(s.dmac, node_mac, 6);
	build_frame(&f, &s);
	return f;
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
	struct dp_config c;
	struct dp *dp;
	char err[256];
	uint32_t v, empty, floor_x, floor_t, est_x, est_t, new_x, new_t;

	make_netns(node_mac, &ifindex);
	fl = floor__open_and_load();
	ps = pass__open_and_load();
	if (!fl || !ps) {
		perror("loading the floor programs");
		return 1;
	}
	dp_config_defaults(&c);
	c.ifname = "lbt0";
	c.node_ip = NODE;
	c.attach = false;
	if (dp_open(&c, &dp, err, sizeof(err)) ||
	    dp_sync(dp, &svc, 1, err, sizeof(err))) {
		fprintf(stderr, "data plane: %s\n", err);
		return 1;
	}
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
	free(fresh);
	dp_destroy(dp);
	floor__destroy(fl);
	pass__destroy(ps);
	return 0;
}
