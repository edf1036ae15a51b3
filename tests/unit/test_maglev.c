/* Unit tests of src/dataplane/maglev: the Maglev lookup table is full and
 * even, the same on every agent whatever the order of the backends, moves
 * few flows when a backend goes and exactly restores them when it comes
 * back, and rejects what it cannot build. */
#include "helpers.h"

#include <errno.h>
#include <stdlib.h>

#include "dataplane/maglev.h"
#include "lib/hash.h"

#define MAX_BACKENDS 1000
#define MAX_SIZE 131071

static uint32_t table[MAX_SIZE], other[MAX_SIZE];

/* Backends as pods get them: 10.244.x.y:8080, in address order. */
static void pods(struct maglev_backend *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		b[i] = (struct maglev_backend){
			.ip = 0x0af40000u + (uint32_t)(i / 250 * 256 + i % 250 + 2),
			.port = 8080,
		};
	}
}

static int same(const struct maglev_backend *x, const struct maglev_backend *y)
{
	return x->ip == y->ip && x->port == y->port;
}

/* Asserts that t (built from b) and u (built from c) send every slot to the
 * same (ip, port). */
static void assert_same_backends(const struct maglev_backend *b,
				 const uint32_t *t,
				 const struct maglev_backend *c,
				 const uint32_t *u, uint32_t m)
{
	for (uint32_t s = 0; s < m; s++)
		if (!same(&b[t[s]], &c[u[s]]))
			fail_msg("slot %u: backend %u vs %u", s, t[s], u[s]);
}

/* A digest of the table's values, independent of the machine's byte order. */
static uint64_t digest(const uint32_t *t, uint32_t m)
{
	uint64_t d = m;

	for (uint32_t s = 0; s < m; s++)
		d = hash_mix64(d ^ t[s]);
	return d;
}

static void shuffle(struct maglev_backend *b, size_t n, uint64_t *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(hash_mix64(++*rng) % i);
		struct maglev_backend x = b[i - 1];

		b[i - 1] = b[j];
		b[j] = x;
	}
}

static void test_pick_size(void **state)
{
	struct maglev_backend b[1];
	size_t ns[] = {0, 1, 3, 10, 100, 101, 300, 1000, 1310, 5000};
	uint32_t prev = 0;
	(void)state;

	pods(b, 1);
	assert_int_equal(maglev_pick_size(0), 65521);
	assert_int_equal(maglev_pick_size(100), 65521);
	assert_int_equal(maglev_pick_size(101), 131071);
	assert_int_equal(maglev_pick_size(100000), 131071);
	for (size_t i = 0; i < sizeof(ns) / sizeof(*ns); i++) {
		uint32_t m = maglev_pick_size(ns[i]);

		assert_true(m >= prev);
		if (ns[i] <= 1310)
			assert_true(m >= 100 * ns[i]);
		/* maglev_build accepts only primes. */
		assert_int_equal(maglev_build(b, 1, table, m), 0);
		prev = m;
	}
}

static void test_bad_size(void **state)
{
	struct maglev_backend b[3];
	const uint32_t bad[] = {0, 1, 4, 9, 1000, 16383, 65535, 65537 * 3};
	(void)state;

	pods(b, 3);
	table[0] = 42;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(maglev_build(b, 1, table, bad[i]), -EINVAL);
	/* The table must be larger than the backend count. */
	assert_int_equal(maglev_build(b, 3, table, 3), -EINVAL);
	assert_int_equal(maglev_build(b, 2, table, 2), -EINVAL);
	assert_int_equal(maglev_build(b, 0, table, 4), -EINVAL);
	assert_int_equal(table[0], 42);
	/* The smallest tables that fit. */
	assert_int_equal(maglev_build(b, 1, table, 2), 0);
	assert_int_equal(table[0], 0);
	assert_int_equal(table[1], 0);
	assert_int_equal(maglev_build(b, 3, table, 5), 0);
	for (uint32_t s = 0; s < 5; s++)
		assert_true(table[s] < 3);
}

static void test_empty(void **state)
{
	(void)state;

	assert_int_equal(maglev_build(NULL, 0, table, 251), 0);
	for (uint32_t s = 0; s < 251; s++)
		assert_true(table[s] == MAGLEV_NONE);
}

static void test_duplicate(void **state)
{
	struct maglev_backend b[4];
	(void)state;

	pods(b, 4);
	b[3] = b[1];
	b[3].weight = 2;
	table[0] = 42;
	assert_int_equal(maglev_build(b, 4, table, 251), -EINVAL);
	assert_int_equal(table[0], 42);
	/* The same address on another port, or another address on the same
	 * port, is another backend. */
	b[3].port = 8081;
	assert_int_equal(maglev_build(b, 4, table, 251), 0);
	b[3].port = 8080;
	b[3].ip++;
	assert_int_equal(maglev_build(b, 4, table, 251), -EINVAL); /* = b[2] */
	b[3].ip = 0x0af40101;
	assert_int_equal(maglev_build(b, 4, table, 251), 0);
}

/* Every slot holds a backend and each backend m/n of them, give or take
 * one: within 1% of each other when m >= 100 n. */
static void test_full_and_even(void **state)
{
	static struct maglev_backend b[MAX_BACKENDS];
	static uint32_t count[MAX_BACKENDS];
	const size_t ns[] = {1, 2, 3, 10, 100, 1000};
	(void)state;

	for (size_t k = 0; k < sizeof(ns) / sizeof(*ns); k++) {
		size_t n = ns[k];
		uint32_t m = maglev_pick_size(n), lo = UINT32_MAX, hi = 0;

		pods(b, n);
		memset(count, 0, sizeof(count));
		assert_int_equal(maglev_build(b, n, table, m), 0);
		for (uint32_t s = 0; s < m; s++) {
			assert_true(table[s] < n);
			count[table[s]]++;
		}
		for (size_t i = 0; i < n; i++) {
			lo = count[i] < lo ? count[i] : lo;
			hi = count[i] > hi ? count[i] : hi;
		}
		assert_true(hi - lo <= 1);
		assert_true(hi <= lo + lo / 100);
	}
}

/* Agents list backends in their own order and must agree slot by slot; the
 * table does not change from one release to the next either (pinned). */
static void test_same_everywhere(void **state)
{
	static struct maglev_backend b[50], c[50];
	const uint32_t pin[] = {1, 0, 2, 0, 1, 0, 0, 2, 1, 1, 2, 2};
	uint64_t rng = 1;
	(void)state;

	pods(b, 3);
	assert_int_equal(maglev_build(b, 3, table, 251), 0);
	assert_memory_equal(table, pin, sizeof(pin));
	assert_true(digest(table, 251) == 0x08beabe8f289d19cULL);
	pods(b, 50);
	assert_int_equal(maglev_build(b, 50, table, 65521), 0);
	assert_true(digest(table, 65521) == 0xf087eabb2b831f64ULL);

	for (int round = 0; round < 5; round++) {
		for (size_t i = 0; i < 50; i++) {
			uint64_t h = hash_mix64(++rng);

			b[i] = (struct maglev_backend){
				.ip = (uint32_t)h,
				.port = (uint16_t)(80 + (h >> 32) % 3),
			};
		}
		memcpy(c, b, sizeof(b));
		shuffle(c, 50, &rng);
		assert_int_equal(maglev_build(b, 50, table, 16381), 0);
		assert_int_equal(maglev_build(c, 50, other, 16381), 0);
		assert_same_backends(b, table, c, other, 16381);
	}
}

/* When one of n backends goes, its slots go to the others and of the other
 * slots only a small share moves; when it comes back (last in the list),
 * the table is exactly the one before.
 *
 * Maglev trades perfect stability for balance, and the paper shows the
 * share that moves shrinks as the table grows.  With maglev_pick_size's
 * tables, over 1,400 random sets of 3 to 100 backends (11,600 removals), we
 * measured a mean of 0.57% at most, a 99th percentile of 0.75% and one
 * removal of 2.5% (one of 5 backends); these pod-like sets give 0.03%,
 * 0.23% and 0.57% (worst 0.66%).  The bounds: 1% on average, issue #4's
 * target, and 1.5% for any one removal. */
#define MAX_MOVED_MEAN 0.01
#define MAX_MOVED_ONE 0.015

static void check_removals(size_t n)
{
	static struct maglev_backend b[MAX_BACKENDS], c[MAX_BACKENDS];
	uint32_t m = maglev_pick_size(n);
	uint64_t moved_all = 0, kept_all = 0;

	pods(b, n);
	assert_int_equal(maglev_build(b, n, table, m), 0);
	for (size_t r = 0; r < n; r++) {
		uint32_t moved = 0, kept = 0;
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (i != r)
				c[k++] = b[i];
		assert_int_equal(maglev_build(c, k, other, m), 0);
		for (uint32_t s = 0; s < m; s++) {
			assert_true(other[s] < k);
			if (table[s] == r)
				continue;
			kept++;
			moved += !same(&b[table[s]], &c[other[s]]);
		}
		moved_all += moved;
		kept_all += kept;
		assert_true(moved <= MAX_MOVED_ONE * kept);

		c[k] = b[r];
		assert_int_equal(maglev_build(c, n, other, m), 0);
		assert_same_backends(b, table, c, other, m);
	}
	assert_true(moved_all <= MAX_MOVED_MEAN * kept_all);
}

static void test_removal(void **state)
{
	(void)state;

	check_removals(3);
	check_removals(10);
	check_removals(100);
}

/* A backend of weight w holds w / sum of weights of the slots; weight 0
 * counts as 1; equal weights give the table of no weights. */
static void test_weights(void **state)
{
	struct maglev_backend b[4], c[4];
	uint32_t count[4] = {0};
	const uint16_t w[4] = {1, 2, 3, 0};
	const uint32_t m = 65521;
	(void)state;

	pods(b, 4);
	assert_int_equal(maglev_build(b, 4, table, m), 0);
	memcpy(c, b, sizeof(b));
	for (size_t i = 0; i < 4; i++)
		c[i].weight = 7;
	assert_int_equal(maglev_build(c, 4, other, m), 0);
	assert_memory_equal(table, other, m * sizeof(*table));
	for (size_t i = 0; i < 4; i++)
		c[i].weight = i ? 1 : 0;
	assert_int_equal(maglev_build(c, 4, other, m), 0);
	assert_memory_equal(table, other, m * sizeof(*table));

	for (size_t i = 0; i < 4; i++)
		b[i].weight = w[i];
	assert_int_equal(maglev_build(b, 4, table, m), 0);
	for (uint32_t s = 0; s < m; s++)
		count[table[s]]++;
	for (size_t i = 0; i < 4; i++) {
		double want = m * (w[i] ? w[i] : 1) / 7.0;

		assert_true(count[i] >= want - 1 && count[i] <= want + 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_size),
		cmocka_unit_test(test_bad_size),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_full_and_even),
		cmocka_unit_test(test_same_everywhere),
		cmocka_unit_test(test_removal),
		cmocka_unit_test(test_weights),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
