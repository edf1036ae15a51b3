/* bench/udpflood: the small-UDP-packet generator of bench/lab and
 * bench/nodeport.  Complete 60-byte Ethernet frames (64 on a wire with the
 * FCS), checksums included, each payload starting with a loop tag
 * (src/bpf/loop_tag.h: what bench/nodeport's reflector restores), sent
 * from a packet socket that bypasses the qdisc, in sendmmsg batches, one
 * thread per CPU, for a fixed time (seconds, fractions too).  Written for
 * the lab because trafgen's workers can outlive it and it tries to raise
 * global socket memory sysctls.
 *
 *   udpflood IFACE SECONDS THREADS FLOWS SRC_IP SPORT TARGET...
 *       TARGET is SRC_MAC,DST_MAC,DST_IP,DPORT.  Flow i (0 <= i < FLOWS)
 *       uses source port SPORT + i and target i % (number of targets).
 *       Prints "udpflood SENT_PACKETS PACKETS_PER_S SECONDS".
 *
 * On a veth, whatever the receiving side does runs in the sender's softirq
 * on the sender's CPU: the rate is that of the whole path, generator
 * included (bench/lab measures the generator alone too).
 */
#include <arpa/inet.h>
#include <linux/types.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/loop_tag.h"
#include "flood.h"

#define FRAME_LEN 60
#define PAYLOAD (FRAME_LEN - 14 - 20 - 8)
_Static_assert(PAYLOAD >= sizeof(struct loop_tag), "the tag fits");
#define MAX_FLOWS 4096

struct target {
	uint8_t smac[6], dmac[6];
	uint32_t ip; /* network order */
	uint16_t port;
};

static uint8_t frames[MAX_FLOWS][FRAME_LEN];
static int nflows;

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static void build(uint8_t *f, const struct target *t, uint32_t src,
		  uint16_t sport)
{
	struct iphdr *ip = (struct iphdr *)(f + 14);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	struct loop_tag tag;
	uint32_t sum;

	memcpy(f, t->dmac, 6);
	memcpy(f + 6, t->smac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	*ip = (struct iphdr){.version = 4, .ihl = 5, .ttl = 64,
			     .protocol = IPPROTO_UDP,
			     .tot_len = htons(20 + 8 + PAYLOAD),
			     .saddr = src, .daddr = t->ip};
	ip->check = htons(csum_fold(csum_add(0, ip, 20)));
	*udp = (struct udphdr){.source = htons(sport), .dest = htons(t->port),
			       .len = htons(8 + PAYLOAD)};
	memset(udp + 1, 'x', PAYLOAD);
	tag = (struct loop_tag){.saddr = ip->saddr, .daddr = ip->daddr,
				.sport = udp->source, .dport = udp->dest};
	memcpy(tag.magic, LOOP_MAGIC, sizeof(tag.magic));
	memcpy(udp + 1, &tag, sizeof(tag));
	/* Pseudo-header, then the datagram. */
	sum = csum_add(0, &ip->saddr, 8);
	sum += IPPROTO_UDP + 8 + PAYLOAD;
	udp->check = htons(csum_fold(csum_add(sum, udp, 8 + PAYLOAD)));
	if (!udp->check)
		udp->check = 0xffff;
}

/* The next batch: the flows in turn, from this thread's first. */
static void fill(struct flood_job *j, struct iovec *iov)
{
	for (int i = 0; i < FLOOD_BATCH; i++) {
		iov[i].iov_base = frames[j->next];
		iov[i].iov_len = FRAME_LEN;
		j->next = (j->next + 1) % nflows;
	}
}

static int parse_target(char *s, struct target *t)
{
	char *f[4];
	struct in_addr in;

	for (int i = 0; i < 4; i++) {
		f[i] = strsep(&s, ",");
		if (!f[i])
			return -1;
	}
	for (int i = 0; i < 2; i++) {
		uint8_t *m = i ? t->dmac : t->smac;

		if (sscanf(f[i], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1],
			   &m[2], &m[3], &m[4], &m[5]) != 6)
			return -1;
	}
	if (inet_pton(AF_INET, f[2], &in) != 1)
		return -1;
	t->ip = in.s_addr;
	t->port = (uint16_t)atoi(f[3]);
	return s ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct target targets[64];
	struct flood_job jobs[FLOOD_MAX_THREADS];
	int ntargets = argc - 7, threads, ifindex, sport;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	double seconds;
	struct in_addr src;

	if (argc < 8 || ntargets > 64) {
		fprintf(stderr, "usage: udpflood IFACE SECONDS THREADS FLOWS "
				"SRC_IP SPORT SMAC,DMAC,DST_IP,DPORT...\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	seconds = atof(argv[2]);
	threads = atoi(argv[3]);
	nflows = atoi(argv[4]);
	sport = atoi(argv[6]);
	if (!ifindex || seconds <= 0 || seconds > 600 || threads < 1 ||
	    threads > FLOOD_MAX_THREADS || nflows < 1 || nflows > MAX_FLOWS ||
	    sport < 1 || sport + nflows > 65536 ||
	    inet_pton(AF_INET, argv[5], &src) != 1) {
		fprintf(stderr, "udpflood: bad interface, time (0-600 s), "
				"threads, flows (1-%d), source or port\n",
			MAX_FLOWS);
		return 2;
	}
	for (int i = 0; i < ntargets; i++) {
		if (parse_target(argv[7 + i], &targets[i])) {
			fprintf(stderr, "udpflood: bad target '%s'\n",
				argv[7 + i]);
			return 2;
		}
	}
	for (int i = 0; i < nflows; i++)
		build(frames[i], &targets[i % ntargets], src.s_addr,
		      (uint16_t)(sport + i));

	for (int i = 0; i < threads; i++)
		jobs[i] = (struct flood_job){.ifindex = ifindex,
					     .cpu = (int)(i % ncpu),
					     .next = i * nflows / threads,
					     .seconds = seconds};
	return flood_run("udpflood", jobs, threads, fill);
}
