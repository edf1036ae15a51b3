/* output: the plan as the JSON object of SPEC.md §8 (its LoadBalancer
 * Services) and as a table for people (the NodePort Services too, whose
 * ports every node serves).  Both print services in the plan's
 * (namespace, name) order, so equal plans print byte-identical output.
 * The table escapes the names and reasons it prints (lib/escape.h); JSON
 * escapes them its own way. */
#include "plan/plan.h"

#include "lib/escape.h"
#include "lib/json_writer.h"

/* Prints "\nNAMESPACE/NAME\n", escaped. */
static void write_name_text(const struct plan_service *s, FILE *out)
{
	char ns[ESC_BUF], name[ESC_BUF];

	fprintf(out, "\n%s/%s\n", esc_text(s->svc->namespace_, ns, sizeof(ns)),
		esc_text(s->svc->name, name, sizeof(name)));
}

void plan_write_json(const struct plan *p, FILE *out)
{
	struct jw w;
	char buf[IPV4_STRLEN];

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "forwardMode");
	jw_str(&w, cfg_forward_mode_name(p->mode));
	jw_key(&w, "services");
	jw_arr_begin(&w);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_service *s = &p->services[i];

		jw_obj_begin(&w);
		jw_key(&w, "namespace");
		jw_str(&w, s->svc->namespace_);
		jw_key(&w, "name");
		jw_str(&w, s->svc->name);
		jw_key(&w, "vip");
		jw_str(&w, s->vip ? ipv4_format(s->vip, buf) : NULL);
		jw_key(&w, "pool");
		jw_str(&w, s->pool);
		jw_key(&w, "owner");
		jw_str(&w, s->owner);
		jw_key(&w, "reason");
		jw_str(&w, s->reason);
		jw_key(&w, "ports");
		jw_arr_begin(&w);
		for (size_t k = 0; k < s->nports; k++) {
			const struct plan_port *pp = &s->ports[k];

			jw_obj_begin(&w);
			jw_key(&w, "protocol");
			jw_str(&w, k8s_protocol_name(pp->spec->protocol));
			jw_key(&w, "port");
			jw_int(&w, pp->spec->port);
			jw_key(&w, "targetPort");
			if (pp->target_port)
				jw_int(&w, pp->target_port);
			else
				jw_null(&w);
			jw_key(&w, "nodePort");
			if (pp->spec->node_port)
				jw_int(&w, pp->spec->node_port);
			else
				jw_null(&w);
			jw_key(&w, "backends");
			jw_arr_begin(&w);
			for (size_t b = 0; b < pp->nbackends; b++)
				jw_str(&w, ipv4_format(pp->backends[b].ip, buf));
			jw_arr_end(&w);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	fputc('\n', out);
}

static void write_ports_text(const struct plan_service *s, FILE *out)
{
	char buf[IPV4_STRLEN], esc[ESC_BUF];

	for (size_t k = 0; k < s->nports; k++) {
		const struct plan_port *pp = &s->ports[k];

		fprintf(out, "  %s %u -> ", k8s_protocol_name(pp->spec->protocol),
			pp->spec->port);
		if (pp->target_port)
			fprintf(out, "%u", pp->target_port);
		else
			fprintf(out, "%s", pp->spec->target_port_name
						   ? esc_text(pp->spec->target_port_name,
							      esc, sizeof(esc))
						   : "?");
		if (pp->node_port)
			fprintf(out, " (nodePort %u)", pp->node_port);
		else if (pp->spec->node_port)
			fprintf(out, " (nodePort %u: an older Service's)",
				pp->spec->node_port);
		fprintf(out, ": ");
		if (!pp->nbackends)
			fprintf(out, "no ready backend");
		for (size_t b = 0; b < pp->nbackends; b++)
			fprintf(out, "%s%s", b ? ", " : "",
				ipv4_format(pp->backends[b].ip, buf));
		fputc('\n', out);
	}
}

void plan_write_text(const struct plan *p, FILE *out)
{
	char buf[IPV4_STRLEN], esc[ESC_BUF];

	fprintf(out, "forwardMode: %s\n", cfg_forward_mode_name(p->mode));
	fprintf(out, "%zu LoadBalancer service%s\n", p->n, p->n == 1 ? "" : "s");
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_service *s = &p->services[i];

		write_name_text(s, out);
		if (s->vip)
			fprintf(out, "  vip     %s (pool %s)\n",
				ipv4_format(s->vip, buf),
				esc_text(s->pool, esc, sizeof(esc)));
		fprintf(out, "  owner   %s\n",
			s->owner ? esc_text(s->owner, esc, sizeof(esc)) : "-");
		if (s->reason)
			fprintf(out, "  reason  %s\n",
				esc_text(s->reason, esc, sizeof(esc)));
		write_ports_text(s, out);
	}
	if (!p->n_node_port)
		return;
	fprintf(out, "\n%zu NodePort service%s (on every node's address)\n",
		p->n_node_port, p->n_node_port == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_node_port; i++) {
		const struct plan_service *s = &p->node_port_services[i];

		write_name_text(s, out);
		write_ports_text(s, out);
	}
}
