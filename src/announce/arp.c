/* arp: ARP frame layout (see arp.h). */
#include "announce/arp.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

void arp_frame(uint8_t out[ARP_FRAME_LEN], const struct arp_fields *f)
{
	memcpy(out, f->dst, 6);
	memcpy(out + 6, f->src, 6);
	put16(out + 12, 0x0806);
	put16(out + 14, 1);      /* hardware: Ethernet */
	put16(out + 16, 0x0800); /* protocol: IPv4 */
	out[18] = 6;
	out[19] = 4;
	put16(out + 20, f->op);
	memcpy(out + 22, f->sha, 6);
	put32(out + 28, f->spa);
	memcpy(out + 32, f->tha, 6);
	put32(out + 38, f->tpa);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

int arp_parse(const uint8_t *frame, size_t len, struct arp_fields *f)
{
	if (len < ARP_FRAME_LEN || get16(frame + 12) != 0x0806 ||
	    get16(frame + 14) != 1 || get16(frame + 16) != 0x0800 ||
	    frame[18] != 6 || frame[19] != 4)
		return -EINVAL;
	memcpy(f->dst, frame, 6);
	memcpy(f->src, frame + 6, 6);
	f->op = get16(frame + 20);
	memcpy(f->sha, frame + 22, 6);
	f->spa = get32(frame + 28);
	memcpy(f->tha, frame + 32, 6);
	f->tpa = get32(frame + 38);
	return 0;
}

bool arp_defend(uint64_t *last_ms, uint64_t now_ms)
{
	if (*last_ms && now_ms - *last_ms < ARP_DEFEND_INTERVAL_MS)
		return false;
	*last_ms = now_ms;
	return true;
}

void arp_garp(uint8_t out[2][ARP_FRAME_LEN], const uint8_t mac[6],
	      uint32_t vip)
{
	struct arp_fields f = {.op = ARP_REQUEST, .spa = vip, .tpa = vip};

	memset(f.dst, 0xff, 6);
	memcpy(f.src, mac, 6);
	memcpy(f.sha, mac, 6);
	arp_frame(out[0], &f);
	/* Linux takes a reply as gratuitous when its target hardware address
	 * is the broadcast one (or the sender's). */
	f.op = ARP_REPLY;
	memset(f.tha, 0xff, 6);
	arp_frame(out[1], &f);
}
