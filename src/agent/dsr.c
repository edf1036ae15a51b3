/* dsr: the LB nodes a DSR worker believes (see dsr.h). */
#include "agent/dsr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/log.h"
#include "announce/arp.h"
#include "announce/pins.h"
#include "lib/ipv4.h"
#include "lib/xalloc.h"

struct dsr_watch {
	struct dp *dp;
	int fd, ifindex;
	uint8_t mac[6];
	uint32_t self_ip;
	struct pins pins;
	struct dp_peer *seed; /* until the first tick */
	size_t nseed;
};

int dsr_watch_open(struct dsr_watch **out, struct dp *dp, uint32_t self_ip,
		   char *err, size_t errlen)
{
	struct dsr_watch *w = xcalloc(1, sizeof(*w));
	struct sockaddr_ll at = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_ARP)};

	w->dp = dp;
	w->self_ip = self_ip;
	dp_iface(dp, &w->ifindex, w->mac);
	at.sll_ifindex = w->ifindex;
	w->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       htons(ETH_P_ARP));
	if (w->fd < 0 || bind(w->fd, (struct sockaddr *)&at, sizeof(at))) {
		int ret = -errno;

		snprintf(err, errlen, "cannot open a packet socket for the LB "
			 "nodes' ARP (DSR): %s", strerror(errno));
		if (w->fd >= 0)
			close(w->fd);
		free(w);
		return ret;
	}
	w->seed = xcalloc(LB_DSR_PEERS, sizeof(*w->seed));
	w->nseed = dp_peers(dp, w->seed, LB_DSR_PEERS);
	*out = w;
	return 0;
}

void dsr_watch_close(struct dsr_watch *w)
{
	if (!w)
		return;
	close(w->fd);
	pins_free(&w->pins);
	free(w->seed);
	free(w);
}

int dsr_watch_fd(const struct dsr_watch *w)
{
	return w->fd;
}

void dsr_watch_read(struct dsr_watch *w)
{
	uint8_t frame[128];
	struct arp_fields f;
	ssize_t len;

	/* Every kind counts as a claim of its sender address: a request, a
	 * reply, a gratuitous one (the kernel learns from them all). */
	while ((len = recv(w->fd, frame, sizeof(frame), MSG_TRUNC)) >= 0)
		if (!arp_parse(frame, len > (ssize_t)sizeof(frame)
					      ? sizeof(frame)
					      : (size_t)len,
			       &f))
			pins_claim(&w->pins, f.spa, f.sha);
}

/* An ARP request for ip from this node, broadcast. */
static void probe(const struct dsr_watch *w, uint32_t ip)
{
	struct arp_fields f = {.op = ARP_REQUEST, .spa = w->self_ip,
			       .tpa = ip};
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = w->ifindex,
		.sll_halen = 6,
	};
	uint8_t frame[ARP_FRAME_LEN];

	memset(f.dst, 0xff, 6);
	memset(to.sll_addr, 0xff, 6);
	memcpy(f.src, w->mac, 6);
	memcpy(f.sha, w->mac, 6);
	arp_frame(frame, &f);
	sendto(w->fd, frame, sizeof(frame), 0, (struct sockaddr *)&to,
	       sizeof(to));
}

static char *mac_format(const uint8_t m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return buf;
}

static void log_event(const struct pin_event *e)
{
	char ip[IPV4_STRLEN], mac[18], was[18];

	ipv4_format(e->ip, ip);
	mac_format(e->mac, mac);
	mac_format(e->was, was);
	switch (e->kind) {
	case PIN_ADOPTED:
		if (e->had)
			log_msg("DSR: LB node %s moved from %s to %s (it alone "
				"answered this node's ARP probe); the option is "
				"believed from %s only", ip, was, mac, mac);
		else
			log_msg("DSR: LB node %s is at %s (it alone answered "
				"this node's ARP probe); the option is believed "
				"from that MAC", ip, mac);
		break;
	case PIN_STRANGER:
		log_msg("DSR: %s claims LB node %s's address in an ARP frame; "
			"not believed (%s%s); probing it", mac, ip,
			e->had ? "the MAC verified for it is " : "no MAC is "
			"verified for it yet", e->had ? was : "");
		break;
	case PIN_CONFLICT:
		log_msg("DSR: %zu MACs answered the ARP probe for LB node %s, "
			"%s among them: %s%s", e->nseen, ip, mac,
			e->kept ? "the option stays believed from the one "
				  "verified before, " : "the option is believed "
			"from none of them until one answers alone",
			e->kept ? was : "");
		break;
	}
}

long dsr_watch_tick(struct dsr_watch *w, const uint32_t *ips, size_t n,
		    uint64_t now_ms)
{
	uint32_t *due = xcalloc(n + 1, sizeof(*due));
	struct pin_event *ev = xcalloc(n + 1, sizeof(*ev));
	uint8_t(*macs)[6] = xcalloc(n + 1, sizeof(*macs));
	struct dp_peer *peers = xcalloc(n + 1, sizeof(*peers));
	size_t nev, k;
	int ret;

	pins_nodes(&w->pins, ips, n);
	for (size_t i = 0; i < w->nseed; i++)
		pins_seed(&w->pins, w->seed[i].ip, w->seed[i].mac, now_ms);
	w->nseed = 0;
	k = pins_tick(&w->pins, now_ms, due, ev, &nev);
	for (size_t i = 0; i < nev; i++)
		log_event(&ev[i]);
	for (size_t i = 0; i < k; i++)
		probe(w, due[i]);
	k = pins_believed(&w->pins, due, macs);
	for (size_t i = 0; i < k; i++) {
		peers[i].ip = due[i];
		memcpy(peers[i].mac, macs[i], 6);
	}
	ret = dp_set_peers(w->dp, peers, k);
	free(due);
	free(ev);
	free(macs);
	free(peers);
	return ret ? ret : (long)k;
}
