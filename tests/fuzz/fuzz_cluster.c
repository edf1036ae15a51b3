/* fuzz_cluster: the cluster file parser and its rules on any input. */
#include <stddef.h>
#include <stdint.h>

#include "config/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = {0};
	struct cfg_cluster *c =
		cfg_parse("fuzz.yaml", (const char *)data, size, &dl);

	/* A file is accepted exactly when nothing was reported. */
	if (!c != !!dl.n)
		__builtin_trap();
	if (c && !cfg_check_change(c, c, &dl))
		__builtin_trap();
	cfg_free(c);
	diag_free(&dl);
	return 0;
}
