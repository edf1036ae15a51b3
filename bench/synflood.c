/* bench/synflood: the spoofed SYN flood of bench/synflood.  TCP SYNs to
 * one VIP:port, each from a random address of SOURCES and a random port
 * (1024-65535), complete Ethernet frames with their checksums (built by
 * tests/packet/frames.h), sent as bench/flood.h sends (a packet socket
 * per thread, one thread per CPU, sendmmsg batches) as fast as the path
 * takes them, for a fixed time.
 *
 *   synflood IFACE SECONDS THREADS SMAC DMAC DST_IP DPORT SOURCES
 *       SOURCES: PREFIX/LEN[,PREFIX/LEN...], each inside 198.18.0.0/15 or
 *       a TEST-NET (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), so
 *       that the answers to the flood never reach a real host; a /32 is
 *       one source.  Prints "synflood SENT_PACKETS PACKETS_PER_S SECONDS".
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flood.h"
#include "frames.h"

#define MAX_PREFIXES 8

struct prefix {
	uint32_t base, size; /* host order; size addresses from base */
};

static struct pspec tmpl; /* the SYN, less its source */
static struct prefix prefixes[MAX_PREFIXES];
static int nprefixes;
static uint64_t naddrs; /* addresses in all prefixes */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The address numbered n (n < naddrs) over the prefixes in turn. */
static uint32_t source_at(uint64_t n)
{
	for (int i = 0; i < nprefixes; i++) {
		if (n < prefixes[i].size)
			return prefixes[i].base + (uint32_t)n;
		n -= prefixes[i].size;
	}
	return prefixes[0].base;
}

/* The next batch: a new source and port for every SYN. */
static void fill(struct flood_job *j, struct iovec *iov)
{
	static __thread struct frame f[FLOOD_BATCH];

	for (int i = 0; i < FLOOD_BATCH; i++) {
		struct pspec s = tmpl;
		uint64_t r = xorshift(&j->seed);

		s.saddr = source_at((r >> 16) % naddrs);
		s.sport = (uint16_t)(1024 + (r & 0xffff) % 64512);
		build_frame(&f[i], &s);
		iov[i] = (struct iovec){.iov_base = f[i].b, .iov_len = f[i].len};
	}
}

static int parse_mac(const char *s, uint8_t *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2],
		      &m[3], &m[4], &m[5]) == 6
		       ? 0
		       : -1;
}

/* Whether base/len lies inside one of the ranges the lab may use. */
static int allowed(uint32_t base, int len)
{
	static const struct {
		uint32_t net;
		int len;
	} ok[] = {{0xc6120000, 15}, /* 198.18.0.0/15 */
		  {0xc0000200, 24}, /* 192.0.2.0/24 */
		  {0xc6336400, 24}, /* 198.51.100.0/24 */
		  {0xcb007100, 24}}; /* 203.0.113.0/24 */

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint32_t mask = ~0u << (32 - ok[i].len);

		if (len >= ok[i].len && (base & mask) == ok[i].net)
			return 1;
	}
	return 0;
}

static int parse_sources(char *s)
{
	char *p;

	while ((p = strsep(&s, ","))) {
		char *slash = strchr(p, '/');
		struct in_addr in;
		int len;

		if (!slash || nprefixes == MAX_PREFIXES)
			return -1;
		*slash = '\0';
		len = atoi(slash + 1);
		if (inet_pton(AF_INET, p, &in) != 1 || len < 1 || len > 32)
			return -1;
		prefixes[nprefixes].base = ntohl(in.s_addr) &
					   (len == 32 ? ~0u : ~(~0u >> len));
		prefixes[nprefixes].size = (uint32_t)(1ull << (32 - len));
		if (!allowed(prefixes[nprefixes].base, len))
			return -1;
		naddrs += prefixes[nprefixes++].size;
	}
	return nprefixes ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct flood_job jobs[FLOOD_MAX_THREADS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int threads, ifindex, dport;
	double seconds, t0 = now_s();
	struct in_addr dst;

	if (argc != 9) {
		fprintf(stderr, "usage: synflood IFACE SECONDS THREADS SMAC "
				"DMAC DST_IP DPORT PREFIX/LEN[,...]\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	seconds = atof(argv[2]);
	threads = atoi(argv[3]);
	dport = atoi(argv[7]);
	if (!ifindex || seconds <= 0 || seconds > 600 || threads < 1 ||
	    threads > FLOOD_MAX_THREADS || parse_mac(argv[4], tmpl.smac) ||
	    parse_mac(argv[5], tmpl.dmac) ||
	    inet_pton(AF_INET, argv[6], &dst) != 1 || dport < 1 ||
	    dport > 65535 || parse_sources(argv[8])) {
		fprintf(stderr, "synflood: bad interface, time (0-600 s), "
				"threads, MAC, target or sources (only "
				"198.18.0.0/15 and the TEST-NETs)\n");
		return 2;
	}
	tmpl.proto = IPPROTO_TCP;
	tmpl.daddr = ntohl(dst.s_addr);
	tmpl.dport = (uint16_t)dport;
	tmpl.tcp_flags = TH_SYN;

	for (int i = 0; i < threads; i++)
		jobs[i] = (struct flood_job){
			.ifindex = ifindex,
			.cpu = (int)(i % ncpu),
			.seconds = seconds,
			.seed = ((uint64_t)(t0 * 1e9) * (uint64_t)(i + 7)) | 1};
	return flood_run("synflood", jobs, threads, fill);
}
