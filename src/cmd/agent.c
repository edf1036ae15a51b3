/* agent: `bmlb agent --config FILE --manifests DIR --node NAME ...`
 * (SPEC.md §8): parses the flags; src/agent runs the node agent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/peers.h"
#include "cpvip/render.h"
#include "dataplane/dp.h"
#include "k8s/objects.h"
#include "cmd/cmd.h"

static const char help[] =
	"usage: bmlb agent --config CLUSTER_FILE --manifests DIR\n"
	"                  --node NAME [--state-dir DIR] [--bpf-dir DIR]\n"
	"                  [--key-file FILE] [--peer-port PORT]\n"
	"                  [--hook xdp|tc] [--tunnel-if NAME]\n"
	"                  [--snat-ports MIN-MAX] [--peer-interval MS]\n"
	"                  [--peer-timeout MS] [--vrrp-interval MS]\n"
	"\n"
	"The node agent.  Runs in the foreground until SIGTERM or SIGINT\n"
	"and logs one line per event to stderr.  It plans from the cluster\n"
	"file and the manifests as `bmlb plan` does and, on an LB node,\n"
	"programs every VIP's service ports into the BPF data plane on the\n"
	"interface that holds the Node's InternalIP.  In DSR mode\n"
	"(forwardMode: dsr) a worker's agent also runs a data plane there:\n"
	"tc programs that take the LB nodes' option off and send the pods'\n"
	"replies from the VIP.\n"
	"\n"
	"Changes to the cluster file or the manifests take effect within a\n"
	"second.  An invalid cluster file, or a manifest with a new problem,\n"
	"is logged and refused, and the last good state keeps running;\n"
	"SIGHUP reloads at once and applies the manifests without the\n"
	"objects in error.  `bmlb status` asks the running agent what it has.\n"
	"\n"
	"On an LB node the agent sends an authenticated message to the\n"
	"other LB nodes every --peer-interval; a node silent for\n"
	"--peer-timeout is dead and its VIPs move to the others, which\n"
	"answer ARP for them and send gratuitous ARP.  SIGTERM and SIGINT\n"
	"hand this node's VIPs over at once; SIGUSR2 exits for a restart:\n"
	"the VIPs stay announced here and the peers wait up to 10 s for\n"
	"the next agent, which resumes without moving them.\n"
	"\n"
	"Exiting leaves the data plane attached and its maps pinned in the\n"
	"BPF directory: established connections keep flowing, and the next\n"
	"agent started with the same --bpf-dir takes the data plane over.\n"
	"\n"
	"On an LB node it also keeps the control-plane VIP: it writes\n"
	"keepalived's and HAProxy's configuration into the state directory,\n"
	"runs both, restarts them when they die, reloads them when the\n"
	"cluster file changes, and stops them when it exits.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE     the cluster file (kind: Cluster)\n"
	"  -m, --manifests DIR   Node, Service and EndpointSlice manifests\n"
	"  -n, --node NAME       this node: a Node manifest's metadata.name\n"
	"  -s, --state-dir DIR   what survives restarts (the accepted cluster\n"
	"                        file, the last plan) and the status socket\n"
	"                        (default " AGENT_STATE_DIR "); the agent's\n"
	"                        own: its user's, writable by no one else\n"
	"  -b, --bpf-dir DIR     pinned maps and links, on a bpffs; created\n"
	"                        if missing (default " AGENT_BPF_DIR "),\n"
	"                        the agent's own as --state-dir\n"
	"  -k, --key-file FILE   the cluster's shared secret: its first line,\n"
	"                        at least 32 characters (openssl rand -hex\n"
	"                        32), mode 600; default STATE_DIR/key\n"
	"  -p, --peer-port PORT  UDP port of peer messages (default 7946)\n"
	"      --hook xdp|tc     the data plane's entry on the interface:\n"
	"                        XDP (default) or tc ingress\n"
	"      --tunnel-if NAME  also attach tc ingress to this interface,\n"
	"                        where replies arrive over a VXLAN pod\n"
	"                        network\n"
	"      --snat-ports MIN-MAX\n"
	"                        source ports of translated flows, outside\n"
	"                        the node's ephemeral ports and the\n"
	"                        NodePort range 30000-32767 (default\n"
	"                        16384-29999)\n"
	"      --peer-interval MS  a liveness message to every other LB\n"
	"                        node each MS (default 50; 5-10000)\n"
	"      --peer-timeout MS  an LB node silent this long is dead and\n"
	"                        its VIPs move (default 200; at least twice\n"
	"                        the interval): failover takes about this\n"
	"                        long\n"
	"      --vrrp-interval MS\n"
	"                        VRRP advertisement interval of the\n"
	"                        control-plane VIP, 10-40950 in steps of 10;\n"
	"                        a backup takes over after about 3.6 of\n"
	"                        them (default 250)\n"
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 after SIGTERM, SIGINT or SIGUSR2; 1 when it cannot start\n"
	"(invalid cluster file, unknown node, failed preflight, missing or\n"
	"short key, a change refused against what the cluster was created\n"
	"with); 2 usage error.\n"
	"\n"
	"Example:\n"
	"  bmlb agent --config /etc/bmlb/cluster.yaml \\\n"
	"             --manifests /etc/bmlb/manifests --node lb-1\n";

/* A decimal number in [min, max], nothing else. */
static bool parse_u16(const char *s, unsigned min, unsigned max, uint16_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool parse_range(const char *s, uint16_t *min, uint16_t *max)
{
	char buf[16], *dash;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (!dash)
		return false;
	*dash = '\0';
	return parse_u16(buf, 1024, 65535, min) &&
	       parse_u16(dash + 1, 1024, 65535, max) && *min <= *max;
}

int cmd_agent(int argc, char **argv)
{
	enum { OPT_HOOK = 256, OPT_TUNNEL, OPT_SNAT, OPT_INTERVAL,
	       OPT_TIMEOUT, OPT_VRRP };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"manifests", required_argument, NULL, 'm'},
		{"node", required_argument, NULL, 'n'},
		{"state-dir", required_argument, NULL, 's'},
		{"bpf-dir", required_argument, NULL, 'b'},
		{"key-file", required_argument, NULL, 'k'},
		{"peer-port", required_argument, NULL, 'p'},
		{"hook", required_argument, NULL, OPT_HOOK},
		{"tunnel-if", required_argument, NULL, OPT_TUNNEL},
		{"snat-ports", required_argument, NULL, OPT_SNAT},
		{"peer-interval", required_argument, NULL, OPT_INTERVAL},
		{"peer-timeout", required_argument, NULL, OPT_TIMEOUT},
		{"vrrp-interval", required_argument, NULL, OPT_VRRP},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct agent_opts o = {
		.state_dir = AGENT_STATE_DIR,
		.bpf_dir = AGENT_BPF_DIR,
		.peer_port = AGENT_PEER_PORT,
		.snat_min = DP_SNAT_MIN_DEFAULT,
		.snat_max = DP_SNAT_MAX_DEFAULT,
		.peer_interval_ms = PEERS_INTERVAL_MS,
		.peer_timeout_ms = PEERS_TIMEOUT_MS,
		.vrrp_advert_ms = CPVIP_ADVERT_MS,
	};
	uint16_t ms;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:m:n:s:b:k:p:h", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			o.config = optarg;
			break;
		case 'm':
			o.manifests = optarg;
			break;
		case 'n':
			o.node = optarg;
			break;
		case 's':
			o.state_dir = optarg;
			break;
		case 'b':
			o.bpf_dir = optarg;
			break;
		case 'k':
			o.key_file = optarg;
			break;
		case 'p':
			if (!parse_u16(optarg, 1, 65535, &o.peer_port))
				return cmd_usage_error("agent", "--peer-port "
						       "'%s': give a port "
						       "1..65535", optarg);
			break;
		case OPT_HOOK:
			if (strcmp(optarg, "xdp") && strcmp(optarg, "tc"))
				return cmd_usage_error("agent", "--hook '%s': "
						       "give xdp or tc",
						       optarg);
			o.use_tc = !strcmp(optarg, "tc");
			break;
		case OPT_TUNNEL:
			o.tunnel_if = optarg;
			break;
		case OPT_SNAT:
			if (!parse_range(optarg, &o.snat_min, &o.snat_max))
				return cmd_usage_error(
					"agent", "--snat-ports '%s': give "
					"MIN-MAX, 1024 <= MIN <= MAX <= 65535",
					optarg);
			if (o.snat_max >= K8S_NODE_PORT_MIN &&
			    o.snat_min <= K8S_NODE_PORT_MAX)
				return cmd_usage_error(
					"agent", "--snat-ports '%s' overlaps "
					"the NodePort range %u-%u, whose "
					"ports must reach the services; "
					"choose ports outside it, e.g. "
					"16384-29999", optarg,
					K8S_NODE_PORT_MIN, K8S_NODE_PORT_MAX);
			break;
		case OPT_INTERVAL:
		case OPT_TIMEOUT:
			if (!parse_u16(optarg, 5, opt == OPT_INTERVAL ? 10000
								      : 60000,
				       &ms))
				return cmd_usage_error(
					"agent", "--peer-%s '%s': give "
					"milliseconds, 5..%s", opt ==
					OPT_INTERVAL ? "interval" : "timeout",
					optarg, opt == OPT_INTERVAL ? "10000"
								    : "60000");
			*(opt == OPT_INTERVAL ? &o.peer_interval_ms
					      : &o.peer_timeout_ms) = ms;
			break;
		case OPT_VRRP:
			if (!parse_u16(optarg, CPVIP_ADVERT_MIN_MS,
				       CPVIP_ADVERT_MAX_MS, &ms) || ms % 10)
				return cmd_usage_error(
					"agent", "--vrrp-interval '%s': give "
					"milliseconds, a multiple of 10 from "
					"%u to %u", optarg,
					CPVIP_ADVERT_MIN_MS,
					CPVIP_ADVERT_MAX_MS);
			o.vrrp_advert_ms = ms;
			break;
		case 'h':
			fputs(help, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error("agent", NULL);
		}
	}
	if (cmd_no_more_args("agent", argc, argv))
		return EXIT_USAGE;
	if (o.peer_timeout_ms < 2 * o.peer_interval_ms)
		return cmd_usage_error("agent", "--peer-timeout %u ms is less "
				       "than twice --peer-interval %u ms: one "
				       "lost message would kill a node; give "
				       "a longer timeout",
				       o.peer_timeout_ms, o.peer_interval_ms);
	if (!o.config || !o.manifests || !o.node)
		return cmd_usage_error("agent", "--config, --manifests and "
				       "--node are required");
	if (!cmd_check_readable("agent", "cluster file", o.config, 0) ||
	    !cmd_check_readable("agent", "manifests directory", o.manifests,
				1))
		return EXIT_USAGE;
	return agent_run(&o) ? EXIT_INVALID : EXIT_OK;
}
