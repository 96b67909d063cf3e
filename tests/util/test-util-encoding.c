/* Base64 and hex: RFC 4648 §10 vectors, strictness (padding, unused bits, alphabet), keys. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "util/encoding.h"

static const struct { const char *raw, *b64; } rfc4648[] = {
	/* 1 */ { "", "" },
	/* 2 */ { "f", "Zg==" },
	/* 3 */ { "fo", "Zm8=" },
	/* 4 */ { "foo", "Zm9v" },
	/* 5 */ { "foob", "Zm9vYg==" },
	/* 6 */ { "fooba", "Zm9vYmE=" },
	/* 7 */ { "foobar", "Zm9vYmFy" },
};

static void test_rfc4648(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rfc4648); i++) {
		char out[32];
		uint8_t back[32];
		size_t n = 99, len = strlen(rfc4648[i].raw);

		rg_base64_encode(out, (const uint8_t *)rfc4648[i].raw, len);
		g_assert_cmpstr(out, ==, rfc4648[i].b64);
		g_assert_cmpint(rg_base64_len(len), ==, strlen(rfc4648[i].b64));
		g_assert_cmpint(rg_base64_decode(back, sizeof(back), &n, out, strlen(out)), ==, 0);
		g_assert_cmpint(n, ==, len);
		g_assert_cmpmem(back, n, rfc4648[i].raw, len);
	}
}

static const struct { const char *in; int ret; } strict[] = {
	/* 1 */ { "Zg=", -EINVAL },	/* length not a multiple of 4 */
	/* 2 */ { "Zh==", -EINVAL },	/* unused bits set */
	/* 3 */ { "Zm9=", -EINVAL },	/* unused bits set */
	/* 4 */ { "Zg=a", -EINVAL },	/* padding in the middle */
	/* 5 */ { "=Zg=", -EINVAL },
	/* 6 */ { "Zm-v", -EINVAL },	/* URL alphabet is not ours */
	/* 7 */ { "Zm9v\n", -EINVAL },
	/* 8 */ { "====", -EINVAL },
	/* 9 */ { "+/+/", 0 },
	/* 10 */ { "Zg==Zg==", -EINVAL },	/* padding before the end */
};

static void test_strict(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(strict); i++) {
		uint8_t out[16];
		size_t n;

		g_assert_cmpint(rg_base64_decode(out, sizeof(out), &n, strict[i].in,
						 strlen(strict[i].in)), ==, strict[i].ret);
	}
}

static void test_all_bytes(void)
{
	uint8_t raw[256], back[256];
	char b64[400];
	size_t n;

	for (int i = 0; i < 256; i++)
		raw[i] = (uint8_t)i;
	for (size_t len = 0; len <= sizeof(raw); len++) {
		rg_base64_encode(b64, raw, len);
		g_assert_cmpint(rg_base64_decode(back, sizeof(back), &n, b64, strlen(b64)), ==, 0);
		g_assert_cmpmem(back, n, raw, len);
	}
	g_assert_cmpint(rg_base64_decode(back, 2, &n, "Zm9v", 4), ==, -ENOSPC);
}

static void test_hex(void)
{
	static const uint8_t raw[] = { 0x00, 0x09, 0x0a, 0x7f, 0x80, 0xab, 0xff };
	char hex[32];
	uint8_t back[sizeof(raw)];

	rg_hex_encode(hex, raw, sizeof(raw));
	g_assert_cmpstr(hex, ==, "00090a7f80abff");
	g_assert_true(rg_hex_decode(back, sizeof(back), hex, strlen(hex)));
	g_assert_cmpmem(back, sizeof(back), raw, sizeof(raw));
	g_assert_true(rg_hex_decode(back, sizeof(back), "00090A7F80ABFF", 14));
	g_assert_cmpmem(back, sizeof(back), raw, sizeof(raw));
	g_assert_false(rg_hex_decode(back, sizeof(back), "00090a7f80abfg", 14));
	g_assert_false(rg_hex_decode(back, sizeof(back), "00090a7f80ab", 12));
	g_assert_false(rg_hex_decode(back, 1, "0:", 2));
}

static void test_keys(void)
{
	uint8_t key[RG_KEY_LEN], back[RG_KEY_LEN];
	char b64[RG_KEY_B64_LEN + 1], hex[RG_KEY_HEX_LEN + 1];

	for (int i = 0; i < RG_KEY_LEN; i++)
		key[i] = (uint8_t)(i * 7 + 3);
	rg_key_to_base64(b64, key);
	g_assert_cmpint(strlen(b64), ==, RG_KEY_B64_LEN);
	g_assert_true(rg_key_from_base64(back, b64));
	g_assert_cmpmem(back, RG_KEY_LEN, key, RG_KEY_LEN);
	rg_key_to_hex(hex, key);
	g_assert_true(rg_key_from_hex(back, hex));
	g_assert_cmpmem(back, RG_KEY_LEN, key, RG_KEY_LEN);
	g_assert_false(rg_key_from_base64(back, "Zm9v"));
	g_assert_false(rg_key_from_base64(back, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	g_assert_false(rg_key_from_hex(back, "00"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/util/encoding/rfc4648", test_rfc4648);
	g_test_add_func("/util/encoding/strict", test_strict);
	g_test_add_func("/util/encoding/all-bytes", test_all_bytes);
	g_test_add_func("/util/encoding/hex", test_hex);
	g_test_add_func("/util/encoding/keys", test_keys);
	return g_test_run();
}
