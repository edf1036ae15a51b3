/* status: `bmlb status [--state-dir DIR] [--json]` (SPEC.md §8): asks the
 * running agent, over STATE_DIR/status.sock, what it has, and prints the
 * object it sends (src/agent/report.h) as is or as a table.  The table is
 * printed defensively: any field may be missing or of another type (each
 * prints as its default, "?" for a list item), and every text is escaped
 * (lib/escape.h). */
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
#include "lib/escape.h"
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

/* The text of scalar key in map, or dflt when absent or null, unescaped. */
static const char *str(const struct ynode *map, const char *key,
		       const char *dflt)
{
	const struct ynode *v = ynode_get(map, key);

	return v && v->kind == YNODE_SCALAR && !ynode_is_null(v) ? v->str
								 : dflt;
}

/* str(), escaped into buf (ESC_BUF bytes). */
static const char *field(const struct ynode *map, const char *key,
			 const char *dflt, char *buf)
{
	return esc_text(str(map, key, dflt), buf, ESC_BUF);
}

/* A list item or a mapping's value, escaped into buf; "?" when it is not
 * a scalar. */
static const char *item(const struct ynode *n, char *buf)
{
	return n->kind == YNODE_SCALAR ? esc_text(n->str, buf, ESC_BUF) : "?";
}

/* Number of entries of n as a list (0 when it is anything else). */
static size_t seq_len(const struct ynode *n)
{
	return n && n->kind == YNODE_SEQ ? n->n : 0;
}

static void print_list(const struct ynode *seq, const char *none)
{
	char b[ESC_BUF];

	if (!seq_len(seq))
		fputs(none, stdout);
	for (size_t i = 0; i < seq_len(seq); i++)
		printf("%s%s", i ? ", " : "", item(seq->items[i], b));
	putchar('\n');
}

static void print_reload(const struct ynode *r)
{
	char b[2][ESC_BUF];
	const char *err;

	if (!r || r->kind != YNODE_MAP) {
		puts("none since start");
		return;
	}
	printf("%s (%s): ", field(r, "at", "?", b[0]),
	       field(r, "trigger", "?", b[1]));
	err = str(r, "error", NULL);
	if (!err) {
		puts("applied");
		return;
	}
	puts("refused, the last good state kept:");
	for (const char *l = err; *l;) {
		size_t n = strcspn(l, "\n");

		snprintf(b[0], sizeof(b[0]), "%.*s", (int)n, l);
		printf("    %s\n", esc_text(b[0], b[1], sizeof(b[1])));
		l += n + (l[n] == '\n');
	}
}

static void print_programmed(const struct ynode *seq)
{
	printf("\n%-28s %-26s %-10s %s\n", "SERVICE", "VIP:PORT/PROTO",
	       "OWNER", "BACKENDS");
	if (!seq_len(seq))
		puts("(none)");
	for (size_t i = 0; i < seq_len(seq); i++) {
		const struct ynode *s = seq->items[i];
		char b[5][ESC_BUF], name[2 * ESC_BUF], vip[3 * ESC_BUF];

		snprintf(name, sizeof(name), "%s/%s",
			 field(s, "namespace", "?", b[0]),
			 field(s, "name", "?", b[1]));
		snprintf(vip, sizeof(vip), "%s:%s/%s", field(s, "vip", "?", b[0]),
			 field(s, "port", "?", b[1]),
			 field(s, "protocol", "?", b[2]));
		printf("%-28s %-26s %-10s ", name, vip,
		       field(s, "owner", "-", b[3]));
		print_list(ynode_get(s, "backends"), "no ready backend");
	}
}

static void print_counters(const struct ynode *map)
{
	char b[2][ESC_BUF];

	if (!map || map->kind != YNODE_MAP || !map->n)
		return;
	puts("\nCOUNTER                 PACKETS");
	for (size_t i = 0; i < map->n; i++)
		printf("%-23s %s\n", item(map->items[2 * i], b[0]),
		       item(map->items[2 * i + 1], b[1]));
}

/* The backends' next hops and the backends left out behind them. */
static void print_hops(const struct ynode *r)
{
	const struct ynode *seq = ynode_get(r, "nextHops");
	char b[3][ESC_BUF];

	if (!seq_len(seq))
		return;
	printf("\n%-16s %-11s %-8s %s\n", "NEXT HOP", "NEIGHBOUR", "ENTRY",
	       "BACKENDS");
	for (size_t i = 0; i < seq_len(seq); i++) {
		const struct ynode *h = seq->items[i];

		printf("%-16s %-11s %-8s %s%s\n", field(h, "address", "?", b[0]),
		       field(h, "neighbour", "?", b[1]),
		       !strcmp(str(h, "managed", ""), "true") ? "bmlb"
							      : "other",
		       field(h, "backends", "?", b[2]),
		       !strcmp(str(h, "unreachable", ""), "true")
			       ? " (unreachable: left out)"
			       : "");
	}
	printf("backends left out: %s now, %s since the start\n",
	       field(r, "backendsLeftOut", "0", b[0]),
	       field(r, "backendsLeftOutTotal", "0", b[1]));
}

static int print_table(const struct ydoc *doc, void *arg)
{
	const struct ynode *r = doc->root, *v;
	char b[4][ESC_BUF];
	const char *sync;

	(void)arg;
	if (!r || r->kind != YNODE_MAP)
		return -EINVAL;
	printf("node        %s (%s), %s %s\n", field(r, "node", "?", b[0]),
	       field(r, "role", "?", b[1]), field(r, "interface", "?", b[2]),
	       field(r, "address", "?", b[3]));
	printf("mode        %s, data plane %s%s%s\n",
	       field(r, "mode", "?", b[0]), field(r, "hook", "none", b[1]),
	       str(r, "tunnelInterface", NULL) ? ", tunnel " : "",
	       field(r, "tunnelInterface", "", b[2]));
	printf("started     %s (pid %s)\n", field(r, "startedAt", "?", b[0]),
	       field(r, "pid", "?", b[1]));
	fputs("reload      ", stdout);
	print_reload(ynode_get(r, "lastReload"));
	sync = str(r, "syncError", NULL);
	if (sync)
		printf("sync error  %s\n", esc_text(sync, b[0], ESC_BUF));
	fputs("VIPs owned  ", stdout);
	print_list(ynode_get(r, "vipsOwned"), "none");
	print_programmed(ynode_get(r, "programmed"));
	v = ynode_get(r, "unallocated");
	for (size_t i = 0; i < seq_len(v); i++)
		printf("%s%s/%s: no VIP: %s\n", i ? "" : "\n",
		       field(v->items[i], "namespace", "?", b[0]),
		       field(v->items[i], "name", "?", b[1]),
		       field(v->items[i], "reason", "?", b[2]));
	print_hops(r);
	print_counters(ynode_get(r, "counters"));
	printf("\nflows       %s\n", field(r, "flows", "-", b[0]));
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
