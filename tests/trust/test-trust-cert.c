/* Membership records (src/trust): golden vectors of the encoding and its Ed25519 signatures,
 * validity with clock skew, wrong issuer, every single-byte tamper, truncation, tickets and
 * their one-binding rule, revocations, textual prefixes. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "trust/cert.h"
#include "trust/sign.h"
#include "util/encoding.h"

/* Seeds of the golden vectors (RFC 8032 keys are seeds too; these are just fixed bytes). */
static const uint8_t net_seed[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t ticket_seed[32] = { [0] = 0x71, [31] = 0x17 };
static const uint8_t other_seed[32] = { [0] = 0xee };
static const uint8_t device_seed[32] = { [0] = 0xd5, [31] = 0x5d };

enum { T0 = 1800000000 };	/* 2027-01-15T08:00:00Z */

static struct trust_ctx ctx;
static struct trust_revlist revoked;

static void setup_ctx(void)
{
	memset(&ctx, 0, sizeof(ctx));
	memset(&revoked, 0, sizeof(revoked));
	g_assert_cmpint(trust_key_public(ctx.anchor, net_seed), ==, 0);
	strcpy(ctx.net, "home");
	ctx.verify = trust_verify;
	ctx.revoked = &revoked;
	ctx.skew_s = TRUST_SKEW_S;
}

static void pfx(struct trust_prefix *p, const char *s)
{
	g_assert_true(trust_prefix_parse(p, s, strlen(s)));
}

/* alice: 10.10.0.2/24, fd00::2/64, signed by the network key. */
static void make_alice(struct trust_cert *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->net, "home");
	strcpy(c->name, "alice");
	memset(c->wg_key, 0xa1, sizeof(c->wg_key));
	memset(c->dev_key, 0xd1, sizeof(c->dev_key));
	c->n_addrs = 2;
	pfx(&c->addrs[0], "10.10.0.2/24");
	pfx(&c->addrs[1], "fd00::2/64");
	c->not_before = T0;
	c->not_after = T0 + 86400;
	c->serial = 0x0102030405060708;
	g_assert_cmpint(trust_key_public(c->issuer, net_seed), ==, 0);
	g_assert_cmpint(trust_cert_sign(c, net_seed), ==, 0);
}

static void make_ticket(struct trust_ticket *t)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->net, "home");
	strcpy(t->name, "bob");
	t->n_addrs = 1;
	pfx(&t->addrs[0], "10.10.0.3/24");
	t->not_before = T0;
	t->use_by = T0 + 86400;
	t->cert_not_after = T0 + 365 * 86400;
	t->id = 0x1111222233334444;
	g_assert_cmpint(trust_key_public(t->ticket_key, ticket_seed), ==, 0);
	g_assert_cmpint(trust_key_public(t->issuer, net_seed), ==, 0);
	g_assert_cmpint(trust_ticket_sign(t, net_seed), ==, 0);
}

/* bob enrolled with the ticket: his own keys, signed by the ticket key. */
static void make_bob(struct trust_cert *c)
{
	memset(c, 0, sizeof(*c));
	make_ticket(&c->ticket);
	c->has_ticket = true;
	strcpy(c->net, "home");
	strcpy(c->name, "bob");
	memset(c->wg_key, 0xb2, sizeof(c->wg_key));
	memset(c->dev_key, 0xd2, sizeof(c->dev_key));
	c->n_addrs = 1;
	c->addrs[0] = c->ticket.addrs[0];
	c->not_before = T0 + 3600;
	c->not_after = T0 + 365 * 86400;
	c->serial = c->ticket.id;
	memcpy(c->issuer, c->ticket.issuer, TRUST_KEY_LEN);
	g_assert_cmpint(trust_cert_sign(c, ticket_seed), ==, 0);
}

static void make_revoke(struct trust_revoke *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->net, "home");
	strcpy(r->name, "alice");
	r->serial = 0x0102030405060708;
	r->revoked_at = T0 + 7200;
	g_assert_cmpint(trust_key_public(r->issuer, net_seed), ==, 0);
	g_assert_cmpint(trust_revoke_sign(r, net_seed), ==, 0);
}

/* alice with a real device key (device_seed), so she can sign her own rotations. */
static void make_alice_dev(struct trust_cert *c)
{
	make_alice(c);
	g_assert_cmpint(trust_key_public(c->dev_key, device_seed), ==, 0);
	g_assert_cmpint(trust_cert_sign(c, net_seed), ==, 0);
}

/* Rotation number seq of alice's cert: key 0xa1.. -> 0xa2.. (seq 1), 0xa2.. -> 0xa3.. (2)... */
static void make_rotation(struct trust_rotation *r, uint32_t seq)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->net, "home");
	strcpy(r->name, "alice");
	r->serial = 0x0102030405060708;
	r->seq = seq;
	memset(r->old_wg, 0xa0 + (int)seq, sizeof(r->old_wg));
	memset(r->new_wg, 0xa1 + (int)seq, sizeof(r->new_wg));
	r->rotated_at = T0 + 3600 * seq;
	g_assert_cmpint(trust_rotation_sign(r, device_seed), ==, 0);
}

static char *hex(const uint8_t *b, size_t n)
{
	char *s = g_malloc(2 * n + 1);

	rg_hex_encode(s, b, n);
	return s;
}

/* Golden vectors: the encodings below are also in docs/signaling.md; the signatures were checked
 * with a second Ed25519 implementation (tests/trust/golden-check.py, Python cryptography). */
#include "golden.h"

static void test_golden(void)
{
	struct trust_cert c, c2;
	struct trust_ticket t, t2;
	struct trust_revoke r, r2;
	uint8_t buf[TRUST_CERT_MAX];
	size_t n;
	char *h;

	setup_ctx();
	make_alice(&c);
	n = trust_cert_encode(&c, buf, sizeof(buf));
	h = hex(buf, n);
	if (g_getenv("RG_PRINT_GOLDEN"))
		g_print("alice %s\n", h);
	g_assert_cmpstr(h, ==, GOLDEN_ALICE);
	g_free(h);
	g_assert_cmpint(trust_cert_parse(&c2, buf, n), ==, 0);
	g_assert_cmpmem(&c, sizeof(c), &c2, sizeof(c2));
	g_assert_cmpint(trust_cert_check(&ctx, &c2, T0 + 60), ==, TRUST_OK);

	make_bob(&c);
	n = trust_cert_encode(&c, buf, sizeof(buf));
	h = hex(buf, n);
	if (g_getenv("RG_PRINT_GOLDEN"))
		g_print("bob %s\n", h);
	g_assert_cmpstr(h, ==, GOLDEN_BOB);
	g_free(h);
	g_assert_cmpint(trust_cert_parse(&c2, buf, n), ==, 0);
	g_assert_cmpmem(&c, sizeof(c), &c2, sizeof(c2));
	g_assert_cmpint(trust_cert_check(&ctx, &c2, T0 + 7200), ==, TRUST_OK);

	make_ticket(&t);
	n = trust_ticket_encode(&t, buf, sizeof(buf));
	h = hex(buf, n);
	if (g_getenv("RG_PRINT_GOLDEN"))
		g_print("ticket %s\n", h);
	g_assert_cmpstr(h, ==, GOLDEN_TICKET);
	g_free(h);
	g_assert_cmpint(trust_ticket_parse(&t2, buf, n), ==, 0);
	g_assert_cmpmem(&t, sizeof(t), &t2, sizeof(t2));
	g_assert_cmpint(trust_ticket_check(&ctx, &t2, T0), ==, TRUST_OK);

	make_revoke(&r);
	n = trust_revoke_encode(&r, buf, sizeof(buf));
	h = hex(buf, n);
	if (g_getenv("RG_PRINT_GOLDEN"))
		g_print("revoke %s\n", h);
	g_assert_cmpstr(h, ==, GOLDEN_REVOKE);
	g_free(h);
	g_assert_cmpint(trust_revoke_parse(&r2, buf, n), ==, 0);
	g_assert_cmpmem(&r, sizeof(r), &r2, sizeof(r2));
	g_assert_cmpint(trust_revoke_check(&ctx, &r2), ==, TRUST_OK);

	{
		struct trust_rotation ro, ro2;

		make_alice_dev(&c);
		make_rotation(&ro, 1);
		n = trust_rotation_encode(&ro, buf, sizeof(buf));
		g_assert_cmpuint(n, <=, TRUST_ROTATION_MAX);
		h = hex(buf, n);
		if (g_getenv("RG_PRINT_GOLDEN"))
			g_print("rotation %s\n", h);
		g_assert_cmpstr(h, ==, GOLDEN_ROTATION);
		g_free(h);
		g_assert_cmpint(trust_rotation_parse(&ro2, buf, n), ==, 0);
		g_assert_cmpmem(&ro, sizeof(ro), &ro2, sizeof(ro2));
		g_assert_cmpint(trust_rotation_check(&ctx, &c, &ro2, T0 + 3600), ==, TRUST_OK);
	}
}

/* Validity window with the documented skew (TRUST_SKEW_S = 300 s). */
static void test_validity(void)
{
	static const struct { int64_t now; int want; } cases[] = {
		/* 1 */ { T0, TRUST_OK },
		/* 2 */ { T0 - 300, TRUST_OK },				/* clock 5 min behind */
		/* 3 */ { T0 - 301, TRUST_E_NOT_YET_VALID },
		/* 4 */ { T0 + 86400, TRUST_OK },
		/* 5 */ { T0 + 86400 + 300, TRUST_OK },		/* clock 5 min ahead */
		/* 6 */ { T0 + 86400 + 301, TRUST_E_EXPIRED },
		/* 7 */ { 0, TRUST_E_NOT_YET_VALID },
		/* 8 */ { INT64_MAX, TRUST_E_EXPIRED },
	};
	struct trust_cert c;

	setup_ctx();
	make_alice(&c);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(trust_cert_check(&ctx, &c, (uint64_t)cases[i].now), ==, cases[i].want);
	ctx.skew_s = 0;
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 - 1), ==, TRUST_E_NOT_YET_VALID);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 86401), ==, TRUST_E_EXPIRED);
}

/* Issuer, network and signature. */
static void test_issuer(void)
{
	struct trust_cert c;

	setup_ctx();
	/* 1: another authority's cert (issuer = its own key, signed by it). */
	make_alice(&c);
	g_assert_cmpint(trust_key_public(c.issuer, other_seed), ==, 0);
	g_assert_cmpint(trust_cert_sign(&c, other_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0), ==, TRUST_E_ISSUER);
	/* 2: names our anchor as issuer but signed by another key. */
	make_alice(&c);
	g_assert_cmpint(trust_cert_sign(&c, other_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0), ==, TRUST_E_SIGNATURE);
	/* 3: our key, another network id. */
	make_alice(&c);
	strcpy(c.net, "office");
	g_assert_cmpint(trust_cert_sign(&c, net_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0), ==, TRUST_E_NETWORK);
	/* 4: no verify function: nothing is trusted. */
	make_alice(&c);
	ctx.verify = NULL;
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0), ==, TRUST_E_SIGNATURE);
}

/* Every bit flipped in every byte of a valid record: never a trusted record. */
static void tamper(const uint8_t *good, size_t n, int (*parse_check)(const uint8_t *, size_t))
{
	uint8_t buf[TRUST_CERT_MAX];

	g_assert_cmpint(parse_check(good, n), ==, TRUST_OK);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, good, n);
			buf[i] ^= (uint8_t)(1u << bit);
			if (parse_check(buf, n) == TRUST_OK)
				g_error("byte %zu bit %d flipped still trusted", i, bit);
		}
	}
	/* Truncated at every length, and one byte too many. */
	for (size_t k = 0; k < n; k++)
		g_assert_cmpint(parse_check(good, k), !=, TRUST_OK);
	memcpy(buf, good, n);
	buf[n] = 0;
	g_assert_cmpint(parse_check(buf, n + 1), ==, TRUST_E_MALFORMED);
}

static int cert_pc(const uint8_t *b, size_t n)
{
	struct trust_cert c;
	int ret = trust_cert_parse(&c, b, n);

	return ret ? ret : trust_cert_check(&ctx, &c, T0 + 7200);
}

static int revoke_pc(const uint8_t *b, size_t n)
{
	struct trust_revoke r;
	int ret = trust_revoke_parse(&r, b, n);

	return ret ? ret : trust_revoke_check(&ctx, &r);
}

static int ticket_pc(const uint8_t *b, size_t n)
{
	struct trust_ticket t;
	int ret = trust_ticket_parse(&t, b, n);

	return ret ? ret : trust_ticket_check(&ctx, &t, T0);
}

static struct trust_cert rot_cert;

static int rotation_pc(const uint8_t *b, size_t n)
{
	struct trust_rotation r;
	int ret = trust_rotation_parse(&r, b, n);

	return ret ? ret : trust_rotation_check(&ctx, &rot_cert, &r, T0 + 7200);
}

static void test_tamper(void)
{
	uint8_t buf[TRUST_CERT_MAX + 1];
	struct trust_cert c;
	struct trust_ticket t;
	struct trust_revoke r;

	setup_ctx();
	make_alice(&c);
	tamper(buf, trust_cert_encode(&c, buf, sizeof(buf) - 1), cert_pc);
	make_bob(&c);
	tamper(buf, trust_cert_encode(&c, buf, sizeof(buf) - 1), cert_pc);
	make_ticket(&t);
	tamper(buf, trust_ticket_encode(&t, buf, sizeof(buf) - 1), ticket_pc);
	make_revoke(&r);
	tamper(buf, trust_revoke_encode(&r, buf, sizeof(buf) - 1), revoke_pc);
	{
		struct trust_rotation ro;

		make_alice_dev(&rot_cert);
		make_rotation(&ro, 1);
		tamper(buf, trust_rotation_encode(&ro, buf, sizeof(buf) - 1), rotation_pc);
	}
}

/* Key rotations: signed by the cert's device key, chained to the cert's key, in order; a
 * revoked cert has none; an older one (replay) or the cert's own key after a rotation is stale. */
static void test_rotation(void)
{
	struct trust_cert c, other;
	struct trust_rotation r1, r2, r3, bad;
	struct trust_rotations *t = g_new0(struct trust_rotations, 1);

	setup_ctx();
	make_alice_dev(&c);
	make_rotation(&r1, 1);
	make_rotation(&r2, 2);
	make_rotation(&r3, 3);
	/* 1: the first rotation, in the cert's validity, by the device key */
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &r1, T0 + 3600), ==, TRUST_OK);
	/* 2: signed by the network key instead (the network does not rotate device keys) */
	bad = r1;
	g_assert_cmpint(trust_rotation_sign(&bad, net_seed), ==, 0);
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &bad, T0 + 3600), ==, TRUST_E_SIGNATURE);
	/* 3: signed by the device key of another cert (alice without device_seed as dev_key) */
	make_alice(&other);
	g_assert_cmpint(trust_rotation_check(&ctx, &other, &r1, T0 + 3600), ==, TRUST_E_SIGNATURE);
	/* 4: for another serial, name or network */
	bad = r1;
	bad.serial++;
	g_assert_cmpint(trust_rotation_sign(&bad, device_seed), ==, 0);
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &bad, T0 + 3600), ==, TRUST_E_ROTATION);
	bad = r1;
	strcpy(bad.name, "bob");
	g_assert_cmpint(trust_rotation_sign(&bad, device_seed), ==, 0);
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &bad, T0 + 3600), ==, TRUST_E_ROTATION);
	bad = r1;
	strcpy(bad.net, "office");
	g_assert_cmpint(trust_rotation_sign(&bad, device_seed), ==, 0);
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &bad, T0 + 3600), ==, TRUST_E_ROTATION);
	/* 5: a first rotation that does not start from the cert's key */
	bad = r1;
	memset(bad.old_wg, 0x55, TRUST_KEY_LEN);
	g_assert_cmpint(trust_rotation_sign(&bad, device_seed), ==, 0);
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &bad, T0 + 3600), ==, TRUST_E_ROTATION);
	/* 6: new key = old key */
	bad = r1;
	memcpy(bad.new_wg, bad.old_wg, TRUST_KEY_LEN);
	g_assert_cmpint(trust_rotation_sign(&bad, device_seed), ==, 0);
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &bad, T0 + 3600), ==, TRUST_E_ROTATION);
	/* 7: dated before the cert (beyond the skew), or in the future */
	bad = r1;
	bad.rotated_at = T0 - 301;
	g_assert_cmpint(trust_rotation_sign(&bad, device_seed), ==, 0);
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &bad, T0 + 3600), ==, TRUST_E_ROTATION);
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &r1, T0 + 3600 - 300), ==, TRUST_OK);
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &r1, T0 + 3600 - 301), ==,
			TRUST_E_NOT_YET_VALID);
	/* 8: seq 0 does not parse or encode */
	bad = r1;
	bad.seq = 0;
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &bad, T0 + 3600), ==, TRUST_E_MALFORMED);
	/* 9: a later rotation does not need the cert's key as old key (the chain is kept by the
	 * table below) */
	g_assert_cmpint(trust_rotation_check(&ctx, &c, &r2, T0 + 7200), ==, TRUST_OK);
	/* 10: a revoked device has no valid rotation: callers check the cert first */
	g_assert_cmpint(trust_revlist_add(&revoked, c.serial), ==, TRUST_OK);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 3600), ==, TRUST_E_REVOKED);
	memset(&revoked, 0, sizeof(revoked));

	/* Order: the cert's own key until a rotation is seen, then never again. */
	g_assert_cmpint(trust_rotations_use(t, &c, NULL), ==, TRUST_OK);
	g_assert_cmpint(trust_rotations_use(t, &c, &r1), ==, TRUST_OK);
	g_assert_cmpint(trust_rotations_use(t, &c, &r1), ==, TRUST_OK);	/* restated */
	g_assert_cmpint(trust_rotations_use(t, &c, NULL), ==, TRUST_E_STALE);
	g_assert_cmpint(trust_rotations_use(t, &c, &r2), ==, TRUST_OK);
	g_assert_cmpint(trust_rotations_use(t, &c, &r1), ==, TRUST_E_STALE);	/* replay */
	g_assert_cmpint(trust_rotations_use(t, &c, NULL), ==, TRUST_E_STALE);
	g_assert_cmpmem(trust_rotations_find(t, c.serial)->wg_key, TRUST_KEY_LEN, r2.new_wg,
			TRUST_KEY_LEN);
	/* the same seq with another key (a fork) is refused */
	bad = r2;
	memset(bad.new_wg, 0x77, TRUST_KEY_LEN);
	g_assert_cmpint(trust_rotations_use(t, &c, &bad), ==, TRUST_E_STALE);
	/* the next seq must start from the key held */
	bad = r3;
	memset(bad.old_wg, 0x77, TRUST_KEY_LEN);
	g_assert_cmpint(trust_rotations_use(t, &c, &bad), ==, TRUST_E_ROTATION);
	g_assert_cmpint(trust_rotations_use(t, &c, &r3), ==, TRUST_OK);
	/* a verifier that missed rotations takes the newest */
	memset(t, 0, sizeof(*t));
	g_assert_cmpint(trust_rotations_use(t, &c, &r3), ==, TRUST_OK);
	g_assert_cmpint(trust_rotations_use(t, &c, &r2), ==, TRUST_E_STALE);
	/* Limit: a full table refuses rotations of new certs, keeps the ones it has. */
	memset(t, 0, sizeof(*t));
	other = c;
	for (size_t i = 0; i < TRUST_ROTATIONS_MAX; i++) {
		other.serial = 1000 + i;
		g_assert_cmpint(trust_rotations_use(t, &other, &r1), ==, TRUST_OK);
	}
	g_assert_cmpint(trust_rotations_use(t, &c, &r1), ==, TRUST_E_FULL);
	other.serial = 1000;
	g_assert_cmpint(trust_rotations_use(t, &other, &r2), ==, TRUST_OK);
	g_free(t);
}

/* Tickets: the enrolling device may restate the ticket, nothing more; one binding per ticket. */
static void test_ticket(void)
{
	struct trust_cert c, c2;
	struct trust_bindings *b = g_new0(struct trust_bindings, 1);

	setup_ctx();
	/* 1: a name other than the ticket's */
	make_bob(&c);
	strcpy(c.name, "alice");
	g_assert_cmpint(trust_cert_sign(&c, ticket_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 7200), ==, TRUST_E_TICKET);
	/* 2: another address */
	make_bob(&c);
	pfx(&c.addrs[0], "10.10.0.2/24");
	g_assert_cmpint(trust_cert_sign(&c, ticket_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 7200), ==, TRUST_E_TICKET);
	/* 3: longer-lived than the ticket allows */
	make_bob(&c);
	c.not_after = c.ticket.cert_not_after + 1;
	g_assert_cmpint(trust_cert_sign(&c, ticket_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 7200), ==, TRUST_E_TICKET);
	/* 4: made after the ticket's use-by */
	make_bob(&c);
	c.not_before = c.ticket.use_by + 1;
	g_assert_cmpint(trust_cert_sign(&c, ticket_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 90000), ==, TRUST_E_TICKET);
	/* 5: another serial */
	make_bob(&c);
	c.serial++;
	g_assert_cmpint(trust_cert_sign(&c, ticket_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 7200), ==, TRUST_E_TICKET);
	/* 6: signed by the network key instead of the ticket key */
	make_bob(&c);
	g_assert_cmpint(trust_cert_sign(&c, net_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 7200), ==, TRUST_E_SIGNATURE);
	/* 7: a ticket signed by someone else (its holder cannot mint tickets) */
	make_bob(&c);
	g_assert_cmpint(trust_ticket_sign(&c.ticket, ticket_seed), ==, 0);
	g_assert_cmpint(trust_cert_sign(&c, ticket_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 7200), ==, TRUST_E_SIGNATURE);
	/* 8: routes are not the ticket's to grant */
	make_bob(&c);
	c.n_routes = 1;
	pfx(&c.routes[0], "0.0.0.0/0");
	g_assert_cmpint(trust_cert_sign(&c, ticket_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c, T0 + 7200), ==, TRUST_E_TICKET);

	/* One binding: the first key wins, the same one is accepted again, another is refused. */
	make_bob(&c);
	make_bob(&c2);
	memset(c2.wg_key, 0x66, sizeof(c2.wg_key));
	g_assert_cmpint(trust_cert_sign(&c2, ticket_seed), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c2, T0 + 7200), ==, TRUST_OK);
	g_assert_cmpint(trust_bindings_use(b, &c), ==, TRUST_OK);
	g_assert_cmpint(trust_bindings_use(b, &c), ==, TRUST_OK);
	g_assert_cmpint(trust_bindings_use(b, &c2), ==, TRUST_E_TICKET_REUSED);
	memcpy(c2.wg_key, c.wg_key, TRUST_KEY_LEN);
	memset(c2.dev_key, 0x67, TRUST_KEY_LEN);
	g_assert_cmpint(trust_bindings_use(b, &c2), ==, TRUST_E_TICKET_REUSED);
	g_assert_cmpuint(b->n, ==, 1);
	/* A cert without a ticket binds nothing. */
	make_alice(&c);
	g_assert_cmpint(trust_bindings_use(b, &c), ==, TRUST_OK);
	g_assert_cmpuint(b->n, ==, 1);
	/* Limit: a full table refuses a new ticket, keeps honouring known ones. */
	make_bob(&c);
	for (uint64_t i = b->n; i < TRUST_BINDINGS_MAX; i++) {
		c2 = c;
		c2.ticket.id = 1000 + i;
		g_assert_cmpint(trust_bindings_use(b, &c2), ==, TRUST_OK);
	}
	c2.ticket.id = 99;
	g_assert_cmpint(trust_bindings_use(b, &c2), ==, TRUST_E_FULL);
	g_assert_cmpint(trust_bindings_use(b, &c), ==, TRUST_OK);
	g_free(b);

	/* An expired ticket is refused to the joiner. */
	make_bob(&c);
	g_assert_cmpint(trust_ticket_check(&ctx, &c.ticket, T0 + 86400 + 300), ==, TRUST_OK);
	g_assert_cmpint(trust_ticket_check(&ctx, &c.ticket, T0 + 86400 + 301), ==, TRUST_E_EXPIRED);
}

/* Revocations: a signed record puts a serial on the list; listed serials are refused. */
static void test_revoke(void)
{
	struct trust_cert alice, bob;
	struct trust_revoke r;

	setup_ctx();
	make_alice(&alice);
	make_bob(&bob);
	make_revoke(&r);
	g_assert_cmpint(trust_revoke_check(&ctx, &r), ==, TRUST_OK);
	g_assert_cmpint(trust_revlist_add(&revoked, r.serial), ==, TRUST_OK);
	g_assert_cmpint(trust_cert_check(&ctx, &alice, T0), ==, TRUST_E_REVOKED);
	g_assert_cmpint(trust_cert_check(&ctx, &bob, T0 + 7200), ==, TRUST_OK);
	/* A revoked ticket kills every cert made from it, and the ticket itself. */
	g_assert_cmpint(trust_revlist_add(&revoked, bob.ticket.id), ==, TRUST_OK);
	g_assert_cmpint(trust_cert_check(&ctx, &bob, T0 + 7200), ==, TRUST_E_REVOKED);
	g_assert_cmpint(trust_ticket_check(&ctx, &bob.ticket, T0), ==, TRUST_E_REVOKED);
	/* A revocation by another key does nothing. */
	g_assert_cmpint(trust_key_public(r.issuer, other_seed), ==, 0);
	g_assert_cmpint(trust_revoke_sign(&r, other_seed), ==, 0);
	g_assert_cmpint(trust_revoke_check(&ctx, &r), ==, TRUST_E_ISSUER);

	/* The list: sorted, no duplicates, serial 0 refused, full at TRUST_REVOKED_MAX. */
	memset(&revoked, 0, sizeof(revoked));
	g_assert_cmpint(trust_revlist_add(&revoked, 0), ==, TRUST_E_MALFORMED);
	for (uint64_t i = TRUST_REVOKED_MAX; i >= 1; i--)
		g_assert_cmpint(trust_revlist_add(&revoked, i * 7), ==, TRUST_OK);
	g_assert_cmpint(trust_revlist_add(&revoked, 7), ==, TRUST_OK);
	g_assert_cmpuint(revoked.n, ==, TRUST_REVOKED_MAX);
	g_assert_cmpint(trust_revlist_add(&revoked, 8), ==, TRUST_E_FULL);
	for (size_t i = 1; i < revoked.n; i++)
		g_assert_cmpuint(revoked.serial[i - 1], <, revoked.serial[i]);
	g_assert_true(trust_revlist_has(&revoked, 7 * 500));
	g_assert_false(trust_revlist_has(&revoked, 7 * 500 + 1));
	g_assert_false(trust_revlist_has(&revoked, 0));
}

/* Network DNS settings: 192.168.1.1 and fd00::53, search corp.example and lab. */
static void make_settings(struct trust_settings *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->net, "home");
	s->serial = 1000;
	s->issued_at = T0;
	s->n_dns = 2;
	pfx(&s->dns[0], "192.168.1.1/32");
	pfx(&s->dns[1], "fd00::53/128");
	s->n_search = 2;
	strcpy(s->search[0], "corp.example");
	strcpy(s->search[1], "lab");
	g_assert_cmpint(trust_key_public(s->issuer, net_seed), ==, 0);
	g_assert_cmpint(trust_settings_sign(s, net_seed), ==, 0);
}

static int settings_pc(const uint8_t *b, size_t n)
{
	struct trust_settings s;
	int ret = trust_settings_parse(&s, b, n);

	return ret ? ret : trust_settings_check(&ctx, &s);
}

/* Only the network key's settings are trusted; every bit flipped, every truncation, another
 * issuer or network refused; limits at and past the edge; the text form round-trips. */
static void test_settings(void)
{
	static const struct { const char *domain; bool ok; } domains[] = {
		/* 1 */ { "corp.example", true }, /* 2 */ { "a", true }, /* 3 */ { "x-1.Y2", true },
		/* 4 */ { "", false }, /* 5 */ { "a..b", false }, /* 6 */ { "a.", false },
		/* 7 */ { ".a", false }, /* 8 */ { "-a.b", false }, /* 9 */ { "a-.b", false },
		/* 10 */ { "a_b", false }, /* 11 */ { "a b", false }, /* 12 */ { "a/b", false },
	};
	uint8_t buf[TRUST_SETTINGS_MAX + 1];
	char text[TRUST_SETTINGS_B64_MAX + 1];
	struct trust_settings s, s2;
	size_t n;

	setup_ctx();
	make_settings(&s);
	g_assert_cmpint(trust_settings_check(&ctx, &s), ==, TRUST_OK);
	n = trust_settings_encode(&s, buf, sizeof(buf) - 1);
	g_assert_cmpuint(n, >, 0);
	tamper(buf, n, settings_pc);
	g_assert_cmpint(trust_settings_to_base64(text, sizeof(text), &s), ==, 0);
	g_assert_cmpint(trust_settings_from_base64(&s2, text, strlen(text)), ==, TRUST_OK);
	g_assert_cmpint(trust_settings_check(&ctx, &s2), ==, TRUST_OK);
	g_assert_cmpstr(s2.search[0], ==, "corp.example");
	g_assert_true(trust_prefix_eq(&s2.dns[1], &s.dns[1]));
	g_assert_cmpint(trust_settings_from_base64(&s2, "AAAA", 4), ==, TRUST_E_MALFORMED);
	/* a DNS server that is not one address: the plen byte after 192.168.1.1 */
	memcpy(buf + 4 + 1 + 4 + 16 + 1 + 1 + 4, (const uint8_t[]){ 24 }, 1);
	g_assert_cmpint(trust_settings_parse(&s2, buf, n), ==, TRUST_E_MALFORMED);
	s.dns[0].plen = 24;
	g_assert_cmpuint(trust_settings_encode(&s, buf, sizeof(buf)), ==, 0);
	/* another key, another network */
	make_settings(&s);
	g_assert_cmpint(trust_key_public(s.issuer, other_seed), ==, 0);
	g_assert_cmpint(trust_settings_sign(&s, other_seed), ==, 0);
	g_assert_cmpint(trust_settings_check(&ctx, &s), ==, TRUST_E_ISSUER);
	make_settings(&s);
	strcpy(s.net, "work");
	g_assert_cmpint(trust_settings_sign(&s, net_seed), ==, 0);
	g_assert_cmpint(trust_settings_check(&ctx, &s), ==, TRUST_E_NETWORK);
	/* limits: 4 servers, 8 search domains of 63 characters fit; one more does not */
	make_settings(&s);
	s.n_dns = TRUST_DNS_MAX;
	for (size_t i = 2; i < TRUST_DNS_MAX; i++)
		s.dns[i] = s.dns[0];
	s.n_search = TRUST_SEARCH_MAX;
	for (size_t i = 0; i < TRUST_SEARCH_MAX; i++) {
		memset(s.search[i], 'a', TRUST_DOMAIN_MAX);
		s.search[i][TRUST_DOMAIN_MAX] = '\0';
		s.search[i][31] = '.';
	}
	g_assert_cmpint(trust_settings_sign(&s, net_seed), ==, 0);
	n = trust_settings_encode(&s, buf, sizeof(buf));
	/* the maximum less a 60-byte shorter network name and three IPv4 servers (12 bytes each) */
	g_assert_cmpuint(n, ==, TRUST_SETTINGS_MAX - 60 - 3 * 12);
	g_assert_cmpint(settings_pc(buf, n), ==, TRUST_OK);
	s.n_dns = TRUST_DNS_MAX + 1;
	g_assert_cmpuint(trust_settings_encode(&s, buf, sizeof(buf)), ==, 0);
	s.n_dns = TRUST_DNS_MAX;
	s.n_search = TRUST_SEARCH_MAX + 1;
	g_assert_cmpuint(trust_settings_encode(&s, buf, sizeof(buf)), ==, 0);
	s.n_search = 1;
	memset(s.search[0], 'a', TRUST_DOMAIN_MAX);
	s.search[0][TRUST_DOMAIN_MAX] = 'a';	/* 64 characters: not terminated within the max */
	g_assert_cmpuint(trust_settings_encode(&s, buf, sizeof(buf)), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(domains); i++) {
		make_settings(&s);
		s.n_search = 1;
		strcpy(s.search[0], domains[i].domain);
		g_assert_cmpint(trust_settings_encode(&s, buf, sizeof(buf)) > 0, ==, domains[i].ok);
	}
}

/* Message binding: the claims of a join / peers entry / offer against the cert. */
static void test_matches(void)
{
	struct trust_cert c;
	uint8_t k[32];

	setup_ctx();
	make_alice(&c);
	memset(k, 0xa1, sizeof(k));
	/* 1 */ g_assert_cmpint(trust_cert_matches(&c, "alice", k, ""), ==, TRUST_OK);
	/* 2 */ g_assert_cmpint(trust_cert_matches(&c, "alice", k, "10.10.0.2/24"), ==, TRUST_OK);
	/* 3 */ g_assert_cmpint(trust_cert_matches(&c, "alice", k, "fd00:0::2/64"), ==, TRUST_OK);
	/* 4 */ g_assert_cmpint(trust_cert_matches(&c, "alice", k, "10.10.0.3/24"), ==, TRUST_E_ADDRESS);
	/* 5 */ g_assert_cmpint(trust_cert_matches(&c, "alice", k, "10.10.0.2/16"), ==, TRUST_E_ADDRESS);
	/* 6 */ g_assert_cmpint(trust_cert_matches(&c, "alice", k, "junk"), ==, TRUST_E_ADDRESS);
	/* 7 */ g_assert_cmpint(trust_cert_matches(&c, "mallory", k, ""), ==, TRUST_E_NAME);
	/* 8 */ g_assert_cmpint(trust_cert_matches(&c, "alic", k, ""), ==, TRUST_E_NAME);
	/* 9 */ g_assert_cmpint(trust_cert_matches(&c, "alicee", k, ""), ==, TRUST_E_NAME);
	k[31] ^= 1;
	/* 10 */ g_assert_cmpint(trust_cert_matches(&c, "alice", k, ""), ==, TRUST_E_KEY);
}

static void test_prefix(void)
{
	static const struct { const char *in, *out; } cases[] = {
		/* 1 */ { "10.10.0.2/24", "10.10.0.2/24" },
		/* 2 */ { "0.0.0.0/0", "0.0.0.0/0" },
		/* 3 */ { "255.255.255.255/32", "255.255.255.255/32" },
		/* 4 */ { "fd00::2/64", "fd00::2/64" },
		/* 5 */ { "FD00:0:0:0:0:0:0:2/64", "fd00::2/64" },
		/* 6 */ { "::/0", "::/0" },
		/* 7 */ { "::1/128", "::1/128" },
		/* 8 */ { "1:0:0:2:0:0:0:3/48", "1:0:0:2::3/48" },
		/* 9 */ { "1:0:2:0:3:0:4:0/64", "1:0:2:0:3:0:4:0/64" },
		/* 10 */ { "fe80::/10", "fe80::/10" },
		/* 11 */ { "10.10.0.2", NULL },
		/* 12 */ { "10.10.0.2/33", NULL },
		/* 13 */ { "10.10.0.256/24", NULL },
		/* 14 */ { "010.10.0.2/24", NULL },
		/* 15 */ { "10.10.0/24", NULL },
		/* 16 */ { "fd00::2::3/64", NULL },
		/* 17 */ { "fd00:::2/64", NULL },
		/* 18 */ { "1:2:3:4:5:6:7:8:9/64", NULL },
		/* 19 */ { "12345::/64", NULL },
		/* 20 */ { "fd00::2/129", NULL },
		/* 21 */ { ":1::/64", NULL },
		/* 22 */ { "1:/64", NULL },
		/* 23 */ { "10.10.0.2/024", NULL },
		/* 24 */ { "10.10.0.2/", NULL },
		/* 25 */ { "1:2:3:4:5:6:7::8/64", NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct trust_prefix p;
		char out[TRUST_PREFIX_STR_MAX];
		bool ok = trust_prefix_parse(&p, cases[i].in, strlen(cases[i].in));

		if (ok != (cases[i].out != NULL))
			g_error("case %zu: '%s' parse %d", i + 1, cases[i].in, ok);
		if (!ok)
			continue;
		trust_prefix_format(&p, out);
		g_assert_cmpstr(out, ==, cases[i].out);
	}
}

/* Base64 text and a few malformed records. */
static void test_text(void)
{
	char b64[TRUST_CERT_B64_MAX + 1];
	struct trust_cert c, c2;
	static const uint8_t junk[][8] = {
		{ 0 }, { 'r', 'g', 2, 1 }, { 'r', 'g', 1, 9 }, { 'r', 'g', 1, 1, 0 },
		{ 'r', 'g', 1, 1, 65 },
	};

	setup_ctx();
	make_bob(&c);
	g_assert_cmpint(trust_cert_to_base64(b64, sizeof(b64), &c), ==, 0);
	g_assert_cmpint(trust_cert_from_base64(&c2, b64, strlen(b64)), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c2, T0 + 7200), ==, TRUST_OK);
	g_assert_cmpint(trust_cert_from_base64(&c2, b64, strlen(b64) - 1), ==, TRUST_E_MALFORMED);
	g_assert_cmpint(trust_cert_to_base64(b64, 10, &c), ==, -EINVAL);
	for (size_t i = 0; i < G_N_ELEMENTS(junk); i++)
		g_assert_cmpint(trust_cert_parse(&c2, junk[i], sizeof(junk[i])), ==, TRUST_E_MALFORMED);
	/* An encoder refuses what a parser would: zero serial, bad family, a name out of alphabet. */
	make_alice(&c);
	c.serial = 0;
	g_assert_cmpuint(trust_cert_encode(&c, (uint8_t *)b64, sizeof(b64)), ==, 0);
	make_alice(&c);
	c.addrs[0].family = 5;
	g_assert_cmpuint(trust_cert_encode(&c, (uint8_t *)b64, sizeof(b64)), ==, 0);
	make_alice(&c);
	strcpy(c.name, "a b");
	g_assert_cmpuint(trust_cert_encode(&c, (uint8_t *)b64, sizeof(b64)), ==, 0);
	make_alice(&c);
	c.n_addrs = 0;
	g_assert_cmpuint(trust_cert_encode(&c, (uint8_t *)b64, sizeof(b64)), ==, 0);
	/* At the limits: 64-character names, TRUST_ADDRS_MAX addresses, TRUST_ROUTES_MAX routes. */
	make_alice(&c);
	memset(c.name, 'n', TRUST_NAME_MAX);
	c.name[TRUST_NAME_MAX] = '\0';
	c.n_addrs = TRUST_ADDRS_MAX;
	c.n_routes = TRUST_ROUTES_MAX;
	for (int i = 0; i < TRUST_ADDRS_MAX; i++)
		pfx(&c.addrs[i], "fd00::1/64");
	for (int i = 0; i < TRUST_ROUTES_MAX; i++)
		pfx(&c.routes[i], "fd01::/48");
	g_assert_cmpint(trust_cert_sign(&c, net_seed), ==, 0);
	g_assert_cmpint(trust_cert_to_base64(b64, sizeof(b64), &c), ==, 0);
	g_assert_cmpint(trust_cert_from_base64(&c2, b64, strlen(b64)), ==, 0);
	g_assert_cmpint(trust_cert_check(&ctx, &c2, T0), ==, TRUST_OK);
	c.n_routes = TRUST_ROUTES_MAX + 1;
	g_assert_cmpuint(trust_cert_encode(&c, (uint8_t *)b64, sizeof(b64)), ==, 0);
}

static void test_fingerprint(void)
{
	uint8_t pub[32];
	char f[TRUST_FINGERPRINT_LEN + 1];

	g_assert_cmpint(trust_key_public(pub, net_seed), ==, 0);
	trust_fingerprint(f, pub);
	g_assert_cmpuint(strlen(f), ==, TRUST_FINGERPRINT_LEN);
	g_assert_true(g_str_has_prefix(f, "SHA256:"));
	g_assert_cmpstr(f, ==, GOLDEN_FINGERPRINT);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/trust/cert/golden", test_golden);
	g_test_add_func("/trust/cert/validity", test_validity);
	g_test_add_func("/trust/cert/issuer", test_issuer);
	g_test_add_func("/trust/cert/tamper", test_tamper);
	g_test_add_func("/trust/cert/ticket", test_ticket);
	g_test_add_func("/trust/cert/revoke", test_revoke);
	g_test_add_func("/trust/cert/rotation", test_rotation);
	g_test_add_func("/trust/cert/settings", test_settings);
	g_test_add_func("/trust/cert/matches", test_matches);
	g_test_add_func("/trust/cert/prefix", test_prefix);
	g_test_add_func("/trust/cert/text", test_text);
	g_test_add_func("/trust/cert/fingerprint", test_fingerprint);
	return g_test_run();
}
