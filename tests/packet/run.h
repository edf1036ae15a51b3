/* run.h: runs a frame through a loaded BPF program (BPF_PROG_TEST_RUN, as
 * an XDP or a tc program) and shows where two frames differ; opens the
 * tests' data planes, checks a pod's reply through the egress program and
 * the expiry of unanswered SYNs, and defines tests that run one body
 * twice.  For the packet tests (cmocka). */
#ifndef BMLB_TESTS_RUN_H
#define BMLB_TESTS_RUN_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <cmocka.h>

#include "frames.h"
#include "netns.h"

/* Runs frame `in` through program fd; returns its verdict and fills
 * `out` (an XDP program's metadata apart, in out->meta). */
static inline int prog_run(int fd, bool tc, int ifindex,
			   const struct frame *in, struct frame *out)
{
	/* XDP's context describes the data: it must end where the data does. */
	struct xdp_md xctx = {.data_end = (uint32_t)in->len,
			      .ingress_ifindex = (uint32_t)ifindex}, xout;
	struct __sk_buff sctx = {.ifindex = (uint32_t)ifindex,
				 .ingress_ifindex = (uint32_t)ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b,
		    .data_size_in = (uint32_t)in->len, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .repeat = 1);
	int ret;

	if (tc) {
		o.ctx_in = &sctx;
		o.ctx_size_in = sizeof(sctx);
	} else {
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
		o.ctx_out = &xout;
		o.ctx_size_out = sizeof(xout);
	}
	ret = bpf_prog_test_run_opts(fd, &o);
	if (ret)
		fail_msg("BPF_PROG_TEST_RUN on a %zu-byte frame: %s", in->len,
			 strerror(errno));
	out->len = o.data_size_out;
	out->meta = 0;
	/* The output starts with the metadata; the context says where the
	 * frame begins. */
	if (!tc && xout.data) {
		if (xout.data == sizeof(out->meta))
			memcpy(&out->meta, out->b, sizeof(out->meta));
		out->len -= xout.data;
		memmove(out->b, out->b + xout.data, out->len);
	}
	return (int)o.retval;
}

/* Prints every byte where got and want differ; true when they do. */
static inline bool frame_diff(const struct frame *got,
			      const struct frame *want)
{
	size_t n = got->len > want->len ? got->len : want->len;

	if (got->len == want->len && !memcmp(got->b, want->b, got->len))
		return false;
	for (size_t i = 0; i < n; i++) {
		int g = i < got->len ? got->b[i] : -1;
		int w = i < want->len ? want->b[i] : -1;

		if (g != w)
			fprintf(stderr, "  byte %zu: got %02x want %02x\n", i,
				g & 0xff, w & 0xff);
	}
	return true;
}

/* Runs frame `in` through dp's ingress as the node runs it: with --hook
 * tc the tc entry alone; else XDP, then the tc entry on what XDP hands off
 * (untouched: src/bpf/hop.h), whose verdict and output are returned then,
 * out->meta still saying LB_META_HANDOFF. */
static inline int ingress_run(struct dp *dp, bool tc, int ifindex,
			      const struct frame *in, struct frame *out)
{
	int v = prog_run(dp_prog_fd(dp, tc), tc, ifindex, in, out);

	if (tc || v != XDP_PASS || out->meta != LB_META_HANDOFF)
		return v;
	if (out->len != in->len || memcmp(out->b, in->b, in->len))
		fail_msg("XDP handed a changed frame to tc");
	v = prog_run(dp_prog_fd(dp, true), true, ifindex, in, out);
	out->meta = LB_META_HANDOFF;
	return v;
}

/* Fails the test unless verdict v is `verdict` and, when want is not
 * NULL, frame got is want's byte for byte. */
static inline void expect_frame(int v, const struct frame *got, bool tc,
				int verdict, const struct pspec *want,
				const char *what)
{
	struct frame w;

	if (v != verdict)
		fail_msg("[%s] %s: verdict %d, want %d", tc ? "tc" : "xdp",
			 what, v, verdict);
	if (want) {
		build_frame(&w, want);
		if (frame_diff(got, &w))
			fail_msg("[%s] %s: output frame differs",
				 tc ? "tc" : "xdp", what);
	}
}

/* Builds in, runs it through dp's ingress (ingress_run) and checks the
 * result (expect_frame).  Returns the output. */
static inline struct frame ingress_expect(struct dp *dp, bool tc, int ifindex,
					  const struct pspec *in, int verdict,
					  const struct pspec *want,
					  const char *what)
{
	struct frame f, got;

	build_frame(&f, in);
	expect_frame(ingress_run(dp, tc, ifindex, &f, &got), &got, tc,
		     verdict, want, what);
	return got;
}

/* Builds in, runs it through program fd on ifindex, and fails the test
 * unless the verdict is `verdict` and, when want is not NULL, the output
 * is want's frame byte for byte.  Returns the output. */
static inline struct frame run_expect(int fd, bool tc, int ifindex,
				      const struct pspec *in, int verdict,
				      const struct pspec *want,
				      const char *what)
{
	struct frame f, got;

	build_frame(&f, in);
	expect_frame(prog_run(fd, tc, ifindex, &f, &got), &got, tc, verdict,
		     want, what);
	return got;
}

/* Defines the tests test_<name>_<a> and test_<name>_<b>, running fn(false)
 * and fn(true): one body through the XDP and the tc entry, or in SNAT and
 * DSR mode. */
#define TEST_BOTH(name, a, b, fn)                                            \
	static void test_##name##_##a(void **state)                          \
	{                                                                    \
		(void)state;                                                 \
		fn(false);                                                   \
	}                                                                    \
	static void test_##name##_##b(void **state)                          \
	{                                                                    \
		(void)state;                                                 \
		fn(true);                                                    \
	}

/* Runs the pod's reply (to the client) through dp's egress program on
 * ifindex: it must leave from vip:vport, and the recorded flow it answers
 * be answered (the client's next packet confirms it). */
static inline void reply_from_vip(struct dp *dp, int ifindex,
				  const struct pspec *reply, uint32_t vip,
				  uint16_t vport, const char *what)
{
	struct pspec want = *reply;
	struct lb_dsr v;

	want.saddr = vip;
	want.sport = vport;
	run_expect(dp_worker_prog_fd(dp, true), true, ifindex, reply,
		   TC_ACT_OK, &want, what);
	assert_true(client_flow(dp, reply->proto, reply->saddr, reply->sport,
				&v));
	assert_int_equal(v.state, LB_CT_ANSWERED);
}

/* dp holds `flows` flows, `unanswered` of them never confirmed (a SYN,
 * answered or not, and nothing from the client since): a sweep now
 * removes none, one 61 s later (past their timeout) those. */
static inline void expect_syn_expiry(struct dp *dp, int flows, int unanswered)
{
	uint64_t now;

	assert_int_equal(dp_flows(dp), flows);
	now = mono_ns();
	assert_int_equal(dp_gc(dp, now), 0);
	assert_int_equal(dp_gc(dp, now + 61ull * 1000000000ull), unanswered);
	assert_int_equal(dp_flows(dp), flows - unanswered);
}

/* Opens the data plane c describes with the n services (netns_dp_open);
 * fails the test when it cannot. */
static inline struct dp *open_or_fail(const struct dp_config *c,
				      const struct dp_service *svcs, size_t n)
{
	char err[512];
	struct dp *dp = netns_dp_open(c, svcs, n, err, sizeof(err));

	if (!dp)
		fail_msg("%s", err);
	return dp;
}

#endif
