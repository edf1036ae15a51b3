/* bench/tcpbench: TCP connection rate, request/response latency and bulk
 * throughput between two hosts of the lab, the way netperf's TCP_CRR,
 * TCP_RR and TCP_STREAM measure them (netperf is not in Debian).
 *
 *   tcpbench serve PORT
 *       answers every request byte with one byte; drains bulk senders
 *   tcpbench crr HOST PORT SECONDS PARALLEL
 *       connect, 1-byte request, 1-byte answer, close, again: prints
 *       "crr CONN_PER_S p50_us p99_us"
 *   tcpbench rr HOST PORT SECONDS
 *       1-byte request/response on one connection: "rr TRANS_PER_S p50_us
 *       p99_us"
 *   tcpbench stream HOST PORT SECONDS
 *       one connection sending as fast as it can: "stream MBIT_PER_S"
 *   tcpbench rate HOST PORT PER_S SECONDS
 *       a new connection every 1/PER_S s whatever the others do (a steady
 *       client, not a closed loop), each a 1-byte exchange given 3 s:
 *       "rate ATTEMPTED SUCCEEDED connect_p50_us p99_us max_us", the
 *       connect latency (SYN to established) of those that succeeded
 *
 * Everything is bounded by SECONDS; the server runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1 << 22)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

__attribute__((noreturn)) static void serve(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int one = 1, l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	static char buf[1 << 16];

	signal(SIGPIPE, SIG_IGN);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4096))
		die("listen");
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	for (;;) {
		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == l) {
				int c;

				while ((c = accept4(l, NULL, NULL,
						    SOCK_NONBLOCK)) >= 0) {
					struct epoll_event ce = {
						.events = EPOLLIN, .data.fd = c};

					setsockopt(c, IPPROTO_TCP, TCP_NODELAY,
						   &one, sizeof(one));
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				}
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				close(fd);
				continue;
			}
			/* One answer byte per request; bulk data (more than a
			 * byte at once) is just drained. */
			if (r == 1 && write(fd, buf, 1) < 0)
				close(fd);
		}
	}
}

static int dial(const char *host, int port, int nonblock)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0),
			0);

	inet_pton(AF_INET, host, &a.sin_addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, size_t n, double secs, double *lat)
{
	size_t k = n < MAX_SAMPLES ? n : MAX_SAMPLES;

	qsort(lat, k, sizeof(*lat), cmp_double);
	printf("%s %.0f %.1f %.1f\n", name, (double)n / secs,
	       k ? lat[k / 2] * 1e6 : 0, k ? lat[k * 99 / 100] * 1e6 : 0);
}

/* PARALLEL connection loops driven by one epoll: each connects, sends a
 * byte when writable, closes when the answer byte came. */
static int crr(const char *host, int port, double secs, int parallel)
{
	int ep = epoll_create1(0);
	double *start = calloc(65536, sizeof(*start));
	double *lat = calloc(MAX_SAMPLES, sizeof(*lat));
	double t0 = now_s(), end = t0 + secs;
	size_t done = 0, failed = 0;
	int open_conns = 0;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct epoll_event evs[256];
		int n;

		while (open_conns < parallel && now_s() < end) {
			int fd = dial(host, port, 1);
			struct epoll_event ev = {.events = EPOLLOUT};

			if (fd < 0 || fd >= 65536) {
				failed++;
				if (fd >= 0)
					close(fd);
				break;
			}
			ev.data.fd = fd;
			start[fd] = now_s();
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			open_conns++;
		}
		if (!open_conns)
			break;
		n = epoll_wait(ep, evs, 256, 100);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			char c = 'x';

			if (evs[i].events & EPOLLOUT) {
				struct epoll_event ev = {.events = EPOLLIN,
							 .data.fd = fd};

				if (write(fd, &c, 1) != 1) {
					failed++;
					goto close_it;
				}
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
				continue;
			}
			if (read(fd, &c, 1) == 1) {
				if (done < MAX_SAMPLES)
					lat[done] = now_s() - start[fd];
				done++;
			} else {
				failed++;
			}
close_it:
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			open_conns--;
		}
		if (now_s() > end + 5)
			break; /* stragglers: give up on them */
	}
	report("crr", done, now_s() - t0, lat);
	if (failed)
		fprintf(stderr, "crr: %zu failed\n", failed);
	return 0;
}

static int rr(const char *host, int port, double secs)
{
	int fd = dial(host, port, 0);
	double *lat = calloc(MAX_SAMPLES, sizeof(*lat));
	double t0 = now_s();
	size_t n = 0;

	if (fd < 0)
		die("connect");
	while (now_s() - t0 < secs) {
		double t = now_s();
		char c = 'x';

		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
			die("rr");
		if (n < MAX_SAMPLES)
			lat[n] = now_s() - t;
		n++;
	}
	report("rr", n, now_s() - t0, lat);
	close(fd);
	return 0;
}

static int stream(const char *host, int port, double secs)
{
	static char buf[1 << 16];
	int fd = dial(host, port, 0);
	double t0 = now_s();
	uint64_t bytes = 0;

	if (fd < 0)
		die("connect");
	memset(buf, 'x', sizeof(buf));
	while (now_s() - t0 < secs) {
		ssize_t w = write(fd, buf, sizeof(buf));

		if (w <= 0)
			die("stream");
		bytes += (uint64_t)w;
	}
	printf("stream %.0f\n", (double)bytes * 8 / 1e6 / (now_s() - t0));
	close(fd);
	return 0;
}

/* One connection of rate(): when it was opened (0: no connection), and
 * its connect latency once connected (0: not yet). */
struct rate_conn {
	double start, connected;
};

#define RATE_TIMEOUT 3.0

static int rate(const char *host, int port, double per_s, double secs)
{
	size_t want = (size_t)(per_s * secs), opened = 0, ok = 0, nlat = 0;
	struct rate_conn *conns = calloc(65536, sizeof(*conns));
	double *lat = calloc(want + 1, sizeof(*lat));
	int ep = epoll_create1(0), open_conns = 0;
	double t0 = now_s(), max = 0, swept = t0;

	if (!conns || !lat || ep < 0 || want == 0 || want > MAX_SAMPLES)
		die("rate");
	signal(SIGPIPE, SIG_IGN);
	while (opened < want || open_conns) {
		struct epoll_event evs[256];
		double t = now_s(), next = t0 + (double)opened / per_s;
		int n, wait_ms;

		if (t > t0 + secs + RATE_TIMEOUT + 1)
			break; /* bounded, whatever is still open */
		while (opened < want && t >= next) {
			int fd = dial(host, port, 1);
			struct epoll_event ev = {.events = EPOLLOUT};

			opened++;
			next = t0 + (double)opened / per_s;
			if (fd < 0 || fd >= 65536) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			conns[fd] = (struct rate_conn){.start = now_s()};
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			open_conns++;
		}
		wait_ms = opened < want ? (int)((next - now_s()) * 1000) : 50;
		n = epoll_wait(ep, evs, 256, wait_ms < 0 ? 0 : wait_ms);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, err = 0;
			socklen_t len = sizeof(err);
			char c = 'x';

			if (!conns[fd].connected) {
				struct epoll_event ev = {.events = EPOLLIN,
							 .data.fd = fd};

				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err || write(fd, &c, 1) != 1)
					goto close_it;
				conns[fd].connected = now_s() - conns[fd].start;
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
				continue;
			}
			if (read(fd, &c, 1) == 1) {
				lat[nlat] = conns[fd].connected;
				if (lat[nlat] > max)
					max = lat[nlat];
				nlat++;
				ok++;
			}
close_it:
			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			conns[fd].start = 0;
			open_conns--;
		}
		/* Every 100 ms: those given RATE_TIMEOUT without an answer
		 * fail. */
		if (now_s() - swept < 0.1)
			continue;
		swept = now_s();
		for (int fd = 0; fd < 65536 && open_conns; fd++) {
			if (conns[fd].start > 0 &&
			    swept - conns[fd].start > RATE_TIMEOUT) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				conns[fd].start = 0;
				open_conns--;
			}
		}
	}
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	printf("rate %zu %zu %.0f %.0f %.0f\n", opened, ok,
	       nlat ? lat[nlat / 2] * 1e6 : 0,
	       nlat ? lat[nlat * 99 / 100] * 1e6 : 0, max * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		serve(atoi(argv[2]));
	if (argc == 6 && !strcmp(argv[1], "crr"))
		return crr(argv[2], atoi(argv[3]), atof(argv[4]), atoi(argv[5]));
	if (argc == 5 && !strcmp(argv[1], "rr"))
		return rr(argv[2], atoi(argv[3]), atof(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "stream"))
		return stream(argv[2], atoi(argv[3]), atof(argv[4]));
	if (argc == 6 && !strcmp(argv[1], "rate"))
		return rate(argv[2], atoi(argv[3]), atof(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: tcpbench serve PORT | crr HOST PORT SECONDS "
			"PARALLEL | rr HOST PORT SECONDS | stream HOST PORT "
			"SECONDS | rate HOST PORT PER_S SECONDS\n");
	return 2;
}
