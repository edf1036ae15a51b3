/* supervise: child daemons from the event loop (see supervise.h). */
#include "agent/supervise.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/log.h"
#include "lib/xalloc.h"

#define SCAN_MAX 64 /* matching processes looked at when adopting */
#define WHY_LEN (2 * PATH_MAX + 32) /* why a process is not a child's */

struct sup_child {
	struct sup *sup;
	char *name;
	char **argv;
	char exe[PATH_MAX]; /* argv[0], resolved: what its process runs */
	size_t exe_len;
	int reload_sig;
	sup_exit_fn on_exit;
	void *arg;
	pid_t pid;  /* 0: not running */
	int status; /* when reaped */
	bool reaped;
	int pidfd;  /* -1: not running */
	int timer;  /* restart back-off */
	bool adopted;
	unsigned restarts, backoff_ms;
	uint64_t started_ms;
	char last_exit[32];
};

struct sup {
	struct loop *loop;
	struct sup_child *c[SUP_MAX];
	size_t n;
};

struct sup *sup_new(struct loop *l)
{
	struct sup *s = xcalloc(1, sizeof(*s));

	s->loop = l;
	/* The daemons' own children (keepalived's VRRP process, HAProxy's
	 * workers) come to the agent when their parent dies, and are reaped
	 * at once (sup_reap) instead of lingering as zombies, which
	 * keepalived would take for a copy still running. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		log_msg("cannot become the daemons' subreaper: %s",
			strerror(errno));
	return s;
}

/* ---- finding what an earlier agent left
 *
 * A process is c's daemon left by an earlier agent when it runs c's
 * command line, and its binary, as the agent's user: the command line
 * alone is anyone's to copy (an unprivileged user's process with
 * HAProxy's command line would be adopted, and HAProxy never started).
 * What the scan finds is a pid and its start time, which together name
 * one process for good (a pid is reused once its process is gone); a
 * pidfd opened on the pid is only taken once the start time shows it is
 * still that process, and from then on the pidfd alone is signalled. */

struct proc {
	pid_t pid, ppid;
	unsigned long long start; /* field 22 of /proc/PID/stat */
};

/* Reads /proc/PID/NAME into buf (NUL-terminated); returns its length, or
 * 0. */
static size_t proc_read(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (size_t)n;
}

/* Does pid run a command line that starts with argv?  (HAProxy's master
 * adds arguments of its own when it reloads.) */
static bool runs(pid_t pid, char *const *argv)
{
	char buf[4096];
	size_t len = proc_read(pid, "cmdline", buf, sizeof(buf)), at = 0;

	for (; *argv; argv++) {
		size_t n = strlen(*argv) + 1;

		if (at + n > len + 1 || memcmp(buf + at, *argv, n))
			return false;
		at += n;
	}
	return len > 0;
}

/* Its parent and start time, from /proc/PID/stat. */
static bool proc_stat(pid_t pid, struct proc *p)
{
	char buf[1024], *s;
	int ppid;

	if (!proc_read(pid, "stat", buf, sizeof(buf)))
		return false;
	s = strrchr(buf, ')'); /* the name may hold anything */
	/* state, ppid, fields 5-8, 9-15, 16-21, starttime */
	if (!s || sscanf(s + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%*u %*u %*d %*d %*d %*d %*d %*d %llu", &ppid,
			 &p->start) != 2)
		return false;
	p->pid = pid;
	p->ppid = ppid;
	return true;
}

/* Is exe (what /proc/PID/exe reads) c's binary?  A binary replaced by
 * an upgrade since the daemon started reads "PATH (deleted)". */
static bool runs_exe(const struct sup_child *c, const char *exe)
{
	return !strncmp(exe, c->exe, c->exe_len) &&
	       (!exe[c->exe_len] || !strcmp(exe + c->exe_len, " (deleted)"));
}

/* Is pid, which runs c's command line, c's daemon: its real and
 * effective user the agent's, its binary c's?  If not, why says why. */
static bool ours(const struct sup_child *c, pid_t pid, char *why, size_t len)
{
	char buf[PATH_MAX], path[64], *u;
	unsigned ruid, euid;
	ssize_t n;

	if (!proc_read(pid, "status", buf, sizeof(buf)) ||
	    !(u = strstr(buf, "\nUid:")) ||
	    sscanf(u + strlen("\nUid:"), "%u %u", &ruid, &euid) != 2) {
		snprintf(why, len, "its user is unknown");
		return false;
	}
	if (ruid != geteuid() || euid != geteuid()) {
		snprintf(why, len, "it runs as uid %u, not %u", euid,
			 (unsigned)geteuid());
		return false;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0) {
		snprintf(why, len, "its binary is unknown: %s",
			 strerror(errno));
		return false;
	}
	buf[n] = '\0';
	if (!runs_exe(c, buf)) {
		snprintf(why, len, "it runs %s, not %s", buf, c->exe);
		return false;
	}
	return true;
}

/* c's daemons that are running (their parent is not: the daemons' own
 * children run the command line too); returns how many.  A process that
 * only runs the command line is logged and left alone. */
static size_t find_left(const struct sup_child *c, struct proc *out,
			size_t max)
{
	struct proc all[SCAN_MAX];
	size_t n = 0, top = 0;
	struct dirent *e;
	char why[WHY_LEN];
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < SCAN_MAX) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid() ||
		    !runs((pid_t)pid, c->argv) ||
		    !proc_stat((pid_t)pid, &all[n]))
			continue;
		if (!ours(c, (pid_t)pid, why, sizeof(why)))
			log_msg("%s: pid %ld runs its command line but is not "
				"its daemon (%s): left alone", c->name, pid,
				why);
		else
			n++;
	}
	closedir(d);
	for (size_t i = 0; i < n && top < max; i++) {
		bool child = false;

		for (size_t j = 0; j < n && !child; j++)
			child = all[j].pid == all[i].ppid;
		if (!child)
			out[top++] = all[i];
	}
	return top;
}

/* A pidfd on p, once it shows p is still c's daemon (the pid may have
 * been reused since the scan, or the process run something else); -1
 * when it is not. */
static int pin(const struct sup_child *c, const struct proc *p)
{
	int fd = pidfd_open(p->pid, 0);
	struct proc now;
	char why[WHY_LEN];

	if (fd < 0)
		return -1;
	if (!proc_stat(p->pid, &now) || now.start != p->start ||
	    !runs(p->pid, c->argv) || !ours(c, p->pid, why, sizeof(why))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits until every pidfd is readable (its process gone) or ms pass;
 * returns how many are still running. */
static size_t wait_gone(const int *fds, size_t n, unsigned ms)
{
	struct pollfd p[SCAN_MAX];
	uint64_t end = loop_now_ms() + ms, now;
	size_t left = n;

	for (size_t i = 0; i < n; i++)
		p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	while (left && (now = loop_now_ms()) < end) {
		if (poll(p, (nfds_t)n, (int)(end - now)) < 0 && errno != EINTR)
			break;
		left = 0;
		for (size_t i = 0; i < n; i++) {
			if (p[i].revents & POLLIN)
				p[i].fd = -1; /* gone: poll ignores it now */
			left += p[i].fd >= 0;
		}
	}
	return left;
}

/* Stops the processes (SIGTERM, then SIGKILL), reaping those that are
 * the agent's children, and closes their pidfds. */
static void stop_pids(const char *const *names, const pid_t *pids,
		      int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			pidfd_send_signal(fds[i], SIGTERM, NULL, 0);
	if (wait_gone(fds, n, SUP_STOP_MS)) {
		for (size_t i = 0; i < n; i++)
			if (fds[i] >= 0 &&
			    !pidfd_send_signal(fds[i], SIGKILL, NULL, 0))
				log_msg("%s (pid %d) did not stop within %d "
					"ms: killed", names[i], (int)pids[i],
					SUP_STOP_MS);
		wait_gone(fds, n, 1000);
	}
	for (size_t i = 0; i < n; i++) {
		waitpid(pids[i], NULL, WNOHANG); /* (when not reaped yet) */
		if (fds[i] >= 0)
			close(fds[i]);
		log_msg("%s (pid %d) stopped", names[i], (int)pids[i]);
	}
}

/* ---- running */

static void on_exit_fd(void *arg, uint32_t events);

static void watch(struct sup_child *c, pid_t pid, int fd)
{
	c->pid = pid;
	c->pidfd = fd;
	c->started_ms = loop_now_ms();
	if (loop_add(c->sup->loop, fd, EPOLLIN, on_exit_fd, c))
		log_msg("%s (pid %d): cannot watch it: the event loop is "
			"full", c->name, (int)pid);
}

static void schedule(struct sup_child *c)
{
	log_msg("%s: starting again in %u ms", c->name, c->backoff_ms);
	loop_timer_arm(c->timer, c->backoff_ms, 0);
	c->backoff_ms = c->backoff_ms * 2 > SUP_BACKOFF_MAX_MS
				? SUP_BACKOFF_MAX_MS
				: c->backoff_ms * 2;
}

static void spawn(struct sup_child *c)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	pid_t pid;
	int ret, fd;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETSID);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	ret = posix_spawn(&pid, c->argv[0], &fa, &at, c->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (ret) {
		log_msg("%s: cannot start %s: %s", c->name, c->argv[0],
			strerror(ret));
		snprintf(c->last_exit, sizeof(c->last_exit), "not started");
		schedule(c);
		return;
	}
	fd = pidfd_open(pid, 0);
	if (fd < 0) {
		log_msg("%s (pid %d): cannot watch it: %s; stopping it",
			c->name, (int)pid, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		schedule(c);
		return;
	}
	c->adopted = false;
	watch(c, pid, fd);
	log_msg("%s started, pid %d", c->name, (int)pid);
}

void sup_reap(struct sup *s)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (size_t i = 0; i < s->n; i++)
			if (s->c[i]->pid == pid) {
				s->c[i]->status = st;
				s->c[i]->reaped = true;
			}
}

static void describe_exit(struct sup_child *c)
{
	int st = c->status;

	if (!c->reaped && (c->adopted || waitpid(c->pid, &st, WNOHANG) !=
						 c->pid))
		snprintf(c->last_exit, sizeof(c->last_exit), "unknown");
	else if (WIFSIGNALED(st))
		snprintf(c->last_exit, sizeof(c->last_exit), "signal %s",
			 sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st))
						    : "?");
	else
		snprintf(c->last_exit, sizeof(c->last_exit), "status %d",
			 WEXITSTATUS(st));
}

static void on_exit_fd(void *arg, uint32_t events)
{
	struct sup_child *c = arg;
	uint64_t ran = loop_now_ms() - c->started_ms;

	(void)events;
	describe_exit(c);
	log_msg("%s (pid %d) exited (%s) after %llu.%01llu s", c->name,
		(int)c->pid, c->last_exit, (unsigned long long)ran / 1000,
		(unsigned long long)ran % 1000 / 100);
	loop_del(c->sup->loop, c->pidfd);
	close(c->pidfd);
	c->pidfd = -1;
	c->pid = 0;
	c->reaped = false;
	if (c->on_exit)
		c->on_exit(c->arg);
	if (ran >= SUP_STABLE_MS)
		c->backoff_ms = SUP_BACKOFF_MIN_MS;
	schedule(c);
}

static void on_timer(void *arg, uint32_t events)
{
	struct sup_child *c = arg;

	(void)events;
	loop_timer_read(c->timer);
	if (c->pid)
		return;
	c->restarts++;
	spawn(c);
}

/* Adopts p; false when it is gone or is not c's any more. */
static bool adopt(struct sup_child *c, const struct proc *p)
{
	int fd = pin(c, p);

	if (fd < 0)
		return false;
	c->adopted = true;
	watch(c, p->pid, fd);
	log_msg("%s: adopted pid %d, left running by an earlier agent",
		c->name, (int)p->pid);
	sup_reload(c, "adopted");
	return true;
}

void sup_start(struct sup_child *c)
{
	const char *names[SCAN_MAX];
	struct proc left[SCAN_MAX];
	pid_t pids[SCAN_MAX];
	int fds[SCAN_MAX];
	size_t n = find_left(c, left, SCAN_MAX), pinned = 0;

	if (n == 1 && adopt(c, &left[0]))
		return;
	if (n > 1) {
		log_msg("%s: %zu instances left running by earlier agents: "
			"stopping them, then starting one", c->name, n);
		for (size_t i = 0; i < n; i++) {
			names[pinned] = c->name;
			pids[pinned] = left[i].pid;
			fds[pinned] = pin(c, &left[i]);
			pinned += fds[pinned] >= 0;
		}
		stop_pids(names, pids, fds, pinned);
	}
	spawn(c);
}

void sup_reload(struct sup_child *c, const char *why)
{
	if (!c->pid)
		return;
	if (pidfd_send_signal(c->pidfd, c->reload_sig, NULL, 0))
		log_msg("%s (pid %d): cannot signal a reload: %s", c->name,
			(int)c->pid, strerror(errno));
	else
		log_msg("%s (pid %d): reloading (%s)", c->name, (int)c->pid,
			why);
}

struct sup_child *sup_add(struct sup *s, const char *name,
			  const char *const *argv, int reload_sig,
			  sup_exit_fn on_exit, void *arg)
{
	struct sup_child *c;
	size_t n = 0;

	if (s->n == SUP_MAX)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->sup = s;
	c->name = xstrdup(name);
	while (argv[n])
		n++;
	c->argv = xcalloc(n + 1, sizeof(*c->argv));
	for (size_t i = 0; i < n; i++)
		c->argv[i] = xstrdup(argv[i]);
	if (!realpath(argv[0], c->exe))
		snprintf(c->exe, sizeof(c->exe), "%s", argv[0]);
	c->exe_len = strlen(c->exe);
	c->reload_sig = reload_sig;
	c->on_exit = on_exit;
	c->arg = arg;
	c->pidfd = -1;
	c->backoff_ms = SUP_BACKOFF_MIN_MS;
	c->timer = loop_timer_new();
	if (c->timer < 0 ||
	    loop_add(s->loop, c->timer, EPOLLIN, on_timer, c))
		log_msg("%s: cannot set up its restart timer", name);
	s->c[s->n++] = c;
	return c;
}

size_t sup_info(const struct sup *s, struct sup_info *out, size_t max)
{
	size_t n = 0;

	for (; n < s->n && n < max; n++) {
		const struct sup_child *c = s->c[n];

		out[n] = (struct sup_info){
			.name = c->name,
			.pid = c->pid,
			.restarts = c->restarts,
			.last_exit = c->last_exit[0] ? c->last_exit : NULL,
			.adopted = c->adopted,
		};
	}
	return n;
}

void sup_free(struct sup *s, bool leave)
{
	const char *names[SUP_MAX];
	pid_t pids[SUP_MAX];
	int fds[SUP_MAX];
	size_t n = 0;

	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct sup_child *c = s->c[i];

		if (c->timer >= 0) {
			loop_del(s->loop, c->timer);
			close(c->timer);
		}
		if (!c->pid)
			continue;
		loop_del(s->loop, c->pidfd);
		if (leave) {
			log_msg("leaving %s (pid %d) running, for the next "
				"agent", c->name, (int)c->pid);
			close(c->pidfd);
			continue;
		}
		log_msg("stopping %s (pid %d)", c->name, (int)c->pid);
		names[n] = c->name;
		pids[n] = c->pid;
		fds[n++] = c->pidfd;
	}
	stop_pids(names, pids, fds, n);
	for (size_t i = 0; i < s->n; i++) {
		struct sup_child *c = s->c[i];

		for (char **a = c->argv; *a; a++)
			free(*a);
		free(c->argv);
		free(c->name);
		free(c);
	}
	free(s);
}
