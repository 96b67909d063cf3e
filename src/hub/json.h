/* Bounded JSON reader/writer for the hub core (freestanding: no libc, no allocation).
 *
 * The reader validates one complete JSON text (RFC 8259: strings with every escape, \uXXXX with
 * surrogate pairs, UTF-8 checked, numbers, literals), never nests deeper than HUB_JSON_DEPTH_MAX
 * and never recurses (a 64-bit stack of container kinds), and walks the members of a top-level
 * object as raw spans the hub can copy verbatim. Only hub.c and its tests use it.
 */
#ifndef RG_HUB_JSON_H
#define RG_HUB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hub_json_kind {
	HUB_JSON_BAD = 0,
	HUB_JSON_STRING,
	HUB_JSON_NUMBER,
	HUB_JSON_OBJECT,
	HUB_JSON_ARRAY,
	HUB_JSON_TRUE,
	HUB_JSON_FALSE,
	HUB_JSON_NULL,
};

/* A raw slice of the input: [p, p + len). For strings it includes the quotes. */
struct hub_json_span {
	const char *p;
	size_t len;
	enum hub_json_kind kind;
};

/* Iterates the members of a top-level object. */
struct hub_json_iter {
	const char *p, *end;
	bool first;
};

/* True when [s, s+len) is exactly one JSON object (whitespace around it allowed), valid as
 * described above, and no member name at any depth decodes to text containing U+0000 (json-glib
 * would read "from\u0000" as "from"). s may be NULL when len is 0 (then false). */
bool hub_json_validate_object(const char *s, size_t len, unsigned max_depth);

/* Starts iterating a text that hub_json_validate_object() accepted. */
void hub_json_iter_init(struct hub_json_iter *it, const char *s, size_t len);
/* Next member: key and value spans. False at the end. */
bool hub_json_iter_next(struct hub_json_iter *it, struct hub_json_span *key,
			struct hub_json_span *value);

/* Decodes a validated string span (with quotes) into out (cap bytes incl. the NUL). Returns the
 * decoded length, or -1 when it does not fit or contains U+0000 and !allow_nul. */
long hub_json_decode(const struct hub_json_span *s, char *out, size_t cap, bool allow_nul);

/* Bytes hub_json_escape() writes for src (quotes included). */
size_t hub_json_escaped_len(const char *src, size_t len);
/* Writes src (valid UTF-8) as a JSON string with quotes into out, which has room for
 * hub_json_escaped_len(src, len) bytes. Returns bytes written. */
size_t hub_json_escape(char *out, const char *src, size_t len);

#endif
