/* Logging (STYLE §14): one event per line on stderr, levels chosen with -v. A line about a peer
 * starts with its short id. Hot paths test rg_log_on() first, so arguments are not evaluated. */
#ifndef RG_UTIL_LOG_H
#define RG_UTIL_LOG_H

#include <stdbool.h>

enum rg_log_level { RG_LOG_ERROR = 0, RG_LOG_WARN, RG_LOG_INFO, RG_LOG_DEBUG, RG_LOG_TRACE };

/* Process-wide threshold: lines above it are dropped. Default RG_LOG_INFO. */
extern enum rg_log_level rg_log_threshold;

void rg_log_set_level(enum rg_log_level level);
/* Parses "error|warn|info|debug|trace"; returns false (level unchanged) on anything else. */
bool rg_log_parse_level(const char *s, enum rg_log_level *out);
void rg_log_(enum rg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rg_log_on(level) ((level) <= rg_log_threshold)
#define rg_log(level, ...)                      \
	do {                                    \
		if (rg_log_on(level))           \
			rg_log_(level, __VA_ARGS__); \
	} while (0)

#endif
