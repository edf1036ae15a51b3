/* decode: what the per-kind decoders (node.c, service.c, endpointslice.c)
 * share with the loader (objects.c).  Internal to src/k8s.
 *
 * A decoder reads one object into a zeroed struct, reporting every problem
 * through the ydec; the loader keeps the object only when decoding added no
 * diagnostic.  Strings and arrays are allocated from the objects' arena, so
 * a left-out object costs no cleanup.
 *
 * YAML aliases cannot make decoding blow up: lib/yaml_tree refuses a
 * document that they expand far beyond its size.
 */
#ifndef BMLB_K8S_DECODE_H
#define BMLB_K8S_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "k8s/objects.h"
#include "lib/arena.h"
#include "lib/yaml_decode.h"

struct k8s_ctx {
	struct arena *arena; /* the objects' */
};

/* Each returns false for an object to skip silently (an EndpointSlice of
 * IPv6 or FQDN addresses); out is the kind's struct. */
bool k8s_decode_node(struct ydec *d, struct k8s_ctx *c,
		     const struct ynode *obj, void *out);
bool k8s_decode_service(struct ydec *d, struct k8s_ctx *c,
			const struct ynode *obj, void *out);
bool k8s_decode_slice(struct ydec *d, struct k8s_ctx *c,
		      const struct ynode *obj, void *out);

char *k8s_strdup(struct k8s_ctx *c, const char *s);

/* Reads metadata.name (required) and, when ns is not NULL,
 * metadata.namespace ("default" when absent or empty).  Returns the
 * metadata mapping, or NULL when there is none. */
const struct ynode *k8s_decode_meta(struct ydec *d, struct k8s_ctx *c,
				    const struct ynode *obj, char **name,
				    char **ns);

/* protocol of a port entry: TCP (also when absent) or UDP. */
void k8s_decode_protocol(struct ydec *d, const struct ynode *map,
			 enum k8s_protocol *out);

/* A port number 1..65535 at key of map; *out stays 0 when absent. */
void k8s_decode_port(struct ydec *d, const struct ynode *map, const char *key,
		     uint16_t *out);

/* An IP address, value node v (reported at v, path + key):
 * 1 with *out set for IPv4; 0 for an IPv6 address when v6_ok (dual-stack
 * objects carry both families; bmlb uses the IPv4 one); -1 after reporting
 * anything else. */
int k8s_decode_ip(struct ydec *d, const struct ynode *v, const char *key,
		  bool v6_ok, uint32_t *out);

/* The text is an IPv6 address (len bytes, not NUL-terminated). */
bool k8s_is_ipv6(const char *s, size_t len);

#endif
