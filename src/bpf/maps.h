/* maps.h: the data plane's maps, declared once.  The agent fills the
 * service, backend and Maglev maps; the programs own conntrack and SNAT
 * entries; all are pinned (by name, under the agent's --bpf-dir) so that a
 * restarted agent takes over the running data plane. */
#ifndef BMLB_BPF_MAPS_H
#define BMLB_BPF_MAPS_H

#include "bpf/lb.h"

/* (VIP, port, protocol) -> service: is this packet for a VIP? */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, struct lb_svc_key);
	__type(value, struct lb_svc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_services SEC(".maps");

/* VIP -> number of service ports on it: is this address a VIP at all?
 * (Fragments and ICMP errors carry no usable port.) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_vips SEC(".maps");

/* Backend id -> address; ids are stable while a backend exists so that
 * Maglev tables and tracked flows can name it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_backends SEC(".maps");

/* Service id -> its Maglev table of backend ids.  A table is replaced whole
 * by swapping the inner map: a packet never sees half of an old table and
 * half of a new one.  Tables differ in size (BPF_F_INNER_MAP): a few
 * backends need 16381 slots, a hundred 65521 (dataplane/maglev.h). */
struct lb_maglev_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, LB_MAGLEV_MAX);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct lb_maglev_table);
} lb_maglev SEC(".maps");

/* Tracked flows, keyed as the client sent them.  A plain hash, not an LRU:
 * when it is full, new flows are refused (and counted) instead of evicting
 * established ones; expired entries are reused in place and swept by the
 * agent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_CT_ENTRIES);
	__type(key, struct lb_flow);
	__type(value, struct lb_ct);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_ct SEC(".maps");

/* SNAT bindings, keyed as the backend answers: (backend, SNAT port) ->
 * client and VIP. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_CT_ENTRIES);
	__type(key, struct lb_snat_key);
	__type(value, struct lb_snat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_snat SEC(".maps");

/* Per-CPU counters, indexed by enum lb_counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_C_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_stats SEC(".maps");

/* VIPs this node announces (answers ARP for), while the lease holds. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct lb_owned);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_owned SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_lease SEC(".maps");

/* Owned VIP -> the last other MAC that claimed it (the agent logs it). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct lb_arp_conflict);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_arp_conflicts SEC(".maps");

static __always_inline void count(enum lb_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&lb_stats, &key);

	if (v)
		*v += 1;
}

/* DSR, LB node: the route to each backend (by backend id), refreshed once
 * a second as a flow's is in SNAT mode: DSR keeps no flow to cache it in. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_dsr_hop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_dsr_hops SEC(".maps");

/* Flows whose pod replies straight to the client, (client, pod) ->
 * VIP:port, for rewriting the pod's replies (dsr_out): those the DSR
 * option announced on a worker, and externalTrafficPolicy Local ones on an
 * LB node.  A plain hash like lb_ct, swept by the agent with the same
 * timeouts. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_CT_ENTRIES);
	__type(key, struct lb_flow);
	__type(value, struct lb_dsr);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_dsr SEC(".maps");

/* DSR, worker side: the LB nodes' MACs (-> their address), the only
 * senders whose option is believed: each one the agent verified for an
 * LB node's InternalIP (src/agent/dsr.h), never the neighbour cache's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_DSR_PEERS);
	__type(key, struct lb_mac);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_dsr_peers SEC(".maps");

/* DSR, worker side: the VIP:ports (VIP, port, protocol) of the cluster's
 * LoadBalancer Services that get the option, the only ones it may name:
 * an LB node's option naming another address would make the pod answer
 * from it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, struct lb_svc_key);
	__type(value, struct lb_dsr_vip);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_dsr_vips SEC(".maps");

#endif
