/* validate: the cluster file's rules that span several fields (SPEC.md §2).
 *
 * Private to src/config.  cluster.c decodes each field and checks what the
 * field alone can tell, noting in a cfg_decoder where each value was
 * written; cfg_validate() then runs the rules across fields while the YAML
 * document is still alive, so that every diagnostic points at the text.
 * A `*_at` of NULL means the value is absent, or invalid and reported.
 */
#ifndef BMLB_CONFIG_VALIDATE_H
#define BMLB_CONFIG_VALIDATE_H

#include "config/cluster.h"
#include "lib/yaml_decode.h"

/* One parsed range: spec.loadBalancer.addressPools[pool].addresses[idx]. */
struct cfg_range_ref {
	struct ipv4_range r;
	size_t pool, idx;
	const struct ynode *at;
};

/* One parsed IPv4 block of clusterNetwork: list[idx] (list is the field
 * path, spec.clusterNetwork.pods.cidrBlocks or services.cidrBlocks). */
struct cfg_cidr_ref {
	struct ipv4_range r;
	const char *list;
	size_t idx;
	const struct ynode *at;
};

struct cfg_decoder {
	struct ydec d;
	struct cfg_cluster *c;
	/* spec, spec.clusterNetwork, spec.loadBalancer */
	const struct ynode *spec, *network, *lb;
	const struct ynode *mode_at, *annotation_at, *flat_at;
	bool flat_bad;  /* flatIPv4 is not a boolean */
	bool pools_bad; /* some pool had a problem: it may lack addresses */
	enum cfg_forward_mode field_mode, annotation_mode;
	const struct ynode *cp_vip_at, *ingress_at;
	const struct ynode **pool_name_at; /* one per pool */
	/* One per node: where its cluster address is written. */
	const struct ynode **cp_addr_at, **lb_addr_at;
	struct cfg_range_ref *ranges;
	size_t nranges, cranges;
	struct cfg_cidr_ref *cidrs; /* pod and Service networks */
	size_t ncidrs, ccidrs;
};

void cfg_validate(struct cfg_decoder *dc);

#endif
