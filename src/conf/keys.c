/* X25519 through OpenSSL 3 EVP_PKEY_X25519. OpenSSL applies decodeScalar25519 itself, so public
 * keys of unclamped private keys match `wg pubkey`, which clamps before multiplying too. */
#include "conf/keys.h"

#include <errno.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "util/ct.h"

void conf_key_clamp(uint8_t key[static RG_KEY_LEN])
{
	key[0] &= 248;
	key[31] = (key[31] & 127) | 64;
}

int conf_key_generate(uint8_t priv[static RG_KEY_LEN])
{
	size_t got = 0;

	while (got < RG_KEY_LEN) {
		ssize_t n = getrandom(priv + got, RG_KEY_LEN - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;

			rg_memzero(priv, RG_KEY_LEN);
			return e;
		}
		got += (size_t)n;
	}
	conf_key_clamp(priv);
	return 0;
}

int conf_key_public(uint8_t pub[static RG_KEY_LEN], const uint8_t priv[static RG_KEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, RG_KEY_LEN);
	size_t len = RG_KEY_LEN;
	int ret = 0;

	if (!k || EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 || len != RG_KEY_LEN)
		ret = -EINVAL;
	EVP_PKEY_free(k);	/* OpenSSL wipes the private key it copied */
	return ret;
}

int conf_key_x25519(uint8_t out[static RG_KEY_LEN], const uint8_t scalar[static RG_KEY_LEN],
		    const uint8_t u[static RG_KEY_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, RG_KEY_LEN);
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, u, RG_KEY_LEN);
	EVP_PKEY_CTX *ctx = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
	size_t len = RG_KEY_LEN;
	int ret = -EINVAL;

	/* OpenSSL refuses an all-zero shared secret (small-order u) in derive. */
	if (ctx && peer && EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, peer) == 1 && EVP_PKEY_derive(ctx, out, &len) == 1 &&
	    len == RG_KEY_LEN)
		ret = 0;
	if (ret < 0)
		rg_memzero(out, RG_KEY_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(k);
	return ret;
}
