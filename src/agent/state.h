/* state: the agent's state directory, what must survive a restart or a
 * crash (SPEC.md §7):
 *
 *   cluster.yaml  the last cluster file the agent accepted: later ones are
 *                 checked against it (the forwarding mode and the pools'
 *                 names and addresses are fixed when the cluster is created)
 *   plan.json     the last plan applied (`bmlb plan --json` format): its
 *                 addresses are kept by the next plan, across restarts
 *   lock          held (flock) while an agent runs, with its pid
 *   status.sock   the status socket (status.h)
 *   key           the default key file
 *
 * Files are replaced atomically (write a temporary of a fresh name, fsync,
 * rename, fsync the directory), so a crash leaves either the old or the
 * new version.  The directory must be the agent's own (its user's, and
 * writable by no one else), and no file in it is opened through a
 * symbolic link: another user who could put a link there (`lock ->
 * /etc/passwd`) would have the agent, root, overwrite its target. */
#ifndef BMLB_AGENT_STATE_H
#define BMLB_AGENT_STATE_H

#include <stddef.h>

#define STATE_CLUSTER "cluster.yaml"
#define STATE_PLAN "plan.json"
#define STATE_LOCK "lock"
#define STATE_SOCKET "status.sock"
#define STATE_KEY "key"

struct state {
	char *dir;
	int dir_fd;
	int lock_fd;
};

/* Creates dir (and its parents, mode 0700) if missing and opens it,
 * refusing one not owned by the agent's effective user or writable by
 * group or others (the message names it as "the WHAT DIR (FLAG)" and says
 * how to fix it).  Returns the directory's fd, or -errno (-EPERM: not the
 * agent's own) with a message in err.  For the state and BPF
 * directories. */
int state_dir_open(const char *dir, const char *what, const char *flag,
		   char *err, size_t errlen);

/* Opens dir as the state directory (state_dir_open) and takes its lock.
 * Returns 0, or -errno with a message in err (another agent holding the
 * lock gives -EBUSY). */
int state_open(struct state *st, const char *dir, char *err, size_t errlen);
void state_close(struct state *st);

/* "DIR/name", malloc'd. */
char *state_path(const char *dir, const char *name);

/* Replaces file name with buf atomically.  Returns 0 or -errno (message in
 * err). */
int state_write(const struct state *st, const char *name, const void *buf,
		size_t len, char *err, size_t errlen);

/* Reads a whole file of at most max bytes into a malloc'd, NUL-terminated
 * buffer.  Returns 0, -EFBIG when larger, or -errno: from the open fd (left
 * open), from path, or the state directory's file name (-ELOOP: a link). */
int state_read_fd(int fd, size_t max, char **buf, size_t *len);
int state_read_file(const char *path, size_t max, char **buf, size_t *len);
int state_read(const struct state *st, const char *name, size_t max,
	       char **buf, size_t *len);

/* What went wrong with a state file, for a message: strerror, but a link
 * met by O_NOFOLLOW (-ELOOP) and -EFBIG said plainly. */
const char *state_strerror(int ret);

/* "group", "others" or "group and others": whose bits are set in mode. */
const char *state_who(unsigned mode);

#endif
