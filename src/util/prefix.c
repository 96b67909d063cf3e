/* See prefix.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "util/prefix.h"

unsigned rg_prefix_family_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

/* The address part of s (up to '/' or the end) into p; sets family and the full length. */
static bool parse_ip(struct rg_prefix *p, const char *s, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(ip))
		return false;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, p->addr) == 1)
		p->family = AF_INET6;
	else
		return false;
	p->len = (uint8_t)rg_prefix_family_bits(p->family);
	return true;
}

/* 1-3 decimal digits, no leading zero (except "0"), at most max. */
static bool parse_len(const char *d, unsigned max, uint8_t *out)
{
	size_t n = strlen(d);
	unsigned v = 0;

	if (n < 1 || n > 3 || (n > 1 && d[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (d[i] < '0' || d[i] > '9')
			return false;
		v = v * 10 + (unsigned)(d[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint8_t)v;
	return true;
}

static bool parse(struct rg_prefix *p, const char *s, bool bare_ok)
{
	const char *slash = s ? strchr(s, '/') : NULL;

	memset(p, 0, sizeof(*p));
	if (!s || (!slash && !bare_ok))
		goto bad;
	if (!parse_ip(p, s, slash ? (size_t)(slash - s) : strlen(s)))
		goto bad;
	if (slash && !parse_len(slash + 1, rg_prefix_family_bits(p->family), &p->len))
		goto bad;
	return true;
bad:
	memset(p, 0, sizeof(*p));
	return false;
}

bool rg_prefix_parse(struct rg_prefix *p, const char *s)
{
	return parse(p, s, false);
}

bool rg_prefix_parse_addr(struct rg_prefix *p, const char *s)
{
	return parse(p, s, true);
}

/* snprintf's result n into buf of cap bytes: false and "" when it did not fit. */
static bool fitted(char *buf, size_t cap, int n)
{
	if (n >= 0 && (size_t)n < cap)
		return true;
	if (cap)
		buf[0] = '\0';
	return false;
}

bool rg_prefix_format_addr(const struct rg_prefix *p, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (!rg_prefix_family_bits(p->family) || !inet_ntop(p->family, p->addr, ip, sizeof(ip)))
		return fitted(buf, cap, -1);
	return fitted(buf, cap, snprintf(buf, cap, "%s", ip));
}

bool rg_prefix_format(const struct rg_prefix *p, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (!rg_prefix_format_addr(p, ip, sizeof(ip)))
		return fitted(buf, cap, -1);
	return fitted(buf, cap, snprintf(buf, cap, "%s/%u", ip, p->len));
}

static bool bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

void rg_prefix_mask(struct rg_prefix *p)
{
	for (unsigned i = p->len; i < rg_prefix_family_bits(p->family); i++)
		p->addr[i / 8] &= (uint8_t)~(1u << (7 - i % 8));
}

bool rg_prefix_is_network(const struct rg_prefix *p)
{
	for (unsigned i = p->len; i < rg_prefix_family_bits(p->family); i++)
		if (bit(p->addr, i))
			return false;
	return true;
}

bool rg_prefix_equal(const struct rg_prefix *a, const struct rg_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

bool rg_prefix_same_addr(const struct rg_prefix *a, const struct rg_prefix *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, 16);
}

/* The first n bits of a and b agree. */
static bool head_equal(const uint8_t *a, const uint8_t *b, unsigned n)
{
	if (memcmp(a, b, n / 8))
		return false;
	if (n % 8 == 0)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - n % 8));

	return (a[n / 8] & m) == (b[n / 8] & m);
}

bool rg_prefix_contains(const struct rg_prefix *outer, const struct rg_prefix *inner)
{
	if (outer->family != inner->family || !rg_prefix_family_bits(outer->family) ||
	    inner->len < outer->len)
		return false;
	return head_equal(outer->addr, inner->addr, outer->len);
}

bool rg_prefix_overlap(const struct rg_prefix *a, const struct rg_prefix *b)
{
	return rg_prefix_contains(a, b) || rg_prefix_contains(b, a);
}
