/* supervise: the agent's child daemons (keepalived, HAProxy), run from its
 * event loop (SPEC.md §5, §8).
 *
 * Each child is one command line.  It is started in a session of its own
 * (a ^C to the agent's terminal is the agent's to act on), with the
 * agent's stderr as its stdout and stderr, default signal dispositions and
 * no inherited descriptors.  Its exit is seen through a pidfd in the
 * event loop (which also works for a process the agent did not start);
 * it is then restarted after a back-off that doubles from
 * SUP_BACKOFF_MIN_MS to SUP_BACKOFF_MAX_MS while it keeps dying, and
 * starts over once it has run SUP_STABLE_MS.  Stopping the agent stops
 * every child (SIGTERM, then SIGKILL after SUP_STOP_MS).  The agent is
 * the daemons' subreaper: what they leave behind comes to it, and it
 * reaps it on SIGCHLD.
 *
 * An agent that crashed leaves its children running.  The next one, with
 * the same command lines (the same state directory), adopts the one it
 * finds and makes it reload its files; when it finds several it stops
 * them all and starts one: never two of one.  A process is only taken
 * for a child's when it runs the child's binary (argv[0], resolved) as
 * the agent's user, besides its command line: one that only copies the
 * command line is logged and left alone.  Found processes are pinned by
 * pid and start time, so a pid reused meanwhile is never signalled. */
#ifndef BMLB_AGENT_SUPERVISE_H
#define BMLB_AGENT_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/loop.h"

#define SUP_BACKOFF_MIN_MS 100
#define SUP_BACKOFF_MAX_MS 30000
#define SUP_STABLE_MS 10000
#define SUP_STOP_MS 3000
#define SUP_MAX 4 /* children at most */

struct sup;
struct sup_child;

/* Called when a child has exited, before it is started again. */
typedef void (*sup_exit_fn)(void *arg);

/* What status shows of a child. */
struct sup_info {
	const char *name;
	long pid;              /* 0: not running (waiting to restart) */
	unsigned restarts;     /* starts after the first */
	const char *last_exit; /* "status 1", "signal KILL"...; NULL: none */
	bool adopted;          /* started by an earlier agent */
};

struct sup *sup_new(struct loop *l);

/* Stops every child (bounded by SUP_STOP_MS and a last SIGKILL), or with
 * leave lets them run on for the next agent to adopt; then frees. */
void sup_free(struct sup *s, bool leave);

/* Adds a child, not started yet: argv[0] is an absolute path (argv is
 * copied); reload_sig makes it reread its files; on_exit (may be NULL)
 * is called with arg each time it exits.  Returns NULL when SUP_MAX
 * children are there. */
struct sup_child *sup_add(struct sup *s, const char *name,
			  const char *const *argv, int reload_sig,
			  sup_exit_fn on_exit, void *arg);

/* Reaps every exited child of the agent (on SIGCHLD): the daemons' and
 * those of their children that were left to the agent. */
void sup_reap(struct sup *s);

/* Adopts the one process an earlier agent left running with this command
 * line (and has it reload), or starts one. */
void sup_start(struct sup_child *c);

/* Has a running child reread its files (why: for the log).  A child
 * waiting to restart reads them when it starts. */
void sup_reload(struct sup_child *c, const char *why);

/* The children, in the order added; returns how many (at most max). */
size_t sup_info(const struct sup *s, struct sup_info *out, size_t max);

#endif
