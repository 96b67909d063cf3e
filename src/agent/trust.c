/* Signed membership in the agent (docs/membership.md): the one gate every identity claim from
 * the hub passes (agent_trust_vouch, called from peer_learn), our own certificate for join and
 * offer/answer, and revocations: persisted, applied to live peers at once (their WireGuard peer
 * and connection go), and passed on to every peer on the hub. Agent loop only.
 *
 * In a network without a trust anchor every claim passes, and peers show as `unverified`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent-int.h"
#include "agent/dns.h"
#include "conf/config.h"
#include "signal/client.h"
#include "trust/store.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/err.h"
#include "util/log.h"
#include "util/x25519.h"

static uint64_t now_s(void)
{
	return rg_wall_ns() / RG_NSEC_PER_SEC;
}

static void keep_revoke_text(struct agent *a, const struct trust_revoke *r)
{
	char text[TRUST_REVOKE_B64_MAX + 1];

	if (trust_revoke_to_base64(text, sizeof(text), r) == 0)
		g_ptr_array_add(a->revocations, g_strdup(text));
}

static void load_revoke_cb(void *opaque, const struct trust_revoke *r)
{
	keep_revoke_text(opaque, r);
}

/* ---- network DNS settings (docs/routes.md#signed-dns-settings) ---- */

static char *settings_path(const struct agent *a)
{
	return g_build_filename(a->trust->dir, "settings", NULL);
}

/* Verified against the anchor: TRUST_OK and *out, or why not. */
static int settings_verify(struct agent *a, const char *text, struct trust_settings *out)
{
	struct trust_ctx ctx;
	int v = trust_settings_from_base64(out, text, strlen(text));

	trust_store_ctx(a->trust, &ctx);
	return v != TRUST_OK ? v : trust_settings_check(&ctx, out);
}

static void settings_keep(struct agent *a, const char *text, const struct trust_settings *s)
{
	g_free(a->settings_b64);
	a->settings_b64 = g_strdup(text);
	if (!a->settings)
		a->settings = g_new0(struct trust_settings, 1);
	*a->settings = *s;
}

/* The settings this device took last time (the file is ours: still verified, a bad one is
 * ignored with a warning). */
static void load_settings(struct agent *a)
{
	g_autofree char *text = NULL, *path = settings_path(a);
	struct trust_settings s;
	int v;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return;
	g_strstrip(text);
	if ((v = settings_verify(a, text, &s)) != TRUST_OK) {
		rg_log(RG_LOG_WARN, "membership: %s ignored: %s", path, trust_verdict_str(v));
		return;
	}
	settings_keep(a, text, &s);
}

static void settings_refuse(struct agent *a, const char *from, int verdict)
{
	uint32_t bit = 1u << (-verdict & 31);

	a->settings_refused++;
	if (a->settings_logged & bit)
		return;		/* each reason logged once */
	a->settings_logged |= bit;
	rg_log(RG_LOG_WARN, "membership: network DNS settings from %s refused: %s; not used",
	       from, trust_verdict_str(verdict));
}

/* A record from the hub: refused unless the network key signed it; taken when newer than ours
 * (persisted, applied to the responder). True when taken: the caller passes it on. */
static bool take_settings(struct agent *a, const char *text, const char *from)
{
	struct trust_settings s;
	g_autoptr(GError) e = NULL;
	g_autofree char *path = NULL;
	int v = settings_verify(a, text, &s);

	if (v != TRUST_OK) {
		settings_refuse(a, from, v);
		return false;
	}
	if (a->settings && s.serial <= a->settings->serial)
		return false;		/* what we have, or older */
	settings_keep(a, text, &s);
	path = settings_path(a);
	if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e))
		rg_log(RG_LOG_WARN, "membership: network DNS settings not saved: %s", e->message);
	rg_log(RG_LOG_INFO, "membership: network DNS settings %016llx from %s taken (%u servers, %u "
	       "search domains)", (unsigned long long)s.serial, from, s.n_dns, s.n_search);
	agent_dns_use_settings(a->dns, &s);
	return true;
}

int agent_trust_init(struct agent *a, const char *config_path, struct rg_err *err)
{
	struct trust_ctx ctx;
	uint8_t wg_pub[TRUST_KEY_LEN];
	char text[TRUST_CERT_B64_MAX + 1];
	int r, v;

	a->revocations = g_ptr_array_new_with_free_func(g_free);
	if (!config_path)
		return 0;
	a->trust_config = g_strdup(config_path);
	a->trust = trust_store_new();
	if (!a->trust)
		return rg_err_set(err, -ENOMEM, "out of memory");
	if ((r = trust_store_load(a->trust, config_path, a->network, err)) < 0)
		return r;
	if (!a->trust->has_anchor) {
		trust_store_free(a->trust);
		a->trust = NULL;
		return 0;
	}
	if (!a->trust->has_cert)
		return rg_err_set(err, -ENOENT, "%s/cert: this device has no certificate (join "
				  "with an invite from the admin device)", a->trust->dir);
	/* Our own certificate must be one the others accept, for our name, key and address. */
	rg_key_from_base64(wg_pub, a->key_b64);
	trust_store_ctx(a->trust, &ctx);
	v = trust_cert_check(&ctx, &a->trust->cert, now_s());
	if (v == TRUST_OK) {
		struct trust_cert now = a->trust->cert;	/* under its newest key rotation */

		memcpy(now.wg_key, trust_store_wg_key(a->trust), TRUST_KEY_LEN);
		v = trust_cert_matches(&now, a->peer_id, wg_pub, a->address);
	}
	if (v != TRUST_OK)
		return rg_err_set(err, -EKEYREJECTED, "%s/cert%s: %s", a->trust->dir,
				  a->trust->has_rotation ? " and rotation" : "",
				  trust_verdict_str(v));
	if (trust_cert_to_base64(text, sizeof(text), &a->trust->cert) < 0)
		return rg_err_set(err, -EINVAL, "%s/cert does not encode", a->trust->dir);
	a->cert_b64 = g_strdup(text);
	if (a->trust->has_rotation &&
	    trust_rotation_to_base64(text, sizeof(text), &a->trust->rotation) == 0)
		a->rotation_b64 = g_strdup(text);
	trust_store_each_revoke(a->trust, load_revoke_cb, a);
	load_settings(a);
	return 0;
}

void agent_trust_free(struct agent *a)
{
	trust_store_free(a->trust);
	a->trust = NULL;
	g_clear_pointer(&a->cert_b64, g_free);
	g_clear_pointer(&a->rotation_b64, g_free);
	g_clear_pointer(&a->trust_config, g_free);
	g_clear_pointer(&a->settings_b64, g_free);
	g_clear_pointer(&a->settings, g_free);
	if (a->revocations)
		g_ptr_array_free(a->revocations, TRUE);
	a->revocations = NULL;
}

/* Logged once per episode: a new reason, or the first after the peer was accepted. */
static bool reject(struct agent_peer *p, int verdict, const char *detail)
{
	char why[sizeof(p->trust_err)];

	if (verdict == TRUST_OK)
		g_snprintf(why, sizeof(why), "%s", detail);
	else
		g_snprintf(why, sizeof(why), "%s%s%s", trust_verdict_str(verdict), detail ? " " : "",
			 detail ? detail : "");
	if (strcmp(why, p->trust_err) != 0) {
		rg_log(RG_LOG_WARN, "peer %s: rejected: %s; nothing installed", p->id, why);
		g_strlcpy(p->trust_err, why, sizeof(p->trust_err));
	}
	p->rejects++;
	return false;
}

/* Another peer already holds a verified claim on this address: the newcomer is refused. */
static struct agent_peer *address_owner(struct agent *a, struct agent_peer *p,
					const struct trust_prefix *addr)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct agent_peer *q = v;
		struct trust_prefix qa;

		if (q == p || !q->verified || !q->wg ||
		    !trust_prefix_parse(&qa, q->address, strlen(q->address)))
			continue;
		if (qa.family == addr->family && !memcmp(qa.addr, addr->addr, 16))
			return q;
	}
	return NULL;
}

bool agent_trust_vouch(struct agent_peer *p, const char **key, const char **address,
		       const char *cert_b64, const char *rotation_b64)
{
	struct agent *a = p->a;
	struct trust_cert c, view;
	struct trust_rotation ro;
	struct trust_ctx ctx;
	struct agent_peer *owner;
	const struct trust_rotated *seen;
	bool has_ro = rotation_b64 && rotation_b64[0];
	uint32_t seen_seq;
	uint8_t k[TRUST_KEY_LEN];
	char owner_note[AGENT_ID_MAX + 32];
	struct rg_err err = { 0 };
	int v;

	if (!a->trust) {
		p->verified = false;
		return true;
	}
	if (!cert_b64 || !cert_b64[0]) {
		/* No certificate: only a restatement of what a certificate already gave us. The
		 * message's address is never used; the certificate's stays. */
		if (p->verified && p->wg && (!*key || !**key || strcmp(*key, p->key_b64) == 0)) {
			*key = NULL;
			*address = NULL;
			return true;
		}
		/* Not a refusal: peers entries carry no certificate (the hub does not copy them);
		 * nothing is installed until one comes with the offer or answer. */
		rg_log(RG_LOG_DEBUG, "peer %s: claim without a certificate ignored", p->id);
		return false;
	}
	if (trust_cert_from_base64(&c, cert_b64, strlen(cert_b64)) != TRUST_OK)
		return reject(p, TRUST_E_MALFORMED, NULL);
	trust_store_ctx(a->trust, &ctx);
	if ((v = trust_cert_check(&ctx, &c, now_s())) != TRUST_OK)
		return reject(p, v, NULL);
	/* A key rotation moves the certified key; its signer is the cert's device key. */
	view = c;
	if (has_ro) {
		if (trust_rotation_from_base64(&ro, rotation_b64, strlen(rotation_b64)) != TRUST_OK)
			return reject(p, TRUST_E_MALFORMED, "(key rotation)");
		if ((v = trust_rotation_check(&ctx, &c, &ro, now_s())) != TRUST_OK)
			return reject(p, v, "(key rotation)");
		memcpy(view.wg_key, ro.new_wg, TRUST_KEY_LEN);
	}
	if (*key && **key && !rg_key_from_base64(k, *key))
		return reject(p, TRUST_E_KEY, NULL);
	if ((v = trust_cert_matches(&view, p->id, *key && **key ? k : view.wg_key,
				    *address ? *address : "")) != TRUST_OK)
		return reject(p, v, NULL);
	if ((owner = address_owner(a, p, &c.addrs[0]))) {
		snprintf(owner_note, sizeof(owner_note), "(held by %s)", owner->id);
		return reject(p, TRUST_E_ADDRESS, owner_note);
	}
	{
		size_t before = a->trust->bindings.n;

		if ((v = trust_bindings_use(&a->trust->bindings, &c)) != TRUST_OK)
			return reject(p, v, NULL);
		if (a->trust->bindings.n != before &&
		    trust_store_save_bindings(a->trust, &err) < 0)
			rg_log(RG_LOG_WARN, "membership: cannot save ticket bindings: %s", err.msg);
	}
	/* Rotations in order: an older one (a replay), or the cert's own key once it was rotated,
	 * is refused. */
	seen = trust_rotations_find(&a->trust->rotations, c.serial);
	seen_seq = seen ? seen->seq : 0;
	if ((v = trust_rotations_use(&a->trust->rotations, &c, has_ro ? &ro : NULL)) != TRUST_OK)
		return reject(p, v, NULL);
	if (has_ro && ro.seq > seen_seq && trust_store_save_rotations(a->trust, &err) < 0)
		rg_log(RG_LOG_WARN, "membership: cannot save key rotations: %s", err.msg);
	p->vouched_rot_seq = has_ro ? ro.seq : 0;
	p->vouched_rekey = has_ro && p->verified && p->wg && p->serial == c.serial &&
			   ro.seq > p->rot_seq;
	/* What gets installed is the certificate's, not the message's. */
	rg_key_to_base64(p->vouched_key, view.wg_key);
	trust_prefix_format(&c.addrs[0], p->vouched_addr);
	*key = p->vouched_key;
	*address = p->vouched_addr;
	p->vouched_serial = c.serial;
	p->n_vouched_routes = 0;
	for (size_t i = 0; i < c.n_routes && i < G_N_ELEMENTS(p->vouched_routes); i++) {
		struct rg_prefix *r = &p->vouched_routes[p->n_vouched_routes++];

		memset(r, 0, sizeof(*r));
		r->family = c.routes[i].family == 6 ? AF_INET6 : AF_INET;
		memcpy(r->addr, c.routes[i].addr, 16);
		r->len = c.routes[i].plen;
	}
	if (p->trust_err[0])
		rg_log(RG_LOG_INFO, "peer %s: certificate accepted (serial %016llx)", p->id,
		       (unsigned long long)c.serial);
	p->trust_err[0] = '\0';
	return true;
}

void agent_trust_installed(struct agent_peer *p)
{
	if (!p->a->trust)
		return;
	p->verified = true;
	p->serial = p->vouched_serial;
	p->rot_seq = p->vouched_rot_seq;
	memcpy(p->cert_routes, p->vouched_routes, sizeof(p->cert_routes));
	p->n_cert_routes = p->n_vouched_routes;
}

const char *agent_trust_status(const struct agent_peer *p, char *buf, size_t cap)
{
	if (!p->a->trust)
		snprintf(buf, cap, "unverified");
	else if (p->verified && p->wg && p->rot_seq)
		snprintf(buf, cap, "verified (serial %016llx, key rotation %u)%s%s",
			 (unsigned long long)p->serial, (unsigned)p->rot_seq,
			 p->trust_err[0] ? "; refused a claim: " : "", p->trust_err);
	else if (p->verified && p->wg)
		snprintf(buf, cap, "verified (serial %016llx)%s%s", (unsigned long long)p->serial,
			 p->trust_err[0] ? "; refused a claim: " : "", p->trust_err);
	else if (p->trust_err[0])
		snprintf(buf, cap, "rejected: %s", p->trust_err);
	else
		snprintf(buf, cap, "waiting for a certificate");
	return buf;
}

/* ---- revocations ---- */

/* A revoke frame to one peer: revocations, and our settings record when with_settings. */
static void send_revocations(struct agent *a, const char *to, char **texts, size_t n,
			     bool with_settings)
{
	struct sig_msg m = { .type = SIG_MSG_REVOKE };

	with_settings = with_settings && a->settings_b64;
	if (!n && !with_settings)
		return;
	m.settings = with_settings ? g_strdup(a->settings_b64) : NULL;
	m.to = g_strdup(to);
	m.from = g_strdup(a->peer_id);
	m.revocations = g_new0(char *, n);
	for (size_t i = 0; i < n && i < SIG_MSG_REVOKE_MAX; i++)
		m.revocations[m.n_revocations++] = g_strdup(texts[i]);
	if (agent_send_signal(a, &m) < 0)
		rg_log(RG_LOG_DEBUG, "membership: revocations to %s not sent (hub away)", to);
	sig_msg_clear(&m);
}

void agent_trust_greet(struct agent *a, const char *peer_id)
{
	if (!a->trust)
		return;
	for (guint i = 0; i < a->revocations->len; i += SIG_MSG_REVOKE_MAX)
		send_revocations(a, peer_id, (char **)a->revocations->pdata + i,
				 MIN(a->revocations->len - i, (guint)SIG_MSG_REVOKE_MAX), i == 0);
	if (!a->revocations->len)
		send_revocations(a, peer_id, NULL, 0, true);
}

void agent_trust_share_settings(struct agent *a, const char *peer_id)
{
	if (a->trust)
		send_revocations(a, peer_id, NULL, 0, true);
}

/* Takes one record: verified, new → persisted, applied, and true (the caller passes it on). */
static bool take_revoke(struct agent *a, const char *text, const char *from)
{
	struct trust_revoke r;
	struct trust_ctx ctx;
	struct rg_err err = { 0 };
	GHashTableIter it;
	gpointer v;
	int vd;

	if (trust_revoke_from_base64(&r, text, strlen(text)) != TRUST_OK) {
		rg_log(RG_LOG_DEBUG, "membership: malformed revocation from %s ignored", from);
		return false;
	}
	trust_store_ctx(a->trust, &ctx);
	if ((vd = trust_revoke_check(&ctx, &r)) != TRUST_OK) {
		rg_log(RG_LOG_WARN, "membership: revocation from %s refused: %s", from,
		       trust_verdict_str(vd));
		return false;
	}
	if (trust_revlist_has(&a->trust->revoked, r.serial))
		return false;
	if (trust_store_add_revoke(a->trust, &r, &err) < 0)
		rg_log(RG_LOG_WARN, "membership: revocation not saved: %s", err.msg);
	if (!trust_revlist_has(&a->trust->revoked, r.serial))
		return false;	/* the list is full: refused above, logged */
	keep_revoke_text(a, &r);
	rg_log(RG_LOG_WARN, "membership: %s (serial %016llx) revoked%s", r.name,
	       (unsigned long long)r.serial,
	       a->trust->cert.serial == r.serial ? ": that is this device" : "");
	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct agent_peer *p = v;

		if (p->verified && p->serial == r.serial)
			agent_peer_revoke(p);
	}
	return true;
}

static void pass_on(struct agent *a, const char *text, const char *except)
{
	GHashTableIter it;
	gpointer v;
	char *one[1] = { (char *)text };

	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct agent_peer *p = v;

		if (p->present && (!except || strcmp(p->id, except) != 0))
			send_revocations(a, p->id, one, 1, false);
	}
}

static void share_settings_all(struct agent *a, const char *except)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct agent_peer *p = v;

		if (p->present && (!except || strcmp(p->id, except) != 0))
			send_revocations(a, p->id, NULL, 0, true);
	}
}

int agent_trust_settings_reload(struct agent *a, struct rg_err *err)
{
	g_autofree char *text = NULL, *path = NULL;
	struct trust_settings s;
	int v;

	if (!a->trust)
		return rg_err_set(err, -EINVAL, "this network is not signed");
	path = settings_path(a);
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return rg_err_set(err, -ENOENT, "%s: cannot read it", path);
	g_strstrip(text);
	if ((v = settings_verify(a, text, &s)) != TRUST_OK)
		return rg_err_set(err, -EKEYREJECTED, "%s: %s", path, trust_verdict_str(v));
	if (take_settings(a, text, "the control socket"))
		share_settings_all(a, NULL);
	return 0;
}

void agent_trust_on_revoke(struct agent *a, const struct sig_msg *m)
{
	const char *from = m->from ? m->from : "?";

	if (!a->trust) {
		/* nobody may push DNS settings to an unsigned network (bit 0: no verdict uses it) */
		if (m->settings && !(a->settings_refused++, a->settings_logged & 1)) {
			a->settings_logged |= 1;
			rg_log(RG_LOG_WARN, "membership: network DNS settings from %s refused: this "
			       "network is not signed", from);
		}
		return;
	}
	for (size_t i = 0; i < m->n_revocations; i++)
		if (take_revoke(a, m->revocations[i], from))
			pass_on(a, m->revocations[i], m->from);
	if (m->settings && take_settings(a, m->settings, from))
		share_settings_all(a, from);
}

int agent_trust_revoke_text(struct agent *a, const char *text, struct rg_err *err)
{
	struct trust_revoke r;
	struct trust_ctx ctx;
	int v;

	if (!a->trust)
		return rg_err_set(err, -EINVAL, "this network is not signed");
	if (trust_revoke_from_base64(&r, text, strlen(text)) != TRUST_OK)
		return rg_err_set(err, -EINVAL, "not a revocation record");
	trust_store_ctx(a->trust, &ctx);
	if ((v = trust_revoke_check(&ctx, &r)) != TRUST_OK)
		return rg_err_set(err, -EKEYREJECTED, "revocation refused: %s",
				  trust_verdict_str(v));
	/* Known already (the CLI wrote it to the file we share): still apply and pass on. */
	if (trust_revlist_has(&a->trust->revoked, r.serial)) {
		GHashTableIter it;
		gpointer pv;
		bool kept = false;

		for (guint i = 0; i < a->revocations->len; i++)
			kept |= strcmp(a->revocations->pdata[i], text) == 0;
		if (!kept)
			keep_revoke_text(a, &r);
		g_hash_table_iter_init(&it, a->peers);
		while (g_hash_table_iter_next(&it, NULL, &pv)) {
			struct agent_peer *p = pv;

			if (p->verified && p->serial == r.serial)
				agent_peer_revoke(p);
		}
		pass_on(a, text, NULL);
		return 0;
	}
	if (take_revoke(a, text, "the control socket"))
		pass_on(a, text, NULL);
	return 0;
}

bool agent_trust_reject(struct agent_peer *p, const char *detail)
{
	return reject(p, TRUST_E_KEY, detail);
}

/* ---- key rotation (riftgate rotate) ---- */

int agent_trust_rotate(struct agent *a, struct rg_err *err)
{
	struct trust_store *s = NULL;
	struct conf c;
	uint8_t pub[TRUST_KEY_LEN];
	char text[TRUST_ROTATION_B64_MAX + 1], old[AGENT_KEY_B64_MAX + 1];
	uint32_t have = 0;
	bool conf_loaded = false;
	int r;

	if (!a->trust)
		return rg_err_set(err, -EINVAL, "this network is not signed");
	if (a->trust->has_rotation)
		have = a->trust->rotation.seq;
	s = trust_store_new();
	if (!s)
		return rg_err_set(err, -ENOMEM, "out of memory");
	if ((r = trust_store_load(s, a->trust_config, a->network, err)) < 0)
		goto out;
	r = -EINVAL;
	if (!s->has_rotation || s->rotation.seq <= have ||
	    s->rotation.serial != a->trust->cert.serial) {
		rg_err_set(err, r, "no new key rotation in %s", s->dir);
		goto out;
	}
	if ((r = conf_load(&c, a->trust_config, err)) < 0)
		goto out;
	conf_loaded = true;
	r = -EKEYREJECTED;
	if (!rg_x25519_public(pub, c.private_key) ||
	    !rg_ct_eq(pub, s->rotation.new_wg, TRUST_KEY_LEN)) {
		rg_err_set(err, r, "%s: the private key is not the rotation's new key",
			   a->trust_config);
		goto out;
	}
	if (trust_rotation_to_base64(text, sizeof(text), &s->rotation) < 0 ||
	    wg_device_rotate_private_key(a->dev, c.private_key) < 0) {
		rg_err_set(err, r, "the new key cannot be used");
		goto out;
	}
	a->trust->rotation = s->rotation;
	a->trust->has_rotation = true;
	g_free(a->rotation_b64);
	a->rotation_b64 = g_strdup(text);
	g_strlcpy(old, a->key_b64, sizeof(old));
	rg_key_to_base64(a->key_b64, pub);
	rg_log(RG_LOG_INFO, "membership: key rotated (rotation %u): %.8s... -> %.8s...; telling "
	       "the peers through the hub", (unsigned)s->rotation.seq, old, a->key_b64);
	if (a->sig)
		sig_client_set_key(a->sig, a->key_b64, a->rotation_b64);
	r = 0;
out:
	if (conf_loaded) {
		rg_memzero(c.private_key, sizeof(c.private_key));
		conf_clear(&c);
	}
	trust_store_free(s);
	return r;
}

uint64_t agent_trust_serial(const struct agent *a)
{
	return a->trust ? a->trust->cert.serial : 0;
}
