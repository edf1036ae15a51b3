/* plan: `bmlb plan --config FILE --manifests DIR [--alive NODE,...]
 * [--previous PLAN_JSON] [--json]` (SPEC.md §8).
 *
 * Prints the desired state every agent computes from these inputs and
 * writes nothing.  An invalid cluster file stops it (exit 1); an invalid
 * manifest is reported on stderr and left out, and the rest still plans
 * (exit 0), as a running agent would do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/cluster.h"
#include "k8s/objects.h"
#include "lib/xalloc.h"
#include "plan/plan.h"

static const char help[] =
	"usage: bmlb plan --config CLUSTER_FILE --manifests DIR\n"
	"                 [--alive NODE,...] [--previous PLAN_JSON] [--json]\n"
	"\n"
	"Prints the plan every agent reaches from these inputs: for each\n"
	"LoadBalancer Service its VIP (or why it has none), its pool, the LB\n"
	"node that announces it, and per port its ready backends.  Writes\n"
	"nothing.  Invalid manifests are reported on stderr and left out.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE      the cluster file (kind: Cluster)\n"
	"  -m, --manifests DIR    Node, Service and EndpointSlice manifests\n"
	"  -a, --alive NODES      comma-separated Node names of the LB nodes\n"
	"                         taken as alive (default: all LB nodes); may\n"
	"                         be repeated, the lists are merged\n"
	"  -p, --previous FILE    an earlier `bmlb plan --json` output, of this\n"
	"                         cluster's forwardMode: the addresses it gave\n"
	"                         are kept where still valid\n"
	"  -j, --json             print one JSON object instead of a table\n"
	"  -h, --help             show this help\n"
	"\n"
	"Exit status: 0 planned, 1 invalid cluster file or previous plan (one\n"
	"of the other forwardMode too), 2 usage error (an --alive naming no\n"
	"LB node, an unreadable file or directory).\n"
	"\n"
	"Example:\n"
	"  bmlb plan --config examples/cluster.yaml "
	"--manifests examples/manifests \\\n"
	"            --alive lb-1,lb-2 --json\n";

/* Splits one --alive list, checks every name is an LB node's and adds
 * the names not in *alive yet (cap is its capacity). */
static int parse_alive(char *list, const char **lb, size_t nlb,
		       const char ***alive, size_t *nalive, size_t *cap)
{
	char *save = NULL;

	for (char *name = strtok_r(list, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t i = 0; i < nlb && !known; i++)
			known = !strcmp(lb[i], name);
		if (!known) {
			char names[1024] = "";

			for (size_t i = 0; i < nlb; i++)
				snprintf(names + strlen(names),
					 sizeof(names) - strlen(names), "%s%s",
					 i ? ", " : "", lb[i]);
			return cmd_usage_error(
				"plan", "--alive: '%s' is not an LB node "
				"(LB nodes: %s)", name, nlb ? names : "none");
		}
		for (size_t i = 0; i < *nalive; i++)
			if (!strcmp((*alive)[i], name))
				known = false;
		if (known)
			*(const char **)xpush(alive, nalive, cap,
					      sizeof(**alive)) = name;
	}
	return EXIT_OK;
}

int cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"manifests", required_argument, NULL, 'm'},
		{"alive", required_argument, NULL, 'a'},
		{"previous", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *config = NULL, *manifests = NULL, *previous = NULL;
	char **alive_args = xcalloc((size_t)argc, sizeof(*alive_args));
	bool json = false;
	struct diag_list dl = {0};
	struct cfg_cluster *c = NULL;
	struct k8s_objects *o = NULL;
	struct plan_previous *prev = NULL;
	struct plan *p = NULL;
	const char **lb = NULL, **alive = NULL;
	size_t nlb, nalive = 0, nalive_args = 0, alive_cap = 0;
	int opt, ret = EXIT_INVALID;

	while ((opt = getopt_long(argc, argv, "c:m:a:p:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'm':
			manifests = optarg;
			break;
		case 'a':
			/* "" would read as no list at all: every node alive */
			if (!optarg[strspn(optarg, ",")]) {
				ret = cmd_usage_error(
					"plan", "--alive '%s' names no node; "
					"give LB nodes' Node names, separated "
					"by commas", optarg);
				goto out;
			}
			alive_args[nalive_args++] = optarg;
			break;
		case 'p':
			previous = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(help, stdout);
			ret = EXIT_OK;
			goto out;
		default:
			ret = cmd_usage_error("plan", NULL);
			goto out;
		}
	}
	ret = EXIT_USAGE;
	if (cmd_no_more_args("plan", argc, argv))
		goto out;
	if (!config || !manifests) {
		cmd_usage_error("plan", "--config and --manifests are required");
		goto out;
	}
	if (!cmd_check_readable("plan", "cluster file", config, 0) ||
	    !cmd_check_readable("plan", "manifests directory", manifests, 1) ||
	    (previous &&
	     !cmd_check_readable("plan", "previous plan", previous, 0)))
		goto out;

	ret = EXIT_INVALID;
	c = cfg_load(config, &dl);
	if (previous)
		prev = plan_previous_load(previous, &dl);
	if (!c || (previous && (!prev ||
				!plan_previous_fits(prev, previous, c, &dl))))
		goto out;
	o = k8s_load_dir(manifests, &dl);
	if (!o)
		goto out;
	nlb = plan_lb_node_names(c, o, &lb);
	for (size_t i = 0; i < nalive_args; i++) {
		ret = parse_alive(alive_args[i], lb, nlb, &alive, &nalive,
				  &alive_cap);
		if (ret != EXIT_OK)
			goto out;
	}
	p = plan_compute(&(struct plan_input){
				 .cluster = c,
				 .objects = o,
				 .alive = nalive_args ? alive : NULL,
				 .nalive = nalive,
				 .previous = prev,
			 },
			 &dl);
	/* Problems in the manifests leave objects out; they don't stop the
	 * plan, so they go to stderr before it and the exit status is 0. */
	diag_print(&dl, stderr);
	if (json)
		plan_write_json(p, stdout);
	else
		plan_write_text(p, stdout);
	ret = EXIT_OK;
out:
	if (ret == EXIT_INVALID) {
		diag_print(&dl, stderr);
		fprintf(stderr, "%zu problem%s found; nothing planned\n", dl.n,
			dl.n == 1 ? "" : "s");
	}
	plan_free(p);
	free(alive_args);
	free(alive);
	free(lb);
	plan_previous_free(prev);
	k8s_objects_free(o);
	cfg_free(c);
	diag_free(&dl);
	return ret;
}
