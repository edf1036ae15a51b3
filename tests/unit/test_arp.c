/* Unit tests of src/announce/arp.c: the bytes of the frames the agent
 * sends as gratuitous ARP, against RFC 826's layout written out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_garp),
	};

	return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}
