/* peers: the liveness channel's socket, timer and sending (see peers.h). */
#include "agent/peers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"
#include "lib/ipv4.h"
#include "lib/xalloc.h"

#define RECV_BURST 64 /* datagrams read per wakeup at most */

struct peers {
	struct loop *loop;
	struct peers_config cfg;
	struct peers_cb cb;
	int fd, timer;
	struct memb memb;
	uint64_t started_ms;
	bool ready, settled, have_leader_table;
	uint64_t last_ts; /* of the last message sent */
	struct table table; /* ours: its digest rides in every HELLO */
	uint8_t **chunks;
	size_t *chunk_lens, nchunks;
	uint64_t *table_sent_ms; /* per peer (memb order) */
	struct table_rx rx;
	char rx_from[PEER_NAME_MAX + 1];
	const char **alive; /* peers_alive's last answer */
	bool restarting;    /* leaving for a restart */
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void send_to(struct peers *p, uint32_t ip, enum peer_type type,
		    const uint8_t *payload, size_t len)
{
	struct peer_msg m = {
		.type = type,
		.flags = (p->ready ? PEER_F_READY : 0) |
			 (p->restarting ? PEER_F_RESTART : 0),
		.digest = p->table.digest,
		.payload = payload,
		.payload_len = len,
	};
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(p->cfg.port),
				 .sin_addr.s_addr = htonl(ip)};
	uint8_t buf[PEER_DGRAM_MAX];
	uint64_t ts = clock_ns(CLOCK_REALTIME);
	size_t n;

	/* Strictly increasing, even if the wall clock steps back. */
	p->last_ts = ts > p->last_ts ? ts : p->last_ts + 1;
	m.ts_ns = p->last_ts;
	snprintf(m.name, sizeof(m.name), "%s", p->cfg.self);
	n = peer_seal(&m, p->cfg.key, p->cfg.keylen, buf, sizeof(buf));
	/* A lost datagram is what the protocol is made for: no retry. */
	if (n)
		sendto(p->fd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&to,
		       sizeof(to));
}

static void send_all(struct peers *p, enum peer_type type)
{
	for (size_t i = 0; i < p->memb.n; i++)
		send_to(p, p->memb.peers[i].ip, type, NULL, 0);
}

static bool is_leader(const struct peers *p)
{
	const char *l = memb_leader(&p->memb, p->ready);

	return l && !strcmp(l, p->cfg.self);
}

/* The leader sends its table to alive peers that hold another one, at
 * most every PEERS_TABLE_RESEND_MS each. */
static void send_tables(struct peers *p, uint64_t now)
{
	if (!is_leader(p))
		return;
	for (size_t i = 0; i < p->memb.n; i++) {
		struct memb_peer *m = &p->memb.peers[i];

		if (!m->alive || m->digest == p->table.digest ||
		    now - p->table_sent_ms[i] < PEERS_TABLE_RESEND_MS)
			continue;
		p->table_sent_ms[i] = now;
		for (size_t k = 0; k < p->nchunks; k++)
			send_to(p, m->ip, PEER_TABLE, p->chunks[k],
				p->chunk_lens[k]);
	}
}

static bool all_heard(const struct memb *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (!m->peers[i].alive)
			return false;
	return true;
}

static void join(struct peers *p, uint64_t now)
{
	const char *leader = memb_leader(&p->memb, false);
	uint64_t waited = now - p->started_ms;
	char with[256] = "";

	/* Listening starts with the loop, not with a start-up that may be
	 * busy for longer than the timeout. */
	if (!p->started_ms) {
		p->started_ms = now;
		return;
	}
	if (p->ready && !p->settled && waited >= p->cfg.timeout_ms) {
		p->settled = true;
		log_msg("peers: resumed after a restart (listened %llu ms)",
			(unsigned long long)waited);
		p->cb.changed(p->cb.arg, "this node resumed after a restart");
		return;
	}
	if (leader && memb_find(&p->memb, leader)->digest == p->table.digest)
		p->have_leader_table = true; /* ours is the same */
	/* With a leader, wait for its table; without (a cold start, or
	 * the only node left), for every LB node to be heard, so that the
	 * nodes starting together join together (memb_joined). */
	if (p->ready || waited < p->cfg.timeout_ms ||
	    (waited < PEERS_JOIN_MAX_MS &&
	     (leader ? !p->have_leader_table : !all_heard(&p->memb))))
		return;
	p->ready = p->settled = true;
	/* A peer joins PEERS_JOIN_MAX_MS after its start at the latest, and
	 * started before now: its VIPs are left to it that long, and a
	 * timeout more for its message. */
	memb_joined(&p->memb, now, PEERS_JOIN_MAX_MS + p->cfg.timeout_ms);
	send_all(p, PEER_HELLO); /* the others replan now, not next tick */
	for (size_t i = 0; i < p->memb.n; i++)
		if (p->memb.peers[i].joins_by_ms)
			snprintf(with + strlen(with), sizeof(with) - strlen(with),
				 "%s%s", *with ? ", " : "; joining with it: ",
				 p->memb.peers[i].name);
	log_msg("peers: joined after %llu ms (%s%s)",
		(unsigned long long)waited,
		!leader ? "no other LB node has joined"
		: p->have_leader_table ? "holding the leader's table"
				       : "the leader's table did not come",
		with);
	p->cb.changed(p->cb.arg, "this node joined");
}

/* Appends to why the peers that memb_expire moved out of a state (lost:
 * alive, else joining with this node), then what happened to them. */
static void expired(const struct peers *p, const struct memb_peer *was,
		    bool lost, const char *what, char *why, size_t len)
{
	const char *sep = *why ? "; " : "";
	size_t n = 0;

	for (size_t i = 0; i < p->memb.n; i++) {
		const struct memb_peer *m = &p->memb.peers[i];

		if (lost ? !was[i].alive || m->alive
			 : !was[i].joins_by_ms || m->joins_by_ms || !m->alive)
			continue;
		snprintf(why + strlen(why), len - strlen(why), "%s%s",
			 n++ ? ", " : sep, m->name);
	}
	if (n)
		snprintf(why + strlen(why), len - strlen(why), "%s", what);
}

static void on_timer(void *arg, uint32_t events)
{
	struct peers *p = arg;
	uint64_t now = loop_now_ms();
	struct memb_peer *was = xcalloc(p->memb.n + 1, sizeof(*was));
	char why[256] = "", what[64];

	(void)events;
	loop_timer_read(p->timer);
	send_all(p, PEER_HELLO);
	memcpy(was, p->memb.peers, p->memb.n * sizeof(*was));
	if (memb_expire(&p->memb, now)) {
		snprintf(what, sizeof(what), " missed messages for %llu ms",
			 (unsigned long long)p->cfg.timeout_ms);
		expired(p, was, true, what, why, sizeof(why));
		snprintf(what, sizeof(what), " did not join within %llu ms",
			 (unsigned long long)(PEERS_JOIN_MAX_MS +
					      p->cfg.timeout_ms));
		expired(p, was, false, what, why, sizeof(why));
		log_msg("peers: %s", why);
		p->cb.changed(p->cb.arg, why);
	}
	free(was);
	join(p, now);
	send_tables(p, now);
	p->cb.tick(p->cb.arg, now);
}

static void take_table(struct peers *p, const struct memb_event *ev,
		       const struct peer_msg *m)
{
	const char *leader = memb_leader(&p->memb, p->ready);
	struct table t = {0};
	int r;

	if (!leader || strcmp(leader, m->name))
		return; /* only the leader's table counts */
	if (strcmp(p->rx_from, m->name)) {
		table_rx_free(&p->rx);
		snprintf(p->rx_from, sizeof(p->rx_from), "%s", m->name);
	}
	r = table_rx_add(&p->rx, m->payload, m->payload_len, &t);
	if (r < 0)
		log_msg("peers: a malformed table chunk from %s, ignored",
			ev->peer->name);
	if (r <= 0)
		return;
	p->have_leader_table = true;
	if (t.digest != p->table.digest)
		p->cb.table(p->cb.arg, &t, m->name);
	table_free(&t);
}

static void on_datagram(struct peers *p, const uint8_t *buf, size_t len,
			uint32_t src)
{
	struct peer_msg m;
	enum peer_verdict v = peer_open(buf, len, p->cfg.key, p->cfg.keylen,
					&m);
	struct memb_event ev = memb_receive(&p->memb, v, &m, src, loop_now_ms(),
					    clock_ns(CLOCK_REALTIME));
	char ip[IPV4_STRLEN];

	if (ev.verdict != PEER_OK) {
		/* Counted (status); logged once per burst at most. */
		if (!ev.peer || ev.peer->refused[ev.verdict] == 1)
			log_msg("peers: refused a message from %s naming "
				"%s: %s", ipv4_format(src, ip),
				ev.peer ? ev.peer->name : "no LB node",
				peer_verdict_name(ev.verdict));
		return;
	}
	if (m.type == PEER_TABLE)
		take_table(p, &ev, &m);
	if (ev.changed) {
		char why[PEER_NAME_MAX + 32];

		snprintf(why, sizeof(why), "%s %s", ev.peer->name,
			 ev.peer->why);
		log_msg("peers: %s", why);
		p->cb.changed(p->cb.arg, why);
	}
}

static void on_readable(void *arg, uint32_t events)
{
	struct peers *p = arg;
	uint8_t buf[PEER_DGRAM_MAX + 1];

	(void)events;
	for (int i = 0; i < RECV_BURST; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(p->fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);

		if (n < 0)
			return;
		on_datagram(p, buf, (size_t)n, ntohl(from.sin_addr.s_addr));
	}
}

int peers_open(struct loop *l, const struct peers_config *c,
	       const struct peers_cb *cb, struct peers **out, char *err,
	       size_t errlen)
{
	struct peers *p = xcalloc(1, sizeof(*p));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(c->port),
				.sin_addr.s_addr = htonl(c->self_ip)};
	char ip[IPV4_STRLEN];
	int ret = 0;

	p->loop = l;
	p->cfg = *c;
	p->cb = *cb;
	p->timer = -1;
	p->ready = c->resume;
	table_seal(&p->table);
	peers_set_nodes(p, c->names, c->ips, c->n);
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen for peers on %s:%u/udp: "
			 "%s; give a free --peer-port", ipv4_format(c->self_ip,
			 ip), c->port, strerror(errno));
		goto fail;
	}
	if ((p->timer = loop_timer_new()) < 0 ||
	    (ret = loop_add(l, p->fd, EPOLLIN, on_readable, p)) ||
	    (ret = loop_add(l, p->timer, EPOLLIN, on_timer, p)) ||
	    (ret = loop_timer_arm(p->timer, 1, c->interval_ms))) {
		ret = ret ? ret : -errno;
		snprintf(err, errlen, "cannot set up the peer timer: %s",
			 strerror(-ret));
		goto fail;
	}
	*out = p;
	return 0;
fail:
	peers_close(p, PEERS_SILENT);
	return ret;
}

void peers_close(struct peers *p, enum peers_leave how)
{
	if (!p)
		return;
	p->restarting = how == PEERS_RESTART;
	/* Twice: one may be lost, and the peers act on the first. */
	for (int i = 0; i < 2 && how != PEERS_SILENT && p->fd >= 0; i++)
		send_all(p, how == PEERS_BYE ? PEER_BYE : PEER_HELLO);
	if (p->fd >= 0) {
		loop_del(p->loop, p->fd);
		close(p->fd);
	}
	if (p->timer >= 0) {
		loop_del(p->loop, p->timer);
		close(p->timer);
	}
	memb_free(&p->memb);
	table_free(&p->table);
	table_chunks_free(p->chunks, p->chunk_lens, p->nchunks);
	table_rx_free(&p->rx);
	free(p->table_sent_ms);
	free(p->alive);
	free(p);
}

void peers_set_nodes(struct peers *p, const char *const *names,
		     const uint32_t *ips, size_t n)
{
	struct memb next;

	memb_init(&next, p->cfg.self, names, ips, n, p->cfg.timeout_ms);
	for (size_t i = 0; i < next.n; i++) {
		struct memb_peer *was = memb_find(&p->memb,
						  next.peers[i].name);
		char *name = next.peers[i].name;
		uint32_t ip = next.peers[i].ip;

		if (!was)
			continue;
		next.peers[i] = *was; /* the old name goes with p->memb */
		next.peers[i].name = name;
		if (next.peers[i].ip != ip) {
			next.peers[i].ip = ip; /* a new address: heard anew */
			next.peers[i].alive = next.peers[i].ready = false;
			next.peers[i].joins_by_ms = 0;
		}
	}
	memcpy(next.unattributed, p->memb.unattributed,
	       sizeof(next.unattributed));
	memb_free(&p->memb);
	p->memb = next;
	free(p->table_sent_ms);
	p->table_sent_ms = xcalloc(next.n + 1, sizeof(*p->table_sent_ms));
}

void peers_set_table(struct peers *p, const struct table *t)
{
	table_copy(&p->table, t);
	table_chunks_free(p->chunks, p->chunk_lens, p->nchunks);
	p->chunks = NULL;
	p->chunk_lens = NULL;
	p->nchunks = 0;
	/* Room for the header, the longest name and the HMAC. */
	if (!table_chunks(&p->table, PEER_DGRAM_MAX - PEER_HDR_LEN -
					     PEER_NAME_MAX - PEER_MAC_LEN,
			  &p->chunks, &p->chunk_lens, &p->nchunks))
		log_msg("peers: the allocation table (%zu entries) is too "
			"large to send; peers keep their own", t->n);
	memset(p->table_sent_ms, 0, (p->memb.n + 1) * sizeof(uint64_t));
}

bool peers_ready(const struct peers *p)
{
	return p->ready;
}

bool peers_settled(const struct peers *p)
{
	return p->settled;
}

size_t peers_alive(const struct peers *p, const char ***names)
{
	struct peers *mut = (struct peers *)p;
	size_t n;

	free(mut->alive);
	n = memb_ready(&p->memb, p->ready, &mut->alive);
	*names = mut->alive;
	return n;
}

const char *peers_leader(const struct peers *p)
{
	return memb_leader(&p->memb, p->ready);
}

static void report_refused(struct jw *w, const uint64_t *refused)
{
	jw_obj_begin(w);
	for (int v = PEER_OK + 1; v < PEER_VERDICT_MAX; v++) {
		if (!refused[v])
			continue;
		jw_key(w, peer_verdict_name(v));
		jw_int(w, (long long)refused[v]);
	}
	jw_obj_end(w);
}

void peers_report(const struct peers *p, struct jw *w, uint64_t now)
{
	char ip[IPV4_STRLEN];

	jw_key(w, "ready");
	jw_bool(w, p->ready);
	jw_key(w, "leader");
	jw_str(w, peers_leader(p));
	jw_key(w, "peers");
	jw_arr_begin(w);
	for (size_t i = 0; i < p->memb.n; i++) {
		const struct memb_peer *m = &p->memb.peers[i];

		jw_obj_begin(w);
		jw_key(w, "name");
		jw_str(w, m->name);
		jw_key(w, "address");
		jw_str(w, ipv4_format(m->ip, ip));
		jw_key(w, "alive");
		jw_bool(w, m->alive);
		jw_key(w, "ready");
		jw_bool(w, m->ready);
		jw_key(w, "lastHeardMsAgo");
		if (m->heard_ms)
			jw_int(w, (long long)(now - m->heard_ms));
		else
			jw_null(w);
		jw_key(w, "state");
		jw_str(w, m->why);
		jw_key(w, "accepted");
		jw_int(w, (long long)m->accepted);
		jw_key(w, "refused");
		report_refused(w, m->refused);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "refusedUnattributed");
	report_refused(w, p->memb.unattributed);
}
