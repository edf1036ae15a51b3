/* bench/maglev: how well Maglev tables keep flows in place, and what they
 * cost to build (issue 4).
 *
 * For N backends (pod-like addresses 10.244.x.y:8080) and each table size m
 * (16381, 65521 and maglev_pick_size(N)), it removes one backend at a time
 * (every one for N <= 10, ten spread over the set otherwise), rebuilds, and
 * counts the share of 1M random 5-tuple flows whose backend changed.  The
 * ideal is 1/N (only the removed backend's flows); the target is 1/N + 1%.
 * Build time is the best of REPEAT builds of the full set.
 *
 * usage: build/bench/maglev [N...]     (default: 3 10 100 1000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dataplane/maglev.h"
#include "lib/hash.h"
#include "lib/xalloc.h"

#define FLOWS 1000000
#define REMOVALS 10
#define REPEAT 9

/* Flow hashes of random 5-tuples (a fixed sequence: runs compare). */
static uint64_t *flows_new(void)
{
	uint64_t *h = xcalloc(FLOWS, sizeof(*h));

	for (uint64_t f = 0; f < FLOWS; f++) {
		uint64_t a = hash_mix64(2 * f + 1), b = hash_mix64(2 * f + 2);
		unsigned port = b & 16 ? 80 : 443;
		const unsigned char tuple[13] = {
			a, a >> 8, a >> 16, a >> 24,	 /* source address */
			198, 18, 0, b & 15,		 /* VIP */
			a >> 32, a >> 40,		 /* source port */
			port >> 8, port,		 /* service port */
			b & 32 ? 6 : 17,		 /* TCP or UDP */
		};

		h[f] = hash_bytes(tuple, sizeof(tuple), 0);
	}
	return h;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void build(const struct maglev_backend *b, size_t n, uint32_t *t,
		  uint32_t m)
{
	if (maglev_build(b, n, t, m)) {
		fprintf(stderr, "maglev_build(n=%zu, m=%u) failed\n", n, m);
		exit(1);
	}
}

static int same(const struct maglev_backend *x, const struct maglev_backend *y)
{
	return x->ip == y->ip && x->port == y->port;
}

/* Share of flows that change backend when b[r] goes. */
static double remapped(const struct maglev_backend *b, size_t n, size_t r,
		       const uint32_t *t, uint32_t m, const uint64_t *flows)
{
	struct maglev_backend *c = xcalloc(n, sizeof(*c));
	uint32_t *u = xcalloc(m, sizeof(*u));
	size_t k = 0, moved = 0;

	for (size_t i = 0; i < n; i++)
		if (i != r)
			c[k++] = b[i];
	build(c, k, u, m);
	for (size_t f = 0; f < FLOWS; f++) {
		uint32_t s = flows[f] % m;

		moved += !same(&b[t[s]], &c[u[s]]);
	}
	free(c);
	free(u);
	return (double)moved / FLOWS;
}

static void run(size_t n, uint32_t m, const uint64_t *flows)
{
	struct maglev_backend *b = xcalloc(n, sizeof(*b));
	uint32_t *t = xcalloc(m, sizeof(*t));
	size_t removals = n < REMOVALS ? n : REMOVALS;
	double sum = 0, worst = 0, best_us = 0;
	double target = 1.0 / n + 0.01;

	for (size_t i = 0; i < n; i++) {
		b[i].ip = 0x0af40000u + (uint32_t)(i / 250 * 256 + i % 250 + 2);
		b[i].port = 8080;
	}
	for (int k = 0; k < REPEAT; k++) {
		double t0 = now_us();

		build(b, n, t, m);
		t0 = now_us() - t0;
		if (k == 0 || t0 < best_us)
			best_us = t0;
	}
	for (size_t k = 0; k < removals; k++) {
		double s = remapped(b, n, k * n / removals, t, m, flows);

		sum += s;
		if (s > worst)
			worst = s;
	}
	printf("%8zu %7u%c %7.2f %9.2f %7.2f %7.2f %8.2f %9.0f %7.1f\n", n, m,
	       m == maglev_pick_size(n) ? '*' : ' ', 100.0 / n,
	       100 * sum / removals, 100 * worst, 100 * target, worst / target,
	       best_us, best_us * 1e3 / m);
	free(b);
	free(t);
}

int main(int argc, char **argv)
{
	static const size_t def[] = {3, 10, 100, 1000};
	uint64_t *flows = flows_new();
	int nargs = argc > 1 ? argc - 1 : (int)(sizeof(def) / sizeof(*def));

	printf("remapped: share of %d flows that change backend when one of N "
	       "goes (mean and worst of up to %d removals);\ntarget 1/N + 1%%; "
	       "build: best of %d; * marks maglev_pick_size(N)\n",
	       FLOWS, REMOVALS, REPEAT);
	printf("%8s %8s %7s %9s %7s %7s %8s %9s %7s\n", "backends", "table",
	       "ideal%", "remapped%", "worst%", "target%", "worst/tg",
	       "build_us", "ns/slot");
	for (int i = 0; i < nargs; i++) {
		size_t n = argc > 1 ? strtoul(argv[i + 1], NULL, 10) : def[i];
		uint32_t picked = maglev_pick_size(n);
		uint32_t sizes[] = {16381, 65521, picked};

		for (size_t j = 0; j < 3; j++)
			if (sizes[j] > n && (j < 2 || picked > 65521))
				run(n, sizes[j], flows);
	}
	free(flows);
	return 0;
}
