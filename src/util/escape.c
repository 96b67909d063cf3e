/* See escape.h. Printable ASCII and well-formed UTF-8 of printable code points pass; the rest is
 * written byte by byte as "\xNN". */
#include <stdint.h>
#include <string.h>

#include "util/escape.h"

/* Length of the well-formed, printable UTF-8 character at s (at most n bytes), 0 when the first
 * byte must be escaped. */
static size_t printable_char(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;	/* C0, DEL, a continuation byte, or never valid */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;	/* overlong or surrogate */
	if (cp < 0xa0 ||				/* C1 controls (CSI is U+009B) */
	    (cp >= 0x202a && cp <= 0x202e) ||		/* bidi embeddings and overrides */
	    (cp >= 0x2066 && cp <= 0x2069) ||		/* bidi isolates */
	    cp == 0x2028 || cp == 0x2029)		/* line and paragraph separators */
		return 0;
	return len;
}

size_t rg_escape_text(char *out, size_t cap, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len;) {
		size_t c = printable_char(s + i, len - i);

		if (c) {
			if (o + c >= cap)
				break;
			memcpy(out + o, s + i, c);
			o += c;
			i += c;
			continue;
		}
		if (o + 4 >= cap)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[s[i] >> 4];
		out[o++] = hex[s[i] & 15];
		i++;
	}
	out[o] = '\0';
	return o;
}

bool rg_text_is_printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t c = printable_char((const unsigned char *)s + i, len - i);

		if (!c)
			return false;
		i += c;
	}
	return true;
}
