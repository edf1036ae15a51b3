/* Unit tests of src/dataplane/nexthop: the backends' next hops from their
 * routes, which neighbour entries to create, take over, leave or remove,
 * and which backends are down: FAILED, through the INCOMPLETE of the
 * kernel's next probe, until an address is back. */
#include "helpers.h"

#include <linux/neighbour.h>
#include <stdlib.h>

#include "dataplane/nexthop.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

#define GW IP(198, 18, 0, 1)
#define W1 IP(198, 18, 0, 21)
#define W2 IP(198, 18, 0, 22)
#define POD11 IP(198, 19, 21, 2)
#define POD12 IP(198, 19, 21, 3)
#define POD21 IP(198, 19, 22, 2)
#define ONLINK IP(198, 18, 0, 40)
#define LOCAL IP(198, 19, 11, 2)

/* Two workers' pods, one on-link backend, one local (no hop), in no
 * particular order and with a duplicate. */
static const struct nh_route routes[] = {
	{POD21, W2}, {POD11, W1}, {ONLINK, ONLINK}, {LOCAL, 0},
	{POD12, W1}, {POD11, W1},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static void test_routes(void **state)
{
	struct nh_table t = {0};
	(void)state;

	nh_set_routes(&t, routes, NROUTES);
	assert_int_equal(t.nroutes, 5);
	for (size_t i = 1; i < t.nroutes; i++)
		assert_true(t.routes[i - 1].backend < t.routes[i].backend);
	assert_int_equal(t.nhops, 3);
	assert_int_equal(t.hops[0].ip, W1);
	assert_int_equal(t.hops[0].nbackends, 2);
	assert_int_equal(t.hops[1].ip, W2);
	assert_int_equal(t.hops[2].ip, ONLINK);
	assert_int_equal(t.hops[2].nbackends, 1);
	assert_int_equal(nh_hop_of(&t, POD12)->ip, W1);
	assert_null(nh_hop_of(&t, LOCAL));
	assert_non_null(nh_route_of(&t, LOCAL));
	assert_null(nh_route_of(&t, GW));
	assert_null(nh_hop_of(&t, GW));

	/* a hop that stays keeps its state; a new one starts unknown */
	assert_true(nh_observe(&t, W1, NUD_FAILED));
	nh_set_routes(&t, (const struct nh_route[]){{POD11, W1}, {POD21, GW}},
		      2);
	assert_int_equal(t.nhops, 2);
	assert_true(t.hops[0].ip == GW && !t.hops[0].down);
	assert_true(t.hops[1].ip == W1 && t.hops[1].down);
	assert_int_equal(t.hops[1].state, NUD_FAILED);

	nh_set_routes(&t, NULL, 0);
	assert_int_equal(t.nhops, 0);
	assert_null(nh_hop_of(&t, POD11));
	nh_free(&t);
}

static void test_is_down(void **state)
{
	(void)state;
	assert_true(nh_is_down(false, NUD_FAILED));
	assert_true(nh_is_down(true, NUD_FAILED));
	/* the kernel probes a FAILED managed entry again: still down */
	assert_true(nh_is_down(true, NUD_INCOMPLETE));
	assert_true(nh_is_down(true, NUD_NONE));
	/* a first resolution is not a failure */
	assert_false(nh_is_down(false, NUD_INCOMPLETE));
	assert_false(nh_is_down(false, NUD_NONE));
	/* any state holding an address is up */
	assert_false(nh_is_down(true, NUD_REACHABLE));
	assert_false(nh_is_down(true, NUD_STALE));
	assert_false(nh_is_down(true, NUD_DELAY));
	assert_false(nh_is_down(true, NUD_PROBE));
	assert_false(nh_is_down(true, NUD_PERMANENT));
	assert_false(nh_is_down(true, NUD_NOARP));
}

static void test_observe(void **state)
{
	struct nh_table t = {0};
	uint32_t *down;
	(void)state;

	nh_set_routes(&t, routes, NROUTES);
	assert_false(nh_observe(&t, W1, NUD_INCOMPLETE));
	assert_false(nh_observe(&t, W1, NUD_REACHABLE));
	assert_false(nh_observe(&t, GW, NUD_FAILED)); /* no hop of ours */
	assert_int_equal(nh_down_backends(&t, &down), 0);
	free(down);

	assert_false(nh_observe(&t, W1, NUD_STALE));
	assert_false(nh_observe(&t, W1, NUD_PROBE));
	assert_true(nh_observe(&t, W1, NUD_FAILED)); /* the change only */
	assert_false(nh_observe(&t, W1, NUD_FAILED));
	assert_false(nh_observe(&t, W1, NUD_INCOMPLETE));
	assert_int_equal(nh_down_backends(&t, &down), 2);
	assert_int_equal(down[0], POD11);
	assert_int_equal(down[1], POD12);
	free(down);
	assert_int_equal(nh_hop_of(&t, POD11)->state, NUD_INCOMPLETE);

	assert_true(nh_observe(&t, W1, NUD_REACHABLE));
	assert_int_equal(nh_down_backends(&t, &down), 0);
	free(down);

	/* from a dump: a hop without an entry keeps what it was */
	assert_true(nh_observe(&t, W2, NUD_FAILED));
	assert_true(nh_observe_entries(
		&t,
		(const struct nh_entry[]){{GW, NUD_REACHABLE, false, false},
					  {W1, NUD_FAILED, true, true}},
		2));
	assert_int_equal(nh_down_backends(&t, &down), 3);
	assert_int_equal(down[2], POD21);
	free(down);
	assert_int_equal(nh_hop_of(&t, POD21)->state, NUD_NONE);
	assert_false(nh_observe_entries(&t, NULL, 0));
	nh_free(&t);
}

static void test_plan(void **state)
{
	struct nh_table t = {0};
	/* W1: bmlb's already; W2: learned by the kernel; ONLINK: none */
	struct nh_entry e[] = {
		{W2, NUD_REACHABLE, false, false},
		{GW, NUD_REACHABLE, false, false},  /* nobody's hop: left */
		{IP(198, 18, 0, 23), NUD_FAILED, true, true}, /* bmlb's, unused */
		{W1, NUD_STALE, true, true},
	};
	uint32_t *create, *remove;
	size_t nc, nr;
	(void)state;

	nh_set_routes(&t, routes, NROUTES);
	nh_plan(&t, e, 4, &create, &nc, &remove, &nr);
	assert_int_equal(nc, 2);
	assert_int_equal(create[0], W2); /* taken over: made managed */
	assert_int_equal(create[1], ONLINK);
	assert_int_equal(nr, 1);
	assert_int_equal(remove[0], IP(198, 18, 0, 23));
	for (size_t i = 0; i < t.nhops; i++)
		assert_true(t.hops[i].ours);
	free(create);
	free(remove);

	/* an operator's static entries and another program's managed one are
	 * left as they are, and are not bmlb's to remove either */
	e[0] = (struct nh_entry){W2, NUD_PERMANENT, false, false};
	e[1] = (struct nh_entry){ONLINK, NUD_REACHABLE, true, false};
	e[2] = (struct nh_entry){W1, NUD_NOARP, false, false};
	nh_plan(&t, e, 3, &create, &nc, &remove, &nr);
	assert_int_equal(nc, 0);
	assert_int_equal(nr, 0);
	for (size_t i = 0; i < t.nhops; i++)
		assert_false(t.hops[i].ours);
	free(create);
	free(remove);

	/* bmlb's entry no longer managed (changed by hand): made so again */
	e[0] = (struct nh_entry){W1, NUD_REACHABLE, false, true};
	nh_plan(&t, e, 1, &create, &nc, &remove, &nr);
	assert_int_equal(nc, 3);
	assert_int_equal(create[0], W1);
	free(create);
	free(remove);

	/* no hops any more: every entry of bmlb's goes, once */
	nh_set_routes(&t, NULL, 0);
	e[0] = (struct nh_entry){W1, NUD_REACHABLE, true, true};
	e[1] = (struct nh_entry){W2, NUD_REACHABLE, false, false};
	e[2] = (struct nh_entry){W1, NUD_REACHABLE, true, true};
	nh_plan(&t, e, 3, &create, &nc, &remove, &nr);
	assert_int_equal(nc, 0);
	assert_int_equal(nr, 1);
	assert_int_equal(remove[0], W1);
	free(create);
	free(remove);
	nh_free(&t);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(nh_state_name(NUD_FAILED), "FAILED");
	assert_string_equal(nh_state_name(NUD_REACHABLE), "REACHABLE");
	assert_string_equal(nh_state_name(NUD_INCOMPLETE), "INCOMPLETE");
	assert_string_equal(nh_state_name(NUD_PERMANENT), "PERMANENT");
	assert_string_equal(nh_state_name(NUD_NONE), "NONE");
}

/* A flushed entry is announced FAILED, then deleted: the event leaves
 * the hop up; the table, where a dead next hop stays FAILED, decides. */
static void test_observe_event(void **state)
{
	struct nh_table t = {0};
	struct nh_entry failed = {.ip = W1, .state = NUD_FAILED};
	(void)state;

	nh_set_routes(&t, (const struct nh_route[]){{POD11, W1}}, 1);
	assert_false(nh_observe_event(&t, W1, NUD_FAILED));
	assert_false(nh_observe_event(&t, W1, NUD_NONE));
	assert_false(t.hops[0].down);
	/* re-made, still resolving at the tick: not down */
	assert_false(nh_observe_entries(
		&t, &(struct nh_entry){.ip = W1, .state = NUD_INCOMPLETE}, 1));
	assert_false(t.hops[0].down);
	assert_true(nh_observe_entries(&t, &failed, 1));
	assert_true(t.hops[0].down);
	assert_true(nh_observe_event(&t, W1, NUD_REACHABLE));
	/* announced FAILED, then INCOMPLETE in the table (re-probed): down */
	assert_false(nh_observe_event(&t, W1, NUD_FAILED));
	failed.state = NUD_INCOMPLETE;
	assert_true(nh_observe_entries(&t, &failed, 1));
	assert_true(t.hops[0].down);
	nh_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_is_down),
		cmocka_unit_test(test_observe),
		cmocka_unit_test(test_observe_event),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
