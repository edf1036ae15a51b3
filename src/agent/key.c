/* key: reading and checking the key file (see key.h). */
#include "agent/key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Opens path and checks that only its owner may use it. */
static int key_open(const char *path, bool follow, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	struct stat st;
	int ret;

	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot read the key file %s: %s; write "
			 "the cluster's shared secret there (openssl rand -hex "
			 "32 > FILE) or give --key-file", path,
			 state_strerror(ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "the key file %s has mode %04o: it is open "
			 "to %s, and the key must be its owner's alone (as ssh "
			 "requires of a private key); chmod 600 %s", path,
			 (unsigned)st.st_mode & 07777,
			 state_who(st.st_mode & 077), path);
		close(fd);
		return -EPERM;
	}
	return fd;
}

int key_load(const char *path, bool follow, struct key *out, char *err,
	     size_t errlen)
{
	char *text = NULL, why[160];
	size_t len = 0;
	int fd = key_open(path, follow, err, errlen), ret;

	if (fd < 0)
		return fd;
	ret = state_read_fd(fd, KEY_FILE_MAX, &text, &len);
	close(fd);
	if (ret) {
		snprintf(err, errlen, "cannot read the key file %s: %s", path,
			 state_strerror(ret));
		return ret;
	}
	ret = key_parse(text, len, out, why, sizeof(why)) ? 0 : -EINVAL;
	explicit_bzero(text, len);
	free(text);
	if (ret)
		snprintf(err, errlen, "key file %s: %s", path, why);
	return ret;
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
