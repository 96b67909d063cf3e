/* See encoding.h. Range tests are done with sign masks: for an int c in 0..255,
 * in_range(c, lo, hi) is all-ones when lo <= c <= hi and zero otherwise, without a branch. */
#include <errno.h>
#include <string.h>

#include "util/ct.h"
#include "util/encoding.h"

static int in_range(int c, int lo, int hi)
{
	return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

/* 0..63 -> alphabet character */
static char b64_char(int v)
{
	int c = 'A' + v;

	c += ~in_range(v, 0, 25) & ('a' - 26 - 'A');
	c += ~in_range(v, 0, 51) & ('0' - 52 - ('a' - 26));
	c += ~in_range(v, 0, 61) & ('+' - 62 - ('0' - 52));
	c += ~in_range(v, 0, 62) & ('/' - 63 - ('+' - 62));
	return (char)c;
}

/* alphabet character -> 0..63, or -1 */
static int b64_value(int c)
{
	int v = -1;

	v += in_range(c, 'A', 'Z') & (c - 'A' + 1);
	v += in_range(c, 'a', 'z') & (c - 'a' + 27);
	v += in_range(c, '0', '9') & (c - '0' + 53);
	v += in_range(c, '+', '+') & 63;
	v += in_range(c, '/', '/') & 64;
	return v;
}

void rg_base64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i = 0, o = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_char((int)(w >> 18) & 63);
		out[o++] = b64_char((int)(w >> 12) & 63);
		out[o++] = b64_char((int)(w >> 6) & 63);
		out[o++] = b64_char((int)w & 63);
	}
	if (n - i == 1) {
		uint32_t w = (uint32_t)in[i] << 16;

		out[o++] = b64_char((int)(w >> 18) & 63);
		out[o++] = b64_char((int)(w >> 12) & 63);
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = b64_char((int)(w >> 18) & 63);
		out[o++] = b64_char((int)(w >> 12) & 63);
		out[o++] = b64_char((int)(w >> 6) & 63);
		out[o++] = '=';
	}
	out[o] = '\0';
}

int rg_base64_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len)
{
	size_t pad = 0, n, o = 0;
	int bad = 0;

	if (in_len % 4)
		return -EINVAL;
	if (in_len >= 1 && in[in_len - 1] == '=')
		pad++;
	if (in_len >= 2 && in[in_len - 2] == '=')
		pad++;
	n = in_len / 4 * 3 - pad;
	if (n > out_cap)
		return -ENOSPC;
	for (size_t i = 0; i < in_len; i += 4) {
		int v[4];
		uint32_t w;
		bool last = i + 4 == in_len;

		for (int k = 0; k < 4; k++) {
			bool padded = last && k >= 4 - (int)pad;

			v[k] = padded ? 0 : b64_value((unsigned char)in[i + k]);
			bad |= v[k] >> 8;	/* -1 for an invalid character */
		}
		w = (uint32_t)(v[0] & 63) << 18 | (uint32_t)(v[1] & 63) << 12 |
		    (uint32_t)(v[2] & 63) << 6 | (uint32_t)(v[3] & 63);
		if (last && pad == 2) {
			bad |= -(int)((w & 0xffff) != 0);	/* unused bits must be zero */
			out[o++] = (uint8_t)(w >> 16);
		} else if (last && pad == 1) {
			bad |= -(int)((w & 0xff) != 0);
			out[o++] = (uint8_t)(w >> 16);
			out[o++] = (uint8_t)(w >> 8);
		} else {
			out[o++] = (uint8_t)(w >> 16);
			out[o++] = (uint8_t)(w >> 8);
			out[o++] = (uint8_t)w;
		}
	}
	if (bad) {
		rg_memzero(out, n);
		return -EINVAL;
	}
	*out_len = n;
	return 0;
}

void rg_hex_encode(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = in[i] >> 4, lo = in[i] & 15;

		/* 0..9 -> '0'..'9', 10..15 -> 'a'..'f' */
		out[2 * i] = (char)('0' + hi + (~in_range(hi, 0, 9) & ('a' - '0' - 10)));
		out[2 * i + 1] = (char)('0' + lo + (~in_range(lo, 0, 9) & ('a' - '0' - 10)));
	}
	out[2 * n] = '\0';
}

static int hex_value(int c)
{
	int v = -1;

	v += in_range(c, '0', '9') & (c - '0' + 1);
	v += in_range(c, 'a', 'f') & (c - 'a' + 11);
	v += in_range(c, 'A', 'F') & (c - 'A' + 11);
	return v;
}

bool rg_hex_decode(uint8_t *out, size_t n, const char *in, size_t in_len)
{
	int bad = 0;

	if (in_len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value((unsigned char)in[2 * i]);
		int lo = hex_value((unsigned char)in[2 * i + 1]);

		bad |= (hi | lo) >> 8;
		out[i] = (uint8_t)(((hi & 15) << 4) | (lo & 15));	/* hi may be -1: no UB shift */
	}
	if (bad)
		rg_memzero(out, n);
	return !bad;
}

void rg_key_to_base64(char out[static RG_KEY_B64_LEN + 1], const uint8_t key[static RG_KEY_LEN])
{
	rg_base64_encode(out, key, RG_KEY_LEN);
}

bool rg_key_from_base64(uint8_t key[static RG_KEY_LEN], const char *b64)
{
	size_t len = strlen(b64), n;

	if (len != RG_KEY_B64_LEN || b64[RG_KEY_B64_LEN - 1] != '=')
		return false;
	return rg_base64_decode(key, RG_KEY_LEN, &n, b64, len) == 0 && n == RG_KEY_LEN;
}

void rg_key_to_hex(char out[static RG_KEY_HEX_LEN + 1], const uint8_t key[static RG_KEY_LEN])
{
	rg_hex_encode(out, key, RG_KEY_LEN);
}

bool rg_key_from_hex(uint8_t key[static RG_KEY_LEN], const char *hex)
{
	return rg_hex_decode(key, RG_KEY_LEN, hex, strlen(hex));
}
