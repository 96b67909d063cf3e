/* riftgate-hub limit settings (see limits.h). Parsing only; main thread. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "hub/hub.h"
#include "hubd/limits.h"
#include "util/err.h"

static const char *const options[] = {
	"--max-conns", "--max-conns-per-ip", "--join-timeout", "--max-queue", "--max-queue-total",
	"--join-extra-max",
};

void hubd_limits_default(struct hubd_limits *l)
{
	*l = (struct hubd_limits){
		.max_conns = HUBD_MAX_CONNS_DEFAULT,
		.max_conns_per_ip = HUBD_MAX_CONNS_PER_IP_DEFAULT,
		.join_timeout_ms = HUBD_JOIN_TIMEOUT_MS_DEFAULT,
		.max_queue = HUBD_MAX_QUEUE_DEFAULT,
		.max_queue_total = HUBD_MAX_QUEUE_TOTAL_DEFAULT,
		.join_extra_max = HUB_JOIN_EXTRA_DEFAULT,
	};
}

bool hubd_option_in(const char *const *opts, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i]) == len && !strncmp(name, opts[i], len))
			return true;
	return false;
}

bool hubd_limits_is_option(const char *name, size_t len)
{
	return hubd_option_in(options, G_N_ELEMENTS(options), name, len);
}

bool hubd_parse_count(const char *s, bool suffix, uint64_t max, uint64_t *out)
{
	uint64_t v, mul = 1;
	char *end;

	if (!g_ascii_isdigit(*s))
		return false;
	errno = 0;
	v = g_ascii_strtoull(s, &end, 10);
	if (errno)
		return false;
	if (suffix) {
		switch (*end) {
		case 'K': case 'k': mul = 1024; end++; break;
		case 'M': case 'm': mul = 1024 * 1024; end++; break;
		case 'G': case 'g': mul = 1024 * 1024 * 1024; end++; break;
		default: break;
		}
	}
	if (*end || v > max / mul)
		return false;
	*out = v * mul;
	return true;
}

int hubd_limits_option(struct hubd_limits *l, const char *name, size_t len, const char *val,
		       struct rg_err *err)
{
	uint64_t v;

#define IS(o) (len == strlen(o) && !strncmp(name, o, len))
	if (IS("--join-timeout")) {
		char *end;
		double sec;

		errno = 0;
		sec = g_ascii_strtod(val, &end);
		if (!g_ascii_isdigit(*val) || *end || errno || sec < 0.1 || sec > 3600)
			return rg_err_set(err, -EINVAL, "--join-timeout must be 0.1-3600 seconds, "
					  "got '%s'", val);
		l->join_timeout_ms = (uint32_t)(sec * 1000);
		return 0;
	}
	if (IS("--max-conns") || IS("--max-conns-per-ip")) {
		if (!hubd_parse_count(val, false, 1000000, &v) || v == 0)
			return rg_err_set(err, -EINVAL, "%.*s must be a count of 1-1000000, got '%s'",
					  (int)len, name, val);
		if (IS("--max-conns"))
			l->max_conns = (uint32_t)v;
		else
			l->max_conns_per_ip = (uint32_t)v;
		return 0;
	}
	if (IS("--join-extra-max")) {
		if (!hubd_parse_count(val, true, HUB_FRAME_MAX, &v))
			return rg_err_set(err, -EINVAL, "--join-extra-max must be 0-64K bytes, got '%s'",
					  val);
		l->join_extra_max = (uint32_t)v;
		return 0;
	}
	/* queues: at least one whole frame must fit */
	if (!hubd_parse_count(val, true, UINT64_MAX, &v) || v < 2 * HUB_FRAME_MAX)
		return rg_err_set(err, -EINVAL, "%.*s must be a byte count of at least 128K (e.g. 1M), "
				  "got '%s'", (int)len, name, val);
	if (IS("--max-queue"))
		l->max_queue = v;
	else if (IS("--max-queue-total"))
		l->max_queue_total = v;
	else
		return rg_err_set(err, -EINVAL, "unknown limit option '%.*s'", (int)len, name);
#undef IS
	return 0;
}
