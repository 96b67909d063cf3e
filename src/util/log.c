/* See log.h. Lines go to stderr as "HH:MM:SS.mmm level message", a single write(2) each so
 * lines from several processes (tests, the demo) do not interleave mid-line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

enum rg_log_level rg_log_threshold = RG_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

void rg_log_set_level(enum rg_log_level level)
{
	rg_log_threshold = level;
}

bool rg_log_parse_level(const char *s, enum rg_log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum rg_log_level)i;
			return true;
		}
	}
	return false;
}

void rg_log_(enum rg_log_level level, const char *fmt, ...)
{
	char line[1024];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n, m;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %-5s ", tm.tm_hour, tm.tm_min,
		     tm.tm_sec, (long)(tv.tv_usec / 1000), level_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;	/* truncated: keep the newline */
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;			/* nowhere left to report it */
}
