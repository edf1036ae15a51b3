/* fuzz_peer: the peer message and table chunk decoders on any bytes.
 *
 * The input is one datagram for peer_open (with a fixed key, received by
 * 198.18.0.2: the corpus's messages are sealed for it), and also a
 * run of table chunks for table_rx_add, each as a 2-byte big-endian length
 * and that many bytes.  What opens must seal back to the same bytes; a
 * table that reassembles must be sealed and must go through chunking and
 * reassembly again unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "announce/peer_msg.h"
#include "announce/table.h"

#define CHUNKS_MAX 64

static const char key[] = "fuzz key: 32 characters at least";
#define SELF_IP 0xc6120002u /* 198.18.0.2 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* got must be sealed; its chunks must reassemble to the same table. */
static void check_table(const struct table *got)
{
	struct table_rx rx = {0};
	struct table again;
	uint8_t **chunks;
	size_t *lens, n;
	int rc = 0;

	for (size_t i = 1; i < got->n; i++) {
		const struct table_entry *a = &got->v[i - 1], *b = &got->v[i];
		int c = strcmp(a->namespace_, b->namespace_);

		if (c > 0 || (!c && strcmp(a->name, b->name) >= 0))
			__builtin_trap();
	}
	if (!table_chunks(got, 600, &chunks, &lens, &n))
		__builtin_trap();
	for (size_t i = n; i-- > 0;)
		rc = table_rx_add(&rx, chunks[i], lens[i], &again);
	if (rc != 1 || again.n != got->n || again.digest != got->digest)
		__builtin_trap();
	table_free(&again);
	table_chunks_free(chunks, lens, n);
	table_rx_free(&rx);
}

static void feed(struct table_rx *rx, const uint8_t *p, size_t len)
{
	struct table got;

	if (table_rx_add(rx, p, len, &got) == 1) {
		check_table(&got);
		table_free(&got);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct table_rx rx = {0};
	uint8_t buf[65536 + PEER_HDR_LEN + PEER_NAME_MAX + PEER_MAC_LEN];
	struct peer_msg m;
	size_t off = 0;

	if (peer_open(data, size, SELF_IP, key, sizeof(key) - 1, &m) ==
	    PEER_OK) {
		if (peer_seal(&m, key, sizeof(key) - 1, buf, sizeof(buf)) !=
			    size ||
		    memcmp(buf, data, size))
			__builtin_trap();
		if (m.type == PEER_TABLE)
			feed(&rx, m.payload, m.payload_len);
	}
	for (int i = 0; i < CHUNKS_MAX && size - off >= 2; i++) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		if (len > size - off)
			len = size - off;
		feed(&rx, data + off, len);
		off += len;
	}
	table_rx_free(&rx);
	return 0;
}
