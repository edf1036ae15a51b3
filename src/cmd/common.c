/* common: usage errors and input checks shared by the subcommands. */
#include "cmd/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "bmlb %s: ", cmd);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "Try 'bmlb %s --help'.\n", cmd);
	return EXIT_USAGE;
}

int cmd_no_more_args(const char *cmd, int argc, char **argv)
{
	if (optind < argc)
		return cmd_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	return EXIT_OK;
}

int cmd_check_readable(const char *cmd, const char *what, const char *path,
		       int dir)
{
	struct stat st;
	int fd;

	if (stat(path, &st) < 0) {
		cmd_usage_error(cmd, "cannot read %s '%s': %s", what, path,
				strerror(errno));
		return 0;
	}
	if (dir && !S_ISDIR(st.st_mode)) {
		cmd_usage_error(cmd, "%s '%s' is not a directory", what, path);
		return 0;
	}
	if (!dir && S_ISDIR(st.st_mode)) {
		cmd_usage_error(cmd, "%s '%s' is a directory, not a file",
				what, path);
		return 0;
	}
	/* Opening a FIFO for reading would wait for a writer. */
	if (!dir && !S_ISREG(st.st_mode)) {
		cmd_usage_error(cmd, "%s '%s' is not a regular file (a FIFO, "
				"a socket or a device); give a file", what,
				path);
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
				(dir ? O_DIRECTORY : 0));
	if (fd < 0) {
		cmd_usage_error(cmd, "cannot read %s '%s': %s", what, path,
				strerror(errno));
		return 0;
	}
	close(fd);
	return 1;
}
