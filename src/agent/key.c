/* key: reading and checking the key file (see key.h). */
#include "agent/key.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/state.h"
#include "lib/xalloc.h"

bool key_parse(const char *text, size_t len, struct key *out, char *why,
	       size_t whylen)
{
	size_t n = 0;

	while (n < len && text[n] != '\n' && text[n] != '\r')
		n++;
	if (memchr(text, '\0', n)) {
		snprintf(why, whylen, "the first line holds a NUL byte; write "
			 "the key as text, e.g. openssl rand -hex 32");
		return false;
	}
	if (n < KEY_MIN) {
		snprintf(why, whylen, "the key (first line) is %zu "
			 "character%s long; it must be at least %d (openssl "
			 "rand -hex 32 makes one)", n, n == 1 ? "" : "s",
			 KEY_MIN);
		return false;
	}
	*out = (struct key){.buf = xstrndup(text, n), .len = n};
	return true;
}

int key_load(const char *path, struct key *out, char *err, size_t errlen)
{
	char *text = NULL, why[160];
	size_t len = 0;
	struct stat st;
	int ret = state_read_file(path, KEY_FILE_MAX, &text, &len);

	if (ret) {
		snprintf(err, errlen, "cannot read the key file %s: %s; write "
			 "the cluster's shared secret there (openssl rand -hex "
			 "32 > FILE) or give --key-file", path,
			 ret == -EFBIG ? "too large" : strerror(-ret));
		return ret;
	}
	ret = key_parse(text, len, out, why, sizeof(why)) ? 0 : -EINVAL;
	explicit_bzero(text, len);
	free(text);
	if (ret) {
		snprintf(err, errlen, "key file %s: %s", path, why);
		return ret;
	}
	out->others_can_read = !stat(path, &st) && (st.st_mode & 077);
	return 0;
}

int key_derive(const struct key *k, const char *label, uint64_t *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), k->buf, (int)k->len,
		  (const unsigned char *)label, strlen(label), mac, &n) ||
	    n < sizeof(*out))
		return -EIO;
	memcpy(out, mac, sizeof(*out));
	return 0;
}

void key_free(struct key *k)
{
	if (k->buf)
		explicit_bzero(k->buf, k->len);
	free(k->buf);
	*k = (struct key){0};
}
