/* main: dispatches `bmlb COMMAND ...` to the command's function. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"validate", cmd_validate, "check a cluster file (and manifests)"},
	{"plan", cmd_plan, "print the VIPs, owners and backends every agent "
			   "computes"},
	{"agent", cmd_agent, "run the node agent (until SIGTERM)"},
	{"status", cmd_status, "ask the running agent what it has"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: bmlb COMMAND [ARGS]\n\n"
		     "bmlb: a load balancer for bare-metal clusters.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'bmlb COMMAND --help' describes a command.\n"
		     "Example: bmlb validate examples/cluster.yaml\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "bmlb: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
