/* Agent status snapshot <-> JSON <-> text. Called by the agent (to answer `status` on the
 * control socket) and by the CLI (to render the reply); any thread, no shared state. */
#include "agent/status.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "util/err.h"
#include "util/escape.h"

struct agent_status_peer *agent_status_add_peer(struct agent_status *s)
{
	if (s->n_peers >= AGENT_STATUS_PEERS_MAX)
		return NULL;
	s->peers = g_renew(struct agent_status_peer, s->peers, s->n_peers + 1);
	memset(&s->peers[s->n_peers], 0, sizeof(s->peers[0]));
	s->peers[s->n_peers].rtt_ms = -1;
	return &s->peers[s->n_peers++];
}

void agent_status_clear(struct agent_status *s)
{
	g_free(s->peers);
	memset(s, 0, sizeof(*s));
}

/* One member of the object being built: name and value. */
static void put_str(JsonBuilder *b, const char *name, const char *v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, v);
}

static void put_int(JsonBuilder *b, const char *name, gint64 v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, v);
}

static void put_bool(JsonBuilder *b, const char *name, gboolean v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_boolean_value(b, v);
}

/* An array of the first n prefixes (or addresses) of v; get_prefixes reads it back. */
static void put_prefixes(JsonBuilder *b, const char *name, const char (*v)[AGENT_PREFIX_MAX + 1],
			 size_t n)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_array(b);
	for (size_t i = 0; i < n; i++)
		json_builder_add_string_value(b, v[i]);
	json_builder_end_array(b);
}

char *agent_status_to_json(const struct agent_status *s)
{
	JsonBuilder *b = json_builder_new();
	JsonGenerator *g;
	JsonNode *root;
	char *out;

	json_builder_begin_object(b);
	put_str(b, "interface", s->ifname);
	put_str(b, "peerId", s->peer_id);
	put_str(b, "publicKey", s->public_key);
	put_str(b, "address", s->address);
	put_str(b, "hub", s->hub_url);
	put_str(b, "version", s->version);
	put_bool(b, "hubConnected", s->hub_connected);
	put_str(b, "hubError", s->hub_error);
	put_str(b, "hubErrorKind", s->hub_error_kind);
	put_int(b, "mtu", s->mtu);
	put_bool(b, "mtuPinned", s->mtu_pinned);
	put_int(b, "tooBigIcmp", (gint64)s->too_big_icmp);
	put_int(b, "tooBigDropped", (gint64)s->too_big_dropped);
	put_int(b, "relayTx", (gint64)s->relay_tx);
	put_int(b, "relayRx", (gint64)s->relay_rx);
	put_int(b, "relayTxDropped", (gint64)s->relay_tx_dropped);
	put_int(b, "pid", s->pid);
	put_int(b, "started", s->started);
	put_prefixes(b, "routes", s->routes, MIN(s->n_routes, AGENT_STATUS_ROUTES_MAX));
	put_bool(b, "masquerade", s->masquerade);
	put_str(b, "acceptRoutes", s->accept_routes);
	put_bool(b, "exitOffer", s->exit_offer);
	put_str(b, "exitNode", s->exit_node);
	put_str(b, "exitNodeState", s->exit_state);
	put_bool(b, "killSwitch", s->kill_switch);
	put_str(b, "dnsZone", s->dns_zone);
	put_str(b, "dnsListen", s->dns_listen);
	put_prefixes(b, "dnsServers", s->dns_servers, MIN(s->n_dns_servers, AGENT_STATUS_DNS_MAX));
	put_str(b, "dnsServer", s->dns_server);
	put_int(b, "dnsAnswered", (gint64)s->dns_answered);
	put_int(b, "dnsForwarded", (gint64)s->dns_forwarded);
	put_int(b, "dnsFailed", (gint64)s->dns_failed);
	put_int(b, "dnsRefused", (gint64)s->dns_refused);
	put_int(b, "dnsMalformed", (gint64)s->dns_malformed);
	put_str(b, "dnsResolved", s->dns_resolved);
	put_str(b, "dnsResolvedError", s->dns_resolved_error);
	put_str(b, "dnsSettings", s->dns_settings);
	put_int(b, "dnsSettingsRefused", (gint64)s->dns_settings_refused);
	json_builder_set_member_name(b, "peers");
	json_builder_begin_array(b);
	for (size_t i = 0; i < s->n_peers; i++) {
		const struct agent_status_peer *p = &s->peers[i];

		json_builder_begin_object(b);
		put_str(b, "peerId", p->id);
		put_str(b, "state", p->state);
		put_str(b, "publicKey", p->public_key);
		put_str(b, "address", p->address);
		put_str(b, "candidateType", p->candidate);
		put_str(b, "localCandidateType", p->local_type);
		put_str(b, "remoteCandidateType", p->remote_type);
		put_str(b, "endpoint", p->remote_endpoint);
		put_str(b, "localEndpoint", p->local_endpoint);
		put_bool(b, "offerer", p->offerer);
		put_int(b, "lastHandshake", p->last_handshake);
		put_int(b, "rxBytes", (gint64)p->rx_bytes);
		put_int(b, "txBytes", (gint64)p->tx_bytes);
		put_int(b, "rttMs", p->rtt_ms);
		put_int(b, "attempts", p->attempts);
		put_int(b, "iceRestarts", p->ice_restarts);
		put_int(b, "since", p->since);
		put_int(b, "pathMtu", p->path_mtu);
		put_str(b, "pathMtuState", p->path_mtu_state);
		put_int(b, "peerMtu", p->peer_mtu);
		put_str(b, "lastError", p->last_error);
		put_str(b, "lastErrorKind", p->last_error_kind);
		put_str(b, "trust", p->trust);
		json_builder_set_member_name(b, "routes");
		json_builder_begin_array(b);
		for (size_t k = 0; k < p->n_routes && k < AGENT_STATUS_ROUTES_MAX; k++) {
			json_builder_begin_object(b);
			put_str(b, "prefix", p->routes[k].prefix);
			put_str(b, "state", p->routes[k].state);
			put_str(b, "note", p->routes[k].note);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		put_str(b, "path", p->path);
		put_str(b, "pathReason", p->path_reason);
		put_str(b, "direct", p->direct);
		put_int(b, "directTx", (gint64)p->direct_tx);
		put_int(b, "directRx", (gint64)p->direct_rx);
		put_int(b, "directDropped", (gint64)p->direct_dropped);
		put_int(b, "directRejected", (gint64)p->direct_rejected);
		put_str(b, "rejected", p->rejected);
		put_int(b, "rejections", p->rejections);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	put_int(b, "maxPeers", s->max_peers);
	put_int(b, "refusedOverMax", (gint64)s->refused_over_max);
	put_int(b, "refusedBadId", (gint64)s->refused_bad_id);
	json_builder_set_member_name(b, "turnTls");
	json_builder_begin_array(b);
	for (size_t i = 0; i < s->n_turn && i < AGENT_STATUS_TURN_MAX; i++) {
		const struct agent_status_turn *t = &s->turn[i];

		json_builder_begin_object(b);
		put_str(b, "url", t->url);
		put_int(b, "tlsOk", (gint64)t->tls_ok);
		put_int(b, "tlsFailed", (gint64)t->tls_failed);
		put_int(b, "open", t->open);
		put_str(b, "lastError", t->last_error);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);

	root = json_builder_get_root(b);
	g = json_generator_new();
	json_generator_set_root(g, root);
	json_generator_set_pretty(g, TRUE);
	out = json_generator_to_data(g, NULL);
	g_object_unref(g);
	json_node_unref(root);
	g_object_unref(b);
	return out;
}

/* Copies a string member (absent or not a string: ""); false when it does not fit. */
static bool get_str(JsonObject *o, const char *name, char *out, size_t cap)
{
	JsonNode *n = json_object_get_member(o, name);
	const char *v;

	out[0] = '\0';
	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return true;
	v = json_node_get_string(n);
	if (strlen(v) >= cap)
		return false;
	memcpy(out, v, strlen(v) + 1);
	return true;
}

static gint64 get_int(JsonObject *o, const char *name, gint64 dflt)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return dflt;
	return json_node_get_int(n);
}

static bool get_bool(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
		return false;
	return json_node_get_boolean(n);
}

/* An array of "ADDR/LEN" strings (our routes, DNS servers); entries past max, other types and
 * over-long strings are skipped. */
static void get_prefixes(JsonObject *o, const char *name, char (*out)[AGENT_PREFIX_MAX + 1],
			 size_t max, size_t *n)
{
	JsonNode *pn = json_object_get_member(o, name);
	JsonArray *a = pn && JSON_NODE_HOLDS_ARRAY(pn) ? json_node_get_array(pn) : NULL;

	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonNode *e = json_array_get_element(a, i);
		const char *v;

		if (*n >= max || !JSON_NODE_HOLDS_VALUE(e) ||
		    json_node_get_value_type(e) != G_TYPE_STRING)
			continue;
		v = json_node_get_string(e);
		if (strlen(v) > AGENT_PREFIX_MAX)
			continue;
		strcpy(out[(*n)++], v);
	}
}

/* A peer's "routes": [{prefix, state, note}]; entries past the cap are skipped. */
static int get_routes(JsonObject *po, struct agent_status_peer *p)
{
	JsonNode *n = json_object_get_member(po, "routes");
	JsonArray *a = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;

	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonNode *e = json_array_get_element(a, i);
		struct agent_status_route *r;
		JsonObject *ro;

		if (!JSON_NODE_HOLDS_OBJECT(e) || p->n_routes >= AGENT_STATUS_ROUTES_MAX)
			continue;
		ro = json_node_get_object(e);
		r = &p->routes[p->n_routes++];
		if (!get_str(ro, "prefix", r->prefix, sizeof(r->prefix)) ||
		    !get_str(ro, "state", r->state, sizeof(r->state)) ||
		    !get_str(ro, "note", r->note, sizeof(r->note)))
			return -EINVAL;
	}
	return 0;
}

int agent_status_from_json(struct agent_status *s, const char *json, size_t len,
			   struct rg_err *err)
{
	JsonParser *parser = json_parser_new();
	GError *gerr = NULL;
	JsonObject *o;
	JsonArray *peers = NULL;
	JsonNode *root, *pn;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	if (!json_parser_load_from_data(parser, json, (gssize)len, &gerr)) {
		ret = rg_err_set(err, -EINVAL, "status reply is not JSON: %s", gerr->message);
		g_error_free(gerr);
		goto out;
	}
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		ret = rg_err_set(err, -EINVAL, "status reply is not a JSON object");
		goto out;
	}
	o = json_node_get_object(root);
	if (!get_str(o, "interface", s->ifname, sizeof(s->ifname)) ||
	    !get_str(o, "peerId", s->peer_id, sizeof(s->peer_id)) ||
	    !get_str(o, "publicKey", s->public_key, sizeof(s->public_key)) ||
	    !get_str(o, "address", s->address, sizeof(s->address)) ||
	    !get_str(o, "hub", s->hub_url, sizeof(s->hub_url)) ||
	    !get_str(o, "version", s->version, sizeof(s->version)) ||
	    !get_str(o, "hubError", s->hub_error, sizeof(s->hub_error)) ||
	    !get_str(o, "hubErrorKind", s->hub_error_kind, sizeof(s->hub_error_kind))) {
		ret = rg_err_set(err, -EINVAL, "status reply has an over-long field");
		goto out;
	}
	s->hub_connected = get_bool(o, "hubConnected");
	s->mtu = (uint32_t)CLAMP(get_int(o, "mtu", 0), 0, UINT32_MAX);
	s->mtu_pinned = get_bool(o, "mtuPinned");
	s->too_big_icmp = (uint64_t)MAX(get_int(o, "tooBigIcmp", 0), 0);
	s->too_big_dropped = (uint64_t)MAX(get_int(o, "tooBigDropped", 0), 0);
	s->relay_tx = (uint64_t)MAX(get_int(o, "relayTx", 0), 0);
	s->relay_rx = (uint64_t)MAX(get_int(o, "relayRx", 0), 0);
	s->relay_tx_dropped = (uint64_t)MAX(get_int(o, "relayTxDropped", 0), 0);
	s->pid = get_int(o, "pid", 0);
	s->started = get_int(o, "started", 0);
	s->masquerade = get_bool(o, "masquerade");
	s->exit_offer = get_bool(o, "exitOffer");
	s->kill_switch = get_bool(o, "killSwitch");
	if (!get_str(o, "acceptRoutes", s->accept_routes, sizeof(s->accept_routes)) ||
	    !get_str(o, "exitNode", s->exit_node, sizeof(s->exit_node)) ||
	    !get_str(o, "exitNodeState", s->exit_state, sizeof(s->exit_state)) ||
	    !get_str(o, "dnsZone", s->dns_zone, sizeof(s->dns_zone)) ||
	    !get_str(o, "dnsListen", s->dns_listen, sizeof(s->dns_listen)) ||
	    !get_str(o, "dnsServer", s->dns_server, sizeof(s->dns_server)) ||
	    !get_str(o, "dnsResolved", s->dns_resolved, sizeof(s->dns_resolved)) ||
	    !get_str(o, "dnsResolvedError", s->dns_resolved_error,
		     sizeof(s->dns_resolved_error)) ||
	    !get_str(o, "dnsSettings", s->dns_settings, sizeof(s->dns_settings))) {
		ret = rg_err_set(err, -EINVAL, "status reply has an over-long field");
		goto out;
	}
	s->dns_answered = (uint64_t)MAX(get_int(o, "dnsAnswered", 0), 0);
	s->dns_forwarded = (uint64_t)MAX(get_int(o, "dnsForwarded", 0), 0);
	s->dns_failed = (uint64_t)MAX(get_int(o, "dnsFailed", 0), 0);
	s->dns_refused = (uint64_t)MAX(get_int(o, "dnsRefused", 0), 0);
	s->dns_malformed = (uint64_t)MAX(get_int(o, "dnsMalformed", 0), 0);
	s->dns_settings_refused = (uint64_t)MAX(get_int(o, "dnsSettingsRefused", 0), 0);
	get_prefixes(o, "dnsServers", s->dns_servers, AGENT_STATUS_DNS_MAX, &s->n_dns_servers);
	get_prefixes(o, "routes", s->routes, AGENT_STATUS_ROUTES_MAX, &s->n_routes);
	s->max_peers = (uint32_t)CLAMP(get_int(o, "maxPeers", 0), 0, UINT32_MAX);
	s->refused_over_max = (uint64_t)MAX(get_int(o, "refusedOverMax", 0), 0);
	s->refused_bad_id = (uint64_t)MAX(get_int(o, "refusedBadId", 0), 0);
	pn = json_object_get_member(o, "peers");
	if (pn && JSON_NODE_HOLDS_ARRAY(pn))
		peers = json_node_get_array(pn);
	for (guint i = 0; peers && i < json_array_get_length(peers); i++) {
		JsonNode *e = json_array_get_element(peers, i);
		struct agent_status_peer *p;
		JsonObject *po;

		if (!JSON_NODE_HOLDS_OBJECT(e))
			continue;
		po = json_node_get_object(e);
		p = agent_status_add_peer(s);
		if (!p)
			break;
		if (!get_str(po, "peerId", p->id, sizeof(p->id)) ||
		    !get_str(po, "state", p->state, sizeof(p->state)) ||
		    !get_str(po, "publicKey", p->public_key, sizeof(p->public_key)) ||
		    !get_str(po, "address", p->address, sizeof(p->address)) ||
		    !get_str(po, "candidateType", p->candidate, sizeof(p->candidate)) ||
		    !get_str(po, "localCandidateType", p->local_type, sizeof(p->local_type)) ||
		    !get_str(po, "remoteCandidateType", p->remote_type, sizeof(p->remote_type)) ||
		    !get_str(po, "endpoint", p->remote_endpoint, sizeof(p->remote_endpoint)) ||
		    !get_str(po, "localEndpoint", p->local_endpoint, sizeof(p->local_endpoint)) ||
		    !get_str(po, "lastErrorKind", p->last_error_kind, sizeof(p->last_error_kind)) ||
		    !get_str(po, "pathMtuState", p->path_mtu_state, sizeof(p->path_mtu_state)) ||
		    !get_str(po, "path", p->path, sizeof(p->path)) ||
		    !get_str(po, "pathReason", p->path_reason, sizeof(p->path_reason)) ||
		    !get_str(po, "direct", p->direct, sizeof(p->direct)) ||
		    !get_str(po, "lastError", p->last_error, sizeof(p->last_error)) ||
		    !get_str(po, "trust", p->trust, sizeof(p->trust)) ||
		    !get_str(po, "rejected", p->rejected, sizeof(p->rejected))) {
			ret = rg_err_set(err, -EINVAL, "status reply: peer %u has an over-long field",
					 i);
			goto out;
		}
		p->offerer = get_bool(po, "offerer");
		p->last_handshake = get_int(po, "lastHandshake", 0);
		p->rx_bytes = (uint64_t)MAX(get_int(po, "rxBytes", 0), 0);
		p->tx_bytes = (uint64_t)MAX(get_int(po, "txBytes", 0), 0);
		p->rtt_ms = get_int(po, "rttMs", -1);
		p->attempts = (uint32_t)CLAMP(get_int(po, "attempts", 0), 0, UINT32_MAX);
		p->ice_restarts = (uint32_t)CLAMP(get_int(po, "iceRestarts", 0), 0, UINT32_MAX);
		p->since = get_int(po, "since", 0);
		p->path_mtu = (uint32_t)CLAMP(get_int(po, "pathMtu", 0), 0, UINT32_MAX);
		p->peer_mtu = (uint32_t)CLAMP(get_int(po, "peerMtu", 0), 0, UINT32_MAX);
		if (get_routes(po, p) < 0) {
			ret = rg_err_set(err, -EINVAL, "status reply: peer %u has an over-long route "
					 "field", i);
			goto out;
		}
		p->rejections = (uint32_t)CLAMP(get_int(po, "rejections", 0), 0, UINT32_MAX);
		p->direct_tx = (uint64_t)MAX(get_int(po, "directTx", 0), 0);
		p->direct_rx = (uint64_t)MAX(get_int(po, "directRx", 0), 0);
		p->direct_dropped = (uint64_t)MAX(get_int(po, "directDropped", 0), 0);
		p->direct_rejected = (uint64_t)MAX(get_int(po, "directRejected", 0), 0);
	}
	pn = json_object_get_member(o, "turnTls");
	peers = pn && JSON_NODE_HOLDS_ARRAY(pn) ? json_node_get_array(pn) : NULL;
	for (guint i = 0; peers && i < json_array_get_length(peers); i++) {
		JsonNode *e = json_array_get_element(peers, i);
		struct agent_status_turn *t;
		JsonObject *to;

		if (!JSON_NODE_HOLDS_OBJECT(e) || s->n_turn >= AGENT_STATUS_TURN_MAX)
			continue;
		to = json_node_get_object(e);
		t = &s->turn[s->n_turn++];
		if (!get_str(to, "url", t->url, sizeof(t->url)) ||
		    !get_str(to, "lastError", t->last_error, sizeof(t->last_error))) {
			ret = rg_err_set(err, -EINVAL, "status reply: TURN server %u has an "
					 "over-long field", i);
			goto out;
		}
		t->tls_ok = (uint64_t)MAX(get_int(to, "tlsOk", 0), 0);
		t->tls_failed = (uint64_t)MAX(get_int(to, "tlsFailed", 0), 0);
		t->open = (uint32_t)CLAMP(get_int(to, "open", 0), 0, UINT32_MAX);
	}
out:
	if (ret)
		agent_status_clear(s);
	g_object_unref(parser);
	return ret;
}

void agent_format_bytes(char *out, size_t cap, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(out, cap, "%" PRIu64 " B", bytes);
		return;
	}
	while (v >= 1024.0 && u + 1 < G_N_ELEMENTS(units)) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, cap, "%.2f %s", v, units[u]);
}

void agent_format_ago(char *out, size_t cap, int64_t seconds)
{
	static const struct { int64_t len; const char *name; } parts[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" },
	};
	size_t off = 0;

	out[0] = '\0';
	if (seconds <= 0) {
		snprintf(out, cap, "Now");
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(parts) && off < cap; i++) {
		int64_t n = seconds / parts[i].len;
		int w;

		if (!n)
			continue;
		seconds %= parts[i].len;
		w = snprintf(out + off, cap - off, "%s%" PRId64 " %s%s", off ? ", " : "", n,
			     parts[i].name, n == 1 ? "" : "s");
		if (w < 0)
			return;
		off += (size_t)w;
	}
}

/* Escapes a string field in place (util/escape.h), cut to its size. */
#define ESCAPE_FIELD(f) escape_field((f), sizeof(f))
static void escape_field(char *f, size_t cap)
{
	char *tmp = g_malloc(cap);

	rg_escape_text(tmp, cap, f, strlen(f));
	memcpy(f, tmp, strlen(tmp) + 1);
	g_free(tmp);
}

/* A copy of s whose every string is escaped: ids, errors and URLs may come from the network,
 * and a newline or an escape sequence in them must not reach the terminal. */
static void escaped_copy(struct agent_status *c, const struct agent_status *s)
{
	*c = *s;
	c->peers = s->n_peers ? g_memdup2(s->peers, s->n_peers * sizeof(*s->peers)) : NULL;
	ESCAPE_FIELD(c->ifname);
	ESCAPE_FIELD(c->peer_id);
	ESCAPE_FIELD(c->public_key);
	ESCAPE_FIELD(c->address);
	ESCAPE_FIELD(c->hub_url);
	ESCAPE_FIELD(c->hub_error);
	ESCAPE_FIELD(c->hub_error_kind);
	ESCAPE_FIELD(c->accept_routes);
	ESCAPE_FIELD(c->exit_node);
	ESCAPE_FIELD(c->exit_state);
	ESCAPE_FIELD(c->dns_zone);
	ESCAPE_FIELD(c->dns_listen);
	ESCAPE_FIELD(c->dns_server);
	ESCAPE_FIELD(c->dns_resolved);
	ESCAPE_FIELD(c->dns_resolved_error);
	ESCAPE_FIELD(c->dns_settings);
	for (size_t i = 0; i < c->n_dns_servers && i < AGENT_STATUS_DNS_MAX; i++)
		ESCAPE_FIELD(c->dns_servers[i]);
	ESCAPE_FIELD(c->version);
	for (size_t i = 0; i < c->n_routes && i < AGENT_STATUS_ROUTES_MAX; i++)
		ESCAPE_FIELD(c->routes[i]);
	for (size_t i = 0; i < c->n_turn && i < AGENT_STATUS_TURN_MAX; i++) {
		ESCAPE_FIELD(c->turn[i].url);
		ESCAPE_FIELD(c->turn[i].last_error);
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		struct agent_status_peer *p = &c->peers[i];

		ESCAPE_FIELD(p->id);
		ESCAPE_FIELD(p->state);
		ESCAPE_FIELD(p->public_key);
		ESCAPE_FIELD(p->address);
		ESCAPE_FIELD(p->candidate);
		ESCAPE_FIELD(p->local_type);
		ESCAPE_FIELD(p->remote_type);
		ESCAPE_FIELD(p->local_endpoint);
		ESCAPE_FIELD(p->remote_endpoint);
		ESCAPE_FIELD(p->path_mtu_state);
		ESCAPE_FIELD(p->last_error);
		ESCAPE_FIELD(p->last_error_kind);
		ESCAPE_FIELD(p->trust);
		ESCAPE_FIELD(p->rejected);
		ESCAPE_FIELD(p->path);
		ESCAPE_FIELD(p->path_reason);
		for (size_t k = 0; k < p->n_routes && k < AGENT_STATUS_ROUTES_MAX; k++) {
			ESCAPE_FIELD(p->routes[k].prefix);
			ESCAPE_FIELD(p->routes[k].state);
			ESCAPE_FIELD(p->routes[k].note);
		}
	}
}

static char *format_text(const struct agent_status *s, int64_t now);

char *agent_status_format(const struct agent_status *s, int64_t now)
{
	struct agent_status c;
	char *text;

	escaped_copy(&c, s);
	text = format_text(&c, now);
	g_free(c.peers);
	return text;
}

static char *format_text(const struct agent_status *s, int64_t now)
{
	GString *t = g_string_new(NULL);
	char a[64], b[64];

	g_string_append_printf(t, "interface: %s\n", s->ifname);
	g_string_append_printf(t, "  peer id: %s\n", s->peer_id);
	g_string_append_printf(t, "  public key: %s\n", s->public_key);
	if (s->version[0])
		g_string_append_printf(t, "  version: %s\n", s->version);
	g_string_append_printf(t, "  address: %s\n", s->address[0] ? s->address : "(none)");
	g_string_append_printf(t, "  mtu: %u%s\n", s->mtu, s->mtu_pinned ? " (configured)" : "");
	if (s->too_big_icmp || s->too_big_dropped)
		g_string_append_printf(t, "  too big for their peer: %" PRIu64 " answered with ICMP, "
				       "%" PRIu64 " dropped (no DF)\n", s->too_big_icmp,
				       s->too_big_dropped);
	g_string_append_printf(t, "  hub: %s (%s)\n", s->hub_url,
			       s->hub_connected ? "connected" : "disconnected");
	if (s->relay_tx || s->relay_rx)
		g_string_append_printf(t, "  relayed through the hub: %" PRIu64 " datagrams sent, %"
				       PRIu64 " received, %" PRIu64 " dropped\n", s->relay_tx,
				       s->relay_rx, s->relay_tx_dropped);
	if (!s->hub_connected && s->hub_error[0])
		g_string_append_printf(t, "    hub error: %s\n", s->hub_error);
	if (s->started > 0) {
		agent_format_ago(a, sizeof(a), now - s->started);
		g_string_append_printf(t, "  up for: %s\n", a);
	}
	for (size_t i = 0; i < s->n_turn && i < AGENT_STATUS_TURN_MAX; i++) {
		const struct agent_status_turn *u = &s->turn[i];

		g_string_append_printf(t, "  turn %s: TLS %s, %" PRIu64 " connections verified, "
				       "%" PRIu64 " failed, %u open\n", u->url,
				       u->last_error[0] ? "failing" : u->tls_ok ? "ok" : "not used yet",
				       u->tls_ok, u->tls_failed, u->open);
		if (u->last_error[0])
			g_string_append_printf(t, "    last error: %s\n", u->last_error);
	}
	if (s->n_routes) {
		g_string_append(t, "  routes advertised:");
		for (size_t i = 0; i < s->n_routes && i < AGENT_STATUS_ROUTES_MAX; i++)
			g_string_append_printf(t, " %s", s->routes[i]);
		g_string_append_printf(t, " (%s)\n", s->masquerade ? "masqueraded" :
				       "not masqueraded");
	}
	if (s->accept_routes[0])
		g_string_append_printf(t, "  routes accepted from: %s\n", s->accept_routes);
	if (s->dns_zone[0]) {
		g_string_append_printf(t, "  names: NAME.%s (answered on %s)\n", s->dns_zone,
				       s->dns_listen);
		if (s->n_dns_servers) {
			g_string_append(t, "  dns servers:");
			for (size_t i = 0; i < s->n_dns_servers && i < AGENT_STATUS_DNS_MAX; i++)
				g_string_append_printf(t, " %s%s", s->dns_servers[i],
						       strcmp(s->dns_servers[i], s->dns_server) ?
						       "" : " (in use)");
			g_string_append_c(t, '\n');
		}
		g_string_append_printf(t, "  dns queries: %" PRIu64 " answered locally, %" PRIu64
				       " forwarded, %" PRIu64 " failed, %" PRIu64 " refused, %"
				       PRIu64 " malformed\n", s->dns_answered, s->dns_forwarded,
				       s->dns_failed, s->dns_refused, s->dns_malformed);
		if (g_str_has_prefix(s->dns_settings, "network "))
			g_string_append_printf(t, "  dns settings: signed by the network (serial %s)\n",
					       s->dns_settings + 8);
		if (s->dns_settings_refused)
			g_string_append_printf(t, "  refused: %" PRIu64 " network DNS settings records "
					       "(not signed by the network key)\n",
					       s->dns_settings_refused);
		if (s->dns_resolved[0])
			g_string_append_printf(t, "  systemd-resolved: %s%s%s%s\n", s->dns_resolved,
					       s->dns_resolved_error[0] ? " (" : "",
					       s->dns_resolved_error,
					       s->dns_resolved_error[0] ? ")" : "");
	}
	if (s->exit_offer)
		g_string_append(t, "  exit node: offered to peers\n");
	if (s->exit_node[0])
		g_string_append_printf(t, "  using exit node: %s (%s%s)\n", s->exit_node,
				       s->exit_state, s->kill_switch ? ", kill switch" : "");
	if (s->refused_over_max)
		g_string_append_printf(t, "  refused: %" PRIu64 " peers over max_peers (%u)\n",
				       s->refused_over_max, s->max_peers);
	if (s->refused_bad_id)
		g_string_append_printf(t, "  refused: %" PRIu64 " frames naming an unusable peer id\n",
				       s->refused_bad_id);
	g_string_append_printf(t, "  peers: %zu\n", s->n_peers);
	for (size_t i = 0; i < s->n_peers; i++) {
		const struct agent_status_peer *p = &s->peers[i];

		g_string_append_printf(t, "\npeer: %s\n", p->id);
		g_string_append_printf(t, "  state: %s", p->state);
		if (p->since > 0 && now - p->since > 0) {
			agent_format_ago(a, sizeof(a), now - p->since);
			g_string_append_printf(t, " (for %s)", a);
		}
		g_string_append_c(t, '\n');
		if (p->trust[0])
			g_string_append_printf(t, "  membership: %s\n", p->trust);
		if (p->public_key[0])
			g_string_append_printf(t, "  public key: %s\n", p->public_key);
		if (p->address[0])
			g_string_append_printf(t, "  address: %s\n", p->address);
		g_string_append_printf(t, "  role: %s\n", p->offerer ? "offerer" : "answerer");
		if (!strcmp(p->path, "relay"))
			g_string_append_printf(t, "  path: relay (hub)%s%s\n", p->path_reason[0] ? ", " : "",
					       p->path_reason);
		else if (p->path[0])
			g_string_append_printf(t, "  path: %s\n", p->path);
		if (p->direct[0] && strcmp(p->direct, "off") != 0)
			g_string_append_printf(t, "  direct path: %s, %" PRIu64 " datagrams sent, %"
					       PRIu64 " received\n", p->direct, p->direct_tx,
					       p->direct_rx);
		if (p->direct_dropped || p->direct_rejected)
			g_string_append_printf(t, "  direct path dropped: %" PRIu64 " frames (not "
					       "negotiated or malformed), %" PRIu64 " failing "
					       "WireGuard authentication\n", p->direct_dropped,
					       p->direct_rejected);
		if (p->candidate[0])
			g_string_append_printf(t, "  candidate pair: %s\n", p->candidate);
		if (p->remote_endpoint[0])
			g_string_append_printf(t, "  endpoint: %s (%s), from %s (%s)\n",
					       p->remote_endpoint, p->remote_type[0] ? p->remote_type : "?",
					       p->local_endpoint[0] ? p->local_endpoint : "?",
					       p->local_type[0] ? p->local_type : "?");
		if (p->rtt_ms >= 0)
			g_string_append_printf(t, "  rtt: %" PRId64 " ms\n", p->rtt_ms);
		if (p->path_mtu)
			g_string_append_printf(t, "  path mtu: %u (%s), packets up to %u\n",
					       p->path_mtu, p->path_mtu_state, p->peer_mtu);
		if (p->last_handshake > 0) {
			agent_format_ago(a, sizeof(a), now - p->last_handshake);
			g_string_append_printf(t, "  latest handshake: %s%s\n", a,
					       now - p->last_handshake > 0 ? " ago" : "");
		}
		if (p->rx_bytes || p->tx_bytes) {
			agent_format_bytes(a, sizeof(a), p->rx_bytes);
			agent_format_bytes(b, sizeof(b), p->tx_bytes);
			g_string_append_printf(t, "  transfer: %s received, %s sent\n", a, b);
		}
		if (p->attempts > 1)
			g_string_append_printf(t, "  attempts: %u\n", p->attempts);
		if (p->ice_restarts)
			g_string_append_printf(t, "  ICE restarts: %u\n", p->ice_restarts);
		if (p->last_error[0])
			g_string_append_printf(t, "  last error: %s\n", p->last_error);
		for (size_t k = 0; k < p->n_routes && k < AGENT_STATUS_ROUTES_MAX; k++)
			g_string_append_printf(t, "  route: %s %s%s%s%s\n", p->routes[k].prefix,
					       p->routes[k].state, p->routes[k].note[0] ? " (" : "",
					       p->routes[k].note, p->routes[k].note[0] ? ")" : "");
		if (p->rejected[0])
			g_string_append_printf(t, "  rejected: %s (%u %s)\n", p->rejected,
					       p->rejections, p->rejections == 1 ? "time" : "times");
	}
	return g_string_free(t, FALSE);
}

struct agent_status_doc {
	JsonBuilder *interfaces;	/* an open array */
	JsonBuilder *errors;		/* an open array */
};

struct agent_status_doc *agent_status_doc_new(void)
{
	struct agent_status_doc *d = g_new0(struct agent_status_doc, 1);

	d->interfaces = json_builder_new();
	json_builder_begin_array(d->interfaces);
	d->errors = json_builder_new();
	json_builder_begin_array(d->errors);
	return d;
}

void agent_status_doc_add_error(struct agent_status_doc *d, const char *ifname, const char *msg)
{
	json_builder_begin_object(d->errors);
	json_builder_set_member_name(d->errors, "interface");
	json_builder_add_string_value(d->errors, ifname);
	json_builder_set_member_name(d->errors, "error");
	json_builder_add_string_value(d->errors, msg);
	json_builder_end_object(d->errors);
}

void agent_status_doc_add_reply(struct agent_status_doc *d, const char *ifname, const char *json,
				size_t len)
{
	JsonParser *parser = json_parser_new();
	JsonNode *root;

	if (!json_parser_load_from_data(parser, json, (gssize)len, NULL) ||
	    !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root))
		agent_status_doc_add_error(d, ifname, "the agent's reply is not a JSON object");
	else
		json_builder_add_value(d->interfaces, json_node_copy(root));
	g_object_unref(parser);
}

char *agent_status_doc_finish(struct agent_status_doc *d)
{
	JsonBuilder *b = json_builder_new();
	JsonGenerator *g = json_generator_new();
	JsonNode *root;
	char *out;

	json_builder_end_array(d->interfaces);
	json_builder_end_array(d->errors);
	json_builder_begin_object(b);
	put_int(b, "schemaVersion", AGENT_STATUS_SCHEMA_VERSION);
	json_builder_set_member_name(b, "interfaces");
	json_builder_add_value(b, json_builder_get_root(d->interfaces));
	json_builder_set_member_name(b, "errors");
	json_builder_add_value(b, json_builder_get_root(d->errors));
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	json_generator_set_pretty(g, TRUE);
	out = json_generator_to_data(g, NULL);
	g_object_unref(g);
	json_node_unref(root);
	g_object_unref(b);
	g_object_unref(d->interfaces);
	g_object_unref(d->errors);
	g_free(d);
	return out;
}
