/* status: the status socket server (see status.h). */
#include "agent/status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"

struct client {
	int fd; /* -1: free */
	char *buf;
	size_t len, off;
	uint64_t deadline_ms;
	struct status_srv *srv;
};

struct status_srv {
	struct loop *loop;
	int fd;
	char *path;
	status_render_fn render;
	void *arg;
	struct client clients[STATUS_CLIENTS];
};

static void client_drop(struct client *c)
{
	loop_del(c->srv->loop, c->fd);
	close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

/* Sends what the socket takes; true when the client is done with (all
 * sent, or an error). */
static bool client_send(int fd, const char *buf, size_t len, size_t *off)
{
	while (*off < len) {
		ssize_t n = send(fd, buf + *off, len - *off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno != EAGAIN;
		*off += (size_t)n;
	}
	return true;
}

static void on_writable(void *arg, uint32_t events)
{
	struct client *c = arg;

	(void)events;
	if (client_send(c->fd, c->buf, c->len, &c->off))
		client_drop(c);
}

static void serve(struct status_srv *s, int fd)
{
	char *buf = NULL;
	size_t len = 0, off = 0;
	FILE *f = open_memstream(&buf, &len);
	struct client *c = NULL;

	if (!f) {
		close(fd);
		return;
	}
	s->render(s->arg, f);
	fclose(f);
	if (!client_send(fd, buf, len, &off)) {
		for (int i = 0; i < STATUS_CLIENTS && !c; i++)
			if (s->clients[i].fd < 0)
				c = &s->clients[i];
	}
	if (c && !loop_add(s->loop, fd, EPOLLOUT, on_writable, c)) {
		*c = (struct client){
			.fd = fd, .buf = buf, .len = len, .off = off, .srv = s,
			.deadline_ms = loop_now_ms() + STATUS_TIMEOUT_MS};
		return;
	}
	close(fd); /* done, or no room to wait for this client */
	free(buf);
}

static void on_accept(void *arg, uint32_t events)
{
	struct status_srv *s = arg;

	(void)events;
	/* A bounded batch per wakeup; epoll reports the rest again. */
	for (int i = 0; i < 16; i++) {
		int fd = accept4(s->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		serve(s, fd);
	}
}

int status_open(struct loop *l, const char *path, status_render_fn render,
		void *arg, struct status_srv **out, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct status_srv *s;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "the status socket path %s is longer "
			 "than %zu bytes; use a shorter --state-dir", path,
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = xcalloc(1, sizeof(*s));
	*s = (struct status_srv){.loop = l, .path = xstrdup(path),
				 .render = render, .arg = arg};
	for (int i = 0; i < STATUS_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		goto fail;
	}
	unlink(path);
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->fd, 16) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = loop_add(l, s->fd, EPOLLIN, on_accept, s);
	if (ret)
		goto fail;
	*out = s;
	return 0;
fail:
	snprintf(err, errlen, "couldn't listen on %s: %s", path,
		 strerror(-ret));
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s);
	return ret;
}

void status_tick(struct status_srv *s)
{
	uint64_t now = loop_now_ms();

	for (int i = 0; i < STATUS_CLIENTS; i++)
		if (s->clients[i].fd >= 0 && now >= s->clients[i].deadline_ms)
			client_drop(&s->clients[i]);
}

void status_close(struct status_srv *s)
{
	if (!s)
		return;
	for (int i = 0; i < STATUS_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			client_drop(&s->clients[i]);
	loop_del(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
}
