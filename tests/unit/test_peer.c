/* Unit tests of src/announce/{peer_msg,members,table}: the messages LB nodes
 * exchange (SPEC.md §4).  Only a key holder's fresh, well-formed message
 * from the right address is accepted; liveness follows HELLO, BYE and
 * silence; the peers still joining when this node joins count as owners;
 * the leader's allocation table crosses the wire in chunks that
 * reassemble in any order and are refused when corrupt. */
#include "helpers.h"

#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "announce/members.h"
#include "announce/peer_msg.h"
#include "announce/table.h"
#include "lib/xalloc.h"

static const char key[] = "0123456789abcdef0123456789abcdef";
#define KEYLEN (sizeof(key) - 1)
#define NOW_NS 1700000000000000000ull
#define SEC 1000000000ull
#define IP(n) (0xc6120000u + (n)) /* 198.18.0.n */

/* m with the given fields (no payload). */
static struct peer_msg msg(enum peer_type type, const char *name,
			   uint64_t ts, uint8_t flags)
{
	struct peer_msg m = {.type = type, .flags = flags, .ts_ns = ts,
			     .digest = 0x1122334455667788ull};

	snprintf(m.name, sizeof(m.name), "%s", name);
	return m;
}

static size_t seal(const struct peer_msg *m, uint8_t *buf)
{
	size_t n = peer_seal(m, key, KEYLEN, buf, PEER_DGRAM_MAX);

	assert_true(n > 0);
	return n;
}

/* Recomputes the HMAC of buf[0..len) as a key holder would, so that what
 * the format checks refuse is not refused by the HMAC alone. */
static void reseal(uint8_t *buf, size_t len)
{
	unsigned int n;

	assert_non_null(HMAC(EVP_sha256(), key, (int)KEYLEN, buf,
			     len - PEER_MAC_LEN, buf + len - PEER_MAC_LEN,
			     &n));
}

static enum peer_verdict open_(const uint8_t *buf, size_t len)
{
	struct peer_msg m;

	return peer_open(buf, len, key, KEYLEN, &m);
}

static void test_seal_open_round_trip(void **state)
{
	static const uint8_t chunk[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct peer_msg m = msg(PEER_HELLO, "lb-1", NOW_NS, PEER_F_READY), o;
	uint8_t buf[PEER_DGRAM_MAX];
	size_t n;
	(void)state;

	n = seal(&m, buf);
	assert_int_equal(n, PEER_HDR_LEN + 4 + PEER_MAC_LEN);
	assert_memory_equal(buf, "BMLB", 4);
	assert_int_equal(peer_open(buf, n, key, KEYLEN, &o), PEER_OK);
	assert_int_equal(o.type, PEER_HELLO);
	assert_int_equal(o.flags, PEER_F_READY);
	assert_true(o.ts_ns == NOW_NS);
	assert_true(o.digest == 0x1122334455667788ull);
	assert_string_equal(o.name, "lb-1");
	assert_int_equal(o.payload_len, 0);

	m = msg(PEER_TABLE, "lb-0123456789-0123456789-0123456789-0123456789-"
			    "0123456789-xyzzy", NOW_NS + 1, 0);
	assert_int_equal(strlen(m.name), PEER_NAME_MAX);
	m.payload = chunk;
	m.payload_len = sizeof(chunk);
	n = seal(&m, buf);
	assert_int_equal(peer_open(buf, n, key, KEYLEN, &o), PEER_OK);
	assert_int_equal(o.type, PEER_TABLE);
	assert_string_equal(o.name, m.name);
	assert_int_equal(o.payload_len, sizeof(chunk));
	assert_memory_equal(o.payload, chunk, sizeof(chunk));

	assert_string_equal(peer_verdict_name(PEER_OK), "ok");
	assert_string_equal(peer_verdict_name(PEER_AUTH), "auth");
	assert_string_equal(peer_verdict_name(PEER_SKEW), "skew");
}

static void test_seal_refuses(void **state)
{
	static const uint8_t chunk[] = {1};
	struct peer_msg m = msg(PEER_HELLO, "", NOW_NS, 0);
	uint8_t buf[PEER_DGRAM_MAX];
	size_t need;
	(void)state;

	assert_int_equal(peer_seal(&m, key, KEYLEN, buf, sizeof(buf)), 0);
	memset(m.name, 'a', sizeof(m.name)); /* 64 bytes, no NUL */
	assert_int_equal(peer_seal(&m, key, KEYLEN, buf, sizeof(buf)), 0);
	m = msg(PEER_HELLO, "lb-1", NOW_NS, 0);
	m.payload = chunk;
	m.payload_len = sizeof(chunk);
	assert_int_equal(peer_seal(&m, key, KEYLEN, buf, sizeof(buf)), 0);
	m.type = 4;
	assert_int_equal(peer_seal(&m, key, KEYLEN, buf, sizeof(buf)), 0);
	m.type = PEER_TABLE;
	need = peer_seal(&m, key, KEYLEN, buf, sizeof(buf));
	assert_int_equal(need, PEER_HDR_LEN + 4 + 1 + PEER_MAC_LEN);
	for (size_t cap = 0; cap < need; cap++)
		assert_int_equal(peer_seal(&m, key, KEYLEN, buf, cap), 0);
	assert_int_equal(peer_seal(&m, key, KEYLEN, buf, need), need);
}

/* Well-formed but for one field, and authentic: still refused. */
static void test_open_malformed(void **state)
{
	struct peer_msg m = msg(PEER_HELLO, "lb-1", NOW_NS, 0), o;
	uint8_t good[PEER_DGRAM_MAX], buf[PEER_DGRAM_MAX];
	size_t n = seal(&m, good);
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{0, 'X'}, {3, 'b'},    /* magic */
		{4, 0},   {4, 2},      /* version */
		{5, 0},   {5, 4},      /* type */
		{7, 0},   {7, 5},      /* name length: 0, past the end */
		{7, 64},  {7, 255},    /* longer than PEER_NAME_MAX */
		{25, 0},               /* NUL inside the name */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, good, n);
		buf[bad[i].off] = bad[i].val;
		reseal(buf, n);
		assert_int_equal(peer_open(buf, n, key, KEYLEN, &o),
				 PEER_MALFORMED);
		assert_string_equal(o.name, "");
	}
	/* Every truncation, and anything after a HELLO's name. */
	for (size_t len = 0; len < n; len++)
		assert_int_equal(open_(good, len), PEER_MALFORMED);
	memcpy(buf, good, n - PEER_MAC_LEN);
	buf[n - PEER_MAC_LEN] = 'x';
	reseal(buf, n + 1);
	assert_int_equal(open_(buf, n + 1), PEER_MALFORMED);
	memcpy(buf, good, n);
	reseal(buf, n);
	assert_int_equal(open_(buf, n), PEER_OK);
}

static void test_open_auth(void **state)
{
	static const uint8_t chunk[] = {9, 9};
	struct peer_msg m = msg(PEER_TABLE, "lb-3", NOW_NS, 0), o;
	uint8_t buf[PEER_DGRAM_MAX + 1];
	size_t n;
	(void)state;

	m.payload = chunk;
	m.payload_len = sizeof(chunk);
	n = seal(&m, buf);
	assert_int_equal(peer_open(buf, n, "another key, as long as the first",
				   33, &o), PEER_AUTH);
	assert_string_equal(o.name, "lb-3"); /* who it claims to be */
	assert_int_equal(peer_open(buf, n, key, KEYLEN - 1, &o), PEER_AUTH);
	/* Trailing garbage is payload to a TABLE: the HMAC no longer
	 * matches. */
	buf[n] = 0;
	assert_int_equal(open_(buf, n + 1), PEER_AUTH);
	assert_int_equal(open_(buf, n - 1), PEER_AUTH);
	assert_int_equal(open_(buf, n), PEER_OK);
}

/* Any one bit flipped anywhere, in every type: never accepted. */
static void test_bit_flips(void **state)
{
	static const uint8_t chunk[] = {1, 2, 3};
	static const enum peer_type types[] = {PEER_HELLO, PEER_BYE,
					       PEER_TABLE};
	uint8_t buf[PEER_DGRAM_MAX];
	(void)state;

	for (size_t t = 0; t < 3; t++) {
		struct peer_msg m = msg(types[t], "lb-2", NOW_NS, PEER_F_READY);
		size_t n;

		if (types[t] == PEER_TABLE) {
			m.payload = chunk;
			m.payload_len = sizeof(chunk);
		}
		n = seal(&m, buf);
		for (size_t bit = 0; bit < n * 8; bit++) {
			buf[bit / 8] ^= (uint8_t)(1u << bit % 8);
			assert_int_not_equal(open_(buf, n), PEER_OK);
			buf[bit / 8] ^= (uint8_t)(1u << bit % 8);
		}
		assert_int_equal(open_(buf, n), PEER_OK);
	}
}

/* lb-1 .. lb-4 at 198.18.0.1 .. 4; this node is lb-2. */
static void memb_setup(struct memb *mb)
{
	static const char *const names[] = {"lb-4", "lb-1", "lb-2", "lb-3",
					    "lb-1"};
	static const uint32_t ips[] = {IP(4), IP(1), IP(2), IP(3), IP(1)};

	memb_init(mb, "lb-2", names, ips, 5, 300);
}

/* Seals, opens and hands a message to mb, as the agent does. */
static struct memb_event deliver(struct memb *mb, const struct peer_msg *m,
				 uint32_t src, uint64_t now_ms,
				 uint64_t now_ns)
{
	uint8_t buf[PEER_DGRAM_MAX];
	size_t n = seal(m, buf);
	struct peer_msg o;
	enum peer_verdict v = peer_open(buf, n, key, KEYLEN, &o);

	return memb_receive(mb, v, &o, src, now_ms, now_ns);
}

static struct memb_event hello(struct memb *mb, const char *name,
			       uint64_t ts, uint8_t flags, uint64_t now_ms)
{
	struct peer_msg m = msg(PEER_HELLO, name, ts, flags);
	struct memb_peer *p = memb_find(mb, name);

	return deliver(mb, &m, p ? p->ip : IP(9), now_ms, NOW_NS);
}

static void test_members_init(void **state)
{
	struct memb mb;
	(void)state;

	memb_setup(&mb);
	assert_int_equal(mb.n, 3);
	assert_string_equal(mb.peers[0].name, "lb-1");
	assert_string_equal(mb.peers[1].name, "lb-3");
	assert_string_equal(mb.peers[2].name, "lb-4");
	assert_int_equal(memb_find(&mb, "lb-4")->ip, IP(4));
	assert_null(memb_find(&mb, "lb-2"));
	assert_null(memb_find(&mb, "lb-5"));
	assert_false(mb.peers[0].alive);
	memb_free(&mb);
}

static void test_replay(void **state)
{
	struct peer_msg m = msg(PEER_HELLO, "lb-3", NOW_NS, PEER_F_READY);
	uint8_t buf[PEER_DGRAM_MAX];
	size_t n = seal(&m, buf);
	struct memb_event ev;
	struct peer_msg o;
	struct memb mb;
	(void)state;

	memb_setup(&mb);
	/* The same datagram twice: the copy is refused. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(peer_open(buf, n, key, KEYLEN, &o), PEER_OK);
		ev = memb_receive(&mb, PEER_OK, &o, IP(3), 1000 + i, NOW_NS);
		assert_int_equal(ev.verdict, i ? PEER_REPLAY : PEER_OK);
		assert_ptr_equal(ev.peer, memb_find(&mb, "lb-3"));
	}
	assert_int_equal(ev.peer->accepted, 1);
	assert_int_equal(ev.peer->refused[PEER_REPLAY], 1);
	assert_int_equal(ev.peer->heard_ms, 1000);
	/* Older is refused; newer is taken. */
	assert_int_equal(hello(&mb, "lb-3", NOW_NS - 1, 1, 1002).verdict,
			 PEER_REPLAY);
	assert_int_equal(hello(&mb, "lb-3", NOW_NS + 1, 1, 1003).verdict,
			 PEER_OK);
	assert_int_equal(ev.peer->heard_ms, 1003);
	assert_true(ev.peer->last_ts == NOW_NS + 1);
	memb_free(&mb);
}

static void test_skew(void **state)
{
	struct memb mb;
	(void)state;

	memb_setup(&mb);
	assert_int_equal(hello(&mb, "lb-1", NOW_NS - PEER_SKEW_NS - 1, 1, 10)
				 .verdict, PEER_SKEW);
	assert_int_equal(hello(&mb, "lb-1", NOW_NS + PEER_SKEW_NS + 1, 1, 10)
				 .verdict, PEER_SKEW);
	assert_int_equal(memb_find(&mb, "lb-1")->refused[PEER_SKEW], 2);
	assert_false(memb_find(&mb, "lb-1")->alive);
	/* A refused future timestamp does not block later ones. */
	assert_int_equal(hello(&mb, "lb-1", NOW_NS - PEER_SKEW_NS, 1, 10)
				 .verdict, PEER_OK);
	assert_int_equal(hello(&mb, "lb-1", NOW_NS + PEER_SKEW_NS, 1, 10)
				 .verdict, PEER_OK);
	memb_free(&mb);
}

static void test_source_and_unknown(void **state)
{
	struct peer_msg m = msg(PEER_HELLO, "lb-3", NOW_NS, PEER_F_READY);
	struct memb_event ev;
	struct memb mb;
	(void)state;

	memb_setup(&mb);
	ev = deliver(&mb, &m, IP(4), 10, NOW_NS);
	assert_int_equal(ev.verdict, PEER_SOURCE);
	assert_false(ev.changed);
	assert_false(ev.peer->alive);
	assert_int_equal(ev.peer->refused[PEER_SOURCE], 1);
	assert_int_equal(ev.peer->last_ts, 0);

	ev = hello(&mb, "lb-9", NOW_NS, PEER_F_READY, 10);
	assert_int_equal(ev.verdict, PEER_UNKNOWN);
	assert_null(ev.peer);
	/* Our own name: another host claiming it, or our own echo. */
	m = msg(PEER_HELLO, "lb-2", NOW_NS, PEER_F_READY);
	ev = deliver(&mb, &m, IP(2), 10, NOW_NS);
	assert_int_equal(ev.verdict, PEER_UNKNOWN);
	assert_int_equal(mb.unattributed[PEER_UNKNOWN], 2);
	assert_null(memb_leader(&mb, false));
	memb_free(&mb);
}

static void test_refusal_counters(void **state)
{
	struct peer_msg m = msg(PEER_HELLO, "lb-4", NOW_NS, PEER_F_READY);
	uint8_t buf[PEER_DGRAM_MAX];
	size_t n = seal(&m, buf);
	struct memb_event ev;
	struct peer_msg o;
	struct memb mb;
	enum peer_verdict v;
	(void)state;

	memb_setup(&mb);
	v = peer_open(buf, n, "wrong key", 9, &o);
	for (int i = 0; i < 3; i++) {
		ev = memb_receive(&mb, v, &o, IP(7), 10, NOW_NS);
		assert_int_equal(ev.verdict, PEER_AUTH);
	}
	assert_int_equal(memb_find(&mb, "lb-4")->refused[PEER_AUTH], 3);
	assert_false(memb_find(&mb, "lb-4")->alive);

	m = msg(PEER_HELLO, "nobody", NOW_NS, 0);
	n = seal(&m, buf);
	v = peer_open(buf, n, "wrong key", 9, &o);
	memb_receive(&mb, v, &o, IP(7), 10, NOW_NS);
	v = peer_open(buf, 3, key, KEYLEN, &o);
	memb_receive(&mb, v, &o, IP(7), 10, NOW_NS);
	assert_int_equal(mb.unattributed[PEER_AUTH], 1);
	assert_int_equal(mb.unattributed[PEER_MALFORMED], 1);
	for (size_t i = 0; i < mb.n; i++) {
		assert_int_equal(mb.peers[i].accepted, 0);
		assert_int_equal(mb.peers[i].refused[PEER_MALFORMED], 0);
	}
	memb_free(&mb);
}

/* Every change of state says why; only the ready set's changes count. */
static void test_states(void **state)
{
	struct memb_peer *p;
	struct memb_event ev;
	struct peer_msg m;
	struct memb mb;
	uint64_t ts = NOW_NS;
	(void)state;

	memb_setup(&mb);
	p = memb_find(&mb, "lb-1");
	assert_null(p->why);
	ev = hello(&mb, "lb-1", ++ts, 0, 100);
	assert_true(p->alive && !p->ready && !ev.changed);
	assert_string_equal(p->why, "started");
	ev = hello(&mb, "lb-1", ++ts, PEER_F_READY, 200);
	assert_true(p->ready && ev.changed);
	assert_string_equal(p->why, "joined");
	assert_int_equal(p->changed_ms, 200);
	ev = hello(&mb, "lb-1", ++ts, PEER_F_READY, 250);
	assert_false(ev.changed);
	assert_int_equal(p->changed_ms, 200);
	/* A table chunk is heard but does not change readiness. */
	m = msg(PEER_TABLE, "lb-1", ++ts, 0);
	ev = deliver(&mb, &m, IP(1), 260, NOW_NS);
	assert_true(p->ready && !ev.changed);
	assert_int_equal(p->heard_ms, 260);
	ev = hello(&mb, "lb-1", ++ts, 0, 300);
	assert_true(p->alive && !p->ready && ev.changed);
	assert_string_equal(p->why, "not ready");

	/* BYE: dead at once. */
	hello(&mb, "lb-1", ++ts, PEER_F_READY, 310);
	m = msg(PEER_BYE, "lb-1", ++ts, 0);
	ev = deliver(&mb, &m, IP(1), 320, NOW_NS);
	assert_int_equal(ev.verdict, PEER_OK);
	assert_true(!p->alive && !p->ready && ev.changed);
	assert_string_equal(p->why, "stopped");
	assert_false(memb_expire(&mb, 10000));
	assert_string_equal(p->why, "stopped");

	/* Back with a table chunk: alive, not ready. */
	m = msg(PEER_TABLE, "lb-1", ++ts, PEER_F_READY);
	ev = deliver(&mb, &m, IP(1), 400, NOW_NS);
	assert_true(p->alive && !p->ready && !ev.changed);
	assert_string_equal(p->why, "came back");
	memb_free(&mb);
}

static void test_expire(void **state)
{
	struct memb mb;
	struct memb_peer *p3, *p4;
	(void)state;

	memb_setup(&mb);
	p3 = memb_find(&mb, "lb-3");
	p4 = memb_find(&mb, "lb-4");
	hello(&mb, "lb-3", NOW_NS, PEER_F_READY, 1000);
	hello(&mb, "lb-4", NOW_NS, 0, 1000);
	assert_false(memb_expire(&mb, 1000));
	assert_false(memb_expire(&mb, 1300)); /* exactly the timeout */
	assert_true(p3->alive && p4->alive);
	assert_true(memb_expire(&mb, 1301));
	assert_true(!p3->alive && !p3->ready && !p4->alive);
	assert_string_equal(p3->why, "missed messages");
	assert_int_equal(p3->changed_ms, 1301);
	assert_false(memb_expire(&mb, 5000));
	assert_int_equal(p3->changed_ms, 1301);

	/* A not-ready peer dies without changing the ready set. */
	hello(&mb, "lb-4", NOW_NS + 1, 0, 6000);
	assert_false(memb_expire(&mb, 6301));
	assert_false(p4->alive);
	/* Heard again: came back. */
	assert_true(hello(&mb, "lb-3", NOW_NS + 1, 1, 7000).changed);
	assert_string_equal(p3->why, "came back");

	/* Restarting: alive through the grace, then dead. */
	hello(&mb, "lb-3", NOW_NS + 2, PEER_F_READY | PEER_F_RESTART, 8000);
	assert_false(memb_expire(&mb, 8000 + PEER_RESTART_GRACE_MS));
	assert_true(p3->alive && p3->ready);
	assert_true(memb_expire(&mb, 8001 + PEER_RESTART_GRACE_MS));
	/* The next agent's HELLO ends the grace: the usual timeout holds. */
	hello(&mb, "lb-3", NOW_NS + 3, PEER_F_READY | PEER_F_RESTART, 30000);
	hello(&mb, "lb-3", NOW_NS + 4, PEER_F_READY, 30100);
	assert_true(memb_expire(&mb, 30401));
	memb_free(&mb);
}

static void assert_ready(const struct memb *mb, bool self_ready,
			 const char *want)
{
	const char **names;
	size_t n = memb_ready(mb, self_ready, &names);
	char got[256] = "";

	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(got, " ");
		strcat(got, names[i]);
	}
	free(names);
	assert_string_equal(got, want);
}

static void test_ready_and_leader(void **state)
{
	struct memb mb;
	(void)state;

	memb_setup(&mb);
	assert_ready(&mb, false, "");
	assert_ready(&mb, true, "lb-2");
	assert_null(memb_leader(&mb, false));
	assert_string_equal(memb_leader(&mb, true), "lb-2");

	hello(&mb, "lb-1", NOW_NS, 0, 10); /* alive, not ready */
	hello(&mb, "lb-4", NOW_NS, PEER_F_READY, 10);
	hello(&mb, "lb-3", NOW_NS, PEER_F_READY, 10);
	assert_ready(&mb, false, "lb-3 lb-4");
	assert_ready(&mb, true, "lb-2 lb-3 lb-4");
	assert_string_equal(memb_leader(&mb, false), "lb-3");
	assert_string_equal(memb_leader(&mb, true), "lb-2");

	hello(&mb, "lb-1", NOW_NS + 1, PEER_F_READY, 20);
	assert_ready(&mb, true, "lb-1 lb-2 lb-3 lb-4");
	assert_string_equal(memb_leader(&mb, true), "lb-1");
	assert_string_equal(memb_leader(&mb, false), "lb-1");
	memb_free(&mb);
}

/* A cold start: the peers still joining when this node joins count as
 * owners (so it does not claim their VIPs), not as leaders, if they started
 * before every ready peer joined. */
static void test_joining_with(void **state)
{
	struct memb_event ev;
	struct memb mb;
	(void)state;

	memb_setup(&mb);
	hello(&mb, "lb-3", NOW_NS, 0, 50);
	hello(&mb, "lb-1", NOW_NS, 0, 100);
	hello(&mb, "lb-3", NOW_NS + 1, PEER_F_READY, 150);
	hello(&mb, "lb-4", NOW_NS, 0, 160); /* after lb-3 joined */
	assert_ready(&mb, true, "lb-2 lb-3");
	memb_joined(&mb, 200, 2000);
	assert_ready(&mb, true, "lb-1 lb-2 lb-3");
	assert_ready(&mb, false, "lb-1 lb-3");
	assert_string_equal(memb_leader(&mb, true), "lb-2");
	ev = hello(&mb, "lb-1", NOW_NS + 1, PEER_F_READY, 300);
	assert_true(ev.changed);
	assert_ready(&mb, true, "lb-1 lb-2 lb-3");
	assert_string_equal(memb_leader(&mb, true), "lb-1");
	/* Joined: it counts as any ready peer, not ready again it does not. */
	assert_true(hello(&mb, "lb-1", NOW_NS + 2, 0, 350).changed);
	assert_ready(&mb, true, "lb-2 lb-3");
	memb_free(&mb);
}

/* A running cluster (a peer ready when first heard): the nodes restarting
 * with this one are not counted before they join, as the running nodes do
 * not count them. */
static void test_joining_warm(void **state)
{
	struct memb mb;
	(void)state;

	memb_setup(&mb);
	hello(&mb, "lb-1", NOW_NS, 0, 100);
	hello(&mb, "lb-3", NOW_NS, PEER_F_READY, 110);
	memb_joined(&mb, 300, 2000);
	assert_ready(&mb, true, "lb-2 lb-3");
	memb_free(&mb);
}

/* A peer joining with this node stops counting when it stops, falls
 * silent, or has not joined in time; each is a change. */
static void test_joining_with_ends(void **state)
{
	struct peer_msg m;
	struct memb_event ev;
	struct memb mb;
	(void)state;

	memb_setup(&mb);
	hello(&mb, "lb-1", NOW_NS, 0, 100);
	hello(&mb, "lb-3", NOW_NS, 0, 100);
	hello(&mb, "lb-4", NOW_NS, 0, 100);
	memb_joined(&mb, 100, 1000);
	assert_ready(&mb, true, "lb-1 lb-2 lb-3 lb-4");

	m = msg(PEER_BYE, "lb-3", NOW_NS + 1, 0);
	ev = deliver(&mb, &m, IP(3), 150, NOW_NS);
	assert_true(ev.changed);
	assert_ready(&mb, true, "lb-1 lb-2 lb-4");

	hello(&mb, "lb-1", NOW_NS + 1, 0, 350);
	assert_true(memb_expire(&mb, 401)); /* lb-4, silent since 100 */
	assert_string_equal(memb_find(&mb, "lb-4")->why, "missed messages");
	assert_ready(&mb, true, "lb-1 lb-2");
	/* Back, but this node has joined: it counts once it joins. */
	hello(&mb, "lb-4", NOW_NS + 1, 0, 450);
	assert_ready(&mb, true, "lb-1 lb-2");

	hello(&mb, "lb-1", NOW_NS + 2, 0, 650);
	hello(&mb, "lb-1", NOW_NS + 3, 0, 950);
	hello(&mb, "lb-4", NOW_NS + 2, 0, 950);
	assert_false(memb_expire(&mb, 1100)); /* exactly its time */
	assert_true(memb_expire(&mb, 1101));
	assert_true(memb_find(&mb, "lb-1")->alive);
	assert_string_equal(memb_find(&mb, "lb-1")->why, "did not join in time");
	assert_ready(&mb, true, "lb-2");
	assert_false(memb_expire(&mb, 1102));
	assert_true(hello(&mb, "lb-1", NOW_NS + 4, PEER_F_READY, 1150).changed);
	assert_ready(&mb, true, "lb-1 lb-2");
	memb_free(&mb);
}

/* Table helpers. */
static void add(struct table *t, size_t *cap, const char *ns,
		const char *name, uint32_t vip)
{
	struct table_entry *e = xpush(&t->v, &t->n, cap, sizeof(*t->v));

	e->namespace_ = xstrdup(ns);
	e->name = xstrdup(name);
	e->vip = vip;
}

/* n entries svc-0 .. svc-(n-1) over a few namespaces, in reverse order. */
static void table_make(struct table *t, size_t n)
{
	size_t cap = 0;
	char name[32], ns[32];

	memset(t, 0, sizeof(*t));
	for (size_t i = n; i-- > 0;) {
		snprintf(ns, sizeof(ns), "team-%zu", i % 5);
		snprintf(name, sizeof(name), "svc-%zu", i);
		add(t, &cap, ns, name, IP(i));
	}
	table_seal(t);
}

static void assert_tables_equal(const struct table *a, const struct table *b)
{
	assert_int_equal(a->n, b->n);
	assert_true(a->digest == b->digest);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->v[i].namespace_, b->v[i].namespace_);
		assert_string_equal(a->v[i].name, b->v[i].name);
		assert_int_equal(a->v[i].vip, b->v[i].vip);
	}
}

static void test_table_seal(void **state)
{
	struct table a = {0}, b = {0}, c;
	size_t ca = 0, cb = 0;
	(void)state;

	add(&a, &ca, "web", "b", IP(2));
	add(&a, &ca, "db", "z", IP(3));
	add(&a, &ca, "web", "a", IP(1));
	add(&a, &ca, "web", "b", IP(9)); /* duplicate: the first is kept */
	table_seal(&a);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[0].namespace_, "db");
	assert_string_equal(a.v[1].name, "a");
	assert_string_equal(a.v[2].name, "b");
	assert_int_equal(a.v[2].vip, IP(2));

	add(&b, &cb, "web", "a", IP(1));
	add(&b, &cb, "web", "b", IP(2));
	add(&b, &cb, "db", "z", IP(3));
	table_seal(&b);
	assert_true(a.digest == b.digest);
	b.v[1].vip = IP(4);
	table_seal(&b);
	assert_true(a.digest != b.digest);
	table_free(&b);
	assert_null(b.v);

	/* The boundary between namespace and name counts. */
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	cb = ca = 0;
	add(&b, &cb, "ab", "c", IP(1));
	add(&c, &ca, "a", "bc", IP(1));
	table_seal(&b);
	table_seal(&c);
	assert_true(b.digest != c.digest);
	table_free(&a);
	table_free(&b);
	table_free(&c);
}

/* Feeds chunks[order[i]] for each i; the last one must complete. */
static void reassemble(uint8_t **chunks, size_t *lens, const size_t *order,
		       size_t n, const struct table *want)
{
	struct table_rx rx = {0};
	struct table got;

	for (size_t i = 0; i < n; i++) {
		int rc = table_rx_add(&rx, chunks[order[i]], lens[order[i]],
				      &got);

		assert_int_equal(rc, i + 1 == n ? 1 : 0);
	}
	assert_tables_equal(&got, want);
	assert_null(rx.parts);
	table_free(&got);
	table_rx_free(&rx);
}

/* The chunks of t, each sealed in a PEER_TABLE message and opened, as the
 * leader sends them and a peer receives them. */
static void reassemble_via_peer_msgs(const struct table *t)
{
	size_t room = PEER_DGRAM_MAX - PEER_HDR_LEN - PEER_NAME_MAX -
		      PEER_MAC_LEN;
	struct table_rx rx = {0};
	struct table got;
	uint8_t **chunks, buf[PEER_DGRAM_MAX];
	size_t *lens, n;
	int rc = 0;

	assert_true(table_chunks(t, room, &chunks, &lens, &n));
	assert_true(n > 1);
	for (size_t i = 0; i < n; i++) {
		struct peer_msg m = msg(PEER_TABLE, "lb-1", NOW_NS, 0), o;
		size_t len;

		m.payload = chunks[i];
		m.payload_len = lens[i];
		len = seal(&m, buf);
		assert_true(len <= PEER_DGRAM_MAX);
		assert_int_equal(peer_open(buf, len, key, KEYLEN, &o), PEER_OK);
		rc = table_rx_add(&rx, o.payload, o.payload_len, &got);
	}
	assert_int_equal(rc, 1);
	assert_tables_equal(&got, t);
	table_free(&got);
	table_chunks_free(chunks, lens, n);
}

static void test_table_chunks(void **state)
{
	struct table t;
	uint8_t **chunks;
	size_t *lens, n, order[400], k, last;
	uint64_t rng = 42;
	(void)state;

	table_make(&t, 200);
	assert_true(table_chunks(&t, 100, &chunks, &lens, &n));
	assert_true(n >= 20 && n <= 100);
	for (size_t i = 0; i < n; i++)
		assert_true(lens[i] <= 100);

	for (size_t i = 0; i < n; i++)
		order[i] = n - 1 - i;
	reassemble(chunks, lens, order, n, &t);

	/* Shuffled, with repeats of chunks already received. */
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j, tmp;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		j = (size_t)(rng >> 33) % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	/* Repeats of every third chunk; a new chunk still comes last. */
	k = n;
	for (size_t i = 0; i + 1 < n; i += 3)
		order[k++] = order[i];
	last = order[n - 1];
	order[n - 1] = order[k - 1];
	order[k - 1] = last;
	reassemble(chunks, lens, order, k, &t);
	table_chunks_free(chunks, lens, n);

	reassemble_via_peer_msgs(&t);
	table_free(&t);
}

static void test_table_restart(void **state)
{
	struct table a, b, got;
	uint8_t **ca, **cb;
	size_t *la, *lb, na, nb;
	struct table_rx rx = {0};
	(void)state;

	table_make(&a, 50);
	table_make(&b, 51);
	assert_true(table_chunks(&a, 120, &ca, &la, &na));
	assert_true(table_chunks(&b, 120, &cb, &lb, &nb));
	assert_true(na > 2 && nb > 2);
	for (size_t i = 0; i + 1 < na; i++)
		assert_int_equal(table_rx_add(&rx, ca[i], la[i], &got), 0);
	/* b's chunks restart the assembly: a's are forgotten. */
	for (size_t i = 0; i < nb; i++)
		assert_int_equal(table_rx_add(&rx, cb[i], lb[i], &got),
				 i + 1 == nb ? 1 : 0);
	assert_tables_equal(&got, &b);
	table_free(&got);
	assert_int_equal(table_rx_add(&rx, ca[na - 1], la[na - 1], &got), 0);
	assert_int_equal(rx.have, 1);
	table_rx_free(&rx);
	table_chunks_free(ca, la, na);
	table_chunks_free(cb, lb, nb);
	table_free(&a);
	table_free(&b);
}

/* One chunk of a two-entry table, for corrupting. */
static size_t small_chunk(uint8_t *out)
{
	struct table t = {0};
	size_t cap = 0, *lens, n, len;
	uint8_t **chunks;

	add(&t, &cap, "ns", "web", IP(1));
	add(&t, &cap, "ns", "db", IP(2));
	table_seal(&t);
	assert_true(table_chunks(&t, 1000, &chunks, &lens, &n));
	assert_int_equal(n, 1);
	len = lens[0];
	memcpy(out, chunks[0], len);
	table_chunks_free(chunks, lens, n);
	table_free(&t);
	return len;
}

static int rx_one(const uint8_t *p, size_t len)
{
	struct table_rx rx = {0};
	struct table got;
	int rc = table_rx_add(&rx, p, len, &got);

	if (rc == 1)
		table_free(&got);
	assert_null(rx.parts);
	table_rx_free(&rx);
	return rc;
}

/* A one-entry chunk written by hand, with the digest that table_seal
 * gives the entry (it checks no length), so that only the checks on the
 * name can refuse it. */
static size_t hand_chunk(uint8_t *buf, const char *ns, const char *name)
{
	struct table t = {0};
	size_t cap = 0, nl = strlen(ns), ml = strlen(name);

	add(&t, &cap, ns, name, IP(1));
	table_seal(&t);
	for (size_t i = 0; i < 8; i++)
		buf[i] = (uint8_t)(t.digest >> (56 - 8 * i));
	memcpy(buf + 8, "\0\0\0\1\0\1", 6);
	memcpy(buf + 14, "\xc6\x12\0\1", 4);
	buf[18] = (uint8_t)nl;
	memcpy(buf + 19, ns, nl);
	buf[19 + nl] = (uint8_t)ml;
	memcpy(buf + 20 + nl, name, ml);
	table_free(&t);
	return 20 + nl + ml;
}

static void test_table_corrupt(void **state)
{
	uint8_t good[64], buf[600];
	size_t n = small_chunk(good);
	char name[TABLE_NAME_MAX + 3];
	/* Header: digest 0, index 8, count 10, entries 12.  Entry "ns"/"db"
	 * at 14: VIP 14, lengths at 18 and 21; entry "ns"/"web" at 24. */
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = {
		{11, 0},                      /* count 0 */
		{9, 1},                       /* index 1 of 1 */
		{13, 1}, {13, 3},             /* fewer, more entries */
		{18, 0}, {18, 3}, {21, 0}, {21, 200}, /* string lengths */
		{19, 0}, {23, 0},             /* NUL in a string */
		{17, 0x7f},                   /* a VIP: digest mismatch */
		{0, 0xff},                    /* the digest */
	};
	struct table_rx rx = {0};
	struct table got;
	(void)state;

	assert_int_equal(n, 14 + 10 + 11);
	assert_int_equal(rx_one(good, n), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, good, n);
		buf[bad[i].off] = bad[i].val;
		assert_int_equal(rx_one(buf, n), -1);
	}
	for (size_t len = 0; len < n; len++)
		assert_int_equal(rx_one(good, len), -1);
	memcpy(buf, good, n);
	buf[n] = 0;
	assert_int_equal(rx_one(buf, n + 1), -1);

	/* Names: 1..TABLE_NAME_MAX bytes. */
	memset(name, 'a', sizeof(name));
	name[TABLE_NAME_MAX] = '\0';
	assert_int_equal(rx_one(buf, hand_chunk(buf, "ns", name)), 1);
	assert_int_equal(rx_one(buf, hand_chunk(buf, name, "x")), 1);
	name[TABLE_NAME_MAX + 1] = '\0';
	name[TABLE_NAME_MAX] = 'a';
	assert_int_equal(rx_one(buf, hand_chunk(buf, "ns", name)), -1);
	assert_int_equal(rx_one(buf, hand_chunk(buf, name, "x")), -1);
	assert_int_equal(rx_one(buf, hand_chunk(buf, "ns", "")), -1);
	assert_int_equal(rx_one(buf, hand_chunk(buf, "", "x")), -1);
	assert_int_equal(rx_one(buf, hand_chunk(buf, "ns", "x")), 1);

	/* Counts: up to TABLE_CHUNKS_MAX. */
	memcpy(buf, good, n);
	buf[10] = TABLE_CHUNKS_MAX >> 8;
	buf[11] = TABLE_CHUNKS_MAX & 0xff;
	assert_int_equal(table_rx_add(&rx, buf, n, &got), 0);
	buf[11]++;
	assert_int_equal(table_rx_add(&rx, buf, n, &got), -1);

	/* The same digest with another count restarts the assembly. */
	buf[10] = 0;
	buf[11] = 2;
	assert_int_equal(table_rx_add(&rx, buf, n, &got), 0);
	buf[11] = 3;
	buf[9] = 2;
	assert_int_equal(table_rx_add(&rx, buf, n, &got), 0);
	assert_int_equal(rx.count, 3);
	assert_int_equal(rx.have, 1);

	/* A corrupt chunk resets a partial assembly. */
	assert_int_equal(table_rx_add(&rx, buf, n, &got), 0);
	assert_int_equal(rx.have, 1);
	assert_int_equal(table_rx_add(&rx, buf, 3, &got), -1);
	assert_null(rx.parts);
	assert_int_equal(rx.have, 0);
	table_rx_free(&rx);
}

static void test_table_empty(void **state)
{
	struct table t = {0}, got;
	struct table_rx rx = {0};
	uint8_t **chunks;
	size_t *lens, n;
	(void)state;

	table_seal(&t);
	assert_true(table_chunks(&t, 14, &chunks, &lens, &n));
	assert_int_equal(n, 1);
	assert_int_equal(lens[0], 14);
	assert_int_equal(table_rx_add(&rx, chunks[0], lens[0], &got), 1);
	assert_int_equal(got.n, 0);
	assert_true(got.digest == t.digest);
	table_free(&got);
	table_chunks_free(chunks, lens, n);
	assert_false(table_chunks(&t, 13, &chunks, &lens, &n));
}

static void test_table_too_big(void **state)
{
	struct table t = {0};
	size_t cap = 0, *lens, n;
	uint8_t **chunks;
	char long_name[TABLE_NAME_MAX + 2];
	(void)state;

	add(&t, &cap, "ns", "web", IP(1)); /* 6 + 2 + 3 bytes */
	table_seal(&t);
	assert_false(table_chunks(&t, 14 + 10, &chunks, &lens, &n));
	assert_true(table_chunks(&t, 14 + 11, &chunks, &lens, &n));
	table_chunks_free(chunks, lens, n);
	table_free(&t);

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cap = 0;
	add(&t, &cap, "ns", long_name, IP(1));
	table_seal(&t);
	assert_false(table_chunks(&t, 1000, &chunks, &lens, &n));
	table_free(&t);
	cap = 0;
	add(&t, &cap, "", "web", IP(1));
	table_seal(&t);
	assert_false(table_chunks(&t, 1000, &chunks, &lens, &n));
	table_free(&t);

	/* One entry per chunk: up to TABLE_CHUNKS_MAX of them. */
	table_make(&t, TABLE_CHUNKS_MAX);
	assert_true(table_chunks(&t, 14 + 6 + 6 + 9, &chunks, &lens, &n));
	assert_int_equal(n, TABLE_CHUNKS_MAX);
	table_chunks_free(chunks, lens, n);
	table_free(&t);
	table_make(&t, TABLE_CHUNKS_MAX + 1);
	assert_false(table_chunks(&t, 14 + 6 + 6 + 9, &chunks, &lens, &n));
	table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_open_round_trip),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_open_malformed),
		cmocka_unit_test(test_open_auth),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_members_init),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_skew),
		cmocka_unit_test(test_source_and_unknown),
		cmocka_unit_test(test_refusal_counters),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_ready_and_leader),
		cmocka_unit_test(test_joining_with),
		cmocka_unit_test(test_joining_warm),
		cmocka_unit_test(test_joining_with_ends),
		cmocka_unit_test(test_table_seal),
		cmocka_unit_test(test_table_chunks),
		cmocka_unit_test(test_table_restart),
		cmocka_unit_test(test_table_corrupt),
		cmocka_unit_test(test_table_empty),
		cmocka_unit_test(test_table_too_big),
	};
	return cmocka_run_group_tests_name("peer", tests, NULL, NULL);
}
