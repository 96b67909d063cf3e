/* TOML 1.0 parser (https://toml.io/en/v1.0.0), strict: every construct the spec leaves out is an
 * error. One pass over the bytes, no recursion except for nested arrays and inline tables, which
 * CONF_TOML_MAX_DEPTH bounds. The tree is built in place; on any error the whole tree is freed,
 * so callers never see half a document. Called by the config model and by tests; no I/O here. */
#include "conf/toml.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* How a table came to be, to decide whether a later header or dotted key may touch it. */
enum toml_flags {
	F_IMPLICIT = 1 << 0,	/* created as a prefix of a [header] path, not yet defined */
	F_EXPLICIT = 1 << 1,	/* defined by its own [header] (or an [[array]] element) */
	F_DOTTED = 1 << 2,	/* created or extended by dotted keys */
	F_INLINE = 1 << 3,	/* { ... } or inside one: frozen */
	F_AOT = 1 << 4,		/* array created by [[header]] (others are frozen) */
};

struct parser {
	const char *s;
	size_t len, pos;
	const char *name;
	struct rg_err *err;
	/* Forward-moving cursor that turns byte offsets into line:col. */
	size_t lc_pos;
	unsigned lc_line, lc_col;
	struct conf_toml_value *root, *cur;
};

struct buf {
	char *p;
	size_t n, cap;
};

struct keypart {
	char *s;
	size_t len, pos;
};

struct keypath {
	struct keypart *v;
	size_t n, cap;
};

static void locate(struct parser *p, size_t pos, unsigned *line, unsigned *col)
{
	if (pos < p->lc_pos) {
		p->lc_pos = 0;
		p->lc_line = 1;
		p->lc_col = 1;
	}
	if (pos > p->len)
		pos = p->len;
	for (; p->lc_pos < pos; p->lc_pos++) {
		unsigned char c = (unsigned char)p->s[p->lc_pos];

		if (c == '\n') {
			p->lc_line++;
			p->lc_col = 1;
		} else if ((c & 0xc0) != 0x80) {
			p->lc_col++;
		}
	}
	*line = p->lc_line;
	*col = p->lc_col;
}

static int fail(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	char msg[RG_ERR_MSG_LEN];
	unsigned line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	locate(p, pos, &line, &col);
	return rg_err_set(p->err, -EINVAL, "%s:%u:%u: %s", p->name, line, col, msg);
}

static int oom(struct parser *p)
{
	return rg_err_set(p->err, -ENOMEM, "%s: out of memory", p->name);
}

/* Quotes a key for a message: printable ASCII as is, the rest as '?', cut to fit. */
static const char *show_key(char out[static 64], const char *k, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < 60; i++)
		out[n++] = (k[i] >= 0x20 && k[i] < 0x7f) ? k[i] : '?';
	if (len > 60) {
		out[57] = out[58] = out[59] = '.';
	}
	out[n] = '\0';
	return out;
}

/* ---- small containers ---- */

static bool buf_put(struct buf *b, const void *d, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *np;

		while (cap < b->n + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return false;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
	b->p[b->n] = '\0';
	return true;
}

static bool buf_putc(struct buf *b, char c)
{
	return buf_put(b, &c, 1);
}

static void keypath_clear(struct keypath *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].s);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

static struct conf_toml_value *value_new(struct parser *p, enum conf_toml_type type, size_t pos,
					 unsigned depth)
{
	struct conf_toml_value *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->type = type;
	v->depth = depth;
	locate(p, pos, &v->line, &v->col);
	return v;
}

void conf_toml_free(struct conf_toml_value *v)
{
	if (!v)
		return;
	switch (v->type) {
	case CONF_TOML_TABLE:
		for (size_t i = 0; i < v->table.n; i++) {
			free(v->table.items[i].key);
			conf_toml_free(v->table.items[i].val);
		}
		free(v->table.items);
		free(v->table.index);
		break;
	case CONF_TOML_ARRAY:
		for (size_t i = 0; i < v->array.n; i++)
			conf_toml_free(v->array.items[i]);
		free(v->array.items);
		break;
	case CONF_TOML_STRING:
		free(v->str.ptr);
		break;
	default:
		break;
	}
	free(v);
}

static size_t key_hash(const char *k, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 0x100000001b3u;
	return (size_t)h;
}

static struct conf_toml_value *table_find(const struct conf_toml_value *t, const char *k,
					  size_t len)
{
	if (!t->table.index_cap) {
		for (size_t i = 0; i < t->table.n; i++)
			if (t->table.items[i].keylen == len &&
			    memcmp(t->table.items[i].key, k, len) == 0)
				return t->table.items[i].val;
		return NULL;
	}
	for (size_t m = t->table.index_cap - 1, s = key_hash(k, len) & m;; s = (s + 1) & m) {
		size_t slot = t->table.index[s];
		const struct conf_toml_kv *kv;

		if (!slot)
			return NULL;
		kv = &t->table.items[slot - 1];
		if (kv->keylen == len && memcmp(kv->key, k, len) == 0)
			return kv->val;
	}
}

static void index_put(struct conf_toml_value *t, size_t item)
{
	const struct conf_toml_kv *kv = &t->table.items[item];
	size_t m = t->table.index_cap - 1, s = key_hash(kv->key, kv->keylen) & m;

	while (t->table.index[s])
		s = (s + 1) & m;
	t->table.index[s] = item + 1;
}

/* Keeps the index at most 1/2 full once a table has more than 8 keys (lookups stay O(1) for
 * documents with many keys in one table). */
static bool index_update(struct conf_toml_value *t)
{
	size_t n = t->table.n;

	if (n <= 8)
		return true;
	if (t->table.index_cap < 2 * n) {
		size_t cap = 32;
		size_t *idx;

		while (cap < 4 * n)
			cap *= 2;
		idx = calloc(cap, sizeof(*idx));
		if (!idx)
			return false;
		free(t->table.index);
		t->table.index = idx;
		t->table.index_cap = cap;
		for (size_t i = 0; i < n; i++)
			index_put(t, i);
		return true;
	}
	index_put(t, n - 1);
	return true;
}

const struct conf_toml_value *conf_toml_get(const struct conf_toml_value *t, const char *key)
{
	if (!t || t->type != CONF_TOML_TABLE)
		return NULL;
	return table_find(t, key, strlen(key));
}

/* Takes ownership of v on success only. */
static bool table_add(struct conf_toml_value *t, const char *k, size_t len,
		      struct conf_toml_value *v, unsigned line, unsigned col)
{
	char *key;

	if (t->table.n == t->table.cap) {
		size_t cap = t->table.cap ? t->table.cap * 2 : 4;
		struct conf_toml_kv *n = realloc(t->table.items, cap * sizeof(*n));

		if (!n)
			return false;
		t->table.items = n;
		t->table.cap = cap;
	}
	key = malloc(len + 1);
	if (!key)
		return false;
	memcpy(key, k, len);
	key[len] = '\0';
	t->table.items[t->table.n++] = (struct conf_toml_kv){ key, len, v, line, col };
	if (!index_update(t)) {
		t->table.n--;	/* not added: the caller still owns v */
		free(key);
		return false;
	}
	return true;
}

static bool array_add(struct conf_toml_value *a, struct conf_toml_value *v)
{
	if (a->array.n == a->array.cap) {
		size_t cap = a->array.cap ? a->array.cap * 2 : 4;
		struct conf_toml_value **n = realloc(a->array.items, cap * sizeof(*n));

		if (!n)
			return false;
		a->array.items = n;
		a->array.cap = cap;
	}
	a->array.items[a->array.n++] = v;
	return true;
}

/* ---- lexical helpers ---- */

static int peek(const struct parser *p, size_t off)
{
	return p->pos + off < p->len ? (unsigned char)p->s[p->pos + off] : -1;
}

static bool at_newline(const struct parser *p)
{
	return peek(p, 0) == '\n' || (peek(p, 0) == '\r' && peek(p, 1) == '\n');
}

static void skip_ws(struct parser *p)
{
	while (peek(p, 0) == ' ' || peek(p, 0) == '\t')
		p->pos++;
}

static bool is_control(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* At '#': consumes the comment up to (not including) the newline. */
static int skip_comment(struct parser *p)
{
	p->pos++;
	while (p->pos < p->len && !at_newline(p)) {
		int c = peek(p, 0);

		if (is_control(c))
			return fail(p, p->pos, "control character U+%04X is not allowed in a comment",
				    (unsigned)c);
		p->pos++;
	}
	return 0;
}

/* Consumes one newline if there is one; a lone CR is an error. Returns 1 if consumed. */
static int eat_newline(struct parser *p)
{
	if (peek(p, 0) == '\n') {
		p->pos++;
		return 1;
	}
	if (peek(p, 0) == '\r') {
		if (peek(p, 1) != '\n')
			return fail(p, p->pos, "carriage return must be followed by a newline");
		p->pos += 2;
		return 1;
	}
	return 0;
}

/* Whitespace, comments and newlines (inside arrays). */
static int skip_wscn(struct parser *p)
{
	for (;;) {
		int r;

		skip_ws(p);
		if (peek(p, 0) == '#') {
			if ((r = skip_comment(p)) < 0)
				return r;
			continue;
		}
		r = eat_newline(p);
		if (r < 0)
			return r;
		if (r == 0)
			return 0;
	}
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. Returns the offset of the
 * first bad byte, or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (i + n >= len)
			return i;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

bool conf_toml_utf8_valid(const void *s, size_t len)
{
	return utf8_check(s, len) == len;
}

static bool utf8_put(struct buf *b, uint32_t cp)
{
	char o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_put(b, o, n);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- strings ---- */

/* At the backslash of a basic string. */
static int parse_escape(struct parser *p, struct buf *b, bool multiline)
{
	size_t at = p->pos;
	int e = peek(p, 1);
	uint32_t cp = 0;
	int ndig;

	switch (e) {
	case 'b': p->pos += 2; return buf_putc(b, '\b') ? 0 : oom(p);
	case 't': p->pos += 2; return buf_putc(b, '\t') ? 0 : oom(p);
	case 'n': p->pos += 2; return buf_putc(b, '\n') ? 0 : oom(p);
	case 'f': p->pos += 2; return buf_putc(b, '\f') ? 0 : oom(p);
	case 'r': p->pos += 2; return buf_putc(b, '\r') ? 0 : oom(p);
	case '"': p->pos += 2; return buf_putc(b, '"') ? 0 : oom(p);
	case '\\': p->pos += 2; return buf_putc(b, '\\') ? 0 : oom(p);
	case 'u': ndig = 4; break;
	case 'U': ndig = 8; break;
	default:
		if (multiline && (e == ' ' || e == '\t' || e == '\n' || e == '\r')) {
			/* Line-ending backslash: only whitespace may follow it on its line; then
			 * every space and newline up to the next visible character goes. */
			p->pos++;
			skip_ws(p);
			if (!at_newline(p))
				return fail(p, at, "a line-ending backslash must be followed only by "
					    "whitespace up to the end of the line");
			for (;;) {
				int r;

				skip_ws(p);
				r = eat_newline(p);
				if (r < 0)
					return r;
				if (r == 0)
					return 0;
			}
		}
		if (e < 0)
			return fail(p, at, "unterminated string");
		return fail(p, at, "invalid escape sequence in a string (valid: \\b \\t \\n \\f \\r "
			    "\\\" \\\\ \\uXXXX \\UXXXXXXXX)");
	}
	for (int i = 0; i < ndig; i++) {
		int h = hexval(peek(p, 2 + (size_t)i));

		if (h < 0)
			return fail(p, at, "\\%c needs exactly %d hex digits", e, ndig);
		cp = (cp << 4) | (uint32_t)h;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(p, at, "escape \\%c%0*X is not a Unicode scalar value", e, ndig, cp);
	p->pos += 2 + (size_t)ndig;
	return utf8_put(b, cp) ? 0 : oom(p);
}

/* At the opening quote(s). Fills b with the decoded text. */
static int parse_string(struct parser *p, struct buf *b, bool allow_multiline)
{
	size_t start = p->pos;
	char q = (char)peek(p, 0);
	bool literal = q == '\'';
	bool ml = peek(p, 1) == q && peek(p, 2) == q;

	if (!buf_put(b, "", 0))
		return oom(p);
	if (ml && !allow_multiline)
		return fail(p, start, "a multi-line string cannot be a key");
	p->pos += ml ? 3 : 1;
	if (ml) {
		int r = eat_newline(p);	/* a newline right after the opening is trimmed */

		if (r < 0)
			return r;
	}
	for (;;) {
		int c = peek(p, 0), r;

		if (c < 0)
			return fail(p, start, "unterminated string");
		if (c == q) {
			if (!ml) {
				p->pos++;
				return 0;
			}
			if (peek(p, 1) == q && peek(p, 2) == q) {
				size_t n = 3;

				while (peek(p, n) == q)
					n++;
				if (n > 5)
					return fail(p, p->pos, "too many quotes at the end of a "
						    "multi-line string");
				for (size_t i = 3; i < n; i++)
					if (!buf_putc(b, q))
						return oom(p);
				p->pos += n;
				return 0;
			}
			p->pos++;
			if (!buf_putc(b, q))
				return oom(p);
			continue;
		}
		if (c == '\\' && !literal) {
			if ((r = parse_escape(p, b, ml)) < 0)
				return r;
			continue;
		}
		if (c == '\n' || c == '\r') {
			if (!ml)
				return fail(p, p->pos, "newline in a single-line string");
			if ((r = eat_newline(p)) < 0)
				return r;
			if (!buf_putc(b, '\n'))
				return oom(p);
			continue;
		}
		if (is_control(c))
			return fail(p, p->pos, "control character U+%04X is not allowed in a string",
				    (unsigned)c);
		if (!buf_putc(b, (char)c))
			return oom(p);
		p->pos++;
	}
}

/* ---- keys ---- */

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static int parse_key(struct parser *p, struct keypath *k)
{
	for (;;) {
		struct keypart part = { .pos = p->pos };
		struct buf b = { 0 };
		int c, r;

		skip_ws(p);
		part.pos = p->pos;
		c = peek(p, 0);
		if (c == '"' || c == '\'') {
			if ((r = parse_string(p, &b, false)) < 0) {
				free(b.p);
				return r;
			}
		} else if (is_bare(c)) {
			size_t s = p->pos;

			while (is_bare(peek(p, 0)))
				p->pos++;
			if (!buf_put(&b, p->s + s, p->pos - s))
				return oom(p);
		} else {
			return fail(p, p->pos, "expected a key");
		}
		if (k->n >= CONF_TOML_MAX_DEPTH) {
			free(b.p);
			return fail(p, part.pos, "key has more than %d parts", CONF_TOML_MAX_DEPTH);
		}
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 4;
			struct keypart *n = realloc(k->v, cap * sizeof(*n));

			if (!n) {
				free(b.p);
				return oom(p);
			}
			k->v = n;
			k->cap = cap;
		}
		part.s = b.p;
		part.len = b.n;
		k->v[k->n++] = part;
		skip_ws(p);
		if (peek(p, 0) != '.')
			return 0;
		p->pos++;
	}
}

/* ---- numbers and dates ---- */

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Digits of a base with single underscores between digits. Appends digits (no '_') to out. */
static bool scan_digits(const char *t, size_t *i, size_t end, int base, struct buf *out)
{
	size_t n = 0;

	for (;;) {
		int c = *i < end ? (unsigned char)t[*i] : -1;
		int v = hexval(c);

		if (v >= 0 && v < base) {
			if (!buf_putc(out, (char)c))
				return false;
			(*i)++;
			n++;
			continue;
		}
		if (c == '_' && n > 0 && *i + 1 < end && hexval((unsigned char)t[*i + 1]) >= 0 &&
		    hexval((unsigned char)t[*i + 1]) < base) {
			(*i)++;
			continue;
		}
		return n > 0;
	}
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* n decimal digits at t[*i], exactly. */
static bool fixed_digits(const char *t, size_t end, size_t *i, int n, int *out)
{
	int v = 0;

	for (int k = 0; k < n; k++) {
		if (*i >= end || !is_digit((unsigned char)t[*i]))
			return false;
		v = v * 10 + (t[*i] - '0');
		(*i)++;
	}
	*out = v;
	return true;
}

static int parse_time(struct parser *p, size_t at, const char *t, size_t end, size_t *i,
		      struct conf_toml_datetime *dt)
{
	if (!fixed_digits(t, end, i, 2, &dt->hour) || *i >= end || t[*i] != ':' ||
	    (++*i, !fixed_digits(t, end, i, 2, &dt->minute)) || *i >= end || t[*i] != ':' ||
	    (++*i, !fixed_digits(t, end, i, 2, &dt->second)))
		return fail(p, at, "malformed time: expected HH:MM:SS");
	if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
		return fail(p, at, "time out of range (%02d:%02d:%02d)", dt->hour, dt->minute,
			    dt->second);
	if (*i < end && t[*i] == '.') {
		size_t s = ++*i;

		while (*i < end && is_digit((unsigned char)t[*i])) {
			if (*i - s < 9) {
				dt->nsec = dt->nsec * 10 + (uint32_t)(t[*i] - '0');
				dt->frac_digits++;
			}
			(*i)++;
		}
		if (*i == s)
			return fail(p, at, "malformed time: expected digits after '.'");
		for (int k = dt->frac_digits; k < 9; k++)
			dt->nsec *= 10;
	}
	return 0;
}

static int parse_datetime(struct parser *p, size_t at, size_t end,
			  struct conf_toml_value *v)
{
	const char *t = p->s;
	struct conf_toml_datetime *dt = &v->dt;
	size_t i = at;
	int r;

	if (t[at + 2] == ':') {
		v->type = CONF_TOML_TIME_LOCAL;
		if ((r = parse_time(p, at, t, end, &i, dt)) < 0)
			return r;
		if (i != end)
			return fail(p, at, "malformed local time");
		return 0;
	}
	if (!fixed_digits(t, end, &i, 4, &dt->year) || i >= end || t[i] != '-' ||
	    (++i, !fixed_digits(t, end, &i, 2, &dt->month)) || i >= end || t[i] != '-' ||
	    (++i, !fixed_digits(t, end, &i, 2, &dt->day)))
		return fail(p, at, "malformed date: expected YYYY-MM-DD");
	if (dt->month < 1 || dt->month > 12 || dt->day < 1 ||
	    dt->day > days_in(dt->year, dt->month))
		return fail(p, at, "date out of range (%04d-%02d-%02d)", dt->year, dt->month,
			    dt->day);
	if (i == end) {
		v->type = CONF_TOML_DATE_LOCAL;
		return 0;
	}
	if (t[i] != 'T' && t[i] != 't' && t[i] != ' ')
		return fail(p, at, "malformed date-time: expected 'T' between date and time");
	i++;
	if ((r = parse_time(p, at, t, end, &i, dt)) < 0)
		return r;
	if (i == end) {
		v->type = CONF_TOML_DATETIME_LOCAL;
		return 0;
	}
	v->type = CONF_TOML_DATETIME;
	if ((t[i] == 'Z' || t[i] == 'z') && i + 1 == end) {
		dt->offset_z = true;
		return 0;
	}
	if (t[i] == '+' || t[i] == '-') {
		int sign = t[i] == '-' ? -1 : 1, hh, mm;

		i++;
		if (fixed_digits(t, end, &i, 2, &hh) && i < end && t[i] == ':' &&
		    (++i, fixed_digits(t, end, &i, 2, &mm)) && i == end) {
			if (hh > 23 || mm > 59)
				return fail(p, at, "time offset out of range");
			dt->offset_min = sign * (hh * 60 + mm);
			return 0;
		}
	}
	return fail(p, at, "malformed date-time offset: expected Z or +HH:MM");
}

static int parse_number(struct parser *p, size_t at, size_t end, struct conf_toml_value *v)
{
	const char *t = p->s;
	struct buf b = { 0 };
	size_t i = at;
	bool neg = false, is_float = false;
	int r = 0;

	if (t[i] == '+' || t[i] == '-') {
		neg = t[i] == '-';
		i++;
	}
	if (end - i == 3 && (memcmp(t + i, "inf", 3) == 0 || memcmp(t + i, "nan", 3) == 0)) {
		v->type = CONF_TOML_FLOAT;
		v->f = t[i] == 'i' ? INFINITY : NAN;
		if (neg)
			v->f = -v->f;
		return 0;
	}
	if (i + 1 < end && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
		int base = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
		uint64_t u = 0;

		if (i != at)
			return fail(p, at, "a sign is not allowed on a hex, octal or binary integer");
		i += 2;
		if (!buf_put(&b, "", 0))
			return oom(p);
		if (!scan_digits(t, &i, end, base, &b) || i != end) {
			r = fail(p, at, "malformed %s integer",
				 base == 16 ? "hex" : base == 8 ? "octal" : "binary");
			goto out;
		}
		for (size_t k = 0; k < b.n; k++) {
			uint64_t d = (uint64_t)hexval((unsigned char)b.p[k]);

			if (u > (UINT64_C(0x7fffffffffffffff) - d) / (uint64_t)base) {
				r = fail(p, at, "integer does not fit in 64 bits");
				goto out;
			}
			u = u * (uint64_t)base + d;
		}
		v->type = CONF_TOML_INTEGER;
		v->i = (int64_t)u;
		goto out;
	}
	if (!buf_put(&b, neg ? "-" : "", neg ? 1 : 0))
		return oom(p);
	if (i < end && t[i] == '0' && i + 1 < end && (is_digit((unsigned char)t[i + 1]) ||
						      t[i + 1] == '_')) {
		r = fail(p, at, "leading zeros are not allowed in a decimal number");
		goto out;
	}
	if (!scan_digits(t, &i, end, 10, &b)) {
		r = fail(p, at, "malformed number");
		goto out;
	}
	if (i < end && t[i] == '.') {
		is_float = true;
		i++;
		if (!buf_putc(&b, '.') || !scan_digits(t, &i, end, 10, &b)) {
			r = fail(p, at, "malformed float: expected digits after '.'");
			goto out;
		}
	}
	if (i < end && (t[i] == 'e' || t[i] == 'E')) {
		is_float = true;
		i++;
		if (!buf_putc(&b, 'e')) {
			r = oom(p);
			goto out;
		}
		if (i < end && (t[i] == '+' || t[i] == '-')) {
			buf_putc(&b, t[i]);
			i++;
		}
		if (!scan_digits(t, &i, end, 10, &b)) {
			r = fail(p, at, "malformed float exponent");
			goto out;
		}
	}
	if (i != end) {
		r = fail(p, at, "malformed number");
		goto out;
	}
	if (is_float) {
		/* The caller's locale may write decimals with ','; TOML never does. */
		locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);

		if (!c) {
			r = oom(p);
			goto out;
		}
		v->type = CONF_TOML_FLOAT;
		v->f = strtod_l(b.p, NULL, c);
		freelocale(c);
	} else {
		char *e;

		errno = 0;
		v->type = CONF_TOML_INTEGER;
		v->i = strtoll(b.p, &e, 10);
		if (errno == ERANGE || *e)
			r = fail(p, at, "integer does not fit in 64 bits");
	}
out:
	free(b.p);
	return r;
}

/* ---- values ---- */

static int parse_value(struct parser *p, struct conf_toml_value **out, unsigned depth);

static bool is_delim(int c)
{
	return c < 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' ||
	       c == '}' || c == '#';
}

static bool is_token(int c)
{
	return is_bare(c) || c == '+' || c == '.' || c == ':';
}

static int parse_array(struct parser *p, struct conf_toml_value *a)
{
	int r;

	p->pos++;
	for (;;) {
		struct conf_toml_value *v = NULL;

		if ((r = skip_wscn(p)) < 0)
			return r;
		if (peek(p, 0) == ']') {
			p->pos++;
			return 0;
		}
		if ((r = parse_value(p, &v, a->depth + 1)) < 0)
			return r;
		if (!array_add(a, v)) {
			conf_toml_free(v);
			return oom(p);
		}
		if ((r = skip_wscn(p)) < 0)
			return r;
		if (peek(p, 0) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p, 0) == ']') {
			p->pos++;
			return 0;
		}
		if (peek(p, 0) < 0)
			return fail(p, p->pos, "unterminated array: expected ']'");
		return fail(p, p->pos, "expected ',' or ']' in an array");
	}
}

static void freeze(struct conf_toml_value *v)
{
	if (v->type == CONF_TOML_TABLE) {
		v->flags |= F_INLINE;
		for (size_t i = 0; i < v->table.n; i++)
			freeze(v->table.items[i].val);
	} else if (v->type == CONF_TOML_ARRAY) {
		v->flags &= ~(unsigned)F_AOT;
		for (size_t i = 0; i < v->array.n; i++)
			freeze(v->array.items[i]);
	}
}

static int keyval(struct parser *p, struct conf_toml_value *t);

static int parse_inline_table(struct parser *p, struct conf_toml_value *t)
{
	int r;

	p->pos++;
	skip_ws(p);
	if (peek(p, 0) == '}') {
		p->pos++;
		goto done;
	}
	for (;;) {
		skip_ws(p);
		if ((r = keyval(p, t)) < 0)
			return r;
		skip_ws(p);
		if (peek(p, 0) == ',') {
			p->pos++;
			skip_ws(p);
			if (peek(p, 0) == '}')
				return fail(p, p->pos, "trailing comma is not allowed in an inline "
					    "table");
			continue;
		}
		if (peek(p, 0) == '}') {
			p->pos++;
			break;
		}
		if (peek(p, 0) == '\n' || peek(p, 0) == '\r')
			return fail(p, p->pos, "newline is not allowed in an inline table");
		return fail(p, p->pos, "expected ',' or '}' in an inline table");
	}
done:
	freeze(t);
	return 0;
}

static int parse_value(struct parser *p, struct conf_toml_value **out, unsigned depth)
{
	size_t at = p->pos;
	int c = peek(p, 0), r = 0;
	struct conf_toml_value *v;

	*out = NULL;
	if (depth > CONF_TOML_MAX_DEPTH)
		return fail(p, at, "nested deeper than %d levels", CONF_TOML_MAX_DEPTH);
	if (c < 0 || c == '\n' || c == '\r' || c == '#' || c == ',' || c == ']' || c == '}')
		return fail(p, at, "expected a value");
	v = value_new(p, CONF_TOML_BOOL, at, depth);	/* owns nothing until typed */
	if (!v)
		return oom(p);
	if (c == '"' || c == '\'') {
		struct buf b = { 0 };

		v->type = CONF_TOML_STRING;

		r = parse_string(p, &b, true);
		v->str.ptr = b.p;
		v->str.len = b.n;
	} else if (c == '[') {
		v->type = CONF_TOML_ARRAY;
		r = parse_array(p, v);
	} else if (c == '{') {
		v->type = CONF_TOML_TABLE;
		r = parse_inline_table(p, v);
	} else {
		size_t end = at;

		while (end < p->len && is_token((unsigned char)p->s[end]))
			end++;
		/* A date and a time may be separated by one space. */
		if (end - at == 10 && p->s[at + 4] == '-' && end + 1 < p->len &&
		    p->s[end] == ' ' && is_digit((unsigned char)p->s[end + 1])) {
			end++;
			while (end < p->len && is_token((unsigned char)p->s[end]))
				end++;
		}
		if (end == at) {
			r = fail(p, at, "expected a value");
		} else if (end - at == 4 && memcmp(p->s + at, "true", 4) == 0) {
			v->type = CONF_TOML_BOOL;
			v->b = true;
		} else if (end - at == 5 && memcmp(p->s + at, "false", 5) == 0) {
			v->type = CONF_TOML_BOOL;
			v->b = false;
		} else if (end - at >= 5 && is_digit(c) && is_digit(peek(p, 1)) &&
			   ((p->s[at + 2] == ':') ||
			    (is_digit(peek(p, 2)) && is_digit(peek(p, 3)) && p->s[at + 4] == '-'))) {
			r = parse_datetime(p, at, end, v);
		} else if (c == '+' || c == '-' || is_digit(c) || c == 'i' || c == 'n') {
			r = parse_number(p, at, end, v);
		} else {
			r = fail(p, at, "expected a value (string, number, boolean, date, array or "
				 "inline table)");
		}
		if (r == 0) {
			p->pos = end;
			if (!is_delim(peek(p, 0)))
				r = fail(p, at, "malformed value");
		}
	}
	if (r < 0) {
		conf_toml_free(v);
		return r;
	}
	*out = v;
	return 0;
}

/* ---- tables and key/value pairs ---- */

static int new_table(struct parser *p, struct conf_toml_value *parent, const struct keypart *k,
		     unsigned flags, struct conf_toml_value **out)
{
	struct conf_toml_value *t;

	if (parent->depth + 1 > CONF_TOML_MAX_DEPTH)
		return fail(p, k->pos, "nested deeper than %d levels", CONF_TOML_MAX_DEPTH);
	t = value_new(p, CONF_TOML_TABLE, k->pos, parent->depth + 1);
	if (!t)
		return oom(p);
	t->flags = flags;
	if (!table_add(parent, k->s, k->len, t, t->line, t->col)) {
		conf_toml_free(t);
		return oom(p);
	}
	*out = t;
	return 0;
}

/* key = value into table t (the current table or an inline table being built). */
static int keyval(struct parser *p, struct conf_toml_value *t)
{
	struct keypath k = { 0 };
	struct conf_toml_value *v = NULL;
	unsigned kline, kcol;
	char q[64];
	int r;

	if ((r = parse_key(p, &k)) < 0)
		goto out;
	for (size_t i = 0; i + 1 < k.n; i++) {
		struct conf_toml_value *sub = table_find(t, k.v[i].s, k.v[i].len);

		if (!sub) {
			if ((r = new_table(p, t, &k.v[i], F_DOTTED, &sub)) < 0)
				goto out;
		} else if (sub->type != CONF_TOML_TABLE) {
			r = fail(p, k.v[i].pos, "key '%s' is already defined and is not a table",
				 show_key(q, k.v[i].s, k.v[i].len));
			goto out;
		} else if (sub->flags & (F_INLINE | F_EXPLICIT)) {
			r = fail(p, k.v[i].pos, "cannot add keys to table '%s' defined elsewhere",
				 show_key(q, k.v[i].s, k.v[i].len));
			goto out;
		}
		sub->flags |= F_DOTTED;
		t = sub;
	}
	if (table_find(t, k.v[k.n - 1].s, k.v[k.n - 1].len)) {
		r = fail(p, k.v[k.n - 1].pos, "duplicate key '%s'",
			 show_key(q, k.v[k.n - 1].s, k.v[k.n - 1].len));
		goto out;
	}
	skip_ws(p);
	if (peek(p, 0) != '=') {
		r = fail(p, p->pos, "expected '=' after a key");
		goto out;
	}
	p->pos++;
	skip_ws(p);
	locate(p, k.v[k.n - 1].pos, &kline, &kcol);
	if ((r = parse_value(p, &v, t->depth + 1)) < 0)
		goto out;
	if (!table_add(t, k.v[k.n - 1].s, k.v[k.n - 1].len, v, kline, kcol)) {
		conf_toml_free(v);
		r = oom(p);
	}
out:
	keypath_clear(&k);
	return r;
}

/* At '[': [a.b] or [[a.b]]; makes p->cur the table that follows. */
static int header(struct parser *p)
{
	struct keypath k = { 0 };
	struct conf_toml_value *t = p->root, *sub;
	bool aot = peek(p, 1) == '[';
	size_t at = p->pos;
	char q[64];
	int r;

	p->pos += aot ? 2 : 1;
	if ((r = parse_key(p, &k)) < 0)
		goto out;
	skip_ws(p);
	if (peek(p, 0) != ']' || (aot && peek(p, 1) != ']')) {
		r = fail(p, p->pos, aot ? "expected ']]' to close an array-of-tables header"
				       : "expected ']' to close a table header");
		goto out;
	}
	p->pos += aot ? 2 : 1;
	for (size_t i = 0; i + 1 < k.n; i++) {
		sub = table_find(t, k.v[i].s, k.v[i].len);
		if (!sub) {
			if ((r = new_table(p, t, &k.v[i], F_IMPLICIT, &sub)) < 0)
				goto out;
		} else if (sub->type == CONF_TOML_ARRAY && (sub->flags & F_AOT)) {
			sub = sub->array.items[sub->array.n - 1];
		} else if (sub->type != CONF_TOML_TABLE || (sub->flags & F_INLINE)) {
			r = fail(p, k.v[i].pos, "key '%s' is already defined and cannot be extended",
				 show_key(q, k.v[i].s, k.v[i].len));
			goto out;
		}
		t = sub;
	}
	sub = table_find(t, k.v[k.n - 1].s, k.v[k.n - 1].len);
	show_key(q, k.v[k.n - 1].s, k.v[k.n - 1].len);
	if (!aot) {
		if (!sub) {
			if ((r = new_table(p, t, &k.v[k.n - 1], F_EXPLICIT, &sub)) < 0)
				goto out;
		} else if (sub->type == CONF_TOML_TABLE && sub->flags == F_IMPLICIT) {
			sub->flags = F_EXPLICIT;
		} else {
			r = fail(p, at, "table '%s' is already defined", q);
			goto out;
		}
		p->cur = sub;
	} else {
		struct conf_toml_value *elem;

		if (!sub) {
			if (t->depth + 1 > CONF_TOML_MAX_DEPTH) {
				r = fail(p, at, "nested deeper than %d levels", CONF_TOML_MAX_DEPTH);
				goto out;
			}
			sub = value_new(p, CONF_TOML_ARRAY, k.v[k.n - 1].pos, t->depth + 1);
			if (!sub || !table_add(t, k.v[k.n - 1].s, k.v[k.n - 1].len, sub, sub->line,
					       sub->col)) {
				conf_toml_free(sub);
				r = oom(p);
				goto out;
			}
			sub->flags = F_AOT;
		} else if (sub->type != CONF_TOML_ARRAY || !(sub->flags & F_AOT)) {
			r = fail(p, at, "'%s' is already defined and is not an array of tables", q);
			goto out;
		}
		if (sub->depth + 1 > CONF_TOML_MAX_DEPTH) {
			r = fail(p, at, "nested deeper than %d levels", CONF_TOML_MAX_DEPTH);
			goto out;
		}
		elem = value_new(p, CONF_TOML_TABLE, k.v[k.n - 1].pos, sub->depth + 1);
		if (!elem || !array_add(sub, elem)) {
			conf_toml_free(elem);
			r = oom(p);
			goto out;
		}
		elem->flags = F_EXPLICIT;
		p->cur = elem;
	}
out:
	keypath_clear(&k);
	return r;
}

int conf_toml_parse(struct conf_toml_value **out, const char *src, size_t len, const char *name,
		    struct rg_err *err)
{
	struct parser p = {
		.s = src, .len = len, .name = name ? name : "<input>", .err = err,
		.lc_line = 1, .lc_col = 1,
	};
	size_t bad;
	int r = 0;

	*out = NULL;
	if (len > CONF_TOML_MAX_INPUT)
		return rg_err_set(err, -EFBIG, "%s: larger than %d bytes", p.name,
				  CONF_TOML_MAX_INPUT);
	bad = utf8_check((const unsigned char *)src, len);
	if (bad != len)
		return fail(&p, bad, "invalid UTF-8");
	p.root = value_new(&p, CONF_TOML_TABLE, 0, 0);
	if (!p.root)
		return oom(&p);
	p.root->flags = F_EXPLICIT;
	p.cur = p.root;
	if (len >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;	/* a byte order mark is not content */
	while (p.pos < p.len) {
		int c;

		skip_ws(&p);
		c = peek(&p, 0);
		if (c == '[')
			r = header(&p);
		else if (c != '#' && c != '\n' && c != '\r' && c >= 0)
			r = keyval(&p, p.cur);
		if (r < 0)
			break;
		skip_ws(&p);
		if (peek(&p, 0) == '#' && (r = skip_comment(&p)) < 0)
			break;
		if (peek(&p, 0) < 0)
			break;
		r = eat_newline(&p);
		if (r < 0)
			break;
		if (r == 0) {
			r = fail(&p, p.pos, "expected a newline or end of file");
			break;
		}
		r = 0;
	}
	if (r < 0) {
		conf_toml_free(p.root);
		return r;
	}
	*out = p.root;
	return 0;
}

const char *conf_toml_type_name(enum conf_toml_type type)
{
	switch (type) {
	case CONF_TOML_TABLE: return "table";
	case CONF_TOML_ARRAY: return "array";
	case CONF_TOML_STRING: return "string";
	case CONF_TOML_INTEGER: return "integer";
	case CONF_TOML_FLOAT: return "float";
	case CONF_TOML_BOOL: return "bool";
	case CONF_TOML_DATETIME: return "datetime";
	case CONF_TOML_DATETIME_LOCAL: return "datetime-local";
	case CONF_TOML_DATE_LOCAL: return "date-local";
	case CONF_TOML_TIME_LOCAL: return "time-local";
	}
	return "?";
}

void conf_toml_datetime_format(char *buf, size_t cap, const struct conf_toml_value *v)
{
	const struct conf_toml_datetime *d = &v->dt;
	char frac[16] = "";
	size_t n = 0;

	if (d->frac_digits > 0) {
		uint32_t ns = d->nsec;

		for (int k = d->frac_digits; k < 9; k++)
			ns /= 10;
		snprintf(frac, sizeof(frac), ".%0*u", d->frac_digits, ns);
	}
	if (v->type != CONF_TOML_TIME_LOCAL)
		n += (size_t)snprintf(buf, cap, "%04d-%02d-%02d", d->year, d->month, d->day);
	if (v->type == CONF_TOML_DATE_LOCAL || n >= cap)
		return;
	n += (size_t)snprintf(buf + n, cap - n, "%s%02d:%02d:%02d%s",
			      v->type == CONF_TOML_TIME_LOCAL ? "" : "T", d->hour, d->minute,
			      d->second, frac);
	if (v->type != CONF_TOML_DATETIME || n >= cap)
		return;
	if (d->offset_z) {
		snprintf(buf + n, cap - n, "Z");
	} else {
		int o = d->offset_min < 0 ? -d->offset_min : d->offset_min;

		snprintf(buf + n, cap - n, "%c%02d:%02d", d->offset_min < 0 ? '-' : '+', o / 60,
			 o % 60);
	}
}
