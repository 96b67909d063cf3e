/* HTTP/1.1 for riftgate-hub (src/hubd/server.c): the request head a client sends before the
 * WebSocket upgrade, the network it names, the bearer token check, and the replies.
 *
 * Pure byte and string work on GLib types: no sockets. One request per connection: every reply
 * says "Connection: close".
 */
#ifndef RG_HUBD_HTTP_H
#define RG_HUBD_HTTP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hubd_http_limits {
	HUBD_HTTP_HEAD_MAX = 16 * 1024,		/* request line + headers */
	HUBD_NETWORK_NAME_MAX = 64,
};

/* A parsed request head. Strings point into storage the struct owns. */
struct hubd_http_req {
	const char *method;
	char *path;			/* owned: target before '?' */
	char *query;			/* owned: after '?', or NULL */
	const char *upgrade, *connection, *key, *version, *auth;	/* NULL when absent */
	const char *serial;		/* X-Riftgate-Serial: the client's certificate serial */
	char **lines;			/* owned: the head split into lines */
	char **request_line;		/* owned: method, target, version */
};

/* Length of the request head at buf[0, len) through its blank line ("\r\n\r\n"), or 0 when it
 * has not all arrived. */
size_t hubd_http_head_len(const uint8_t *buf, size_t len);

/* Parses a complete head (as hubd_http_head_len() measured it). False: not an HTTP/1.x request
 * line (answer HUBD_REPLY_BAD_REQUEST). r must be cleared either way. */
bool hubd_http_parse(struct hubd_http_req *r, const char *head, size_t len);
void hubd_http_req_clear(struct hubd_http_req *r);

/* True when the comma-separated header value v lists tok (case-insensitive). */
bool hubd_http_has_token(const char *v, const char *tok);

/* The network a hub URL names: "/connect/NAME" (%-escapes decoded), else ?network=NAME, else
 * "default". NULL for a bad name (1-64 of A-Z a-z 0-9 . _ -). Free with g_free. */
char *hubd_http_network_of(const char *path, const char *query);
bool hubd_http_network_valid(const char *name);

/* Whether an Authorization header value carries "Bearer <token>" (scheme case-insensitive).
 * token NULL = open hub. Constant time in the token: both sides are hashed first. */
bool hubd_http_bearer_ok(const char *auth, const char *token);

/* s for a log line: bytes outside printable ASCII as \xNN, '\\' doubled, cut at max bytes
 * (then "..."), so a request path cannot forge or garble a line. Free with g_free. */
char *hubd_http_log_escape(const char *s, size_t max);

/* RFC 6455 §4.2.2: base64(SHA-1(key + GUID)). Free with g_free. */
char *hubd_http_ws_accept(const char *key);

/* The fixed replies (plain text bodies). */
enum hubd_http_fixed {
	HUBD_REPLY_BAD_REQUEST,
	HUBD_REPLY_METHOD,
	HUBD_REPLY_HEALTHZ,
	HUBD_REPLY_NOT_FOUND,
	HUBD_REPLY_SHUTTING_DOWN,
	HUBD_REPLY_UNAUTHORIZED,
	HUBD_REPLY_BAD_NETWORK,
	HUBD_REPLY_BAD_HANDSHAKE,
	HUBD_REPLY_OVERLOADED,
	HUBD_REPLY_COUNT,
};

/* Appends a whole response (status line, headers, body) to out. extra: more header lines,
 * each ending in "\r\n", or NULL. */
void hubd_http_reply(GString *out, const char *status, const char *extra, const char *type,
		     const char *body, size_t len);
void hubd_http_fixed_reply(GString *out, enum hubd_http_fixed which);
/* The 101 reply that completes an upgrade with this Sec-WebSocket-Key. */
void hubd_http_upgrade_reply(GString *out, const char *key);

#endif
