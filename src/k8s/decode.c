/* decode: field readers shared by the Node, Service and EndpointSlice
 * decoders (metadata, protocol, port, IP address); see decode.h. */
#include "k8s/decode.h"

#include <arpa/inet.h>
#include <string.h>

#include "lib/ipv4.h"

char *k8s_strdup(struct k8s_ctx *c, const char *s)
{
	return arena_strndup(c->arena, s, strlen(s));
}

const struct ynode *k8s_decode_meta(struct ydec *d, struct k8s_ctx *c,
				    const struct ynode *obj, char **name,
				    char **ns)
{
	const struct ynode *meta = NULL;
	const char *s = NULL;
	size_t mark;
	int r = ydec_map(d, obj, "metadata", &meta);

	if (r <= 0) {
		if (r == 0)
			ydec_error(d, obj, "metadata.name", "missing; every "
				   "object needs a name");
		return NULL;
	}
	mark = ydec_enter(d, "metadata");
	r = ydec_str(d, meta, "name", &s);
	if (r == 0 || (r == 1 && !*s))
		ydec_error(d, r ? ynode_get(meta, "name") : meta, "name",
			   "missing; every object needs a name");
	else if (r == 1)
		*name = k8s_strdup(c, s);
	if (ns) {
		s = "";
		ydec_str(d, meta, "namespace", &s);
		*ns = k8s_strdup(c, *s ? s : "default");
	}
	ydec_leave(d, mark);
	return meta;
}

void k8s_decode_protocol(struct ydec *d, const struct ynode *map,
			 enum k8s_protocol *out)
{
	const char *s;

	*out = K8S_TCP;
	if (ydec_str(d, map, "protocol", &s) != 1 || !strcmp(s, "TCP"))
		return;
	if (!strcmp(s, "UDP"))
		*out = K8S_UDP;
	else
		ydec_error(d, ydec_get(map, "protocol"), "protocol",
			   "'%s' is not supported; write TCP or UDP", s);
}

void k8s_decode_port(struct ydec *d, const struct ynode *map, const char *key,
		     uint16_t *out)
{
	long v;

	if (ydec_int(d, map, key, 1, 65535, &v) == 1)
		*out = (uint16_t)v;
}

bool k8s_is_ipv6(const char *s, size_t len)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char addr[16];

	if (len >= sizeof(buf) || !memchr(s, ':', len))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, addr) == 1;
}

int k8s_decode_ip(struct ydec *d, const struct ynode *v, const char *key,
		  bool v6_ok, uint32_t *out)
{
	if (v->kind == YNODE_SCALAR && ipv4_parse_n(v->str, v->len, out) == 0)
		return 1;
	if (v->kind == YNODE_SCALAR && k8s_is_ipv6(v->str, v->len)) {
		if (v6_ok)
			return 0;
		ydec_error(d, v, key, "'%s' is an IPv6 address; bmlb serves "
			   "IPv4 only: write an IPv4 address such as "
			   "198.51.100.7", v->str);
		return -1;
	}
	if (v->kind != YNODE_SCALAR)
		ydec_error(d, v, key, "expected an IPv4 address, found %s; "
			   "write one such as 198.51.100.7",
			   ynode_kind_name(v));
	else
		ydec_error(d, v, key, "'%s' is not an IPv4 address; write "
			   "four decimal numbers 0-255 such as 198.51.100.7",
			   v->str);
	return -1;
}
