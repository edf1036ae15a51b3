/* Packet tests of DSR mode (src/bpf/dsr.h): the LB node's option (the
 * wire format's test vector, byte for byte), its policies (too big, IP
 * options, fragments), its statelessness and its backend choice being the
 * same on every LB node; the worker's parse, strip, reverse translation,
 * forged-option drop and flow expiry.
 *
 * Crafted frames through BPF_PROG_TEST_RUN in a private network namespace
 * (netns.h); every expected frame is built from scratch (frames.h), and an
 * LB node's output is fed to the worker's input as the wire would.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <cmocka.h>

#include "dataplane/dp.h"
#include "frames.h"
#include "netns.h"
#include "run.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define NODE NETNS_NODE_IP
#define CLIENT NETNS_CLIENT
#define VIP IP(10, 0, 0, 1) /* the test vector */
#define VIP2 IP(198, 18, 0, 100)
#define VIP_COLD IP(198, 18, 0, 103)
#define POD_COLD IP(198, 19, 22, 5) /* its next hop: no neighbour entry */
#define POD1 IP(198, 19, 21, 5)
#define POD2 IP(198, 19, 21, 6)
#define CPORT NETNS_CLIENT_PORT
#define SYN 0x02
#define ACK 0x10

/* The wire format's test vector: VIP 10.0.0.1 port 80. */
static const uint8_t VECTOR[8] = {0x9a, 0x08, 0x50, 0x00,
				  0x01, 0x00, 0x00, 0x0a};
static const uint8_t GW_MAC[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t WORKER_MAC[6] = {2, 0, 0, 0, 0, 0x21};
static const uint8_t STRANGER_MAC[6] = {2, 0, 0, 0, 0, 0x66};
static uint8_t node_mac[6];
static int ifindex;

static const struct dp_backend one[] = {{POD1, 8080}};
static const struct dp_backend two[] = {{POD1, 8080}, {POD2, 8080}};
static const struct dp_backend two_rev[] = {{POD2, 8080}, {POD1, 8080}};
static const struct dp_backend cold[] = {{POD_COLD, 8080}};

static struct dp *open_dp(bool worker, const struct dp_backend *b)
{
	const struct dp_service svcs[] = {
		{VIP, 80, IPPROTO_TCP, false, one, 1},
		{VIP, 53, IPPROTO_UDP, false, one, 1},
		{VIP2, 80, IPPROTO_TCP, false, b, 2},
		{VIP_COLD, 80, IPPROTO_TCP, false, cold, 1},
	};
	struct dp_config c;

	netns_dp_config(&c);
	c.dsr = true;
	c.worker = worker;
	return open_or_fail(&c, svcs, 4);
}

/* What the LB node sends the worker for s: destination pod:port, source
 * untouched, MACs node -> worker, with the option when opt. */
static struct pspec to_pod(struct pspec s, uint32_t pod, uint16_t port,
			   const uint8_t *opt)
{
	s.daddr = pod;
	s.dport = port;
	s.ttl = 63; /* one hop */
	memcpy(s.smac, node_mac, 6);
	memcpy(s.dmac, WORKER_MAC, 6);
	if (opt) {
		s.opt = opt;
		s.optlen = 8;
	}
	return s;
}

static int lb_fd(struct dp *dp, bool tc)
{
	return dp_prog_fd(dp, tc);
}

static int sent(bool tc)
{
	return tc ? TC_ACT_REDIRECT : XDP_TX;
}

static int dropped(bool tc)
{
	return tc ? TC_ACT_SHOT : XDP_DROP;
}

/* The test vector, byte for byte, on a TCP SYN: the option right after
 * the 20-byte header; the client's address and port untouched. */
static void lb_vector(bool tc)
{
	struct dp *dp = open_dp(false, two);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP, 80, SYN);
	struct pspec out = to_pod(syn, POD1, 8080, VECTOR);
	struct frame got = run_expect(lb_fd(dp, tc), tc, ifindex, &syn,
				      sent(tc), &out, "a SYN to 10.0.0.1:80");

	/* Independently of frames.h: the header says 28 bytes, and the
	 * bytes are the vector's. */
	assert_int_equal(got.b[14], 0x47);
	assert_memory_equal(got.b + 14 + 20, VECTOR, sizeof(VECTOR));
	assert_int_equal(netns_counter(dp, LB_C_DSR_OPT), 1);
	dp_destroy(dp);
}

TEST_BOTH(lb_vector, xdp, tc, lb_vector)

/* UDP: every datagram carries the option; TCP after the SYN only has
 * its destination rewritten; IP options and fragments by policy; no flow
 * is tracked, no port taken. */
static void lb_policies(bool tc)
{
	static const uint8_t udp_vec[8] = {0x9a, 0x08, 0x35, 0x00,
					   0x01, 0x00, 0x00, 0x0a};
	struct dp *dp = open_dp(false, two);
	int fd = lb_fd(dp, tc);
	struct pspec udp = from_client(node_mac, IPPROTO_UDP, VIP, 53, 0);
	struct pspec ack = from_client(node_mac, IPPROTO_TCP, VIP, 80, ACK);
	struct pspec out, syn_opts, ack_opts, frag;

	ack.payload = "GET / HTTP/1.0\r\n\r\n";
	out = to_pod(udp, POD1, 8080, udp_vec);
	run_expect(fd, tc, ifindex, &udp, sent(tc), &out,
		   "a UDP datagram to VIP:53");
	run_expect(fd, tc, ifindex, &udp, sent(tc), &out,
		   "... and the next one too");
	out = to_pod(ack, POD1, 8080, NULL);
	run_expect(fd, tc, ifindex, &ack, sent(tc), &out,
		   "a TCP packet without SYN: destination only, no option");
	assert_int_equal(netns_counter(dp, LB_C_DSR_OPT), 2);
	assert_int_equal(netns_counter(dp, LB_C_DSR_FWD), 3);

	syn_opts = from_client(node_mac, IPPROTO_TCP, VIP, 80, SYN);
	syn_opts.optlen = 8;
	run_expect(fd, tc, ifindex, &syn_opts, dropped(tc), NULL,
		   "a SYN that already has IP options is dropped");
	assert_int_equal(netns_counter(dp, LB_C_DSR_DROP_IP_OPTIONS), 1);
	ack_opts = ack;
	ack_opts.optlen = 8;
	out = to_pod(ack_opts, POD1, 8080, NULL);
	run_expect(fd, tc, ifindex, &ack_opts, sent(tc), &out,
		   "a later TCP packet with IP options goes on, options kept");

	frag = udp;
	frag.frag = 0x2000;
	run_expect(fd, tc, ifindex, &frag, dropped(tc), NULL,
		   "a fragment to a VIP is dropped");
	assert_int_equal(netns_counter(dp, LB_C_DROP_FRAGMENT), 1);

	assert_int_equal(dp_flows(dp), 0);
	assert_int_equal(bpf_map_get_next_key(dp_map_fd(dp, "lb_snat"), NULL,
					      &(struct lb_snat_key){0}),
			 -ENOENT);
	assert_int_equal(netns_counter(dp, LB_C_FWD_NEW), 0);
	dp_destroy(dp);
}

TEST_BOTH(lb_policies, xdp, tc, lb_policies)

/* A backend whose next hop has no neighbour entry: XDP hands the SYN to
 * tc untouched; tc adds the option and sends it through neighbour
 * resolution, its MACs left for the kernel to fill. */
static void lb_cold_neighbour(bool tc)
{
	struct dp *dp = open_dp(false, two);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP_COLD, 80,
				       SYN);
	static const uint8_t opt[8] = {0x9a, 0x08, 0x50, 0x00,
				       0x67, 0, 0x12, 0xc6};
	struct pspec out = to_pod(syn, POD_COLD, 8080, opt);
	struct frame got;

	memcpy(out.smac, syn.smac, 6);
	memcpy(out.dmac, syn.dmac, 6);
	got = ingress_expect(dp, tc, ifindex, &syn, TC_ACT_REDIRECT, &out,
			     "a SYN to a VIP whose pod's node is not resolved");
	assert_int_equal(got.meta, tc ? 0 : LB_META_HANDOFF);
	assert_int_equal(netns_counter(dp, LB_C_RESOLVE), 1);
	assert_int_equal(netns_counter(dp, LB_C_TO_TC), tc ? 0 : 1);
	dp_destroy(dp);
}

TEST_BOTH(lb_cold_neighbour, xdp, tc, lb_cold_neighbour)

/* A datagram with no room left for the option gets an ICMP
 * fragmentation-needed from the VIP (MTU - 8, quoting the client's packet
 * to VIP:port); the next one, 8 bytes smaller, fits. */
static void lb_too_big(bool tc)
{
	static char big[1600], fits[1600];
	struct dp *dp = open_dp(false, two);
	int fd = lb_fd(dp, tc);
	struct pspec udp = from_client(node_mac, IPPROTO_UDP, VIP, 53, 0);
	struct pspec icmp = {0}, quoted, out;

	/* 20 + 8 + 1472 = 1500, the MTU: no room for 8 more bytes. */
	memset(big, 'x', 1472);
	udp.payload = big;
	quoted = udp;
	icmp = (struct pspec){.proto = IPPROTO_ICMP, .saddr = VIP,
			      .daddr = CLIENT, .icmp_type = 3,
			      .icmp_code = 4, .mtu = 1492, .inner = &quoted};
	memcpy(icmp.dmac, GW_MAC, 6);
	memcpy(icmp.smac, node_mac, 6);
	run_expect(fd, tc, ifindex, &udp, sent(tc), &icmp,
		   "a 1500-byte datagram: ICMP fragmentation needed, MTU 1492");
	assert_int_equal(netns_counter(dp, LB_C_DSR_TOO_BIG), 1);

	memset(fits, 'x', 1464);
	udp.payload = fits;
	out = to_pod(udp, POD1, 8080, (const uint8_t[]){0x9a, 0x08, 0x35, 0,
							 0x01, 0, 0, 0x0a});
	run_expect(fd, tc, ifindex, &udp, sent(tc), &out,
		   "a 1492-byte datagram fits with the option");
	dp_destroy(dp);
}

TEST_BOTH(lb_too_big, xdp, tc, lb_too_big)

/* Two LB nodes, their backends listed in other orders, send every flow
 * to the same pod: after a failover an established flow keeps its pod. */
static void test_same_backend_on_every_lb_node(void **state)
{
	struct dp *a = open_dp(false, two), *b = open_dp(false, two_rev);
	int seen[2] = {0};
	(void)state;

	for (uint16_t p = 0; p < 200; p++) {
		struct pspec s = from_client(node_mac, IPPROTO_TCP, VIP2, 80,
					     ACK);
		struct frame f, fa, fb;
		uint32_t pod;

		s.sport = (uint16_t)(20000 + p);
		build_frame(&f, &s);
		assert_int_equal(prog_run(dp_prog_fd(a, false), false, ifindex,
					  &f, &fa), XDP_TX);
		assert_int_equal(prog_run(dp_prog_fd(b, false), false, ifindex,
					  &f, &fb), XDP_TX);
		assert_false(frame_diff(&fa, &fb));
		pod = daddr_of(&fa);
		assert_true(pod == POD1 || pod == POD2);
		seen[pod == POD2]++;
	}
	assert_true(seen[0] > 40 && seen[1] > 40); /* both used */
	dp_destroy(a);
	dp_destroy(b);
}

/* ---- worker */

static struct dp *open_worker(void)
{
	struct dp *dp = open_dp(true, two);
	struct dp_peer lb = {.ip = NODE};

	memcpy(lb.mac, node_mac, 6);
	assert_int_equal(dp_set_peers(dp, &lb, 1), 0);
	return dp;
}

/* A reply from the pod, as the worker's egress sees it. */
static struct pspec from_pod(uint8_t proto, uint8_t flags)
{
	struct pspec s = {.proto = proto, .saddr = POD1, .daddr = CLIENT,
			  .sport = 8080, .dport = CPORT, .tcp_flags = flags,
			  .payload = "HTTP/1.0 200 OK\r\n"};

	memcpy(s.smac, WORKER_MAC, 6);
	memcpy(s.dmac, GW_MAC, 6);
	return s;
}

/* The LB node's output, on the worker: recorded, stripped, delivered;
 * the pod's replies leave from VIP:port. */
static void test_worker_parse_strip_reply(void **state)
{
	struct dp *lb = open_dp(false, two), *w = open_worker();
	int in = dp_worker_prog_fd(w, false), out = dp_worker_prog_fd(w, true);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP, 80, SYN);
	struct pspec plain = to_pod(syn, POD1, 8080, NULL), reply;
	struct frame wire, got, w_frame;
	struct lb_dsr v;
	(void)state;

	build_frame(&wire, &syn);
	assert_int_equal(prog_run(dp_prog_fd(lb, false), false, ifindex,
				  &wire, &got), XDP_TX);
	/* The LB node's output frame, as is, into the worker. */
	wire = got;
	assert_int_equal(prog_run(in, true, ifindex, &wire, &got), TC_ACT_OK);
	build_frame(&w_frame, &plain);
	assert_false(frame_diff(&got, &w_frame));
	assert_true(client_flow(w, IPPROTO_TCP, POD1, 8080, &v));
	assert_int_equal(v.vip, htonl(VIP));
	assert_int_equal(v.vport, htons(80));
	assert_int_equal(v.state, LB_CT_NEW);
	assert_int_equal(netns_counter(w, LB_C_DSR_IN), 1);

	reply = from_pod(IPPROTO_TCP, SYN | ACK);
	reply_from_vip(w, ifindex, &reply, VIP, 80,
		       "the pod's SYN-ACK leaves from VIP:80");
	assert_int_equal(netns_counter(w, LB_C_DSR_OUT), 1);

	/* A later packet without the option passes as it is. */
	plain.tcp_flags = ACK;
	run_expect(in, true, ifindex, &plain, TC_ACT_OK, &plain,
		   "a later packet without the option is delivered untouched");
	/* Replies of flows the option never announced are not touched. */
	reply.dport = CPORT + 1;
	run_expect(out, true, ifindex, &reply, TC_ACT_OK, &reply,
		   "a reply of an unknown flow leaves untouched");
	assert_int_equal(netns_counter(w, LB_C_DSR_OUT), 1);
	dp_destroy(lb);
	dp_destroy(w);
}

/* UDP: recorded from the datagram's option; the answer's checksum is
 * updated (and a checksum of 0, "none", stays 0). */
static void test_worker_udp(void **state)
{
	static const uint8_t udp_vec[8] = {0x9a, 0x08, 0x35, 0x00,
					   0x01, 0x00, 0x00, 0x0a};
	struct dp *w = open_worker();
	int in = dp_worker_prog_fd(w, false), out = dp_worker_prog_fd(w, true);
	struct pspec q = to_pod(from_client(node_mac, IPPROTO_UDP, VIP, 53, 0),
				POD1, 5353, udp_vec);
	struct pspec plain = q, reply = from_pod(IPPROTO_UDP, 0), want;
	struct lb_dsr v;
	(void)state;

	plain.opt = NULL;
	plain.optlen = 0;
	run_expect(in, true, ifindex, &q, TC_ACT_OK, &plain,
		   "a datagram with the option");
	assert_true(client_flow(w, IPPROTO_UDP, POD1, 5353, &v));
	reply.sport = 5353;
	want = reply;
	want.saddr = VIP;
	want.sport = 53;
	run_expect(out, true, ifindex, &reply, TC_ACT_OK, &want,
		   "the answer leaves from VIP:53");
	reply.udp_csum_off = want.udp_csum_off = 1;
	run_expect(out, true, ifindex, &reply, TC_ACT_OK, &want,
		   "an answer without checksum keeps checksum 0");
	dp_destroy(w);
}

/* The option from a host that is not an LB node: dropped, counted, and
 * nothing recorded (it cannot make a worker answer as a VIP). */
static void test_worker_forged_option(void **state)
{
	struct dp *w = open_worker();
	int in = dp_worker_prog_fd(w, false);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP, 80, SYN);
	struct pspec forged = to_pod(syn, POD1, 8080, VECTOR);
	struct lb_dsr v;
	(void)state;

	memcpy(forged.smac, STRANGER_MAC, 6);
	run_expect(in, true, ifindex, &forged, TC_ACT_SHOT, NULL,
		   "the option from another MAC");
	assert_int_equal(netns_counter(w, LB_C_DSR_DROP_FORGED), 1);
	assert_false(client_flow(w, IPPROTO_TCP, POD1, 8080, &v));
	/* The LB node that was a peer no longer is: its option goes too. */
	assert_int_equal(dp_set_peers(w, NULL, 0), 0);
	memcpy(forged.smac, node_mac, 6);
	run_expect(in, true, ifindex, &forged, TC_ACT_SHOT, NULL,
		   "the option from a former LB node");
	assert_int_equal(netns_counter(w, LB_C_DSR_DROP_FORGED), 2);
	dp_destroy(w);
}

/* Flows expire as the LB node's conntrack does: an unanswered SYN after
 * 60 s, an established flow not then. */
static void test_worker_expiry(void **state)
{
	struct dp *w = open_worker();
	int in = dp_worker_prog_fd(w, false), out = dp_worker_prog_fd(w, true);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP, 80, SYN);
	struct pspec a = to_pod(syn, POD1, 8080, VECTOR);
	struct pspec b = a, reply = from_pod(IPPROTO_TCP, SYN | ACK);
	struct frame f, got;
	(void)state;

	b.sport = CPORT + 1;
	build_frame(&f, &a);
	assert_int_equal(prog_run(in, true, ifindex, &f, &got), TC_ACT_OK);
	build_frame(&f, &b);
	assert_int_equal(prog_run(in, true, ifindex, &f, &got), TC_ACT_OK);
	build_frame(&f, &reply); /* answers a only */
	assert_int_equal(prog_run(out, true, ifindex, &f, &got), TC_ACT_OK);
	expect_syn_expiry(w, 2, 1);
	dp_destroy(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lb_vector_xdp),
		cmocka_unit_test(test_lb_vector_tc),
		cmocka_unit_test(test_lb_policies_xdp),
		cmocka_unit_test(test_lb_policies_tc),
		cmocka_unit_test(test_lb_too_big_xdp),
		cmocka_unit_test(test_lb_too_big_tc),
		cmocka_unit_test(test_lb_cold_neighbour_xdp),
		cmocka_unit_test(test_lb_cold_neighbour_tc),
		cmocka_unit_test(test_same_backend_on_every_lb_node),
		cmocka_unit_test(test_worker_parse_strip_reply),
		cmocka_unit_test(test_worker_udp),
		cmocka_unit_test(test_worker_forged_option),
		cmocka_unit_test(test_worker_expiry),
	};

	make_netns(node_mac, &ifindex);
	return cmocka_run_group_tests_name("packet dsr", tests, NULL, NULL);
}
