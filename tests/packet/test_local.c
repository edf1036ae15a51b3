/* Packet tests of externalTrafficPolicy Local (src/bpf/local.h), in SNAT
 * and DSR mode, XDP and tc: only the destination is rewritten (no option,
 * no SNAT port, no conntrack entry), the flow is recorded for the reply,
 * a TCP packet without SYN takes the same pod (one of no recorded flow
 * passes, recording nothing), and the egress program
 * gives the pod's reply the VIP's address.  A Cluster service on the same
 * data plane keeps its own path, unless its pod runs here.  NodePorts
 * (entries on the node's own address): Cluster translated both ways in
 * either mode, Local delivered with the client's address, and the node's
 * own traffic, fragments and ICMP to it passing untouched.
 *
 * The "local pod" sits behind lbt2 in the namespace (netns.h), as a pod
 * sits behind the node's bridge: XDP hands the packet, untouched, to the
 * tc entry, which rewrites it and redirects it there (ingress_run runs
 * both, as the node does).
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
#define VIP IP(198, 18, 0, 100)
#define VIP2 IP(198, 18, 0, 101)
#define POD1 IP(198, 19, 99, 5) /* "on this node": behind lbt2 */
#define POD2 IP(198, 19, 99, 6)
#define WPOD IP(198, 19, 21, 5) /* on a worker: via 198.18.0.21 */
#define CPORT NETNS_CLIENT_PORT
#define SYN 0x02
#define ACK 0x10

static const uint8_t GW_MAC[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t LBT2_NEXT[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t WORKER_MAC[6] = {2, 0, 0, 0, 0, 0x21};
static uint8_t node_mac[6], lbt2_mac[6];
static int ifindex;

static const struct dp_backend pods[] = {{POD1, 8080}, {POD2, 8080}};
static const struct dp_backend one[] = {{POD1, 8080}};
static const struct dp_backend remote[] = {{WPOD, 8080}};

static struct dp *open_dp(bool dsr)
{
	const struct dp_service svcs[] = {
		{VIP, 80, IPPROTO_TCP, true, pods, 2},
		{VIP, 53, IPPROTO_UDP, true, one, 1},
		{VIP2, 80, IPPROTO_TCP, false, remote, 1},
		{VIP2, 81, IPPROTO_TCP, true, NULL, 0},
		{VIP2, 82, IPPROTO_TCP, false, one, 1},
		{NODE, 30080, IPPROTO_TCP, false, remote, 1},
		{NODE, 30081, IPPROTO_TCP, true, one, 1},
	};
	struct dp_config c;

	netns_dp_config(&c);
	c.pod_net = IP(198, 19, 99, 0); /* POD1, POD2: this node's pods */
	c.pod_prefix = 24;
	c.dsr = dsr;
	return open_or_fail(&c, svcs, sizeof(svcs) / sizeof(svcs[0]));
}

/* What reaches the local pod: destination pod:port, source untouched,
 * sent to the pod's side with the route's MACs. */
static struct pspec to_pod(struct pspec s, uint32_t pod, uint16_t port)
{
	s.daddr = pod;
	s.dport = port;
	s.ttl = 63; /* one hop */
	memcpy(s.smac, lbt2_mac, 6);
	memcpy(s.dmac, LBT2_NEXT, 6);
	return s;
}

/* Whether lb_dsr holds the TCP flow from the client's port sport to
 * pod:8080. */
static bool client_flow_from(struct dp *dp, uint16_t sport, uint32_t pod)
{
	struct lb_flow k = {.saddr = htonl(CLIENT), .daddr = htonl(pod),
			    .sport = htons(sport), .dport = htons(8080),
			    .proto = IPPROTO_TCP};
	struct lb_dsr v;

	return !bpf_map_lookup_elem(dp_map_fd(dp, "lb_dsr"), &k, &v);
}

/* SYN, then a later packet without SYN, then UDP: destination only,
 * flow recorded, nothing tracked, no option; the reply leaves from
 * VIP:port through the egress program. */
static void local_path(bool dsr, bool tc)
{
	struct dp *dp = open_dp(dsr);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP, 80, SYN);
	struct pspec ack = from_client(node_mac, IPPROTO_TCP, VIP, 80, ACK);
	struct pspec udp = from_client(node_mac, IPPROTO_UDP, VIP, 53, 0);
	struct pspec want, reply, stray;
	struct frame got;
	struct lb_dsr v;
	uint32_t pod;

	got = ingress_expect(dp, tc, ifindex, &syn, TC_ACT_REDIRECT, NULL,
			 "a SYN to VIP:80");
	pod = daddr_of(&got); /* the pod it goes to */
	assert_true(pod == POD1 || pod == POD2);
	want = to_pod(syn, pod, 8080);
	ingress_expect(dp, tc, ifindex, &syn, TC_ACT_REDIRECT, &want,
		   "... rewritten to a local pod, source kept, no option");
	assert_true(client_flow(dp, IPPROTO_TCP, pod, 8080, &v));
	assert_int_equal(v.vip, htonl(VIP));
	assert_int_equal(v.vport, htons(80));
	assert_int_equal(v.state, LB_CT_NEW);

	ack.payload = "GET / HTTP/1.0\r\n\r\n";
	want = to_pod(ack, pod, 8080);
	ingress_expect(dp, tc, ifindex, &ack, TC_ACT_REDIRECT, &want,
		   "a packet without SYN goes to the same pod");
	stray = ack;
	stray.sport = CPORT + 9;
	ingress_expect(dp, tc, ifindex, &stray, tc ? TC_ACT_OK : XDP_PASS,
		       &stray, "... but one of no recorded flow passes");
	assert_false(client_flow_from(dp, CPORT + 9, POD1));
	assert_false(client_flow_from(dp, CPORT + 9, POD2));

	reply = (struct pspec){.proto = IPPROTO_TCP, .saddr = pod,
			       .daddr = CLIENT, .sport = 8080, .dport = CPORT,
			       .tcp_flags = SYN | ACK, .payload = "ok"};
	memcpy(reply.smac, node_mac, 6);
	memcpy(reply.dmac, GW_MAC, 6);
	reply_from_vip(dp, ifindex, &reply, VIP, 80,
		       "the pod's reply leaves from VIP:80");
	assert_int_equal(netns_counter(dp, LB_C_DSR_OUT), 1);

	want = to_pod(udp, POD1, 8080);
	ingress_expect(dp, tc, ifindex, &udp, TC_ACT_REDIRECT, &want,
		   "a UDP datagram to a Local VIP:53");
	assert_true(client_flow(dp, IPPROTO_UDP, POD1, 8080, &v));

	assert_int_equal(netns_counter(dp, LB_C_LOCAL), 4);
	assert_int_equal(netns_counter(dp, LB_C_FWD_NEW), 0);
	assert_int_equal(netns_counter(dp, LB_C_DSR_FWD), 0);
	assert_int_equal(netns_counter(dp, LB_C_DSR_OPT), 0);
	assert_int_equal(bpf_map_get_next_key(dp_map_fd(dp, "lb_snat"), NULL,
					      &(struct lb_snat_key){0}),
			 -ENOENT);
	assert_int_equal(dp_flows(dp), 2); /* the two recorded, no ct */

	ingress_expect(dp, tc, ifindex, &syn, TC_ACT_REDIRECT, NULL,
		   "the same SYN again");
	assert_int_equal(dp_flows(dp), 2);
	dp_destroy(dp);
}

static void local_snat(bool tc)
{
	local_path(false, tc);
}

static void local_dsr(bool tc)
{
	local_path(true, tc);
}

TEST_BOTH(local_snat, xdp, tc, local_snat)
TEST_BOTH(local_dsr, xdp, tc, local_dsr)

/* A Local service with no endpoint on this node drops (nothing to send it
 * to, and no other node's pod may get it); a Cluster service beside it
 * keeps the mode's path (SNAT: both addresses; DSR: the option). */
static void local_beside_cluster(bool dsr)
{
	struct dp *dp = open_dp(dsr);
	int fd = dp_prog_fd(dp, false);
	struct pspec none = from_client(node_mac, IPPROTO_TCP, VIP2, 81, SYN);
	struct pspec cluster = from_client(node_mac, IPPROTO_TCP, VIP2, 80,
					   SYN);
	struct frame f, got;

	run_expect(fd, false, ifindex, &none, XDP_DROP, NULL,
		   "a SYN to a Local service without a local endpoint");
	assert_int_equal(netns_counter(dp, LB_C_DROP_NO_BACKEND), 1);
	build_frame(&f, &cluster);
	prog_run(fd, false, ifindex, &f, &got);
	assert_int_equal(netns_counter(dp, dsr ? LB_C_DSR_OPT : LB_C_FWD_NEW),
			 1);
	assert_int_equal(netns_counter(dp, LB_C_LOCAL), 0);
	dp_destroy(dp);
}

TEST_BOTH(local_beside_cluster, snat, dsr, local_beside_cluster)

/* A Cluster service's flow to a pod of this node is delivered the Local
 * way in either mode (translated, the pod's reply would reach the node's
 * kernel through its bridge, not this program): destination only, flow
 * recorded, a later packet without SYN forwarded too. */
static void cluster_pod_here(bool dsr)
{
	struct dp *dp = open_dp(dsr);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP2, 82, SYN);
	struct pspec ack = from_client(node_mac, IPPROTO_TCP, VIP2, 82, ACK);
	struct pspec want = to_pod(syn, POD1, 8080);
	struct lb_dsr v;

	ingress_expect(dp, false, ifindex, &syn, TC_ACT_REDIRECT, &want,
		       "a SYN to a Cluster service whose pod runs here");
	assert_true(client_flow(dp, IPPROTO_TCP, POD1, 8080, &v));
	assert_int_equal(v.vport, htons(82));
	want = to_pod(ack, POD1, 8080);
	ingress_expect(dp, false, ifindex, &ack, TC_ACT_REDIRECT, &want,
		       "... its next packet, without SYN, too");
	assert_int_equal(netns_counter(dp, LB_C_LOCAL), 2);
	assert_int_equal(netns_counter(dp, LB_C_FWD_NEW), 0);
	assert_int_equal(netns_counter(dp, LB_C_DSR_OPT), 0);
	dp_destroy(dp);
}

TEST_BOTH(cluster_pod_here, snat, dsr, cluster_pod_here)

/* Recorded flows expire like the others (swept by the agent). */
static void test_local_expiry(void **state)
{
	struct dp *dp = open_dp(false);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP, 80, SYN);
	struct frame f, got;
	(void)state;

	build_frame(&f, &syn);
	assert_int_equal(ingress_run(dp, false, ifindex, &f, &got),
			 TC_ACT_REDIRECT);
	expect_syn_expiry(dp, 1, 1);
	dp_destroy(dp);
}

/* ---- NodePort */

/* Cluster: both addresses translated (the node's address and a SNAT
 * port toward the pod), in DSR mode too; the pod's reply back to the
 * client from NODE:30080. */
static void nodeport_cluster(bool dsr)
{
	struct dp *dp = open_dp(dsr);
	int fd = dp_prog_fd(dp, false);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, NODE, 30080, SYN);
	struct pspec want = syn, reply, rwant;
	struct frame got;
	uint16_t sport;

	got = run_expect(fd, false, ifindex, &syn, XDP_TX, NULL,
			 "a SYN to NODE:30080");
	sport = (uint16_t)(got.b[14 + 20] << 8 | got.b[14 + 21]);
	assert_true(sport >= DP_SNAT_MIN_DEFAULT &&
		    sport <= DP_SNAT_MAX_DEFAULT);
	want.ttl = 63;
	want.saddr = NODE;
	want.sport = sport;
	want.daddr = WPOD;
	want.dport = 8080;
	memcpy(want.smac, node_mac, 6);
	memcpy(want.dmac, WORKER_MAC, 6);
	run_expect(fd, false, ifindex, &syn, XDP_TX, &want,
		   "... translated to NODE:port -> the pod, no option");
	assert_int_equal(netns_counter(dp, LB_C_FWD_NEW), 1);
	assert_int_equal(netns_counter(dp, LB_C_DSR_OPT), 0);

	reply = (struct pspec){.proto = IPPROTO_TCP, .saddr = WPOD,
			       .daddr = NODE, .sport = 8080, .dport = sport,
			       .tcp_flags = SYN | ACK};
	memcpy(reply.smac, WORKER_MAC, 6);
	memcpy(reply.dmac, node_mac, 6);
	rwant = reply;
	rwant.ttl = 63;
	rwant.saddr = NODE;
	rwant.sport = 30080;
	rwant.daddr = CLIENT;
	rwant.dport = CPORT;
	memcpy(rwant.smac, node_mac, 6);
	memcpy(rwant.dmac, GW_MAC, 6);
	run_expect(fd, false, ifindex, &reply, XDP_TX, &rwant,
		   "the pod's reply leaves from NODE:30080 to the client");
	assert_int_equal(netns_counter(dp, LB_C_REPLY), 1);
	dp_destroy(dp);
}

TEST_BOTH(nodeport_cluster, snat, dsr, nodeport_cluster)

/* Local: to this node's pod, the client's address kept; the node's own
 * traffic (another port, a SNAT port with no binding), fragments and ICMP
 * to its address pass untouched; the node's address is no VIP. */
static void nodeport_local_and_own(bool tc)
{
	struct dp *dp = open_dp(false);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, NODE, 30081, SYN);
	struct pspec want = to_pod(syn, POD1, 8080);
	struct pspec ssh = from_client(node_mac, IPPROTO_TCP, NODE, 22, SYN);
	struct pspec snat = from_client(node_mac, IPPROTO_TCP, NODE, 20000,
					ACK);
	struct pspec frag = from_client(node_mac, IPPROTO_UDP, NODE, 30080, 0);
	struct pspec quoted = {.proto = IPPROTO_UDP, .saddr = NODE,
			       .daddr = CLIENT, .sport = 5000, .dport = 53};
	struct pspec icmp = from_client(node_mac, IPPROTO_ICMP, NODE, 0, 0);
	uint32_t n = 0, nip = htonl(NODE);
	struct lb_dsr v;

	ingress_expect(dp, tc, ifindex, &syn, TC_ACT_REDIRECT, &want,
		   "a SYN to NODE:30081 (Local) goes to this node's pod");
	assert_true(client_flow(dp, IPPROTO_TCP, POD1, 8080, &v));
	assert_int_equal(v.vip, htonl(NODE));
	assert_int_equal(v.vport, htons(30081));

	ingress_expect(dp, tc, ifindex, &ssh, tc ? TC_ACT_OK : XDP_PASS, &ssh,
		   "the node's own traffic to another port passes untouched");
	ingress_expect(dp, tc, ifindex, &snat, tc ? TC_ACT_SHOT : XDP_DROP, NULL,
		   "... but to a SNAT port with no binding: dropped (bmlb's)");
	frag.frag = 0x2000;
	ingress_expect(dp, tc, ifindex, &frag, tc ? TC_ACT_OK : XDP_PASS, &frag,
		   "a fragment to the node passes (it is no VIP)");
	icmp.icmp_type = 3;
	icmp.icmp_code = 3;
	icmp.inner = &quoted;
	ingress_expect(dp, tc, ifindex, &icmp, tc ? TC_ACT_OK : XDP_PASS, &icmp,
		   "an ICMP error to the node about its own packet passes");
	assert_int_equal(netns_counter(dp, LB_C_DROP_FRAGMENT), 0);
	assert_int_equal(netns_counter(dp, LB_C_FWD_NEW), 0);
	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, "lb_vips"), &nip,
					     &n),
			 -ENOENT);
	dp_destroy(dp);
}

TEST_BOTH(nodeport_local, xdp, tc, nodeport_local_and_own)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_snat_xdp),
		cmocka_unit_test(test_local_snat_tc),
		cmocka_unit_test(test_local_dsr_xdp),
		cmocka_unit_test(test_local_dsr_tc),
		cmocka_unit_test(test_local_beside_cluster_snat),
		cmocka_unit_test(test_local_beside_cluster_dsr),
		cmocka_unit_test(test_cluster_pod_here_snat),
		cmocka_unit_test(test_cluster_pod_here_dsr),
		cmocka_unit_test(test_local_expiry),
		cmocka_unit_test(test_nodeport_cluster_snat),
		cmocka_unit_test(test_nodeport_cluster_dsr),
		cmocka_unit_test(test_nodeport_local_xdp),
		cmocka_unit_test(test_nodeport_local_tc),
	};

	make_netns(node_mac, &ifindex);
	mac_of("lbt2", lbt2_mac);
	return cmocka_run_group_tests_name("packet local", tests, NULL, NULL);
}
