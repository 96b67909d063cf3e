/* See x25519.h. */
#include <openssl/evp.h>

#include "util/ct.h"
#include "util/x25519.h"

void rg_x25519_clamp(uint8_t key[static RG_X25519_LEN])
{
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
}

EVP_PKEY *rg_x25519_load(const uint8_t priv[static RG_X25519_LEN], uint8_t *pub)
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, RG_X25519_LEN);
	size_t n = RG_X25519_LEN;

	if (key && pub && (EVP_PKEY_get_raw_public_key(key, pub, &n) <= 0 || n != RG_X25519_LEN)) {
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

void rg_x25519_free(EVP_PKEY *key)
{
	EVP_PKEY_free(key);	/* cleanses the private key */
}

bool rg_x25519_public(uint8_t pub[static RG_X25519_LEN], const uint8_t priv[static RG_X25519_LEN])
{
	EVP_PKEY *key = rg_x25519_load(priv, pub);

	rg_x25519_free(key);
	return key != NULL;
}

bool rg_x25519_loaded(uint8_t out[static RG_X25519_LEN], EVP_PKEY *key,
		      const uint8_t pub[static RG_X25519_LEN])
{
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, RG_X25519_LEN);
	EVP_PKEY_CTX *ctx = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	size_t n = RG_X25519_LEN;
	/* OpenSSL already refuses an all-zero shared secret in derive; the check keeps that
	 * promise whatever the provider does. */
	bool ok = ctx && peer && EVP_PKEY_derive_init(ctx) > 0 &&
		  EVP_PKEY_derive_set_peer(ctx, peer) > 0 && EVP_PKEY_derive(ctx, out, &n) > 0 &&
		  n == RG_X25519_LEN && !rg_ct_is_zero(out, RG_X25519_LEN);

	if (!ok)
		rg_memzero(out, RG_X25519_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return ok;
}

bool rg_x25519(uint8_t out[static RG_X25519_LEN], const uint8_t priv[static RG_X25519_LEN],
	       const uint8_t pub[static RG_X25519_LEN])
{
	EVP_PKEY *key = rg_x25519_load(priv, NULL);
	bool ok = rg_x25519_loaded(out, key, pub);

	rg_x25519_free(key);
	return ok;
}
