/* See http.h. The head is split into lines and "Name: value" pairs; only the five headers the
 * upgrade needs are kept, the rest ignored. Fixed bodies take their length from sizeof, so a
 * reply can never carry the literal's terminating NUL. Called from riftgate-hub's event loop
 * (src/hubd/server.c) and from fuzz/hub_http.c.
 */
#include <string.h>

#include "hubd/http.h"
#include "util/ct.h"

#define TEXT(status, extra, body) { status, extra, body, sizeof(body) - 1 }

static const struct {
	const char *status, *extra, *body;
	size_t len;
} fixed[HUBD_REPLY_COUNT] = {
	[HUBD_REPLY_BAD_REQUEST] = TEXT("400 Bad Request", NULL, "bad request\n"),
	[HUBD_REPLY_METHOD] = TEXT("405 Method Not Allowed", "Allow: GET\r\n", "GET only\n"),
	[HUBD_REPLY_HEALTHZ] = TEXT("200 OK", NULL, "ok\n"),
	[HUBD_REPLY_NOT_FOUND] = TEXT("404 Not Found", NULL,
				      "riftgate-hub: WebSocket upgrade on /connect\n"),
	[HUBD_REPLY_SHUTTING_DOWN] = TEXT("503 Service Unavailable", NULL, "shutting down\n"),
	[HUBD_REPLY_UNAUTHORIZED] = TEXT("401 Unauthorized", "WWW-Authenticate: Bearer\r\n",
					 "unauthorized\n"),
	[HUBD_REPLY_BAD_NETWORK] = TEXT("400 Bad Request", NULL,
					"bad network name (1-64 of A-Z a-z 0-9 . _ -)\n"),
	[HUBD_REPLY_BAD_HANDSHAKE] = TEXT("400 Bad Request", "Sec-WebSocket-Version: 13\r\n",
					  "bad websocket handshake\n"),
	[HUBD_REPLY_OVERLOADED] = TEXT("503 Service Unavailable", NULL, "overloaded\n"),
};

#undef TEXT

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

size_t hubd_http_head_len(const uint8_t *buf, size_t len)
{
	const uint8_t *end;

	if (!buf || len < 4)
		return 0;
	end = memmem(buf, len, "\r\n\r\n", 4);
	return end ? (size_t)(end - buf) + 4 : 0;
}

bool hubd_http_parse(struct hubd_http_req *r, const char *head, size_t len)
{
	g_autofree char *copy = g_strndup(head, len);
	char *q;

	memset(r, 0, sizeof(*r));
	r->lines = g_strsplit(copy, "\r\n", -1);
	r->request_line = r->lines[0] ? g_strsplit(r->lines[0], " ", 3) : NULL;
	if (!r->request_line || g_strv_length(r->request_line) != 3 ||
	    !g_str_has_prefix(r->request_line[2], "HTTP/1."))
		return false;
	for (size_t i = 1; r->lines[i] && *r->lines[i]; i++) {
		char *colon = strchr(r->lines[i], ':');
		const char *name = r->lines[i], *v;

		if (!colon)
			continue;
		*colon = '\0';
		v = g_strstrip(colon + 1);
		if (!g_ascii_strcasecmp(name, "Upgrade"))
			r->upgrade = v;
		else if (!g_ascii_strcasecmp(name, "Connection"))
			r->connection = v;
		else if (!g_ascii_strcasecmp(name, "Sec-WebSocket-Key"))
			r->key = v;
		else if (!g_ascii_strcasecmp(name, "Sec-WebSocket-Version"))
			r->version = v;
		else if (!g_ascii_strcasecmp(name, "Authorization"))
			r->auth = v;
		else if (!g_ascii_strcasecmp(name, "X-Riftgate-Serial"))
			r->serial = v;
	}
	r->method = r->request_line[0];
	r->path = g_strdup(r->request_line[1]);
	if ((q = strchr(r->path, '?'))) {
		*q = '\0';
		r->query = g_strdup(q + 1);
	}
	return true;
}

void hubd_http_req_clear(struct hubd_http_req *r)
{
	g_strfreev(r->lines);
	g_strfreev(r->request_line);
	g_free(r->path);
	g_free(r->query);
	memset(r, 0, sizeof(*r));
}

bool hubd_http_has_token(const char *v, const char *tok)
{
	g_auto(GStrv) parts = v ? g_strsplit(v, ",", -1) : NULL;

	for (size_t i = 0; parts && parts[i]; i++)
		if (!g_ascii_strcasecmp(g_strstrip(parts[i]), tok))
			return true;
	return false;
}

bool hubd_http_network_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > HUBD_NETWORK_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

char *hubd_http_network_of(const char *path, const char *query)
{
	static const char prefix[] = "/connect/";
	char *name = NULL;

	if (g_str_has_prefix(path, prefix) && path[sizeof(prefix) - 1]) {
		name = g_uri_unescape_string(path + sizeof(prefix) - 1, NULL);
		if (!name)
			return NULL;	/* bad %-escape */
		if (g_str_has_suffix(name, "/"))
			name[strlen(name) - 1] = '\0';
	} else if (query) {
		g_autoptr(GHashTable) params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE,
								  NULL);
		const char *v = params ? g_hash_table_lookup(params, "network") : NULL;

		if (v)
			name = g_strdup(v);
	}
	if (!name)
		return g_strdup("default");
	if (!hubd_http_network_valid(name)) {
		g_free(name);
		return NULL;
	}
	return name;
}

bool hubd_http_bearer_ok(const char *auth, const char *token)
{
	const char *got = "";
	guint8 a[32], b[32];
	gsize la = sizeof(a), lb = sizeof(b);
	GChecksum *ca, *cb;
	bool ok;

	if (!token)
		return true;
	if (auth && !g_ascii_strncasecmp(auth, "Bearer ", 7))
		got = auth + 7;
	/* hash both to 32 bytes, so neither the compare nor a length check depends on the secret */
	ca = g_checksum_new(G_CHECKSUM_SHA256);
	cb = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(ca, (const guchar *)got, (gssize)strlen(got));
	g_checksum_update(cb, (const guchar *)token, (gssize)strlen(token));
	g_checksum_get_digest(ca, a, &la);
	g_checksum_get_digest(cb, b, &lb);
	ok = rg_ct_eq(a, b, sizeof(a)) && *got;
	g_checksum_free(ca);
	g_checksum_free(cb);
	rg_memzero(a, sizeof(a));
	rg_memzero(b, sizeof(b));
	return ok;
}

char *hubd_http_log_escape(const char *s, size_t max)
{
	GString *o = g_string_new(NULL);
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			g_string_append(o, "\\\\");
		else if (c < 0x20 || c >= 0x7f)
			g_string_append_printf(o, "\\x%02x", c);
		else
			g_string_append_c(o, (char)c);
	}
	if (s[i])
		g_string_append(o, "...");
	return g_string_free(o, FALSE);
}

char *hubd_http_ws_accept(const char *key)
{
	GChecksum *sha = g_checksum_new(G_CHECKSUM_SHA1);
	guint8 dg[20];
	gsize dl = sizeof(dg);

	g_checksum_update(sha, (const guchar *)key, (gssize)strlen(key));
	g_checksum_update(sha, (const guchar *)ws_guid, sizeof(ws_guid) - 1);
	g_checksum_get_digest(sha, dg, &dl);
	g_checksum_free(sha);
	return g_base64_encode(dg, dl);
}

void hubd_http_reply(GString *out, const char *status, const char *extra, const char *type,
		     const char *body, size_t len)
{
	g_string_append_printf(out, "HTTP/1.1 %s\r\nServer: riftgate-hub\r\nContent-Type: %s\r\n"
			       "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", status, type,
			       len, extra ? extra : "");
	g_string_append_len(out, body, (gssize)len);
}

void hubd_http_fixed_reply(GString *out, enum hubd_http_fixed which)
{
	g_assert(which < HUBD_REPLY_COUNT);
	hubd_http_reply(out, fixed[which].status, fixed[which].extra, "text/plain",
			fixed[which].body, fixed[which].len);
}

void hubd_http_upgrade_reply(GString *out, const char *key)
{
	g_autofree char *accept = hubd_http_ws_accept(key);

	g_string_append_printf(out, "HTTP/1.1 101 Switching Protocols\r\nServer: riftgate-hub\r\n"
			       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			       "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
}
