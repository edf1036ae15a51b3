/* key: the cluster's shared secret, which authenticates the messages LB
 * nodes exchange (SPEC.md §4, §8).  The key file's first line is the key;
 * it must be at least KEY_MIN characters (`openssl rand -hex 32` writes
 * 64).  The key is checked at start; the buffer is wiped when freed. */
#ifndef BMLB_AGENT_KEY_H
#define BMLB_AGENT_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEY_MIN 32
#define KEY_FILE_MAX 4096

struct key {
	char *buf; /* NUL-terminated, no newline */
	size_t len;
	bool others_can_read; /* the file's mode lets group or others read */
};

/* Takes the first line of text (len bytes) as the key.  Returns true, or
 * false with why set to "what is wrong; what would be valid". */
bool key_parse(const char *text, size_t len, struct key *out, char *why,
	       size_t whylen);

/* Reads and checks path.  Returns 0 or -errno / -EINVAL with a message in
 * err naming the file. */
int key_load(const char *path, struct key *out, char *err, size_t errlen);

/* A 64-bit value only holders of the key can compute, for label (HMAC-
 * SHA256 of label under the key): the same on every node of the cluster.
 * Returns 0 or -EIO. */
int key_derive(const struct key *k, const char *label, uint64_t *out);

void key_free(struct key *k);

#endif
