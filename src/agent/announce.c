/* announce: owned VIPs, takeovers and gratuitous ARP (see announce.h). */
#include "agent/announce.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"
#include "announce/arp.h"
#include "lib/ipv4.h"
#include "lib/xalloc.h"

static const uint64_t garp_at_ms[ANN_GARP_ROUNDS] = {0, 200, 500, 1000};

struct ann_vip {
	uint32_t vip;
	char *owner;        /* NULL: nobody announces it */
	time_t since;       /* the current owner's */
	time_t moved_at;    /* last change of owner; 0: never seen one */
	char *moved_why;
	uint64_t garps;     /* gratuitous ARPs this node sent for it */
	int round;          /* next GARP round; ANN_GARP_ROUNDS: none */
	uint64_t start_ms;  /* of the current GARP schedule */
	uint64_t conflicts; /* as last logged */
	uint64_t defended_ms; /* the last defence (0: none) */
	uint64_t defences;    /* conflicts answered with a gratuitous ARP */
	bool undefended;      /* a conflict since it, logged, not defended */
	bool seen;          /* in the current plan (ann_update) */
};

struct announcer {
	int fd, ifindex;
	uint8_t mac[6];
	const char *self;
	struct ann_vip *v; /* sorted by vip */
	size_t n, cap;
};

int ann_open(struct announcer **out, const char *self, int ifindex,
	     const uint8_t mac[6], char *err, size_t errlen)
{
	struct announcer *a = xcalloc(1, sizeof(*a));

	/* Protocol 0: send only, nothing is queued for us to read. */
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "cannot open a packet socket for "
			 "gratuitous ARP: %s", strerror(errno));
		free(a);
		return ret;
	}
	a->ifindex = ifindex;
	memcpy(a->mac, mac, 6);
	a->self = self;
	*out = a;
	return 0;
}

void ann_close(struct announcer *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].owner);
		free(a->v[i].moved_why);
	}
	free(a->v);
	close(a->fd);
	free(a);
}

static void garp(struct announcer *a, struct ann_vip *v)
{
	uint8_t frames[2][ARP_FRAME_LEN];
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = a->ifindex,
		.sll_halen = 6,
		.sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	};

	arp_garp(frames, a->mac, v->vip);
	for (int i = 0; i < 2; i++)
		if (sendto(a->fd, frames[i], ARP_FRAME_LEN, 0,
			   (struct sockaddr *)&to, sizeof(to)) ==
		    ARP_FRAME_LEN)
			v->garps++;
}

static bool mine(const struct announcer *a, const struct ann_vip *v)
{
	return v->owner && !strcmp(v->owner, a->self);
}

static void schedule(struct announcer *a, struct ann_vip *v, uint64_t now)
{
	v->round = 0;
	v->start_ms = now;
	ann_tick(a, now);
}

static int vip_cmp(const void *x, const void *y)
{
	uint32_t a = ((const struct ann_vip *)x)->vip;
	uint32_t b = ((const struct ann_vip *)y)->vip;

	return a < b ? -1 : a > b;
}

static struct ann_vip *find(struct announcer *a, uint32_t vip)
{
	struct ann_vip key = {.vip = vip};

	if (!a->n) /* bsearch takes no NULL array, even empty */
		return NULL;
	return bsearch(&key, a->v, a->n, sizeof(*a->v), vip_cmp);
}

/* The entry of vip, added (sorted in later) when new. */
static struct ann_vip *entry(struct announcer *a, uint32_t vip, size_t *added)
{
	struct ann_vip *v = find(a, vip);

	for (size_t i = a->n; !v && i < a->n + *added; i++)
		if (a->v[i].vip == vip)
			v = &a->v[i];
	if (v)
		return v;
	if (a->n + *added == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	v = &a->v[a->n + (*added)++];
	*v = (struct ann_vip){.vip = vip, .round = ANN_GARP_ROUNDS};
	return v;
}

/* Records v's new owner (NULL: nobody), logging what it means here. */
static void move(struct announcer *a, struct ann_vip *v, const char *owner,
		 const char *why, uint64_t now)
{
	char vip[IPV4_STRLEN];
	bool was = mine(a, v);
	const char *from = v->owner ? v->owner : "nobody";

	ipv4_format(v->vip, vip);
	if (owner && !strcmp(owner, a->self))
		log_msg("VIP %s: this node takes it over from %s (%s); "
			"announcing", vip, from, why);
	else if (was)
		log_msg("VIP %s: handed to %s (%s); no longer announced here",
			vip, owner ? owner : "nobody", why);
	free(v->owner);
	v->owner = owner ? xstrdup(owner) : NULL;
	v->since = v->moved_at = time(NULL);
	free(v->moved_why);
	v->moved_why = xstrdup(why);
	if (mine(a, v))
		schedule(a, v, now);
	else
		v->round = ANN_GARP_ROUNDS;
}

size_t ann_update(struct announcer *a, const struct plan *p, bool active,
		  const char *why, bool again, uint64_t now_ms,
		  uint32_t **out)
{
	size_t added = 0, n = 0, k = 0;

	for (size_t i = 0; i < a->n; i++)
		a->v[i].seen = false;
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_service *s = &p->services[i];
		const char *owner = active ? s->owner : NULL;
		struct ann_vip *v;

		if (!s->vip)
			continue;
		v = entry(a, s->vip, &added);
		if (v->seen) /* a shared VIP: one owner for all */
			continue;
		v->seen = true;
		if ((owner == NULL) != (v->owner == NULL) ||
		    (owner && strcmp(owner, v->owner)))
			move(a, v, owner, why, now_ms);
		else if (again && mine(a, v))
			schedule(a, v, now_ms);
	}
	a->n += added;
	/* VIPs gone from the plan: given up. */
	for (size_t i = 0; i < a->n; i++) {
		struct ann_vip *v = &a->v[i];

		if (!v->seen) {
			if (mine(a, v))
				move(a, v, NULL, why, now_ms);
			free(v->owner);
			free(v->moved_why);
			continue;
		}
		a->v[k++] = *v;
	}
	a->n = k;
	if (a->n)
		qsort(a->v, a->n, sizeof(*a->v), vip_cmp);
	*out = xreallocarray(NULL, a->n + 1, sizeof(**out));
	for (size_t i = 0; i < a->n; i++)
		if (mine(a, &a->v[i]))
			(*out)[n++] = a->v[i].vip;
	return n;
}

void ann_tick(struct announcer *a, uint64_t now_ms)
{
	for (size_t i = 0; i < a->n; i++) {
		struct ann_vip *v = &a->v[i];

		while (v->round < ANN_GARP_ROUNDS &&
		       now_ms - v->start_ms >= garp_at_ms[v->round]) {
			garp(a, v);
			/* Late rounds (a busy loop) collapse into one. */
			while (v->round < ANN_GARP_ROUNDS &&
			       now_ms - v->start_ms >= garp_at_ms[v->round])
				v->round++;
		}
	}
}

void ann_conflicts(struct announcer *a, const struct dp_conflict *c,
		   size_t n, uint64_t now_ms)
{
	char vip[IPV4_STRLEN];

	for (size_t i = 0; i < n; i++) {
		struct ann_vip *v = find(a, c[i].vip);
		bool defend;

		if (!v || c[i].count <= v->conflicts)
			continue;
		v->conflicts = c[i].count;
		defend = mine(a, v) && arp_defend(&v->defended_ms, now_ms);
		/* Between defences, one line: a flood logs no more. */
		if (!defend && v->undefended)
			continue;
		log_msg("VIP %s: conflict: %02x:%02x:%02x:%02x:%02x:%02x also "
			"claims it (%llu ARP packet%s so far); another host "
			"on the segment answers for this node's VIP; %s",
			ipv4_format(c[i].vip, vip), c[i].mac[0], c[i].mac[1],
			c[i].mac[2], c[i].mac[3], c[i].mac[4], c[i].mac[5],
			(unsigned long long)c[i].count,
			c[i].count == 1 ? "" : "s",
			defend ? "defending it with a gratuitous ARP (once per "
				 "10 s at most, RFC 5227 2.4 (c))"
			       : "defended less than 10 s ago: not again "
				 "before then, still announcing it");
		v->undefended = !defend;
		if (defend) {
			garp(a, v);
			v->defences++;
		}
	}
}

void ann_report(const struct announcer *a, struct jw *w)
{
	char buf[LOG_STAMP_LEN > IPV4_STRLEN ? LOG_STAMP_LEN : IPV4_STRLEN];

	jw_key(w, "vips");
	jw_arr_begin(w);
	for (size_t i = 0; i < a->n; i++) {
		const struct ann_vip *v = &a->v[i];

		jw_obj_begin(w);
		jw_key(w, "vip");
		jw_str(w, ipv4_format(v->vip, buf));
		jw_key(w, "owner");
		jw_str(w, v->owner);
		jw_key(w, "announcedHere");
		jw_bool(w, mine(a, v));
		jw_key(w, "since");
		jw_str(w, v->owner ? log_stamp(v->since, buf) : NULL);
		jw_key(w, "lastTakeover");
		if (v->moved_at) {
			jw_obj_begin(w);
			jw_key(w, "at");
			jw_str(w, log_stamp(v->moved_at, buf));
			jw_key(w, "reason");
			jw_str(w, v->moved_why);
			jw_obj_end(w);
		} else {
			jw_null(w);
		}
		jw_key(w, "garpsSent");
		jw_int(w, (long long)v->garps);
		jw_key(w, "arpConflicts");
		jw_int(w, (long long)v->conflicts);
		jw_key(w, "arpDefences");
		jw_int(w, (long long)v->defences);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}
