/* Membership on the command line (docs/membership.md, docs/cli.md): `init --new-network` creates
 * the network key and the admin device's certificate, `invite` on the admin device adds a
 * one-time enrollment ticket to the token, `join` turns a ticket into the new device's own
 * certificate, `devices` lists and revokes, `rotate` gives this device a new WireGuard key under
 * its own device key. State files: src/trust/store.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "agent/ctl.h"
#include "agent/status.h"
#include "cli/cmds.h"
#include "cli/confpath.h"
#include "conf/config.h"
#include "conf/invite.h"
#include "conf/keys.h"
#include "trust/store.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/err.h"
#include "util/prefix.h"
#include "util/x25519.h"

enum trust_cli_limits {
	CERT_LIFETIME_S = 365 * 24 * 3600,	/* certificates the admin signs, tickets allow */
	ASK_TIMEOUT_MS = 3000,
};

static uint64_t now_s(void)
{
	return rg_wall_ns() / RG_NSEC_PER_SEC;
}

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", rg_prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

static void fmt_time(char *buf, size_t cap, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm))
		strftime(buf, cap, "%Y-%m-%d %H:%M UTC", &tm);
	else
		snprintf(buf, cap, "%llu", (unsigned long long)t);
}

static bool conf_prefix(const struct conf *c, struct trust_prefix *p)
{
	return c->address && trust_prefix_parse(p, c->address, strlen(c->address));
}

static void remove_state(const struct trust_store *s, const char *name)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	unlink(path);
}

int trust_cli_new_network(const struct conf *c, const char *config_path,
			  const uint8_t *wg_pub)
{
	struct trust_store *s = trust_store_new();
	struct trust_registry *reg = calloc(1, sizeof(*reg));
	char fpr[TRUST_FINGERPRINT_LEN + 1], b64[RG_KEY_B64_LEN + 1], until[48];
	struct rg_err err = { 0 };
	struct trust_cert *cert;
	uint64_t now = now_s();
	int ret = 1;

	if (!s || !reg) {
		fail("out of memory%s", "");
		goto out;
	}
	if (trust_store_path(s->dir, sizeof(s->dir), config_path) < 0) {
		fail("%s: path too long", config_path);
		goto out;
	}
	snprintf(s->net, sizeof(s->net), "%s", c->network_name);
	/* A new network: whatever an older one left here no longer applies. */
	remove_state(s, "registry");
	remove_state(s, "revoked");
	remove_state(s, "bindings");
	remove_state(s, "cert");
	if (trust_key_generate(s->net_seed, s->anchor) < 0 ||
	    trust_key_generate(s->dev_seed, s->cert.dev_key) < 0) {
		fail("cannot generate Ed25519 keys%s", "");
		goto out;
	}
	s->has_anchor = s->has_net_key = s->has_dev_key = true;
	cert = &s->cert;
	snprintf(cert->net, sizeof(cert->net), "%s", c->network_name);
	snprintf(cert->name, sizeof(cert->name), "%s", c->device_name);
	memcpy(cert->wg_key, wg_pub, TRUST_KEY_LEN);
	cert->n_addrs = 1;
	if (!conf_prefix(c, &cert->addrs[0])) {
		fail("address '%s' cannot go into a certificate", c->address);
		goto out;
	}
	cert->not_before = now;
	cert->not_after = now + CERT_LIFETIME_S;
	cert->serial = trust_random_serial();
	memcpy(cert->issuer, s->anchor, TRUST_KEY_LEN);
	if (!cert->serial || trust_cert_sign(cert, s->net_seed) < 0) {
		fail("cannot sign the certificate%s", "");
		goto out;
	}
	s->has_cert = true;
	reg->e[0] = (struct trust_reg_entry){ .serial = cert->serial, .addr = cert->addrs[0],
					      .not_after = cert->not_after };
	snprintf(reg->e[0].name, sizeof(reg->e[0].name), "%s", cert->name);
	reg->n = 1;
	if (trust_store_save(s, &err) < 0 || trust_registry_save(reg, s, &err) < 0) {
		fail("%s", err.msg);
		goto out;
	}
	trust_fingerprint(fpr, s->anchor);
	rg_key_to_base64(b64, s->anchor);
	fmt_time(until, sizeof(until), cert->not_after);
	printf("New network '%s': signing key in %s/network.key (keep it on this device; it is "
	       "never sent)\nTrust anchor: %s\nFingerprint: %s\nThis device's certificate: %s, "
	       "valid until %s\n", c->network_name, s->dir, b64, fpr, cert->name, until);
	ret = 0;
out:
	free(reg);
	trust_store_free(s);
	return ret;
}

static int load_store(struct trust_store **out, const struct conf *c, const char *config_path)
{
	struct rg_err err = { 0 };
	struct trust_store *s = trust_store_new();

	*out = NULL;
	if (!s)
		return fail("out of memory%s", "");
	if (trust_store_load(s, config_path, c->network_name, &err) < 0) {
		trust_store_free(s);
		return fail("%s", err.msg);
	}
	*out = s;
	return 0;
}

int trust_cli_registry_addrs(const struct conf *c, const char *config_path,
			     struct trust_prefix **addrs, size_t *n)
{
	struct trust_store *s = NULL;
	struct trust_registry *reg = NULL;
	struct rg_err err = { 0 };
	int ret = 1;

	*addrs = NULL;
	*n = 0;
	if (load_store(&s, c, config_path))
		return 1;
	if (!s->has_net_key) {
		ret = 0;
		goto out;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg || trust_registry_load(reg, s, &err) < 0) {
		fail("%s", reg ? err.msg : "out of memory");
		goto out;
	}
	*addrs = calloc(reg->n + 1, sizeof(**addrs));
	if (!*addrs)
		goto out;
	for (size_t i = 0; i < reg->n; i++)
		if (!reg->e[i].revoked)
			(*addrs)[(*n)++] = reg->e[i].addr;
	ret = 0;
out:
	free(reg);
	trust_store_free(s);
	return ret;
}

int trust_cli_invite_ticket(const struct conf *c, const char *config_path, const char *name,
			    const char *address, int64_t expires, uint8_t *ticket, size_t *ticket_len,
			    uint8_t *ticket_seed, bool *signed_net)
{
	struct trust_store *s = NULL;
	struct trust_registry *reg = NULL;
	const struct trust_reg_entry *e;
	struct rg_err err = { 0 };
	struct trust_ticket t = { 0 };
	uint64_t now = now_s();
	int ret = 1;

	*signed_net = false;
	if (load_store(&s, c, config_path))
		return 1;
	if (!s->has_anchor) {
		ret = 0;	/* an unsigned network: invites as before */
		goto out;
	}
	if (!s->has_net_key) {
		fail("this network is signed and this device does not hold its network key; run "
		     "'riftgate invite' on the admin device%s", "");
		goto out;
	}
	if (!name) {
		fail("--name is required on a signed network: the ticket binds the name%s", "");
		goto out;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg || trust_registry_load(reg, s, &err) < 0) {
		fail("%s", reg ? err.msg : "out of memory");
		goto out;
	}
	snprintf(t.net, sizeof(t.net), "%s", c->network_name);
	snprintf(t.name, sizeof(t.name), "%s", name);
	t.n_addrs = 1;
	if (!trust_prefix_parse(&t.addrs[0], address, strlen(address))) {
		fail("address '%s' cannot go into a ticket", address);
		goto out;
	}
	if ((e = trust_registry_find_name(reg, name))) {
		fprintf(stderr, "%s: the name %s is already issued (serial %016llx); revoke it first: "
			"riftgate devices revoke %s\n", rg_prog, name, (unsigned long long)e->serial,
			name);
		goto out;
	}
	if ((e = trust_registry_find_addr(reg, &t.addrs[0]))) {
		fprintf(stderr, "%s: the address %s is already issued to %s\n", rg_prog, address,
			e->name);
		goto out;
	}
	if (reg->n == TRUST_REGISTRY_MAX) {
		fail("the registry is full%s", "");
		goto out;
	}
	t.not_before = now;
	t.use_by = (uint64_t)expires;
	t.cert_not_after = now + CERT_LIFETIME_S;
	t.id = trust_random_serial();
	memcpy(t.issuer, s->anchor, TRUST_KEY_LEN);
	if (!t.id || trust_key_generate(ticket_seed, t.ticket_key) < 0 ||
	    trust_ticket_sign(&t, s->net_seed) < 0 ||
	    !(*ticket_len = trust_ticket_encode(&t, ticket, TRUST_TICKET_MAX))) {
		fail("cannot make the ticket%s", "");
		goto out;
	}
	reg->e[reg->n] = (struct trust_reg_entry){ .serial = t.id, .addr = t.addrs[0],
						   .not_after = t.cert_not_after, .ticket = true };
	snprintf(reg->e[reg->n].name, sizeof(reg->e[reg->n].name), "%s", name);
	reg->n++;
	if (trust_registry_save(reg, s, &err) < 0) {
		fail("%s", err.msg);
		goto out;
	}
	*signed_net = true;
	ret = 0;
out:
	free(reg);
	trust_store_free(s);
	return ret;
}

int trust_cli_join(const struct conf_invite *inv, const char *config_path,
		   const uint8_t *wg_pub)
{
	struct trust_store *s = trust_store_new();
	struct trust_ticket t;
	struct trust_ctx ctx;
	struct trust_prefix addr;
	struct rg_err err = { 0 };
	char fpr[TRUST_FINGERPRINT_LEN + 1];
	uint8_t kpub[TRUST_KEY_LEN];
	struct trust_cert *cert;
	uint64_t now = now_s();
	int ret = 1, v;

	if (!s)
		return fail("out of memory%s", "");
	if (trust_ticket_parse(&t, inv->ticket, inv->ticket_len) != TRUST_OK) {
		fail("the invite's enrollment ticket is malformed%s", "");
		goto out;
	}
	/* The invite is the new device's only source of the anchor: it must at least agree with
	 * itself (signed by the issuer it names, for this network, still usable). */
	memset(&ctx, 0, sizeof(ctx));
	memcpy(ctx.anchor, t.issuer, TRUST_KEY_LEN);
	snprintf(ctx.net, sizeof(ctx.net), "%s", inv->conf.network_name);
	ctx.verify = trust_verify;
	ctx.skew_s = TRUST_SKEW_S;
	if ((v = trust_ticket_check(&ctx, &t, now)) != TRUST_OK) {
		fail("the invite's enrollment ticket is not usable: %s", trust_verdict_str(v));
		goto out;
	}
	if (trust_key_public(kpub, inv->ticket_key) < 0 ||
	    !rg_ct_eq(kpub, t.ticket_key, TRUST_KEY_LEN)) {
		fail("the invite's ticket key does not match its ticket%s", "");
		goto out;
	}
	if (strcmp(t.name, inv->conf.device_name) != 0 || !conf_prefix(&inv->conf, &addr) ||
	    !trust_prefix_eq(&addr, &t.addrs[0])) {
		fail("this invite is for device '%s' with its address; do not pass --name or "
		     "--address", t.name);
		goto out;
	}
	if (trust_store_path(s->dir, sizeof(s->dir), config_path) < 0) {
		fail("%s: path too long", config_path);
		goto out;
	}
	snprintf(s->net, sizeof(s->net), "%s", inv->conf.network_name);
	remove_state(s, "network.key");
	remove_state(s, "registry");
	remove_state(s, "bindings");
	memcpy(s->anchor, t.issuer, TRUST_KEY_LEN);
	s->has_anchor = true;
	cert = &s->cert;
	if (trust_key_generate(s->dev_seed, cert->dev_key) < 0) {
		fail("cannot generate the device signing key%s", "");
		goto out;
	}
	s->has_dev_key = true;
	snprintf(cert->net, sizeof(cert->net), "%s", t.net);
	snprintf(cert->name, sizeof(cert->name), "%s", t.name);
	memcpy(cert->wg_key, wg_pub, TRUST_KEY_LEN);
	cert->n_addrs = t.n_addrs;
	memcpy(cert->addrs, t.addrs, sizeof(t.addrs));
	cert->not_before = now < t.not_before ? t.not_before : now;
	if (cert->not_before > t.use_by)
		cert->not_before = t.use_by;	/* within the skew after use_by */
	cert->not_after = t.cert_not_after;
	cert->serial = t.id;
	memcpy(cert->issuer, t.issuer, TRUST_KEY_LEN);
	cert->has_ticket = true;
	cert->ticket = t;
	if (trust_cert_sign(cert, inv->ticket_key) < 0 ||
	    (v = trust_cert_check(&ctx, cert, now)) != TRUST_OK) {
		fail("cannot make this device's certificate from the ticket%s", "");
		goto out;
	}
	s->has_cert = true;
	if (trust_store_save(s, &err) < 0) {
		fail("%s", err.msg);
		goto out;
	}
	trust_fingerprint(fpr, s->anchor);
	printf("Certificate: made from the invite's one-time ticket, in %s/cert\n"
	       "Trust anchor fingerprint: %s (compare with the admin's 'riftgate devices')\n",
	       s->dir, fpr);
	ret = 0;
out:
	trust_store_free(s);
	return ret;
}

/* ---- devices ---- */

static void devices_usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"Usage: %s %s [--config PATH]\n"
		"       %s %s revoke NAME [--config PATH]\n"
		"       %s %s dns [--server ADDR]... [--search DOMAIN]... [--config PATH]\n"
		"\n"
		"On the admin device (the one holding the network key): lists every certificate and\n"
		"invite ticket issued, or revokes every one issued to NAME. A running agent sends the\n"
		"revocation to every online device through the hub; devices persist it.\n"
		"'dns' signs the network's DNS settings (at most 4 servers, 8 search domains; none:\n"
		"no pushed settings any more): every device then forwards names outside the mesh to\n"
		"those servers and adds the search domains, in place of its [network] dns/search.\n",
		rg_prog, cmd, rg_prog, cmd, rg_prog, cmd);
}

/* Names the running agent sees connected, for the live column. */
static char *agent_peers(const struct conf *c)
{
	struct rg_err err = { 0 };
	struct agent_status st;
	char *reply = NULL, *out;
	size_t cap = 2, off = 0;

	if (agent_ctl_request(c->interface, "status", ASK_TIMEOUT_MS, &reply, &err) < 0)
		return NULL;
	if (agent_status_from_json(&st, reply, strlen(reply), &err) < 0) {
		g_free(reply);
		return NULL;
	}
	g_free(reply);
	for (size_t i = 0; i < st.n_peers; i++)
		cap += strlen(st.peers[i].id) + 2;
	out = calloc(1, cap);
	if (out) {
		out[off++] = ' ';
		for (size_t i = 0; i < st.n_peers; i++)
			off += (size_t)snprintf(out + off, cap - off, "%s ", st.peers[i].id);
	}
	agent_status_clear(&st);
	return out;
}

static int devices_list(const struct conf *c, const struct trust_store *s,
			const struct trust_registry *reg)
{
	char fpr[TRUST_FINGERPRINT_LEN + 1], addr[TRUST_PREFIX_STR_MAX], until[48], key[64];
	char *live = agent_peers(c);

	trust_fingerprint(fpr, s->anchor);
	printf("network %s, trust anchor %s\n", c->network_name, fpr);
	printf("%-20s %-20s %-16s %-22s %-8s %s\n", "NAME", "ADDRESS", "SERIAL", "EXPIRES", "KIND",
	       "STATE");
	for (size_t i = 0; i < reg->n; i++) {
		const struct trust_reg_entry *e = &reg->e[i];
		const char *state = e->revoked ? "revoked" : "active";

		trust_prefix_format(&e->addr, addr);
		fmt_time(until, sizeof(until), e->not_after);
		snprintf(key, sizeof(key), " %s ", e->name);
		if (!e->revoked && strcmp(e->name, c->device_name) == 0)
			state = "active, this device";
		else if (!e->revoked && live && strstr(live, key))
			state = "active, online";
		printf("%-20s %-20s %016llx %-22s %-8s %s\n", e->name, addr,
		       (unsigned long long)e->serial, until, e->ticket ? "invite" : "cert", state);
	}
	if (!live)
		printf("(no agent running on %s: live status unknown)\n", c->interface);
	free(live);
	return 0;
}

static int devices_revoke(const struct conf *c, struct trust_store *s, struct trust_registry *reg,
			  const char *name)
{
	char text[TRUST_REVOKE_B64_MAX + 1], cmd[TRUST_REVOKE_B64_MAX + 16];
	struct rg_err err = { 0 };
	int n = 0, sent = 0;

	if (strcmp(name, c->device_name) == 0)
		return fail("%s is this (the admin) device; it cannot revoke itself", name);
	for (size_t i = 0; i < reg->n; i++) {
		struct trust_reg_entry *e = &reg->e[i];
		struct trust_revoke rv = { 0 };
		char *reply = NULL;

		if (e->revoked || strcmp(e->name, name) != 0)
			continue;
		snprintf(rv.net, sizeof(rv.net), "%s", c->network_name);
		snprintf(rv.name, sizeof(rv.name), "%s", e->name);
		rv.serial = e->serial;
		rv.revoked_at = now_s();
		memcpy(rv.issuer, s->anchor, TRUST_KEY_LEN);
		if (trust_revoke_sign(&rv, s->net_seed) < 0 ||
		    trust_revoke_to_base64(text, sizeof(text), &rv) < 0 ||
		    trust_store_add_revoke(s, &rv, &err) < 0)
			return fail("cannot record the revocation: %s", err.msg[0] ? err.msg : "sign");
		e->revoked = true;
		n++;
		printf("%s\n", text);
		snprintf(cmd, sizeof(cmd), "revoke %s", text);
		if (agent_ctl_request(c->interface, cmd, ASK_TIMEOUT_MS, &reply, &err) == 0 &&
		    reply && strstr(reply, "\"ok\":true"))
			sent++;
		g_free(reply);
	}
	if (!n)
		return fail("no active certificate or invite for '%s' (see 'riftgate devices')", name);
	if (trust_registry_save(reg, s, &err) < 0)
		return fail("%s", err.msg);
	fprintf(stderr, "Revoked %d certificate%s of %s.%s\n", n, n == 1 ? "" : "s", name,
		sent ? " The running agent is sending the revocation to every device." :
		       " No agent is running here: start it ('riftgate up') to deliver the "
		       "revocation, or give the lines above to each device's agent.");
	return 0;
}

/* Signs the network DNS settings, keeps them in the trust directory (the admin's agent takes
 * them from there) and asks a running agent to send them on. */
static int devices_dns(const struct conf *c, const struct trust_store *s, char **servers,
		       size_t n_servers, char **search, size_t n_search)
{
	char text[TRUST_SETTINGS_B64_MAX + 1];
	g_autofree char *path = g_build_filename(s->dir, "settings", NULL);
	g_autoptr(GError) e = NULL;
	struct trust_settings st = { 0 };
	struct rg_err err = { 0 };
	char *reply = NULL;
	bool sent;

	snprintf(st.net, sizeof(st.net), "%s", c->network_name);
	st.serial = rg_wall_ns();	/* later settings win */
	st.issued_at = now_s();
	for (size_t i = 0; i < n_servers; i++) {
		struct rg_prefix p;
		struct trust_prefix *t = &st.dns[st.n_dns++];

		if (strchr(servers[i], '/') || !rg_prefix_parse_addr(&p, servers[i]))
			return fail("--server must be an IPv4 or IPv6 address, got '%.64s'", servers[i]);
		t->family = p.family == AF_INET ? 4 : 6;
		t->plen = p.family == AF_INET ? 32 : 128;
		memcpy(t->addr, p.addr, p.family == AF_INET ? 4 : 16);
	}
	for (size_t i = 0; i < n_search; i++) {
		if (strlen(search[i]) > TRUST_DOMAIN_MAX || !conf_valid_domain(search[i]))
			return fail("--search must be DNS labels (A-Z a-z 0-9 -, dot-separated, at most "
				    "63 characters), got '%.64s'", search[i]);
		snprintf(st.search[st.n_search++], sizeof(st.search[0]), "%s", search[i]);
	}
	memcpy(st.issuer, s->anchor, TRUST_KEY_LEN);
	if (trust_settings_sign(&st, s->net_seed) < 0 ||
	    trust_settings_to_base64(text, sizeof(text), &st) < 0)
		return fail("cannot sign the DNS settings%s", "");
	if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e))
		return fail("%s", e->message);
	printf("%s\n", text);
	sent = agent_ctl_request(c->interface, "settings", ASK_TIMEOUT_MS, &reply, &err) == 0 &&
	       reply && strstr(reply, "\"ok\":true");
	g_free(reply);
	fprintf(stderr, "Signed DNS settings: %zu server%s, %zu search domain%s (%s).%s\n",
		n_servers, n_servers == 1 ? "" : "s", n_search, n_search == 1 ? "" : "s", path,
		sent ? " The running agent is sending them to every device." :
		       " No agent is running here: start it ('riftgate up') to deliver them.");
	return 0;
}

int cmd_devices(int argc, char **argv)
{
	const char *path = NULL, *revoke = NULL;
	char *servers[TRUST_DNS_MAX], *search[TRUST_SEARCH_MAX];
	size_t n_servers = 0, n_search = 0;
	bool dns = false;
	char defpath[PATH_MAX];
	struct trust_store *s = NULL;
	struct trust_registry *reg = NULL;
	struct rg_err err = { 0 };
	struct conf c;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			devices_usage(stdout, argv[0]);
			return 0;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "revoke") == 0 && i + 1 < argc && !revoke && !dns) {
			revoke = argv[++i];
		} else if (strcmp(argv[i], "dns") == 0 && !revoke && !dns) {
			dns = true;
		} else if (dns && strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			if (n_servers == TRUST_DNS_MAX)
				return fail("at most %s --server", "4");
			servers[n_servers++] = argv[++i];
		} else if (dns && strcmp(argv[i], "--search") == 0 && i + 1 < argc) {
			if (n_search == TRUST_SEARCH_MAX)
				return fail("at most %s --search", "8");
			search[n_search++] = argv[++i];
		} else {
			devices_usage(stderr, argv[0]);
			return 1;
		}
	}
	if (revoke && !conf_valid_name(revoke))
		return fail("revoke: NAME must be 1-64 characters of A-Z a-z 0-9 . _ -, got "
			    "'%.64s'", revoke);
	if (cli_config_load(&c, &path, defpath, sizeof(defpath), &err) < 0)
		return fail("%s", err.msg);
	if (load_store(&s, &c, path))
		goto out;
	if (!s->has_net_key) {
		fail("%s", s->has_anchor ? "this device does not hold the network key; run this on "
			  "the admin device" : "this network has no network key (it is not signed; "
			  "see 'riftgate init --new-network')");
		goto out;
	}
	reg = calloc(1, sizeof(*reg));
	if (!reg || trust_registry_load(reg, s, &err) < 0) {
		fail("%s", reg ? err.msg : "out of memory");
		goto out;
	}
	if (dns)
		ret = devices_dns(&c, s, servers, n_servers, search, n_search);
	else
		ret = revoke ? devices_revoke(&c, s, reg, revoke) : devices_list(&c, s, reg);
out:
	free(reg);
	trust_store_free(s);
	conf_clear(&c);
	return ret;
}

int trust_cli_check(const struct conf *c, const char *config_path, const uint8_t *wg_pub)
{
	char fpr[TRUST_FINGERPRINT_LEN + 1], until[48];
	struct trust_store *s = NULL;
	struct trust_ctx ctx;
	int v, ret = 1;

	if (load_store(&s, c, config_path))
		return 1;
	if (!s->has_anchor) {
		printf("membership: unsigned network (no trust anchor): peers are 'unverified'\n");
		ret = 0;
		goto out;
	}
	trust_fingerprint(fpr, s->anchor);
	printf("trust anchor: %s%s\n", fpr, s->has_net_key ? " (this device holds the network key)" : "");
	if (!s->has_cert) {
		fail("%s/cert is missing: this device has no certificate", s->dir);
		goto out;
	}
	trust_store_ctx(s, &ctx);
	v = trust_cert_check(&ctx, &s->cert, now_s());
	if (v == TRUST_OK) {
		struct trust_cert now = s->cert;	/* under its newest key rotation */

		memcpy(now.wg_key, trust_store_wg_key(s), TRUST_KEY_LEN);
		v = trust_cert_matches(&now, c->device_name, wg_pub, c->address);
	}
	if (v != TRUST_OK) {
		fprintf(stderr, "%s: %s/cert: %s\n", rg_prog, s->dir, trust_verdict_str(v));
		goto out;
	}
	fmt_time(until, sizeof(until), s->cert.not_after);
	printf("certificate: valid, serial %016llx, until %s%s\n",
	       (unsigned long long)s->cert.serial, until,
	       s->cert.has_ticket ? " (made from an invite ticket)" : "");
	if (s->has_rotation)
		printf("key rotation: %u (the certificate's key was replaced)\n",
		       (unsigned)s->rotation.seq);
	ret = 0;
out:
	trust_store_free(s);
	return ret;
}

/* ---- riftgate rotate ---- */

static void rotate_usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"Usage: %s %s [--config PATH]\n"
		"\n"
		"Gives this device a new WireGuard key, certified by its own device key (no admin\n"
		"device needed): writes a signed key rotation beside the config, puts the new\n"
		"private key into the config, and tells the running agent, which switches at once;\n"
		"peers check the rotation and accept only the new key from then on.\n",
		rg_prog, cmd);
}

/* Replaces the value of the config's private_key line, keeping every other byte; written whole
 * to a temp file (0600) and renamed. */
static int config_put_key(const char *path, const char *key_b64, struct rg_err *err)
{
	g_autofree char *text = NULL, *tmp = g_strdup_printf("%s.rotate.tmp", path);
	GString *out = NULL;
	GError *gerr = NULL;
	char **lines;
	int n = 0, ret = 0;

	if (!g_file_get_contents(path, &text, NULL, &gerr)) {
		ret = rg_err_set(err, -EIO, "%s: %s", path, gerr->message);
		g_error_free(gerr);
		return ret;
	}
	out = g_string_new(NULL);
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		const char *p = *l + strspn(*l, " \t");

		if (g_str_has_prefix(p, "private_key") && p[11 + strspn(p + 11, " \t")] == '=') {
			g_string_append_len(out, *l, p - *l);
			g_string_append_printf(out, "private_key = \"%s\"", key_b64);
			n++;
		} else {
			g_string_append(out, *l);
		}
		if (l[1])
			g_string_append_c(out, '\n');
	}
	g_strfreev(lines);
	rg_memzero(text, strlen(text));
	if (n != 1) {
		ret = rg_err_set(err, -EINVAL, "%s: expected one private_key line, found %d", path, n);
	} else {
		FILE *f = NULL;
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd >= 0)
			f = fdopen(fd, "w");
		if (!f || fwrite(out->str, 1, out->len, f) != out->len || fflush(f) != 0 ||
		    fsync(fileno(f)) != 0)
			ret = rg_err_set(err, -EIO, "%s: cannot write", tmp);
		if (f)
			fclose(f);
		else if (fd >= 0)
			close(fd);
		if (!ret && rename(tmp, path) < 0)
			ret = rg_err_set(err, -errno, "%s: %s", path, strerror(errno));
		if (ret)
			unlink(tmp);
	}
	rg_memzero(out->str, out->len);
	g_string_free(out, TRUE);
	return ret;
}

int cmd_rotate(int argc, char **argv)
{
	const char *path = NULL;
	char defpath[PATH_MAX], b64[RG_KEY_B64_LEN + 1], *reply = NULL;
	uint8_t priv[32], pub[32], cur[32];
	struct trust_store *s = NULL;
	struct trust_rotation r = { 0 };
	struct trust_ctx ctx;
	struct rg_err err = { 0 };
	struct conf c;
	int v, ret = 1;

	for (int i = 1; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			rotate_usage(stdout, argv[0]);
			return 0;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else {
			rotate_usage(stderr, argv[0]);
			return CMD_USAGE;
		}
	}
	if (cli_config_load(&c, &path, defpath, sizeof(defpath), &err) < 0)
		return fail("%s", err.msg);
	if (load_store(&s, &c, path))
		goto out;
	if (!s->has_anchor || !s->has_cert || !s->has_dev_key) {
		fail("%s", !s->has_anchor ? "this network is not signed: key rotation needs a "
			  "certificate (see docs/membership.md)" : "this device has no certificate "
			  "or device key to sign a rotation with");
		goto out;
	}
	trust_store_ctx(s, &ctx);
	if ((v = trust_cert_check(&ctx, &s->cert, now_s())) != TRUST_OK) {
		fprintf(stderr, "%s: %s/cert: %s\n", rg_prog, s->dir, trust_verdict_str(v));
		goto out;
	}
	memcpy(cur, trust_store_wg_key(s), sizeof(cur));
	if (!rg_x25519_public(pub, c.private_key) || !rg_ct_eq(pub, cur, sizeof(pub))) {
		fail("%s: the private key is not the one the certificate (or its last rotation) "
		     "names; nothing changed", path);
		goto out;
	}
	if (conf_key_generate(priv) < 0 || !rg_x25519_public(pub, priv)) {
		fail("cannot make a new key%s", "");
		goto out;
	}
	snprintf(r.net, sizeof(r.net), "%s", s->cert.net);
	snprintf(r.name, sizeof(r.name), "%s", s->cert.name);
	r.serial = s->cert.serial;
	r.seq = s->has_rotation ? s->rotation.seq + 1 : 1;
	memcpy(r.old_wg, cur, sizeof(cur));
	memcpy(r.new_wg, pub, sizeof(pub));
	r.rotated_at = now_s();
	if (trust_rotation_sign(&r, s->dev_seed) < 0 ||
	    (v = trust_rotation_check(&ctx, &s->cert, &r, now_s())) != TRUST_OK) {
		fail("cannot sign the key rotation%s", "");
		goto out;
	}
	/* The config first: a rotation file without its key would leave the device unable to
	 * start, while the old key with no rotation file is simply the state before. */
	rg_key_to_base64(b64, priv);
	if (config_put_key(path, b64, &err) < 0) {
		fail("%s", err.msg);
		goto out;
	}
	s->rotation = r;
	s->has_rotation = true;
	if (trust_store_save_rotation(s, &err) < 0) {
		fail("%s (the config holds the new key: put the old one back)", err.msg);
		goto out;
	}
	rg_key_to_base64(b64, pub);
	printf("%s\n", b64);
	if (agent_ctl_request(c.interface, "rotate", ASK_TIMEOUT_MS, &reply, &err) == 0 && reply &&
	    strstr(reply, "\"ok\":true"))
		fprintf(stderr, "Rotated to a new key (rotation %u); the running agent switched "
			"and is telling its peers.\n", (unsigned)r.seq);
	else if (reply)
		fprintf(stderr, "Rotated to a new key (rotation %u), but the running agent refused "
			"it: %s\n", (unsigned)r.seq, reply);
	else
		fprintf(stderr, "Rotated to a new key (rotation %u); no agent is running on %s: the "
			"new key is used at the next 'riftgate up'.\n", (unsigned)r.seq, c.interface);
	ret = 0;
out:
	rg_memzero(priv, sizeof(priv));
	rg_memzero(b64, sizeof(b64));
	g_free(reply);
	trust_store_free(s);
	conf_clear(&c);
	return ret;
}
