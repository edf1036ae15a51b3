/* agent: start-up, reload and the event handlers of `bmlb agent` (see
 * agent.h).
 *
 * The agent's state is one `struct inputs` (cluster file, manifests, the
 * plan they give) that has passed every check, and the service ports it
 * programs.  A reload builds a complete new set beside it and swaps it in
 * only when everything is valid, so an invalid edit never half-applies. */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "agent/announce.h"
#include "agent/daemons.h"
#include "agent/dsr.h"
#include "agent/key.h"
#include "agent/log.h"
#include "agent/loop.h"
#include "agent/peers.h"
#include "agent/preflight.h"
#include "agent/reconcile.h"
#include "agent/report.h"
#include "agent/state.h"
#include "agent/status.h"
#include "dataplane/dp.h"
#include "dataplane/neigh.h"
#include "lib/xalloc.h"

/* What changed since the last reload (bits of agent.pending). */
enum { PENDING_CLUSTER = 1, PENDING_MANIFESTS = 2 };

#define RELOAD_ERROR_MAX 4096 /* bytes of diagnostics kept for status */

struct inputs {
	char *text; /* the cluster file, as parsed */
	size_t len;
	struct cfg_cluster *cluster;
	struct k8s_objects *objects;
	char **problems; /* the manifests' problems (rec_problems) */
	size_t nproblems;
	struct plan *plan;
};

struct agent {
	const struct agent_opts *opt;
	struct loop *loop;
	struct state st;
	struct status_srv *status;
	struct dp *dp;     /* every node's (NodePorts); NULL until opened */
	struct neigh *neigh; /* the backends' next hops; with dp */
	struct daemons *daemons; /* the control-plane VIP; NULL on a worker */
	struct key key;    /* authenticates peer messages (membership) */
	struct peers *peers;    /* NULL on a worker node */
	struct announcer *ann;  /* NULL on a worker node */
	struct table leader;    /* the leader's allocation table, as last
				 * received (empty: none yet) */
	int sig_fd, ino_fd, debounce_fd, tick_fd;
	int wd_cfg, wd_man; /* inotify watches; -1 while missing */
	char *cfg_dir, *cfg_base;

	/* This node, fixed for the agent's life. */
	const char *node;
	uint32_t node_ip;
	struct pf_iface ifc;
	bool lb;

	struct inputs cur;         /* the last good state */
	struct rec_set wanted;     /* what cur.plan asks of the data plane */
	struct rec_set programmed; /* wanted without the backends left out */
	uint32_t *left_out;        /* backends whose next hop is unreachable */
	size_t nleft_out;          /* (sorted) */
	uint64_t left_out_total;   /* times a backend was left out */
	char *saved_cluster, *saved_plan; /* state files as last written */
	size_t saved_cluster_len, saved_plan_len;

	unsigned pending; /* PENDING_* seen, not yet reloaded */
	uint64_t pending_since_ms;
	time_t started, reload_at;
	const char *reload_trigger;
	char *reload_error; /* NULL: the last reload was applied */
	char *sync_error;   /* NULL: the data plane holds the plan */
	char *neigh_error;  /* NULL: every next hop's entry is in place */
	long flows;         /* cached for status; see status_render */
	uint64_t flows_at_ms;
	long dsr_peers;     /* a DSR worker: LB nodes believed (-1: not yet) */
	bool stop;
	bool restart; /* SIGUSR2: leave the VIPs announced for the next agent */
	/* The last reload failed on this node's state (its interface), not on
	 * the inputs: tried again on each tick and when the peers change. */
	bool retry_reload;
};

static void inputs_free(struct inputs *in)
{
	plan_free(in->plan);
	k8s_objects_free(in->objects);
	rec_problems_free(in->problems, in->nproblems);
	cfg_free(in->cluster);
	free(in->text);
	*in = (struct inputs){0};
}

/* The diagnostics as sorted lines, one string (malloc'd). */
static char *diag_text(struct diag_list *dl)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		xalloc_fail();
	diag_print(dl, f);
	fclose(f);
	return buf;
}

/* Logs every diagnostic, one line each; returns them as one string. */
static char *log_diags(struct diag_list *dl)
{
	char *text = diag_text(dl), *save = NULL;
	char *copy = xstrdup(text);

	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		log_msg("%s", l);
	free(copy);
	return text;
}

/* Reads the cluster file and the manifests into in.  Returns false when
 * they cannot be used (problems in dl); problems in single manifests
 * leave those objects out and are in dl too. */
static bool read_inputs(const struct agent_opts *o, struct inputs *in,
			struct diag_list *dl)
{
	int ret = state_read_file(o->config, CFG_MAX_BYTES, &in->text,
				  &in->len);
	size_t before;

	if (ret) {
		diag_add(dl, o->config, 0, 0, "", "cannot read the cluster "
			 "file: %s; give a readable file of at most %u bytes",
			 ret == -EFBIG ? "too large" : strerror(-ret),
			 CFG_MAX_BYTES);
		return false;
	}
	in->cluster = cfg_parse(o->config, in->text, in->len, dl);
	if (!in->cluster)
		return false;
	before = dl->n;
	in->objects = k8s_load_dir(o->manifests, dl);
	in->nproblems = rec_problems(dl, before, &in->problems);
	return in->objects != NULL;
}

static bool is_lb_node(const struct inputs *in, const char *node)
{
	const char **names;
	size_t n = plan_lb_node_names(in->cluster, in->objects, &names);
	bool lb = false;

	for (size_t i = 0; i < n && !lb; i++)
		lb = !strcmp(names[i], node);
	free(names);
	return lb;
}

/* The previous plan's addresses, from the state directory (NULL on a
 * first start, or when the file is unusable: logged). */
static struct plan_previous *load_previous(const struct agent *a)
{
	char *path = state_path(a->st.dir, STATE_PLAN);
	struct diag_list dl = {0};
	struct plan_previous *p = NULL;

	if (!access(path, F_OK)) {
		p = plan_previous_load(path, &dl);
		if (!p) {
			free(log_diags(&dl));
			log_msg("%s is unusable: planning without the "
				"previous addresses", path);
		}
	}
	diag_free(&dl);
	free(path);
	return p;
}

/* The LB nodes (names and InternalIPs) of in, for the peers. */
static size_t lb_nodes(const struct inputs *in, const char ***names,
		       uint32_t **ips)
{
	size_t n = plan_lb_node_names(in->cluster, in->objects, names);

	*ips = xreallocarray(NULL, n + 1, sizeof(**ips));
	for (size_t i = 0; i < n; i++)
		(*ips)[i] = k8s_node_by_name(in->objects, (*names)[i])
				    ->internal_ip;
	return n;
}

/* A table's entries as previous addresses (both sorted the same way). */
static struct plan_previous *table_previous(const struct table *t)
{
	struct plan_previous *p = xcalloc(1, sizeof(*p));

	p->held = xreallocarray(NULL, t->n + 1, sizeof(*p->held));
	for (size_t i = 0; i < t->n; i++)
		p->held[i] = (struct plan_held){
			.namespace_ = xstrdup(t->v[i].namespace_),
			.name = xstrdup(t->v[i].name),
			.vip = t->v[i].vip,
		};
	p->n = t->n;
	return p;
}

/* The allocation table of plan p. */
static void plan_table(const struct plan *p, struct table *t)
{
	*t = (struct table){0};
	t->v = xreallocarray(NULL, p->n + 1, sizeof(*t->v));
	for (size_t i = 0; i < p->n; i++)
		if (p->services[i].vip)
			t->v[t->n++] = (struct table_entry){
				.namespace_ = xstrdup(
					p->services[i].svc->namespace_),
				.name = xstrdup(p->services[i].svc->name),
				.vip = p->services[i].vip,
			};
	table_seal(t);
}

/* Plans in's inputs.  On an LB node the owners come from the ready LB
 * nodes, and a node that is not the leader follows the leader's table (or,
 * until it has one, keeps its own addresses) and allocates nothing new
 * (SPEC.md §4: one allocation on every node). */
static void plan_inputs(struct agent *a, struct inputs *in,
			struct diag_list *dl)
{
	const char **alive = NULL, *leader = NULL;
	struct plan_previous *prev;
	size_t nalive = 0;
	bool follow = false;
	char wait[128];

	if (a->peers) {
		nalive = peers_alive(a->peers, &alive);
		leader = peers_leader(a->peers);
		follow = leader && strcmp(leader, a->node);
		/* Owners must point into the inputs, which the plan lives
		 * with, not into the peers' table, which changes. */
		for (size_t i = 0; i < nalive; i++) {
			const struct k8s_node *n =
				k8s_node_by_name(in->objects, alive[i]);

			if (n)
				alive[i] = n->name;
		}
	}
	if (follow && a->leader.digest)
		prev = table_previous(&a->leader);
	else
		prev = a->cur.plan ? rec_previous(a->cur.plan)
				   : load_previous(a);
	snprintf(wait, sizeof(wait), "waiting for the leader (%s) to "
		 "allocate an address", leader ? leader : "");
	in->plan = plan_compute(&(struct plan_input){
					.cluster = in->cluster,
					.objects = in->objects,
					.alive = a->peers ? alive : NULL,
					.nalive = nalive,
					.previous = prev,
					.follow_reason = follow ? wait : NULL,
				},
				dl);
	plan_previous_free(prev);
}

/* Writes the state files that changed: the accepted cluster file and the
 * plan.  A failure is logged; the next change tries again. */
static void persist(struct agent *a)
{
	char err[512], *json = NULL;
	size_t len = 0;
	FILE *f;

	if (a->saved_cluster_len != a->cur.len || !a->saved_cluster ||
	    memcmp(a->saved_cluster, a->cur.text, a->cur.len)) {
		if (state_write(&a->st, STATE_CLUSTER, a->cur.text, a->cur.len,
				err, sizeof(err))) {
			log_msg("%s", err);
		} else {
			free(a->saved_cluster);
			a->saved_cluster = xmalloc(a->cur.len + 1);
			memcpy(a->saved_cluster, a->cur.text, a->cur.len + 1);
			a->saved_cluster_len = a->cur.len;
		}
	}
	f = open_memstream(&json, &len);
	if (!f)
		xalloc_fail();
	plan_write_json(a->cur.plan, f);
	fclose(f);
	if (a->saved_plan && a->saved_plan_len == len &&
	    !memcmp(a->saved_plan, json, len)) {
		free(json);
		return;
	}
	if (state_write(&a->st, STATE_PLAN, json, len, err, sizeof(err))) {
		log_msg("%s", err);
		free(json);
		return;
	}
	free(a->saved_plan);
	a->saved_plan = json;
	a->saved_plan_len = len;
}

struct changes {
	size_t added, changed, removed;
};

static void log_change(const struct rec_event *ev, void *arg)
{
	struct changes *n = arg;
	const struct dp_service *s = ev->svc;
	size_t out = ev->meta->left_out;
	char vip[IPV4_STRLEN], what[160], left[128] = "";

	snprintf(what, sizeof(what), "service %s/%s %s:%u/%s",
		 ev->meta->namespace_, ev->meta->name, ipv4_format(s->vip, vip),
		 s->port, rec_proto_name(s->proto));
	if (out && s->nbackends)
		snprintf(left, sizeof(left), "; %zu left out, their next hop "
			 "unreachable", out);
	else if (out)
		snprintf(left, sizeof(left), "; none left: the next hops of "
			 "all %zu are unreachable", out);
	switch (ev->change) {
	case REC_ADDED:
		n->added++;
		log_msg("%s: programmed, %zu backend%s%s%s", what,
			s->nbackends, s->nbackends == 1 ? "" : "s",
			s->local ? " on this node (externalTrafficPolicy Local)"
				 : "", left);
		break;
	case REC_CHANGED:
		n->changed++;
		log_msg("%s: changed, %zu backend%s (was %zu)%s", what,
			s->nbackends, s->nbackends == 1 ? "" : "s",
			ev->was_nbackends, left);
		break;
	case REC_REMOVED:
		n->removed++;
		log_msg("%s: removed", what);
		break;
	}
}

/* Keeps err (NULL: success) in *kept, logging it when it is new, and
 * recovered when a success follows a failure. */
static void keep_error(char **kept, const char *err, const char *recovered)
{
	if (err && (!*kept || strcmp(*kept, err)))
		log_msg("%s; retrying every %d s", err, AGENT_TICK_MS / 1000);
	if (!err && *kept)
		log_msg("%s after an earlier failure", recovered);
	free(*kept);
	*kept = err ? xstrdup(err) : NULL;
}

/* Programs the data plane with the current set.  On failure the error is
 * kept for status and the tick retries. */
static void sync_dp(struct agent *a)
{
	char err[512];
	int ret = dp_sync(a->dp, a->programmed.svcs, a->programmed.n, err,
			  sizeof(err));

	keep_error(&a->sync_error, ret ? err : NULL, "data plane programmed");
}

/* Logs backend b left out or back in, with its next hop. */
static void log_hop(const struct agent *a, uint32_t b, bool out)
{
	const struct nh_hop *h = nh_hop_of(neigh_table(a->neigh), b);
	char ip[IPV4_STRLEN], hop[IPV4_STRLEN];

	ipv4_format(b, ip);
	if (!h)
		log_msg("backend %s: no next hop on %s to watch any more; "
			"back in", ip, a->ifc.name);
	else if (out)
		log_msg("backend %s: next hop %s on %s unreachable (neighbour "
			"%s); left out", ip, ipv4_format(h->ip, hop),
			a->ifc.name, nh_state_name(h->state));
	else
		log_msg("backend %s: next hop %s on %s reachable (neighbour "
			"%s); back in", ip, ipv4_format(h->ip, hop),
			a->ifc.name, nh_state_name(h->state));
}

/* The backends whose next hop is down now, against those left out so
 * far: each change logged (a backend the plan dropped meanwhile
 * silently) and counted.  Returns true when they changed. */
static bool update_left_out(struct agent *a)
{
	const struct nh_table *t = neigh_table(a->neigh);
	uint32_t *down;
	size_t n = nh_down_backends(t, &down), i = 0, j = 0;
	bool changed = false;

	while (i < a->nleft_out || j < n) {
		if (j == n || (i < a->nleft_out && a->left_out[i] < down[j])) {
			if (nh_route_of(t, a->left_out[i]))
				log_hop(a, a->left_out[i], false);
			i++;
		} else if (i == a->nleft_out || down[j] < a->left_out[i]) {
			log_hop(a, down[j++], true);
			a->left_out_total++;
		} else {
			i++, j++;
			continue;
		}
		changed = true;
	}
	free(a->left_out);
	a->left_out = down;
	a->nleft_out = n;
	return changed;
}

/* Finds the wanted backends' next hops and keeps their managed entries.
 * Returns true when the backends left out changed. */
static bool sync_hops(struct agent *a)
{
	uint32_t *ips;
	size_t n;
	char err[512];
	int ret;

	if (!a->neigh)
		return false;
	n = rec_backend_ips(&a->wanted, &ips);
	ret = neigh_sync(a->neigh, ips, n, err, sizeof(err));
	free(ips);
	keep_error(&a->neigh_error, ret ? err : NULL,
		   "next hops' neighbour entries in place");
	return update_left_out(a);
}

/* Makes the wanted set without the backends left out what is programmed,
 * logging the difference. */
static struct changes narrow(struct agent *a)
{
	struct changes n = {0};
	struct rec_set next;

	rec_without(&a->wanted, a->left_out, a->nleft_out, &next);
	if (a->dp)
		rec_diff(&a->programmed, &next, log_change, &n);
	rec_free(&a->programmed);
	a->programmed = next;
	return n;
}

/* Tells the data plane which VIPs to answer ARP for, and the peers which
 * allocation table this node holds. */
static void announce(struct agent *a, const char *why, bool again)
{
	const char *leader;
	struct table t;
	uint32_t *mine;
	size_t n;
	char err[512];

	if (!a->ann)
		return;
	/* A resumed node keeps what the data plane announces until it knows
	 * who else is alive. */
	if (peers_settled(a->peers) || !peers_ready(a->peers)) {
		n = ann_update(a->ann, a->cur.plan, peers_ready(a->peers), why,
			       again, loop_now_ms(), &mine);
		if (dp_announce(a->dp, mine, n, err, sizeof(err)))
			log_msg("%s", err);
		free(mine);
	}
	leader = peers_leader(a->peers);
	if (leader && strcmp(leader, a->node) && a->leader.digest) {
		peers_set_table(a->peers, &a->leader);
		return;
	}
	plan_table(a->cur.plan, &t);
	peers_set_table(a->peers, &t);
	table_free(&t);
}

/* Makes set (built from the plan about to become current) what is
 * wanted, and it without the backends left out what is programmed,
 * logging the difference. */
static struct changes reprogram(struct agent *a, struct rec_set *set)
{
	rec_free(&a->wanted);
	a->wanted = *set;
	sync_hops(a);
	return narrow(a);
}

/* The current plan to the data plane, the state directory and the
 * segment. */
static void publish(struct agent *a, const char *why, bool again)
{
	if (a->dp)
		sync_dp(a);
	if (a->daemons)
		daemons_apply(a->daemons, a->cur.cluster, a->cur.objects);
	persist(a);
	announce(a, why, again);
}

/* Makes next (complete and checked) the current state: logs and programs
 * the difference, persists, and frees the old state. */
static struct changes apply(struct agent *a, struct inputs *next,
			    const char *why)
{
	struct rec_set set;
	struct changes n;

	rec_build(next->plan, a->node, a->node_ip, a->lb, &set);
	n = reprogram(a, &set);
	inputs_free(&a->cur);
	a->cur = *next;
	*next = (struct inputs){0};
	publish(a, why, false);
	return n;
}

/* Plans the current inputs again: the alive LB nodes, the leader or its
 * table changed. */
static void replan(struct agent *a, const char *why)
{
	struct inputs next = {.cluster = a->cur.cluster,
			      .objects = a->cur.objects};
	struct diag_list dl = {0};
	struct rec_set set;
	struct changes n;

	plan_inputs(a, &next, &dl);
	diag_free(&dl); /* reported when these inputs were loaded */
	rec_build(next.plan, a->node, a->node_ip, a->lb, &set);
	n = reprogram(a, &set);
	plan_free(a->cur.plan);
	a->cur.plan = next.plan;
	publish(a, why, true);
	if (n.added || n.changed || n.removed)
		log_msg("replanned (%s): %zu added, %zu changed, %zu removed",
			why, n.added, n.changed, n.removed);
}

/* Checks that this node is still what the agent started as: its Node,
 * InternalIP and role (those need a restart), and re-runs the preflight
 * against the current interface. */
static bool check_node(struct agent *a, const struct inputs *in,
		       struct diag_list *dl)
{
	const struct k8s_node *node = k8s_node_by_name(in->objects, a->node);
	char was[IPV4_STRLEN], now[IPV4_STRLEN];
	struct pf_iface ifc;
	bool lb;

	if (!node || node->internal_ip != a->node_ip) {
		diag_add(dl, a->opt->manifests, 0, 0, "",
			 "Node %s %s; restart the agent to apply that (it "
			 "keeps serving as %s meanwhile)", a->node,
			 !node ? "is gone from the manifests"
			 : !node->internal_ip ? "has no InternalIP any more"
			 : "has a new InternalIP",
			 ipv4_format(a->node_ip, was));
		return false;
	}
	lb = is_lb_node(in, a->node);
	if (lb != a->lb) {
		diag_add(dl, in->cluster->file, 0, 0, "",
			 "Node %s (%s) is now %s; restart the agent to apply "
			 "that", a->node, ipv4_format(a->node_ip, now),
			 lb ? "an LB node" : "no longer an LB node");
		return false;
	}
	return pf_check(in->cluster, node,
			pf_find_iface(a->node_ip, &ifc) ? NULL : &ifc, a->lb,
			dl);
}

static const char *pending_name(unsigned p)
{
	return p == (PENDING_CLUSTER | PENDING_MANIFESTS)
		       ? "cluster file and manifests"
	       : p == PENDING_CLUSTER ? "cluster file"
				      : "manifests";
}

/* Reloads the inputs; applies them only when the cluster file is valid
 * and allowed, this node unchanged, the preflight passed and the manifests
 * bring no new problem (SIGHUP accepts those, leaving their objects out,
 * as a start does). */
static void reload(struct agent *a, const char *trigger)
{
	struct inputs next = {0};
	struct diag_list dl = {0};
	struct changes n;
	size_t fresh = 0;

	a->reload_at = time(NULL);
	a->reload_trigger = trigger;
	free(a->reload_error);
	a->reload_error = NULL;
	a->retry_reload = false;
	if (!read_inputs(a->opt, &next, &dl) ||
	    !cfg_check_change(a->cur.cluster, next.cluster, &dl) ||
	    (a->retry_reload = !check_node(a, &next, &dl)) ||
	    ((fresh = rec_new_problems(a->cur.problems, a->cur.nproblems,
				       next.problems, next.nproblems)) &&
	     strcmp(trigger, "SIGHUP"))) {
		if (fresh)
			log_msg("reload (%s) refused, keeping the last good "
				"state: %zu new problem%s in the manifests "
				"(fix them, or send SIGHUP to apply the rest "
				"without the objects in error)", trigger,
				fresh, fresh == 1 ? "" : "s");
		else
			log_msg("reload (%s) refused, keeping the last good "
				"state: %zu problem%s", trigger, dl.n,
				dl.n == 1 ? "" : "s");
		a->reload_error = log_diags(&dl);
		if (strlen(a->reload_error) > RELOAD_ERROR_MAX)
			strcpy(a->reload_error + RELOAD_ERROR_MAX - 4, "...");
		goto out;
	}
	plan_inputs(a, &next, &dl);
	free(log_diags(&dl));
	n = apply(a, &next, trigger);
	if (a->peers) {
		const char **names;
		uint32_t *ips;
		size_t k = lb_nodes(&a->cur, &names, &ips);

		peers_set_nodes(a->peers, names, ips, k);
		free(names);
		free(ips);
	}
	log_msg("reload (%s) applied: %zu service port%s; %zu added, %zu "
		"changed, %zu removed", trigger, a->programmed.n,
		a->programmed.n == 1 ? "" : "s", n.added, n.changed,
		n.removed);
out:
	inputs_free(&next);
	diag_free(&dl);
}

/* ---- event handlers */

static void on_signal(void *arg, uint32_t events)
{
	struct agent *a = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(a->sig_fd, &si, sizeof(si)) == sizeof(si) && !a->stop) {
		if (si.ssi_signo == SIGHUP) {
			log_msg("SIGHUP: reloading");
			reload(a, "SIGHUP");
			continue;
		}
		if (si.ssi_signo == SIGCHLD) {
			daemons_reap(a->daemons);
			continue;
		}
		if (si.ssi_signo == SIGUSR2) {
			log_msg("SIGUSR2: exiting for a restart; the VIPs "
				"stay announced here for %d s, for the next "
				"agent to resume", PEER_RESTART_GRACE_MS / 1000);
			a->restart = true;
		} else {
			log_msg("%s: exiting", si.ssi_signo == SIGINT
						       ? "SIGINT"
						       : "SIGTERM");
		}
		a->stop = true;
	}
}

/* Is name, changed in a watched directory, one the agent reads?  "..data"
 * is the symlink Kubernetes swaps when a mounted ConfigMap changes. */
static unsigned relevant(const struct agent *a, const struct inotify_event *e)
{
	size_t n = e->len ? strlen(e->name) : 0;
	bool data = e->len && !strcmp(e->name, "..data");
	unsigned p = 0;

	if (e->mask & IN_Q_OVERFLOW)
		return PENDING_CLUSTER | PENDING_MANIFESTS;
	if (e->wd == a->wd_cfg &&
	    (!e->len || data || !strcmp(e->name, a->cfg_base)))
		p |= PENDING_CLUSTER;
	if (e->wd == a->wd_man &&
	    (!e->len || data ||
	     (e->name[0] != '.' &&
	      ((n > 5 && !strcmp(e->name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(e->name + n - 4, ".yml"))))))
		p |= PENDING_MANIFESTS;
	return p;
}

#define WATCH_MASK                                                        \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |       \
	 IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* Adds the watches that are missing; returns the PENDING_* bits of those
 * added again after their directory had gone. */
static unsigned watch(struct agent *a, bool again)
{
	unsigned p = 0;

	if (a->wd_cfg < 0 &&
	    (a->wd_cfg = inotify_add_watch(a->ino_fd, a->cfg_dir,
					   WATCH_MASK)) >= 0)
		p |= PENDING_CLUSTER;
	if (a->wd_man < 0 &&
	    (a->wd_man = inotify_add_watch(a->ino_fd, a->opt->manifests,
					   WATCH_MASK)) >= 0)
		p |= PENDING_MANIFESTS;
	if (again && p)
		log_msg("watching the %s again", pending_name(p));
	return p;
}

/* A watched directory was deleted or moved away: its path may lead to
 * another directory now, which watch() watches when it can. */
static void forget(struct agent *a, int wd)
{
	if (wd == a->wd_cfg) {
		inotify_rm_watch(a->ino_fd, wd);
		a->wd_cfg = -1;
	}
	if (wd == a->wd_man) {
		inotify_rm_watch(a->ino_fd, wd);
		a->wd_man = -1;
	}
}

static void on_inotify(void *arg, uint32_t events)
{
	struct agent *a = arg;
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	unsigned p = 0;
	uint64_t now, delay;

	(void)events;
	for (int i = 0; i < 16; i++) { /* bounded; epoll reports the rest */
		ssize_t len = read(a->ino_fd, buf, sizeof(buf));

		if (len <= 0)
			break;
		for (char *q = buf; q < buf + len;) {
			const struct inotify_event *e = (const void *)q;

			p |= relevant(a, e);
			if (e->mask & (IN_IGNORED | IN_MOVE_SELF))
				forget(a, e->wd);
			q += sizeof(*e) + e->len;
		}
	}
	p |= watch(a, true);
	if (!p)
		return;
	now = loop_now_ms();
	if (!a->pending)
		a->pending_since_ms = now;
	a->pending |= p;
	/* Wait for AGENT_DEBOUNCE_MS of quiet, at most until
	 * AGENT_DEBOUNCE_MAX_MS after the first change. */
	delay = a->pending_since_ms + AGENT_DEBOUNCE_MAX_MS > now
			? a->pending_since_ms + AGENT_DEBOUNCE_MAX_MS - now
			: 1;
	if (delay > AGENT_DEBOUNCE_MS)
		delay = AGENT_DEBOUNCE_MS;
	loop_timer_arm(a->debounce_fd, delay, 0);
}

static void on_debounce(void *arg, uint32_t events)
{
	struct agent *a = arg;
	unsigned p = a->pending;

	(void)events;
	loop_timer_read(a->debounce_fd);
	a->pending = 0;
	if (p)
		reload(a, pending_name(p));
}

/* A DSR worker: the LB nodes whose option its data plane believes (their
 * set is logged when it changes). */
static void refresh_peers(struct agent *a)
{
	const char **names;
	uint32_t *ips;
	size_t k;
	long known;

	if (a->lb || a->cur.cluster->forward_mode != CFG_FORWARD_DSR)
		return;
	k = lb_nodes(&a->cur, &names, &ips);
	known = dsr_peers_refresh(a->dp, a->ifc.name, ips, k);
	free(names);
	free(ips);
	if (known == a->dsr_peers)
		return;
	if (known < 0)
		log_msg("DSR: couldn't update the LB nodes whose option is "
			"believed: %s", strerror((int)-known));
	else
		log_msg("DSR: the option is believed from %ld of %zu LB "
			"node%s (those whose MAC is known on %s)", known, k,
			k == 1 ? "" : "s", a->ifc.name);
	a->dsr_peers = known;
}

static void on_tick(void *arg, uint32_t events)
{
	struct agent *a = arg;
	struct timespec ts;
	unsigned p;

	(void)events;
	loop_timer_read(a->tick_fd);
	status_tick(a->status);
	if (a->dp) {
		long freed;
		bool moved;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		freed = dp_gc(a->dp, (uint64_t)ts.tv_sec * 1000000000ull +
					     (uint64_t)ts.tv_nsec);
		if (freed > 0)
			log_msg("gc: %ld expired flow%s freed", freed,
				freed == 1 ? "" : "s");
		/* routes change, entries may be deleted by hand */
		moved = sync_hops(a);
		if (moved)
			narrow(a);
		if (moved || a->sync_error)
			sync_dp(a);
		if (!a->lb)
			refresh_peers(a);
	}
	p = watch(a, true);
	if (p || a->retry_reload)
		reload(a, p ? pending_name(p) : "retry");
}

/* Neighbour events: a next hop gone or back moves its backends out of
 * the data plane or back in. */
static void on_neigh(void *arg, uint32_t events)
{
	struct agent *a = arg;

	(void)events;
	if (neigh_events(a->neigh) && update_left_out(a)) {
		narrow(a);
		sync_dp(a);
	}
}

/* Counting flows reads the whole flow table (a batch of flows per system
 * call): status counts at most once a second. */
static long flows(struct agent *a)
{
	uint64_t now = loop_now_ms();

	if (!a->flows_at_ms || now - a->flows_at_ms >= 1000) {
		a->flows = dp_flows(a->dp);
		a->flows_at_ms = now;
	}
	return a->flows;
}

static void status_render(void *arg, FILE *out)
{
	struct agent *a = arg;
	enum cfg_forward_mode mode = a->cur.cluster->forward_mode;
	uint64_t counters[LB_C_MAX];
	bool have = a->dp && !dp_counters(a->dp, counters);
	struct sup_info children[SUP_MAX];
	size_t nchildren = daemons_info(a->daemons, children, SUP_MAX);

	report_write_json(
		&(struct report){
			.node = a->node,
			.role = a->lb ? "lb" : "worker",
			.ifname = a->ifc.name,
			.tunnel_ifname = a->dp ? a->opt->tunnel_if : NULL,
			.mode = cfg_forward_mode_name(mode),
			.hook = !a->dp ? NULL : a->opt->use_tc ? "tc" : "xdp",
			.node_ip = a->node_ip,
			.pid = (long)getpid(),
			.started = a->started,
			.reload_at = a->reload_at,
			.reload_trigger = a->reload_trigger,
			.reload_error = a->reload_error,
			.sync_error = a->sync_error,
			.plan = a->cur.plan,
			.programmed = a->dp ? &a->programmed : NULL,
			.counters = have ? counters : NULL,
			.flows = a->dp ? flows(a) : -1,
			.hops = a->neigh ? neigh_table(a->neigh) : NULL,
			.left_out = a->nleft_out,
			.left_out_total = a->left_out_total,
			.children = children,
			.nchildren = nchildren,
			.ann = a->ann,
			.peers = a->peers,
			.now_ms = loop_now_ms(),
		},
		out);
}

/* ---- start-up */

/* Prints a start-up failure ("bmlb agent: ...") and returns -1. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("bmlb agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int fail_diags(struct diag_list *dl, const char *what)
{
	diag_print(dl, stderr);
	return fail("%zu problem%s %s; the agent did not start", dl->n,
		    dl->n == 1 ? "" : "s", what);
}

/* The node's entry in the manifests, or NULL (reported). */
static const struct k8s_node *find_node(const struct agent_opts *o,
					const struct k8s_objects *objs)
{
	const struct k8s_node *n = k8s_node_by_name(objs, o->node);
	char names[512] = "";

	if (n && n->internal_ip)
		return n;
	if (n) {
		fail("Node %s has no InternalIP in status.addresses; the agent "
		     "serves the interface holding it", o->node);
		return NULL;
	}
	for (size_t i = 0; i < objs->nnodes; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names),
			 "%s%s", i ? ", " : "", objs->nodes[i].name);
	fail("no Node named '%s' in the manifests of %s; --node takes a "
	     "Node's metadata.name (Nodes: %s)", o->node, o->manifests,
	     objs->nnodes ? names : "none");
	return NULL;
}

/* Checks this cluster file against the one the state directory recorded
 * (SPEC.md §2: the forwarding mode and pools are fixed at creation).
 * Nothing is recorded yet on a first start. */
static int check_created(struct agent *a, const struct cfg_cluster *now)
{
	char *path = state_path(a->st.dir, STATE_CLUSTER), *text = NULL;
	struct diag_list dl = {0};
	struct cfg_cluster *was = NULL;
	size_t len = 0;
	int ret = state_read_file(path, CFG_MAX_BYTES, &text, &len);

	if (ret == -ENOENT) {
		ret = 0;
		goto out;
	}
	if (ret) {
		ret = fail("cannot read %s: %s", path, strerror(-ret));
		goto out;
	}
	was = cfg_parse(path, text, len, &dl);
	if (!was) {
		diag_print(&dl, stderr);
		ret = fail("%s, the cluster file this node's agent accepted "
			   "last, is not valid any more; it records the "
			   "forwarding mode and pools the cluster was created "
			   "with: fix it, or remove it to accept the current "
			   "file as is", path);
		goto out;
	}
	if (!cfg_check_change(was, now, &dl)) {
		diag_print(&dl, stderr);
		ret = fail("%zu change%s refused against %s (what the cluster "
			   "was created with); nothing was changed",
			   dl.n, dl.n == 1 ? "" : "s", path);
		goto out;
	}
	a->saved_cluster = text;
	a->saved_cluster_len = len;
	text = NULL;
out:
	cfg_free(was);
	free(text);
	free(path);
	diag_free(&dl);
	return ret;
}

/* SNAT ports must not collide with the node's own connections. */
static int check_snat_ports(const struct agent_opts *o)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned lo, hi;
	int n = f ? fscanf(f, "%u %u", &lo, &hi) : 0;

	if (f)
		fclose(f);
	if (n != 2 || o->snat_max < lo || o->snat_min > hi)
		return 0;
	return fail("--snat-ports %u-%u overlaps the node's ephemeral ports "
		    "%u-%u (net.ipv4.ip_local_port_range); choose ports "
		    "outside it, or narrow that range", o->snat_min,
		    o->snat_max, lo, hi);
}

/* The BPF directory must be on a bpffs (its nearest existing ancestor,
 * since the data plane creates it). */
static int check_bpffs(const char *dir)
{
	char *p = xstrdup(dir);
	struct statfs sf;
	int ret = 0;

	while (statfs(p, &sf) < 0) {
		char *slash = strrchr(p, '/');

		if (errno != ENOENT || !slash || slash == p) {
			ret = fail("cannot use --bpf-dir %s: %s", dir,
				   strerror(errno));
			goto out;
		}
		*slash = '\0';
	}
	if (sf.f_type != BPF_FS_MAGIC)
		ret = fail("--bpf-dir %s is not on a bpffs, so the data plane "
			   "could not outlive the agent; mount one (mount -t "
			   "bpf bpf DIR) and give a directory in it", dir);
out:
	free(p);
	return ret;
}

/* libbpf's warnings, as agent log lines. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	char buf[512];
	size_t n;

	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_msg("%s", buf); /* libbpf starts its lines with "libbpf: " */
	return 0;
}

/* Turns on IPv4 forwarding on ifname if it is off, and says so. */
static int enable_forwarding(const char *ifname)
{
	int ret = pf_enable_forwarding(ifname);

	if (ret < 0)
		return fail("couldn't read or set net.ipv4.conf.%s.forwarding: "
			    "%s", ifname, strerror(-ret));
	if (ret)
		log_msg("set net.ipv4.conf.%s.forwarding=1: the data plane "
			"forwards packets that arrive on %s", ifname, ifname);
	return 0;
}

static int open_dp(struct agent *a, bool dsr, const struct k8s_node *node)
{
	const struct agent_opts *o = a->opt;
	struct dp_config c;
	char err[512];

	if (check_snat_ports(o) || check_bpffs(o->bpf_dir) ||
	    enable_forwarding(a->ifc.name) ||
	    (o->tunnel_if && enable_forwarding(o->tunnel_if)))
		return -1;
	dp_config_defaults(&c);
	c.ifname = a->ifc.name;
	c.tunnel_ifname = o->tunnel_if;
	c.dsr = dsr;
	c.worker = dsr && !a->lb;
	c.node_ip = a->node_ip;
	if (node->npod_cidrs) {
		c.pod_net = node->pod_cidrs[0];
		c.pod_prefix = node->pod_cidr_lens[0];
	}
	c.snat_min = o->snat_min;
	c.snat_max = o->snat_max;
	if (key_derive(&a->key, "bmlb flow hash", &c.hash_seed))
		return fail("couldn't derive the flow hash's seed from the key");
	c.pin_dir = o->bpf_dir;
	c.use_tc = o->use_tc;
	libbpf_set_print(libbpf_log);
	if (dp_open(&c, &a->dp, err, sizeof(err)) ||
	    neigh_open(a->ifc.name, &a->neigh, err, sizeof(err)))
		return fail("%s", err);
	if (loop_add(a->loop, neigh_fd(a->neigh), EPOLLIN, on_neigh, a))
		return fail("couldn't watch the neighbours of '%s'",
			    a->ifc.name);
	return 0;
}

static int open_daemons(struct agent *a)
{
	char err[512];

	a->daemons = daemons_open(a->loop, &(struct daemons_opts){
					  .st = &a->st,
					  .node = a->node,
					  .ifname = a->ifc.name,
					  .node_ip = a->node_ip,
					  .prefix = a->ifc.prefix,
					  .advert_ms = a->opt->vrrp_advert_ms,
				  },
				  err, sizeof(err));
	return a->daemons ? 0 : fail("%s", err);
}

static int setup_loop(struct agent *a)
{
	char *copy = xstrdup(a->opt->config);
	sigset_t set;

	a->cfg_dir = xstrdup(dirname(copy));
	free(copy);
	copy = xstrdup(a->opt->config);
	a->cfg_base = xstrdup(basename(copy));
	free(copy);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD); /* the daemons', see daemons_reap */
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (a->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (a->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
	    (a->debounce_fd = loop_timer_new()) < 0 ||
	    (a->tick_fd = loop_timer_new()) < 0 ||
	    !(a->loop = loop_new()))
		return fail("couldn't set up the event loop: %s",
			    strerror(errno));
	watch(a, false);
	if (a->wd_cfg < 0 || a->wd_man < 0)
		return fail("couldn't watch %s: %s",
			    a->wd_cfg < 0 ? a->cfg_dir : a->opt->manifests,
			    strerror(errno));
	if (loop_add(a->loop, a->sig_fd, EPOLLIN, on_signal, a) ||
	    loop_add(a->loop, a->ino_fd, EPOLLIN, on_inotify, a) ||
	    loop_add(a->loop, a->debounce_fd, EPOLLIN, on_debounce, a) ||
	    loop_add(a->loop, a->tick_fd, EPOLLIN, on_tick, a) ||
	    loop_timer_arm(a->tick_fd, AGENT_TICK_MS, AGENT_TICK_MS))
		return fail("couldn't set up the event loop");
	return 0;
}

/* ---- peers */

static void on_peers_changed(void *arg, const char *why)
{
	struct agent *a = arg;

	if (a->retry_reload)
		reload(a, "retry"); /* plans with the new peers too */
	else
		replan(a, why);
}

static void on_leader_table(void *arg, const struct table *t,
			    const char *from)
{
	struct agent *a = arg;
	char why[128];

	table_copy(&a->leader, t);
	log_msg("allocation table from the leader %s: %zu address%s",
		from, t->n, t->n == 1 ? "" : "es");
	snprintf(why, sizeof(why), "allocation table from %s", from);
	replan(a, why);
}

/* Each interval: the data plane may answer ARP for one timeout more (so
 * it falls silent when this agent dies, by the time the peers notice),
 * gratuitous ARPs due go out, conflicts are logged. */
static void on_peers_tick(void *arg, uint64_t now_ms)
{
	struct agent *a = arg;
	struct dp_conflict c[16];

	if (peers_ready(a->peers))
		dp_lease(a->dp, (now_ms + a->opt->peer_timeout_ms) * 1000000ull);
	ann_tick(a->ann, now_ms);
	ann_conflicts(a->ann, c, dp_conflicts(a->dp, c, 16));
}

static int open_peers(struct agent *a, const struct inputs *in)
{
	const struct agent_opts *o = a->opt;
	const char **names;
	uint32_t *ips, mono[1];
	uint8_t mac[6];
	int ifindex, ret;
	char err[512];
	size_t n = lb_nodes(in, &names, &ips);

	bool resume = dp_lease_until(a->dp) > loop_now_ms() * 1000000ull;

	dp_iface(a->dp, &ifindex, mac);
	if (resume) {
		log_msg("resuming the announcement a restarting agent left");
	} else {
		/* Silent until joined: what an agent left is not ours. */
		dp_lease(a->dp, 0);
		dp_announce(a->dp, mono, 0, err, sizeof(err));
	}
	ret = ann_open(&a->ann, a->node, ifindex, mac, err, sizeof(err));
	if (!ret)
		ret = peers_open(a->loop,
				 &(struct peers_config){
					 .self = a->node,
					 .self_ip = a->node_ip,
					 .port = o->peer_port,
					 .interval_ms = o->peer_interval_ms,
					 .timeout_ms = o->peer_timeout_ms,
					 .key = a->key.buf,
					 .keylen = a->key.len,
					 .names = names,
					 .ips = ips,
					 .n = n,
					 .resume = resume,
				 },
				 &(struct peers_cb){
					 .changed = on_peers_changed,
					 .table = on_leader_table,
					 .tick = on_peers_tick,
					 .arg = a,
				 },
				 &a->peers, err, sizeof(err));
	free(names);
	free(ips);
	return ret ? fail("%s", err) : 0;
}

static int start(struct agent *a)
{
	const struct agent_opts *o = a->opt;
	const struct k8s_node *node;
	struct inputs in = {0};
	struct diag_list dl = {0};
	char err[512], *path;
	bool dsr;
	int ret;

	path = o->key_file ? xstrdup(o->key_file)
			   : state_path(o->state_dir, STATE_KEY);
	ret = key_load(path, &a->key, err, sizeof(err));
	free(path);
	if (ret)
		return fail("%s%s", err, o->key_file ? "" : " (looked there "
			    "because --key-file was not given)");
	ret = -1;
	if (!read_inputs(o, &in, &dl)) {
		fail_diags(&dl, "found");
		goto out;
	}
	if (!(node = find_node(o, in.objects)))
		goto out;
	a->node_ip = node->internal_ip;
	a->lb = is_lb_node(&in, a->node);
	ret = pf_find_iface(a->node_ip, &a->ifc);
	if (ret && ret != -ENOENT) {
		ret = fail("couldn't list the interfaces: %s", strerror(-ret));
		goto out;
	}
	if (!pf_check(in.cluster, node, ret ? NULL : &a->ifc, a->lb, &dl)) {
		ret = fail_diags(&dl, "in the preflight");
		goto out;
	}
	if ((ret = state_open(&a->st, o->state_dir, err, sizeof(err)))) {
		ret = fail("%s", err);
		goto out;
	}
	if ((ret = check_created(a, in.cluster)))
		goto out;
	dsr = in.cluster->forward_mode == CFG_FORWARD_DSR;
	if (a->key.others_can_read)
		log_msg("warning: the key file can be read by other users; "
			"chmod 600 it");
	if ((ret = setup_loop(a)))
		goto out;
	/* Listening now, answering once the loop runs: a client that
	 * connects during the start gets the state it ends with. */
	path = state_path(a->st.dir, STATE_SOCKET);
	ret = status_open(a->loop, path, status_render, a, &a->status, err,
			  sizeof(err));
	free(path);
	if (ret) {
		ret = fail("%s", err);
		goto out;
	}
	if ((ret = open_dp(a, dsr, node)))
		goto out;
	if (a->lb && (ret = open_daemons(a)))
		goto out;

	if (a->lb && (ret = open_peers(a, &in)))
		goto out;
	plan_inputs(a, &in, &dl);
	a->started = time(NULL);
	log_msg("started: node %s, interface %s (%s/%d), role %s, mode %s, "
		"%s%s", a->node, a->ifc.name, ipv4_format(a->node_ip, err),
		a->ifc.prefix, a->lb ? "lb" : "worker",
		cfg_forward_mode_name(in.cluster->forward_mode),
		o->use_tc ? "hook tc" : "hook xdp",
		a->dp && dp_adopted(a->dp) ? ", took over the pinned data plane"
					   : "");
	free(log_diags(&dl));
	apply(a, &in, "start");
	if (a->dp && !a->lb)
		refresh_peers(a);
	log_msg("%zu service port%s %s%s", a->programmed.n,
		a->programmed.n == 1 ? "" : "s",
		a->dp ? "programmed" : "planned",
		a->lb ? "; announcing VIPs once joined with the other LB nodes"
		      : "");
out:
	inputs_free(&in);
	diag_free(&dl);
	return ret;
}

/* A clean stop: the peers hear BYE and take this node's VIPs at once; the
 * data plane stops answering ARP for them.  For a restart (SIGUSR2) the
 * data plane keeps announcing through the grace, and the peers wait for
 * the next agent. */
static void leave(struct agent *a)
{
	uint32_t none[1];
	char err[512];

	if (a->restart) {
		peers_close(a->peers, PEERS_RESTART);
		a->peers = NULL;
		dp_lease(a->dp, loop_now_ms() * 1000000ull +
				       PEER_RESTART_GRACE_MS * 1000000ull);
		log_msg("told the other LB nodes this node restarts");
		return;
	}
	peers_close(a->peers, PEERS_BYE);
	a->peers = NULL;
	dp_lease(a->dp, 0);
	dp_announce(a->dp, none, 0, err, sizeof(err));
	log_msg("told the other LB nodes this node stops; its VIPs are "
		"theirs now");
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void agent_free(struct agent *a)
{
	status_close(a->status);
	/* stops them (the VIP moves away), or leaves them to the next
	 * agent when this one restarts */
	daemons_close(a->daemons, a->restart);
	peers_close(a->peers, PEERS_SILENT);
	ann_close(a->ann);
	table_free(&a->leader);
	dp_close(a->dp); /* stays attached, maps stay pinned */
	neigh_close(a->neigh); /* the managed entries stay, for the next */
	if (a->loop)
		loop_free(a->loop);
	close_fd(a->sig_fd);
	close_fd(a->ino_fd);
	close_fd(a->debounce_fd);
	close_fd(a->tick_fd);
	state_close(&a->st);
	rec_free(&a->programmed);
	rec_free(&a->wanted);
	free(a->left_out);
	inputs_free(&a->cur);
	key_free(&a->key);
	free(a->saved_cluster);
	free(a->saved_plan);
	free(a->reload_error);
	free(a->sync_error);
	free(a->neigh_error);
	free(a->cfg_dir);
	free(a->cfg_base);
}

int agent_run(const struct agent_opts *o)
{
	struct agent a = {
		.opt = o,
		.node = o->node,
		.sig_fd = -1, .ino_fd = -1, .debounce_fd = -1, .tick_fd = -1,
		.wd_cfg = -1, .wd_man = -1, .dsr_peers = -1,
		.st = {.dir_fd = -1, .lock_fd = -1},
	};
	int ret;

	log_set_node(o->node);
	ret = start(&a);
	if (!ret) {
		ret = loop_run(a.loop, &a.stop);
		if (ret)
			log_msg("event loop failed: %s", strerror(-ret));
		if (a.peers)
			leave(&a);
		if (a.dp)
			log_msg("exiting; the data plane stays attached to %s "
				"and its maps pinned in %s, for the next agent "
				"to take over", a.ifc.name, o->bpf_dir);
		else
			log_msg("exiting");
	}
	agent_free(&a);
	return ret ? -1 : 0;
}
