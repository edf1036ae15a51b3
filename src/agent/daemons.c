/* daemons: keepalived and HAProxy for the control-plane VIP (see
 * daemons.h). */
#include "agent/daemons.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/log.h"
#include "cpvip/render.h"
#include "lib/xalloc.h"

/* One daemon: its file, what was last written there, its process. */
struct daemon {
	const char *file;
	char *written; /* NULL: nothing written yet */
	struct sup_child *child;
};

struct daemons {
	struct daemons_opts o;
	char dir[PATH_MAX]; /* the state directory, absolute */
	struct sup *sup;
	struct daemon keepalived, haproxy;
	uint32_t vip; /* controlPlaneVIP, as last rendered */
	bool started;
};

static char *in_dir(const struct daemons *d, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", d->dir, name) < 0)
		xalloc_fail();
	return p;
}

/* Deletes addr/prefix from interface ifindex: 0, or -errno (-EADDRNOTAVAIL
 * when it is not there). */
static int addr_del(int ifindex, uint32_t addr, int prefix)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		struct rtattr rta;
		uint32_t local;
	} req = {
		.nh = {.nlmsg_len = sizeof(req), .nlmsg_type = RTM_DELADDR,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK},
		.ifa = {.ifa_family = AF_INET,
			.ifa_prefixlen = (unsigned char)prefix,
			.ifa_index = (unsigned)ifindex},
		.rta = {.rta_len = RTA_LENGTH(sizeof(uint32_t)),
			.rta_type = IFA_LOCAL},
		.local = htonl(addr),
	};
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0 ||
	    recv(fd, &ack, sizeof(ack), 0) < (ssize_t)sizeof(ack))
		ret = -errno;
	else if (ack.nh.nlmsg_type == NLMSG_ERROR)
		ret = ack.err.error;
	close(fd);
	return ret;
}

/* keepalived has exited: the VIP it held stays on the interface until
 * the next one starts as a backup and removes it, while another node
 * already holds it.  Nobody else puts it there: it goes now. */
static void on_keepalived_exit(void *arg)
{
	struct daemons *d = arg;
	char a[IPV4_STRLEN];
	int idx = (int)if_nametoindex(d->o.ifname);
	int ret = idx ? addr_del(idx, d->vip, d->o.prefix) : -ENODEV;

	if (!ret)
		log_msg("removed the control-plane VIP %s from %s, which "
			"keepalived held when it exited",
			ipv4_format(d->vip, a), d->o.ifname);
	else if (ret != -EADDRNOTAVAIL)
		log_msg("cannot remove the control-plane VIP %s from %s: %s",
			ipv4_format(d->vip, a), d->o.ifname, strerror(-ret));
}

struct daemons *daemons_open(struct loop *l, const struct daemons_opts *o,
			     char *err, size_t errlen)
{
	static const char *const bins[] = {DAEMONS_KEEPALIVED, DAEMONS_HAPROXY,
					   CPVIP_CURL};
	struct daemons *d;
	char *ka, *kap, *kav, *kac, *kab, *hc;

	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++)
		if (access(bins[i], X_OK)) {
			snprintf(err, errlen, "%s is missing (%s): an LB node "
				 "keeps the control-plane VIP with keepalived "
				 "and HAProxy, whose health keepalived asks "
				 "with curl; install the keepalived, haproxy "
				 "and curl packages", bins[i], strerror(errno));
			return NULL;
		}
	d = xcalloc(1, sizeof(*d));
	d->o = *o;
	if (!realpath(o->st->dir, d->dir)) {
		snprintf(err, errlen, "cannot resolve the state directory %s: "
			 "%s", o->st->dir, strerror(errno));
		free(d);
		return NULL;
	}
	d->sup = sup_new(l);
	d->keepalived.file = CPVIP_KEEPALIVED_CONF;
	d->haproxy.file = CPVIP_HAPROXY_CFG;
	ka = in_dir(d, CPVIP_KEEPALIVED_CONF);
	kap = in_dir(d, "keepalived.pid");
	kav = in_dir(d, "keepalived-vrrp.pid");
	kac = in_dir(d, "keepalived-checkers.pid");
	kab = in_dir(d, "keepalived-bfd.pid");
	hc = in_dir(d, CPVIP_HAPROXY_CFG);
	/* HAProxy first: keepalived asks it for its health. */
	d->haproxy.child = sup_add(
		d->sup, "haproxy",
		(const char *const[]){DAEMONS_HAPROXY, "-W", "-db", "-f", hc,
				      NULL},
		SIGUSR2, NULL, NULL);
	d->keepalived.child = sup_add(
		d->sup, "keepalived",
		(const char *const[]){DAEMONS_KEEPALIVED, "-n", "-l", "-G",
				      "-P", "-f", ka, "-p", kap, "-r", kav,
				      "-c", kac, "-b", kab, NULL},
		SIGHUP, on_keepalived_exit, d);
	free(ka);
	free(kap);
	free(kav);
	free(kac);
	free(kab);
	free(hc);
	return d;
}

/* Writes text to the daemon's file when it differs from what was written
 * last; returns true when the file changed. */
static bool update(struct daemons *d, struct daemon *dm, const char *text)
{
	char err[512];

	if (dm->written && !strcmp(dm->written, text))
		return false;
	if (state_write(d->o.st, dm->file, text, strlen(text), err,
			sizeof(err))) {
		log_msg("%s; the daemon keeps reading the last %s", err,
			dm->file);
		return false;
	}
	free(dm->written);
	dm->written = xstrdup(text);
	return true;
}

void daemons_apply(struct daemons *d, const struct cfg_cluster *c,
		   const struct k8s_objects *objs)
{
	struct cpvip_config cfg;
	char err[512];
	bool ka, hap;

	if (cpvip_render(&(struct cpvip_input){
				 .cluster = c,
				 .objects = objs,
				 .node = d->o.node,
				 .node_ip = d->o.node_ip,
				 .ifname = d->o.ifname,
				 .prefix = d->o.prefix,
				 .dir = d->dir,
				 .apiserver_port = CPVIP_APISERVER_PORT,
				 .advert_ms = d->o.advert_ms,
			 },
			 &cfg, err, sizeof(err))) {
		log_msg("%s", err);
		return;
	}
	d->vip = c->cp_vip;
	hap = update(d, &d->haproxy, cfg.haproxy);
	ka = update(d, &d->keepalived, cfg.keepalived);
	if (!d->started) {
		log_msg("control-plane VIP: VRRP router id %u, advert every "
			"%u ms, HAProxy to %zu API server%s", cfg.vrid,
			d->o.advert_ms, c->ncp_nodes,
			c->ncp_nodes == 1 ? "" : "s");
		sup_start(d->haproxy.child);
		sup_start(d->keepalived.child);
		d->started = true;
	} else {
		if (hap)
			sup_reload(d->haproxy.child, "its file changed");
		if (ka)
			sup_reload(d->keepalived.child, "its file changed");
	}
	cpvip_config_free(&cfg);
}

void daemons_reap(struct daemons *d)
{
	if (d)
		sup_reap(d->sup);
}

size_t daemons_info(const struct daemons *d, struct sup_info *out,
		    size_t max)
{
	return d ? sup_info(d->sup, out, max) : 0;
}

void daemons_close(struct daemons *d, bool leave)
{
	if (!d)
		return;
	sup_free(d->sup, leave);
	free(d->keepalived.written);
	free(d->haproxy.written);
	free(d);
}
