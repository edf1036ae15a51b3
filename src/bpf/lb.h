/* lb.h: what the BPF programs and the agent share: map keys and values,
 * counters, and the limits that size the maps.
 *
 * Included by the BPF programs (with vmlinux.h types) and by user space
 * (with linux/types.h).  Addresses and ports are in network byte order
 * everywhere, as they are on the wire, so the fast path never swaps.
 * Changing a layout here changes the pinned maps: bump LB_MAPS_VERSION so
 * that an agent never reads a map of the previous layout.
 */
#ifndef BMLB_BPF_LB_H
#define BMLB_BPF_LB_H

#define LB_MAPS_VERSION 4

#define LB_MAX_SERVICES 4096   /* service ports (VIP, port, protocol) */
#define LB_MAX_BACKENDS 65536  /* backend slots, shared by all services */
#define LB_CT_ENTRIES 262144   /* tracked flows (default; set at load) */
#define LB_MAGLEV_MAX 131071   /* the largest Maglev table (slots, prime) */
#define LB_MAGLEV_NONE 0xffffffffu

/* Service flags. */
#define LB_SVC_LOCAL 0x1    /* externalTrafficPolicy: Local */
#define LB_SVC_NODEPORT 0x2 /* on the node's own address: not in lb_vips */

/* A service port: the key of lb_services. */
struct lb_svc_key {
	__u32 vip;
	__u16 port;
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
};

struct lb_svc {
	__u32 id;         /* index of its Maglev table in lb_maglev */
	__u16 nbackends;  /* 0: no backend, refuse new flows */
	__u16 flags;
	__u32 table_size; /* slots of its Maglev table (a prime) */
};

/* A backend: the value of lb_backends, indexed by backend id. */
struct lb_backend {
	__u32 ip;
	__u16 port;
	__u16 flags; /* LB_BACKEND_ALIVE when the slot is in use */
};
#define LB_BACKEND_ALIVE 0x1

/* A flow as the client sent it: the key of lb_ct. */
struct lb_flow {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u8 proto;
	__u8 pad[3];
};

/* TCP states conntrack distinguishes: enough to pick a timeout, and to
 * know when a flow is over and its SNAT port free for another. */
enum lb_ct_state {
	LB_CT_NEW = 0,       /* SYN seen */
	LB_CT_ESTABLISHED,   /* traffic seen both ways */
	LB_CT_CLOSING,       /* a FIN from the client's side */
	LB_CT_CLOSING_REPLY, /* a FIN from the backend's side */
	LB_CT_CLOSED,        /* FINs both ways, or a RST */
};

/* A closed flow idle this long has seen its last ACK: its SNAT port may
 * go to a new flow (the TIME_WAIT reuse of the kernel's NAT). */
#define LB_CT_REUSE_NS 1000000000ull

/* Idle timeouts by state, in seconds; set by the agent at load. */
struct lb_timeouts {
	__u32 unreplied; /* TCP or UDP, not answered by the backend yet */
	__u32 tcp_established;
	__u32 tcp_closing;
	__u32 udp;
	/* A flow not answered yet (a SYN, a first datagram, spoofed or not)
	 * idle this long, in ms, may give its SNAT port and its table entry
	 * to a new flow (src/bpf/unreplied.h): long enough for a backend in
	 * the cluster to answer, short enough that a flood cannot keep
	 * them. */
	__u32 unreplied_yield_ms;
};

/* Where a flow's packets of one direction go next: a bpf_fib_lookup
 * result kept in the flow and refreshed once per `checked` tick (2^30 ns,
 * about a second), so that a neighbour change is seen within a second and
 * the route lookup is not paid per packet. */
struct lb_hop {
	__u8 dmac[6];
	__u8 smac[6];
	__u32 ifindex; /* 0: not looked up yet */
	__u32 checked; /* coarse time >> 30 of the lookup */
};

struct lb_ct {
	__u64 last_seen; /* bpf_ktime_get_coarse_ns() */
	__u32 backend_id;
	__u32 backend_ip; /* copy: a reused backend id is detected */
	__u16 backend_port;
	__u16 snat_port;
	__u8 state;
	__u8 pad[3];
	struct lb_hop fwd; /* toward the backend */
	struct lb_hop rev; /* toward the client */
};

/* How long a flow in this state may stay idle, in ns; shared by the
 * programs (expiry on lookup) and the agent (the sweep), for the LB node's
 * conntrack and the DSR worker's flows alike. */
static inline __u64 lb_timeout_ns(__u8 state, __u8 proto,
				  const volatile struct lb_timeouts *t)
{
	__u32 s = t->udp;

	if (state == LB_CT_NEW)
		s = t->unreplied;
	else if (proto == 6 /* TCP */)
		s = state == LB_CT_ESTABLISHED ? t->tcp_established
					       : t->tcp_closing;
	return (__u64)s * 1000000000ull;
}

static inline __u64 lb_ct_timeout_ns(const struct lb_ct *ct, __u8 proto,
				     const volatile struct lb_timeouts *t)
{
	return lb_timeout_ns(ct->state, proto, t);
}

/* A translated flow as the backend answers it: the key of lb_snat. */
struct lb_snat_key {
	__u32 backend_ip;
	__u16 backend_port;
	__u16 snat_port;
	__u8 proto;
	__u8 pad[3];
};

struct lb_snat {
	__u32 client_ip;
	__u32 vip;
	__u16 client_port;
	__u16 vport;
	__u32 pad;
};

/* Whether binding rev is flow f's: a port can go from a flow that is over
 * to a new one, and whoever removes a binding checks it first (the
 * programs, and the agent's sweep). */
static inline int lb_snat_is_of(const struct lb_snat *rev,
				const struct lb_flow *f)
{
	return rev->client_ip == f->saddr && rev->vip == f->daddr &&
	       rev->client_port == f->sport && rev->vport == f->dport;
}

/* The XDP entry's 4-byte metadata on a packet it passes, read by the tc
 * entry behind it (src/bpf/hop.h). */
#define LB_META_DONE 0x626d6c70u    /* "bmlp": passed on purpose, done */
#define LB_META_HANDOFF 0x626d6c68u /* "bmlh": handed to tc, counted */

/* Counters, one per-CPU slot each; never renumbered (status and benches
 * read them by number). */
enum lb_counter {
	LB_C_PACKETS = 0,       /* every packet the program saw */
	LB_C_PASS,              /* not for a VIP or a SNAT port: untouched */
	LB_C_FWD_NEW,           /* new flow to a VIP, translated */
	LB_C_FWD_ESTABLISHED,   /* tracked flow to a VIP, translated */
	LB_C_REPLY,             /* reply translated back to VIP:port */
	LB_C_ICMP_FWD,          /* ICMP error from the client side */
	LB_C_ICMP_REPLY,        /* ICMP error from the backend side */
	LB_C_TX,                /* sent back out of the same interface */
	LB_C_REDIRECT,          /* sent out of another interface */
	LB_C_TO_TC,             /* XDP: untouched, handed to tc (hop.h) */
	LB_C_DROP_NO_BACKEND,   /* service has no ready backend */
	LB_C_DROP_CT_FULL,      /* conntrack table full: new flow refused */
	LB_C_DROP_NO_PORT,      /* SNAT ports exhausted: new flow refused */
	LB_C_DROP_FRAGMENT,     /* IPv4 fragment to a VIP */
	LB_C_DROP_TRUNCATED,    /* L4 header cut short */
	LB_C_PASS_NOT_SYN,      /* TCP to a VIP, untracked and not a SYN */
	LB_C_PASS_VLAN,         /* VLAN-tagged frame: not handled */
	LB_C_FIB_MISS,          /* route lookup without a neighbour */
	LB_C_ARP_REPLY,         /* ARP request for an owned VIP answered */
	LB_C_ARP_CONFLICT,      /* another MAC claims a VIP this node owns */
	/* DSR mode (src/bpf/dsr.h): LB node */
	LB_C_DSR_FWD,           /* to a pod, destination rewritten */
	LB_C_DSR_OPT,           /* ... and the option added (SYN, UDP) */
	LB_C_DSR_TOO_BIG,       /* no room for the option: ICMP sent */
	LB_C_DSR_DROP_IP_OPTIONS, /* needs the option, has IP options */
	/* DSR mode: worker node */
	LB_C_DSR_IN,            /* option from an LB node: recorded, removed */
	LB_C_DSR_DROP_FORGED,   /* option from a host that is no LB node */
	LB_C_DSR_DROP_FULL,     /* DSR flow table full: new flow refused */
	LB_C_DSR_OUT,           /* pod reply rewritten to come from VIP:port */
	/* externalTrafficPolicy Local (src/bpf/local.h) */
	LB_C_LOCAL,             /* to a pod on this node, destination rewritten */
	LB_C_LOCAL_DROP_FULL,   /* flow table full: new flow refused */
	LB_C_SNAT_REUSE,        /* a closed flow's SNAT port given to a new one */
	/* Where a rewritten packet goes (src/bpf/hop.h) */
	LB_C_RESOLVE,           /* tc: sent on through neighbour resolution */
	LB_C_DROP_NO_ROUTE,     /* no route to the next hop: dropped */
	LB_C_TOO_BIG,           /* too big for the next hop: ICMP sent back */
	LB_C_TTL_EXCEEDED,      /* TTL ran out here: ICMP sent back */
	LB_C_DROP_NO_BINDING,   /* to a SNAT port (or an ICMP error about a
				   flow) that is no translated flow's */
	LB_C_EVICT_UNREPLIED,   /* an unanswered flow gave its port or entry
				   to a new one (embryo.h) */
	LB_C_DROP_SOURCE_LIMIT, /* one source opened too many new flows */
	LB_C_MAX,
};

/* Unanswered flows one source address may open per `unreplied` timeout
 * (default; set at load): a host, or one spoofed address, cannot hold the
 * node's ports; a NAT in front of many clients still gets plenty. */
#define LB_SOURCE_NEW_MAX 4096
#define LB_SOURCES 65536      /* sources remembered (LRU) */
#define LB_UNREPLIED_RING 16384 /* per CPU: the latest unanswered flows */

/* A source address's unanswered flows in the current window. */
struct lb_source {
	__u64 window; /* bpf_ktime_get_coarse_ns() at its start */
	__u32 count;
	__u32 pad;
};

/* Slots of lb_stats: more than LB_C_MAX, so that a counter added later
 * does not change the pinned map's layout. */
#define LB_C_SLOTS 64

/* ARP announcement (arp.h).  lb_owned holds the VIPs this node announces;
 * the agent renews the lease (lb_lease[0], bpf_ktime_get_ns() deadline)
 * with every liveness message it sends, so that a node whose agent died
 * falls silent by the time its peers declare it dead. */
struct lb_owned {
	__u32 flags; /* none yet */
};

/* Another MAC seen claiming a VIP this node owns (lb_arp_conflicts). */
struct lb_arp_conflict {
	__u8 mac[6];
	__u16 pad;
	__u64 count;
	__u64 last_ns; /* bpf_ktime_get_ns() */
};

/* A flow whose pod replies from VIP:port itself (dsr_out): one the DSR
 * option announced (worker side) or one delivered to a pod of this node
 * (externalTrafficPolicy Local), keyed by struct lb_flow as the pod sees
 * it (client -> pod:targetPort). */
struct lb_dsr {
	__u64 last_seen; /* bpf_ktime_get_coarse_ns() */
	__u32 vip;
	__u16 vport;
	__u8 state;      /* enum lb_ct_state */
	__u8 pad;
};

/* DSR, worker side: an LB node's MAC (the option's only proof of origin:
 * the LB node forwards the client's packet with the client's address). */
struct lb_mac {
	__u8 addr[6];
	__u16 pad;
};

/* DSR, LB node: the route to a backend, and which backend it was looked
 * up for (a backend id is reused once its backend is gone). */
struct lb_dsr_hop {
	struct lb_hop hop;
	__u32 backend_ip;
};

#define LB_DSR_PEERS 256 /* LB nodes a worker accepts the option from */

#endif
