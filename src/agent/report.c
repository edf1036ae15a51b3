/* report: the status object (see report.h). */
#include "agent/report.h"

#include <stdlib.h>
#include <string.h>

#include "agent/log.h"
#include "agent/peers.h"
#include "lib/json_writer.h"
#include "lib/xalloc.h"

const char *const report_counter_names[LB_C_MAX] = {
	[LB_C_PACKETS] = "packets",
	[LB_C_PASS] = "pass",
	[LB_C_FWD_NEW] = "fwd_new",
	[LB_C_FWD_ESTABLISHED] = "fwd_established",
	[LB_C_REPLY] = "reply",
	[LB_C_ICMP_FWD] = "icmp_fwd",
	[LB_C_ICMP_REPLY] = "icmp_reply",
	[LB_C_TX] = "tx",
	[LB_C_REDIRECT] = "redirect",
	[LB_C_TO_TC] = "to_tc",
	[LB_C_DROP_NO_BACKEND] = "drop_no_backend",
	[LB_C_DROP_CT_FULL] = "drop_ct_full",
	[LB_C_DROP_NO_PORT] = "drop_no_port",
	[LB_C_DROP_FRAGMENT] = "drop_fragment",
	[LB_C_DROP_TRUNCATED] = "drop_truncated",
	[LB_C_PASS_NOT_SYN] = "pass_not_syn",
	[LB_C_PASS_VLAN] = "pass_vlan",
	[LB_C_FIB_MISS] = "fib_miss",
	[LB_C_ARP_REPLY] = "arp_reply",
	[LB_C_ARP_CONFLICT] = "arp_conflict",
	[LB_C_DSR_FWD] = "dsr_fwd",
	[LB_C_DSR_OPT] = "dsr_opt",
	[LB_C_DSR_TOO_BIG] = "dsr_too_big",
	[LB_C_DSR_DROP_IP_OPTIONS] = "dsr_drop_ip_options",
	[LB_C_DSR_IN] = "dsr_in",
	[LB_C_DSR_DROP_FORGED] = "dsr_drop_forged",
	[LB_C_DSR_DROP_FULL] = "dsr_drop_full",
	[LB_C_DSR_OUT] = "dsr_out",
	[LB_C_LOCAL] = "local",
	[LB_C_LOCAL_DROP_FULL] = "local_drop_full",
	[LB_C_SNAT_REUSE] = "snat_reuse",
	[LB_C_RESOLVE] = "resolve",
	[LB_C_DROP_NO_ROUTE] = "drop_no_route",
	[LB_C_TOO_BIG] = "too_big",
	[LB_C_TTL_EXCEEDED] = "ttl_exceeded",
	[LB_C_DROP_NO_BINDING] = "drop_no_binding",
	[LB_C_EVICT_UNREPLIED] = "evict_unreplied",
	[LB_C_DROP_SOURCE_LIMIT] = "drop_source_limit",
};

static void key_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	jw_str(w, v);
}

static void key_time(struct jw *w, const char *key, time_t t)
{
	char buf[LOG_STAMP_LEN];

	key_str(w, key, log_stamp(t, buf));
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The VIPs the plan gives this node, sorted, each once (services sharing
 * a VIP have the same owner). */
static void write_owned(struct jw *w, const struct report *r)
{
	uint32_t *vips = xcalloc(r->plan->n ? r->plan->n : 1, sizeof(*vips));
	char buf[IPV4_STRLEN];
	size_t n = 0;

	for (size_t i = 0; i < r->plan->n; i++) {
		const struct plan_service *s = &r->plan->services[i];

		if (s->vip && s->owner && !strcmp(s->owner, r->node))
			vips[n++] = s->vip;
	}
	if (n)
		qsort(vips, n, sizeof(*vips), u32_cmp);
	jw_key(w, "vipsOwned");
	jw_arr_begin(w);
	for (size_t i = 0; i < n; i++)
		if (!i || vips[i] != vips[i - 1])
			jw_str(w, ipv4_format(vips[i], buf));
	jw_arr_end(w);
	free(vips);
}

static void write_programmed(struct jw *w, const struct rec_set *set)
{
	char buf[IPV4_STRLEN + 8];

	jw_key(w, "programmed");
	jw_arr_begin(w);
	for (size_t i = 0; set && i < set->n; i++) {
		const struct dp_service *s = &set->svcs[i];
		const struct rec_meta *m = &set->meta[i];

		jw_obj_begin(w);
		key_str(w, "namespace", m->namespace_);
		key_str(w, "name", m->name);
		key_str(w, "vip", ipv4_format(s->vip, buf));
		jw_key(w, "port");
		jw_int(w, s->port);
		key_str(w, "protocol", rec_proto_name(s->proto));
		key_str(w, "owner", m->owner);
		key_str(w, "reason", m->reason);
		jw_key(w, "local");
		jw_bool(w, m->local);
		jw_key(w, "backends");
		jw_arr_begin(w);
		for (size_t b = 0; b < s->nbackends; b++) {
			size_t n;

			ipv4_format(s->backends[b].ip, buf);
			n = strlen(buf);
			snprintf(buf + n, sizeof(buf) - n, ":%u",
				 s->backends[b].port);
			jw_str(w, buf);
		}
		jw_arr_end(w);
		jw_key(w, "leftOut");
		jw_int(w, (long long)m->left_out);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void write_hops(struct jw *w, const struct report *r)
{
	char buf[IPV4_STRLEN];

	jw_key(w, "nextHops");
	if (!r->hops) {
		jw_null(w);
		jw_key(w, "backendsLeftOut");
		jw_null(w);
		jw_key(w, "backendsLeftOutTotal");
		jw_null(w);
		return;
	}
	jw_arr_begin(w);
	for (size_t i = 0; i < r->hops->nhops; i++) {
		const struct nh_hop *h = &r->hops->hops[i];

		jw_obj_begin(w);
		key_str(w, "address", ipv4_format(h->ip, buf));
		key_str(w, "neighbour", nh_state_name(h->state));
		jw_key(w, "managed");
		jw_bool(w, h->ours);
		jw_key(w, "unreachable");
		jw_bool(w, h->down);
		jw_key(w, "backends");
		jw_int(w, (long long)h->nbackends);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "backendsLeftOut");
	jw_int(w, (long long)r->left_out);
	jw_key(w, "backendsLeftOutTotal");
	jw_int(w, (long long)r->left_out_total);
}

static void write_unallocated(struct jw *w, const struct plan *p)
{
	jw_key(w, "unallocated");
	jw_arr_begin(w);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_service *s = &p->services[i];

		if (s->vip)
			continue;
		jw_obj_begin(w);
		key_str(w, "namespace", s->svc->namespace_);
		key_str(w, "name", s->svc->name);
		key_str(w, "reason", s->reason);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void write_children(struct jw *w, const struct report *r)
{
	jw_key(w, "children");
	jw_arr_begin(w);
	for (size_t i = 0; i < r->nchildren; i++) {
		const struct sup_info *c = &r->children[i];

		jw_obj_begin(w);
		key_str(w, "name", c->name);
		jw_key(w, "pid");
		jw_int(w, c->pid);
		jw_key(w, "restarts");
		jw_int(w, c->restarts);
		key_str(w, "lastExit", c->last_exit);
		jw_key(w, "adopted");
		jw_bool(w, c->adopted);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void report_write_json(const struct report *r, FILE *out)
{
	char buf[IPV4_STRLEN];
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	key_str(&w, "node", r->node);
	key_str(&w, "role", r->role);
	key_str(&w, "interface", r->ifname);
	key_str(&w, "address", ipv4_format(r->node_ip, buf));
	key_str(&w, "tunnelInterface", r->tunnel_ifname);
	key_str(&w, "mode", r->mode);
	key_str(&w, "hook", r->hook);
	jw_key(&w, "dataplane");
	jw_bool(&w, r->programmed || r->counters); /* a DSR worker: counters */
	jw_key(&w, "pid");
	jw_int(&w, r->pid);
	key_time(&w, "startedAt", r->started);
	jw_key(&w, "lastReload");
	if (r->reload_at) {
		jw_obj_begin(&w);
		key_time(&w, "at", r->reload_at);
		key_str(&w, "trigger", r->reload_trigger);
		jw_key(&w, "ok");
		jw_bool(&w, !r->reload_error);
		key_str(&w, "error", r->reload_error);
		jw_obj_end(&w);
	} else {
		jw_null(&w);
	}
	key_str(&w, "syncError", r->sync_error);
	write_owned(&w, r);
	if (r->ann) {
		ann_report(r->ann, &w);
		peers_report(r->peers, &w, r->now_ms);
	} else {
		jw_key(&w, "vips");
		jw_null(&w);
		jw_key(&w, "peers");
		jw_null(&w);
	}
	write_programmed(&w, r->programmed);
	write_unallocated(&w, r->plan);
	jw_key(&w, "counters");
	if (r->counters) {
		jw_obj_begin(&w);
		for (int c = 0; c < LB_C_MAX; c++) {
			jw_key(&w, report_counter_names[c]);
			jw_int(&w, (long long)r->counters[c]);
		}
		jw_obj_end(&w);
	} else {
		jw_null(&w);
	}
	jw_key(&w, "flows");
	if (r->flows >= 0)
		jw_int(&w, r->flows);
	else
		jw_null(&w);
	write_hops(&w, r);
	write_children(&w, r);
	jw_obj_end(&w);
	fputc('\n', out);
}
