/* riftgate-hub relay settings and metrics (see relay.h). Main loop only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hubd/limits.h"
#include "hubd/relay.h"
#include "util/err.h"

static const char *const options[] = {
	"--relay", "--relay-rate", "--relay-burst", "--relay-network-rate", "--relay-network-burst",
	"--relay-receive-rate", "--relay-receive-burst",
	"--relay-daily",
};

bool hubd_relay_is_option(const char *name, size_t len)
{
	return hubd_option_in(options, G_N_ELEMENTS(options), name, len);
}

int hubd_relay_option(struct hub_relay_cfg *cfg, const char *name, size_t len, const char *val,
		      struct rg_err *err)
{
	uint64_t v;
	bool daily = len == strlen("--relay-daily") && !strncmp(name, "--relay-daily", len);

#define IS(o) (len == strlen(o) && !strncmp(name, o, len))
	if (IS("--relay")) {
		if (strcmp(val, "on") && strcmp(val, "off"))
			return rg_err_set(err, -EINVAL, "--relay must be on or off, got '%s'", val);
		cfg->enabled = !strcmp(val, "on");
		return 0;
	}
	if (!hubd_parse_count(val, true, daily ? UINT64_MAX : UINT32_MAX, &v) || (!daily && v == 0))
		return rg_err_set(err, -EINVAL, "%.*s must be a byte count (e.g. 8M), got '%s'",
				  (int)len, name, val);
	if (IS("--relay-rate"))
		cfg->sock_rate = (uint32_t)v;
	else if (IS("--relay-burst"))
		cfg->sock_burst = (uint32_t)v;
	else if (IS("--relay-network-rate"))
		cfg->net_rate = (uint32_t)v;
	else if (IS("--relay-network-burst"))
		cfg->net_burst = (uint32_t)v;
	else if (IS("--relay-receive-rate"))
		cfg->recv_rate = (uint32_t)v;
	else if (IS("--relay-receive-burst"))
		cfg->recv_burst = (uint32_t)v;
	else if (daily)
		cfg->daily_bytes = v;
	else
		return rg_err_set(err, -EINVAL, "unknown relay option '%.*s'", (int)len, name);
#undef IS
	return 0;
}

void hubd_relay_stats_add(struct hub_relay_stats *acc, const struct hub_relay_stats *x)
{
	uint64_t *a = (uint64_t *)acc;
	const uint64_t *b = (const uint64_t *)x;

	for (size_t i = 0; i < sizeof(*acc) / sizeof(uint64_t); i++)
		a[i] += b[i];
}

void hubd_relay_metrics(GString *o, const struct hub_relay_stats *t)
{
	static const struct { const char *reason; size_t off; } drops[] = {
		{ "malformed", offsetof(struct hub_relay_stats, drop_malformed) },
		{ "oversized", offsetof(struct hub_relay_stats, drop_oversized) },
		{ "unjoined", offsetof(struct hub_relay_stats, drop_unjoined) },
		{ "unknown_peer", offsetof(struct hub_relay_stats, drop_unknown_peer) },
		{ "not_allowed", offsetof(struct hub_relay_stats, drop_not_allowed) },
		{ "sock_rate", offsetof(struct hub_relay_stats, drop_sock_rate) },
		{ "net_rate", offsetof(struct hub_relay_stats, drop_net_rate) },
		{ "fair", offsetof(struct hub_relay_stats, drop_fair) },
		{ "receiver", offsetof(struct hub_relay_stats, drop_receiver) },
		{ "slow", offsetof(struct hub_relay_stats, drop_slow) },
		{ "daily", offsetof(struct hub_relay_stats, drop_daily) },
		{ "disabled", offsetof(struct hub_relay_stats, drop_disabled) },
	};
#define M(name, help, val)                                                                    \
	g_string_append_printf(o, "# HELP riftgate_hub_" name " " help "\n# TYPE riftgate_hub_" \
			       name " counter\nriftgate_hub_" name " %" G_GUINT64_FORMAT "\n",   \
			       (guint64)(val))
	M("relay_frames_in_total", "Binary relay frames received.", t->frames_in);
	M("relay_bytes_in_total", "Bytes of binary relay frames received.", t->bytes_in);
	M("relay_frames_total", "Relay frames delivered.", t->frames_out);
	M("relay_bytes_total", "Payload bytes of relay frames delivered.", t->bytes_out);
	M("relay_kicked_total", "Sockets closed for flooding the relay.", t->kicked);
#undef M
	g_string_append(o, "# HELP riftgate_hub_relay_drops_total Relay frames dropped, by reason.\n"
			"# TYPE riftgate_hub_relay_drops_total counter\n");
	for (size_t i = 0; i < G_N_ELEMENTS(drops); i++)
		g_string_append_printf(o, "riftgate_hub_relay_drops_total{reason=\"%s\"} %"
				       G_GUINT64_FORMAT "\n", drops[i].reason,
				       *(const uint64_t *)((const char *)t + drops[i].off));
}
