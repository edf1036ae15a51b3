/* arp: ARP frames for IPv4 over Ethernet (RFC 826), as the agent sends them
 * when it becomes a VIP's owner (gratuitous ARP, RFC 5227 §3 and the reply
 * form older stacks heed), as a DSR worker probes and reads them (the LB
 * nodes' MACs, src/announce/pins.h) and as the packet tests build them.
 * Pure. */
#ifndef BMLB_ANNOUNCE_ARP_H
#define BMLB_ANNOUNCE_ARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARP_FRAME_LEN 42 /* Ethernet header + ARP; the driver pads */
#define ARP_REQUEST 1
#define ARP_REPLY 2

struct arp_fields {
	uint8_t dst[6], src[6]; /* Ethernet */
	uint16_t op;
	uint8_t sha[6];
	uint32_t spa; /* host order */
	uint8_t tha[6];
	uint32_t tpa; /* host order */
};

void arp_frame(uint8_t out[ARP_FRAME_LEN], const struct arp_fields *f);

/* RFC 5227 §2.4 (c): a host whose address another claims defends it with
 * one ARP Announcement, at most once per DEFEND_INTERVAL. */
#define ARP_DEFEND_INTERVAL_MS 10000

/* Whether to defend now (now_ms, a monotonic clock's): yes, and *last_ms
 * becomes now_ms, when the last defence (*last_ms; 0: none yet) is
 * ARP_DEFEND_INTERVAL_MS old or more. */
bool arp_defend(uint64_t *last_ms, uint64_t now_ms);

/* The fields of frame[0..len) when it is ARP for IPv4 over Ethernet.
 * Returns 0, or -EINVAL for anything else. */
int arp_parse(const uint8_t *frame, size_t len, struct arp_fields *f);

/* The two gratuitous ARPs announcing that vip is at mac, both broadcast
 * with sender and target address the VIP: out[0] the request form (an
 * "ARP Announcement"), out[1] the reply form. */
void arp_garp(uint8_t out[2][ARP_FRAME_LEN], const uint8_t mac[6],
	      uint32_t vip);

#endif
