/* TOML 1.0 documents: a strict parser of our own and the tree it builds. The config model
 * (config.c) and the toml-test decoder read the tree; nothing here prints. Errors name
 * `file:line:col` (col counts characters, from 1) and say what was expected. */
#ifndef RG_CONF_TOML_H
#define RG_CONF_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rg_err;

enum conf_toml_limits {
	CONF_TOML_MAX_DEPTH = 128,		/* nested tables/arrays, however they are written */
	CONF_TOML_MAX_INPUT = 16 << 20,		/* bytes */
};

enum conf_toml_type {
	CONF_TOML_TABLE,
	CONF_TOML_ARRAY,
	CONF_TOML_STRING,
	CONF_TOML_INTEGER,
	CONF_TOML_FLOAT,
	CONF_TOML_BOOL,
	CONF_TOML_DATETIME,		/* offset date-time */
	CONF_TOML_DATETIME_LOCAL,
	CONF_TOML_DATE_LOCAL,
	CONF_TOML_TIME_LOCAL,
};

struct conf_toml_datetime {
	int year, month, day;		/* unset (0) for a local time */
	int hour, minute, second;	/* unset (0) for a local date */
	uint32_t nsec;			/* fraction, truncated to nanoseconds */
	int frac_digits;		/* digits written after '.', at most 9; 0 = none */
	int offset_min;			/* offset date-time only: minutes east of UTC */
	bool offset_z;			/* offset written as Z */
};

struct conf_toml_kv;

struct conf_toml_value {
	enum conf_toml_type type;
	unsigned line, col;		/* where the value (or table) was first written */
	unsigned depth;			/* 0 for the root table */
	unsigned flags;			/* private to the parser */
	union {
		struct {
			char *ptr;	/* NUL-terminated; may also contain NULs (\u0000) */
			size_t len;
		} str;
		int64_t i;
		double f;
		bool b;
		struct conf_toml_datetime dt;
		struct {
			struct conf_toml_kv *items;	/* in document order */
			size_t n, cap;
			size_t *index;	/* private: hash of items (slot = item + 1), once n > 8 */
			size_t index_cap;
		} table;
		struct {
			struct conf_toml_value **items;
			size_t n, cap;
		} array;
	};
};

struct conf_toml_kv {
	char *key;			/* NUL-terminated; keylen counts embedded NULs too */
	size_t keylen;
	struct conf_toml_value *val;	/* owned */
	unsigned line, col;		/* where the key (its last part) was written */
};

/* Parses len bytes (UTF-8, no NUL needed). name is used in error messages ("config.toml").
 * On success *out owns the root table; on failure *out is NULL and err says where and why. */
int conf_toml_parse(struct conf_toml_value **out, const char *src, size_t len, const char *name,
		    struct rg_err *err);
void conf_toml_free(struct conf_toml_value *v);

/* Lookup in a table by NUL-terminated key; NULL if absent or t is not a table. */
const struct conf_toml_value *conf_toml_get(const struct conf_toml_value *t, const char *key);

/* Name of a type as toml-test spells it ("string", "datetime-local", "table", ...). */
const char *conf_toml_type_name(enum conf_toml_type type);

/* True when len bytes are strict UTF-8 (what the parser accepts: no overlongs, no surrogates). */
bool conf_toml_utf8_valid(const void *s, size_t len);

/* Writes a date/time value in RFC 3339 form (T separator, fraction as written). buf >= 40. */
void conf_toml_datetime_format(char *buf, size_t cap, const struct conf_toml_value *v);

#endif
