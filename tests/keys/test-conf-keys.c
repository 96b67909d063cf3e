/* conf/keys and util/x25519: X25519 known answers from RFC 7748 (§5.2 scalar multiplication, iterated; §6.1
 * Diffie-Hellman), clamping, and generated keys. */
#include <glib.h>
#include <string.h>

#include "conf/keys.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/x25519.h"

static void hex32(uint8_t out[32], const char *hex)
{
	g_assert_true(rg_key_from_hex(out, hex));
}

static void assert_hex(const uint8_t k[32], const char *hex)
{
	char got[RG_KEY_HEX_LEN + 1];

	rg_key_to_hex(got, k);
	g_assert_cmpstr(got, ==, hex);
}

/* §5.2: X25519(scalar, u) = out; row 3 is §5.2's iterated vector after one iteration. The last
 * row is a small-order point (u = 0), which must be refused, not answered with zeros. */
static const struct {
	const char *scalar, *u, *out;
	bool ok;
} mult[] = {
	/* 1 */ { "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552", true },
	/* 2 */ { "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957", true },
	/* 3 */ { "0900000000000000000000000000000000000000000000000000000000000000",
		  "0900000000000000000000000000000000000000000000000000000000000000",
		  "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", true },
	/* 4 */ { "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "0000000000000000000000000000000000000000000000000000000000000000",
		  NULL, false },
};

static void test_rfc7748_mult(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(mult); i++) {
		uint8_t k[32], u[32], out[32];

		g_test_message("row %zu", i + 1);
		hex32(k, mult[i].scalar);
		hex32(u, mult[i].u);
		g_assert_cmpint(rg_x25519(out, k, u), ==, mult[i].ok);
		if (mult[i].ok)
			assert_hex(out, mult[i].out);
	}
}

/* §5.2 iterated: k = u = 9; repeat { k, u = X25519(k, u), k }. After 1000 iterations. */
static void test_rfc7748_iterated(void)
{
	uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32];

	for (int i = 1; i <= 1000; i++) {
		g_assert_true(rg_x25519(r, k, u));
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			assert_hex(k, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
	}
	assert_hex(k, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

/* §6.1: public keys from private keys, and both sides agree on K. */
static const struct {
	const char *priv, *pub;
} dh[] = {
	/* 1 Alice */ { "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
			"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a" },
	/* 2 Bob */   { "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
			"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f" },
};

static void test_rfc7748_dh(void)
{
	uint8_t priv[2][32], pub[2][32], k1[32], k2[32];

	for (size_t i = 0; i < G_N_ELEMENTS(dh); i++) {
		hex32(priv[i], dh[i].priv);
		g_assert_true(rg_x25519_public(pub[i], priv[i]));
		assert_hex(pub[i], dh[i].pub);
	}
	g_assert_true(rg_x25519(k1, priv[0], pub[1]));
	g_assert_true(rg_x25519(k2, priv[1], pub[0]));
	assert_hex(k1, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	assert_hex(k2, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

static void test_clamp(void)
{
	uint8_t k[32];

	memset(k, 0xff, sizeof(k));
	rg_x25519_clamp(k);
	g_assert_cmpuint(k[0], ==, 0xf8);
	g_assert_cmpuint(k[31], ==, 0x7f);
	memset(k, 0, sizeof(k));
	rg_x25519_clamp(k);
	g_assert_cmpuint(k[0], ==, 0);
	g_assert_cmpuint(k[31], ==, 0x40);
}

/* Generated keys are clamped, differ, and their public keys match the base-point multiply. */
static void test_generate(void)
{
	uint8_t a[32], b[32], pa[32], base[32] = { 9 }, m[32];

	g_assert_cmpint(conf_key_generate(a), ==, 0);
	g_assert_cmpint(conf_key_generate(b), ==, 0);
	g_assert_true(memcmp(a, b, 32) != 0);
	g_assert_cmpuint(a[0] & 7, ==, 0);
	g_assert_cmpuint(a[31] & 0xc0, ==, 0x40);
	g_assert_true(rg_x25519_public(pa, a));
	g_assert_true(rg_x25519(m, a, base));
	g_assert_true(memcmp(pa, m, 32) == 0);
}

/* A key loaded once (the WireGuard core's static and ephemeral keys) gives the same answers, and
 * refuses the small-order point the same way. */
static void test_loaded(void)
{
	uint8_t priv[32], pub[32], peer[32], zero[32] = { 0 }, a[32], b[32];
	EVP_PKEY *key;

	hex32(priv, dh[0].priv);
	hex32(peer, dh[1].pub);
	key = rg_x25519_load(priv, pub);
	g_assert_nonnull(key);
	assert_hex(pub, dh[0].pub);
	g_assert_true(rg_x25519_loaded(a, key, peer));
	g_assert_true(rg_x25519(b, priv, peer));
	g_assert_cmpmem(a, 32, b, 32);
	memset(a, 0xaa, sizeof(a));
	g_assert_false(rg_x25519_loaded(a, key, zero));
	g_assert_true(rg_ct_is_zero(a, 32));			/* wiped, not half-written */
	g_assert_false(rg_x25519_loaded(a, NULL, peer));
	rg_x25519_free(key);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf/keys/rfc7748-5.2", test_rfc7748_mult);
	g_test_add_func("/conf/keys/rfc7748-5.2-iterated", test_rfc7748_iterated);
	g_test_add_func("/conf/keys/rfc7748-6.1", test_rfc7748_dh);
	g_test_add_func("/conf/keys/loaded", test_loaded);
	g_test_add_func("/conf/keys/clamp", test_clamp);
	g_test_add_func("/conf/keys/generate", test_generate);
	return g_test_run();
}
