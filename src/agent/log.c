/* log: timestamped, node-tagged lines on stderr (see log.h).  Each line is
 * formatted whole and written with one call, so that lines never mix. */
#include "agent/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char log_node[64] = "-";

void log_set_node(const char *node)
{
	snprintf(log_node, sizeof(log_node), "%s", node);
}

char *log_stamp(time_t t, char *buf)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(buf, LOG_STAMP_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, LOG_STAMP_LEN, "?");
	return buf;
}

void log_msg(const char *fmt, ...)
{
	char line[4096], stamp[LOG_STAMP_LEN];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%s bmlb[%s]: ",
		     log_stamp(time(NULL), stamp), log_node);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to say it */
}
