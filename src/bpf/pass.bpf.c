/* pass.bpf.c: XDP_PASS and nothing else.  Two uses: the lab attaches it to
 * the switch end of each node's veth (a veth delivers frames that the
 * other end sends with XDP_TX only when this end runs XDP), and the
 * per-packet benchmark measures with it what a test run costs with no
 * program work at all. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
