/* validate: `bmlb validate CLUSTER_FILE [--manifests DIR]` (SPEC.md §8).
 *
 * Checks every rule that needs no live machine and prints every problem,
 * one per line on stderr.  Exit 0 valid, 1 invalid, 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "config/cluster.h"
#include "k8s/objects.h"
#include "plan/plan.h"

static const char help[] =
	"usage: bmlb validate CLUSTER_FILE [--manifests DIR]\n"
	"\n"
	"Checks a cluster file (kind: Cluster) against every rule that needs\n"
	"no live machine and, with --manifests, the Node, Service and\n"
	"EndpointSlice manifests of DIR (*.yaml, *.yml).  Prints every\n"
	"problem found, one per line on stderr, as\n"
	"  FILE:LINE:COL: field.path: what is wrong; what would be valid\n"
	"\n"
	"Options:\n"
	"  -m, --manifests DIR  also check the manifests in DIR\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 valid, 1 invalid, 2 usage error.\n"
	"\n"
	"Example:\n"
	"  bmlb validate examples/cluster.yaml --manifests examples/manifests\n";

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"manifests", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *manifests = NULL, *file;
	struct diag_list dl = {0};
	struct cfg_cluster *c;
	struct k8s_objects *o = NULL;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			manifests = optarg;
			break;
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		default: /* getopt has said what was wrong */
			return cmd_usage_error("validate", NULL);
		}
	}
	if (optind >= argc)
		return cmd_usage_error("validate", "missing CLUSTER_FILE");
	file = argv[optind++];
	if (cmd_no_more_args("validate", argc, argv))
		return EXIT_USAGE;
	if (!cmd_check_readable("validate", "cluster file", file, 0) ||
	    (manifests &&
	     !cmd_check_readable("validate", "manifests directory", manifests,
				 1)))
		return EXIT_USAGE;

	c = cfg_load(file, &dl);
	if (manifests)
		o = k8s_load_dir(manifests, &dl);
	if (c && o)
		plan_check_endpoints(c, o, &dl);
	ret = dl.n ? EXIT_INVALID : EXIT_OK;
	diag_print(&dl, stderr);
	if (ret == EXIT_OK) {
		size_t nlb;

		cfg_lb_nodes(c, &nlb);
		printf("%s: valid (forwardMode %s, %zu address pool%s, %zu LB "
		       "node%s)\n", file, cfg_forward_mode_name(c->forward_mode),
		       c->npools, c->npools == 1 ? "" : "s", nlb,
		       nlb == 1 ? "" : "s");
		if (o)
			printf("%s: valid (%zu nodes, %zu services, %zu "
			       "endpoint slices)\n", manifests, o->nnodes,
			       o->nservices, o->nslices);
	} else {
		fprintf(stderr, "%zu problem%s found\n", dl.n,
			dl.n == 1 ? "" : "s");
	}
	k8s_objects_free(o);
	cfg_free(c);
	diag_free(&dl);
	return ret;
}
