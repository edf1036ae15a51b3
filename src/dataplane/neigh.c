/* neigh: bmlb's managed neighbour entries, through rtnetlink (see
 * neigh.h).  Every request waits for its answer (an ack, or NLMSG_DONE
 * after a dump) on a socket of its own; events come on another, never
 * blocking.  Cost per sync: one route lookup per backend, one dump of the
 * neighbour table, one request per entry created or removed. */
#include "dataplane/neigh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "lib/ipv4.h"
#include "lib/xalloc.h"

#define NEIGH_BUF 32768     /* a dump's datagrams are at most this big */
#define NEIGH_EVENT_READS 64 /* datagrams read per neigh_events call */

struct neigh {
	struct mnl_socket *req, *sub;
	unsigned req_port, seq;
	int ifindex;
	char ifname[IF_NAMESIZE];
	struct nh_table t;
	char buf[NEIGH_BUF];
};

/* Attributes of one message by type, those above max ignored. */
struct attrs {
	const struct nlattr **tb;
	uint16_t max;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *x = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= x->max)
		x->tb[type] = a;
	return MNL_CB_OK;
}

/* A 4-byte attribute (an address in network order, a u32), or 0 when
 * missing or malformed. */
static uint32_t attr_u32(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) == 4 ? mnl_attr_get_u32(a) : 0;
}

/* Keeps the first error's message in err. */
static int note(int ret, int first, char *err, size_t errlen,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int note(int ret, int first, char *err, size_t errlen,
		const char *fmt, ...)
{
	va_list ap;
	size_t off;

	if (first)
		return first;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	off = strlen(err);
	if (off < errlen)
		snprintf(err + off, errlen - off, ": %s (%d)", strerror(-ret),
			 -ret);
	return ret;
}

/* Sends nlh and runs cb (NULL: none) on each answer, up to the ack or the
 * end of the dump.  Returns 0 or -errno (the kernel's, for a refusal). */
static int request(struct neigh *n, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *data)
{
	nlh->nlmsg_seq = ++n->seq;
	if (mnl_socket_sendto(n->req, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = mnl_socket_recvfrom(n->req, n->buf,
						  sizeof(n->buf));
		int ret;

		if (len < 0)
			return -errno;
		errno = 0;
		ret = mnl_cb_run(n->buf, (size_t)len, nlh->nlmsg_seq,
				 n->req_port, cb, data);
		if (ret < 0)
			return errno ? -errno : -EPROTO;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

struct route_ans {
	const struct neigh *n;
	uint32_t dst, hop;
};

static int on_route(const struct nlmsghdr *nlh, void *data)
{
	struct route_ans *r = data;
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	uint32_t gw;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rm))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rm), attr_cb,
		       &(struct attrs){tb, RTA_MAX});
	if (rm->rtm_type != RTN_UNICAST ||
	    attr_u32(tb[RTA_OIF]) != (uint32_t)r->n->ifindex)
		return MNL_CB_OK;
	gw = attr_u32(tb[RTA_GATEWAY]);
	r->hop = gw ? ntohl(gw) : r->dst;
	return MNL_CB_OK;
}

/* The next hop of dst on the interface (0: none there).  No route at all
 * is no error. */
static int route_of(struct neigh *n, uint32_t dst, uint32_t *hop)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
	struct route_ans r = {.n = n, .dst = dst};
	int ret;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	rm->rtm_family = AF_INET;
	rm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_DST, htonl(dst));
	ret = request(n, nlh, on_route, &r);
	*hop = r.hop;
	return ret == -ENETUNREACH || ret == -EHOSTUNREACH ? 0 : ret;
}

/* An IPv4 neighbour message of the interface as an entry (a deleted one
 * in state NUD_NONE); false for any other message. */
static bool parse_neigh(const struct neigh *n, const struct nlmsghdr *nlh,
			struct nh_entry *e)
{
	const struct nlattr *tb[NDA_MAX + 1] = {0};
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	uint32_t dst;

	if ((nlh->nlmsg_type != RTM_NEWNEIGH &&
	     nlh->nlmsg_type != RTM_DELNEIGH) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nd) ||
	    nd->ndm_family != AF_INET || nd->ndm_ifindex != n->ifindex)
		return false;
	mnl_attr_parse(nlh, sizeof(*nd), attr_cb,
		       &(struct attrs){tb, NDA_MAX});
	if (!(dst = attr_u32(tb[NDA_DST])))
		return false;
	*e = (struct nh_entry){
		.ip = ntohl(dst),
		.state = nlh->nlmsg_type == RTM_DELNEIGH ? NUD_NONE
							 : nd->ndm_state,
		.managed = attr_u32(tb[NDA_FLAGS_EXT]) & NTF_EXT_MANAGED,
		.ours = tb[NDA_PROTOCOL] &&
			mnl_attr_get_payload_len(tb[NDA_PROTOCOL]) == 1 &&
			mnl_attr_get_u8(tb[NDA_PROTOCOL]) == NH_PROTO,
	};
	return true;
}

struct dump {
	const struct neigh *n;
	struct nh_entry *v;
	size_t len, cap;
};

static int on_dump(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nh_entry e;

	if (parse_neigh(d->n, nlh, &e))
		*(struct nh_entry *)xpush(&d->v, &d->len, &d->cap,
					  sizeof(e)) = e;
	return MNL_CB_OK;
}

/* Starts an IPv4 neighbour message in buf (MNL_SOCKET_BUFFER_SIZE). */
static struct nlmsghdr *neigh_msg(char *buf, uint16_t type, uint16_t flags,
				  int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = ifindex;
	return nlh;
}

/* The interface's IPv4 neighbour entries (the dump has them all: the
 * kernel filters by interface only with strict checking). */
static int dump_entries(struct neigh *n, struct dump *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	*d = (struct dump){.n = n};
	return request(n, neigh_msg(buf, RTM_GETNEIGH, NLM_F_DUMP, 0),
		       on_dump, d);
}

/* Adds (type RTM_NEWNEIGH) or removes (RTM_DELNEIGH) bmlb's managed entry
 * for ip: no address, state NONE, the kernel resolves it. */
static int entry_request(struct neigh *n, uint16_t type, uint32_t ip)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = neigh_msg(buf, type, NLM_F_ACK, n->ifindex);
	struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);

	mnl_attr_put_u32(nlh, NDA_DST, htonl(ip));
	if (type == RTM_NEWNEIGH) {
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
		nd->ndm_state = NUD_NONE;
		nd->ndm_flags = NTF_EXT_LEARNED;
		mnl_attr_put_u8(nlh, NDA_PROTOCOL, NH_PROTO);
		mnl_attr_put_u32(nlh, NDA_FLAGS_EXT, NTF_EXT_MANAGED);
	}
	return request(n, nlh, NULL, NULL);
}

int neigh_sync(struct neigh *n, const uint32_t *backends, size_t nbackends,
	       char *err, size_t errlen)
{
	struct nh_route *r = xcalloc(nbackends ? nbackends : 1, sizeof(*r));
	uint32_t *create = NULL, *remove = NULL;
	size_t ncreate = 0, nremove = 0;
	char a[IPV4_STRLEN];
	struct dump d = {0};
	int first = 0, ret;

	for (size_t i = 0; i < nbackends; i++) {
		r[i].backend = backends[i];
		if ((ret = route_of(n, backends[i], &r[i].hop)))
			first = note(ret, first, err, errlen, "couldn't look "
				     "up the route to backend %s",
				     ipv4_format(backends[i], a));
	}
	nh_set_routes(&n->t, r, nbackends);
	free(r);
	if ((ret = dump_entries(n, &d))) {
		first = note(ret, first, err, errlen, "couldn't read the "
			     "neighbour table of '%s'", n->ifname);
		goto out;
	}
	nh_plan(&n->t, d.v, d.len, &create, &ncreate, &remove, &nremove);
	for (size_t i = 0; i < ncreate; i++)
		if ((ret = entry_request(n, RTM_NEWNEIGH, create[i])))
			first = note(ret, first, err, errlen, "couldn't add "
				     "a managed neighbour entry for %s on "
				     "'%s'", ipv4_format(create[i], a),
				     n->ifname);
	for (size_t i = 0; i < nremove; i++)
		if ((ret = entry_request(n, RTM_DELNEIGH, remove[i])) &&
		    ret != -ENOENT)
			first = note(ret, first, err, errlen, "couldn't "
				     "remove the managed neighbour entry for "
				     "%s on '%s'", ipv4_format(remove[i], a),
				     n->ifname);
	nh_observe_entries(&n->t, d.v, d.len);
out:
	free(create);
	free(remove);
	free(d.v);
	return first;
}

struct events {
	struct neigh *n;
	bool changed;
};

static int on_event(const struct nlmsghdr *nlh, void *data)
{
	struct events *ev = data;
	struct nh_entry e;

	if (parse_neigh(ev->n, nlh, &e))
		ev->changed |= nh_observe(&ev->n->t, e.ip, e.state);
	return MNL_CB_OK;
}

bool neigh_events(struct neigh *n)
{
	struct events ev = {.n = n};

	for (int i = 0; i < NEIGH_EVENT_READS; i++) {
		ssize_t len = mnl_socket_recvfrom(n->sub, n->buf,
						  sizeof(n->buf));
		struct dump d;

		if (len >= 0) {
			mnl_cb_run(n->buf, (size_t)len, 0, 0, on_event, &ev);
			continue;
		}
		if (errno != ENOBUFS)
			break;
		/* Events were lost: read every state again. */
		if (!dump_entries(n, &d))
			ev.changed |= nh_observe_entries(&n->t, d.v, d.len);
		free(d.v);
	}
	return ev.changed;
}

int neigh_open(const char *ifname, struct neigh **out, char *err,
	       size_t errlen)
{
	struct neigh *n = xcalloc(1, sizeof(*n));
	int ret = 0;

	snprintf(n->ifname, sizeof(n->ifname), "%s", ifname);
	n->ifindex = (int)if_nametoindex(ifname);
	if (!n->ifindex) {
		ret = note(-errno, 0, err, errlen, "no interface '%s'",
			   ifname);
		goto fail;
	}
	n->req = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	n->sub = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!n->req || !n->sub ||
	    mnl_socket_bind(n->req, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(n->sub, RTMGRP_NEIGH, MNL_SOCKET_AUTOPID) < 0) {
		ret = note(-errno, 0, err, errlen, "couldn't open the "
			   "rtnetlink sockets for the neighbours of '%s'",
			   ifname);
		goto fail;
	}
	n->req_port = mnl_socket_get_portid(n->req);
	*out = n;
	return 0;
fail:
	neigh_close(n);
	return ret;
}

void neigh_close(struct neigh *n)
{
	if (!n)
		return;
	if (n->req)
		mnl_socket_close(n->req);
	if (n->sub)
		mnl_socket_close(n->sub);
	nh_free(&n->t);
	free(n);
}

int neigh_fd(const struct neigh *n)
{
	return mnl_socket_get_fd(n->sub);
}

const struct nh_table *neigh_table(const struct neigh *n)
{
	return &n->t;
}
