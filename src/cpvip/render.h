/* render: the configuration of the control-plane VIP's daemons (SPEC.md
 * §5), keepalived's and HAProxy's, as a pure function of the cluster file,
 * the Node manifests and the LB node it is for.  Nothing else writes
 * these files; the agent writes what this returns and the daemons read it.
 *
 * keepalived moves controlPlaneVIP between the LB nodes with VRRPv3 sent
 * by unicast to the other LB nodes' cluster addresses (no multicast on the
 * segment), every node a BACKUP of equal priority that never preempts (a
 * node coming back does not take the VIP back), and follows HAProxy's
 * health: a node whose HAProxy does not answer, or answers that none of
 * the API servers is up, gives the VIP away.  HAProxy listens on
 * controlPlaneVIP:controlPlaneLBPort on every LB node (a transparent bind:
 * the backups are ready the moment the VIP arrives) and spreads
 * connections over the control-plane nodes' API servers, checked with
 * TLS GET /readyz. */
#ifndef BMLB_CPVIP_RENDER_H
#define BMLB_CPVIP_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "config/cluster.h"
#include "k8s/objects.h"

#define CPVIP_APISERVER_PORT 6443 /* the API servers' port, by default */
#define CPVIP_ADVERT_MS 250       /* VRRP advertisement interval, default */
#define CPVIP_ADVERT_MIN_MS 10    /* VRRPv3 counts in centiseconds */
#define CPVIP_ADVERT_MAX_MS 40950

/* The files, in the directory given as cpvip_input.dir. */
#define CPVIP_KEEPALIVED_CONF "keepalived.conf"
#define CPVIP_HAPROXY_CFG "haproxy.cfg"
#define CPVIP_HEALTH_SOCK "haproxy-health.sock" /* keepalived asks it */
#define CPVIP_STATS_SOCK "haproxy.sock" /* hands listeners over on reload */
#define CPVIP_HAPROXY_PID "haproxy.pid"

/* The command keepalived runs to ask HAProxy's health. */
#define CPVIP_CURL "/usr/bin/curl"

struct cpvip_input {
	const struct cfg_cluster *cluster;
	const struct k8s_objects *objects; /* names the API servers */
	const char *node;   /* this LB node's Node name */
	uint32_t node_ip;   /* its cluster address */
	const char *ifname; /* the interface holding it */
	int prefix;         /* that interface's prefix length */
	const char *dir;    /* absolute; where the daemons' files live */
	uint16_t apiserver_port;
	unsigned advert_ms; /* a multiple of 10 in [MIN, MAX] */
};

struct cpvip_config {
	char *keepalived; /* the text of CPVIP_KEEPALIVED_CONF */
	char *haproxy;    /* the text of CPVIP_HAPROXY_CFG */
	uint8_t vrid;
};

/* Renders both files.  Returns 0, or -EINVAL with the reason in err when a
 * name or path cannot be written into them (a space, a quote, a control
 * character). */
int cpvip_render(const struct cpvip_input *in, struct cpvip_config *out,
		 char *err, size_t errlen);
void cpvip_config_free(struct cpvip_config *c);

/* The VRRP virtual router id, 1..255, from the cluster's namespace, name
 * and controlPlaneVIP: two clusters on one segment get different ids
 * (unless they collide, 1 in 255; they still ignore each other's
 * unicast adverts). */
uint8_t cpvip_vrid(const struct cfg_cluster *c);

#endif
