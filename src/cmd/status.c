/* status: `bmlb status [--state-dir DIR] [--json]` (SPEC.md §8): asks the
 * running agent, over STATE_DIR/status.sock, what it has, and prints the
 * object it sends (src/agent/report.h) as is or as a table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/state.h"
#include "cmd/cmd.h"
#include "lib/xalloc.h"
#include "lib/yaml_tree.h"

#define STATUS_MAX_BYTES (256u << 20)
#define STATUS_WAIT_S 5

static const char help[] =
	"usage: bmlb status [--state-dir DIR] [--json]\n"
	"\n"
	"Asks the agent running with this state directory what it has: its\n"
	"node, role, interface, forwarding mode and data plane hook, the last\n"
	"reload, the VIPs this node owns, the service ports programmed with\n"
	"their backends, Services without an address and why, the data\n"
	"plane's packet counters and the number of tracked flows.\n"
	"\n"
	"Options:\n"
	"  -s, --state-dir DIR   the agent's state directory (default "
	AGENT_STATE_DIR ")\n"
	"  -j, --json            print the agent's JSON object as it sent it\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 printed, 1 no agent answers, 2 usage error.\n"
	"\n"
	"Example:\n"
	"  bmlb status --state-dir /var/lib/bmlb --json\n";

/* Reads the agent's whole answer into *buf.  Returns 0, or -errno. */
static int ask(const char *path, char **buf, size_t *len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = STATUS_WAIT_S};
	size_t cap = 65536, n = 0;
	int fd, ret = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	*buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, *buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = r < 0 ? -errno : 0;
			break;
		}
		n += (size_t)r;
		if (n == cap) {
			if (cap >= STATUS_MAX_BYTES) {
				ret = -EFBIG;
				break;
			}
			cap *= 2;
			*buf = xreallocarray(*buf, cap + 1, 1);
		}
	}
	close(fd);
	(*buf)[n] = '\0';
	*len = n;
	if (!ret && !n)
		ret = -ENODATA;
	return ret;
}

/* The text of scalar key in map, or dflt when absent or null. */
static const char *str(const struct ynode *map, const char *key,
		       const char *dflt)
{
	const struct ynode *v = ynode_get(map, key);

	return v && v->kind == YNODE_SCALAR && !ynode_is_null(v) ? v->str
								 : dflt;
}

static size_t count(const struct ynode *n)
{
	return n && n->kind != YNODE_SCALAR ? n->n : 0;
}

static void print_list(const struct ynode *seq, const char *none)
{
	if (!count(seq))
		fputs(none, stdout);
	for (size_t i = 0; i < count(seq); i++)
		printf("%s%s", i ? ", " : "", seq->items[i]->str);
	putchar('\n');
}

static void print_reload(const struct ynode *r)
{
	const char *err;

	if (!r || r->kind != YNODE_MAP) {
		puts("none since start");
		return;
	}
	printf("%s (%s): ", str(r, "at", "?"), str(r, "trigger", "?"));
	err = str(r, "error", NULL);
	if (!err) {
		puts("applied");
		return;
	}
	puts("refused, the last good state kept:");
	for (const char *l = err; *l;) {
		size_t n = strcspn(l, "\n");

		printf("    %.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
}

static void print_programmed(const struct ynode *seq)
{
	printf("\n%-28s %-26s %-10s %s\n", "SERVICE", "VIP:PORT/PROTO",
	       "OWNER", "BACKENDS");
	if (!count(seq))
		puts("(none)");
	for (size_t i = 0; i < count(seq); i++) {
		const struct ynode *s = seq->items[i];
		char name[256], vip[64];

		snprintf(name, sizeof(name), "%s/%s", str(s, "namespace", "?"),
			 str(s, "name", "?"));
		snprintf(vip, sizeof(vip), "%s:%s/%s", str(s, "vip", "?"),
			 str(s, "port", "?"), str(s, "protocol", "?"));
		printf("%-28s %-26s %-10s ", name, vip, str(s, "owner", "-"));
		print_list(ynode_get(s, "backends"), "no ready backend");
	}
}

/* The backends' next hops and the backends left out behind them. */
static void print_hops(const struct ynode *r)
{
	const struct ynode *seq = ynode_get(r, "nextHops");

	if (!count(seq))
		return;
	printf("\n%-16s %-11s %-8s %s\n", "NEXT HOP", "NEIGHBOUR", "ENTRY",
	       "BACKENDS");
	for (size_t i = 0; i < count(seq); i++) {
		const struct ynode *h = seq->items[i];

		printf("%-16s %-11s %-8s %s%s\n", str(h, "address", "?"),
		       str(h, "neighbour", "?"),
		       !strcmp(str(h, "managed", ""), "true") ? "bmlb"
							      : "other",
		       str(h, "backends", "?"),
		       !strcmp(str(h, "unreachable", ""), "true")
			       ? " (unreachable: left out)"
			       : "");
	}
	printf("backends left out: %s now, %s since the start\n",
	       str(r, "backendsLeftOut", "0"),
	       str(r, "backendsLeftOutTotal", "0"));
}

static int print_table(const struct ydoc *doc, void *arg)
{
	const struct ynode *r = doc->root, *v;
	const char *sync;

	(void)arg;
	if (!r || r->kind != YNODE_MAP)
		return -EINVAL;
	printf("node        %s (%s), %s %s\n", str(r, "node", "?"),
	       str(r, "role", "?"), str(r, "interface", "?"),
	       str(r, "address", "?"));
	printf("mode        %s, data plane %s%s%s\n", str(r, "mode", "?"),
	       str(r, "hook", "none"),
	       str(r, "tunnelInterface", NULL) ? ", tunnel " : "",
	       str(r, "tunnelInterface", ""));
	printf("started     %s (pid %s)\n", str(r, "startedAt", "?"),
	       str(r, "pid", "?"));
	fputs("reload      ", stdout);
	print_reload(ynode_get(r, "lastReload"));
	sync = str(r, "syncError", NULL);
	if (sync)
		printf("sync error  %s\n", sync);
	fputs("VIPs owned  ", stdout);
	print_list(ynode_get(r, "vipsOwned"), "none");
	print_programmed(ynode_get(r, "programmed"));
	v = ynode_get(r, "unallocated");
	for (size_t i = 0; i < count(v); i++)
		printf("%s%s/%s: no VIP: %s\n", i ? "" : "\n",
		       str(v->items[i], "namespace", "?"),
		       str(v->items[i], "name", "?"),
		       str(v->items[i], "reason", "?"));
	print_hops(r);
	v = ynode_get(r, "counters");
	if (count(v)) {
		puts("\nCOUNTER                 PACKETS");
		for (size_t i = 0; i + 1 < 2 * count(v); i += 2)
			printf("%-23s %s\n", v->items[i]->str,
			       v->items[i + 1]->str);
	}
	printf("\nflows       %s\n", str(r, "flows", "-"));
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *dir = AGENT_STATE_DIR;
	struct diag_list dl = {0};
	bool json = false;
	char *path, *buf = NULL;
	size_t len = 0;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error("status", NULL);
		}
	}
	if (cmd_no_more_args("status", argc, argv))
		return EXIT_USAGE;
	path = state_path(dir, STATE_SOCKET);
	ret = ask(path, &buf, &len);
	if (ret) {
		fprintf(stderr, "bmlb status: no agent answers on %s: %s; is "
			"`bmlb agent --state-dir %s` running?\n", path,
			strerror(-ret), dir);
		ret = EXIT_INVALID;
		goto out;
	}
	if (json) {
		fwrite(buf, 1, len, stdout);
		ret = EXIT_OK;
		goto out;
	}
	/* JSON is YAML: the tree reader needs no second parser. */
	ret = ytree_parse(path, buf, len, print_table, NULL, &dl) ||
			      dl.n
		      ? EXIT_INVALID
		      : EXIT_OK;
	if (ret) {
		diag_print(&dl, stderr);
		fprintf(stderr, "bmlb status: the agent's answer on %s is not "
			"a status object\n", path);
	}
out:
	diag_free(&dl);
	free(buf);
	free(path);
	return ret;
}
