/* flood.h: what bench/udpflood and bench/synflood share: sender threads,
 * one per CPU, each with a packet socket that bypasses the qdisc, sending
 * in sendmmsg batches for a fixed time the frames a fill function gives,
 * and the line they print. */
#ifndef BMLB_BENCH_FLOOD_H
#define BMLB_BENCH_FLOOD_H

#include <errno.h>
#include <linux/if_packet.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FLOOD_BATCH 64
#define FLOOD_MAX_THREADS 64

struct flood_job;

/* Points iov[0..FLOOD_BATCH) at the frames of a thread's next batch (its
 * job's `next` or `seed` keep where it is). */
typedef void flood_fill(struct flood_job *j, struct iovec *iov);

/* One sender thread: ifindex, cpu, seconds and next or seed set by the
 * caller, fill by flood_run, sent and err by the thread. */
struct flood_job {
	pthread_t thread;
	int ifindex, cpu, next;
	double seconds;
	uint64_t seed, sent;
	flood_fill *fill;
	const char *err;
};

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Pins the calling thread to j->cpu and opens its packet socket on
 * j->ifindex; -1 with j->err set when it cannot. */
static inline int flood_socket(struct flood_job *j)
{
	struct sockaddr_ll a = {.sll_family = AF_PACKET,
				.sll_ifindex = j->ifindex};
	int one = 1, fd;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(j->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
		       sizeof(one))) {
		j->err = strerror(errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sends one batch of FLOOD_BATCH frames and counts what went; false on an
 * error other than a full queue (j->err set). */
static inline bool flood_send(struct flood_job *j, int fd,
			      struct mmsghdr *msgs)
{
	int n = sendmmsg(fd, msgs, FLOOD_BATCH, 0);

	if (n > 0)
		j->sent += (uint64_t)n;
	else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
		j->err = strerror(errno);
		return false;
	}
	return true;
}

/* A sender thread: batches of what j->fill gives until j->seconds. */
static inline void *flood__thread(void *arg)
{
	struct flood_job *j = arg;
	struct mmsghdr msgs[FLOOD_BATCH];
	struct iovec iov[FLOOD_BATCH];
	int fd = flood_socket(j);
	double end;

	if (fd < 0)
		return NULL;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < FLOOD_BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	end = now_s() + j->seconds;
	while (now_s() < end) {
		j->fill(j, iov);
		if (!flood_send(j, fd, msgs))
			break;
	}
	close(fd);
	return NULL;
}

/* Runs a sender thread for each of the threads jobs, sending what fill
 * gives, waits for them all, prints "NAME
 * SENT_PACKETS PACKETS_PER_S SECONDS"; the exit status. */
static inline int flood_run(const char *name, struct flood_job *jobs,
			    int threads, flood_fill *fill)
{
	double t0 = now_s(), t;
	uint64_t sent = 0;
	int rc = 0;

	for (int i = 0; i < threads; i++) {
		jobs[i].fill = fill;
		if (pthread_create(&jobs[i].thread, NULL, flood__thread,
				   &jobs[i])) {
			perror("pthread_create");
			return 1;
		}
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(jobs[i].thread, NULL);
		if (jobs[i].err) {
			fprintf(stderr, "%s: %s\n", name, jobs[i].err);
			rc = 1;
		}
		sent += jobs[i].sent;
	}
	if (rc)
		return rc;
	t = now_s() - t0;
	printf("%s %llu %.0f %.3f\n", name, (unsigned long long)sent,
	       (double)sent / t, t);
	return 0;
}

#endif
