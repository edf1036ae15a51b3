/* log: the agent's one logging API.  One line per event on stderr:
 *
 *   2026-11-24T08:00:00Z bmlb[lb-1]: message
 *
 * UTC, so that the lines of several nodes sort together. */
#ifndef BMLB_AGENT_LOG_H
#define BMLB_AGENT_LOG_H

#include <stddef.h>
#include <time.h>

#define LOG_STAMP_LEN 21 /* "2026-11-24T08:00:00Z" + NUL */

/* Names the node in every later line (the string is copied). */
void log_set_node(const char *node);

void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Formats t as an RFC 3339 UTC time into buf (LOG_STAMP_LEN bytes). */
char *log_stamp(time_t t, char *buf);

#endif
