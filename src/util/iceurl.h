/* STUN and TURN server URLs (RFC 7064, RFC 7065): the one parser that the config, the invite
 * reader, rtc's ICE layer and the agent's TURN-over-TLS proxy share. Pure libc, no allocation,
 * no name resolution.
 *
 *   stun:HOST[:PORT]
 *   turn:HOST[:PORT][?transport=udp|tcp]
 *   turns:HOST[:PORT][?transport=tcp]	(TLS over TCP; DTLS to a TURN server is not supported)
 *
 * HOST is a DNS name or IPv4 literal (letters, digits, '.', '_', '-', not starting with '.' or
 * '-') or an IPv6 literal in brackets; PORT is 1-65535 and defaults to 3478 (stun, turn) or
 * 5349 (turns). Scheme and query are case-sensitive, as the config has always read them. */
#ifndef RG_UTIL_ICEURL_H
#define RG_UTIL_ICEURL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rg_ice_url_limits {
	RG_ICE_URL_HOST_MAX = 255,	/* bytes of HOST, brackets excluded */
	RG_ICE_URL_STUN_PORT = 3478,	/* also turn: */
	RG_ICE_URL_TURNS_PORT = 5349,
};

enum rg_ice_url_scheme { RG_ICE_URL_STUN = 0, RG_ICE_URL_TURN, RG_ICE_URL_TURNS };

struct rg_ice_url {
	enum rg_ice_url_scheme scheme;
	bool tcp;			/* ?transport=tcp, and always for turns: */
	bool has_port;			/* the URL names a port */
	uint16_t port;			/* the URL's, or the scheme's default */
	char host[RG_ICE_URL_HOST_MAX + 1];	/* IPv6 literals without their brackets */
};

/* Parses url into *u (written only on success). Returns 0, -EPROTONOSUPPORT for a turns: URL
 * with ?transport=udp, or -EINVAL for anything else that is not one of the forms above. */
int rg_ice_url_parse(struct rg_ice_url *u, const char *url);
/* HOST[:PORT] of exactly n bytes, as in these URLs (the config reads the hub's ws:// URL's
 * authority with it too): HOST into host, PORT into *port when given (*has_port). On false,
 * host and *port may hold a part of the input. */
bool rg_hostport_parse(const char *s, size_t n, char host[static RG_ICE_URL_HOST_MAX + 1],
		       uint16_t *port, bool *has_port);
/* rg_ice_url_parse succeeds and the scheme is turn: or turns:. */
bool rg_ice_url_is_turn(const char *url);
bool rg_ice_url_is_stun(const char *url);

#endif
