/* Unit tests of src/announce/pins.c: a DSR worker's verified LB node MACs.
 * A MAC is pinned only from a probe window it has alone; a stranger's
 * claim (a forged gratuitous ARP) is reported, never believed, and brings
 * a probe; several answers are a conflict; pins are re-verified, and an
 * earlier agent's are believed while checked again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "announce/pins.h"

#define LB1 0xc612000bu /* 198.18.0.11 */
#define LB2 0xc612000cu

static const uint8_t M1[6] = {2, 0, 0, 0, 0, 0x0b};
static const uint8_t M2[6] = {2, 0, 0, 0, 0, 0x0c};
static const uint8_t ROGUE[6] = {2, 0, 0, 0, 0, 0x66};

struct run {
	uint32_t probe[2];
	size_t nprobe, nev;
	struct pin_event ev[2];
};

static void tick(struct pins *p, uint64_t now, struct run *r)
{
	r->nprobe = pins_tick(p, now, r->probe, r->ev, &r->nev);
}

/* LB1 claimed by mac (NULL: nobody) in the window that ends at now. */
static void window(struct pins *p, const uint8_t *mac, uint64_t now,
		   struct run *r)
{
	if (mac)
		pins_claim(p, LB1, mac);
	tick(p, now, r);
}

/* Tracks LB1 alone, probed at 1000. */
static void start(struct pins *p, struct run *r)
{
	static const uint32_t ips[] = {LB1};

	pins_nodes(p, ips, 1);
	tick(p, 1000, r);
}

/* The pin of ip, or NULL. */
static const uint8_t *pin_of(const struct pins *p, uint32_t ip)
{
	static uint8_t macs[2][6];
	uint32_t ips[2];
	size_t n = pins_believed(p, ips, macs);

	for (size_t i = 0; i < n; i++)
		if (ips[i] == ip)
			return macs[i];
	return NULL;
}

/* Both nodes probed at once; each answers alone and is pinned; a pinned
 * node is not probed again until the re-verification is due. */
static void test_pinned_from_probe(void **state)
{
	static const uint32_t ips[] = {LB2, LB1};
	struct pins p = {0};
	struct run r;
	(void)state;

	pins_nodes(&p, ips, 2);
	/* a claim before any probe is no proof */
	window(&p, M1, 1000, &r);
	assert_int_equal(r.nprobe, 2);
	assert_int_equal(r.probe[0], LB1); /* sorted */
	assert_null(pin_of(&p, LB1));
	pins_claim(&p, LB1, M1);
	pins_claim(&p, LB1, M1); /* the same MAC twice is one */
	pins_claim(&p, LB2, M2);
	pins_claim(&p, 0xc6120063u, ROGUE); /* no LB node's */
	tick(&p, 1500, &r);
	assert_int_equal(r.nprobe, 0);
	assert_int_equal(r.nev, 2);
	assert_int_equal(r.ev[0].kind, PIN_ADOPTED);
	assert_false(r.ev[0].had);
	assert_memory_equal(r.ev[0].mac, M1, 6);
	assert_memory_equal(pin_of(&p, LB1), M1, 6);
	assert_memory_equal(pin_of(&p, LB2), M2, 6);
	/* the LB node's own ARP traffic changes nothing */
	window(&p, M1, 2000, &r);
	assert_int_equal(r.nprobe + r.nev, 0);
	/* re-verified after PIN_REVERIFY_MS, and kept when it answers */
	tick(&p, 1500 + PIN_REVERIFY_MS, &r);
	assert_int_equal(r.nprobe, 2);
	window(&p, M1, 2000 + PIN_REVERIFY_MS, &r);
	assert_int_equal(r.nev, 0);
	assert_memory_equal(pin_of(&p, LB1), M1, 6);
	/* LB2 did not answer: still pinned, probed again */
	assert_memory_equal(pin_of(&p, LB2), M2, 6);
	assert_int_equal(r.nprobe, 1);
	assert_int_equal(r.probe[0], LB2);
	/* a node no longer an LB node is forgotten; one without an address
	 * is never tracked */
	pins_nodes(&p, (const uint32_t[]){LB1, 0}, 2);
	assert_int_equal(p.n, 1);
	assert_null(pin_of(&p, LB2));
	assert_memory_equal(pin_of(&p, LB1), M1, 6);
	pins_free(&p);
}

/* A host poisoning the worker's cache (a gratuitous ARP claiming LB1's
 * address) is reported once, not believed, and the probe it brings is
 * answered by LB1: the pin holds.  When both answer, it holds too. */
static void test_poisoner_not_believed(void **state)
{
	struct pins p = {0};
	struct run r;
	(void)state;

	start(&p, &r);
	window(&p, M1, 1500, &r);
	window(&p, ROGUE, 2000, &r);
	assert_int_equal(r.nev, 1);
	assert_int_equal(r.ev[0].kind, PIN_STRANGER);
	assert_memory_equal(r.ev[0].mac, ROGUE, 6);
	assert_true(r.ev[0].had);
	assert_memory_equal(r.ev[0].was, M1, 6);
	assert_int_equal(r.nprobe, 1);
	assert_memory_equal(pin_of(&p, LB1), M1, 6);
	window(&p, M1, 2500, &r);
	assert_int_equal(r.nev + r.nprobe, 0);
	assert_memory_equal(pin_of(&p, LB1), M1, 6);
	/* again: not reported twice, probed again; both answer this time */
	window(&p, ROGUE, 3000, &r);
	assert_int_equal(r.nev, 0);
	assert_int_equal(r.nprobe, 1);
	pins_claim(&p, LB1, ROGUE);
	window(&p, M1, 3500, &r);
	assert_int_equal(r.nev, 0); /* the same stranger, reported already */
	assert_memory_equal(pin_of(&p, LB1), M1, 6);
	/* ... but reported again once PIN_REVERIFY_MS has passed */
	window(&p, ROGUE, 2000 + PIN_REVERIFY_MS, &r);
	assert_int_equal(r.nev, 1);
	pins_free(&p);
}

/* Two MACs answering a node never pinned: neither is believed until one
 * answers alone.  A node whose pinned MAC no longer answers and another
 * one alone does: the new one is adopted, and said so. */
static void test_conflict_and_change(void **state)
{
	struct pins p = {0};
	struct run r;
	(void)state;

	start(&p, &r);
	pins_claim(&p, LB1, ROGUE);
	window(&p, M1, 1500, &r);
	assert_int_equal(r.nev, 1);
	assert_int_equal(r.ev[0].kind, PIN_CONFLICT);
	assert_int_equal(r.ev[0].nseen, 2);
	assert_false(r.ev[0].kept);
	assert_null(pin_of(&p, LB1));
	assert_int_equal(r.nprobe, 1);
	window(&p, M1, 2000, &r);
	assert_memory_equal(pin_of(&p, LB1), M1, 6);
	/* a new NIC: only it answers the re-verification */
	tick(&p, 2000 + PIN_REVERIFY_MS, &r);
	assert_int_equal(r.nprobe, 1);
	window(&p, M2, 2500 + PIN_REVERIFY_MS, &r);
	assert_int_equal(r.nev, 1);
	assert_int_equal(r.ev[0].kind, PIN_ADOPTED);
	assert_true(r.ev[0].had);
	assert_memory_equal(r.ev[0].was, M1, 6);
	assert_memory_equal(pin_of(&p, LB1), M2, 6);
	pins_free(&p);
}

/* What an earlier agent verified is believed at once, and probed. */
static void test_seed(void **state)
{
	static const uint32_t ips[] = {LB1};
	struct pins p = {0};
	struct run r;
	(void)state;

	pins_nodes(&p, ips, 1);
	pins_seed(&p, LB1, M1, 100000);
	pins_seed(&p, LB2, M2, 100000); /* no LB node any more: ignored */
	assert_memory_equal(pin_of(&p, LB1), M1, 6);
	assert_null(pin_of(&p, LB2));
	tick(&p, 100000, &r);
	assert_int_equal(r.nprobe, 1);
	window(&p, M1, 100500, &r);
	assert_int_equal(r.nev + r.nprobe, 0);
	assert_memory_equal(pin_of(&p, LB1), M1, 6);
	pins_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_from_probe),
		cmocka_unit_test(test_poisoner_not_believed),
		cmocka_unit_test(test_conflict_and_change),
		cmocka_unit_test(test_seed),
	};

	return cmocka_run_group_tests_name("pins", tests, NULL, NULL);
}
