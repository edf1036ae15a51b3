/* loop: the agent's one event loop, a thin layer over epoll.
 *
 * Every source the agent waits on is a file descriptor (signalfd, timerfd,
 * inotify, sockets) registered with a callback.  Callbacks run one at a time
 * and must not block.  A source removed while events for it are pending in
 * the same wakeup is never called again (slots carry a generation). */
#ifndef BMLB_AGENT_LOOP_H
#define BMLB_AGENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define LOOP_MAX 64 /* sources at most: a handful plus status clients */

typedef void (*loop_fn)(void *arg, uint32_t events);

struct loop;

/* Returns NULL with errno set. */
struct loop *loop_new(void);
void loop_free(struct loop *l);

/* events: EPOLLIN, EPOLLOUT...  Returns 0 or -errno (-ENOSPC when full). */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *arg);
int loop_mod(struct loop *l, int fd, uint32_t events);
void loop_del(struct loop *l, int fd);

/* Dispatches events until *stop is set.  Returns 0, or -errno when
 * epoll_wait fails for another reason than a signal. */
int loop_run(struct loop *l, const bool *stop);

/* timerfd helpers (CLOCK_MONOTONIC, non-blocking): a new timer, arming it
 * to fire once after first_ms and then every every_ms (0: once; first_ms 0
 * disarms), and reading its expirations. */
int loop_timer_new(void);
int loop_timer_arm(int fd, uint64_t first_ms, uint64_t every_ms);
uint64_t loop_timer_read(int fd);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t loop_now_ms(void);

#endif
