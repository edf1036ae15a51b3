/* daemons: keepalived and HAProxy for the control-plane VIP (see
 * daemons.h). */
#include "agent/daemons.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
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
	bool started;
};

static char *in_dir(const struct daemons *d, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", d->dir, name) < 0)
		xalloc_fail();
	return p;
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
	d->haproxy.child = sup_add(d->sup, "haproxy", (const char *const[]){
		DAEMONS_HAPROXY, "-W", "-db", "-f", hc, NULL}, SIGUSR2);
	d->keepalived.child = sup_add(d->sup, "keepalived", (const char *const[]){
		DAEMONS_KEEPALIVED, "-n", "-l", "-G", "-P", "-f", ka,
		"-p", kap, "-r", kav, "-c", kac, "-b", kab, NULL}, SIGHUP);
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

size_t daemons_info(const struct daemons *d, struct sup_info *out,
		    size_t max)
{
	return d ? sup_info(d->sup, out, max) : 0;
}

void daemons_close(struct daemons *d)
{
	if (!d)
		return;
	sup_free(d->sup);
	free(d->keepalived.written);
	free(d->haproxy.written);
	free(d);
}
