/* run.h: runs a frame through a loaded BPF program (BPF_PROG_TEST_RUN, as
 * an XDP or a tc program) and shows where two frames differ.  For the
 * packet tests (cmocka). */
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
#include <cmocka.h>

#include "frames.h"

/* Runs frame `in` through program fd; returns its verdict and fills
 * `out`. */
static inline int prog_run(int fd, bool tc, int ifindex,
			   const struct frame *in, struct frame *out)
{
	/* XDP's context describes the data: it must end where the data does. */
	struct xdp_md xctx = {.data_end = (uint32_t)in->len,
			      .ingress_ifindex = (uint32_t)ifindex};
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
	}
	ret = bpf_prog_test_run_opts(fd, &o);
	if (ret)
		fail_msg("BPF_PROG_TEST_RUN on a %zu-byte frame: %s", in->len,
			 strerror(errno));
	out->len = o.data_size_out;
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

/* Builds in, runs it through program fd on ifindex, and fails the test
 * unless the verdict is `verdict` and, when want is not NULL, the output
 * is want's frame byte for byte.  Returns the output. */
static inline struct frame run_expect(int fd, bool tc, int ifindex,
				      const struct pspec *in, int verdict,
				      const struct pspec *want,
				      const char *what)
{
	struct frame f, got, w;
	int v;

	build_frame(&f, in);
	v = prog_run(fd, tc, ifindex, &f, &got);
	if (v != verdict)
		fail_msg("[%s] %s: verdict %d, want %d", tc ? "tc" : "xdp",
			 what, v, verdict);
	if (want) {
		build_frame(&w, want);
		if (frame_diff(&got, &w))
			fail_msg("[%s] %s: output frame differs",
				 tc ? "tc" : "xdp", what);
	}
	return got;
}

#endif
