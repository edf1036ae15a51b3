/* fuzz_manifests: the manifests loader on any input, and the promises of
 * its result (sorted arrays, every object found by its lookup). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "k8s/objects.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct k8s_objects *o)
{
	for (size_t i = 0; i < o->nnodes; i++)
		if (k8s_node_by_name(o, o->nodes[i].name) != &o->nodes[i])
			__builtin_trap();
	for (size_t i = 0; i < o->nservices; i++) {
		const struct k8s_service *s = &o->services[i];

		if (k8s_service_find(o, s->namespace_, s->name) != s)
			__builtin_trap();
	}
	for (size_t i = 0; i < o->nslices; i++) {
		const struct k8s_slice *s = &o->slices[i], *of;
		size_t n;

		of = k8s_slices_of(o, s->namespace_, s->service_name, &n);
		if (s->service_name && (!of || s < of || s >= of + n))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = {0};
	struct k8s_objects *o =
		k8s_parse("fuzz.yaml", (const char *)data, size, &dl);

	if (!o)
		__builtin_trap();
	check(o);
	k8s_objects_free(o);
	diag_free(&dl);
	return 0;
}
