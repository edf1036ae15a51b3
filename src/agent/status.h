/* status: the agent's status socket, a unix stream socket in the state
 * directory.  Each connection gets one JSON object (report.h), written as
 * soon as it is accepted, then the agent closes it; the client sends
 * nothing.  Writes never block: what the socket does not take at once is
 * sent when it becomes writable, and a client that has not read everything
 * within STATUS_TIMEOUT_MS, or that finds STATUS_CLIENTS others pending, is
 * dropped. */
#ifndef BMLB_AGENT_STATUS_H
#define BMLB_AGENT_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/loop.h"

#define STATUS_CLIENTS 8
#define STATUS_TIMEOUT_MS 5000

struct status_srv;

/* Writes the status object for one client. */
typedef void (*status_render_fn)(void *arg, FILE *out);

/* Listens at path (replacing a stale socket file: the caller holds the
 * state directory's lock).  Returns 0 or -errno with a message in err. */
int status_open(struct loop *l, const char *path, status_render_fn render,
		void *arg, struct status_srv **out, char *err, size_t errlen);

/* Drops the clients that are past their time; call now and then. */
void status_tick(struct status_srv *s);

/* Closes every connection and removes the socket file. */
void status_close(struct status_srv *s);

#endif
