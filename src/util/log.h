/* Logging (STYLE §14): one event per line, levels chosen with -v. A line about a peer starts
 * with its short id ("peer ID: ..."). Hot paths test rg_log_on() first, so arguments are not
 * evaluated. By default lines go to stderr, dated ("2026-01-31 12:00:00.123 warn  ..."); a
 * program may install a sink instead (riftgate's journald writer, src/cli/journal.c; util itself
 * stays libc-only). */
#ifndef RG_UTIL_LOG_H
#define RG_UTIL_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum rg_log_level { RG_LOG_ERROR = 0, RG_LOG_WARN, RG_LOG_INFO, RG_LOG_DEBUG, RG_LOG_TRACE };

/* Process-wide threshold: lines above it are dropped. Default RG_LOG_INFO. */
extern enum rg_log_level rg_log_threshold;

void rg_log_set_level(enum rg_log_level level);
/* Parses "error|warn|info|debug|trace" ("warning" is warn); returns false (level unchanged) on
 * anything else. */
bool rg_log_parse_level(const char *s, enum rg_log_level *out);
const char *rg_log_level_name(enum rg_log_level level);
void rg_log_(enum rg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Receives every line that passes the threshold: msg is the formatted message without date,
 * level or newline, NUL-terminated, len bytes. Called on the logging thread. */
typedef void (*rg_log_sink_fn)(enum rg_log_level level, const char *msg, size_t len,
			       void *opaque);
/* The "YYYY-MM-DD HH:MM:SS.mmm level " that starts a line on stderr, for a sink that also writes
 * lines; returns its length (cap > 0). */
size_t rg_log_prefix(char *buf, size_t cap, enum rg_log_level level);
/* Installs a sink (NULL: back to dated lines on stderr). Set it before other threads log. */
void rg_log_set_sink(rg_log_sink_fn fn, void *opaque);

#define rg_log_on(level) ((level) <= rg_log_threshold)
#define rg_log(level, ...)                      \
	do {                                    \
		if (rg_log_on(level))           \
			rg_log_(level, __VA_ARGS__); \
	} while (0)

#endif
