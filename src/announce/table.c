/* table: the allocation table's canonical form, digest, chunking and
 * reassembly (see table.h for the wire layout).  Every length read from a
 * chunk is checked against the bytes actually there, and a whole chunk is
 * checked when it arrives, so a complete assembly only decodes. */
#include "announce/table.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/xalloc.h"

#define CHUNK_HDR 14
#define ENTRY_FIXED 6 /* VIP and the two lengths */

static int entry_cmp(const struct table_entry *a, const struct table_entry *b)
{
	int c = strcmp(a->namespace_, b->namespace_);

	return c ? c : strcmp(a->name, b->name);
}

/* An entry with its place in the input, so that sorting keeps the first
 * of duplicates first. */
struct ranked {
	struct table_entry e;
	size_t i;
};

static int ranked_cmp(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	int c = entry_cmp(&a->e, &b->e);

	return c ? c : (a->i > b->i) - (a->i < b->i);
}

static void entry_free(struct table_entry *e)
{
	free(e->namespace_);
	free(e->name);
}

/* The first 8 bytes, big-endian, of SHA-256 over every entry as VIP (4
 * bytes, big-endian), namespace and NUL, name and NUL. */
static uint64_t table_digest(const struct table *t)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	uint64_t be;
	int ok;

	/* SHA-256 in libcrypto fails only when it cannot allocate. */
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < t->n; i++) {
		const struct table_entry *e = &t->v[i];
		uint32_t vip = htobe32(e->vip);

		ok = EVP_DigestUpdate(ctx, &vip, sizeof(vip)) &&
		     EVP_DigestUpdate(ctx, e->namespace_,
				      strlen(e->namespace_) + 1) &&
		     EVP_DigestUpdate(ctx, e->name, strlen(e->name) + 1);
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= sizeof(be);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		xalloc_fail();
	memcpy(&be, md, sizeof(be));
	return be64toh(be);
}

void table_seal(struct table *t)
{
	struct ranked *r = xcalloc(t->n, sizeof(*r));
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		r[i] = (struct ranked){t->v[i], i};
	qsort(r, t->n, sizeof(*r), ranked_cmp);
	for (size_t i = 0; i < t->n; i++) {
		if (n && !entry_cmp(&r[i].e, &t->v[n - 1]))
			entry_free(&r[i].e);
		else
			t->v[n++] = r[i].e;
	}
	free(r);
	t->n = n;
	t->digest = table_digest(t);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		entry_free(&t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void table_copy(struct table *dst, const struct table *src)
{
	table_free(dst);
	dst->v = xreallocarray(NULL, src->n + 1, sizeof(*src->v));
	for (size_t i = 0; i < src->n; i++)
		dst->v[i] = (struct table_entry){
			.namespace_ = xstrdup(src->v[i].namespace_),
			.name = xstrdup(src->v[i].name),
			.vip = src->v[i].vip,
		};
	dst->n = src->n;
	table_seal(dst);
}

static bool name_fits(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= TABLE_NAME_MAX;
}

static size_t entry_size(const struct table_entry *e)
{
	return ENTRY_FIXED + strlen(e->namespace_) + strlen(e->name);
}

static uint8_t *put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
	return p + n;
}

static uint8_t *put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	*p++ = (uint8_t)n;
	memcpy(p, s, n);
	return p + n;
}

/* Where a chunk starts in the table and how long it is on the wire. */
struct span {
	size_t first, len;
};

bool table_chunks(const struct table *t, size_t room, uint8_t ***chunks,
		  size_t **lens, size_t *n)
{
	struct span *spans = NULL, *s;
	size_t ns = 0, cap = 0;

	if (room < CHUNK_HDR)
		return false;
	s = xpush(&spans, &ns, &cap, sizeof(*spans));
	s->len = CHUNK_HDR;
	for (size_t i = 0; i < t->n; i++) {
		const struct table_entry *e = &t->v[i];
		size_t sz = entry_size(e);

		if (!name_fits(e->namespace_) || !name_fits(e->name) ||
		    sz > room - CHUNK_HDR)
			goto fail;
		if (sz > room - s->len || i - s->first == UINT16_MAX) {
			if (ns == TABLE_CHUNKS_MAX)
				goto fail;
			s = xpush(&spans, &ns, &cap, sizeof(*spans));
			s->first = i;
			s->len = CHUNK_HDR;
		}
		s->len += sz;
	}

	*chunks = xcalloc(ns, sizeof(**chunks));
	*lens = xcalloc(ns, sizeof(**lens));
	*n = ns;
	for (size_t c = 0; c < ns; c++) {
		size_t end = c + 1 < ns ? spans[c + 1].first : t->n;
		uint8_t *p = xmalloc(spans[c].len);

		(*chunks)[c] = p;
		(*lens)[c] = spans[c].len;
		p = put_be(p, t->digest, 8);
		p = put_be(p, c, 2);
		p = put_be(p, ns, 2);
		p = put_be(p, end - spans[c].first, 2);
		for (size_t i = spans[c].first; i < end; i++) {
			p = put_be(p, t->v[i].vip, 4);
			p = put_str(p, t->v[i].namespace_);
			p = put_str(p, t->v[i].name);
		}
	}
	free(spans);
	return true;
fail:
	free(spans);
	return false;
}

void table_chunks_free(uint8_t **chunks, size_t *lens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(chunks[i]);
	free(chunks);
	free(lens);
}

/* A reader over bytes that are not trusted. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static bool get_be(struct rd *r, size_t n, uint64_t *v)
{
	if (r->left < n)
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v << 8 | r->p[i];
	r->p += n;
	r->left -= n;
	return true;
}

/* A length byte (1..TABLE_NAME_MAX) and that many bytes, none NUL; copied
 * into *out unless out is NULL. */
static bool get_str(struct rd *r, char **out)
{
	uint64_t n;

	if (!get_be(r, 1, &n) || n < 1 || n > TABLE_NAME_MAX || r->left < n ||
	    memchr(r->p, '\0', n))
		return false;
	if (out)
		*out = xstrndup((const char *)r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

/* One entry; checked only when e is NULL.  On failure nothing is left
 * allocated. */
static bool get_entry(struct rd *r, struct table_entry *e)
{
	struct table_entry tmp = {0};
	uint64_t vip;

	if (!get_be(r, 4, &vip) || !get_str(r, e ? &tmp.namespace_ : NULL) ||
	    !get_str(r, e ? &tmp.name : NULL)) {
		entry_free(&tmp);
		return false;
	}
	tmp.vip = (uint32_t)vip;
	if (e)
		*e = tmp;
	return true;
}

/* Decodes every received part (all checked already), then seals and
 * compares the digest.  1 with the table in *out, or -1. */
static int rx_assemble(const struct table_rx *rx, struct table *out)
{
	struct table t = {0};
	size_t cap = 0;

	for (size_t c = 0; c < rx->count; c++) {
		struct rd r = {rx->parts[c] + CHUNK_HDR,
			       rx->lens[c] - CHUNK_HDR};

		while (r.left)
			get_entry(&r, xpush(&t.v, &t.n, &cap, sizeof(*t.v)));
	}
	table_seal(&t);
	if (t.digest != rx->digest) {
		table_free(&t);
		return -1;
	}
	*out = t;
	return 1;
}

int table_rx_add(struct table_rx *rx, const uint8_t *p, size_t len,
		 struct table *out)
{
	struct rd r = {p, len};
	uint64_t digest, index, count, entries;
	int rc;

	if (!get_be(&r, 8, &digest) || !get_be(&r, 2, &index) ||
	    !get_be(&r, 2, &count) || !get_be(&r, 2, &entries) ||
	    count == 0 || count > TABLE_CHUNKS_MAX || index >= count)
		goto bad;
	for (uint64_t i = 0; i < entries; i++)
		if (!get_entry(&r, NULL))
			goto bad;
	if (r.left)
		goto bad;

	if (!rx->parts || rx->digest != digest || rx->count != count) {
		table_rx_free(rx);
		rx->digest = digest;
		rx->count = (uint16_t)count;
		rx->parts = xcalloc(count, sizeof(*rx->parts));
		rx->lens = xcalloc(count, sizeof(*rx->lens));
	}
	if (rx->parts[index])
		return 0;
	rx->parts[index] = xmalloc(len);
	memcpy(rx->parts[index], p, len);
	rx->lens[index] = len;
	if (++rx->have < rx->count)
		return 0;
	rc = rx_assemble(rx, out);
	table_rx_free(rx);
	return rc;
bad:
	table_rx_free(rx);
	return -1;
}

void table_rx_free(struct table_rx *rx)
{
	for (size_t i = 0; rx->parts && i < rx->count; i++)
		free(rx->parts[i]);
	free(rx->parts);
	free(rx->lens);
	memset(rx, 0, sizeof(*rx));
}
