/* netns.h: the private network namespace the packet tests and the
 * per-packet benchmark run in, with the routes and neighbours that
 * bpf_fib_lookup needs.  Nothing is created outside it.
 *
 *   lbt0  198.18.0.11/24, the LB node's cluster interface: gateway .1
 *         (02:00:00:00:00:01), worker .21 (02:00:00:00:00:21) routing
 *         198.19.21.0/24
 *   lbt2  198.51.100.1/24, the only way to 198.19.99.0/24 (via .2)
 */
#ifndef BMLB_TESTS_NETNS_H
#define BMLB_TESTS_NETNS_H

#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane/dp.h"

#define NETNS_NODE_IP 0xc612000bu /* 198.18.0.11, lbt0's address */

/* A data plane for lbt0, loaded but not attached; the caller sets the
 * rest before dp_open. */
static inline void netns_dp_config(struct dp_config *c)
{
	dp_config_defaults(c);
	c->ifname = "lbt0";
	c->node_ip = NETNS_NODE_IP;
	c->attach = false;
}

/* The sum of one counter over the CPUs. */
static inline uint64_t netns_counter(struct dp *dp, enum lb_counter c)
{
	uint64_t v[LB_C_MAX];

	dp_counters(dp, v);
	return v[c];
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		fprintf(stderr, "setup failed: %s\n", cmd);
		exit(1);
	}
}

/* The MAC of a device of our namespace (/sys shows the root namespace's). */
static inline void mac_of(const char *dev, uint8_t mac[6])
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		perror(dev);
		exit(1);
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
}

/* Moves this process into a new namespace and builds it; returns lbt0's
 * MAC and ifindex.  Exits on failure (root is needed). */
static inline void make_netns(uint8_t lbt0_mac[6], int *lbt0_ifindex)
{
	FILE *f;

	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare(CLONE_NEWNET) (this needs root)");
		exit(1);
	}
	sh("ip link set lo up");
	sh("ip link add lbt0 type veth peer name lbt1");
	sh("ip link add lbt2 type veth peer name lbt3");
	sh("ip addr add 198.18.0.11/24 dev lbt0");
	sh("ip addr add 198.51.100.1/24 dev lbt2");
	sh("for d in lbt0 lbt1 lbt2 lbt3; do ip link set $d up; done");
	sh("ip neigh replace 198.18.0.1 lladdr 02:00:00:00:00:01 dev lbt0 "
	   "nud permanent");
	sh("ip neigh replace 198.18.0.21 lladdr 02:00:00:00:00:21 dev lbt0 "
	   "nud permanent");
	sh("ip neigh replace 198.51.100.2 lladdr 02:00:00:00:00:02 dev lbt2 "
	   "nud permanent");
	sh("ip route add default via 198.18.0.1");
	sh("ip route add 198.19.21.0/24 via 198.18.0.21");
	sh("ip route add 198.19.99.0/24 via 198.51.100.2");
	f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
	if (!f || fputs("1", f) < 0 || fclose(f)) {
		perror("ip_forward");
		exit(1);
	}
	mac_of("lbt0", lbt0_mac);
	*lbt0_ifindex = (int)if_nametoindex("lbt0");
}

#endif
