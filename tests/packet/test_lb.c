/* Packet tests of the SNAT fast path (src/bpf/lb.bpf.c): crafted frames
 * through BPF_PROG_TEST_RUN, output compared byte for byte.
 *
 * The test runs in a network namespace of its own (unshare), where it
 * builds the routes and neighbours bpf_fib_lookup needs; the maps are
 * programmed through the agent's own code (src/dataplane/dp.c).  Each table
 * runs twice, through the XDP entry and through the tc entry.
 */
#include <errno.h>
#include <sched.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <sys/socket.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/bpf.h>
#include <cmocka.h>

#include "announce/arp.h"
#include "dataplane/dp.h"
#include "frames.h"
#include "netns.h"
#include "run.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define NODE NETNS_NODE_IP
#define CLIENT NETNS_CLIENT
#define ROUTER IP(203, 0, 113, 1)
#define VIP IP(198, 18, 0, 100)
#define VIP_EMPTY IP(198, 18, 0, 101)
#define VIP_FAR IP(198, 18, 0, 102)
#define VIP_COLD IP(198, 18, 0, 103)
#define VIP_HOLE IP(198, 18, 0, 104)
#define VIP_UNREACH IP(198, 18, 0, 105)
#define VIP_SMALL IP(198, 18, 0, 106)
#define POD1 IP(198, 19, 21, 5)
#define POD2 IP(198, 19, 21, 6)
#define POD_UDP IP(198, 19, 21, 7)
#define POD_FAR IP(198, 19, 99, 5)
#define POD_COLD IP(198, 19, 22, 5) /* its next hop: no neighbour entry */
#define POD_HOLE IP(198, 19, 23, 5)
#define POD_UNREACH IP(198, 19, 24, 5)
#define POD_SMALL IP(198, 19, 25, 5) /* behind a 1400-byte MTU */
#define CPORT NETNS_CLIENT_PORT

/* Placeholders resolved from the flow's conntrack entry. */
#define BACKEND 0xfffffffeu
#define BPORT 0xfffe
#define SNAT 0xfffd

static const uint8_t GW_MAC[6] = {2, 0, 0, 0, 0, 1};
static uint8_t node_mac[6];
static int ifindex;

static const struct dp_backend web[] = {{POD1, 8080}, {POD2, 8080}};
static const struct dp_backend dns[] = {{POD_UDP, 5353}};
static const struct dp_backend far[] = {{POD_FAR, 8080}};
static const struct dp_backend cold[] = {{POD_COLD, 8080}};
static const struct dp_backend hole[] = {{POD_HOLE, 8080}};
static const struct dp_backend unreach[] = {{POD_UNREACH, 8080}};
static const struct dp_backend small[] = {{POD_SMALL, 5353}};
static const struct dp_service services[] = {
	{VIP, 80, IPPROTO_TCP, false, web, 2},
	{VIP, 53, IPPROTO_UDP, false, dns, 1},
	{VIP_EMPTY, 80, IPPROTO_TCP, false, NULL, 0},
	{VIP_FAR, 80, IPPROTO_TCP, false, far, 1},
	{VIP_COLD, 80, IPPROTO_TCP, false, cold, 1},
	{VIP_HOLE, 80, IPPROTO_TCP, false, hole, 1},
	{VIP_UNREACH, 80, IPPROTO_TCP, false, unreach, 1},
	{VIP_SMALL, 53, IPPROTO_UDP, false, small, 1},
};

/* With yield_ms 0, unanswered flows never yield (netns_dp_config). */
static struct dp *open_dp_with(uint16_t snat_min, uint16_t snat_max,
			       uint32_t ct_entries, uint32_t yield_ms,
			       uint32_t source_max, uint64_t seed)
{
	struct dp_config c;

	netns_dp_config(&c);
	c.snat_min = snat_min;
	c.snat_max = snat_max;
	c.ct_entries = ct_entries;
	if (yield_ms)
		c.timeouts.unreplied_yield_ms = yield_ms;
	if (source_max)
		c.source_new_max = source_max;
	c.hash_seed = seed;
	return open_or_fail(&c, services, sizeof(services) / sizeof(*services));
}

static struct dp *open_dp(uint16_t snat_min, uint16_t snat_max,
			  uint32_t ct_entries)
{
	return open_dp_with(snat_min, snat_max, ct_entries, 0, 0, 0);
}

/* Runs frame `in` through one entry; returns the program's verdict and
 * fills `out`. */
static int run(struct dp *dp, bool tc, const struct frame *in,
	       struct frame *out)
{
	return prog_run(dp_prog_fd(dp, tc), tc, ifindex, in, out);
}

/* HANDOFF: XDP passes the frame up untouched, marked for tc, which
 * rewrites and redirects it (src/bpf/hop.h). */
enum expect { PASS, DROP, TX, HANDOFF };

/* The verdict each entry gives for an expectation. */
static int verdict(enum expect e, bool tc)
{
	switch (e) {
	case PASS:
		return tc ? TC_ACT_OK : XDP_PASS;
	case DROP:
		return tc ? TC_ACT_SHOT : XDP_DROP;
	case TX:
		return tc ? TC_ACT_REDIRECT : XDP_TX;
	case HANDOFF:
		return tc ? TC_ACT_REDIRECT : XDP_PASS;
	}
	return -1;
}

/* The metadata XDP must leave for tc (none from the tc entry). */
static uint32_t meta_of(enum expect e, bool tc)
{
	if (tc)
		return 0;
	return e == PASS ? LB_META_DONE : e == HANDOFF ? LB_META_HANDOFF : 0;
}

struct step {
	const char *what;
	struct pspec in;
	enum expect expect;
	/* The expected output; when `same` the input must come out unchanged.
	 * BACKEND/BPORT/SNAT stand for the values of `flow`'s entry. */
	bool same;
	struct pspec out;
	struct lb_flow flow; /* host order here; converted on lookup */
	enum lb_counter counter; /* must have moved (0: not checked) */
	enum lb_counter tc_counter; /* for the tc entry, when not counter */
	/* The kernel's test runner refuses to build an skb this short: the
	 * step runs through XDP only. */
	bool xdp_only;
};

static struct lb_ct flow_entry(struct dp *dp, const struct lb_flow *f)
{
	struct lb_flow k = {
		.saddr = htonl(f->saddr), .daddr = htonl(f->daddr),
		.sport = htons(f->sport), .dport = htons(f->dport),
		.proto = f->proto,
	};
	struct lb_ct ct;

	if (bpf_map_lookup_elem(dp_map_fd(dp, "lb_ct"), &k, &ct))
		fail_msg("no conntrack entry for the flow");
	return ct;
}

static void resolve(struct dp *dp, const struct step *s, struct pspec *o)
{
	struct lb_ct ct;

	if (o->daddr != BACKEND && o->saddr != BACKEND && o->sport != SNAT &&
	    o->dport != SNAT)
		return;
	ct = flow_entry(dp, &s->flow);
	if (o->daddr == BACKEND)
		o->daddr = ntohl(ct.backend_ip);
	if (o->saddr == BACKEND)
		o->saddr = ntohl(ct.backend_ip);
	if (o->dport == BPORT)
		o->dport = ntohs(ct.backend_port);
	if (o->sport == BPORT)
		o->sport = ntohs(ct.backend_port);
	if (o->sport == SNAT)
		o->sport = ntohs(ct.snat_port);
	if (o->dport == SNAT)
		o->dport = ntohs(ct.snat_port);
}

/* Resolves spec and the packet it quotes (copied into inner). */
static void resolve_all(struct dp *dp, const struct step *s,
			struct pspec *spec, struct pspec *inner)
{
	resolve(dp, s, spec);
	if (spec->inner) {
		*inner = *spec->inner;
		resolve(dp, s, inner);
		spec->inner = inner;
	}
}

static void run_steps(struct dp *dp, bool tc, const struct step *steps,
		      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		struct frame in, got, want;
		struct pspec i_spec = s->in, o = s->out, i_inner, o_inner;
		uint64_t before[LB_C_MAX], after[LB_C_MAX];
		enum lb_counter moved;
		int v;

		if (tc && s->xdp_only)
			continue;
		dp_counters(dp, before);
		resolve_all(dp, s, &i_spec, &i_inner);
		build_frame(&in, &i_spec);
		v = run(dp, tc, &in, &got);
		dp_counters(dp, after);
		if (v != verdict(s->expect, tc)) {
			for (int c = 0; c < LB_C_MAX; c++)
				if (after[c] != before[c])
					fprintf(stderr, "  counter %d +%llu\n", c,
						(unsigned long long)(after[c] -
								     before[c]));
		}
		if (v != verdict(s->expect, tc))
			fail_msg("[%s] %s: verdict %d, want %d", tc ? "tc" : "xdp",
				 s->what, v, verdict(s->expect, tc));
		if (got.meta != meta_of(s->expect, tc))
			fail_msg("[%s] %s: metadata %#x, want %#x",
				 tc ? "tc" : "xdp", s->what, got.meta,
				 meta_of(s->expect, tc));
		if (s->same || (!tc && s->expect == HANDOFF)) {
			want = in;
		} else {
			/* Forwarded, as a router forwards: one hop less. */
			if (!o.ttl)
				o.ttl = (uint8_t)((s->in.ttl ? s->in.ttl : 64) - 1);
			resolve_all(dp, s, &o, &o_inner);
			build_frame(&want, &o);
		}
		if (frame_diff(&got, &want)) {
			fail_msg("[%s] %s: output frame differs", tc ? "tc" : "xdp",
				 s->what);
		}
		moved = tc && s->tc_counter ? s->tc_counter : s->counter;
		if (moved && after[moved] == before[moved])
			fail_msg("[%s] %s: counter %d did not move",
				 tc ? "tc" : "xdp", s->what, moved);
	}
}

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01

/* Fills the MACs a table cannot write as constants: the node's, where a
 * frame gives none (an output with no destination MAC keeps the input's:
 * the kernel fills both in after neighbour resolution). */
static void fix_macs(struct step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pspec *in = &steps[i].in, *out = &steps[i].out;

		if (!memcmp(in->dmac, "\0\0\0\0\0\0", 6))
			memcpy(in->dmac, node_mac, 6);
		if (!memcmp(out->dmac, "\0\0\0\0\0\0", 6))
			memcpy(out->dmac, node_mac, 6);
		if (!memcmp(out->smac, "\0\0\0\0\0\0", 6))
			memcpy(out->smac, node_mac, 6);
	}
}

#define TCP_FLOW {CLIENT, VIP, CPORT, 80, IPPROTO_TCP, {0}}
#define UDP_FLOW {CLIENT, VIP, CPORT, 53, IPPROTO_UDP, {0}}

static const struct pspec quoted_translated = {
	.proto = IPPROTO_UDP, .saddr = NODE, .daddr = BACKEND,
	.sport = SNAT, .dport = BPORT, .payload = "query"};
static const struct pspec quoted_original = {
	.proto = IPPROTO_UDP, .saddr = CLIENT, .daddr = VIP, .sport = CPORT,
	.dport = 53, .payload = "query"};
static const struct pspec quoted_reply = {
	.proto = IPPROTO_UDP, .saddr = VIP, .daddr = CLIENT, .sport = 53,
	.dport = CPORT, .payload = "answer"};
static const struct pspec quoted_unbound = {
	.proto = IPPROTO_UDP, .saddr = NODE, .daddr = POD_UDP, .sport = 61002,
	.dport = 5353, .payload = "query"};
static const struct pspec quoted_unknown_reply = {
	.proto = IPPROTO_UDP, .saddr = VIP, .daddr = CLIENT, .sport = 53,
	.dport = CPORT + 7, .payload = "answer"};
static const struct pspec ttl_one = {
	.proto = IPPROTO_TCP, .saddr = CLIENT, .daddr = VIP, .sport = CPORT,
	.dport = 80, .tcp_flags = ACK, .ttl = 1};
static const struct pspec quoted_backend_reply = {
	.proto = IPPROTO_UDP, .saddr = BACKEND, .daddr = NODE, .sport = BPORT,
	.dport = SNAT, .payload = "answer"};

static struct step snat_steps[] = {
	{"a SYN to VIP:80 goes to a backend from NODE:P, out the same port",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 80, .tcp_flags = SYN},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_TCP, .saddr = NODE,
	  .daddr = BACKEND, .sport = SNAT, .dport = BPORT, .tcp_flags = SYN},
	 .flow = TCP_FLOW, .counter = LB_C_FWD_NEW},
	{"the flow's next packet keeps its backend and SNAT port",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 80, .tcp_flags = ACK,
	  .payload = "GET / HTTP/1.0\r\n\r\n"},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_TCP, .saddr = NODE,
	  .daddr = BACKEND, .sport = SNAT, .dport = BPORT, .tcp_flags = ACK,
	  .payload = "GET / HTTP/1.0\r\n\r\n"},
	 .flow = TCP_FLOW, .counter = LB_C_FWD_ESTABLISHED},
	{"the backend's reply to NODE:P goes back to the client from VIP:80",
	 {.smac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_TCP,
	  .saddr = BACKEND, .daddr = NODE, .sport = BPORT, .dport = SNAT,
	  .tcp_flags = ACK, .payload = "HTTP/1.0 200 OK\r\n"},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = VIP,
	  .daddr = CLIENT, .sport = 80, .dport = CPORT, .tcp_flags = ACK,
	  .payload = "HTTP/1.0 200 OK\r\n"},
	 .flow = TCP_FLOW, .counter = LB_C_REPLY},
	{"IP options: translated, options kept",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 80, .tcp_flags = ACK,
	  .optlen = 8},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_TCP, .saddr = NODE,
	  .daddr = BACKEND, .sport = SNAT, .dport = BPORT, .tcp_flags = ACK,
	  .optlen = 8},
	 .flow = TCP_FLOW, .counter = LB_C_FWD_ESTABLISHED},
	{"TTL 2: translated, TTL 1 (a router's hop)",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 80, .tcp_flags = ACK,
	  .ttl = 2},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_TCP, .saddr = NODE,
	  .daddr = BACKEND, .sport = SNAT, .dport = BPORT, .tcp_flags = ACK,
	  .ttl = 1},
	 .flow = TCP_FLOW, .counter = LB_C_FWD_ESTABLISHED},
	{"TTL 1: no further; ICMP time exceeded from the node to the client, "
	 "quoting the packet",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 80, .tcp_flags = ACK,
	  .ttl = 1},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_ICMP, .saddr = NODE,
	  .daddr = CLIENT, .icmp_type = 11, .ttl = 64,
	  .inner = &ttl_one},
	 .flow = TCP_FLOW, .counter = LB_C_TTL_EXCEEDED},
	{"a UDP datagram to VIP:53 goes to the UDP backend",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_UDP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 53, .payload = "query"},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_UDP, .saddr = NODE,
	  .daddr = POD_UDP, .sport = SNAT, .dport = 5353, .payload = "query"},
	 .flow = UDP_FLOW, .counter = LB_C_FWD_NEW},
	{"a UDP datagram without checksum keeps checksum 0",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_UDP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 53, .payload = "query",
	  .udp_csum_off = 1},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_UDP, .saddr = NODE,
	  .daddr = POD_UDP, .sport = SNAT, .dport = 5353, .payload = "query",
	  .udp_csum_off = 1},
	 .flow = UDP_FLOW, .counter = LB_C_FWD_ESTABLISHED},
	{"the UDP answer goes back from VIP:53",
	 {.smac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_UDP,
	  .saddr = POD_UDP, .daddr = NODE, .sport = 5353, .dport = SNAT,
	  .payload = "answer"},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_UDP, .saddr = VIP,
	  .daddr = CLIENT, .sport = 53, .dport = CPORT, .payload = "answer"},
	 .flow = UDP_FLOW, .counter = LB_C_REPLY},
	{"ICMP frag-needed about a packet sent to the backend reaches the "
	 "client, quoting client -> VIP",
	 {.smac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_ICMP,
	  .saddr = IP(198, 18, 0, 21), .daddr = NODE, .icmp_type = 3,
	  .icmp_code = 4, .mtu = 1400, .inner = &quoted_translated},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_ICMP, .saddr = VIP,
	  .daddr = CLIENT, .icmp_type = 3, .icmp_code = 4, .mtu = 1400,
	  .inner = &quoted_original},
	 .flow = UDP_FLOW, .counter = LB_C_ICMP_REPLY},
	{"ICMP port-unreachable from the client side about a reply reaches "
	 "the backend, quoting backend -> NODE:P",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_ICMP, .saddr = CLIENT,
	  .daddr = VIP, .icmp_type = 3, .icmp_code = 3,
	  .inner = &quoted_reply},
	 TX, false,
	 {.dmac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_ICMP, .saddr = NODE,
	  .daddr = BACKEND, .icmp_type = 3, .icmp_code = 3,
	  .inner = &quoted_backend_reply},
	 .flow = UDP_FLOW, .counter = LB_C_ICMP_FWD},
	{"an ICMP error with TTL 1 is dropped, never answered with another",
	 {.smac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_ICMP,
	  .saddr = IP(198, 18, 0, 21), .daddr = NODE, .icmp_type = 3,
	  .icmp_code = 4, .mtu = 1400, .ttl = 1, .inner = &quoted_translated},
	 DROP, true, .flow = UDP_FLOW, .counter = LB_C_TTL_EXCEEDED},
	{"ICMP echo to the VIP is not ours: passes",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_ICMP, .saddr = CLIENT,
	  .daddr = VIP, .icmp_type = 8, .inner = &quoted_reply},
	 PASS, true, .counter = LB_C_PASS},
	{"traffic to the node itself passes untouched",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = NODE, .sport = CPORT, .dport = 22, .tcp_flags = SYN},
	 PASS, true, .counter = LB_C_PASS},
	{"a SNAT-range port with no binding: dropped, counted",
	 {.smac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_TCP,
	  .saddr = POD1, .daddr = NODE, .sport = 8080, .dport = 61001,
	  .tcp_flags = ACK},
	 DROP, true, .counter = LB_C_DROP_NO_BINDING},
	{"a \"reply\" to a bound SNAT port from another address than its "
	 "backend's: dropped, counted",
	 {.smac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_UDP,
	  .saddr = IP(198, 19, 21, 66), .daddr = NODE, .sport = 5353,
	  .dport = SNAT, .payload = "forged"},
	 DROP, true, .flow = UDP_FLOW, .counter = LB_C_DROP_NO_BINDING},
	{"... or from the backend's address but another port: dropped",
	 {.smac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_UDP,
	  .saddr = POD_UDP, .daddr = NODE, .sport = 5354, .dport = SNAT,
	  .payload = "forged"},
	 DROP, true, .flow = UDP_FLOW, .counter = LB_C_DROP_NO_BINDING},
	{"an ICMP error quoting a SNAT port of no flow: dropped, counted",
	 {.smac = {2, 0, 0, 0, 0, 0x21}, .proto = IPPROTO_ICMP,
	  .saddr = IP(198, 18, 0, 21), .daddr = NODE, .icmp_type = 3,
	  .icmp_code = 4, .mtu = 68, .inner = &quoted_unbound},
	 DROP, true, .counter = LB_C_DROP_NO_BINDING},
	{"an ICMP error to a VIP quoting no flow of it: dropped, counted",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_ICMP, .saddr = CLIENT,
	  .daddr = VIP, .icmp_type = 3, .icmp_code = 3,
	  .inner = &quoted_unknown_reply},
	 DROP, true, .counter = LB_C_DROP_NO_BINDING},
	{"another port of the VIP is not a service: passes",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 443, .tcp_flags = SYN},
	 PASS, true, .counter = LB_C_PASS},
	{"TCP without SYN and without a flow passes, creating nothing",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT + 1, .dport = 80, .tcp_flags = ACK},
	 PASS, true, .counter = LB_C_PASS_NOT_SYN},
	{"a service with no ready backend drops new flows",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP_EMPTY, .sport = CPORT, .dport = 80, .tcp_flags = SYN},
	 DROP, true, .counter = LB_C_DROP_NO_BACKEND},
	{"a first fragment to a VIP is dropped",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_UDP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 53, .frag = 0x2000,
	  .payload = "part one"},
	 DROP, true, .counter = LB_C_DROP_FRAGMENT},
	{"a later fragment to a VIP is dropped",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_UDP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 53, .frag = 0x0010,
	  .payload = "part two"},
	 DROP, true, .counter = LB_C_DROP_FRAGMENT},
	{"a fragment to another address passes",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_UDP, .saddr = CLIENT,
	  .daddr = NODE, .sport = CPORT, .dport = 53, .frag = 0x2000,
	  .payload = "part one"},
	 PASS, true, .counter = LB_C_PASS},
	{"a TCP header cut short, to a VIP, is dropped",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 80, .tcp_flags = SYN,
	  .cut = 10},
	 DROP, true, .counter = LB_C_DROP_TRUNCATED},
	{"an IP header cut short passes",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP, .sport = CPORT, .dport = 80, .tcp_flags = SYN,
	  .cut = 30},
	 PASS, true, .counter = LB_C_PASS, .xdp_only = true},
	{"a VLAN-tagged frame passes untouched",
	 {.smac = {2, 0, 0, 0, 0, 1}, .vlan = 42, .proto = IPPROTO_TCP,
	  .saddr = CLIENT, .daddr = VIP, .sport = CPORT, .dport = 80,
	  .tcp_flags = SYN},
	 PASS, true, .counter = LB_C_PASS_VLAN},
	{"a frame for another MAC is not ours, even to a VIP",
	 {.dmac = {2, 0, 0, 0, 0, 0x99}, .smac = {2, 0, 0, 0, 0, 1},
	  .proto = IPPROTO_TCP, .saddr = CLIENT, .daddr = VIP,
	  .sport = CPORT + 2, .dport = 80, .tcp_flags = SYN},
	 PASS, true, .counter = LB_C_PASS},
	/* Each result of bpf_fib_lookup for the translated packet. */
	{"a next hop with no neighbour entry yet: XDP hands the SYN to tc "
	 "untouched, tc sends it through neighbour resolution (MACs left "
	 "to the kernel)",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP_COLD, .sport = CPORT, .dport = 80, .tcp_flags = SYN},
	 HANDOFF, false,
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = NODE,
	  .daddr = POD_COLD, .sport = SNAT, .dport = 8080, .tcp_flags = SYN},
	 .flow = {CLIENT, VIP_COLD, CPORT, 80, IPPROTO_TCP, {0}},
	 .counter = LB_C_TO_TC, .tc_counter = LB_C_RESOLVE},
	{"a blackhole route to the backend: dropped, counted",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP_HOLE, .sport = CPORT, .dport = 80, .tcp_flags = SYN},
	 DROP, true, .counter = LB_C_DROP_NO_ROUTE},
	{"an unreachable route to the backend: dropped, counted",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP_UNREACH, .sport = CPORT, .dport = 80, .tcp_flags = SYN},
	 DROP, true, .counter = LB_C_DROP_NO_ROUTE},
	{"a backend behind another interface: XDP hands it to tc untouched, "
	 "tc redirects it there",
	 {.smac = {2, 0, 0, 0, 0, 1}, .proto = IPPROTO_TCP, .saddr = CLIENT,
	  .daddr = VIP_FAR, .sport = CPORT, .dport = 80, .tcp_flags = SYN},
	 HANDOFF, false,
	 {.dmac = {2, 0, 0, 0, 0, 2}, .proto = IPPROTO_TCP, .saddr = NODE,
	  .daddr = POD_FAR, .sport = SNAT, .dport = 8080, .tcp_flags = SYN},
	 .flow = {CLIENT, VIP_FAR, CPORT, 80, IPPROTO_TCP, {0}},
	 .counter = LB_C_TO_TC, .tc_counter = LB_C_REDIRECT},
};

/* tc sends the last step's packet out of lbt2, with lbt2's MAC. */
static void patch_far_step(struct step *steps, size_t n)
{
	mac_of("lbt2", steps[n - 1].out.smac);
}

/* What XDP handed off it created no state for: tc decides anew. */
static void no_flow_after_handoff(struct dp *dp, const struct step *steps,
				  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct lb_flow *f = &steps[i].flow;
		struct lb_flow k = {
			.saddr = htonl(f->saddr), .daddr = htonl(f->daddr),
			.sport = htons(f->sport), .dport = htons(f->dport),
			.proto = f->proto,
		};
		struct lb_ct ct;

		if (steps[i].expect == HANDOFF &&
		    !bpf_map_lookup_elem(dp_map_fd(dp, "lb_ct"), &k, &ct))
			fail_msg("[xdp] %s: a flow was tracked",
				 steps[i].what);
	}
}

static void snat_table(bool tc)
{
	size_t n = sizeof(snat_steps) / sizeof(*snat_steps);
	struct dp *dp = open_dp(61000, 65535, 0);

	fix_macs(snat_steps, n);
	patch_far_step(snat_steps, n);
	run_steps(dp, tc, snat_steps, n);
	if (!tc)
		no_flow_after_handoff(dp, snat_steps, n);
	dp_destroy(dp);
}

TEST_BOTH(snat, xdp, tc, snat_table)

static struct pspec syn_from(uint16_t sport)
{
	struct pspec s = from_client(node_mac, IPPROTO_TCP, VIP, 80, SYN);

	s.sport = sport;
	return s;
}

static int send_spec(struct dp *dp, const struct pspec *s)
{
	struct frame in, out;

	build_frame(&in, s);
	return run(dp, false, &in, &out);
}

/* With one SNAT port per backend, a second flow to the same backend is
 * refused and counted, and the first keeps working. */
static void test_snat_ports_exhausted(void **state)
{
	struct dp *dp = open_dp(61000, 61000, 0);
	uint64_t c[LB_C_MAX];
	struct pspec first = syn_from(1000), ack;
	int refused = 0;
	(void)state;

	assert_int_equal(send_spec(dp, &first), XDP_TX);
	for (uint16_t p = 1001; p < 1040; p++) {
		struct pspec s = syn_from(p);

		refused += send_spec(dp, &s) == XDP_DROP;
	}
	/* Two backends, one port each: every later flow is refused except
	 * the one that lands on the other backend. */
	assert_true(refused >= 38);
	dp_counters(dp, c);
	assert_int_equal(c[LB_C_DROP_NO_PORT], refused);
	ack = first;
	ack.tcp_flags = ACK;
	assert_int_equal(send_spec(dp, &ack), XDP_TX);
	dp_destroy(dp);
}

/* The first answer of flow f's backend (SYN+ACK), to NODE:P. */
static struct pspec backend_reply(struct dp *dp, const struct lb_flow *f)
{
	struct lb_ct ct = flow_entry(dp, f);
	struct pspec r = {.smac = {2, 0, 0, 0, 0, 0x21},
			  .proto = IPPROTO_TCP, .saddr = ntohl(ct.backend_ip),
			  .daddr = NODE, .sport = ntohs(ct.backend_port),
			  .dport = ntohs(ct.snat_port),
			  .tcp_flags = SYN | ACK};

	memcpy(r.dmac, node_mac, 6);
	return r;
}

static bool has_flow(struct dp *dp, uint16_t sport)
{
	struct lb_flow k = {htonl(CLIENT), htonl(VIP), htons(sport), htons(80),
			    IPPROTO_TCP, {0}};
	struct lb_ct ct;

	return !bpf_map_lookup_elem(dp_map_fd(dp, "lb_ct"), &k, &ct);
}

static void sleep_ms(long ms)
{
	nanosleep(&(struct timespec){.tv_nsec = ms * 1000000}, NULL);
}

/* A full table of unanswered flows: the oldest give their entries to new
 * flows once they have been idle past the yield time; an answered flow
 * is never chosen. */
static void test_unreplied_yield_entries(void **state)
{
	struct dp *dp = open_dp_with(61000, 65535, 4, 5, 0, 0);
	struct lb_flow first = {CLIENT, VIP, 5000, 80, IPPROTO_TCP, {0}};
	struct pspec r;
	int ok = 0;
	(void)state;

	for (uint16_t p = 5000; p < 5004; p++) {
		struct pspec s = syn_from(p);

		assert_int_equal(send_spec(dp, &s), XDP_TX);
	}
	r = backend_reply(dp, &first);
	assert_int_equal(send_spec(dp, &r), XDP_TX); /* 5000 answered */
	sleep_ms(30);
	for (uint16_t p = 5100; p < 5104; p++) {
		struct pspec s = syn_from(p);

		ok += send_spec(dp, &s) == XDP_TX;
	}
	assert_true(ok >= 3);
	assert_true(netns_counter(dp, LB_C_EVICT_UNREPLIED) >= 3);
	assert_true(has_flow(dp, 5000));
	for (uint16_t p = 5001; p < 5004; p++)
		assert_false(has_flow(dp, p));
	assert_true(has_flow(dp, 5100));
	dp_destroy(dp);
}

/* With one SNAT port per backend: an unanswered flow's port goes to a new
 * flow to its backend once idle past the yield time; an answered flow's
 * stays. */
static void test_unreplied_yield_ports(void **state)
{
	struct dp *dp = open_dp_with(61000, 61000, 0, 5, 0, 0);
	struct lb_flow f = {CLIENT, VIP, 6000, 80, IPPROTO_TCP, {0}};
	struct pspec s = syn_from(6000), r;
	uint32_t answered;
	int ok = 0;
	(void)state;

	assert_int_equal(send_spec(dp, &s), XDP_TX);
	answered = flow_entry(dp, &f).backend_ip;
	r = backend_reply(dp, &f);
	assert_int_equal(send_spec(dp, &r), XDP_TX);
	s = syn_from(6001);
	for (uint16_t p = 6001; p < 6100 && !ok; p++) {
		/* A flow to the other backend, left unanswered. */
		f.sport = p;
		s = syn_from(p);
		ok = send_spec(dp, &s) == XDP_TX &&
		     flow_entry(dp, &f).backend_ip != answered;
	}
	assert_true(ok);
	sleep_ms(30);
	ok = 0;
	for (uint16_t p = 6100; p < 6140; p++) {
		struct lb_flow g = {CLIENT, VIP, p, 80, IPPROTO_TCP, {0}};

		s = syn_from(p);
		if (send_spec(dp, &s) == XDP_TX) {
			/* Only the unanswered flow's port was free. */
			assert_int_not_equal(flow_entry(dp, &g).backend_ip,
					     answered);
			ok++;
		}
	}
	assert_true(ok >= 1);
	assert_true(netns_counter(dp, LB_C_EVICT_UNREPLIED) >= 1);
	f.sport = 6000;
	assert_int_equal(flow_entry(dp, &f).backend_ip, answered);
	dp_destroy(dp);
}

/* One source opens at most source_new_max unanswered flows a window;
 * another source is not held back, and an answer frees one. */
static void test_source_limit(void **state)
{
	struct dp *dp = open_dp_with(61000, 65535, 0, 0, 3, 0);
	struct lb_flow f = {CLIENT, VIP, 7000, 80, IPPROTO_TCP, {0}};
	struct pspec s, r;
	(void)state;

	for (uint16_t p = 7000; p < 7003; p++) {
		s = syn_from(p);
		assert_int_equal(send_spec(dp, &s), XDP_TX);
	}
	s = syn_from(7003);
	assert_int_equal(send_spec(dp, &s), XDP_DROP);
	assert_int_equal(netns_counter(dp, LB_C_DROP_SOURCE_LIMIT), 1);
	s.saddr = IP(203, 0, 113, 11);
	assert_int_equal(send_spec(dp, &s), XDP_TX);
	r = backend_reply(dp, &f);
	assert_int_equal(send_spec(dp, &r), XDP_TX);
	s = syn_from(7003);
	assert_int_equal(send_spec(dp, &s), XDP_TX);
	dp_destroy(dp);
}

/* The flow hash is seeded: two seeds spread the same flows differently,
 * one seed the same on every node. */
static void test_hash_seed(void **state)
{
	struct dp *a = open_dp_with(61000, 65535, 0, 0, 0, 1);
	struct dp *b = open_dp_with(61000, 65535, 0, 0, 0, 1);
	struct dp *c = open_dp_with(61000, 65535, 0, 0, 0, 2);
	int differ = 0;
	(void)state;

	for (uint16_t p = 8000; p < 8064; p++) {
		struct lb_flow f = {CLIENT, VIP, p, 80, IPPROTO_TCP, {0}};
		struct pspec s = syn_from(p);

		assert_int_equal(send_spec(a, &s), XDP_TX);
		assert_int_equal(send_spec(b, &s), XDP_TX);
		assert_int_equal(send_spec(c, &s), XDP_TX);
		assert_int_equal(flow_entry(a, &f).backend_ip,
				 flow_entry(b, &f).backend_ip);
		differ += flow_entry(a, &f).backend_ip !=
			  flow_entry(c, &f).backend_ip;
	}
	assert_true(differ > 8);
	dp_destroy(a);
	dp_destroy(b);
	dp_destroy(c);
}

/* A full flow table refuses new flows; established ones go on. */
static void test_flow_table_full(void **state)
{
	struct dp *dp = open_dp(61000, 65535, 4);
	uint64_t c[LB_C_MAX];
	int ok = 0;
	(void)state;

	for (uint16_t p = 2000; p < 2010; p++) {
		struct pspec s = syn_from(p);

		ok += send_spec(dp, &s) == XDP_TX;
	}
	assert_int_equal(ok, 4);
	assert_int_equal(dp_flows(dp), 4);
	dp_counters(dp, c);
	assert_int_equal(c[LB_C_DROP_CT_FULL] + c[LB_C_DROP_NO_PORT], 6);
	for (uint16_t p = 2000; p < 2004; p++) {
		struct pspec s = syn_from(p);

		s.tcp_flags = ACK;
		assert_int_equal(send_spec(dp, &s), XDP_TX);
	}
	dp_destroy(dp);
}

/* Removing a backend moves only its flows; flows to the others stay. */
static void test_backend_removed(void **state)
{
	struct dp *dp = open_dp(61000, 65535, 0);
	static const struct dp_backend one[] = {{POD2, 8080}};
	const struct dp_service after[] = {
		{VIP, 80, IPPROTO_TCP, false, one, 1}};
	uint32_t backend_of[64];
	char err[256];
	(void)state;

	for (uint16_t i = 0; i < 64; i++) {
		struct pspec s = syn_from((uint16_t)(3000 + i));
		struct lb_flow f = {CLIENT, VIP, (uint16_t)(3000 + i), 80,
				    IPPROTO_TCP, {0}};

		assert_int_equal(send_spec(dp, &s), XDP_TX);
		backend_of[i] = ntohl(flow_entry(dp, &f).backend_ip);
	}
	assert_int_equal(dp_sync(dp, after, 1, err, sizeof(err)), 0);
	for (uint16_t i = 0; i < 64; i++) {
		struct pspec s = syn_from((uint16_t)(3000 + i));

		s.tcp_flags = ACK;
		/* Flows on POD2 go on; flows on POD1 are no longer served. */
		assert_int_equal(send_spec(dp, &s),
				 backend_of[i] == POD2 ? XDP_TX : XDP_PASS);
	}
	dp_destroy(dp);
}

/* A service that grows past 16 backends gets a larger Maglev table, and
 * one that shrinks a smaller one; new flows work at every size. */
static void test_table_sizes(void **state)
{
	struct dp *dp = open_dp(61000, 65535, 0);
	struct dp_backend many[120];
	size_t sizes[] = {20, 120, 2, 17};
	char err[256];
	(void)state;

	for (size_t i = 0; i < 120; i++)
		many[i] = (struct dp_backend){POD1 + (uint32_t)i, 8080};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
		const struct dp_service svc[] = {
			{VIP, 80, IPPROTO_TCP, false, many, sizes[k]}};
		int seen[120] = {0}, distinct = 0;

		assert_int_equal(dp_sync(dp, svc, 1, err, sizeof(err)), 0);
		for (uint16_t p = 0; p < 200; p++) {
			uint16_t sport = (uint16_t)(10000 + k * 1000 + p);
			struct pspec s = syn_from(sport);
			struct lb_flow f = {CLIENT, VIP, sport, 80, IPPROTO_TCP,
					    {0}};
			uint32_t b;

			assert_int_equal(send_spec(dp, &s), XDP_TX);
			b = ntohl(flow_entry(dp, &f).backend_ip) - POD1;
			assert_true(b < sizes[k]);
			distinct += !seen[b]++;
		}
		/* 200 flows over N backends reach most of them. */
		assert_true(distinct >= (int)(sizes[k] < 40 ? sizes[k] - 1 : 40));
	}
	dp_destroy(dp);
}

/* The sweep deletes expired flows with their SNAT bindings, and only
 * those. */
static void test_gc(void **state)
{
	struct dp *dp = open_dp(61000, 65535, 0);
	uint64_t now;
	(void)state;

	for (uint16_t p = 4000; p < 4010; p++) {
		struct pspec s = syn_from(p);

		assert_int_equal(send_spec(dp, &s), XDP_TX);
	}
	now = mono_ns();
	assert_int_equal(dp_gc(dp, now), 0);
	assert_int_equal(dp_flows(dp), 10);
	/* SYN-only flows expire after 60 s. */
	assert_int_equal(dp_gc(dp, now + 61ull * 1000000000ull), 10);
	assert_int_equal(dp_flows(dp), 0);
	dp_destroy(dp);
}

/* The backend's FIN (flags) for flow f, to NODE:P. */
static struct pspec from_backend(struct dp *dp, const struct lb_flow *f,
				 uint8_t flags)
{
	struct lb_ct ct = flow_entry(dp, f);
	struct pspec s = {.smac = {2, 0, 0, 0, 0, 0x21},
			  .proto = IPPROTO_TCP,
			  .saddr = ntohl(ct.backend_ip), .daddr = NODE,
			  .sport = ntohs(ct.backend_port),
			  .dport = ntohs(ct.snat_port), .tcp_flags = flags};

	memcpy(s.dmac, node_mac, 6);
	return s;
}

/* A FIN closes its sender's side, a FIN from the other side or an RST
 * the flow; the sweep frees a closing or closed flow (and its SNAT port)
 * after the closing timeout, not the established one. */
static void test_close_frees_the_flow(void **state)
{
	struct dp *dp = open_dp(61000, 65535, 0);
	struct lb_flow f = {CLIENT, VIP, 5000, 80, IPPROTO_TCP, {0}};
	struct lb_flow r = {CLIENT, VIP, 5001, 80, IPPROTO_TCP, {0}};
	struct pspec syn = syn_from(5000), fin, syn2 = syn_from(5001), rst;
	struct pspec bfin;
	uint64_t now;
	(void)state;

	assert_int_equal(send_spec(dp, &syn), XDP_TX);
	assert_int_equal(send_spec(dp, &syn2), XDP_TX);
	assert_int_equal(flow_entry(dp, &f).state, LB_CT_NEW);
	fin = syn;
	fin.tcp_flags = FIN | ACK;
	assert_int_equal(send_spec(dp, &fin), XDP_TX);
	assert_int_equal(flow_entry(dp, &f).state, LB_CT_CLOSING);
	assert_int_equal(send_spec(dp, &fin), XDP_TX); /* retransmitted */
	assert_int_equal(flow_entry(dp, &f).state, LB_CT_CLOSING);
	bfin = from_backend(dp, &f, FIN | ACK);
	assert_int_equal(send_spec(dp, &bfin), XDP_TX);
	assert_int_equal(flow_entry(dp, &f).state, LB_CT_CLOSED);
	rst = syn2;
	rst.tcp_flags = 0x04; /* RST */
	assert_int_equal(send_spec(dp, &rst), XDP_TX);
	assert_int_equal(flow_entry(dp, &r).state, LB_CT_CLOSED);
	now = mono_ns();
	/* Closed flows go after 10 s. */
	assert_int_equal(dp_gc(dp, now + 9ull * 1000000000ull), 0);
	assert_int_equal(dp_gc(dp, now + 11ull * 1000000000ull), 2);
	assert_int_equal(dp_flows(dp), 0);
	dp_destroy(dp);
}

/* With one SNAT port per backend: a flow closed both ways gives its port
 * to a new flow once idle for a second (its entry removed, the reuse
 * counted), a flow closed one way (a FIN from the backend) keeps it, and
 * a client's SYN on a closing flow opens it again.  A sweep never takes
 * the new flow's binding for the old flow's. */
static void test_closed_port_reused(void **state)
{
	struct dp *dp = open_dp(61000, 61000, 0);
	struct pspec a = syn_from(1000), s;
	struct lb_flow fa = {CLIENT, VIP, 1000, 80, IPPROTO_TCP, {0}};
	struct lb_flow fb = {CLIENT, VIP, 0, 80, IPPROTO_TCP, {0}};
	struct lb_flow fk, probe = {0};
	struct lb_snat_key sk;
	struct lb_snat rev;
	struct lb_ct stale;
	struct timespec pause = {1, 200000000};
	uint64_t c[LB_C_MAX], now;
	int fresh = 0, reused = 0;
	(void)state;

	assert_int_equal(send_spec(dp, &a), XDP_TX);
	/* The flow that took the other backend's port. */
	for (uint16_t p = 1001; p < 1100 && !fb.sport; p++) {
		s = syn_from(p);
		if (send_spec(dp, &s) == XDP_TX)
			fb.sport = p;
	}
	assert_true(fb.sport != 0);
	s = a;
	s.tcp_flags = FIN | ACK;
	assert_int_equal(send_spec(dp, &s), XDP_TX);
	s = from_backend(dp, &fa, FIN | ACK);
	assert_int_equal(send_spec(dp, &s), XDP_TX);
	assert_int_equal(flow_entry(dp, &fa).state, LB_CT_CLOSED);
	s = from_backend(dp, &fb, FIN | ACK);
	assert_int_equal(send_spec(dp, &s), XDP_TX);
	assert_int_equal(flow_entry(dp, &fb).state, LB_CT_CLOSING_REPLY);
	/* Closed, but not a second ago: nothing is free yet. */
	for (uint16_t p = 2000; p < 2010; p++) {
		s = syn_from(p);
		fresh += send_spec(dp, &s) == XDP_TX;
	}
	assert_int_equal(fresh, 0);

	nanosleep(&pause, NULL);
	for (uint16_t p = 2010; p < 2050; p++) {
		s = syn_from(p);
		if (send_spec(dp, &s) == XDP_TX) {
			reused++;
			probe = (struct lb_flow){CLIENT, VIP, p, 80,
						 IPPROTO_TCP, {0}};
		}
	}
	assert_int_equal(reused, 1);
	dp_counters(dp, c);
	assert_int_equal(c[LB_C_SNAT_REUSE], 1);
	fk = (struct lb_flow){.saddr = htonl(CLIENT), .daddr = htonl(VIP),
			      .sport = htons(1000), .dport = htons(80),
			      .proto = IPPROTO_TCP};
	assert_int_not_equal(
		bpf_map_lookup_elem(dp_map_fd(dp, "lb_ct"), &fk, &(struct lb_ct){0}),
		0);
	assert_int_equal(flow_entry(dp, &probe).snat_port, htons(61000));

	/* The client opens its closing flow again. */
	s = syn_from(fb.sport);
	assert_int_equal(send_spec(dp, &s), XDP_TX);
	assert_int_equal(flow_entry(dp, &fb).state, LB_CT_NEW);

	/* A sweep that comes upon a stale entry of the old flow (read
	 * before the port went) removes it and leaves the binding, now the
	 * new flow's. */
	stale = flow_entry(dp, &probe);
	stale.last_seen = 0;
	stale.state = LB_CT_CLOSED;
	assert_int_equal(bpf_map_update_elem(dp_map_fd(dp, "lb_ct"), &fk,
					     &stale, BPF_NOEXIST),
			 0);
	now = mono_ns();
	assert_int_equal(dp_gc(dp, now), 1);
	sk = (struct lb_snat_key){.backend_ip = stale.backend_ip,
				  .backend_port = stale.backend_port,
				  .snat_port = stale.snat_port,
				  .proto = IPPROTO_TCP};
	assert_int_equal(bpf_map_lookup_elem(dp_map_fd(dp, "lb_snat"), &sk, &rev),
			 0);
	assert_int_equal(rev.client_port, htons(probe.sport));
	dp_destroy(dp);
}

/* ---- ARP (src/bpf/arp.h) */

static const uint8_t OTHER_MAC[6] = {2, 0, 0, 0, 0, 0x99};

static struct frame arp(uint16_t op, const uint8_t *dst, const uint8_t *sha,
			uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	struct arp_fields f = {.op = op, .spa = spa, .tpa = tpa};
	struct frame fr = {.len = ARP_FRAME_LEN};

	memcpy(f.dst, dst, 6);
	memcpy(f.src, sha, 6);
	memcpy(f.sha, sha, 6);
	memcpy(f.tha, tha, 6);
	arp_frame(fr.b, &f);
	return fr;
}

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ZERO[6];

/* A client on the segment itself whose neighbour entry the node lacks:
 * its flow goes out by XDP, the backend's reply through tc and neighbour
 * resolution (handed off by XDP untouched). */
static void test_reply_to_cold_client(void **state)
{
	struct dp *dp = open_dp(61000, 65535, 0);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP, 80, SYN);
	struct lb_flow f = {IP(198, 18, 0, 50), VIP, CPORT, 80, IPPROTO_TCP,
			    {0}};
	struct pspec reply, want;
	struct frame in, got;
	(void)state;

	syn.saddr = f.saddr;
	build_frame(&in, &syn);
	assert_int_equal(ingress_run(dp, false, ifindex, &in, &got), XDP_TX);
	reply = backend_reply(dp, &f);
	want = reply;
	want.ttl = 63;
	want.saddr = VIP;
	want.sport = 80;
	want.daddr = f.saddr;
	want.dport = CPORT;
	got = ingress_expect(dp, false, ifindex, &reply, TC_ACT_REDIRECT, &want,
			     "the reply to a client not resolved yet");
	assert_int_equal(got.meta, LB_META_HANDOFF);
	assert_int_equal(netns_counter(dp, LB_C_RESOLVE), 1);
	assert_int_equal(netns_counter(dp, LB_C_REPLY), 1);
	dp_destroy(dp);
}

/* A datagram bigger than the backend's route takes (MTU 1400) is answered
 * as a router answers it: ICMP fragmentation-needed from the VIP with that
 * MTU, quoting the client's packet; nothing is tracked.  One that fits
 * goes on. */
static void too_big(bool tc)
{
	static char big[1600];
	struct dp *dp = open_dp(61000, 65535, 0);
	struct pspec udp = from_client(node_mac, IPPROTO_UDP, VIP_SMALL, 53, 0);
	struct pspec quoted, icmp;
	struct frame in, got;

	memset(big, 'x', 1400 - 28 + 1); /* one byte too many */
	udp.payload = big;
	quoted = udp;
	icmp = (struct pspec){.proto = IPPROTO_ICMP, .saddr = VIP_SMALL,
			      .daddr = CLIENT, .icmp_type = 3,
			      .icmp_code = 4, .mtu = 1400, .inner = &quoted};
	memcpy(icmp.dmac, GW_MAC, 6);
	memcpy(icmp.smac, node_mac, 6);
	build_frame(&in, &udp);
	expect_frame(run(dp, tc, &in, &got), &got, tc, verdict(TX, tc), &icmp,
		     "a 1401-byte datagram: ICMP fragmentation needed, 1400");
	assert_int_equal(netns_counter(dp, LB_C_TOO_BIG), 1);
	assert_int_equal(dp_flows(dp), 0);

	big[1400 - 28] = 0;
	build_frame(&in, &udp);
	assert_int_equal(run(dp, tc, &in, &got), verdict(TX, tc));
	assert_int_equal(daddr_of(&got), POD_SMALL);
	dp_destroy(dp);
}

TEST_BOTH(too_big, xdp, tc, too_big)

/* A flow to a backend whose next hop the node has never talked to: every
 * packet goes through XDP to tc (no state from XDP), tc tracks the flow
 * and sends each through neighbour resolution; once the neighbour is
 * known, XDP sends the flow's packets itself. */
static void test_cold_neighbour(void **state)
{
	struct dp *dp = open_dp(61000, 65535, 0);
	struct pspec syn = from_client(node_mac, IPPROTO_TCP, VIP_COLD, 80, SYN);
	struct pspec ack = syn;
	struct lb_flow f = {CLIENT, VIP_COLD, CPORT, 80, IPPROTO_TCP, {0}};
	static const uint8_t worker22[6] = {2, 0, 0, 0, 0, 0x22};
	struct frame in, got;
	struct lb_ct ct;
	(void)state;

	ack.tcp_flags = ACK;
	build_frame(&in, &syn);
	assert_int_equal(run(dp, false, &in, &got), XDP_PASS);
	assert_int_equal(got.meta, LB_META_HANDOFF);
	assert_int_equal(dp_flows(dp), 0);
	assert_int_equal(run(dp, true, &in, &got), TC_ACT_REDIRECT);
	assert_int_equal(dp_flows(dp), 1);
	build_frame(&in, &ack);
	assert_int_equal(run(dp, false, &in, &got), XDP_PASS);
	assert_int_equal(got.meta, LB_META_HANDOFF);
	assert_int_equal(run(dp, true, &in, &got), TC_ACT_REDIRECT);
	assert_int_equal(netns_counter(dp, LB_C_RESOLVE), 2);
	assert_int_equal(netns_counter(dp, LB_C_TO_TC), 2);

	sh("ip neigh replace 198.18.0.22 lladdr 02:00:00:00:00:22 dev lbt0");
	assert_int_equal(run(dp, false, &in, &got), XDP_TX);
	ct = flow_entry(dp, &f);
	assert_int_equal(ct.fwd.ifindex, ifindex);
	assert_memory_equal(got.b, worker22, 6);
	assert_int_equal(daddr_of(&got), POD_COLD);
	sh("ip neigh del 198.18.0.22 dev lbt0");
	dp_destroy(dp);
}

/* Sends in through both entries; each must give e and, for TX, want. */
static void arp_case(struct dp *dp, const char *what, const struct frame *in,
		     enum expect e, const struct frame *want)
{
	for (int tc = 0; tc < 2; tc++) {
		struct frame out;
		int v = run(dp, tc, in, &out);

		if (v != verdict(e, tc))
			fail_msg("%s (%s): verdict %d, want %d", what,
				 tc ? "tc" : "xdp", v, verdict(e, tc));
		if (!want)
			want = in;
		if (frame_diff(&out, want)) {
			fail_msg("%s (%s): frame differs", what,
				 tc ? "tc" : "xdp");
		}
	}
}

static void test_arp(void **state)
{
	struct dp *dp = open_dp(61000, 65535, 0);
	struct frame req = arp(ARP_REQUEST, BCAST, GW_MAC, ROUTER, ZERO, VIP);
	struct frame reply = arp(ARP_REPLY, GW_MAC, node_mac, VIP, GW_MAC,
				 ROUTER);
	struct frame probe = arp(ARP_REQUEST, BCAST, GW_MAC, 0, ZERO, VIP);
	struct frame probe_reply = arp(ARP_REPLY, GW_MAC, node_mac, VIP,
				       GW_MAC, 0);
	struct frame other = arp(ARP_REQUEST, BCAST, GW_MAC, ROUTER, ZERO,
				 VIP_FAR);
	struct frame claim = arp(ARP_REQUEST, BCAST, OTHER_MAC, VIP, ZERO,
				 VIP);
	struct frame ours = arp(ARP_REQUEST, BCAST, node_mac, VIP, ZERO, VIP);
	uint32_t vips[] = {VIP, VIP_EMPTY};
	uint64_t counters[LB_C_MAX];
	struct dp_conflict c[4];
	struct frame cut = req;
	char err[256];
	(void)state;

	arp_case(dp, "nothing owned yet", &req, PASS, NULL);
	assert_int_equal(dp_announce(dp, vips, 2, err, sizeof(err)), 0);
	arp_case(dp, "owned, but no lease", &req, PASS, NULL);
	assert_int_equal(dp_lease(dp, mono_ns() + 60ull * 1000000000ull), 0);
	arp_case(dp, "a request for an owned VIP is answered", &req, TX,
		 &reply);
	arp_case(dp, "an address probe (sender 0.0.0.0) is answered", &probe,
		 TX, &probe_reply);
	arp_case(dp, "a VIP this node does not own is not answered", &other,
		 PASS, NULL);
	cut.len -= 1;
	arp_case(dp, "a truncated request passes", &cut, PASS, NULL);
	arp_case(dp, "a reply is not answered", &reply, PASS, NULL);
	arp_case(dp, "our own announcement is no conflict", &ours, PASS, NULL);
	assert_int_equal(dp_conflicts(dp, c, 4), 0);
	arp_case(dp, "another MAC claiming an owned VIP passes", &claim, PASS,
		 NULL);
	assert_int_equal(dp_conflicts(dp, c, 4), 1);
	assert_int_equal(c[0].vip, VIP);
	assert_memory_equal(c[0].mac, OTHER_MAC, 6);
	assert_int_equal(c[0].count, 2); /* once per entry */
	assert_int_equal(dp_counters(dp, counters), 0);
	assert_int_equal(counters[LB_C_ARP_REPLY], 4);
	assert_int_equal(counters[LB_C_ARP_CONFLICT], 2);

	/* Giving the VIP up forgets its conflict and silences it. */
	assert_int_equal(dp_announce(dp, &vips[1], 1, err, sizeof(err)), 0);
	assert_int_equal(dp_conflicts(dp, c, 4), 0);
	arp_case(dp, "a VIP given up is not answered", &req, PASS, NULL);
	/* The lease running out silences every VIP. */
	assert_int_equal(dp_announce(dp, vips, 2, err, sizeof(err)), 0);
	assert_int_equal(dp_lease(dp, mono_ns() - 1), 0);
	arp_case(dp, "an expired lease answers nothing", &req, PASS, NULL);
	dp_destroy(dp);
}

int main(void)
{
	cpu_set_t cpu;

	CPU_ZERO(&cpu);
	CPU_SET(0, &cpu);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snat_xdp),
		cmocka_unit_test(test_snat_tc),
		cmocka_unit_test(test_snat_ports_exhausted),
		cmocka_unit_test(test_flow_table_full),
		cmocka_unit_test(test_unreplied_yield_entries),
		cmocka_unit_test(test_unreplied_yield_ports),
		cmocka_unit_test(test_source_limit),
		cmocka_unit_test(test_hash_seed),
		cmocka_unit_test(test_backend_removed),
		cmocka_unit_test(test_table_sizes),
		cmocka_unit_test(test_gc),
		cmocka_unit_test(test_close_frees_the_flow),
		cmocka_unit_test(test_closed_port_reused),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_cold_neighbour),
		cmocka_unit_test(test_reply_to_cold_client),
		cmocka_unit_test(test_too_big_xdp),
		cmocka_unit_test(test_too_big_tc),
	};

	make_netns(node_mac, &ifindex);
	/* One CPU: the ring of unanswered flows is per CPU, and a test's
	 * runs must all see the same one. */
	if (sched_setaffinity(0, sizeof(cpu), &cpu)) {
		perror("sched_setaffinity");
		return 1;
	}
	return cmocka_run_group_tests_name("packet", tests, NULL, NULL);
}
