/* daemons: the control-plane VIP on an LB node (SPEC.md §5).  Renders
 * keepalived's and HAProxy's files (src/cpvip/render.h) into the state
 * directory, runs both daemons under supervise.h, and has the one whose
 * file changed reload it: HAProxy through its master (new workers take
 * the listening sockets over, old ones finish their connections),
 * keepalived with SIGHUP.
 *
 *   keepalived -n -l -G -P -f DIR/keepalived.conf -p DIR/keepalived.pid
 *              -r DIR/keepalived-vrrp.pid -c DIR/keepalived-checkers.pid
 *              -b DIR/keepalived-bfd.pid
 *   haproxy -W -db -f DIR/haproxy.cfg
 *
 * Every file is the state directory's own, so several agents on one
 * machine (a lab) never share one. */
#ifndef BMLB_AGENT_DAEMONS_H
#define BMLB_AGENT_DAEMONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/loop.h"
#include "agent/state.h"
#include "agent/supervise.h"
#include "config/cluster.h"
#include "k8s/objects.h"

#define DAEMONS_KEEPALIVED "/usr/sbin/keepalived"
#define DAEMONS_HAPROXY "/usr/sbin/haproxy"

struct daemons_opts {
	const struct state *st; /* where the files go */
	const char *node, *ifname;
	uint32_t node_ip;
	int prefix;
	unsigned advert_ms;
};

struct daemons;

/* Checks that the daemons are installed.  Nothing runs until the first
 * daemons_apply.  Returns NULL with the reason in err. */
struct daemons *daemons_open(struct loop *l, const struct daemons_opts *o,
			     char *err, size_t errlen);

/* Renders the files for this cluster file and these Nodes, writes those
 * that changed and has their daemon reload; the first call starts (or
 * adopts) both.  A failure is logged; what runs keeps running. */
void daemons_apply(struct daemons *d, const struct cfg_cluster *c,
		   const struct k8s_objects *objs);

/* On SIGCHLD. */
void daemons_reap(struct daemons *d);

/* The children, for status. */
size_t daemons_info(const struct daemons *d, struct sup_info *out,
		    size_t max);

/* Stops both daemons (keepalived gives the VIP away as it stops), or with
 * leave lets them run for the next agent (a restart). */
void daemons_close(struct daemons *d, bool leave);

#endif
