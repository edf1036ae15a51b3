/* share: when two Services may hold the same VIP (SPEC.md §3 "Sharing"):
 * the same non-empty sharing key, no (protocol, port) pair in common, and
 * traffic policies that agree (both Cluster, or both Local with the same
 * endpoints, since a Local VIP must be announced where its endpoints are).
 */
#include "ipam/alloc.h"

#include <string.h>

static bool has_key(const struct k8s_service *s)
{
	return s->share_key && *s->share_key;
}

static bool port_in_common(const struct k8s_service *a,
			   const struct k8s_service *b)
{
	for (size_t i = 0; i < a->nports; i++)
		for (size_t j = 0; j < b->nports; j++)
			if (a->ports[i].protocol == b->ports[j].protocol &&
			    a->ports[i].port == b->ports[j].port)
				return true;
	return false;
}

bool ipam_can_share(const struct ipam_svc *a, const struct ipam_svc *b,
		    const char **why)
{
	const struct k8s_service *x = a->svc, *y = b->svc;
	const char *w = NULL;

	if (!has_key(x) || !has_key(y))
		w = "one of them has no sharing key (" K8S_ANN_SHARE ")";
	else if (strcmp(x->share_key, y->share_key) != 0)
		w = "their sharing keys differ";
	else if (x->local != y->local)
		w = "one is externalTrafficPolicy Cluster, the other Local";
	else if (x->local && a->endpoints_id != b->endpoints_id)
		w = "both are externalTrafficPolicy Local but their endpoints "
		    "differ";
	else if (port_in_common(x, y))
		w = "they use a (protocol, port) pair in common";
	if (why)
		*why = w;
	return !w;
}
