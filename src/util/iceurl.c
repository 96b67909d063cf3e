/* STUN/TURN server URLs (iceurl.h). Callers: conf (config and invites: validation), rtc/ice.c
 * (then resolves HOST for libnice), agent/turntls.c (connects to HOST:PORT over TLS). */
#include "util/iceurl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static bool name_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

/* 1-5 digits, 1..65535. */
static bool parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned v = 0;

	if (n < 1 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

bool rg_hostport_parse(const char *s, size_t n, char host[static RG_ICE_URL_HOST_MAX + 1],
		       uint16_t *port, bool *has_port)
{
	size_t h;

	if (n == 0)
		return false;
	if (s[0] == '[') {
		unsigned char buf[16];
		const char *close = memchr(s, ']', n);
		size_t l = close ? (size_t)(close - s - 1) : 0;

		if (l == 0 || l >= INET6_ADDRSTRLEN)
			return false;
		memcpy(host, s + 1, l);
		host[l] = '\0';
		if (inet_pton(AF_INET6, host, buf) != 1)
			return false;
		h = l + 2;
	} else {
		for (h = 0; h < n && name_char(s[h]); h++)
			;
		if (h == 0 || h > RG_ICE_URL_HOST_MAX || s[0] == '.' || s[0] == '-')
			return false;
		memcpy(host, s, h);
		host[h] = '\0';
	}
	*has_port = h < n;
	if (h == n)
		return true;
	if (s[h] != ':')
		return false;
	return parse_port(s + h + 1, n - h - 1, port);
}

int rg_ice_url_parse(struct rg_ice_url *out, const char *url)
{
	struct rg_ice_url u = { 0 };
	const char *s, *q;

	if (!url)
		return -EINVAL;
	if (strncmp(url, "stun:", 5) == 0) {
		u.scheme = RG_ICE_URL_STUN;
		s = url + 5;
	} else if (strncmp(url, "turn:", 5) == 0) {
		u.scheme = RG_ICE_URL_TURN;
		s = url + 5;
	} else if (strncmp(url, "turns:", 6) == 0) {
		u.scheme = RG_ICE_URL_TURNS;
		u.tcp = true;
		s = url + 6;
	} else {
		return -EINVAL;
	}
	u.port = u.scheme == RG_ICE_URL_TURNS ? RG_ICE_URL_TURNS_PORT : RG_ICE_URL_STUN_PORT;
	q = strchr(s, '?');
	if (q) {
		/* RFC 7064 gives stun: no query; RFC 7065's is only the transport. */
		if (u.scheme == RG_ICE_URL_STUN)
			return -EINVAL;
		if (strcmp(q, "?transport=tcp") == 0)
			u.tcp = true;
		else if (strcmp(q, "?transport=udp") != 0)
			return -EINVAL;
		else if (u.scheme == RG_ICE_URL_TURNS)
			return -EPROTONOSUPPORT;
	}
	if (!rg_hostport_parse(s, q ? (size_t)(q - s) : strlen(s), u.host, &u.port, &u.has_port))
		return -EINVAL;
	*out = u;
	return 0;
}

bool rg_ice_url_is_turn(const char *url)
{
	struct rg_ice_url u;

	return rg_ice_url_parse(&u, url) == 0 && u.scheme != RG_ICE_URL_STUN;
}

bool rg_ice_url_is_stun(const char *url)
{
	struct rg_ice_url u;

	return rg_ice_url_parse(&u, url) == 0 && u.scheme == RG_ICE_URL_STUN;
}
