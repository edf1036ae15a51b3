/* plan_fixture.h: a cluster file and manifests parsed (without a problem)
 * and planned, for the unit tests of the plan and of what the agent does
 * with it. */
#ifndef BMLB_TESTS_PLAN_FIXTURE_H
#define BMLB_TESTS_PLAN_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "config/cluster.h"
#include "k8s/objects.h"
#include "plan/plan.h"

/* A Node manifest with this name and InternalIP. */
#define NODE(name, ip)                                                    \
	"---\napiVersion: v1\nkind: Node\nmetadata: {name: " name "}\n"   \
	"status: {addresses: [{type: InternalIP, address: " ip "}]}\n"

struct fixture {
	struct diag_list dl; /* the plan's own diagnostics */
	struct cfg_cluster *c;
	struct k8s_objects *o;
	struct plan *p;
};

/* Plans cluster and objects with these LB nodes alive (NULL: all) and
 * this previous plan (or NULL). */
static inline struct fixture *
plan_fixture(const char *cluster, const char *objects,
	     const char *const *alive, size_t nalive,
	     const struct plan_previous *prev)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->c = cfg_parse("c.yaml", cluster, strlen(cluster), &f->dl);
	f->o = k8s_parse("o.yaml", objects, strlen(objects), &f->dl);
	if (!f->c || !f->o || f->dl.n)
		diag_dump(&f->dl);
	assert_non_null(f->c);
	assert_non_null(f->o);
	assert_int_equal(f->dl.n, 0);
	f->p = plan_compute(&(struct plan_input){.cluster = f->c,
						 .objects = f->o,
						 .alive = alive,
						 .nalive = nalive,
						 .previous = prev},
			    &f->dl);
	return f;
}

static inline void teardown(struct fixture *f)
{
	plan_free(f->p);
	k8s_objects_free(f->o);
	cfg_free(f->c);
	diag_free(&f->dl);
	free(f);
}

#endif
