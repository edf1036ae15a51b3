/* change: which edits of the cluster file a created cluster accepts
 * (SPEC.md §2): the forwarding mode and every pool's name and addresses are
 * fixed at creation; avoidBuggyIPs and manualAssign may change, and pools
 * may be added.  Addresses are compared as sets, so writing a pool's ranges
 * another way (a /28 as first-last, or split in two) is no change.
 */
#include "config/cluster.h"

#include <stdio.h>
#include <string.h>

#define POOLS "spec.loadBalancer.addressPools"

/* The next run of contiguous addresses of p, from its range *i on. */
static bool next_block(const struct cfg_pool *p, size_t *i,
		       struct ipv4_range *b)
{
	if (*i >= p->nranges)
		return false;
	*b = p->ranges[(*i)++];
	while (*i < p->nranges && b->last != UINT32_MAX &&
	       p->ranges[*i].first <= b->last + 1) {
		if (p->ranges[*i].last > b->last)
			b->last = p->ranges[*i].last;
		(*i)++;
	}
	return true;
}

static bool same_addresses(const struct cfg_pool *a, const struct cfg_pool *b)
{
	struct ipv4_range x, y;
	size_t i = 0, j = 0;

	for (;;) {
		bool more = next_block(a, &i, &x);

		if (more != next_block(b, &j, &y))
			return false;
		if (!more)
			return true;
		if (x.first != y.first || x.last != y.last)
			return false;
	}
}

/* p's addresses as CIDR prefixes or first-last, for a message. */
static const char *format_pool(const struct cfg_pool *p, char *buf,
			       size_t len)
{
	struct ipv4_range b;
	size_t i = 0, off = 0;

	buf[0] = '\0';
	while (off + 40 < len && next_block(p, &i, &b)) {
		char f[IPV4_STRLEN], l[IPV4_STRLEN];
		uint64_t size = ipv4_range_size(&b);
		const char *sep = off ? ", " : "";

		ipv4_format(b.first, f);
		if (!(size & (size - 1)) && !(b.first & (size - 1)))
			off += (size_t)snprintf(buf + off, len - off, "%s%s/%d",
						sep, f,
						32 - __builtin_ctzll(size));
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%s-%s",
						sep, f, ipv4_format(b.last, l));
	}
	if (i < p->nranges)
		snprintf(buf + off, len - off, ", ...");
	return buf;
}

bool cfg_check_change(const struct cfg_cluster *prev,
		      const struct cfg_cluster *next, struct diag_list *dl)
{
	bool ok = true;

	if (prev->forward_mode != next->forward_mode) {
		diag_add(dl, next->file, next->mode_line, next->mode_col,
			 next->mode_source == CFG_MODE_ANNOTATION
				 ? "metadata.annotations." CFG_DSR_ANNOTATION
				 : "spec.clusterNetwork.forwardMode",
			 "the forwarding mode is fixed when the cluster is "
			 "created: was %s, now %s; recreate the cluster to "
			 "change it%s",
			 cfg_forward_mode_name(prev->forward_mode),
			 cfg_forward_mode_name(next->forward_mode),
			 next->mode_source == CFG_MODE_DEFAULT
				 ? " (snat is the default when forwardMode is "
				   "not set)"
				 : "");
		ok = false;
	}
	for (size_t i = 0; i < prev->npools; i++) {
		const struct cfg_pool *p = &prev->pools[i];
		int j = cfg_pool_by_name(next, p->name);
		char was[256], now[256], path[64];

		if (j < 0) {
			diag_add(dl, next->file, next->pools_line,
				 next->pools_col, POOLS,
				 "pool \"%s\" (%s) was removed, but a pool's "
				 "name and addresses are fixed when the "
				 "cluster is created; put it back (pools may "
				 "be added, not removed or renamed)", p->name,
				 format_pool(p, was, sizeof(was)));
			ok = false;
		} else if (!same_addresses(p, &next->pools[j])) {
			snprintf(path, sizeof(path), POOLS "[%d].addresses", j);
			diag_add(dl, next->file, next->pools[j].addresses_line,
				 next->pools[j].addresses_col, path,
				 "the addresses of pool \"%s\" are fixed when "
				 "the cluster is created: was %s, now %s; "
				 "restore them, and add a new pool for more "
				 "addresses", p->name,
				 format_pool(p, was, sizeof(was)),
				 format_pool(&next->pools[j], now,
					     sizeof(now)));
			ok = false;
		}
	}
	return ok;
}
