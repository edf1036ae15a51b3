/* cmd: the subcommands of bmlb, one file each, and what they share.
 *
 * Exit statuses, for every command: 0 success, 1 invalid input (with
 * diagnostics on stderr), 2 usage error (unknown flag, unreadable file).
 */
#ifndef BMLB_CMD_CMD_H
#define BMLB_CMD_CMD_H

#include <getopt.h>

enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

int cmd_validate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* Prints "bmlb CMD: msg" (unless fmt is NULL: getopt already spoke) and a
 * pointer to --help on stderr; returns EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* After getopt: a usage error (EXIT_USAGE) if arguments remain past
 * optind, else EXIT_OK. */
int cmd_no_more_args(const char *cmd, int argc, char **argv);

/* Checks that path can be opened for reading (a regular file, or with dir
 * set, a directory), never waiting (a FIFO is refused); on failure reports
 * a usage error and returns 0. */
int cmd_check_readable(const char *cmd, const char *what, const char *path,
		       int dir);

#endif
