/* Unit tests of the supervisor's adoption (src/agent/supervise.c): a
 * process left running with a child's command line is adopted only when
 * it also runs the child's binary as the agent's user; one that only
 * copies the command line (another binary, another user) is neither
 * adopted nor stopped, and the supervisor starts its own.  The child is
 * sleep with an argument of this test's own, so that nothing else on the
 * machine matches; another user's process needs root (skipped without). */
#include "helpers.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/loop.h"
#include "agent/supervise.h"

#define SLEEP "/bin/sleep" /* a link to /usr/bin/sleep on merged /usr */
#define NOBODY 65534

static char arg[32];  /* "3600.PID": this test's command line */
static char dir[] = "/tmp/bmlb-test-supervise.XXXXXX";

/* Copies SLEEP to dir/name; returns the path (static). */
static const char *copy_sleep(const char *name)
{
	static char path[PATH_MAX];
	char buf[65536];
	int in = open(SLEEP, O_RDONLY), out;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	return path;
}

/* Starts exe as uid with the command line argv0 arg, as an earlier agent
 * (or someone else) would have; returns once it runs exe. */
static pid_t run_as(uid_t uid, const char *exe, const char *argv0)
{
	char link[64], got[PATH_MAX], want[PATH_MAX];
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		if (uid && setuid(uid))
			_exit(126);
		execv(exe, (char *const[]){(char *)argv0, arg, NULL});
		_exit(127);
	}
	assert_non_null(realpath(exe, want));
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 200; i++) {
		ssize_t n = readlink(link, got, sizeof(got) - 1);

		if (n > 0 && (got[n] = '\0', !strcmp(got, want)))
			return pid;
		usleep(5000);
	}
	fail_msg("%s never ran", exe);
	return -1;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Has a supervisor start argv0's child, as an agent does; returns the
 * pid the child has then, and whether it was adopted; then stops it. */
static long start(const char *argv0, bool *adopted)
{
	struct loop *l = loop_new();
	struct sup *s = sup_new(l);
	struct sup_child *c;
	struct sup_info info;

	/* (SIGCONT to reload: a sleep stays) */
	c = sup_add(s, "sleep", (const char *const[]){argv0, arg, NULL},
		    SIGCONT, NULL, NULL);
	assert_non_null(c);
	sup_start(c);
	assert_int_equal(sup_info(s, &info, 1), 1);
	*adopted = info.adopted;
	sup_free(s, false);
	loop_free(l);
	return info.pid;
}

/* Runs the supervisor beside a process left with its command line:
 * whether it adopts that one; a process it does not adopt stays. */
static bool adopts(pid_t left, const char *argv0)
{
	bool adopted;
	long pid = start(argv0, &adopted);

	assert_true(pid > 0);
	if (pid != left) {
		assert_false(adopted);
		assert_int_equal(waitpid(left, NULL, WNOHANG), 0);
	}
	stop(left);
	return pid == left && adopted;
}

static void test_adopts_its_own(void **state)
{
	(void)state;
	assert_true(adopts(run_as(0, SLEEP, SLEEP), SLEEP));
}

static void test_not_another_binary(void **state)
{
	(void)state;
	assert_false(adopts(run_as(0, copy_sleep("sleep"), SLEEP), SLEEP));
}

static void test_not_another_user(void **state)
{
	(void)state;
	if (geteuid())
		skip();
	assert_false(adopts(run_as(NOBODY, SLEEP, SLEEP), SLEEP));
}

/* A daemon whose binary an upgrade replaced since it started is still
 * the one (/proc/PID/exe reads "PATH (deleted)"): never two of one. */
static void test_upgraded_binary(void **state)
{
	char path[PATH_MAX], fresh[PATH_MAX];
	pid_t left;
	(void)state;

	snprintf(path, sizeof(path), "%s", copy_sleep("daemon"));
	left = run_as(0, path, path);
	snprintf(fresh, sizeof(fresh), "%s", copy_sleep("daemon.new"));
	assert_int_equal(rename(fresh, path), 0);
	assert_true(adopts(left, path));
}

static int setup(void **state)
{
	(void)state;
	snprintf(arg, sizeof(arg), "3600.%d", (int)getpid());
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[PATH_MAX];
	(void)state;

	snprintf(path, sizeof(path), "%s/sleep", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/daemon", dir);
	unlink(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adopts_its_own),
		cmocka_unit_test(test_not_another_binary),
		cmocka_unit_test(test_not_another_user),
		cmocka_unit_test(test_upgraded_binary),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
