/* agent: `bmlb agent`, the node agent (SPEC.md §8).
 *
 * Start: load the cluster file and the manifests, find this node and the
 * interface holding its InternalIP, run the preflight, check the state
 * directory (the forwarding mode and pools the cluster was created with),
 * plan with the previous plan's addresses, and on an LB node open the data
 * plane (taking over pinned maps) and program every VIP's service ports.
 * Then one event loop: signals, inotify on the inputs (debounced), a
 * periodic tick (flow GC) and the status socket; on an LB node the peers'
 * heartbeat (HELLOs, timeouts, the data plane's lease) runs on a thread
 * of its own, so that no work on the loop delays it (peers.h).  A reload
 * applies only the difference, or keeps the last good state when
 * anything is invalid.
 * Exit leaves the data plane attached and its maps pinned. */
#ifndef BMLB_AGENT_AGENT_H
#define BMLB_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#define AGENT_STATE_DIR "/var/lib/bmlb"
#define AGENT_BPF_DIR "/sys/fs/bpf/bmlb"
#define AGENT_PEER_PORT 7946
#define AGENT_DEBOUNCE_MS 100  /* quiet time after a file change */
#define AGENT_DEBOUNCE_MAX_MS 500 /* ... but never later than this */
#define AGENT_TICK_MS 5000     /* flow GC, status client timeouts */

struct agent_opts {
	const char *config, *manifests, *node;
	const char *state_dir, *bpf_dir;
	const char *key_file; /* NULL: STATE_DIR/key */
	const char *tunnel_if; /* NULL: none */
	uint16_t peer_port, snat_min, snat_max;
	unsigned vrrp_advert_ms; /* the control-plane VIP's VRRP adverts */
	uint32_t peer_interval_ms, peer_timeout_ms;
	bool use_tc;
};

/* Runs the agent until SIGTERM or SIGINT.  Returns the exit status: 0 after
 * a signal, 1 when it could not start (the reason on stderr). */
int agent_run(const struct agent_opts *o);

#endif
