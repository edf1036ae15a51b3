/* dsr.h: DSR mode (SPEC.md §1), both halves: the LB node's stateless
 * forwarding with the service option, and the worker's tc programs that
 * read the option, strip it, and give the pod's replies the VIP's address.
 *
 * The option, as Cilium / GKE Dataplane V2 put it on the wire: 8 bytes
 * right after the 20-byte IPv4 header, type 0x9a (copy bit, number 26),
 * length 8, then the service port and the service address, each stored
 * byte-swapped from network order (Cilium writes htons/htonl of values
 * already in network order; on x86 that is a swap).  VIP 10.0.0.1 port 80:
 * 9a 08 50 00 01 00 00 0a.
 *
 * LB node (XDP or tc, the same code as SNAT up to the service lookup):
 *   client -> VIP:port   Maglev picks the backend (the same on every LB
 *                        node, so a flow keeps its pod across a failover);
 *                        destination -> pod:targetPort, source untouched;
 *                        TCP SYNs and every UDP datagram get the option.
 *                        No conntrack entry, no port; the route to each
 *                        backend is cached by backend id (lb_dsr_hops).
 * Policies (each has a packet test):
 *   too big for the option   an ICMP fragmentation-needed goes back to the
 *                            client with the next hop's MTU - 8, quoting
 *                            its VIP:port packet (icmp_back.h)
 *   IP options already there dropped and counted when the packet needs
 *                            the option (it must sit right after the base
 *                            header, where the worker looks); passed on
 *                            with the destination rewritten otherwise
 *   fragments                to a VIP, dropped and counted (as in SNAT:
 *                            later fragments carry no port)
 *
 * Worker node (tc on the cluster interface):
 *   ingress  the option from an LB node (its source MAC: the packet keeps
 *            the client's address) records (client, pod) -> VIP:port and
 *            is removed; from any other host it is dropped and counted.
 *   egress   a pod's reply of a recorded flow leaves from VIP:port (the
 *            same program serves Local flows on LB nodes: local.h).
 * Flows expire as the LB node's conntrack does (same timeouts, swept by
 * the agent); the map is pinned, so an agent restart loses none.
 */
#ifndef BMLB_BPF_DSR_H
#define BMLB_BPF_DSR_H

#include "bpf/conntrack.h"
#include "bpf/hop.h"
#include "bpf/local.h"
#include "bpf/maps.h"
#include "bpf/nat.h"
#include "bpf/parse.h"
#include "bpf/icmp_back.h"

#define DSR_OPT_TYPE 0x9a
#define DSR_OPT_LEN 8

/* Set by the agent before load. */
const volatile bool cfg_dsr = false;   /* forwardMode dsr */
const volatile bool cfg_dsr_in = false; /* a worker: lb_tc reads the option */

struct dsr_opt {
	__u8 type;
	__u8 len;
	__u16 port; /* byte-swapped from network order */
	__u32 addr; /* byte-swapped from network order */
};

/* ---- LB node */

/* Client -> VIP:port in DSR mode.  Returns V_DSR_ROOM when the packet
 * needs the option (rewritten already; the entry makes room, then
 * dsr_add_option), V_ICMP when the next hop cannot take it then. */
static __always_inline enum verdict dsr_to_service(struct pkt *p,
						   struct l4_ports *l4,
						   struct l4_csum *c,
						   __u8 flags)
{
	struct lb_flow f = flow_of(p->ip, l4);
	struct lb_svc_key key = {.vip = f.daddr, .port = f.dport,
				 .proto = f.proto};
	struct lb_svc *svc = bpf_map_lookup_elem(&lb_services, &key);
	struct lb_dsr_hop *h;
	struct lb_backend *b;
	enum hop_rc rc;
	bool opt;
	__u32 id;

	if (!svc) {
		count(LB_C_PASS);
		return V_PASS;
	}
	if (svc->flags & LB_SVC_LOCAL)
		return local_to_service(p, l4, c, flags, svc, &f);
	if (!svc->nbackends || !(b = pick_backend(svc, &f, &id))) {
		count(LB_C_DROP_NO_BACKEND);
		return V_DROP;
	}
	if (backend_here(b))
		return local_deliver(p, l4, c, flags, &f, b);
	opt = f.proto == IPPROTO_UDP || (flags & LB_TCP_SYN);
	if (opt && p->ip->ihl != 5) {
		count(LB_C_DSR_DROP_IP_OPTIONS);
		return V_DROP;
	}
	h = bpf_map_lookup_elem(&lb_dsr_hops, &id);
	if (h && h->backend_ip != b->ip) {
		h->hop.ifindex = 0; /* looked up for another one */
		h->backend_ip = b->ip;
	}
	rc = hop_forward(p, h ? &h->hop : NULL, f.saddr, b->ip,
		      bpf_ntohs(p->ip->tot_len) + (opt ? DSR_OPT_LEN : 0),
		      bpf_ktime_get_coarse_ns());
	if (rc == HOP_TOO_BIG && opt) {
		count(LB_C_DSR_TOO_BIG);
		p->mtu -= DSR_OPT_LEN;
	}
	if (rc != HOP_OK)
		return hop_fail(p, rc);
	nat_dnat(p->ip, l4, c, b->ip, b->port);
	count(LB_C_DSR_FWD);
	if (!opt)
		return hop_emit(p);
	p->dsr_vip = f.daddr;
	p->dsr_vport = f.dport;
	return V_DSR_ROOM;
}

/* The entry has opened DSR_OPT_LEN bytes right after the 20-byte IP
 * header: writes the option there, fixes the header, sends it on. */
static __always_inline enum verdict dsr_add_option(struct pkt *p, void *data,
						   void *end)
{
	struct dsr_opt *o;
	struct iphdr *ip;
	__s64 sum;

	if (!pkt_reparse(p, data, end))
		return V_DROP;
	ip = p->ip;
	o = (void *)(ip + 1);
	if ((void *)(o + 1) > end)
		return V_DROP;
	o->type = DSR_OPT_TYPE;
	o->len = DSR_OPT_LEN;
	o->port = __builtin_bswap16(p->dsr_vport);
	o->addr = __builtin_bswap32(p->dsr_vip);
	ip->ihl = 5 + DSR_OPT_LEN / 4;
	ip->tot_len = bpf_htons(bpf_ntohs(ip->tot_len) + DSR_OPT_LEN);
	ip->check = 0;
	sum = bpf_csum_diff(NULL, 0, (void *)ip, sizeof(*ip) + DSR_OPT_LEN, 0);
	if (sum < 0)
		return V_DROP;
	ip->check = csum_end(csum_fold32((__u32)sum));
	count(LB_C_DSR_OPT);
	return hop_emit(p);
}

/* XDP: moves the Ethernet and IP headers (rewritten already) down into
 * the headroom, opening the option's room after the 20-byte IP header. */
static __always_inline enum verdict dsr_xdp(struct xdp_md *ctx, struct pkt *p)
{
	struct {
		struct ethhdr eth;
		struct iphdr ip;
	} __attribute__((packed)) h;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + sizeof(h) > end)
		return V_DROP;
	__builtin_memcpy(&h, data, sizeof(h));
	if (bpf_xdp_adjust_head(ctx, -DSR_OPT_LEN))
		return V_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(h) > end)
		return V_DROP;
	__builtin_memcpy(data, &h, sizeof(h));
	return dsr_add_option(p, data, end);
}

/* tc: the kernel opens the room after the IP header. */
static __always_inline enum verdict dsr_tc(struct __sk_buff *skb,
					   struct pkt *p)
{
	if (bpf_skb_adjust_room(skb, DSR_OPT_LEN, BPF_ADJ_ROOM_NET, 0))
		return V_DROP;
	return dsr_add_option(p, (void *)(long)skb->data,
			      (void *)(long)skb->data_end);
}

/* ---- worker node */

/* A TCP or UDP packet's flow key as it travels client -> pod, and its TCP
 * flags; false for anything else (and for fragments: later ones carry no
 * port). */
struct dsr_pkt {
	struct iphdr *ip;
	struct l4_ports *l4;
	__u8 flags;
};

static __always_inline bool dsr_parse(struct __sk_buff *skb,
				      struct dsr_pkt *d)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = parse_eth(data, end);
	void *l4;

	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return false;
	d->ip = parse_ipv4(eth + 1, end);
	if (!d->ip || ipv4_is_fragment(d->ip) ||
	    (d->ip->protocol != IPPROTO_TCP && d->ip->protocol != IPPROTO_UDP))
		return false;
	l4 = (void *)d->ip + d->ip->ihl * 4;
	d->l4 = parse_ports(l4, end);
	if (!d->l4)
		return false;
	d->flags = 0;
	if (d->ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = parse_tcp(l4, end);

		if (!tcp)
			return false;
		d->flags = tcp_flags(tcp);
	}
	return true;
}

/* The option of this packet, if it carries bmlb's (first, right after the
 * base header). */
static __always_inline struct dsr_opt *dsr_find(struct __sk_buff *skb,
						struct iphdr *ip)
{
	struct dsr_opt *o = (void *)(ip + 1);

	if (ip->ihl < 5 + DSR_OPT_LEN / 4 ||
	    (void *)(o + 1) > (void *)(long)skb->data_end)
		return NULL;
	return o->type == DSR_OPT_TYPE && o->len == DSR_OPT_LEN ? o : NULL;
}

static __always_inline bool dsr_from_lb_node(struct __sk_buff *skb)
{
	struct ethhdr *eth = (void *)(long)skb->data;
	struct lb_mac k = {};

	if ((void *)(eth + 1) > (void *)(long)skb->data_end)
		return false;
	__builtin_memcpy(k.addr, eth->h_source, 6);
	return bpf_map_lookup_elem(&lb_dsr_peers, &k) != NULL;
}

/* Records the flow the option announces (a retransmitted SYN or the next
 * datagram of a known flow only refreshes it). */
static __always_inline bool dsr_record(struct dsr_pkt *d,
				       const struct dsr_opt *o, __u64 now)
{
	struct lb_flow k = flow_of(d->ip, d->l4);

	return flow_record(&k, __builtin_bswap32(o->addr),
			   __builtin_bswap16(o->port), d->flags, now);
}

/* Removes the option: the header loses its 8 bytes (length, checksum
 * recomputed), then the kernel takes them out after the base header. */
static __always_inline bool dsr_strip(struct __sk_buff *skb, struct iphdr *ip)
{
	__s64 sum;

	ip->ihl -= DSR_OPT_LEN / 4;
	ip->tot_len = bpf_htons(bpf_ntohs(ip->tot_len) - DSR_OPT_LEN);
	ip->check = 0;
	sum = bpf_csum_diff(NULL, 0, (void *)ip, sizeof(*ip), 0);
	if (sum < 0)
		return false;
	ip->check = csum_end(csum_fold32((__u32)sum));
	return !bpf_skb_adjust_room(skb, -DSR_OPT_LEN, BPF_ADJ_ROOM_NET, 0);
}

/* tc ingress of a worker's cluster interface. */
static __always_inline int dsr_worker_in(struct __sk_buff *skb)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct dsr_pkt d;
	struct dsr_opt *o;

	if (!dsr_parse(skb, &d))
		return TC_ACT_OK;
	o = dsr_find(skb, d.ip);
	if (!o) {
		struct lb_flow k = flow_of(d.ip, d.l4);
		struct lb_dsr *v = bpf_map_lookup_elem(&lb_dsr, &k);

		if (v)
			flow_touch(&v->last_seen, &v->state, k.proto, d.flags,
				   false, now);
		return TC_ACT_OK;
	}
	if (!dsr_from_lb_node(skb)) {
		count(LB_C_DSR_DROP_FORGED);
		return TC_ACT_SHOT;
	}
	if (!dsr_record(&d, o, now)) {
		count(LB_C_DSR_DROP_FULL);
		return TC_ACT_SHOT;
	}
	if (!dsr_strip(skb, d.ip))
		return TC_ACT_SHOT;
	count(LB_C_DSR_IN);
	return TC_ACT_OK;
}

/* tc egress of a worker's cluster interface: a pod's reply of a recorded
 * flow leaves from VIP:port.  Through the kernel's checksum helpers: a
 * packet a pod sent may carry a partial checksum (offload). */
static __always_inline int dsr_worker_out(struct __sk_buff *skb)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct dsr_pkt d;
	struct lb_flow k;
	struct lb_dsr *v;
	__u32 l4off, csum_off, pod_ip, vip;
	__u16 pod_port, vport;
	__u64 udp0;

	if (!dsr_parse(skb, &d))
		return TC_ACT_OK;
	k = (struct lb_flow){
		.saddr = d.ip->daddr,
		.daddr = d.ip->saddr,
		.sport = d.l4->dest,
		.dport = d.l4->source,
		.proto = d.ip->protocol,
	};
	v = bpf_map_lookup_elem(&lb_dsr, &k);
	if (!v)
		return TC_ACT_OK;
	if (v->state == LB_CT_NEW)
		source_answered(k.saddr);
	flow_touch(&v->last_seen, &v->state, k.proto, d.flags, true, now);
	pod_ip = k.daddr;
	pod_port = k.dport;
	vip = v->vip;
	vport = v->vport;
	l4off = ETH_HLEN + d.ip->ihl * 4;
	csum_off = l4off + (k.proto == IPPROTO_TCP
				    ? __builtin_offsetof(struct tcphdr, check)
				    : __builtin_offsetof(struct udphdr, check));
	udp0 = k.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	if (bpf_l4_csum_replace(skb, csum_off, pod_ip, vip,
				udp0 | BPF_F_PSEUDO_HDR | sizeof(vip)) ||
	    bpf_l4_csum_replace(skb, csum_off, pod_port, vport,
				udp0 | sizeof(vport)) ||
	    bpf_l3_csum_replace(skb, ETH_HLEN + __builtin_offsetof(
						    struct iphdr, check),
				pod_ip, vip, sizeof(vip)) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + __builtin_offsetof(
						    struct iphdr, saddr),
				&vip, sizeof(vip), 0) ||
	    bpf_skb_store_bytes(skb, l4off, &vport, sizeof(vport), 0))
		return TC_ACT_SHOT;
	count(LB_C_DSR_OUT);
	return TC_ACT_OK;
}

#endif
