/* preflight: the live-machine checks of SPEC.md §2 (see preflight.h). */
#include "agent/preflight.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int pf_find_iface(uint32_t addr, struct pf_iface *out)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in *a = (const void *)i->ifa_addr;
		const struct sockaddr_in *m = (const void *)i->ifa_netmask;

		if (!a || a->sin_family != AF_INET ||
		    ntohl(a->sin_addr.s_addr) != addr || !m ||
		    (found && (i->ifa_flags & IFF_LOOPBACK)))
			continue;
		snprintf(out->name, sizeof(out->name), "%s", i->ifa_name);
		out->addr = addr;
		out->prefix = __builtin_popcount(m->sin_addr.s_addr);
		out->up = i->ifa_flags & IFF_UP;
		found = true;
		if (!(i->ifa_flags & IFF_LOOPBACK))
			break;
	}
	freeifaddrs(ifa);
	return found ? 0 : -ENOENT;
}

int pf_enable_forwarding(const char *ifname)
{
	char path[128], v = 0;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding",
		 ifname);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (read(fd, &v, 1) != 1)
		ret = -EIO;
	else if (v == '0')
		ret = pwrite(fd, "1\n", 2, 0) == 2 ? 1 : -errno;
	close(fd);
	return ret;
}

/* A Node's field path: "status.addresses", under items[i] in a List. */
static const char *node_path(const struct k8s_node *node, char *buf,
			     size_t len)
{
	snprintf(buf, len, "%s%sstatus.addresses", node->origin.path,
		 node->origin.path[0] ? "." : "");
	return buf;
}

bool pf_check(const struct cfg_cluster *c, const struct k8s_node *node,
	      const struct pf_iface *ifc, bool lb, struct diag_list *dl)
{
	const struct k8s_origin *o = &node->origin;
	char ip[IPV4_STRLEN], net[IPV4_STRLEN], path[128], subnet[64];
	size_t n, before = dl->n;
	const struct cfg_node *nodes;
	uint32_t mask;

	ipv4_format(node->internal_ip, ip);
	if (!ifc) {
		diag_add(dl, o->file, o->line, o->col,
			 node_path(node, path, sizeof(path)),
			 "no interface of this machine holds %s, the "
			 "InternalIP of Node %s; run the agent on that node "
			 "(or in its network namespace), or correct the "
			 "address", ip, node->name);
		return false;
	}
	if (!ifc->up)
		diag_add(dl, o->file, o->line, o->col,
			 node_path(node, path, sizeof(path)),
			 "interface %s, which holds %s (Node %s), is down; "
			 "bring it up (ip link set %s up)", ifc->name, ip,
			 node->name, ifc->name);
	if (!lb)
		return dl->n == before;

	mask = ifc->prefix ? ~0u << (32 - ifc->prefix) : 0;
	snprintf(subnet, sizeof(subnet), "%s/%d, the subnet of %s on %s",
		 ipv4_format(ifc->addr & mask, net), ifc->prefix, ifc->name,
		 node->name);
	nodes = cfg_lb_nodes(c, &n);
	for (size_t i = 0; i < n; i++) {
		uint32_t a = cfg_node_cluster_ip(&nodes[i]);

		if ((a & mask) == (ifc->addr & mask))
			continue;
		diag_add(dl, c->file, nodes[i].line, nodes[i].col,
			 c->lb_nodes_from_cp
				 ? "spec.controlPlane.nodePoolSpec.nodes"
				 : "spec.loadBalancer.nodePoolSpec.nodes",
			 "LB node %s is not in %s; every LB node must be on "
			 "one layer-2 subnet with the VIPs",
			 ipv4_format(a, ip), subnet);
	}
	if ((c->cp_vip & mask) != (ifc->addr & mask))
		diag_add(dl, c->file, c->cp_vip_line, c->cp_vip_col,
			 "spec.loadBalancer.vips.controlPlaneVIP",
			 "%s is not in %s; the controlPlaneVIP must be on the "
			 "LB nodes' subnet", ipv4_format(c->cp_vip, ip),
			 subnet);
	for (size_t p = 0; p < c->npools; p++) {
		const struct cfg_pool *pool = &c->pools[p];

		for (size_t r = 0; r < pool->nranges; r++) {
			const struct ipv4_range *rg = &pool->ranges[r];
			char last[IPV4_STRLEN];

			if ((rg->first & mask) == (ifc->addr & mask) &&
			    (rg->last & mask) == (ifc->addr & mask))
				continue;
			snprintf(path, sizeof(path), "spec.loadBalancer."
				 "addressPools[%zu].addresses", p);
			diag_add(dl, c->file, pool->addresses_line,
				 pool->addresses_col, path,
				 "addresses %s-%s of pool \"%s\" are not all "
				 "in %s; a pool's addresses must be on the LB "
				 "nodes' subnet", ipv4_format(rg->first, ip),
				 ipv4_format(rg->last, last), pool->name,
				 subnet);
		}
	}
	return dl->n == before;
}
