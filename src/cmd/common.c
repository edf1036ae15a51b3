/* common: usage errors and input checks shared by the subcommands. */
#include "cmd/cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
	FILE *f = dir ? NULL : fopen(path, "r");

	if (!dir && !f) {
		cmd_usage_error(cmd, "cannot read %s '%s': %s", what, path,
				strerror(errno));
		return 0;
	}
	if (f)
		fclose(f);
	return 1;
}
