/* bench/synflood: the spoofed SYN flood of bench/synflood.  TCP SYNs to
 * one VIP:port, each from a random address of SOURCES and a random port
 * (1024-65535), complete Ethernet frames with their checksums (built by
 * tests/packet/frames.h), sent from a packet socket that bypasses the
 * qdisc, in sendmmsg batches, one thread per CPU, as fast as the path
 * takes them, for a fixed time.
 *
 *   synflood IFACE SECONDS THREADS SMAC DMAC DST_IP DPORT SOURCES
 *       SOURCES: PREFIX/LEN[,PREFIX/LEN...], each inside 198.18.0.0/15 or
 *       a TEST-NET (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), so
 *       that the answers to the flood never reach a real host; a /32 is
 *       one source.  Prints "synflood SENT_PACKETS PACKETS_PER_S SECONDS".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frames.h"

#define BATCH 64
#define MAX_THREADS 64
#define MAX_PREFIXES 8

struct prefix {
	uint32_t base, size; /* host order; size addresses from base */
};

struct job {
	pthread_t thread;
	int ifindex, cpu;
	double seconds;
	uint64_t seed, sent;
	const char *err;
};

static struct pspec tmpl; /* the SYN, less its source */
static struct prefix prefixes[MAX_PREFIXES];
static int nprefixes;
static uint64_t naddrs; /* addresses in all prefixes */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

static void *flood(void *arg)
{
	struct job *j = arg;
	struct sockaddr_ll a = {.sll_family = AF_PACKET,
				.sll_ifindex = j->ifindex};
	static __thread struct frame f[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t rnd = j->seed | 1;
	int one = 1, fd;
	cpu_set_t set;
	double end;

	CPU_ZERO(&set);
	CPU_SET(j->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
		       sizeof(one))) {
		j->err = strerror(errno);
		return NULL;
	}
	memset(msgs, 0, sizeof(msgs));
	end = now_s() + j->seconds;
	while (now_s() < end) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			struct pspec s = tmpl;
			uint64_t r = xorshift(&rnd);

			s.saddr = source_at((r >> 16) % naddrs);
			s.sport = (uint16_t)(1024 + (r & 0xffff) % 64512);
			build_frame(&f[i], &s);
			iov[i] = (struct iovec){.iov_base = f[i].b,
						.iov_len = f[i].len};
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = sendmmsg(fd, msgs, BATCH, 0);
		if (n > 0)
			j->sent += (uint64_t)n;
		else if (errno != ENOBUFS && errno != EAGAIN &&
			 errno != EINTR) {
			j->err = strerror(errno);
			break;
		}
	}
	close(fd);
	return NULL;
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
	struct job jobs[MAX_THREADS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int threads, ifindex, dport;
	double seconds, t0, t;
	uint64_t sent = 0;
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
	    threads > MAX_THREADS || parse_mac(argv[4], tmpl.smac) ||
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

	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		jobs[i] = (struct job){.ifindex = ifindex,
				       .cpu = (int)(i % ncpu),
				       .seconds = seconds,
				       .seed = (uint64_t)(t0 * 1e9) * (i + 7)};
		if (pthread_create(&jobs[i].thread, NULL, flood, &jobs[i])) {
			perror("pthread_create");
			return 1;
		}
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(jobs[i].thread, NULL);
		if (jobs[i].err) {
			fprintf(stderr, "synflood: %s\n", jobs[i].err);
			return 1;
		}
		sent += jobs[i].sent;
	}
	t = now_s() - t0;
	printf("synflood %llu %.0f %.3f\n", (unsigned long long)sent,
	       (double)sent / t, t);
	return 0;
}
