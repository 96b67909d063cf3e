/* See log.h. On stderr a line is "YYYY-MM-DD HH:MM:SS.mmm level message" in local time, written
 * with one write(2) so lines from several processes (tests, the demo) do not interleave
 * mid-line. A sink installed by the program gets the bare message instead.
 * The message is escaped (util/escape.h): peer ids, hub errors and paths come from the network,
 * and a newline or an escape sequence in them must not forge a line or reach the terminal. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/escape.h"
#include "util/log.h"

enum rg_log_level rg_log_threshold = RG_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };
static rg_log_sink_fn sink;
static void *sink_opaque;

void rg_log_set_level(enum rg_log_level level)
{
	rg_log_threshold = level;
}

bool rg_log_parse_level(const char *s, enum rg_log_level *out)
{
	if (!strcmp(s, "warning"))	/* journalctl's and syslog's name */
		s = "warn";
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum rg_log_level)i;
			return true;
		}
	}
	return false;
}

const char *rg_log_level_name(enum rg_log_level level)
{
	return (unsigned)level < sizeof(level_names) / sizeof(level_names[0]) ?
		       level_names[level] : "?";
}

void rg_log_set_sink(rg_log_sink_fn fn, void *opaque)
{
	sink = fn;
	sink_opaque = opaque;
}

size_t rg_log_prefix(char *buf, size_t cap, enum rg_log_level level)
{
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %-5s ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (long)(tv.tv_usec / 1000), rg_log_level_name(level));
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

void rg_log_(enum rg_log_level level, const char *fmt, ...)
{
	char msg[1024], line[1024];
	va_list ap;
	int n = 0, m;

	if (!sink)
		n = (int)rg_log_prefix(line, sizeof(line), level);
	va_start(ap, fmt);
	m = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof(msg))
		m = sizeof(msg) - 1;	/* truncated */
	/* leaves room for the newline */
	n += (int)rg_escape_text(line + n, sizeof(line) - (size_t)n - 1, msg, (size_t)m);
	if (sink) {
		sink(level, line, (size_t)n, sink_opaque);
		return;
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;			/* nowhere left to report it */
}
