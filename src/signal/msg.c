/* Signaling messages with json-glib (see msg.h). Parsing reads into a local message and hands it
 * over only when every required field is present; writing checks the required fields first.
 *
 * json-glib is more lenient than JSON and than the hub's reader (src/hub/json.c): it cuts member
 * names and strings at a "\u0000", takes octal and unknown escapes ("\0", "\q"), and keeps the
 * last of two members with the same name. A frame the hub reads one way and we read another
 * could spoof `from` or turn a relayed message into a forged `peers` (issue 15), so such frames
 * are refused before json-glib sees them (strict_strings) or while it parses (duplicates). */
#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "signal/msg.h"
#include "util/err.h"

static const char *const type_names[] = {
	[SIG_MSG_JOIN] = "join",
	[SIG_MSG_PEERS] = "peers",
	[SIG_MSG_OFFER] = "offer",
	[SIG_MSG_ANSWER] = "answer",
	[SIG_MSG_ICE_CANDIDATE] = "ice-candidate",
	[SIG_MSG_PEER_LEFT] = "peer-left",
	[SIG_MSG_ERROR] = "error",
	[SIG_MSG_REVOKE] = "revoke",
};

const char *sig_msg_type_name(enum sig_msg_type type)
{
	if ((unsigned)type >= G_N_ELEMENTS(type_names))
		return NULL;
	return type_names[type];
}

enum sig_msg_type sig_msg_type_from_name(const char *name)
{
	for (size_t i = 1; name && i < G_N_ELEMENTS(type_names); i++)
		if (!strcmp(name, type_names[i]))
			return (enum sig_msg_type)i;
	return SIG_MSG_NONE;
}

void sig_msg_clear(struct sig_msg *m)
{
	if (!m)
		return;
	g_free(m->peer_id);
	g_free(m->public_key);
	g_free(m->address);
	g_free(m->cert);
	g_free(m->rotation);
	g_strfreev(m->routes);
	g_free(m->from);
	g_free(m->to);
	g_free(m->sdp);
	g_free(m->candidate);
	g_free(m->code);
	g_free(m->message);
	for (size_t i = 0; i < m->n_peers; i++) {
		g_free(m->peers[i].peer_id);
		g_free(m->peers[i].public_key);
		g_free(m->peers[i].address);
		g_free(m->peers[i].cert);
		g_free(m->peers[i].rotation);
	}
	g_free(m->peers);
	for (size_t i = 0; i < m->n_revocations; i++)
		g_free(m->revocations[i]);
	g_free(m->revocations);
	g_free(m->settings);
	memset(m, 0, sizeof(*m));
}

/* The members the agent acts on: one of them twice in an object is refused. */
static const char *const acted_names[] = {
	"type", "peerId", "publicKey", "address", "from", "to", "sdp", "candidate", "code",
	"message", "peers", "cert", "routes", "revocations", "rotation", "settings", "relay",
	"relayRate", "relayBurst",
};

/* Strings as JSON (RFC 8259 §7) spells them: only the escapes \" \\ \/ \b \f \n \r \t \uXXXX,
 * no "\u0000", no raw control character. Outside strings json-glib checks the grammar. */
static int strict_strings(const char *json, size_t len, struct rg_err *err)
{
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)json[i];

		if (!in_str) {
			in_str = c == '"';
			continue;
		}
		if (c == '"') {
			in_str = false;
		} else if (c < 0x20) {
			return rg_err_set(err, -EINVAL, "control character 0x%02x in a string at "
					  "byte %zu", c, i);
		} else if (c == '\\') {
			if (i + 1 >= len || !json[i + 1] || !strchr("\"\\/bfnrtu", json[i + 1]))
				return rg_err_set(err, -EINVAL, "bad escape in a string at byte %zu",
						  i);
			if (json[i + 1] == 'u') {
				if (i + 6 > len || !g_ascii_isxdigit(json[i + 2]) ||
				    !g_ascii_isxdigit(json[i + 3]) || !g_ascii_isxdigit(json[i + 4]) ||
				    !g_ascii_isxdigit(json[i + 5]))
					return rg_err_set(err, -EINVAL, "bad \\u escape at byte %zu",
							  i);
				if (!memcmp(json + i + 2, "0000", 4))
					return rg_err_set(err, -EINVAL, "\\u0000 in a string at byte "
							  "%zu", i);
				i += 4;
			}
			i++;
		}
	}
	return 0;
}

/* Duplicate detection while json-glib parses: it emits object-member after storing each member,
 * so a member that did not grow the object replaced an earlier one of the same name. */
struct dup_check {
	GHashTable *counts;	/* JsonObject * → members seen */
	const char *dup;	/* first acted-on name seen twice, NULL = none */
};

static void object_member_cb(JsonParser *parser, JsonObject *o, const char *name, gpointer data)
{
	struct dup_check *d = data;
	guint seen = GPOINTER_TO_UINT(g_hash_table_lookup(d->counts, o)) + 1;

	(void)parser;
	if (seen > json_object_get_size(o)) {
		seen--;
		for (size_t i = 0; i < G_N_ELEMENTS(acted_names) && !d->dup; i++)
			if (!strcmp(name, acted_names[i]))
				d->dup = acted_names[i];
	}
	g_hash_table_insert(d->counts, o, GUINT_TO_POINTER(seen));
}

/* Reads member `name` of o into *out: absent or null leaves *out NULL; a string is copied;
 * anything else is an error. */
static int get_str(JsonObject *o, const char *tname, const char *name, bool required, char **out,
		   struct rg_err *err)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || JSON_NODE_HOLDS_NULL(n)) {
		if (required)
			return rg_err_set(err, -EINVAL, "%s: missing field '%s'", tname, name);
		return 0;
	}
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return rg_err_set(err, -EINVAL, "%s: field '%s' must be a string", tname, name);
	/* json-glib's scanner takes non-JSON escapes such as "\200" (octal) and can hand back
	 * bytes that are not UTF-8; JSON text is UTF-8, and we could not write such a string back. */
	if (!g_utf8_validate(json_node_get_string(n), -1, NULL))
		return rg_err_set(err, -EINVAL, "%s: field '%s' is not valid UTF-8", tname, name);
	*out = g_strdup(json_node_get_string(n));
	return 0;
}

/* The routes extension: absent or null leaves *out NULL; otherwise an array of at most
 * SIG_MSG_ROUTES_MAX strings. */
static int get_routes(JsonObject *o, const char *tname, char ***out, struct rg_err *err)
{
	JsonNode *n = json_object_get_member(o, "routes");
	JsonArray *a;
	guint len;

	if (!n || JSON_NODE_HOLDS_NULL(n))
		return 0;
	if (!JSON_NODE_HOLDS_ARRAY(n))
		return rg_err_set(err, -EINVAL, "%s: field 'routes' must be an array", tname);
	a = json_node_get_array(n);
	len = json_array_get_length(a);
	if (len > SIG_MSG_ROUTES_MAX)
		return rg_err_set(err, -EINVAL, "%s: field 'routes' has more than %d entries", tname,
				  SIG_MSG_ROUTES_MAX);
	*out = g_new0(char *, len + 1);
	for (guint i = 0; i < len; i++) {
		JsonNode *e = json_array_get_element(a, i);

		if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING ||
		    !g_utf8_validate(json_node_get_string(e), -1, NULL))
			return rg_err_set(err, -EINVAL, "%s: routes[%u] must be a string", tname, i);
		(*out)[i] = g_strdup(json_node_get_string(e));
	}
	return 0;
}

/* An optional positive integer that fits 32 bits; anything else reads as absent (0). */
static uint32_t opt_u32(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);
	gint64 v;

	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
		return 0;
	v = json_node_get_int(n);
	return v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
}

static int parse_peers(JsonObject *o, struct sig_msg *m, struct rg_err *err)
{
	JsonNode *n = json_object_get_member(o, "peers");
	JsonArray *a;
	guint len;
	int r;

	JsonNode *rn = json_object_get_member(o, "relay");

	/* extension: the hub relays datagrams; anything but true means no */
	m->relay = rn && JSON_NODE_HOLDS_VALUE(rn) &&
		   json_node_get_value_type(rn) == G_TYPE_BOOLEAN && json_node_get_boolean(rn);
	/* extension: the budget the hub gives each sending socket (charged bytes) */
	m->relay_rate = m->relay ? opt_u32(o, "relayRate") : 0;
	m->relay_burst = m->relay ? opt_u32(o, "relayBurst") : 0;
	/* Go marshals an empty (nil) slice as null */
	if (!n || JSON_NODE_HOLDS_NULL(n))
		return 0;
	if (!JSON_NODE_HOLDS_ARRAY(n))
		return rg_err_set(err, -EINVAL, "peers: field 'peers' must be an array");
	a = json_node_get_array(n);
	len = json_array_get_length(a);
	m->peers = g_new0(struct sig_peer, len ? len : 1);
	for (guint i = 0; i < len; i++) {
		JsonNode *e = json_array_get_element(a, i);
		struct sig_peer *p = &m->peers[m->n_peers++];

		if (!JSON_NODE_HOLDS_OBJECT(e))
			return rg_err_set(err, -EINVAL, "peers: entry %u is not an object", i);
		JsonObject *eo = json_node_get_object(e);

		if ((r = get_str(eo, "peers", "peerId", true, &p->peer_id, err)) ||
		    (r = get_str(eo, "peers", "publicKey", false, &p->public_key, err)) ||
		    (r = get_str(eo, "peers", "address", false, &p->address, err)) ||
		    (r = get_str(eo, "peers", "cert", false, &p->cert, err)) ||
		    (r = get_str(eo, "peers", "rotation", false, &p->rotation, err)))
			return r;
		if (!p->public_key)
			p->public_key = g_strdup("");
	}
	return 0;
}

static int parse_revocations(JsonObject *o, struct sig_msg *m, struct rg_err *err)
{
	JsonNode *n = json_object_get_member(o, "revocations");
	JsonArray *a;
	guint len;

	if (!n || !JSON_NODE_HOLDS_ARRAY(n))
		return rg_err_set(err, -EINVAL, "revoke: field 'revocations' must be an array");
	a = json_node_get_array(n);
	len = json_array_get_length(a);
	if (len > SIG_MSG_REVOKE_MAX)
		return rg_err_set(err, -EINVAL, "revoke: more than %d revocations",
				  SIG_MSG_REVOKE_MAX);
	m->revocations = g_new0(char *, len ? len : 1);
	for (guint i = 0; i < len; i++) {
		JsonNode *e = json_array_get_element(a, i);

		if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING)
			return rg_err_set(err, -EINVAL, "revoke: entry %u is not a string", i);
		if (!g_utf8_validate(json_node_get_string(e), -1, NULL))
			return rg_err_set(err, -EINVAL, "revoke: entry %u is not valid UTF-8", i);
		m->revocations[m->n_revocations++] = g_strdup(json_node_get_string(e));
	}
	return 0;
}

static int parse_object(JsonObject *o, struct sig_msg *m, struct rg_err *err)
{
	g_autofree char *type = NULL;
	const char *t;
	int r;

	if ((r = get_str(o, "message", "type", true, &type, err)))
		return r;
	m->type = sig_msg_type_from_name(type);
	t = type;
	switch (m->type) {
	case SIG_MSG_JOIN:
		if ((r = get_str(o, t, "peerId", true, &m->peer_id, err)) ||
		    (r = get_str(o, t, "publicKey", true, &m->public_key, err)) ||
		    (r = get_str(o, t, "address", false, &m->address, err)) ||
		    (r = get_str(o, t, "cert", false, &m->cert, err)) ||
		    (r = get_str(o, t, "rotation", false, &m->rotation, err)) ||
		    (r = get_routes(o, t, &m->routes, err)))
			return r;
		break;
	case SIG_MSG_PEERS:
		return parse_peers(o, m, err);
	case SIG_MSG_OFFER:
	case SIG_MSG_ANSWER:
		if ((r = get_str(o, t, "from", false, &m->from, err)) ||
		    (r = get_str(o, t, "to", true, &m->to, err)) ||
		    (r = get_str(o, t, "sdp", true, &m->sdp, err)) ||
		    (r = get_str(o, t, "publicKey", false, &m->public_key, err)) ||
		    (r = get_str(o, t, "address", false, &m->address, err)) ||
		    (r = get_str(o, t, "cert", false, &m->cert, err)) ||
		    (r = get_str(o, t, "rotation", false, &m->rotation, err)) ||
		    (r = get_routes(o, t, &m->routes, err)))
			return r;
		break;
	case SIG_MSG_REVOKE:
		if ((r = get_str(o, t, "from", false, &m->from, err)) ||
		    (r = get_str(o, t, "to", true, &m->to, err)) ||
		    (r = get_str(o, t, "settings", false, &m->settings, err)))
			return r;
		return parse_revocations(o, m, err);
	case SIG_MSG_ICE_CANDIDATE:
		if ((r = get_str(o, t, "from", false, &m->from, err)) ||
		    (r = get_str(o, t, "to", true, &m->to, err)) ||
		    (r = get_str(o, t, "candidate", true, &m->candidate, err)))
			return r;
		break;
	case SIG_MSG_PEER_LEFT:
		return get_str(o, t, "peerId", true, &m->peer_id, err);
	case SIG_MSG_ERROR:
		if ((r = get_str(o, t, "code", false, &m->code, err)) ||
		    (r = get_str(o, t, "message", false, &m->message, err)))
			return r;
		break;
	default:
		return rg_err_set(err, -EINVAL, "unknown type '%.64s'", type);
	}
	return 0;
}

int sig_msg_parse(struct sig_msg *m, const char *json, size_t len, struct rg_err *err)
{
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) gerr = NULL;
	struct sig_msg tmp = { 0 };
	struct dup_check dup = { 0 };
	JsonNode *root;
	bool loaded;
	int r;

	memset(m, 0, sizeof(*m));
	if (len > SIG_MSG_MAX)
		return rg_err_set(err, -EMSGSIZE, "message of %zu bytes exceeds %d", len, SIG_MSG_MAX);
	/* json-glib stops at an embedded NUL; such a frame is not one JSON text */
	if (memchr(json, '\0', len))
		return rg_err_set(err, -EINVAL, "message contains a NUL byte");
	if ((r = strict_strings(json, len, err)))
		return r;
	parser = json_parser_new_immutable();
	dup.counts = g_hash_table_new(NULL, NULL);
	g_signal_connect(parser, "object-member", G_CALLBACK(object_member_cb), &dup);
	loaded = json_parser_load_from_data(parser, json, (gssize)len, &gerr);
	g_hash_table_destroy(dup.counts);
	if (!loaded)
		return rg_err_set(err, -EINVAL, "not valid JSON: %s", gerr->message);
	if (dup.dup)
		return rg_err_set(err, -EINVAL, "member '%s' appears twice", dup.dup);
	root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root))
		return rg_err_set(err, -EINVAL, "not a JSON object");
	r = parse_object(json_node_get_object(root), &tmp, err);
	if (r) {
		sig_msg_clear(&tmp);
		return r;
	}
	*m = tmp;
	return 0;
}

static void add_str(JsonBuilder *b, const char *name, const char *v)
{
	if (!v)
		return;
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, v);
}

static void add_routes(JsonBuilder *b, char *const *routes)
{
	if (!routes)
		return;
	json_builder_set_member_name(b, "routes");
	json_builder_begin_array(b);
	for (size_t i = 0; routes[i]; i++)
		json_builder_add_string_value(b, routes[i]);
	json_builder_end_array(b);
}

/* Checks that the fields a type requires are set; returns the first missing one or NULL. */
static const char *missing_field(const struct sig_msg *m)
{
	switch (m->type) {
	case SIG_MSG_JOIN:
		return !m->peer_id ? "peerId" : !m->public_key ? "publicKey" : NULL;
	case SIG_MSG_PEERS:
		for (size_t i = 0; i < m->n_peers; i++)
			if (!m->peers[i].peer_id)
				return "peers[].peerId";
		return NULL;
	case SIG_MSG_OFFER:
	case SIG_MSG_ANSWER:
		return !m->to ? "to" : !m->sdp ? "sdp" : NULL;
	case SIG_MSG_ICE_CANDIDATE:
		return !m->to ? "to" : !m->candidate ? "candidate" : NULL;
	case SIG_MSG_PEER_LEFT:
		return !m->peer_id ? "peerId" : NULL;
	case SIG_MSG_ERROR:
		return NULL;
	case SIG_MSG_REVOKE:
		return !m->to ? "to" : NULL;
	default:
		return "type";
	}
}

char *sig_msg_to_json(const struct sig_msg *m, size_t *len_out, struct rg_err *err)
{
	g_autoptr(JsonBuilder) b = NULL;
	g_autoptr(JsonGenerator) gen = NULL;
	g_autoptr(JsonNode) root = NULL;
	const char *miss = missing_field(m);
	gsize len;
	char *out;

	if (miss) {
		rg_err_set(err, -EINVAL, "%s: missing field '%s'",
			   sig_msg_type_name(m->type) ? sig_msg_type_name(m->type) : "message", miss);
		return NULL;
	}
	b = json_builder_new_immutable();
	json_builder_begin_object(b);
	add_str(b, "type", sig_msg_type_name(m->type));
	switch (m->type) {
	case SIG_MSG_JOIN:
		add_str(b, "peerId", m->peer_id);
		add_str(b, "publicKey", m->public_key);
		add_str(b, "address", m->address);
		add_str(b, "cert", m->cert);
		add_str(b, "rotation", m->rotation);
		add_routes(b, m->routes);
		break;
	case SIG_MSG_PEERS:
		json_builder_set_member_name(b, "peers");
		json_builder_begin_array(b);
		for (size_t i = 0; i < m->n_peers; i++) {
			json_builder_begin_object(b);
			add_str(b, "peerId", m->peers[i].peer_id);
			add_str(b, "publicKey", m->peers[i].public_key ? m->peers[i].public_key : "");
			add_str(b, "address", m->peers[i].address);
			add_str(b, "cert", m->peers[i].cert);
			add_str(b, "rotation", m->peers[i].rotation);
			json_builder_end_object(b);
		}
		json_builder_end_array(b);
		break;
	case SIG_MSG_OFFER:
	case SIG_MSG_ANSWER:
		add_str(b, "from", m->from);
		add_str(b, "to", m->to);
		add_str(b, "sdp", m->sdp);
		/* the Go original omits an empty publicKey */
		add_str(b, "publicKey", m->public_key && *m->public_key ? m->public_key : NULL);
		add_str(b, "address", m->address);
		add_str(b, "cert", m->cert);
		add_str(b, "rotation", m->rotation);
		add_routes(b, m->routes);
		break;
	case SIG_MSG_REVOKE:
		add_str(b, "from", m->from);
		add_str(b, "to", m->to);
		json_builder_set_member_name(b, "revocations");
		json_builder_begin_array(b);
		for (size_t i = 0; i < m->n_revocations; i++)
			json_builder_add_string_value(b, m->revocations[i]);
		json_builder_end_array(b);
		add_str(b, "settings", m->settings);
		break;
	case SIG_MSG_ICE_CANDIDATE:
		add_str(b, "from", m->from);
		add_str(b, "to", m->to);
		add_str(b, "candidate", m->candidate);
		break;
	case SIG_MSG_PEER_LEFT:
		add_str(b, "peerId", m->peer_id);
		break;
	case SIG_MSG_ERROR:
		add_str(b, "code", m->code ? m->code : "");
		add_str(b, "message", m->message ? m->message : "");
		break;
	default:
		break;
	}
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	gen = json_generator_new();
	json_generator_set_root(gen, root);
	out = json_generator_to_data(gen, &len);
	if (len_out)
		*len_out = len;
	return out;
}

void sig_msg_init_join(struct sig_msg *m, const char *peer_id, const char *public_key,
		       const char *address)
{
	sig_msg_clear(m);
	m->type = SIG_MSG_JOIN;
	m->peer_id = g_strdup(peer_id);
	m->public_key = g_strdup(public_key);
	m->address = g_strdup(address);
}

void sig_msg_init_offer(struct sig_msg *m, enum sig_msg_type type, const char *from,
			const char *to, const char *sdp, const char *public_key, const char *address)
{
	sig_msg_clear(m);
	m->type = type == SIG_MSG_ANSWER ? SIG_MSG_ANSWER : SIG_MSG_OFFER;
	m->from = g_strdup(from);
	m->to = g_strdup(to);
	m->sdp = g_strdup(sdp);
	m->public_key = g_strdup(public_key);
	m->address = g_strdup(address);
}

void sig_msg_init_candidate(struct sig_msg *m, const char *from, const char *to,
			    const char *candidate)
{
	sig_msg_clear(m);
	m->type = SIG_MSG_ICE_CANDIDATE;
	m->from = g_strdup(from);
	m->to = g_strdup(to);
	m->candidate = g_strdup(candidate);
}
