/* See json.h. Freestanding: only <stdbool.h>/<stddef.h>/<stdint.h>. Every read checks the end
 * pointer first; nesting is tracked in a 64-bit stack, so hostile input cannot grow the C stack. */
#include "hub/json.h"

static const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads 4 hex digits at p (caller checked p + 4 <= end). */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int d = hexval(p[i]);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* One UTF-8 sequence at *pp (first byte >= 0x80): RFC 3629, no overlongs, no surrogates. */
static bool utf8_seq(const char **pp, const char *end)
{
	const uint8_t *p = (const uint8_t *)*pp;
	uint32_t cp;
	int n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 1;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 2;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 3;
		cp = p[0] & 0x07;
	} else {
		return false;
	}
	if ((size_t)((const uint8_t *)end - p) <= (size_t)n)
		return false;
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	*pp += n + 1;
	return true;
}

/* A string starting at the quote at *pp; leaves *pp after the closing quote. */
static bool skip_string(const char **pp, const char *end)
{
	const char *p = *pp + 1;

	while (p < end) {
		uint8_t c = (uint8_t)*p;

		if (c == '"') {
			*pp = p + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			if (!utf8_seq(&p, end))
				return false;
			continue;
		}
		if (c != '\\') {
			p++;
			continue;
		}
		if (end - p < 2)
			return false;
		switch (p[1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p += 2;
			continue;
		case 'u':
			break;
		default:
			return false;
		}
		if (end - p < 6)
			return false;
		long u = hex4(p + 2);

		if (u < 0 || (u >= 0xdc00 && u <= 0xdfff))
			return false;	/* not hex, or a lone low surrogate */
		p += 6;
		if (u >= 0xd800 && u <= 0xdbff) {
			/* a high surrogate must be followed by \u + a low surrogate */
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
				return false;
			long lo = hex4(p + 2);

			if (lo < 0xdc00 || lo > 0xdfff)
				return false;
			p += 6;
		}
	}
	return false;
}

static bool digits(const char **pp, const char *end)
{
	const char *p = *pp;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == *pp)
		return false;
	*pp = p;
	return true;
}

static bool skip_number(const char **pp, const char *end)
{
	const char *p = *pp;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (!(p < end && *p >= '1' && *p <= '9') || !digits(&p, end))
		return false;
	if (p < end && *p == '.') {
		p++;
		if (!digits(&p, end))
			return false;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!digits(&p, end))
			return false;
	}
	*pp = p;
	return true;
}

static bool skip_word(const char **pp, const char *end, const char *w)
{
	const char *p = *pp;

	for (; *w; w++, p++)
		if (p >= end || *p != *w)
			return false;
	*pp = p;
	return true;
}

/* Whether a validated string span [p, end) (quotes included) decodes to text containing U+0000.
 * json-glib cuts member names at a NUL, so "from\u0000" would read as "from" on the agent while
 * the hub saw an unknown member: names like that are refused outright. */
static bool has_nul(const char *p, const char *end)
{
	for (p++; p < end - 1; p++) {
		if (*p != '\\')
			continue;
		if (p[1] == 'u' && p[2] == '0' && p[3] == '0' && p[4] == '0' && p[5] == '0')
			return true;
		p++;	/* the escaped character: "\\" must not start another escape */
	}
	return false;
}

/* One value at *pp (after whitespace), iteratively; depth counts containers already open. */
static bool skip_value(const char **pp, const char *end, unsigned max_depth)
{
	const char *p = *pp, *start;
	uint64_t stack = 0;	/* bit i: container at depth i+1 is an object */
	unsigned depth = 0;

	if (max_depth > 64)
		max_depth = 64;
value:
	p = ws(p, end);
	if (p >= end)
		return false;
	switch (*p) {
	case '{':
	case '[':
		if (depth >= max_depth)
			return false;
		stack = stack << 1 | (*p == '{');
		depth++;
		p = ws(p + 1, end);
		if (p < end && *p == ((stack & 1) ? '}' : ']')) {
			p++;
			goto close;
		}
		if (stack & 1)
			goto key;
		goto value;
	case '"':
		if (!skip_string(&p, end))
			return false;
		break;
	case 't':
		if (!skip_word(&p, end, "true"))
			return false;
		break;
	case 'f':
		if (!skip_word(&p, end, "false"))
			return false;
		break;
	case 'n':
		if (!skip_word(&p, end, "null"))
			return false;
		break;
	default:
		if (!skip_number(&p, end))
			return false;
		break;
	}
after:
	if (depth == 0) {
		*pp = p;
		return true;
	}
	p = ws(p, end);
	if (p >= end)
		return false;
	if (*p == ',') {
		p++;
		if (stack & 1)
			goto key;
		goto value;
	}
	if (*p != ((stack & 1) ? '}' : ']'))
		return false;
	p++;
close:
	stack >>= 1;
	depth--;
	goto after;
key:
	p = ws(p, end);
	start = p;
	if (p >= end || *p != '"' || !skip_string(&p, end) || has_nul(start, p))
		return false;
	p = ws(p, end);
	if (p >= end || *p != ':')
		return false;
	p++;
	goto value;
}

bool hub_json_validate_object(const char *s, size_t len, unsigned max_depth)
{
	const char *p, *end;

	if (!s || !len)
		return false;	/* an empty frame may come with a NULL pointer: no arithmetic on it */
	p = s;
	end = s + len;
	p = ws(p, end);
	if (p >= end || *p != '{' || !skip_value(&p, end, max_depth))
		return false;
	return ws(p, end) == end;
}

void hub_json_iter_init(struct hub_json_iter *it, const char *s, size_t len)
{
	const char *end = s + len;

	it->p = ws(s, end) + 1;	/* past '{' */
	it->end = end;
	it->first = true;
}

static enum hub_json_kind kind_of(char c)
{
	switch (c) {
	case '"': return HUB_JSON_STRING;
	case '{': return HUB_JSON_OBJECT;
	case '[': return HUB_JSON_ARRAY;
	case 't': return HUB_JSON_TRUE;
	case 'f': return HUB_JSON_FALSE;
	case 'n': return HUB_JSON_NULL;
	default: return HUB_JSON_NUMBER;
	}
}

bool hub_json_iter_next(struct hub_json_iter *it, struct hub_json_span *key,
			struct hub_json_span *value)
{
	const char *p = ws(it->p, it->end), *start;

	if (p >= it->end || *p == '}')
		return false;
	if (!it->first) {
		if (*p != ',')
			return false;
		p = ws(p + 1, it->end);
	}
	it->first = false;
	start = p;
	if (p >= it->end || *p != '"' || !skip_string(&p, it->end))
		return false;
	key->p = start;
	key->len = (size_t)(p - start);
	key->kind = HUB_JSON_STRING;
	p = ws(p, it->end);
	if (p >= it->end || *p != ':')
		return false;
	p = ws(p + 1, it->end);
	start = p;
	if (!skip_value(&p, it->end, 64))
		return false;
	value->p = start;
	value->len = (size_t)(p - start);
	value->kind = kind_of(*start);
	it->p = p;
	return true;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

long hub_json_decode(const struct hub_json_span *s, char *out, size_t cap, bool allow_nul)
{
	const char *p = s->p + 1, *end = s->p + s->len - 1;	/* inside the quotes */
	size_t n = 0;

	if (s->kind != HUB_JSON_STRING || s->len < 2 || cap == 0)
		return -1;
	while (p < end) {
		char tmp[4];
		size_t k;

		if (*p != '\\') {
			if (n + 1 >= cap)
				return -1;
			out[n++] = *p++;
			continue;
		}
		switch (p[1]) {
		case 'b': tmp[0] = '\b'; k = 1; p += 2; break;
		case 'f': tmp[0] = '\f'; k = 1; p += 2; break;
		case 'n': tmp[0] = '\n'; k = 1; p += 2; break;
		case 'r': tmp[0] = '\r'; k = 1; p += 2; break;
		case 't': tmp[0] = '\t'; k = 1; p += 2; break;
		case 'u': {
			uint32_t cp = (uint32_t)hex4(p + 2);

			p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {	/* validated: a low half follows */
				cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)hex4(p + 2) - 0xdc00);
				p += 6;
			}
			if (cp == 0 && !allow_nul)
				return -1;
			k = put_utf8(tmp, cp);
			break;
		}
		default:	/* " \ / */
			tmp[0] = p[1];
			k = 1;
			p += 2;
			break;
		}
		if (n + k >= cap)
			return -1;
		for (size_t i = 0; i < k; i++)
			out[n++] = tmp[i];
	}
	out[n] = '\0';
	return (long)n;
}

size_t hub_json_escaped_len(const char *src, size_t len)
{
	size_t n = 2;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)src[i];

		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
			n += 2;
		else if (c < 0x20)
			n += 6;
		else
			n += 1;
	}
	return n;
}

size_t hub_json_escape(char *out, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	out[n++] = '"';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)src[i];

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else if (c == '\r') {
			out[n++] = '\\';
			out[n++] = 'r';
		} else if (c == '\t') {
			out[n++] = '\\';
			out[n++] = 't';
		} else if (c < 0x20) {
			out[n++] = '\\';
			out[n++] = 'u';
			out[n++] = '0';
			out[n++] = '0';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		} else {
			out[n++] = (char)c;
		}
	}
	out[n++] = '"';
	return n;
}
