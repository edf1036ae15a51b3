/* netns.h: the private network namespace the packet tests and the
 * per-packet benchmark run in, with the routes and neighbours that
 * bpf_fib_lookup needs, and the data planes and client packets they use
 * on it.  Nothing is created outside it.
 *
 *   lbt0  198.18.0.11/24, the LB node's cluster interface: gateway .1
 *         (02:00:00:00:00:01), worker .21 (02:00:00:00:00:21) routing
 *         198.19.21.0/24; the client, 203.0.113.10, behind the gateway
 *         and the routes of each bpf_fib_lookup result: 198.19.22.0/24
 *         via .22, a next hop with no neighbour entry; 198.19.23.0/24 a
 *         blackhole; 198.19.24.0/24 unreachable; 198.19.25.0/24 via .21
 *         with MTU 1400 (locked: forwarding honours it only then)
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
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "dataplane/dp.h"
#include "frames.h"

#define NETNS_NODE_IP 0xc612000bu /* 198.18.0.11, lbt0's address */
#define NETNS_CLIENT 0xcb00710au  /* 203.0.113.10, behind the gateway */
#define NETNS_CLIENT_PORT 40000

/* A data plane for lbt0, loaded but not attached; the caller sets the
 * rest before dp_open.  Unanswered flows yield to new ones only after an
 * hour: a test's flows stay whatever the machine's pauses (the tests of
 * yielding set their own). */
static inline void netns_dp_config(struct dp_config *c)
{
	dp_config_defaults(c);
	c->ifname = "lbt0";
	c->node_ip = NETNS_NODE_IP;
	c->attach = false;
	c->timeouts.unreplied_yield_ms = 3600000;
}

/* Opens the data plane c describes (netns_dp_config's, then the caller's
 * settings) and, unless it is a worker's, gives it the n services svcs.
 * NULL on failure, with the step that failed and why in err. */
static inline struct dp *netns_dp_open(const struct dp_config *c,
				       const struct dp_service *svcs, size_t n,
				       char *err, size_t errlen)
{
	struct dp *dp;
	char why[256];

	if (dp_open(c, &dp, why, sizeof(why))) {
		snprintf(err, errlen, "dp_open: %s", why);
		return NULL;
	}
	if (!c->worker && dp_sync(dp, svcs, n, why, sizeof(why))) {
		snprintf(err, errlen, "dp_sync: %s", why);
		dp_destroy(dp);
		return NULL;
	}
	return dp;
}

/* The sum of one counter over the CPUs. */
static inline uint64_t netns_counter(struct dp *dp, enum lb_counter c)
{
	uint64_t v[LB_C_MAX];

	dp_counters(dp, v);
	return v[c];
}

/* What lb_dsr recorded for the client's flow to pod:pport (a DSR
 * worker's or a Local delivery's, for the reply); false when nothing. */
static inline bool client_flow(struct dp *dp, uint8_t proto, uint32_t pod,
			       uint16_t pport, struct lb_dsr *v)
{
	struct lb_flow k = {.saddr = htonl(NETNS_CLIENT), .daddr = htonl(pod),
			    .sport = htons(NETNS_CLIENT_PORT),
			    .dport = htons(pport), .proto = proto};

	return !bpf_map_lookup_elem(dp_map_fd(dp, "lb_dsr"), &k, v);
}

/* The clock dp_gc and dp_lease read, in ns. */
static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A packet from the client (NETNS_CLIENT:NETNS_CLIENT_PORT), through the
 * gateway, to daddr:dport on the LB node whose MAC is node_mac; a UDP one
 * carries "query". */
static inline struct pspec from_client(const uint8_t node_mac[6],
				       uint8_t proto, uint32_t daddr,
				       uint16_t dport, uint8_t flags)
{
	struct pspec s = {.smac = {2, 0, 0, 0, 0, 1}, .proto = proto,
			  .saddr = NETNS_CLIENT, .daddr = daddr,
			  .sport = NETNS_CLIENT_PORT, .dport = dport,
			  .tcp_flags = flags,
			  .payload = proto == IPPROTO_UDP ? "query" : NULL};

	memcpy(s.dmac, node_mac, 6);
	return s;
}

static inline void sh(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void sh(const char *fmt, ...)
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
	sh("ip route add 198.19.22.0/24 via 198.18.0.22");
	sh("ip route add blackhole 198.19.23.0/24");
	sh("ip route add unreachable 198.19.24.0/24");
	sh("ip route add 198.19.25.0/24 via 198.18.0.21 mtu lock 1400");
	f = fopen("/proc/sys/net/ipv4/ip_forward", "w");
	if (!f || fputs("1", f) < 0 || fclose(f)) {
		perror("ip_forward");
		exit(1);
	}
	mac_of("lbt0", lbt0_mac);
	*lbt0_ifindex = (int)if_nametoindex("lbt0");
}

#endif
