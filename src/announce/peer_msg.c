/* peer_msg: sealing and opening the datagrams LB nodes exchange (see
 * peer_msg.h for the layout).  Opening checks the format before the HMAC
 * so that no length read from the datagram is trusted and junk costs no
 * hash, compares the HMAC in constant time, and checks the receiver only
 * once the HMAC holds: PEER_RECEIVER then says that a key holder's message
 * was replayed to another node, never that junk was addressed wrong. */
#include "announce/peer_msg.h"

#include <endian.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const uint8_t magic[4] = {'B', 'M', 'L', 'B'};

const char *peer_verdict_name(enum peer_verdict v)
{
	static const char *const names[PEER_VERDICT_MAX] = {
		[PEER_OK] = "ok",         [PEER_MALFORMED] = "malformed",
		[PEER_AUTH] = "auth",     [PEER_UNKNOWN] = "unknown",
		[PEER_SOURCE] = "source", [PEER_REPLAY] = "replay",
		[PEER_SKEW] = "skew",     [PEER_RECEIVER] = "receiver",
	};

	return (unsigned)v < PEER_VERDICT_MAX ? names[v] : "?";
}

static bool type_valid(unsigned t)
{
	return t == PEER_HELLO || t == PEER_BYE || t == PEER_TABLE;
}

/* HMAC-SHA256 of buf[0..len) into mac; false if libcrypto failed. */
static bool mac(const void *key, size_t keylen, const uint8_t *buf,
		size_t len, uint8_t out[PEER_MAC_LEN])
{
	unsigned int n = 0;

	if (keylen > (size_t)INT32_MAX)
		return false;
	return HMAC(EVP_sha256(), key, (int)keylen, buf, len, out, &n) &&
	       n == PEER_MAC_LEN;
}

size_t peer_seal(const struct peer_msg *m, const void *key, size_t keylen,
		 uint8_t *buf, size_t cap)
{
	size_t nlen = strnlen(m->name, sizeof(m->name));
	size_t body = PEER_HDR_LEN + nlen + m->payload_len;
	uint64_t be;
	uint32_t to;

	if (nlen == 0 || nlen > PEER_NAME_MAX || !type_valid(m->type) ||
	    (m->payload_len && m->type != PEER_TABLE) ||
	    cap < PEER_MAC_LEN || m->payload_len > cap ||
	    body > cap - PEER_MAC_LEN)
		return 0;
	memcpy(buf, magic, sizeof(magic));
	buf[4] = PEER_VERSION;
	buf[5] = (uint8_t)m->type;
	buf[6] = m->flags;
	buf[7] = (uint8_t)nlen;
	be = htobe64(m->ts_ns);
	memcpy(buf + 8, &be, 8);
	be = htobe64(m->digest);
	memcpy(buf + 16, &be, 8);
	to = htobe32(m->to);
	memcpy(buf + 24, &to, 4);
	memcpy(buf + PEER_HDR_LEN, m->name, nlen);
	if (m->payload_len)
		memcpy(buf + PEER_HDR_LEN + nlen, m->payload, m->payload_len);
	if (!mac(key, keylen, buf, body, buf + body))
		return 0;
	return body + PEER_MAC_LEN;
}

enum peer_verdict peer_open(const uint8_t *buf, size_t len, uint32_t self_ip,
			    const void *key, size_t keylen, struct peer_msg *m)
{
	uint8_t want[PEER_MAC_LEN];
	size_t nlen, body;
	uint64_t be;
	uint32_t to;

	memset(m, 0, sizeof(*m));
	if (len < PEER_HDR_LEN + PEER_MAC_LEN ||
	    memcmp(buf, magic, sizeof(magic)) || buf[4] != PEER_VERSION ||
	    !type_valid(buf[5]))
		return PEER_MALFORMED;
	nlen = buf[7];
	body = len - PEER_MAC_LEN;
	if (nlen == 0 || nlen > PEER_NAME_MAX || PEER_HDR_LEN + nlen > body ||
	    memchr(buf + PEER_HDR_LEN, '\0', nlen) ||
	    (buf[5] != PEER_TABLE && PEER_HDR_LEN + nlen != body))
		return PEER_MALFORMED;

	/* Decoded before the HMAC check: on PEER_AUTH the name says whom the
	 * datagram claims to come from (unauthenticated). */
	m->type = buf[5];
	m->flags = buf[6];
	memcpy(&be, buf + 8, 8);
	m->ts_ns = be64toh(be);
	memcpy(&be, buf + 16, 8);
	m->digest = be64toh(be);
	memcpy(&to, buf + 24, 4);
	m->to = be32toh(to);
	memcpy(m->name, buf + PEER_HDR_LEN, nlen);
	m->payload = buf + PEER_HDR_LEN + nlen;
	m->payload_len = body - PEER_HDR_LEN - nlen;

	if (!mac(key, keylen, buf, body, want) ||
	    CRYPTO_memcmp(want, buf + body, PEER_MAC_LEN))
		return PEER_AUTH;
	return m->to == self_ip ? PEER_OK : PEER_RECEIVER;
}
