/* loop: epoll with callbacks (see loop.h).  A fixed table of LOOP_MAX
 * slots; epoll's data carries (generation << 32 | slot), so an event that
 * was already fetched for a source removed since is recognised and
 * dropped. */
#include "agent/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"

struct slot {
	int fd; /* -1: free */
	uint32_t gen;
	loop_fn fn;
	void *arg;
};

struct loop {
	int epfd;
	struct slot slots[LOOP_MAX];
};

struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	for (int i = 0; i < LOOP_MAX; i++)
		l->slots[i].fd = -1;
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l);
}

static struct slot *slot_of(struct loop *l, int fd)
{
	for (int i = 0; i < LOOP_MAX; i++)
		if (l->slots[i].fd == fd)
			return &l->slots[i];
	return NULL;
}

static struct epoll_event event_of(struct loop *l, struct slot *s,
				   uint32_t events)
{
	return (struct epoll_event){
		.events = events,
		.data.u64 = (uint64_t)s->gen << 32 | (uint64_t)(s - l->slots),
	};
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *arg)
{
	struct slot *s = slot_of(l, -1);
	struct epoll_event ev;

	if (!s)
		return -ENOSPC;
	s->gen++;
	ev = event_of(l, s, events);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	s->fd = fd;
	s->fn = fn;
	s->arg = arg;
	return 0;
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
	struct slot *s = slot_of(l, fd);
	struct epoll_event ev;

	if (!s)
		return -ENOENT;
	ev = event_of(l, s, events);
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_del(struct loop *l, int fd)
{
	struct slot *s = slot_of(l, fd);

	if (!s)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->fd = -1;
	s->gen++;
}

int loop_run(struct loop *l, const bool *stop)
{
	struct epoll_event ev[16];

	while (!*stop) {
		int n = epoll_wait(l->epfd, ev, 16, -1);

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n && !*stop; i++) {
			uint32_t idx = (uint32_t)ev[i].data.u64;
			struct slot *s;

			if (idx >= LOOP_MAX)
				continue;
			s = &l->slots[idx];
			if (s->fd >= 0 &&
			    s->gen == (uint32_t)(ev[i].data.u64 >> 32))
				s->fn(s->arg, ev[i].events);
		}
	}
	return 0;
}

int loop_timer_new(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static struct timespec ms_to_ts(uint64_t ms)
{
	return (struct timespec){.tv_sec = (time_t)(ms / 1000),
				 .tv_nsec = (long)(ms % 1000) * 1000000};
}

int loop_timer_arm(int fd, uint64_t first_ms, uint64_t every_ms)
{
	struct itimerspec its = {.it_value = ms_to_ts(first_ms),
				 .it_interval = ms_to_ts(every_ms)};

	return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

uint64_t loop_timer_read(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
