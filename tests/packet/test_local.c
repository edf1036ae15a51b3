/* Packet tests of externalTrafficPolicy Local (src/bpf/local.h), in SNAT
 * and DSR mode, XDP and tc: only the destination is rewritten (no option,
 * no SNAT port, no conntrack entry), the flow is recorded for the reply,
 * a TCP packet without SYN takes the same pod, and the egress program
 * gives the pod's reply the VIP's address.  A Cluster service on the same
 * data plane keeps its own path.
 *
 * The "local pod" sits behind lbt2 in the namespace (netns.h), as a pod
 * sits behind the node's bridge: XDP hands the packet to the kernel, tc
 * redirects it there.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/bpf.h>
#include <cmocka.h>

#include "dataplane/dp.h"
#include "frames.h"
#include "netns.h"
#include "run.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define NODE IP(198, 18, 0, 11)
#define CLIENT IP(203, 0, 113, 10)
#define VIP IP(198, 18, 0, 100)
#define VIP2 IP(198, 18, 0, 101)
#define POD1 IP(198, 19, 99, 5) /* "on this node": behind lbt2 */
#define POD2 IP(198, 19, 99, 6)
#define CPORT 40000
#define SYN 0x02
#define ACK 0x10

static const uint8_t GW_MAC[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t LBT2_NEXT[6] = {2, 0, 0, 0, 0, 2};
static uint8_t node_mac[6], lbt2_mac[6];
static int ifindex;

static const struct dp_backend pods[] = {{POD1, 8080}, {POD2, 8080}};
static const struct dp_backend one[] = {{POD1, 8080}};

static struct dp *open_dp(bool dsr)
{
	const struct dp_service svcs[] = {
		{VIP, 80, IPPROTO_TCP, true, pods, 2},
		{VIP, 53, IPPROTO_UDP, true, one, 1},
		{VIP2, 80, IPPROTO_TCP, false, one, 1},
		{VIP2, 81, IPPROTO_TCP, true, NULL, 0},
	};
	struct dp_config c;
	struct dp *dp;
	char err[256];

	dp_config_defaults(&c);
	c.ifname = "lbt0";
	c.node_ip = NODE;
	c.attach = false;
	c.dsr = dsr;
	if (dp_open(&c, &dp, err, sizeof(err)))
		fail_msg("dp_open: %s", err);
	if (dp_sync(dp, svcs, 4, err, sizeof(err)))
		fail_msg("dp_sync: %s", err);
	return dp;
}

static uint64_t counter(struct dp *dp, enum lb_counter c)
{
	uint64_t v[LB_C_MAX];

	dp_counters(dp, v);
	return v[c];
}

static struct pspec from_client(uint8_t proto, uint32_t vip, uint16_t port,
				uint8_t flags)
{
	struct pspec s = {.proto = proto, .saddr = CLIENT, .daddr = vip,
			  .sport = CPORT, .dport = port, .tcp_flags = flags,
			  .payload = proto == IPPROTO_UDP ? "query" : NULL};

	memcpy(s.dmac, node_mac, 6);
	memcpy(s.smac, GW_MAC, 6);
	return s;
}

/* What reaches the local pod: destination pod:port, source untouched.
 * XDP hands the frame to the kernel unchanged but for that; tc sends it
 * to the pod's side with the route's MACs. */
static struct pspec to_pod(struct pspec s, uint32_t pod, uint16_t port,
			   bool tc)
{
	s.daddr = pod;
	s.dport = port;
	if (tc) {
		memcpy(s.smac, lbt2_mac, 6);
		memcpy(s.dmac, LBT2_NEXT, 6);
	}
	return s;
}

static struct frame expect(int fd, bool tc, const struct pspec *in,
			   int verdict, const struct pspec *want,
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

static int delivered(bool tc)
{
	return tc ? TC_ACT_REDIRECT : XDP_PASS;
}

static bool local_flow(struct dp *dp, uint8_t proto, uint32_t pod,
		       uint16_t pport, struct lb_dsr *v)
{
	struct lb_flow k = {.saddr = htonl(CLIENT), .daddr = htonl(pod),
			    .sport = htons(CPORT), .dport = htons(pport),
			    .proto = proto};

	return !bpf_map_lookup_elem(dp_map_fd(dp, "lb_dsr"), &k, v);
}

/* The pod a delivered frame goes to. */
static uint32_t pod_of(const struct frame *f)
{
	return (uint32_t)f->b[14 + 16] << 24 | f->b[14 + 17] << 16 |
	       f->b[14 + 18] << 8 | f->b[14 + 19];
}

/* SYN, then a later packet without SYN, then UDP: destination only,
 * flow recorded, nothing tracked, no option; the reply leaves from
 * VIP:port through the egress program. */
static void local_path(bool dsr, bool tc)
{
	struct dp *dp = open_dp(dsr);
	int fd = dp_prog_fd(dp, tc), out = dp_worker_prog_fd(dp, true);
	struct pspec syn = from_client(IPPROTO_TCP, VIP, 80, SYN);
	struct pspec ack = from_client(IPPROTO_TCP, VIP, 80, ACK);
	struct pspec udp = from_client(IPPROTO_UDP, VIP, 53, 0);
	struct pspec want, reply, rwant;
	struct frame got;
	struct lb_dsr v;
	uint32_t pod;

	got = expect(fd, tc, &syn, delivered(tc), NULL, "a SYN to VIP:80");
	pod = pod_of(&got);
	assert_true(pod == POD1 || pod == POD2);
	want = to_pod(syn, pod, 8080, tc);
	expect(fd, tc, &syn, delivered(tc), &want,
	       "... rewritten to a local pod, source kept, no option");
	assert_true(local_flow(dp, IPPROTO_TCP, pod, 8080, &v));
	assert_int_equal(v.vip, htonl(VIP));
	assert_int_equal(v.vport, htons(80));
	assert_int_equal(v.state, LB_CT_NEW);

	ack.payload = "GET / HTTP/1.0\r\n\r\n";
	want = to_pod(ack, pod, 8080, tc);
	expect(fd, tc, &ack, delivered(tc), &want,
	       "a packet without SYN goes to the same pod");

	reply = (struct pspec){.proto = IPPROTO_TCP, .saddr = pod,
			       .daddr = CLIENT, .sport = 8080, .dport = CPORT,
			       .tcp_flags = SYN | ACK, .payload = "ok"};
	memcpy(reply.smac, node_mac, 6);
	memcpy(reply.dmac, GW_MAC, 6);
	rwant = reply;
	rwant.saddr = VIP;
	rwant.sport = 80;
	expect(out, true, &reply, TC_ACT_OK, &rwant,
	       "the pod's reply leaves from VIP:80");
	assert_true(local_flow(dp, IPPROTO_TCP, pod, 8080, &v));
	assert_int_equal(v.state, LB_CT_ESTABLISHED);
	assert_int_equal(counter(dp, LB_C_DSR_OUT), 1);

	want = to_pod(udp, POD1, 8080, tc);
	expect(fd, tc, &udp, delivered(tc), &want,
	       "a UDP datagram to a Local VIP:53");
	assert_true(local_flow(dp, IPPROTO_UDP, POD1, 8080, &v));

	assert_int_equal(counter(dp, LB_C_LOCAL), 4);
	assert_int_equal(counter(dp, LB_C_FWD_NEW), 0);
	assert_int_equal(counter(dp, LB_C_DSR_FWD), 0);
	assert_int_equal(counter(dp, LB_C_DSR_OPT), 0);
	assert_int_equal(bpf_map_get_next_key(dp_map_fd(dp, "lb_snat"), NULL,
					      &(struct lb_snat_key){0}),
			 -ENOENT);
	assert_int_equal(dp_flows(dp), 2); /* the two recorded, no ct */

	expect(fd, tc, &syn, delivered(tc), NULL, "the same SYN again");
	assert_int_equal(dp_flows(dp), 2);
	dp_destroy(dp);
}

static void test_local_snat_xdp(void **state)
{
	(void)state;
	local_path(false, false);
}

static void test_local_snat_tc(void **state)
{
	(void)state;
	local_path(false, true);
}

static void test_local_dsr_xdp(void **state)
{
	(void)state;
	local_path(true, false);
}

static void test_local_dsr_tc(void **state)
{
	(void)state;
	local_path(true, true);
}

/* A Local service with no endpoint on this node drops (nothing to send it
 * to, and no other node's pod may get it); a Cluster service beside it
 * keeps the mode's path (SNAT: both addresses; DSR: the option). */
static void local_beside_cluster(bool dsr)
{
	struct dp *dp = open_dp(dsr);
	int fd = dp_prog_fd(dp, false);
	struct pspec none = from_client(IPPROTO_TCP, VIP2, 81, SYN);
	struct pspec cluster = from_client(IPPROTO_TCP, VIP2, 80, SYN);
	struct frame f, got;

	expect(fd, false, &none, XDP_DROP, NULL,
	       "a SYN to a Local service without a local endpoint");
	assert_int_equal(counter(dp, LB_C_DROP_NO_BACKEND), 1);
	build_frame(&f, &cluster);
	prog_run(fd, false, ifindex, &f, &got);
	assert_int_equal(counter(dp, dsr ? LB_C_DSR_OPT : LB_C_FWD_NEW), 1);
	assert_int_equal(counter(dp, LB_C_LOCAL), 0);
	dp_destroy(dp);
}

static void test_local_beside_cluster_snat(void **state)
{
	(void)state;
	local_beside_cluster(false);
}

static void test_local_beside_cluster_dsr(void **state)
{
	(void)state;
	local_beside_cluster(true);
}

/* Recorded flows expire like the others (swept by the agent). */
static void test_local_expiry(void **state)
{
	struct dp *dp = open_dp(false);
	struct pspec syn = from_client(IPPROTO_TCP, VIP, 80, SYN);
	struct frame f, got;
	struct timespec ts;
	uint64_t now;
	(void)state;

	build_frame(&f, &syn);
	assert_int_equal(prog_run(dp_prog_fd(dp, false), false, ifindex, &f,
				  &got), XDP_PASS);
	assert_int_equal(dp_flows(dp), 1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	assert_int_equal(dp_gc(dp, now), 0);
	assert_int_equal(dp_gc(dp, now + 61ull * 1000000000ull), 1);
	assert_int_equal(dp_flows(dp), 0);
	dp_destroy(dp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_snat_xdp),
		cmocka_unit_test(test_local_snat_tc),
		cmocka_unit_test(test_local_dsr_xdp),
		cmocka_unit_test(test_local_dsr_tc),
		cmocka_unit_test(test_local_beside_cluster_snat),
		cmocka_unit_test(test_local_beside_cluster_dsr),
		cmocka_unit_test(test_local_expiry),
	};

	make_netns(node_mac, &ifindex);
	mac_of("lbt2", lbt2_mac);
	return cmocka_run_group_tests_name("packet local", tests, NULL, NULL);
}
