/* dsr: the LB nodes a DSR worker believes (see dsr.h). */
#include "agent/dsr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/ipv4.h"
#include "lib/xalloc.h"

#define ATF_COM 0x2 /* a complete entry (linux/if_arp.h) */

int dsr_arp_lookup(const char *text, const char *ifname, uint32_t ip,
		   uint8_t mac[6])
{
	const char *line = strchr(text, '\n'); /* after the heading */

	while (line && *++line) {
		char addr[IPV4_STRLEN], hw[18], dev[32];
		unsigned type, flags, m[6];
		struct in_addr a;

		if (sscanf(line, "%15s 0x%x 0x%x %17s %*s %31s", addr, &type,
			   &flags, hw, dev) == 5 &&
		    (flags & ATF_COM) && !strcmp(dev, ifname) &&
		    inet_pton(AF_INET, addr, &a) == 1 &&
		    ntohl(a.s_addr) == ip &&
		    sscanf(hw, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
			   &m[4], &m[5]) == 6) {
			for (int i = 0; i < 6; i++)
				mac[i] = (uint8_t)m[i];
			return 0;
		}
		line = strchr(line, '\n');
	}
	return -ENOENT;
}

/* A /proc file, whole (its size is not known before reading it); NULL
 * with errno set. */
static char *read_proc(const char *path)
{
	FILE *f = fopen(path, "re"), *m;
	char chunk[4096], *buf = NULL;
	size_t n, len = 0;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (!m)
		xalloc_fail();
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

/* One empty datagram to ip's discard port: the kernel resolves ip's MAC
 * to send it (whatever becomes of the datagram). */
static void resolve(uint32_t ip)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(9),
				 .sin_addr.s_addr = htonl(ip)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	sendto(fd, "", 0, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
	close(fd);
}

long dsr_peers_refresh(struct dp *dp, const char *ifname,
		       const uint32_t *ips, size_t n)
{
	struct dp_peer *peers = xcalloc(n ? n : 1, sizeof(*peers));
	char *text = read_proc("/proc/net/arp");
	size_t k = 0;
	int ret = text ? 0 : -errno;

	for (size_t i = 0; i < n && !ret; i++) {
		if (dsr_arp_lookup(text, ifname, ips[i], peers[k].mac)) {
			resolve(ips[i]);
			continue;
		}
		peers[k++].ip = ips[i];
	}
	if (!ret)
		ret = dp_set_peers(dp, peers, k);
	free(peers);
	free(text);
	return ret ? ret : (long)k;
}
