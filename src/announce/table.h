/* table: the allocation table the leader hands to the other LB nodes
 * (SPEC.md §3, §4), so that every agent holds the same Service -> VIP map
 * even when they have seen different histories.
 *
 * The table is the list of (namespace, name, VIP), sorted by (namespace,
 * name).  Its digest (the first 8 bytes, big-endian, of SHA-256 over the
 * sorted entries, each as VIP (4 bytes, big-endian), namespace and a NUL,
 * name and a NUL) rides in every HELLO: a peer whose digest differs from
 * the leader's is sent the table again.  On the wire it is cut into chunks
 * that each fit a datagram (the PEER_TABLE payload):
 *
 *   offset  size  field (big-endian)
 *   0       8     digest of the whole table
 *   8       2     chunk index
 *   10      2     chunk count (1..TABLE_CHUNKS_MAX)
 *   12      2     entries in this chunk
 *   14      ...   entries: VIP (4), namespace length (1), namespace,
 *                 name length (1), name
 *
 * Names are 1..TABLE_NAME_MAX bytes, no NUL.  An empty table is one chunk
 * with no entries.  Pure: no I/O, no clock.
 */
#ifndef BMLB_ANNOUNCE_TABLE_H
#define BMLB_ANNOUNCE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TABLE_CHUNKS_MAX 4096
#define TABLE_NAME_MAX 253 /* Kubernetes object names (255 fits a byte) */

struct table_entry {
	char *namespace_, *name;
	uint32_t vip; /* host order */
};

struct table {
	struct table_entry *v; /* sorted by (namespace, name), unique; the
				* table owns the strings */
	size_t n;
	uint64_t digest;
};

/* Sorts t->v, drops duplicates (the first kept) and computes the digest. */
void table_seal(struct table *t);
void table_free(struct table *t);

/* Makes dst (freed first) a sealed copy of src. */
void table_copy(struct table *dst, const struct table *src);

/* Cuts t into chunks of at most `room` payload bytes each: *chunks is a
 * malloc'd array of *n malloc'd buffers with lengths in *lens.  t must be
 * sealed.  Returns false (nothing allocated) when an entry does not fit in
 * room, a name is empty or longer than TABLE_NAME_MAX, or there would be
 * more than TABLE_CHUNKS_MAX chunks. */
bool table_chunks(const struct table *t, size_t room, uint8_t ***chunks,
		  size_t **lens, size_t *n);
void table_chunks_free(uint8_t **chunks, size_t *lens, size_t n);

/* Reassembles the chunks of one table as they arrive, in any order, with
 * repeats.  A chunk of another digest restarts the assembly.  Zeroed, it
 * is empty. */
struct table_rx {
	uint64_t digest;
	uint16_t count, have;
	uint8_t **parts; /* [count], NULL until received */
	size_t *lens;
};

/* Takes one PEER_TABLE payload.  Returns 1 when the table is complete (it
 * is then in *out, sealed, and its digest checked; the assembly is reset),
 * 0 when more chunks are needed, -1 when the payload is malformed or the
 * complete table does not match its digest (the assembly is reset).  *out
 * is written only when 1 is returned. */
int table_rx_add(struct table_rx *rx, const uint8_t *p, size_t len,
		 struct table *out);
void table_rx_free(struct table_rx *rx);

#endif
