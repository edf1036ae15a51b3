/* lb.bpf.c: the SNAT load-balancing fast path, with an XDP entry and a tc
 * entry over the same code.
 *
 *   client -> VIP:port      find the service, pick a backend with its
 *                           Maglev table (or the tracked flow's), take a
 *                           SNAT port, rewrite to LB_NODE_IP:P -> pod:port
 *   pod -> LB_NODE_IP:P     find the SNAT binding, rewrite back to
 *                           VIP:port -> client
 *   ICMP errors             about either kind of packet, rewritten so that
 *                           path MTU discovery works through the VIP
 *
 * Policies for awkward packets (each has a packet test):
 *   VLAN-tagged frames    passed untouched (counted): bmlb serves the
 *                         untagged cluster segment
 *   IP options            handled: L4 is found through the header length
 *   fragments to a VIP    dropped and counted: without reassembly the
 *                         later fragments cannot be matched to a flow
 *   TTL                   decremented where bmlb forwards, as a router
 *                         does; at 1 the packet goes no further and ICMP
 *                         time exceeded goes back (hop.h): a loop of
 *                         Services pointing at each other's VIPs dies
 *   truncated L4 to a VIP dropped and counted; a truncated IP header is
 *                         not ours to judge and passes
 *   TCP without SYN and   passed to the kernel, creating no state: after
 *   without a flow        an agent restart flows survive in pinned maps,
 *                         so such a packet is stray
 *   frames for other MACs passed: only the VIP's owner translates
 *   Local services        to a pod of this node, source kept (local.h)
 *   the node's address    NodePorts (lb_services entries on it, flagged
 *                         LB_SVC_NODEPORT) are served; anything else to
 *                         it (its own traffic, fragments, ICMP) passes
 *   ARP                   answered for the VIPs this node owns (arp.h),
 *                         passed otherwise
 */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/arp.h"
#include "bpf/conntrack.h"
#include "bpf/maps.h"
#include "bpf/nat.h"
#include "bpf/parse.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define SNAT_TRIES 8

/* Set by the agent before load. */
const volatile __u32 cfg_node_ip = 0;      /* network order */
const volatile __u8 cfg_node_mac[6] = {0}; /* the XDP interface's MAC */
const volatile __u16 cfg_snat_min = 16384; /* host order, inclusive */
const volatile __u16 cfg_snat_max = 29999;
/* The flow hash's seed, derived from the cluster key: the same on every
 * node (DSR and failover agree on a flow's backend), unknown to a client
 * that would aim its flows at one backend. */
const volatile __u64 cfg_hash_seed = 0;

/* What to do with the packet; the entries map it to their return codes. */
enum verdict {
	V_PASS, V_DROP, V_TX, V_REDIRECT,
	V_REDIRECT_NEIGH, /* tc: bpf_redirect_neigh to p->nexthop (hop.h) */
	V_DSR_ROOM,       /* DSR: the entry makes room for the option */
	V_ICMP,           /* the entry turns it into an ICMP (icmp_back.h) */
};

struct pkt {
	void *ctx;
	void *end;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 ifindex;
	__u32 redirect_to;
	bool xdp;
	bool counted;    /* tc: the XDP entry counted it, and handed it off */
	bool handoff;    /* XDP: passed up for the tc entry to forward */
	bool resolve;    /* tc: the next hop's neighbour is not resolved */
	__u32 nexthop;   /* ... its address, network order */
	__u16 mtu;       /* V_ICMP: the MTU to announce (frag. needed) */
	__u8 icmp_type;  /* V_ICMP: the error to send back */
	__u8 icmp_code;
	__u32 icmp_from; /* ... from this address */
	struct lb_hop *hop;    /* where it goes (hop.h) */
	struct lb_hop hop_buf; /* ... when no flow caches it */
	__u32 dsr_vip;   /* DSR: the option's service, network order */
	__u16 dsr_vport;
};

/* Re-finds the headers after the entry moved the packet. */
static __always_inline bool pkt_reparse(struct pkt *p, void *data, void *end)
{
	p->eth = parse_eth(data, end);
	if (!p->eth)
		return false;
	p->end = end;
	p->ip = (void *)(p->eth + 1);
	return (void *)(p->ip + 1) <= end;
}

#include "bpf/hop.h"
#include "bpf/icmp_back.h"

static __always_inline __u32 flow_hash(const struct lb_flow *f)
{
	/* Seeded the same on every node: with DSR a flow keeps its backend
	 * when its VIP moves to another LB node. */
	__u64 h = ((__u64)f->saddr << 32 | f->daddr) ^ cfg_hash_seed ^
		  ((__u64)f->sport << 24 | (__u64)f->dport << 8 | f->proto) *
			  0x9e3779b97f4a7c15ull;

	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return (__u32)h;
}

static __always_inline bool is_vip(__u32 addr)
{
	return bpf_map_lookup_elem(&lb_vips, &addr) != NULL;
}

/* The backend the service's Maglev table gives this flow, or NULL. */
static __always_inline struct lb_backend *
pick_backend(const struct lb_svc *svc, const struct lb_flow *f, __u32 *id)
{
	void *table = bpf_map_lookup_elem(&lb_maglev, &svc->id);
	__u32 slot;
	__u32 *bid;
	struct lb_backend *b;

	if (!table || !svc->table_size)
		return NULL;
	slot = flow_hash(f) % svc->table_size;
	bid = bpf_map_lookup_elem(table, &slot);
	if (!bid)
		return NULL;
	*id = *bid;
	b = bpf_map_lookup_elem(&lb_backends, id);
	return b && (b->flags & LB_BACKEND_ALIVE) ? b : NULL;
}

/* A tracked flow still valid: not expired and its backend id still holds
 * the same backend (ids are reused after a backend goes). */
static __always_inline bool ct_valid(const struct lb_ct *ct, __u8 proto,
				     __u64 now)
{
	struct lb_backend *b;
	__u32 id = ct->backend_id;

	if (ct_expired(ct, proto, now))
		return false;
	b = bpf_map_lookup_elem(&lb_backends, &id);
	return b && (b->flags & LB_BACKEND_ALIVE) && b->ip == ct->backend_ip &&
	       b->port == ct->backend_port;
}

/* The flow (client -> VIP:port) a SNAT binding belongs to. */
static __always_inline struct lb_flow bound_flow(const struct lb_snat *rev,
						 __u8 proto)
{
	return (struct lb_flow){
		.saddr = rev->client_ip,
		.daddr = rev->vip,
		.sport = rev->client_port,
		.dport = rev->vport,
		.proto = proto,
	};
}

/* Whether the binding at key may go to a new flow: its flow's entry
 * holds this very binding and the flow is over, or never answered and
 * idle (ct_yields).  The old flow's
 * entry is removed with it, so that a late packet of that flow cannot use
 * the port again.  A binding whose flow has no entry yet, or another one,
 * is being set up or moved on another CPU (bind first, entry next): it is
 * left alone. */
static __always_inline bool snat_reclaim(const struct lb_snat_key *key,
					 __u64 now)
{
	struct lb_snat *old = bpf_map_lookup_elem(&lb_snat, key);
	struct lb_flow f;
	struct lb_ct *ct;
	bool over;

	if (!old)
		return true;
	f = bound_flow(old, key->proto);
	ct = bpf_map_lookup_elem(&lb_ct, &f);
	if (!ct || ct->snat_port != key->snat_port ||
	    ct->backend_ip != key->backend_ip ||
	    ct->backend_port != key->backend_port ||
	    !ct_yields(ct, key->proto, now))
		return false;
	over = ct_over(ct, key->proto, now);
	/* Of two CPUs taking the port at once, one removes the entry. */
	if (bpf_map_delete_elem(&lb_ct, &f))
		return false;
	if (!over)
		count(LB_C_EVICT_UNREPLIED);
	return true;
}

/* Binds a SNAT port for a new flow to backend b: tries random ports of the
 * range until one is free for that backend, or held by a flow that is
 * over.  Returns the port (network order) or 0 when none was free or the
 * table is full. */
static __always_inline __u16 snat_bind(const struct lb_flow *f,
				       const struct lb_backend *b, __u64 now)
{
	struct lb_snat rev = {
		.client_ip = f->saddr,
		.vip = f->daddr,
		.client_port = f->sport,
		.vport = f->dport,
	};
	struct lb_snat_key key = {
		.backend_ip = b->ip,
		.backend_port = b->port,
		.proto = f->proto,
	};
	__u32 span = (__u32)cfg_snat_max - cfg_snat_min + 1;

	/* Random candidates: ports derived from the flow would probe the
	 * same sequence (taken ports bunch up) and a retransmitted SYN
	 * would fail exactly as its first try did.  The port chosen is kept
	 * in the flow's entry, so it need not be derivable. */
	for (int i = 0; i < SNAT_TRIES; i++) {
		__u16 port = cfg_snat_min + bpf_get_prandom_u32() % span;

		key.snat_port = bpf_htons(port);
		if (!bpf_map_update_elem(&lb_snat, &key, &rev, BPF_NOEXIST))
			return key.snat_port;
		if (snat_reclaim(&key, now) &&
		    !bpf_map_update_elem(&lb_snat, &key, &rev, BPF_ANY)) {
			count(LB_C_SNAT_REUSE);
			return key.snat_port;
		}
	}
	return 0;
}

/* Removes the binding of flow f (its entry ct), unless its port has gone
 * to another flow meanwhile (snat_reclaim). */
static __always_inline void snat_unbind(const struct lb_ct *ct,
					const struct lb_flow *f)
{
	struct lb_snat_key key = {
		.backend_ip = ct->backend_ip,
		.backend_port = ct->backend_port,
		.snat_port = ct->snat_port,
		.proto = f->proto,
	};
	struct lb_snat *rev = bpf_map_lookup_elem(&lb_snat, &key);

	if (rev && lb_snat_is_of(rev, f))
		bpf_map_delete_elem(&lb_snat, &key);
}

/* Unanswered flows: uses snat_unbind() above. */
#include "bpf/unreplied.h"

/* externalTrafficPolicy Local: uses pick_backend() above. */
#include "bpf/local.h"

/* Client -> VIP:port.  A tracked flow is looked up first: an established
 * packet costs one hash lookup, and the service map is read only for new
 * flows (and for packets that are no VIP's, which then pass). */
static __always_inline enum verdict to_service(struct pkt *p,
					       struct l4_ports *l4,
					       struct l4_csum *c, __u8 flags)
{
	struct lb_flow f = flow_of(p->ip, l4);
	__u64 now = bpf_ktime_get_coarse_ns();
	struct lb_ct *ct = bpf_map_lookup_elem(&lb_ct, &f);
	__u16 len = bpf_ntohs(p->ip->tot_len);
	struct lb_ct fresh = {};
	struct lb_svc_key key;
	struct lb_svc *svc;
	struct lb_backend *b;
	enum hop_rc rc;

	if (ct && ct_valid(ct, f.proto, now)) {
		rc = hop_forward(p, &ct->fwd, cfg_node_ip, ct->backend_ip, len,
			      now);
		if (rc != HOP_OK)
			return hop_fail(p, rc);
		count(LB_C_FWD_ESTABLISHED);
		goto translate;
	}
	key = (struct lb_svc_key){.vip = f.daddr, .port = f.dport,
				  .proto = f.proto};
	svc = bpf_map_lookup_elem(&lb_services, &key);
	if (!svc) {
		count(LB_C_PASS);
		return V_PASS;
	}
	if (svc->flags & LB_SVC_LOCAL)
		return local_to_service(p, l4, c, flags, svc, &f);
	if (!svc->nbackends ||
	    !(b = pick_backend(svc, &f, &fresh.backend_id))) {
		count(LB_C_DROP_NO_BACKEND);
		return V_DROP;
	}
	if (backend_here(b))
		return local_deliver(p, l4, c, flags, &f, b);
	if (f.proto == IPPROTO_TCP &&
	    (flags & (LB_TCP_SYN | LB_TCP_ACK)) != LB_TCP_SYN) {
		count(LB_C_PASS_NOT_SYN);
		return V_PASS;
	}
	/* Before any state: a packet XDP hands to tc is decided anew. */
	rc = hop_forward(p, &fresh.fwd, cfg_node_ip, b->ip, len, now);
	if (rc != HOP_OK)
		return hop_fail(p, rc);
	if (!source_admit(f.saddr, now))
		return V_DROP;
	if (ct)
		snat_unbind(ct, &f); /* the old, dead binding */
	fresh.backend_ip = b->ip;
	fresh.backend_port = b->port;
	fresh.snat_port = snat_bind(&f, b, now);
	/* The bindings' table full (it is sized as the flows'): room is
	 * made as in the flows' table, below. */
	if (!fresh.snat_port && unreplied_evict(now))
		fresh.snat_port = snat_bind(&f, b, now);
	if (!fresh.snat_port) {
		count(LB_C_DROP_NO_PORT);
		return V_DROP;
	}
	fresh.last_seen = now;
	/* A full table makes room by its oldest unanswered flow. */
	if (bpf_map_update_elem(&lb_ct, &f, &fresh, BPF_ANY) &&
	    (!unreplied_evict(now) ||
	     bpf_map_update_elem(&lb_ct, &f, &fresh, BPF_ANY))) {
		snat_unbind(&fresh, &f);
		count(LB_C_DROP_CT_FULL);
		return V_DROP;
	}
	unreplied_note(&f);
	ct = bpf_map_lookup_elem(&lb_ct, &f);
	if (!ct)
		return V_DROP;
	count(LB_C_FWD_NEW);
translate:
	ct_touch(ct, f.proto, flags, false, now);
	nat_rewrite(p->ip, l4, c, cfg_node_ip, ct->snat_port, ct->backend_ip,
		    ct->backend_port);
	return hop_emit(p);
}

static __always_inline bool is_snat_port(__u16 port)
{
	return bpf_ntohs(port) >= cfg_snat_min && bpf_ntohs(port) <= cfg_snat_max;
}

/* Backend -> LB_NODE_IP:P, translated back to VIP:port -> client.  The
 * binding is keyed by the backend's address and port: a packet to P from
 * anyone else finds none, and is dropped (the node's SNAT ports are
 * bmlb's, none of its own connections uses one). */
static __always_inline enum verdict from_backend(struct pkt *p,
						 struct l4_ports *l4,
						 struct l4_csum *c, __u8 flags)
{
	struct lb_snat_key key = {
		.backend_ip = p->ip->saddr,
		.backend_port = l4->source,
		.snat_port = l4->dest,
		.proto = p->ip->protocol,
	};
	struct lb_snat *rev = bpf_map_lookup_elem(&lb_snat, &key);
	__u64 now = bpf_ktime_get_coarse_ns();
	struct lb_flow f;
	struct lb_ct *ct;
	enum hop_rc rc;

	if (!rev) {
		count(LB_C_DROP_NO_BINDING);
		return V_DROP;
	}
	f = bound_flow(rev, key.proto);
	ct = bpf_map_lookup_elem(&lb_ct, &f);
	/* Not `ct ? &ct->rev : NULL`: clang offsets the pointer before the
	 * null check, which the verifier refuses. */
	if (ct)
		rc = hop_forward(p, &ct->rev, f.daddr, f.saddr,
			      bpf_ntohs(p->ip->tot_len), now);
	else
		rc = hop_forward(p, NULL, f.daddr, f.saddr,
			      bpf_ntohs(p->ip->tot_len), now);
	if (rc != HOP_OK)
		return hop_fail(p, rc);
	if (ct && ct->state == LB_CT_NEW)
		source_answered(f.saddr);
	if (ct)
		ct_touch(ct, f.proto, flags, true, now);
	nat_rewrite(p->ip, l4, c, f.daddr, f.dport, f.saddr, f.sport);
	count(LB_C_REPLY);
	return hop_emit(p);
}

/* An ICMP error quoting a packet of a translated flow, in either
 * direction; anything else passes. */
static __always_inline enum verdict icmp_error(struct pkt *p, void *l4)
{
	struct icmphdr *icmp = parse_icmp(l4, p->end);
	__u16 len = bpf_ntohs(p->ip->tot_len);
	struct l4_csum c = {};
	struct iphdr *in;
	struct l4_ports *q;
	enum hop_rc rc;

	if (!icmp || (icmp->type != ICMP_DEST_UNREACH &&
		      icmp->type != ICMP_TIME_EXCEEDED &&
		      icmp->type != ICMP_PARAMETERPROB))
		goto pass;
	in = (void *)(icmp + 1);
	if ((void *)(in + 1) > p->end || in->ihl != 5 ||
	    (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP))
		goto pass;
	q = parse_ports(in + 1, p->end);
	if (!q)
		goto pass;
	/* The quoted L4 checksum, when the quote reaches it: always for UDP
	 * (8 bytes), for TCP only in a quote longer than RFC 792's minimum. */
	if (in->protocol == IPPROTO_UDP) {
		c.check = &q->w3;
		c.udp = true;
	} else {
		struct tcphdr *t = parse_tcp(q, p->end);

		if (t)
			c.check = &t->check;
	}

	if (p->ip->daddr == cfg_node_ip && in->saddr == cfg_node_ip) {
		/* About a packet we sent to a backend: tell the client. */
		struct lb_snat_key key = {
			.backend_ip = in->daddr,
			.backend_port = q->dest,
			.snat_port = q->source,
			.proto = in->protocol,
		};
		struct lb_snat *rev = bpf_map_lookup_elem(&lb_snat, &key);

		if (!rev && is_snat_port(q->source))
			goto unbound;
		if (!rev)
			goto pass;
		rc = hop_forward(p, NULL, rev->vip, rev->client_ip, len, 0);
		if (rc != HOP_OK)
			return hop_fail(p, rc);
		nat_quoted(icmp, in, q, &c, rev->client_ip, rev->client_port,
			   rev->vip, rev->vport);
		nat_outer(p->ip, rev->vip, rev->client_ip);
		count(LB_C_ICMP_REPLY);
		return hop_emit(p);
	}
	if (is_vip(p->ip->daddr) && in->saddr == p->ip->daddr) {
		/* About a reply we sent as the VIP: tell the backend. */
		struct lb_flow f = {
			.saddr = in->daddr,
			.daddr = in->saddr,
			.sport = q->dest,
			.dport = q->source,
			.proto = in->protocol,
		};
		struct lb_ct *ct = bpf_map_lookup_elem(&lb_ct, &f);

		if (!ct)
			goto unbound;
		rc = hop_forward(p, NULL, cfg_node_ip, ct->backend_ip, len, 0);
		if (rc != HOP_OK)
			return hop_fail(p, rc);
		nat_quoted(icmp, in, q, &c, ct->backend_ip, ct->backend_port,
			   cfg_node_ip, ct->snat_port);
		nat_outer(p->ip, cfg_node_ip, ct->backend_ip);
		count(LB_C_ICMP_FWD);
		return hop_emit(p);
	}
pass:
	count(LB_C_PASS);
	return V_PASS;
unbound:
	/* About a flow bmlb does not have: nobody here can use it. */
	count(LB_C_DROP_NO_BINDING);
	return V_DROP;
}

/* DSR mode: uses pick_backend() above. */
#include "bpf/dsr.h"

static __always_inline enum verdict process(struct pkt *p, bool for_us)
{
	struct iphdr *ip;
	void *l4;
	struct l4_ports *ports;
	struct l4_csum c = {};
	__u8 flags = 0;
	__u32 l4_min;

	if (!p->counted)
		count(LB_C_PACKETS);
	p->eth = parse_eth(p->eth, p->end);
	if (!p->eth)
		goto pass;
	if (p->eth->h_proto == bpf_htons(ETH_P_8021Q) ||
	    p->eth->h_proto == bpf_htons(ETH_P_8021AD)) {
		count(LB_C_PASS_VLAN);
		return V_PASS;
	}
	if (p->eth->h_proto == bpf_htons(ETH_P_ARP)) {
		if (!arp_answer(p->eth, p->end, cfg_node_mac))
			goto pass;
		p->redirect_to = p->ifindex;
		return V_TX;
	}
	if (p->eth->h_proto != bpf_htons(ETH_P_IP) || !for_us)
		goto pass;
	ip = p->ip = parse_ipv4(p->eth + 1, p->end);
	if (!ip)
		goto pass;
	l4 = (void *)ip + ip->ihl * 4;

	if (ipv4_is_fragment(ip)) {
		if (!is_vip(ip->daddr))
			goto pass;
		count(LB_C_DROP_FRAGMENT);
		return V_DROP;
	}
	if (ip->protocol == IPPROTO_ICMP)
		return icmp_error(p, l4);
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		goto pass;

	l4_min = ip->protocol == IPPROTO_TCP ? sizeof(struct tcphdr)
					     : sizeof(struct udphdr);
	ports = parse_ports(l4, p->end);
	if (!ports || l4 + l4_min > p->end) {
		if (is_vip(ip->daddr))
			goto truncated;
		goto pass;
	}
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = parse_tcp(l4, p->end);

		if (!tcp)
			goto truncated;
		c.check = &tcp->check;
		flags = tcp_flags(tcp);
	} else {
		struct udphdr *udp = parse_udp(l4, p->end);

		if (!udp)
			goto truncated;
		c.check = &udp->check;
		c.udp = true;
	}

	/* The node's own address: a reply to a SNAT port, or a NodePort
	 * (Cluster ones are translated in both modes, as kube-proxy does),
	 * or the node's own traffic, which to_service passes. */
	if (ip->daddr == cfg_node_ip) {
		if (is_snat_port(ports->dest))
			return from_backend(p, ports, &c, flags);
		return to_service(p, ports, &c, flags);
	}
	if (cfg_dsr)
		return dsr_to_service(p, ports, &c, flags);
	return to_service(p, ports, &c, flags);

truncated:
	count(LB_C_DROP_TRUNCATED);
	return V_DROP;
pass:
	count(LB_C_PASS);
	return V_PASS;
}

/* XDP: writes the 4-byte metadata the tc entry reads (hop.h); a driver
 * without XDP metadata just goes without. */
static __always_inline void xdp_mark(struct xdp_md *ctx, __u32 mark)
{
	__u32 *meta;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return;
	*meta = mark;
}

SEC("xdp")
int lb_xdp(struct xdp_md *ctx)
{
	struct pkt p = {
		.ctx = ctx,
		.eth = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
		.ifindex = ctx->ingress_ifindex,
		.xdp = true,
	};
	struct ethhdr *eth = parse_eth(p.eth, p.end);
	enum verdict v = process(&p, eth && mac_eq(eth->h_dest, cfg_node_mac));

	if (v == V_DSR_ROOM)
		v = dsr_xdp(ctx, &p);
	else if (v == V_ICMP)
		v = icmp_back_xdp(ctx, &p);
	switch (v) {
	case V_TX:
		return XDP_TX;
	case V_REDIRECT:
		return bpf_redirect(p.redirect_to, 0);
	case V_PASS:
		xdp_mark(ctx, p.handoff ? LB_META_HANDOFF : LB_META_DONE);
		return XDP_PASS;
	case V_DROP:
	case V_REDIRECT_NEIGH: /* tc only */
	case V_DSR_ROOM:
	case V_ICMP:
		break;
	}
	return XDP_DROP;
}

/* tc: the mark the XDP entry left in the packet's metadata, or 0. */
static __always_inline __u32 tc_mark(struct __sk_buff *skb)
{
	__u32 *meta = (void *)(long)skb->data_meta;

	if ((void *)(meta + 1) > (void *)(long)skb->data)
		return 0;
	return *meta;
}

/* tc ingress: on its own (--hook tc), or behind the XDP entry, where it
 * forwards what XDP handed off (hop.h). */
SEC("tc")
int lb_tc(struct __sk_buff *skb)
{
	__u32 mark = tc_mark(skb);
	struct pkt p = {
		.ctx = skb,
		.eth = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
		.ifindex = skb->ifindex,
		.counted = mark == LB_META_HANDOFF,
	};
	enum verdict v = V_PASS;

	if (mark != LB_META_DONE)
		v = process(&p, skb->pkt_type == 0 /* PACKET_HOST */);
	if (v == V_DSR_ROOM)
		v = dsr_tc(skb, &p);
	else if (v == V_ICMP)
		v = icmp_back_tc(skb, &p);
	switch (v) {
	case V_TX:
	case V_REDIRECT:
		return bpf_redirect(p.redirect_to, 0);
	case V_REDIRECT_NEIGH: {
		struct bpf_redir_neigh nh = {.nh_family = AF_INET,
					     .ipv4_nh = p.nexthop};

		return bpf_redirect_neigh(p.redirect_to, &nh, sizeof(nh), 0);
	}
	case V_PASS:
		break;
	case V_DROP:
	case V_DSR_ROOM:
	case V_ICMP:
		return TC_ACT_SHOT;
	}
	/* A DSR worker: the same ingress program reads the option. */
	return cfg_dsr_in ? dsr_worker_in(skb) : TC_ACT_OK;
}

/* DSR mode, a worker's cluster interface (dsr.h). */
SEC("tc")
int dsr_out(struct __sk_buff *skb)
{
	return dsr_worker_out(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
