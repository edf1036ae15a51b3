/* peers: the liveness channel's socket, timer and sending, on the
 * heartbeat thread; the loop's side behind the lock (see peers.h).
 *
 * Locking: `lock` guards every field below it in struct peers; the fields
 * above it are fixed once peers_start returns (cfg, cb, the fds).  The
 * thread holds the lock while it handles a datagram or an interval; the
 * loop's calls hold it for their own work only, never while a callback
 * runs.
 *
 * What reaches the socket is filtered twice before any log line: the
 * kernel drops datagrams from any address but the other LB nodes' (a
 * socket filter, below), and what is refused after that is logged at
 * most once per PEERS_REFUSAL_LOG_MS and reason (refusals.h). */
#include "agent/peers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"
#include "announce/refusals.h"
#include "lib/ipv4.h"
#include "lib/xalloc.h"

#define RECV_BURST 64 /* datagrams read per wakeup at most */

#define WHY_MAX 512 /* bytes of queued reasons for the loop */

struct peers {
	struct loop *loop;
	struct peers_config cfg;
	struct peers_cb cb;
	int fd, timer;
	int stop_fd;   /* eventfd: the loop asks the thread to end */
	int notify_fd; /* eventfd: the thread has queued something */
	pthread_t thread;
	bool running;

	pthread_mutex_t lock;
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
	struct refusals refusals; /* the refusal log's rate limit */
	const char **alive; /* peers_alive's last answer */
	bool restarting;    /* leaving for a restart */
	/* Queued for the loop (notify_changed, on_notify): the reasons the
	 * ready set changed ("" with changed unset: none), the newest
	 * leader's table (digest 0: none) and who sent it. */
	bool changed;
	char why[WHY_MAX];
	struct table table_in;
	char table_from[PEER_NAME_MAX + 1];
};

/* The loop's calls are const where they only read; the lock is the one
 * thing they change. */
static void lock(const struct peers *p)
{
	pthread_mutex_lock((pthread_mutex_t *)&p->lock);
}

static void unlock(const struct peers *p)
{
	pthread_mutex_unlock((pthread_mutex_t *)&p->lock);
}

/* Tells the loop that something is queued. */
static void wake_loop(struct peers *p)
{
	uint64_t one = 1;

	if (write(p->notify_fd, &one, sizeof(one)) < 0)
		return; /* the counter is already nonzero: the loop wakes */
}

/* Queues a change of the ready set for the loop (cb.changed); why is
 * appended to those not yet taken. */
static void notify_changed(struct peers *p, const char *why)
{
	size_t n = strlen(p->why);

	snprintf(p->why + n, sizeof(p->why) - n, "%s%s", n ? "; " : "", why);
	p->changed = true;
	wake_loop(p);
}

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
		.to = ip, /* sealed for this peer alone */
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
		notify_changed(p, "this node resumed after a restart");
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
	notify_changed(p, "this node joined");
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

/* The summary of the refusals not logged on their own, once an
 * interval. */
static void log_refusals(struct peers *p, uint64_t now)
{
	char line[256];

	if (refusals_flush(&p->refusals, now, line, sizeof(line)))
		log_msg("peers: %s", line);
}

static void on_timer(struct peers *p)
{
	uint64_t now = loop_now_ms();
	struct memb_peer *was;
	char why[256] = "", what[64];
	bool ready;

	loop_timer_read(p->timer);
	lock(p);
	was = xcalloc(p->memb.n + 1, sizeof(*was));
	send_all(p, PEER_HELLO);
	log_refusals(p, now);
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
		notify_changed(p, why);
	}
	free(was);
	join(p, now);
	send_tables(p, now);
	ready = p->ready;
	unlock(p);
	if (ready)
		p->cb.beat(p->cb.arg, now);
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
	if (t.digest != p->table.digest) {
		/* A newer table supersedes one the loop has not taken. */
		table_free(&p->table_in);
		p->table_in = t;
		snprintf(p->table_from, sizeof(p->table_from), "%s", m->name);
		wake_loop(p);
		return;
	}
	table_free(&t);
}

static void on_datagram(struct peers *p, const uint8_t *buf, size_t len,
			uint32_t src)
{
	struct peer_msg m;
	enum peer_verdict v = peer_open(buf, len, p->cfg.self_ip, p->cfg.key,
					p->cfg.keylen, &m);
	uint64_t now = loop_now_ms();
	struct memb_event ev = memb_receive(&p->memb, v, &m, src, now,
					    clock_ns(CLOCK_REALTIME));
	char ip[IPV4_STRLEN];

	if (ev.verdict != PEER_OK) {
		/* Counted per peer (status); in the log, the first of a run
		 * on its own line, the rest in a summary (on_timer). */
		if (refusals_add(&p->refusals, ev.verdict, now))
			log_msg("peers: refused a message from %s naming "
				"%s: %s (more refusals: one line per %d s)",
				ipv4_format(src, ip),
				ev.peer ? ev.peer->name : "no LB node",
				peer_verdict_name(ev.verdict),
				PEERS_REFUSAL_LOG_MS / 1000);
		return;
	}
	if (m.type == PEER_TABLE)
		take_table(p, &ev, &m);
	if (ev.changed) {
		char why[PEER_NAME_MAX + 32];

		snprintf(why, sizeof(why), "%s %s", ev.peer->name,
			 ev.peer->why);
		log_msg("peers: %s", why);
		notify_changed(p, why);
	}
}

static void on_readable(struct peers *p)
{
	uint8_t buf[PEER_DGRAM_MAX + 1];

	for (int i = 0; i < RECV_BURST; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(p->fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);

		if (n < 0)
			return;
		lock(p);
		on_datagram(p, buf, (size_t)n, ntohl(from.sin_addr.s_addr));
		unlock(p);
	}
}

/* The heartbeat thread: the socket and the timer until stop_fd is
 * written. */
static void *heartbeat(void *arg)
{
	struct peers *p = arg;
	struct pollfd fds[3] = {
		{.fd = p->timer, .events = POLLIN},
		{.fd = p->fd, .events = POLLIN},
		{.fd = p->stop_fd, .events = POLLIN},
	};

	for (;;) {
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_msg("peers: the heartbeat thread stops: poll: %s",
				strerror(errno));
			return NULL;
		}
		if (fds[2].revents)
			return NULL;
		if (fds[0].revents)
			on_timer(p);
		if (fds[1].revents)
			on_readable(p);
	}
}

/* The loop's side: runs what the thread queued, outside the lock (the
 * callbacks call back into peers_). */
static void on_notify(void *arg, uint32_t events)
{
	struct peers *p = arg;
	struct table t;
	char why[WHY_MAX], from[PEER_NAME_MAX + 1];
	uint64_t n;
	bool changed;

	(void)events;
	if (read(p->notify_fd, &n, sizeof(n)) < 0)
		return;
	lock(p);
	t = p->table_in;
	p->table_in = (struct table){0};
	if (t.digest == p->table.digest) /* ours meanwhile */
		table_free(&t);
	memcpy(from, p->table_from, sizeof(from));
	changed = p->changed;
	memcpy(why, p->why, sizeof(why));
	p->changed = false;
	p->why[0] = '\0';
	unlock(p);
	if (t.digest)
		p->cb.table(p->cb.arg, &t, from);
	table_free(&t);
	if (changed)
		p->cb.changed(p->cb.arg, why);
}

/* Lets only the other LB nodes' datagrams reach the socket: the kernel
 * drops the rest before user space (counted in the socket's drops), so
 * junk from any other host costs no wakeup, no HMAC and no log line.
 * Forged sources on the segment still pass, and are refused by the HMAC
 * and the source check (members.h).  Classic BPF on a UDP socket starts
 * at the UDP header; SKF_NET_OFF reaches the IP header, whose source
 * address is at offset 12 (loaded in host order).  Two instructions per
 * node (not this one: jump over the accept, or accept) keep every jump
 * short whatever the count.  Replaced whole when the LB nodes change. */
static void filter_attach(struct peers *p)
{
	size_t len = 2 * p->memb.n + 2;
	struct sock_filter *code = xcalloc(len, sizeof(*code));
	struct sock_fprog prog = {.len = (unsigned short)len, .filter = code};

	code[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					       (uint32_t)SKF_NET_OFF + 12);
	for (size_t i = 0; i < p->memb.n; i++) {
		code[1 + 2 * i] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, p->memb.peers[i].ip, 0, 1);
		code[2 + 2 * i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
							       UINT32_MAX);
	}
	code[len - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	if (len > BPF_MAXINSNS ||
	    setsockopt(p->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
		       sizeof(prog)) < 0) {
		/* Never keep a filter of the former nodes: it would drop
		 * the new ones. */
		log_msg("peers: cannot filter the peer socket by source "
			"(%zu LB nodes): %s; every host's datagrams reach the "
			"agent, and are refused there", p->memb.n + 1,
			len > BPF_MAXINSNS ? "too many" : strerror(errno));
		setsockopt(p->fd, SOL_SOCKET, SO_DETACH_FILTER, NULL, 0);
	}
	free(code);
}

int peers_open(struct loop *l, const struct peers_config *c,
	       const struct peers_cb *cb, struct peers **out, char *err,
	       size_t errlen)
{
	struct peers *p = xcalloc(1, sizeof(*p));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(c->port),
				.sin_addr.s_addr = htonl(c->self_ip)};
	pthread_mutexattr_t ma;
	char ip[IPV4_STRLEN];
	int ret = 0;

	p->loop = l;
	p->cfg = *c;
	p->cb = *cb;
	p->fd = p->timer = p->stop_fd = p->notify_fd = -1;
	/* Priority inheritance: the loop, holding the lock when the
	 * heartbeat (real-time, see start_thread) wants it, runs at the
	 * heartbeat's priority until it lets go. */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&p->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	p->ready = c->resume;
	refusals_init(&p->refusals, PEERS_REFUSAL_LOG_MS);
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
	filter_attach(p);
	if ((p->timer = loop_timer_new()) < 0 ||
	    (p->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (p->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (ret = loop_add(l, p->notify_fd, EPOLLIN, on_notify, p))) {
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

/* Starts the heartbeat thread at the lowest real-time priority, so that
 * the node's other work (this agent's reload on the other threads, or any
 * other process) cannot keep it from running, as corosync runs its
 * heartbeat: it wakes once an interval for microseconds.  Without the
 * right to (a container without CAP_SYS_NICE, a cgroup without real-time
 * runtime) at the normal priority, said once. */
static int start_thread(struct peers *p)
{
	struct sched_param sp = {.sched_priority =
					 sched_get_priority_min(SCHED_RR)};
	pthread_attr_t attr;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_RR);
	pthread_attr_setschedparam(&attr, &sp);
	ret = pthread_create(&p->thread, &attr, heartbeat, p);
	pthread_attr_destroy(&attr);
	if (ret != EPERM)
		return -ret;
	log_msg("peers: the heartbeat runs at the normal priority (no "
		"right to real-time scheduling: %s)", strerror(ret));
	return -pthread_create(&p->thread, NULL, heartbeat, p);
}

int peers_start(struct peers *p, char *err, size_t errlen)
{
	int ret = loop_timer_arm(p->timer, 1, p->cfg.interval_ms);

	if (!ret)
		ret = start_thread(p);
	if (ret) {
		snprintf(err, errlen, "cannot start the heartbeat thread: %s",
			 strerror(-ret));
		return ret;
	}
	p->running = true;
	return 0;
}

void peers_close(struct peers *p, enum peers_leave how)
{
	uint64_t one = 1;

	if (!p)
		return;
	if (p->running && write(p->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(p->thread, NULL);
	p->restarting = how == PEERS_RESTART;
	/* Twice: one may be lost, and the peers act on the first. */
	for (int i = 0; i < 2 && how != PEERS_SILENT && p->fd >= 0; i++)
		send_all(p, how == PEERS_BYE ? PEER_BYE : PEER_HELLO);
	if (p->fd >= 0)
		close(p->fd);
	if (p->notify_fd >= 0) {
		loop_del(p->loop, p->notify_fd);
		close(p->notify_fd);
	}
	if (p->timer >= 0)
		close(p->timer);
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	pthread_mutex_destroy(&p->lock);
	memb_free(&p->memb);
	table_free(&p->table);
	table_free(&p->table_in);
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
	lock(p);
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
	if (p->fd >= 0)
		filter_attach(p);
	free(p->table_sent_ms);
	p->table_sent_ms = xcalloc(next.n + 1, sizeof(*p->table_sent_ms));
	unlock(p);
}

void peers_set_table(struct peers *p, const struct table *t)
{
	struct table copy = {0};
	uint8_t **chunks = NULL;
	size_t *lens = NULL, n = 0;

	/* Copied and cut outside the lock (a large table takes a while),
	 * swapped in under it. */
	table_copy(&copy, t);
	/* Room for the header, the longest name and the HMAC. */
	if (!table_chunks(&copy, PEER_DGRAM_MAX - PEER_HDR_LEN -
					 PEER_NAME_MAX - PEER_MAC_LEN,
			  &chunks, &lens, &n))
		log_msg("peers: the allocation table (%zu entries) is too "
			"large to send; peers keep their own", t->n);
	lock(p);
	table_free(&p->table);
	p->table = copy;
	table_chunks_free(p->chunks, p->chunk_lens, p->nchunks);
	p->chunks = chunks;
	p->chunk_lens = lens;
	p->nchunks = n;
	memset(p->table_sent_ms, 0, (p->memb.n + 1) * sizeof(uint64_t));
	unlock(p);
}

bool peers_ready(const struct peers *p)
{
	bool r;

	lock(p);
	r = p->ready;
	unlock(p);
	return r;
}

bool peers_settled(const struct peers *p)
{
	bool r;

	lock(p);
	r = p->settled;
	unlock(p);
	return r;
}

size_t peers_alive(const struct peers *p, const char ***names)
{
	struct peers *mut = (struct peers *)p;
	size_t n;

	lock(p);
	free(mut->alive);
	n = memb_ready(&p->memb, p->ready, &mut->alive);
	*names = mut->alive;
	unlock(p);
	return n;
}

const char *peers_leader(const struct peers *p)
{
	const char *l;

	lock(p);
	l = memb_leader(&p->memb, p->ready);
	unlock(p);
	return l;
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
	uint32_t meminfo[SK_MEMINFO_VARS];
	socklen_t mlen = sizeof(meminfo);
	char ip[IPV4_STRLEN];

	lock(p);
	jw_key(w, "ready");
	jw_bool(w, p->ready);
	jw_key(w, "leader");
	jw_str(w, memb_leader(&p->memb, p->ready));
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
		if (m->heard_ms) /* heard after now was read: 0 */
			jw_int(w, (long long)(now > m->heard_ms
						      ? now - m->heard_ms : 0));
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
	/* The socket's drops: by the source filter, or for a full receive
	 * buffer (the kernel counts both as one). */
	jw_key(w, "droppedInKernel");
	if (getsockopt(p->fd, SOL_SOCKET, SO_MEMINFO, meminfo, &mlen) == 0 &&
	    mlen > SK_MEMINFO_DROPS * sizeof(*meminfo))
		jw_int(w, meminfo[SK_MEMINFO_DROPS]);
	else
		jw_null(w);
	unlock(p);
}
