/* Unit tests of src/announce/arp.c: the bytes of the frames the agent
 * sends as gratuitous ARP, against RFC 826's layout written out by hand,
 * those frames read back, and the pace of defending an address. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <stdint.h>
#include <cmocka.h>

#include "announce/arp.h"

static void test_garp(void **state)
{
	static const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	static const uint8_t want[2][ARP_FRAME_LEN] = {
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* to everyone */
		 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
		 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, /* request */
		 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 198, 18, 0, 100,
		 0, 0, 0, 0, 0, 0, 198, 18, 0, 100},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
		 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02, /* reply */
		 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 198, 18, 0, 100,
		 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 198, 18, 0, 100},
	};
	uint8_t got[2][ARP_FRAME_LEN];
	(void)state;

	arp_garp(got, mac, 198u << 24 | 18u << 16 | 100);
	assert_memory_equal(got[0], want[0], ARP_FRAME_LEN);
	assert_memory_equal(got[1], want[1], ARP_FRAME_LEN);
}

/* A frame parses back into its fields; anything but ARP for IPv4 over
 * Ethernet, or a frame cut short, does not. */
static void test_parse(void **state)
{
	static const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	uint8_t frames[2][ARP_FRAME_LEN];
	struct arp_fields f;
	(void)state;

	arp_garp(frames, mac, 198u << 24 | 18u << 16 | 100);
	assert_int_equal(arp_parse(frames[1], ARP_FRAME_LEN, &f), 0);
	assert_int_equal(f.op, ARP_REPLY);
	assert_memory_equal(f.sha, mac, 6);
	assert_memory_equal(f.src, mac, 6);
	assert_int_equal(f.spa, 198u << 24 | 18u << 16 | 100);
	assert_int_equal(f.tpa, f.spa);
	assert_int_equal(arp_parse(frames[1], ARP_FRAME_LEN - 1, &f),
			 -EINVAL);
	frames[1][13] = 0x00; /* ethertype 0x0800: IPv4, not ARP */
	assert_int_equal(arp_parse(frames[1], ARP_FRAME_LEN, &f), -EINVAL);
	frames[0][19] = 16; /* protocol addresses of 16 bytes */
	assert_int_equal(arp_parse(frames[0], ARP_FRAME_LEN, &f), -EINVAL);
}

/* One defence per RFC 5227's DEFEND_INTERVAL (10 s). */
static void test_defend(void **state)
{
	uint64_t last = 0;
	(void)state;

	assert_true(arp_defend(&last, 50000));
	assert_int_equal(last, 50000);
	assert_false(arp_defend(&last, 50001));
	assert_false(arp_defend(&last, 50000 + ARP_DEFEND_INTERVAL_MS - 1));
	assert_int_equal(last, 50000);
	assert_true(arp_defend(&last, 50000 + ARP_DEFEND_INTERVAL_MS));
	assert_int_equal(last, 50000 + ARP_DEFEND_INTERVAL_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garp),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_defend),
	};

	return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}
