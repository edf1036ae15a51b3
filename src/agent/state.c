/* state: the state directory (see state.h). */
#include "agent/state.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
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

const char *state_strerror(int ret)
{
	if (ret == -ELOOP) /* what O_NOFOLLOW gives on a link */
		return "it is a symbolic link, and the agent follows none in "
		       "its state directory (one there could make it write "
		       "anywhere); replace it with a file, or remove it";
	return ret == -EFBIG ? "too large" : strerror(-ret);
}

const char *state_who(unsigned mode)
{
	if ((mode & 070) && (mode & 007))
		return "group and others";
	return mode & 070 ? "group" : "others";
}

/* A user's name, or its number. */
static void user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
}

int state_dir_open(const char *dir, const char *what, const char *flag,
		   char *err, size_t errlen)
{
	char owner[64], me[64];
	struct stat sb;
	int fd, ret = mkdir_p(dir);

	if (ret) {
		snprintf(err, errlen, "couldn't create the %s %s: %s", what,
			 dir, strerror(-ret));
		return ret;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		ret = -errno;
		snprintf(err, errlen, "couldn't open the %s %s: %s", what, dir,
			 strerror(errno));
		goto fail;
	}
	/* Whoever else can write there can put a link where the agent
	 * writes, or a file it trusts. */
	ret = -EPERM;
	if (sb.st_uid != geteuid()) {
		user_name(sb.st_uid, owner, sizeof(owner));
		user_name(geteuid(), me, sizeof(me));
		snprintf(err, errlen, "the %s %s (%s) is owned by %s (uid %u), "
			 "not by %s, the agent's user, and its owner could "
			 "make the agent overwrite any file; chown %s %s",
			 what, dir, flag, owner, (unsigned)sb.st_uid, me, me,
			 dir);
		goto fail;
	}
	if (sb.st_mode & 022) {
		snprintf(err, errlen, "the %s %s (%s) is writable by %s (mode "
			 "%04o), who could make the agent overwrite any file; "
			 "chmod 700 %s", what, dir, flag,
			 state_who(sb.st_mode & 022),
			 (unsigned)sb.st_mode & 07777, dir);
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return ret;
}

int state_open(struct state *st, const char *dir, char *err, size_t errlen)
{
	int ret;

	*st = (struct state){.dir_fd = -1, .lock_fd = -1};
	ret = state_dir_open(dir, "state directory", "--state-dir", err,
			     errlen);
	if (ret < 0)
		return ret;
	st->dir_fd = ret;
	st->lock_fd = openat(st->dir_fd, STATE_LOCK,
			     O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (ret == -EBUSY)
			snprintf(err, errlen, "another agent (pid %ld) is "
				 "running with the state directory %s; give "
				 "each agent its own --state-dir",
				 lock_holder(st->lock_fd), dir);
		else
			snprintf(err, errlen, "couldn't lock %s/%s: %s", dir,
				 STATE_LOCK, state_strerror(ret));
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

/* Creates a temporary file for name in the directory: a fresh name
 * (O_EXCL), never one that is there already, link or not.  Returns its fd
 * or -errno; its name in tmp. */
static int open_temp(const struct state *st, const char *name, char *tmp,
		     size_t len)
{
	int fd = -EEXIST;

	for (int tries = 0; tries < 8 && fd == -EEXIST; tries++) {
		uint64_t r;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return -errno;
		snprintf(tmp, len, ".%s.%016llx.tmp", name,
			 (unsigned long long)r);
		fd = openat(st->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL |
					     O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			fd = -errno;
	}
	return fd;
}

int state_write(const struct state *st, const char *name, const void *buf,
		size_t len, char *err, size_t errlen)
{
	char tmp[256];
	int fd, ret;

	fd = open_temp(st, name, tmp, sizeof(tmp));
	if (fd < 0) {
		ret = fd;
		goto fail;
	}
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	/* rename replaces a link at name, it never writes through one */
	if (!ret && renameat(st->dir_fd, tmp, st->dir_fd, name) < 0)
		ret = -errno;
	if (!ret && fsync(st->dir_fd) < 0)
		ret = -errno;
	if (!ret)
		return 0;
	unlinkat(st->dir_fd, tmp, 0);
fail:
	snprintf(err, errlen, "couldn't write %s/%s: %s", st->dir, name,
		 state_strerror(ret));
	return ret;
}

int state_read_fd(int fd, size_t max, char **buf, size_t *len)
{
	struct stat st;
	size_t off = 0, size;
	int ret = 0;
	char *b;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
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
	if (ret) {
		free(b);
		return ret;
	}
	b[off] = '\0';
	*buf = b;
	*len = off;
	return 0;
}

/* Reads the file that openat(dir_fd, path, flags) opens. */
static int read_at(int dir_fd, const char *path, int flags, size_t max,
		   char **buf, size_t *len)
{
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | flags), ret;

	if (fd < 0)
		return -errno;
	ret = state_read_fd(fd, max, buf, len);
	close(fd);
	return ret;
}

int state_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	return read_at(AT_FDCWD, path, 0, max, buf, len);
}

int state_read(const struct state *st, const char *name, size_t max,
	       char **buf, size_t *len)
{
	return read_at(st->dir_fd, name, O_NOFOLLOW, max, buf, len);
}
