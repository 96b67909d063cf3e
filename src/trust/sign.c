/* Ed25519 on OpenSSL 3 EVP for membership records (sign.h). Called from the CLI, the agent loop
 * and riftgate-hub; no state, so any thread. Private seeds are wiped by the callers that own them;
 * the EVP_PKEY copies OpenSSL makes are freed (and cleansed by OpenSSL) before returning. */
#include "trust/sign.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util/ct.h"
#include "util/encoding.h"

int trust_key_public(uint8_t pub[static TRUST_KEY_LEN], const uint8_t seed[static TRUST_SEED_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, TRUST_SEED_LEN);
	size_t n = TRUST_KEY_LEN;
	int ret = -EIO;

	if (k && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 && n == TRUST_KEY_LEN)
		ret = 0;
	EVP_PKEY_free(k);
	return ret;
}

int trust_key_generate(uint8_t seed[static TRUST_SEED_LEN], uint8_t pub[static TRUST_KEY_LEN])
{
	if (RAND_priv_bytes(seed, TRUST_SEED_LEN) != 1)
		return -EIO;
	return trust_key_public(pub, seed);
}

int trust_sign(uint8_t sig[static TRUST_SIG_LEN], const uint8_t seed[static TRUST_SEED_LEN],
	       const uint8_t *msg, size_t len)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, TRUST_SEED_LEN);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t n = TRUST_SIG_LEN;
	int ret = -EIO;

	if (k && md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestSign(md, sig, &n, msg, len) == 1 && n == TRUST_SIG_LEN)
		ret = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ret;
}

bool trust_verify(void *opaque, const uint8_t pub[TRUST_KEY_LEN], const uint8_t *msg, size_t len,
		  const uint8_t sig[TRUST_SIG_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, TRUST_KEY_LEN);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = false;

	(void)opaque;
	if (k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1)
		ok = EVP_DigestVerify(md, sig, TRUST_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ok;
}

/* Encode with the current (ignored) sig, sign the bytes before it. */
#define SIGN_RECORD(rec, encode, max, seed)						\
	do {										\
		uint8_t buf_[max];							\
		size_t n_ = encode(rec, buf_, sizeof(buf_));				\
		if (!n_)								\
			return -EINVAL;							\
		return trust_sign((rec)->sig, seed, buf_, n_ - TRUST_SIG_LEN);		\
	} while (0)

int trust_cert_sign(struct trust_cert *c, const uint8_t seed[static TRUST_SEED_LEN])
{
	SIGN_RECORD(c, trust_cert_encode, TRUST_CERT_MAX, seed);
}

int trust_ticket_sign(struct trust_ticket *t, const uint8_t seed[static TRUST_SEED_LEN])
{
	SIGN_RECORD(t, trust_ticket_encode, TRUST_TICKET_MAX, seed);
}

int trust_revoke_sign(struct trust_revoke *r, const uint8_t seed[static TRUST_SEED_LEN])
{
	SIGN_RECORD(r, trust_revoke_encode, TRUST_REVOKE_MAX, seed);
}

int trust_rotation_sign(struct trust_rotation *r, const uint8_t seed[static TRUST_SEED_LEN])
{
	SIGN_RECORD(r, trust_rotation_encode, TRUST_ROTATION_MAX, seed);
}

int trust_settings_sign(struct trust_settings *s, const uint8_t seed[static TRUST_SEED_LEN])
{
	SIGN_RECORD(s, trust_settings_encode, TRUST_SETTINGS_MAX, seed);
}

void trust_fingerprint(char out[static TRUST_FINGERPRINT_LEN + 1], const uint8_t pub[static TRUST_KEY_LEN])
{
	static const char hx[] = "0123456789abcdef";
	uint8_t md[32];
	unsigned int n = 0;
	char *o = out;

	memset(md, 0, sizeof(md));
	EVP_Digest(pub, TRUST_KEY_LEN, md, &n, EVP_sha256(), NULL);
	o += sprintf(o, "SHA256:");
	for (int i = 0; i < 16; i++) {
		if (i && i % 2 == 0)
			*o++ = '-';
		*o++ = hx[md[i] >> 4];
		*o++ = hx[md[i] & 15];
	}
	*o = '\0';
}

static int to_b64(char *out, size_t cap, const uint8_t *buf, size_t n)
{
	if (!n || rg_base64_len(n) + 1 > cap)
		return -EINVAL;
	rg_base64_encode(out, buf, n);
	return 0;
}

/* buf holds a record's TRUST_*_MAX bytes; longer text than that encodes to (TRUST_*_B64_MAX) is
 * refused before decoding. */
static bool from_b64(uint8_t *buf, size_t cap, size_t *n, const char *s, size_t len)
{
	return len <= rg_base64_len(cap) && rg_base64_decode(buf, cap, n, s, len) == 0;
}

int trust_cert_to_base64(char *out, size_t cap, const struct trust_cert *c)
{
	uint8_t buf[TRUST_CERT_MAX];

	return to_b64(out, cap, buf, trust_cert_encode(c, buf, sizeof(buf)));
}

int trust_revoke_to_base64(char *out, size_t cap, const struct trust_revoke *r)
{
	uint8_t buf[TRUST_REVOKE_MAX];

	return to_b64(out, cap, buf, trust_revoke_encode(r, buf, sizeof(buf)));
}

int trust_rotation_to_base64(char *out, size_t cap, const struct trust_rotation *r)
{
	uint8_t buf[TRUST_ROTATION_MAX];

	return to_b64(out, cap, buf, trust_rotation_encode(r, buf, sizeof(buf)));
}

int trust_ticket_to_base64(char *out, size_t cap, const struct trust_ticket *t)
{
	uint8_t buf[TRUST_TICKET_MAX];

	return to_b64(out, cap, buf, trust_ticket_encode(t, buf, sizeof(buf)));
}

int trust_cert_from_base64(struct trust_cert *c, const char *s, size_t len)
{
	uint8_t buf[TRUST_CERT_MAX];
	size_t n;

	if (!from_b64(buf, sizeof(buf), &n, s, len))
		return TRUST_E_MALFORMED;
	return trust_cert_parse(c, buf, n);
}

int trust_settings_to_base64(char *out, size_t cap, const struct trust_settings *s)
{
	uint8_t buf[TRUST_SETTINGS_MAX];

	return to_b64(out, cap, buf, trust_settings_encode(s, buf, sizeof(buf)));
}

int trust_settings_from_base64(struct trust_settings *out, const char *s, size_t len)
{
	uint8_t buf[TRUST_SETTINGS_MAX];
	size_t n;

	if (!from_b64(buf, sizeof(buf), &n, s, len))
		return TRUST_E_MALFORMED;
	return trust_settings_parse(out, buf, n);
}

int trust_revoke_from_base64(struct trust_revoke *r, const char *s, size_t len)
{
	uint8_t buf[TRUST_REVOKE_MAX];
	size_t n;

	if (!from_b64(buf, sizeof(buf), &n, s, len))
		return TRUST_E_MALFORMED;
	return trust_revoke_parse(r, buf, n);
}

int trust_rotation_from_base64(struct trust_rotation *r, const char *s, size_t len)
{
	uint8_t buf[TRUST_ROTATION_MAX];
	size_t n;

	if (!from_b64(buf, sizeof(buf), &n, s, len))
		return TRUST_E_MALFORMED;
	return trust_rotation_parse(r, buf, n);
}

int trust_ticket_from_base64(struct trust_ticket *t, const char *s, size_t len)
{
	uint8_t buf[TRUST_TICKET_MAX];
	size_t n;

	if (!from_b64(buf, sizeof(buf), &n, s, len))
		return TRUST_E_MALFORMED;
	return trust_ticket_parse(t, buf, n);
}

uint64_t trust_random_serial(void)
{
	uint64_t v = 0;

	while (v == 0)
		if (RAND_bytes((uint8_t *)&v, sizeof(v)) != 1)
			return 0;
	return v;
}
