/* libFuzzer target: the invite token decoder. The first byte picks the layer: even = the bytes
 * are token text (prefix, alphabet, base64url, checksum); odd = the rest is a payload that gets a
 * correct checksum here, so mutations reach the field parser behind the SHA-256 check. Decoding
 * must fail cleanly (no crash, no leak); an accepted token must encode again to the same fields
 * and become a config that formats and loads back, the path `riftgate join` takes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "conf/config.h"
#include "conf/invite.h"
#include "util/encoding.h"
#include "util/err.h"

/* "rgi1-" + base64url(payload || SHA-256("rgi1-" || payload)[:4]), as invite.h describes. */
static char *wrap(const uint8_t *p, size_t n)
{
	static const char prefix[] = "rgi1-";
	uint8_t md[32], *raw = malloc(n + CONF_INVITE_CHECK_LEN);
	char *b64 = malloc(rg_base64_len(n + CONF_INVITE_CHECK_LEN) + 1);
	char *out = malloc(rg_base64_len(n + CONF_INVITE_CHECK_LEN) + sizeof(prefix));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t k = 0;

	if (!raw || !b64 || !out || !ctx)
		abort();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, prefix, 5);
	EVP_DigestUpdate(ctx, p, n);
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	if (n)
		memcpy(raw, p, n);
	memcpy(raw + n, md, CONF_INVITE_CHECK_LEN);
	rg_base64_encode(b64, raw, n + CONF_INVITE_CHECK_LEN);
	memcpy(out, prefix, 5);
	for (const char *c = b64; *c && *c != '='; c++)
		out[5 + k++] = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	out[5 + k] = '\0';
	free(raw);
	free(b64);
	return out;
}

static void accepted(struct conf_invite *inv)
{
	struct conf_invite_opts o = { .name = inv->conf.device_name, .address = inv->conf.address,
				      .expires = inv->expires, .ticket = inv->ticket,
				      .ticket_len = inv->ticket_len, .ticket_key = inv->ticket_key };
	struct conf_invite again;
	struct rg_err err;
	struct conf back;
	char *text, *token;

	inv->conf.device_name = inv->inviter;	/* encode takes the inviter from device.name */
	if (conf_invite_encode(&inv->conf, &o, &token, &err) != 0)
		__builtin_trap();
	if (conf_invite_decode(&again, token, strlen(token), 0, &err) != 0 ||
	    again.expires != inv->expires || strcmp(again.conf.auth_token, inv->conf.auth_token) ||
	    strcmp(again.conf.address, inv->conf.address) ||
	    again.conf.n_stun != inv->conf.n_stun || again.conf.n_turn != inv->conf.n_turn ||
	    !again.conf.turn_secret != !inv->conf.turn_secret ||
	    again.conf.path_mtu != inv->conf.path_mtu || again.ticket_len != inv->ticket_len ||
	    (inv->ticket && memcmp(again.ticket, inv->ticket, inv->ticket_len)) ||
	    memcmp(again.ticket_key, inv->ticket_key, sizeof(inv->ticket_key)))
		__builtin_trap();
	conf_invite_clear(&again);
	conf_invite_token_free(token);
	inv->conf.device_name = (char *)o.name;
	if (!inv->conf.device_name)
		inv->conf.device_name = strdup("fuzz");
	inv->conf.private_key[0] = 1;
	if (conf_format(&inv->conf, &text) == 0) {
		if (conf_parse(&back, text, strlen(text), "fuzz", &err) != 0)
			__builtin_trap();
		conf_clear(&back);
		conf_text_free(text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_invite inv;
	struct rg_err err;
	char *token = NULL;
	int r;

	if (size < 1 || size > 1 << 16)
		return 0;
	if (data[0] & 1) {
		token = wrap(data + 1, size - 1);
		r = conf_invite_decode(&inv, token, strlen(token), 0, &err);
	} else {
		r = conf_invite_decode(&inv, (const char *)data + 1, size - 1, 0, &err);
	}
	free(token);
	if (r == 0) {
		accepted(&inv);
		conf_invite_clear(&inv);
	}
	return 0;
}
