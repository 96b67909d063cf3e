/* conf/invite: round trips (every field, defaults, --no-turn-secret), no private key in a token,
 * every error row of the decoder (not a token, version, damage, expiry, each malformed field built
 * with an independent encoder over GLib's SHA-256 and base64), encoder refusals, and wiping.
 * No error may quote a secret. */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/config.h"
#include "conf/invite.h"
#include "util/ct.h"
#include "util/err.h"

#define KEY "YEocP8SkEJgbJKZbR9PKNVvfxuPOUFbTDA9Vj6ZIr0U="
#define TOKEN "tok-s3cret-Zq9"
#define TURN_SECRET "turn-s3cret-Wx4"
#define CRED "cred-s3cret-Kp7"
#define NOW 1800000000LL

static const char full_toml[] =
	"[network]\nname = \"home\"\nserver_url = \"wss://hub.example.com/connect\"\n"
	"auth_token = \"" TOKEN "\"\nturn_secret = \"" TURN_SECRET "\"\n"
	"[device]\nname = \"laptop\"\nprivate_key = \"" KEY "\"\naddress = \"10.10.0.2/24\"\n"
	"interface = \"rg7\"\nmtu = 1300\n"
	"[stun]\nservers = [\"stun:10.0.0.1:3478\", \"stun:[fd00::1]\"]\n"
	"[[turn]]\nurl = \"turn:10.0.0.1:3478?transport=udp\"\nusername = \"u\"\n"
	"credential = \"" CRED "\"\n"
	"[[turn]]\nurl = \"turns:relay.example.com:5349?transport=tcp\"\n"
	"[webrtc]\nordered = true\nmax_retransmits = 513\npath_mtu = 1400\n";

static const char min_toml[] =
	"[network]\nname = \"lab\"\nserver_url = \"ws://10.98.0.1:8080/connect\"\n"
	"auth_token = \"" TOKEN "\"\n"
	"[device]\nname = \"peer1\"\nprivate_key = \"" KEY "\"\naddress = \"10.98.100.1/24\"\n";

static void load(struct conf *c, const char *toml)
{
	struct rg_err err = { 0 };

	if (conf_parse(c, toml, strlen(toml), "t", &err) < 0)
		g_error("%s", err.msg);
}

static char *encode(const struct conf *c, const struct conf_invite_opts *o)
{
	struct rg_err err = { 0 };
	char *token = NULL;

	if (conf_invite_encode(c, o, &token, &err) < 0)
		g_error("encode: %s", err.msg);
	return token;
}

/* Independent encoder for hand-made payloads: "rgi1-" + base64url(payload || SHA-256[:4]). */
static char *wrap(const char *prefix, const guint8 *payload, gsize n)
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 md[32], *raw = g_malloc(n + 4);
	gsize mdlen = sizeof(md);
	gchar *b64, *out;

	g_checksum_update(ck, (const guchar *)prefix, (gssize)strlen(prefix));
	if (n)
		g_checksum_update(ck, payload, (gssize)n);
	g_checksum_get_digest(ck, md, &mdlen);
	g_checksum_free(ck);
	if (n)
		memcpy(raw, payload, n);
	memcpy(raw + n, md, 4);
	b64 = g_base64_encode(raw, n + 4);
	g_strdelimit(b64, "+", '-');
	g_strdelimit(b64, "/", '_');
	*strchrnul(b64, '=') = '\0';
	out = g_strconcat(prefix, b64, NULL);
	g_free(b64);
	g_free(raw);
	return out;
}

/* Payload builder: fields appended raw. */
static void add(GByteArray *b, guint8 tag, const void *v, gsize n)
{
	g_assert_cmpuint(n, <, 0x4000);
	g_byte_array_append(b, &tag, 1);
	if (n < 0x80) {
		guint8 l = (guint8)n;

		g_byte_array_append(b, &l, 1);
	} else {
		guint8 l[2] = { (guint8)(0x80 | (n & 0x7f)), (guint8)(n >> 7) };

		g_byte_array_append(b, l, 2);
	}
	g_byte_array_append(b, v, (guint)n);
}

static void adds(GByteArray *b, guint8 tag, const char *s)
{
	add(b, tag, s, strlen(s));
}

static const guint8 expires_ok[8] = { 0, 0, 0, 0, 0x7f, 0, 0, 0 };	/* year 2037 */

/* The required fields, in order, up to (not including) tag `upto`, leaving out `skip`. */
static void base_fields(GByteArray *b, guint8 upto, guint8 skip)
{
	static const struct {
		guint8 tag;
		const char *v;
	} f[] = {
		{ CONF_INVITE_NETWORK, "home" },
		{ CONF_INVITE_SERVER_URL, "ws://10.0.0.1:8080/connect" },
		{ CONF_INVITE_AUTH_TOKEN, TOKEN },
		{ CONF_INVITE_TURN_SECRET, TURN_SECRET },
		{ CONF_INVITE_INVITER, "laptop" },
		{ CONF_INVITE_NAME, "phone" },
		{ CONF_INVITE_ADDRESS, "10.10.0.9/24" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(f); i++)
		if (f[i].tag < upto && f[i].tag != skip)
			adds(b, f[i].tag, f[i].v);
	if (CONF_INVITE_EXPIRES < upto && skip != CONF_INVITE_EXPIRES)
		add(b, CONF_INVITE_EXPIRES, expires_ok, 8);
}

static char *wrap_bytes(GByteArray *b)
{
	char *t = wrap("rgi1-", b->data, b->len);

	g_byte_array_unref(b);
	return t;
}

static int decode(struct conf_invite *inv, const char *t, struct rg_err *err)
{
	return conf_invite_decode(inv, t, strlen(t), NOW, err);
}

static void test_round_trip(void)
{
	struct conf c;
	struct conf_invite inv;
	struct rg_err err = { 0 };
	struct conf_invite_opts o = { .name = "phone", .address = "10.10.0.9/24",
				      .expires = NOW + 86400 };
	char *t;

	load(&c, full_toml);
	t = encode(&c, &o);
	g_assert_true(g_str_has_prefix(t, "rgi1-"));
	for (const char *p = t + 5; *p; p++)
		g_assert_true(g_ascii_isalnum(*p) || *p == '-' || *p == '_');
	t[0] = 'R';	/* a chat app capitalised it */
	g_assert_cmpint(decode(&inv, t, &err), ==, 0);
	conf_invite_clear(&inv);
	t[0] = 'r';
	g_assert_cmpint(decode(&inv, t, &err), ==, 0);
	g_assert_cmpstr(inv.conf.network_name, ==, "home");
	g_assert_cmpstr(inv.conf.server_url, ==, "wss://hub.example.com/connect");
	g_assert_cmpstr(inv.conf.auth_token, ==, TOKEN);
	g_assert_cmpstr(inv.conf.turn_secret, ==, TURN_SECRET);
	g_assert_cmpstr(inv.inviter, ==, "laptop");
	g_assert_cmpstr(inv.conf.device_name, ==, "phone");
	g_assert_cmpstr(inv.conf.address, ==, "10.10.0.9/24");
	g_assert_cmpint(inv.conf.addr.family, ==, AF_INET);
	g_assert_cmpuint(inv.conf.addr.len, ==, 24);
	g_assert_cmpint(inv.expires, ==, NOW + 86400);
	g_assert_cmpuint(inv.conf.n_stun, ==, 2);
	g_assert_cmpstr(inv.conf.stun_servers[0], ==, "stun:10.0.0.1:3478");
	g_assert_cmpstr(inv.conf.stun_servers[1], ==, "stun:[fd00::1]");
	g_assert_cmpuint(inv.conf.n_turn, ==, 2);
	g_assert_cmpstr(inv.conf.turn[0].url, ==, "turn:10.0.0.1:3478?transport=udp");
	g_assert_cmpstr(inv.conf.turn[0].username, ==, "u");
	g_assert_cmpstr(inv.conf.turn[0].credential, ==, CRED);
	g_assert_cmpstr(inv.conf.turn[1].url, ==, "turns:relay.example.com:5349?transport=tcp");
	g_assert_null(inv.conf.turn[1].username);
	g_assert_null(inv.conf.turn[1].credential);
	g_assert_true(inv.conf.ordered);
	g_assert_cmpuint(inv.conf.max_retransmits, ==, 513);
	g_assert_cmpuint(inv.conf.path_mtu, ==, 1400);
	/* device-local settings stay behind; no key travels */
	g_assert_cmpstr(inv.conf.interface, ==, CONF_DEFAULT_INTERFACE);
	g_assert_cmpuint(inv.conf.mtu, ==, 0);
	g_assert_true(rg_ct_is_zero(inv.conf.private_key, RG_KEY_LEN));
	/* a config built from it (as join does) validates and formats */
	inv.conf.private_key[0] = 0x40;
	g_assert_cmpint(conf_validate(&inv.conf, "j", &err), ==, 0);
	conf_invite_clear(&inv);
	/* clearing wipes the whole struct */
	for (gsize i = 0; i < sizeof(inv); i++)
		g_assert_cmpuint(((const guint8 *)&inv)[i], ==, 0);
	conf_invite_token_free(t);
	conf_clear(&c);
}

/* Neither the private key nor the public device settings beyond name/address are in the bytes. */
static void test_no_private_key(void)
{
	struct conf c;
	struct conf_invite_opts o = { .address = "10.10.0.9/24", .expires = NOW + 60 };
	guchar *raw;
	gsize n;
	char *t, *b64;

	load(&c, full_toml);
	t = encode(&c, &o);
	b64 = g_strdup(t + 5);
	g_strdelimit(b64, "-", '+');
	g_strdelimit(b64, "_", '/');
	{
		GString *s = g_string_new(b64);

		while (s->len % 4)
			g_string_append_c(s, '=');
		raw = g_base64_decode(s->str, &n);
		g_string_free(s, TRUE);
	}
	g_assert_null(memmem(raw, n, c.private_key, 8));
	g_assert_null(memmem(raw, n, KEY, 8));
	g_assert_null(memmem(raw, n, "rg7", 3));	/* interface */
	g_assert_nonnull(memmem(raw, n, TOKEN, strlen(TOKEN)));
	g_free(raw);
	g_free(b64);
	conf_invite_token_free(t);
	conf_clear(&c);
}

static void test_defaults(void)
{
	struct conf c, d;
	struct conf_invite inv;
	struct rg_err err = { 0 };
	struct conf_invite_opts o = { .address = "fd00::7/64", .expires = NOW + 1 };
	char *t, *t2;

	load(&c, min_toml);
	conf_init(&d);
	t = encode(&c, &o);
	g_assert_cmpuint(strlen(t), <, 140);	/* default STUN list left out: compact */
	g_assert_cmpint(decode(&inv, t, &err), ==, 0);
	g_assert_null(inv.conf.device_name);
	g_assert_null(inv.conf.turn_secret);
	g_assert_cmpstr(inv.inviter, ==, "peer1");
	g_assert_cmpint(inv.conf.addr.family, ==, AF_INET6);
	g_assert_cmpuint(inv.conf.n_stun, ==, d.n_stun);
	for (gsize i = 0; i < d.n_stun; i++)
		g_assert_cmpstr(inv.conf.stun_servers[i], ==, d.stun_servers[i]);
	g_assert_cmpuint(inv.conf.n_turn, ==, 0);
	g_assert_false(inv.conf.ordered);
	g_assert_cmpuint(inv.conf.max_retransmits, ==, 0);
	g_assert_cmpuint(inv.conf.path_mtu, ==, 0);
	conf_invite_clear(&inv);

	/* an empty STUN list stays empty (a lab must not reach public servers) */
	c.n_stun = 0;
	t2 = encode(&c, &o);
	g_assert_cmpint(decode(&inv, t2, &err), ==, 0);
	g_assert_cmpuint(inv.conf.n_stun, ==, 0);
	conf_invite_clear(&inv);
	c.n_stun = d.n_stun;
	conf_invite_token_free(t);
	conf_invite_token_free(t2);
	conf_clear(&c);
	conf_clear(&d);
}

static void test_no_turn_secret(void)
{
	struct conf c;
	struct conf_invite inv;
	struct rg_err err = { 0 };
	struct conf_invite_opts o = { .address = "10.10.0.9/24", .expires = NOW + 60,
				      .no_turn_secret = true };
	char *t;

	load(&c, full_toml);
	t = encode(&c, &o);
	g_assert_cmpint(decode(&inv, t, &err), ==, 0);
	g_assert_null(inv.conf.turn_secret);
	g_assert_cmpuint(inv.conf.n_turn, ==, 1);	/* the entry deriving from the secret goes */
	g_assert_cmpstr(inv.conf.turn[0].username, ==, "u");
	conf_invite_clear(&inv);
	conf_invite_token_free(t);
	conf_clear(&c);
}

/* The enrollment ticket and its key travel as opaque bytes; one without the other is refused. */
static void test_ticket(void)
{
	static const guint8 ticket[] = { 'r', 'g', 1, 2, 9, 8, 7 }, key[32] = { [0] = 5, [31] = 6 };
	struct conf c;
	struct conf_invite inv;
	struct rg_err err = { 0 };
	struct conf_invite_opts o = { .name = "phone", .address = "10.10.0.9/24",
				      .expires = NOW + 60, .ticket = ticket,
				      .ticket_len = sizeof(ticket), .ticket_key = key };
	GByteArray *b;
	char *t;

	load(&c, full_toml);
	t = encode(&c, &o);
	g_assert_cmpint(decode(&inv, t, &err), ==, 0);
	g_assert_cmpmem(inv.ticket, inv.ticket_len, ticket, sizeof(ticket));
	g_assert_true(inv.has_ticket_key);
	g_assert_cmpmem(inv.ticket_key, 32, key, sizeof(key));
	conf_invite_clear(&inv);
	conf_invite_token_free(t);
	/* 1: ticket without key; 2: key without ticket; 3: short key; 4: empty ticket */
	for (int row = 1; row <= 4; row++) {
		b = g_byte_array_new();
		base_fields(b, 0xff, 0);
		if (row != 2)
			add(b, CONF_INVITE_TICKET, ticket, row == 4 ? 0 : sizeof(ticket));
		if (row != 1)
			add(b, CONF_INVITE_TICKET_KEY, key, row == 3 ? 31 : 32);
		t = wrap_bytes(b);
		g_assert_cmpint(decode(&inv, t, &err), ==, -EPROTO);
		g_assert_null(inv.ticket);
		g_free(t);
	}
	/* Encode refuses a ticket without its key. */
	o.ticket_key = NULL;
	g_assert_cmpint(conf_invite_encode(&c, &o, &t, &err), ==, -EINVAL);
	conf_clear(&c);
}

/* Expiry: valid strictly before `expires`, refused at and after it, the message names the time. */
static void test_expiry(void)
{
	struct conf c;
	struct conf_invite inv;
	struct rg_err err = { 0 };
	struct conf_invite_opts o = { .address = "10.10.0.9/24", .expires = 1800003600 };
	char *t;

	load(&c, min_toml);
	t = encode(&c, &o);
	g_assert_cmpint(conf_invite_decode(&inv, t, strlen(t), 1800003599, &err), ==, 0);
	conf_invite_clear(&inv);
	g_assert_cmpint(conf_invite_decode(&inv, t, strlen(t), 1800003600, &err), ==, -ETIME);
	g_assert_nonnull(strstr(err.msg, "expired at 2027-01-15 09:00:00 UTC"));
	g_assert_cmpint(conf_invite_decode(&inv, t, strlen(t), 1900000000, &err), ==, -ETIME);
	g_assert_null(inv.conf.auth_token);
	conf_invite_token_free(t);
	conf_clear(&c);
}

/* Damage anywhere is caught: every single-character substitution, every cut, any insertion. */
static void test_damage(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	struct conf c;
	struct conf_invite inv;
	struct rg_err err = { 0 };
	struct conf_invite_opts o = { .name = "phone", .address = "10.10.0.9/24",
				      .expires = NOW + 60 };
	size_t n;
	char *t, *d;

	load(&c, full_toml);
	t = encode(&c, &o);
	n = strlen(t);
	d = g_strdup(t);
	for (size_t i = 5; i < n; i++) {
		char orig = d[i];

		for (int k = 0; k < 3; k++) {
			d[i] = alphabet[(strchr(alphabet, orig) - alphabet + 1 + k * 21) % 64];
			g_assert_cmpint(decode(&inv, d, &err), ==, -EBADMSG);
			g_assert_nonnull(strstr(err.msg, "damaged"));
			g_assert_null(strstr(err.msg, TOKEN));
		}
		d[i] = orig;
	}
	for (size_t cut = 1; cut < n - 5; cut++)
		g_assert_cmpint(conf_invite_decode(&inv, t, n - cut, NOW, &err), ==, -EBADMSG);
	g_free(d);
	d = g_strconcat(t, "A", NULL);
	g_assert_cmpint(decode(&inv, d, &err), ==, -EBADMSG);
	g_free(d);
	/* transposed neighbours */
	d = g_strdup(t);
	for (size_t i = 5; i + 1 < n; i++) {
		char x = d[i];

		if (d[i + 1] == x)
			continue;
		d[i] = d[i + 1];
		d[i + 1] = x;
		g_assert_cmpint(decode(&inv, d, &err), ==, -EBADMSG);
		d[i + 1] = d[i];
		d[i] = x;
	}
	g_free(d);
	/* a character outside the alphabet names its position */
	d = g_strdup(t);
	d[20] = '+';
	g_assert_cmpint(decode(&inv, d, &err), ==, -EBADMSG);
	g_assert_nonnull(strstr(err.msg, "character 21 is not allowed"));
	d[20] = ' ';
	g_assert_cmpint(decode(&inv, d, &err), ==, -EBADMSG);
	g_free(d);
	conf_invite_token_free(t);
	conf_clear(&c);
}

/* Text rows: everything before the checksum is looked at. */
static void test_text_rows(void)
{
	static const struct {
		const char *text;
		int ret;
		const char *msg;
	} rows[] = {
		/* 1 */ { "", -EINVAL, "not a riftgate invite token" },
		/* 2 */ { "hello world", -EINVAL, "not a riftgate invite token" },
		/* 3 */ { "rgi", -EINVAL, "not a riftgate invite token" },
		/* 4 */ { "rgi-AAAAAAAAAAAA", -EINVAL, "not a riftgate invite token" },
		/* 5 */ { "rgix-AAAAAAAAAAAA", -EINVAL, "not a riftgate invite token" },
		/* 6 */ { "rgi1", -EINVAL, "not a riftgate invite token" },
		/* 7 */ { "rgi2-AAAAAAAAAAAA", -EPROTONOSUPPORT, "version 2 is not supported" },
		/* 8 */ { "rgi01-AAAAAAAAAAAA", -EPROTONOSUPPORT, "version 1 is not supported" },
		/* 9 */ { "rgi99999-AAAA", -EINVAL, "not a riftgate" },
		/* 10 */ { "rgi1-", -EBADMSG, "cut short" },
		/* 11 */ { "rgi1-AAAAA", -EBADMSG, "cut short" },
		/* 12 */ { "rgi1-AAAAAAAA", -EBADMSG, "checksum mismatch" },
		/* 13 */ { "rgi1-AAAAAAAA=", -EBADMSG, "character 14 is not allowed" },
		/* 14 */ { "rgi1-AAAAAAAAAB", -EBADMSG, "last character is wrong" },
		/* 15 */ { "RGI1-AAAAAAAA", -EBADMSG, "checksum mismatch" },
		/* 16 */ { "wg genkey", -EINVAL, "not a riftgate" },
	};
	struct conf_invite inv;
	struct rg_err err;

	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		memset(&err, 0, sizeof(err));
		g_test_message("row %zu: %s", i + 1, rows[i].text);
		g_assert_cmpint(decode(&inv, rows[i].text, &err), ==, rows[i].ret);
		g_assert_cmpint(err.code, ==, rows[i].ret);
		if (!strstr(err.msg, rows[i].msg))
			g_error("row %zu: '%s' lacks '%s'", i + 1, err.msg, rows[i].msg);
	}
	/* too long */
	{
		gsize n = CONF_INVITE_TOKEN_MAX + 1;
		char *big = g_malloc(n + 1);

		memcpy(big, "rgi1-", 5);
		memset(big + 5, 'A', n - 5);
		big[n] = '\0';
		g_assert_cmpint(decode(&inv, big, &err), ==, -E2BIG);
		g_free(big);
	}
}

/* Field rows: a correct checksum over a payload that is wrong inside. */
enum { OK = 0 };

static char *field_row(int row)
{
	GByteArray *b = g_byte_array_new();
	guint8 x[16];

	switch (row) {
	case 1:	/* the reference: all required fields, valid */
		base_fields(b, 0xff, 0);
		break;
	case 2: base_fields(b, 0xff, CONF_INVITE_NETWORK); break;
	case 3: base_fields(b, 0xff, CONF_INVITE_SERVER_URL); break;
	case 4: base_fields(b, 0xff, CONF_INVITE_AUTH_TOKEN); break;
	case 5: base_fields(b, 0xff, CONF_INVITE_ADDRESS); break;
	case 6: base_fields(b, 0xff, CONF_INVITE_EXPIRES); break;
	case 7:	/* out of order */
		adds(b, CONF_INVITE_SERVER_URL, "ws://h");
		adds(b, CONF_INVITE_NETWORK, "home");
		break;
	case 8:	/* repeated */
		adds(b, CONF_INVITE_NETWORK, "home");
		adds(b, CONF_INVITE_NETWORK, "home");
		break;
	case 9:	/* unknown required field */
		base_fields(b, 0xff, 0);
		adds(b, 0x20, "x");
		break;
	case 10: /* unknown extension: skipped */
		base_fields(b, 0xff, 0);
		adds(b, 0x90, "whatever");
		break;
	case 11: /* expiry of 7 bytes */
		base_fields(b, CONF_INVITE_EXPIRES, 0);
		add(b, CONF_INVITE_EXPIRES, expires_ok, 7);
		break;
	case 12: /* expiry 0 */
		base_fields(b, CONF_INVITE_EXPIRES, 0);
		memset(x, 0, 8);
		add(b, CONF_INVITE_EXPIRES, x, 8);
		break;
	case 13: /* bad network name */
		adds(b, CONF_INVITE_NETWORK, "a b");
		break;
	case 14: /* bad hub URL */
		base_fields(b, CONF_INVITE_SERVER_URL, 0);
		adds(b, CONF_INVITE_SERVER_URL, "http://hub");
		break;
	case 15: /* NUL inside a string */
		base_fields(b, CONF_INVITE_AUTH_TOKEN, 0);
		add(b, CONF_INVITE_AUTH_TOKEN, "tok\0en", 6);
		break;
	case 16: /* auth token with a space */
		base_fields(b, CONF_INVITE_AUTH_TOKEN, 0);
		adds(b, CONF_INVITE_AUTH_TOKEN, "tok en");
		break;
	case 17: /* invalid UTF-8 in the TURN secret */
		base_fields(b, CONF_INVITE_TURN_SECRET, 0);
		adds(b, CONF_INVITE_TURN_SECRET, "s\xc0\xaf");
		break;
	case 18: /* empty string */
		base_fields(b, CONF_INVITE_NAME, 0);
		add(b, CONF_INVITE_NAME, "", 0);
		break;
	case 19: /* bad device name */
		base_fields(b, CONF_INVITE_NAME, 0);
		adds(b, CONF_INVITE_NAME, "../etc");
		break;
	case 20: /* bad address */
		base_fields(b, CONF_INVITE_ADDRESS, 0);
		adds(b, CONF_INVITE_ADDRESS, "10.0.0.300/24");
		break;
	case 21: /* non-canonical length (0x81 0x00 = 1) */
		x[0] = CONF_INVITE_NETWORK; x[1] = 0x81; x[2] = 0x00; x[3] = 'a';
		g_byte_array_append(b, x, 4);
		break;
	case 22: /* length too large for 3 bytes */
		x[0] = CONF_INVITE_NETWORK; x[1] = 0xff; x[2] = 0xff; x[3] = 0xff; x[4] = 0x01;
		g_byte_array_append(b, x, 5);
		break;
	case 23: /* a field longer than what is left */
		x[0] = CONF_INVITE_NETWORK; x[1] = 10; x[2] = 'a';
		g_byte_array_append(b, x, 3);
		break;
	case 24: /* length cut inside its bytes */
		x[0] = CONF_INVITE_NETWORK; x[1] = 0x80;
		g_byte_array_append(b, x, 2);
		break;
	case 25: /* ordered = 2 */
		base_fields(b, 0xff, 0);
		x[0] = 2;
		add(b, CONF_INVITE_ORDERED, x, 1);
		break;
	case 26: /* max_retransmits 1 byte */
		base_fields(b, 0xff, 0);
		x[0] = 2;
		add(b, CONF_INVITE_MAX_RETRANSMITS, x, 1);
		break;
	case 27: /* TURN without URL */
		base_fields(b, 0xff, 0);
		x[0] = 2; x[1] = 1; x[2] = 'u'; x[3] = 3; x[4] = 1; x[5] = 'p';
		add(b, CONF_INVITE_TURN, x, 6);
		break;
	case 28: /* TURN without credentials and no secret */
		base_fields(b, 0xff, CONF_INVITE_TURN_SECRET);
		x[0] = 1; x[1] = 10; memcpy(x + 2, "turn:relay", 10);
		add(b, CONF_INVITE_TURN, x, 12);
		break;
	case 29: /* TURN username without credential */
		base_fields(b, 0xff, 0);
		x[0] = 1; x[1] = 10; memcpy(x + 2, "turn:relay", 10); x[12] = 2; x[13] = 1; x[14] = 'u';
		add(b, CONF_INVITE_TURN, x, 15);
		break;
	case 30: /* TURN with a secret and no credentials: fine */
		base_fields(b, 0xff, 0);
		x[0] = 1; x[1] = 10; memcpy(x + 2, "turn:relay", 10);
		add(b, CONF_INVITE_TURN, x, 12);
		add(b, CONF_INVITE_TURN, x, 12);	/* repeated TURN entries are allowed */
		break;
	case 31: /* bad TURN URL */
		base_fields(b, 0xff, 0);
		x[0] = 1; x[1] = 10; memcpy(x + 2, "http:relay", 10);
		add(b, CONF_INVITE_TURN, x, 12);
		break;
	case 32: /* bad STUN URL */
		base_fields(b, 0xff, 0);
		x[0] = 4; memcpy(x + 1, "stun", 4);
		add(b, CONF_INVITE_STUN, x, 5);
		break;
	case 33: /* 33 STUN servers */
	{
		GByteArray *l = g_byte_array_new();

		base_fields(b, 0xff, 0);
		for (int i = 0; i < 33; i++) {
			x[0] = 6;
			memcpy(x + 1, "stun:h", 6);
			g_byte_array_append(l, x, 7);
		}
		add(b, CONF_INVITE_STUN, l->data, l->len);
		g_byte_array_unref(l);
		break;
	}
	case 34: /* STUN item cut */
		base_fields(b, 0xff, 0);
		x[0] = 9; memcpy(x + 1, "stun:h", 6);
		add(b, CONF_INVITE_STUN, x, 7);
		break;
	case 35: /* empty STUN list: valid, no servers */
		base_fields(b, 0xff, 0);
		add(b, CONF_INVITE_STUN, x, 0);
		break;
	case 36: /* 33 TURN entries */
		base_fields(b, 0xff, 0);
		x[0] = 1; x[1] = 10; memcpy(x + 2, "turn:relay", 10);
		for (int i = 0; i < 33; i++)
			add(b, CONF_INVITE_TURN, x, 12);
		break;
	case 37: /* TURN sub-fields out of order */
		base_fields(b, 0xff, 0);
		x[0] = 3; x[1] = 1; x[2] = 'p'; x[3] = 1; x[4] = 6; memcpy(x + 5, "turn:h", 6);
		add(b, CONF_INVITE_TURN, x, 11);
		break;
	case 38: /* empty payload */
		break;
	case 39: /* tag 0 */
		x[0] = 0; x[1] = 0;
		g_byte_array_append(b, x, 2);
		base_fields(b, 0xff, 0);
		break;
	case 40: /* string over 1024 bytes (2-byte length) */
	{
		char *s = g_strnfill(1025, 'a');

		base_fields(b, CONF_INVITE_AUTH_TOKEN, 0);
		adds(b, CONF_INVITE_AUTH_TOKEN, s);
		g_free(s);
		break;
	}
	case 41: /* a 1024-byte token is fine */
	{
		char *s = g_strnfill(1024, 'a');

		base_fields(b, CONF_INVITE_AUTH_TOKEN, 0);
		adds(b, CONF_INVITE_AUTH_TOKEN, s);
		adds(b, CONF_INVITE_ADDRESS, "10.0.0.1/8");
		add(b, CONF_INVITE_EXPIRES, expires_ok, 8);
		g_free(s);
		break;
	}
	case 42: /* path_mtu below 1200 */
		base_fields(b, 0xff, 0);
		x[0] = 0x04; x[1] = 0x00;
		add(b, CONF_INVITE_PATH_MTU, x, 2);
		break;
	case 43: /* path_mtu of 3 bytes */
		base_fields(b, 0xff, 0);
		x[0] = 0; x[1] = 0x05; x[2] = 0xdc;
		add(b, CONF_INVITE_PATH_MTU, x, 3);
		break;
	case 44: /* path_mtu 1500 */
		base_fields(b, 0xff, 0);
		x[0] = 0x05; x[1] = 0xdc;
		add(b, CONF_INVITE_PATH_MTU, x, 2);
		break;
	default:
		g_assert_not_reached();
	}
	return wrap_bytes(b);
}

static void test_field_rows(void)
{
	static const struct {
		int ret;
		const char *msg;
	} rows[] = {
		/* 1 */ { OK, NULL },
		/* 2 */ { -EPROTO, "has no network name" },
		/* 3 */ { -EPROTO, "has no hub URL" },
		/* 4 */ { -EPROTO, "has no hub auth token" },
		/* 5 */ { -EPROTO, "has no tunnel address" },
		/* 6 */ { -EPROTO, "has no expiry time" },
		/* 7 */ { -EPROTO, "out of order or repeated" },
		/* 8 */ { -EPROTO, "out of order or repeated" },
		/* 9 */ { -EPROTO, "unknown field 32; a newer riftgate" },
		/* 10 */ { OK, NULL },
		/* 11 */ { -EPROTO, "invalid expiry time" },
		/* 12 */ { -EPROTO, "invalid expiry time" },
		/* 13 */ { -EPROTO, "invalid network name" },
		/* 14 */ { -EPROTO, "invalid hub URL" },
		/* 15 */ { -EPROTO, "invalid hub auth token" },
		/* 16 */ { -EPROTO, "invalid hub auth token" },
		/* 17 */ { -EPROTO, "invalid TURN secret" },
		/* 18 */ { -EPROTO, "invalid device name" },
		/* 19 */ { -EPROTO, "invalid device name" },
		/* 20 */ { -EPROTO, "invalid tunnel address" },
		/* 21 */ { -EPROTO, "canonical" },
		/* 22 */ { -EPROTO, "too large" },
		/* 23 */ { -EPROTO, "cut short" },
		/* 24 */ { -EPROTO, "cut short" },
		/* 25 */ { -EPROTO, "webrtc.ordered" },
		/* 26 */ { -EPROTO, "webrtc.max_retransmits" },
		/* 27 */ { -EPROTO, "no URL" },
		/* 28 */ { -EPROTO, "no TURN secret" },
		/* 29 */ { -EPROTO, "username without a credential" },
		/* 30 */ { OK, NULL },
		/* 31 */ { -EPROTO, "invalid TURN server URL" },
		/* 32 */ { -EPROTO, "invalid STUN server" },
		/* 33 */ { -EPROTO, "more than 32" },
		/* 34 */ { -EPROTO, "cut short" },
		/* 35 */ { OK, NULL },
		/* 36 */ { -EPROTO, "more than 32" },
		/* 37 */ { -EPROTO, "TURN fields are out of order" },
		/* 38 */ { -EBADMSG, "cut short" },
		/* 39 */ { -EPROTO, "out of order" },
		/* 40 */ { -EPROTO, "invalid hub auth token" },
		/* 41 */ { OK, NULL },
		/* 42 */ { -EPROTO, "invalid webrtc.path_mtu: outside 1200-9000" },
		/* 43 */ { -EPROTO, "invalid webrtc.path_mtu: not 2 bytes" },
		/* 44 */ { OK, NULL },
	};
	struct conf_invite inv;
	struct rg_err err;

	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *t = field_row((int)i + 1);
		int r;

		memset(&err, 0, sizeof(err));
		r = decode(&inv, t, &err);
		if (r != rows[i].ret || (rows[i].msg && !strstr(err.msg, rows[i].msg)))
			g_error("row %zu: got %d '%s', want %d '%s'", i + 1, r, err.msg, rows[i].ret,
				rows[i].msg ? rows[i].msg : "");
		g_assert_null(strstr(err.msg, TOKEN));
		g_assert_null(strstr(err.msg, TURN_SECRET));
		if (r == 0) {
			/* what decodes is a config once it has a key and a name */
			if (!inv.conf.device_name)
				inv.conf.device_name = g_strdup("x");
			inv.conf.private_key[0] = 0x40;
			g_assert_cmpint(conf_validate(&inv.conf, "j", &err), ==, 0);
			if (i + 1 == 10)
				g_assert_cmpuint(inv.conf.n_turn, ==, 0);
			if (i + 1 == 30)
				g_assert_cmpuint(inv.conf.n_turn, ==, 2);
			if (i + 1 == 35)
				g_assert_cmpuint(inv.conf.n_stun, ==, 0);
			if (i + 1 == 44)
				g_assert_cmpuint(inv.conf.path_mtu, ==, 1500);
		} else {
			g_assert_null(inv.conf.network_name);
		}
		conf_invite_clear(&inv);
		g_free(t);
	}
}

static void test_encode_errors(void)
{
	struct conf c;
	struct rg_err err = { 0 };
	char *t = (char *)"unchanged";
	struct conf_invite_opts o = { .address = "10.10.0.9/24", .expires = NOW };

	load(&c, full_toml);
	o.name = "a/b";
	g_assert_cmpint(conf_invite_encode(&c, &o, &t, &err), ==, -EINVAL);
	g_assert_null(t);
	g_assert_nonnull(strstr(err.msg, "name must be 1-64"));
	o.name = NULL;
	o.address = "10.10.0.9";
	g_assert_cmpint(conf_invite_encode(&c, &o, &t, &err), ==, -EINVAL);
	o.address = NULL;
	g_assert_cmpint(conf_invite_encode(&c, &o, &t, &err), ==, -EINVAL);
	o.address = "10.10.0.9/24";
	o.expires = 0;
	g_assert_cmpint(conf_invite_encode(&c, &o, &t, &err), ==, -EINVAL);
	o.expires = NOW;
	/* a TURN entry that needs the secret, with the secret gone from the source */
	{
		char *s = c.turn_secret;

		c.turn_secret = NULL;
		g_assert_cmpint(conf_invite_encode(&c, &o, &t, &err), ==, -EINVAL);
		g_assert_nonnull(strstr(err.msg, "turn[1]"));
		o.no_turn_secret = true;	/* then it is left out instead */
		g_assert_cmpint(conf_invite_encode(&c, &o, &t, &err), ==, 0);
		conf_invite_token_free(t);
		c.turn_secret = s;
	}
	conf_clear(&c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf/invite/round-trip", test_round_trip);
	g_test_add_func("/conf/invite/no-private-key", test_no_private_key);
	g_test_add_func("/conf/invite/defaults", test_defaults);
	g_test_add_func("/conf/invite/no-turn-secret", test_no_turn_secret);
	g_test_add_func("/conf/invite/expiry", test_expiry);
	g_test_add_func("/conf/invite/ticket", test_ticket);
	g_test_add_func("/conf/invite/damage", test_damage);
	g_test_add_func("/conf/invite/text-rows", test_text_rows);
	g_test_add_func("/conf/invite/field-rows", test_field_rows);
	g_test_add_func("/conf/invite/encode-errors", test_encode_errors);
	return g_test_run();
}
