/* render: keepalived.conf and haproxy.cfg for one LB node (see render.h).
 *
 * Timings, and why:
 * - VRRP advert_int CPVIP_ADVERT_MS (250 ms) by default: a backup takes
 *   over 3 adverts plus a skew of (256 - priority)/256 of one after the
 *   last advert it heard, about 0.9 s, against about 3.6 s at keepalived's
 *   own default of 1 s.
 * - HAProxy's health is asked every second (keepalived's shortest script
 *   interval) and fails after two misses: a dead HAProxy loses the VIP in
 *   about 2 s, unless the agent has restarted it by then.
 * - API servers are checked every second (TLS, GET /readyz, 200 wanted),
 *   down after 2 failures, up after 2 successes.
 * - Client and server timeouts of one hour: watches stay open for minutes
 *   with little traffic; connecting gives up after 5 s.  After a reload the
 *   old workers serve their connections until they close, at most for
 *   hard-stop-after (1 h). */
#include "cpvip/render.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/xalloc.h"

uint8_t cpvip_vrid(const struct cfg_cluster *c)
{
	char key[512];
	int n = snprintf(key, sizeof(key), "%s/%s/%u", c->namespace_, c->name,
			 c->cp_vip);

	if (n < 0 || (size_t)n >= sizeof(key))
		n = (int)sizeof(key) - 1;
	return (uint8_t)(hash_bytes(key, (size_t)n, 0) % 255 + 1);
}

/* A word the files can hold unquoted (and keepalived's script line, in
 * double quotes): printable, no space, no quote, no '#', no '\\'. */
static bool plain(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~' || strchr("\"'#\\{}", *s))
			return false;
	return true;
}

static int refuse(char *err, size_t errlen, const char *what, const char *v)
{
	snprintf(err, errlen, "cannot render the control-plane VIP's daemon "
		 "configuration: %s '%s' holds a space, a quote or another "
		 "character their files cannot hold; use one without", what, v);
	return -EINVAL;
}

/* The Node name of a control-plane node, or its address when no Node
 * manifest has it (HAProxy's server name, in its logs and stats). */
static const char *server_name(const struct cpvip_input *in, uint32_t ip,
			       char *buf)
{
	const struct k8s_node *n = in->objects
					   ? k8s_node_by_ip(in->objects, ip)
					   : NULL;

	return n && plain(n->name) ? n->name : ipv4_format(ip, buf);
}

static FILE *text_open(char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);

	if (!f)
		xalloc_fail();
	return f;
}

static char *keepalived(const struct cpvip_input *in, uint8_t vrid)
{
	const struct cfg_cluster *c = in->cluster;
	const struct cfg_node *lbs;
	size_t nlbs = 0, len = 0, npeers = 0;
	char *buf = NULL, a[IPV4_STRLEN];
	FILE *f = text_open(&buf, &len);

	lbs = cfg_lb_nodes(c, &nlbs);
	fprintf(f, "# keepalived for the control-plane VIP of cluster %s/%s "
		"on %s.\n# Written by bmlb agent; edits are overwritten.\n",
		c->namespace_, c->name, in->node);
	fprintf(f, "global_defs {\n"
		"\trouter_id %s\n"
		"\tvrrp_version 3\n"
		"\tvrrp_check_unicast_src\n"
		"\tscript_user root\n"
		"\tenable_script_security\n"
		"}\n\n", in->node);
	fprintf(f, "vrrp_script haproxy {\n"
		"\tscript \"" CPVIP_CURL " -sf -o /dev/null --max-time 0.8 "
		"--unix-socket %s/" CPVIP_HEALTH_SOCK
		" http://localhost/healthz\"\n"
		"\tinterval 1\n"
		"\ttimeout 1\n"
		"\tfall 2\n"
		"\trise 2\n"
		"}\n\n", in->dir);
	fprintf(f, "vrrp_instance controlplane {\n"
		"\tstate BACKUP\n"
		"\tnopreempt\n"
		"\tinterface %s\n"
		"\tvirtual_router_id %u\n"
		"\tpriority 100\n"
		"\tadvert_int %u.%02u\n"
		"\tunicast_src_ip %s\n"
		"\tunicast_peer {\n",
		in->ifname, vrid, in->advert_ms / 1000,
		in->advert_ms % 1000 / 10, ipv4_format(in->node_ip, a));
	for (size_t i = 0; i < nlbs; i++) {
		uint32_t ip = cfg_node_cluster_ip(&lbs[i]);

		if (ip != in->node_ip) {
			fprintf(f, "\t\t%s\n", ipv4_format(ip, a));
			npeers++;
		}
	}
	/* Alone, it names itself: with no peer keepalived would fall back
	 * to multicast. */
	if (!npeers)
		fprintf(f, "\t\t%s\n", ipv4_format(in->node_ip, a));
	fprintf(f, "\t}\n"
		"\tvirtual_ipaddress {\n"
		"\t\t%s/%d dev %s\n"
		"\t}\n"
		"\ttrack_script {\n"
		"\t\thaproxy\n"
		"\t}\n"
		"}\n", ipv4_format(c->cp_vip, a), in->prefix, in->ifname);
	fclose(f);
	return buf;
}

static char *haproxy(const struct cpvip_input *in)
{
	const struct cfg_cluster *c = in->cluster;
	size_t len = 0;
	char *buf = NULL, a[IPV4_STRLEN], name[IPV4_STRLEN];
	FILE *f = text_open(&buf, &len);

	fprintf(f, "# HAProxy for the control-plane VIP of cluster %s/%s on "
		"%s.\n# Written by bmlb agent; edits are overwritten.\n",
		c->namespace_, c->name, in->node);
	fprintf(f, "global\n"
		"\tmaster-worker\n"
		"\tpidfile %s/" CPVIP_HAPROXY_PID "\n"
		"\tstats socket %s/" CPVIP_STATS_SOCK " mode 600 level admin "
		"expose-fd listeners\n"
		"\thard-stop-after 1h\n\n", in->dir, in->dir);
	fprintf(f, "defaults\n"
		"\tmode tcp\n"
		"\ttimeout connect 5s\n"
		"\ttimeout client 1h\n"
		"\ttimeout server 1h\n"
		"\ttimeout client-fin 10s\n"
		"\ttimeout server-fin 10s\n"
		"\ttimeout check 2s\n\n");
	fprintf(f, "frontend apiserver\n"
		"\tbind %s:%u transparent\n"
		"\tdefault_backend apiservers\n\n",
		ipv4_format(c->cp_vip, a), c->cp_lb_port);
	fprintf(f, "backend apiservers\n"
		"\tbalance leastconn\n"
		"\toption httpchk\n"
		"\thttp-check send meth GET uri /readyz\n"
		"\thttp-check expect status 200\n"
		"\tdefault-server check check-ssl verify none inter 1s fall 2 "
		"rise 2\n");
	for (size_t i = 0; i < c->ncp_nodes; i++) {
		uint32_t ip = cfg_node_cluster_ip(&c->cp_nodes[i]);

		fprintf(f, "\tserver %s %s:%u\n", server_name(in, ip, name),
			ipv4_format(ip, a), in->apiserver_port);
	}
	fprintf(f, "\n# keepalived asks here: 200 while an API server is up.\n"
		"frontend health\n"
		"\tmode http\n"
		"\tbind unix@%s/" CPVIP_HEALTH_SOCK " mode 600\n"
		"\tmonitor-uri /healthz\n"
		"\tmonitor fail if { nbsrv(apiservers) lt 1 }\n", in->dir);
	fclose(f);
	return buf;
}

int cpvip_render(const struct cpvip_input *in, struct cpvip_config *out,
		 char *err, size_t errlen)
{
	*out = (struct cpvip_config){0};
	if (!plain(in->dir) || in->dir[0] != '/')
		return refuse(err, errlen, "the state directory", in->dir);
	if (!plain(in->node))
		return refuse(err, errlen, "the node name", in->node);
	if (!plain(in->ifname))
		return refuse(err, errlen, "the interface name", in->ifname);
	out->vrid = cpvip_vrid(in->cluster);
	out->keepalived = keepalived(in, out->vrid);
	out->haproxy = haproxy(in);
	return 0;
}

void cpvip_config_free(struct cpvip_config *c)
{
	free(c->keepalived);
	free(c->haproxy);
	*c = (struct cpvip_config){0};
}
