/* Packet tests of bench/nodeport's reflector (src/bpf/reflect.bpf.c): a
 * frame a node forwarded, translated or not, comes back as the frame the
 * client sent (the loop tag's addresses and ports, TTL 64, MACs swapped)
 * with both checksums right, checked against frames built from scratch;
 * anything without a tag passes untouched.  A wrong checksum here would
 * make the bench measure drops instead of forwarding.
 *
 * Crafted frames through BPF_PROG_TEST_RUN; the program is never attached.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <bpf/libbpf.h>
#include <cmocka.h>

#include "bpf/loop_tag.h"
#include "frames.h"
#include "reflect.skel.h"
#include "run.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define CLIENT IP(203, 0, 113, 10)
#define NODE IP(198, 18, 0, 21)
#define POD IP(198, 19, 22, 2)
#define LO 1 /* test runs need an interface: loopback, nothing is sent */

static const uint8_t NODE_MAC[6] = {2, 0, 0, 0, 0, 0x21};
static const uint8_t W2_MAC[6] = {2, 0, 0, 0, 0, 0x22};
static struct reflect *skel;
static int fd;

/* The client's datagram: its tag names itself, as udpflood writes it. */
static struct loop_tag tag_of(uint32_t saddr, uint32_t daddr,
			      uint16_t sport, uint16_t dport)
{
	struct loop_tag t = {.saddr = htonl(saddr), .daddr = htonl(daddr),
			     .sport = htons(sport), .dport = htons(dport)};

	memcpy(t.magic, LOOP_MAGIC, sizeof(t.magic));
	return t;
}

static struct pspec udp(const uint8_t *dmac, const uint8_t *smac,
			uint32_t saddr, uint32_t daddr, uint16_t sport,
			uint16_t dport, uint8_t ttl, const struct loop_tag *t)
{
	struct pspec s = {.proto = IPPROTO_UDP, .saddr = saddr,
			  .daddr = daddr, .sport = sport, .dport = dport,
			  .ttl = ttl, .payload = (const char *)t,
			  .payload_len = t ? sizeof(*t) : 0};

	memcpy(s.dmac, dmac, 6);
	memcpy(s.smac, smac, 6);
	return s;
}

/* The node sent saddr:sport -> daddr:dport (TTL 63) of the client's
 * datagram t: the reflector sends the client's own frame back to it. */
static void comes_back(uint32_t saddr, uint32_t daddr, uint16_t sport,
		       uint16_t dport, const struct loop_tag *t, bool no_csum,
		       const char *what)
{
	struct pspec fwd = udp(W2_MAC, NODE_MAC, saddr, daddr, sport, dport,
			       63, t);
	struct pspec back = udp(NODE_MAC, W2_MAC, ntohl(t->saddr),
				ntohl(t->daddr), ntohs(t->sport),
				ntohs(t->dport), 64, t);

	fwd.udp_csum_off = back.udp_csum_off = no_csum;
	run_expect(fd, false, LO, &fwd, XDP_TX, &back, what);
}

/* NodePort SNAT: node:30001 -> pod:5353 becomes client:20000 ->
 * node:30053 again, addressed to the node. */
static void test_translated_frame_comes_back(void **state)
{
	struct loop_tag t = tag_of(CLIENT, NODE, 20000, 30053);

	(void)state;
	comes_back(NODE, POD, 30001, 5353, &t, false, "SNAT'd frame");
}

/* Plain forwarding: only the TTL and the MACs changed. */
static void test_forwarded_frame_comes_back(void **state)
{
	struct loop_tag t = tag_of(CLIENT, POD, 20001, 5353);

	(void)state;
	comes_back(CLIENT, POD, 20001, 5353, &t, false, "forwarded frame");
}

/* A datagram without a checksum keeps none. */
static void test_no_udp_checksum_stays_none(void **state)
{
	struct loop_tag t = tag_of(CLIENT, NODE, 20002, 30053);

	(void)state;
	comes_back(NODE, POD, 30002, 5353, &t, true, "checksum 0");
}

/* No tag, a tag cut short, another protocol: passed as they are. */
static void test_others_pass_untouched(void **state)
{
	struct loop_tag t = tag_of(CLIENT, NODE, 20003, 30053);
	struct loop_tag bad = t;
	struct pspec plain = udp(W2_MAC, NODE_MAC, NODE, POD, 30003, 5353, 63,
				 NULL);
	struct pspec wrong = udp(W2_MAC, NODE_MAC, NODE, POD, 30003, 5353, 63,
				 &bad);
	struct pspec cut = udp(W2_MAC, NODE_MAC, NODE, POD, 30003, 5353, 63, &t);
	struct pspec tcp = udp(W2_MAC, NODE_MAC, NODE, POD, 30003, 5353, 63, &t);

	(void)state;
	plain.payload = "hello";
	plain.payload_len = 0;
	bad.magic[0] ^= 1;
	cut.cut = 1;
	tcp.proto = IPPROTO_TCP;
	run_expect(fd, false, LO, &plain, XDP_PASS, &plain, "no tag");
	run_expect(fd, false, LO, &wrong, XDP_PASS, &wrong, "another magic");
	run_expect(fd, false, LO, &cut, XDP_PASS, NULL, "tag cut short");
	run_expect(fd, false, LO, &tcp, XDP_PASS, &tcp, "TCP");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translated_frame_comes_back),
		cmocka_unit_test(test_forwarded_frame_comes_back),
		cmocka_unit_test(test_no_udp_checksum_stays_none),
		cmocka_unit_test(test_others_pass_untouched),
	};
	int rc;

	skel = reflect__open_and_load();
	if (!skel) {
		fprintf(stderr, "reflect.bpf.o does not load\n");
		return 1;
	}
	fd = bpf_program__fd(skel->progs.xdp_reflect);
	rc = cmocka_run_group_tests_name("packet reflect", tests, NULL, NULL);
	reflect__destroy(skel);
	return rc;
}
