/* fuzz_previous: the reader of an earlier `bmlb plan --json` output. */
#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = {0};
	struct plan_previous *p =
		plan_previous_parse("fuzz.json", (const char *)data, size, &dl);

	if (p)
		plan_previous_find(p, "default", "web");
	plan_previous_free(p);
	diag_free(&dl);
	return 0;
}
