/* state: the state directory (see state.h). */
#include "agent/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"

char *state_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int mkdir_p(const char *path)
{
	char *buf = xstrdup(path);
	int ret = 0;

	for (char *p = buf + 1; *p && !ret; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			ret = -errno;
		*p = '/';
	}
	if (!ret && mkdir(buf, 0700) < 0 && errno != EEXIST)
		ret = -errno;
	free(buf);
	return ret;
}

/* The pid written in a held lock file, for the message; 0 if unknown. */
static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int state_open(struct state *st, const char *dir, char *err, size_t errlen)
{
	int ret;

	*st = (struct state){.dir_fd = -1, .lock_fd = -1};
	ret = mkdir_p(dir);
	if (ret) {
		snprintf(err, errlen, "couldn't create the state directory "
			 "%s: %s", dir, strerror(-ret));
		return ret;
	}
	st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dir_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "couldn't open the state directory %s: "
			 "%s", dir, strerror(errno));
		return ret;
	}
	st->lock_fd = openat(st->dir_fd, STATE_LOCK,
			     O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (ret == -EBUSY)
			snprintf(err, errlen, "another agent (pid %ld) is "
				 "running with the state directory %s; give "
				 "each agent its own --state-dir",
				 lock_holder(st->lock_fd), dir);
		else
			snprintf(err, errlen, "couldn't lock %s/%s: %s", dir,
				 STATE_LOCK, strerror(-ret));
		state_close(st);
		return ret;
	}
	if (ftruncate(st->lock_fd, 0) == 0)
		dprintf(st->lock_fd, "%ld\n", (long)getpid());
	st->dir = xstrdup(dir);
	return 0;
}

void state_close(struct state *st)
{
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the lock */
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	free(st->dir);
	*st = (struct state){.dir_fd = -1, .lock_fd = -1};
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_write(const struct state *st, const char *name, const void *buf,
		size_t len, char *err, size_t errlen)
{
	char tmp[256];
	int fd, ret;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(st->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && renameat(st->dir_fd, tmp, st->dir_fd, name) < 0)
		ret = -errno;
	if (!ret && fsync(st->dir_fd) < 0)
		ret = -errno;
	if (!ret)
		return 0;
	unlinkat(st->dir_fd, tmp, 0);
fail:
	snprintf(err, errlen, "couldn't write %s/%s: %s", st->dir, name,
		 strerror(-ret));
	return ret;
}

int state_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t off = 0, size;
	int ret = 0;
	char *b;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (S_ISDIR(st.st_mode))
		ret = -EISDIR;
	else if ((uint64_t)st.st_size > max)
		ret = -EFBIG;
	if (ret) {
		close(fd);
		return ret;
	}
	size = (size_t)st.st_size;
	b = xmalloc(size + 1);
	while (off < size) {
		ssize_t n = read(fd, b + off, size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (ret) {
		free(b);
		return ret;
	}
	b[off] = '\0';
	*buf = b;
	*len = off;
	return 0;
}
