/* riftgate-hub's side of the hub relay (src/hub/relay.h): the operator's settings from the
 * command line and the relay counters in /metrics. The relaying itself is in the hub core. */
#ifndef RG_HUBD_RELAY_H
#define RG_HUBD_RELAY_H

#include <glib.h>
#include <stdbool.h>

#include "hub/relay.h"

struct rg_err;

/* Whether name is one of the relay options (--relay, --relay-rate, --relay-burst,
 * --relay-network-rate, --relay-network-burst, --relay-receive-rate, --relay-receive-burst,
 * --relay-daily). */
bool hubd_relay_is_option(const char *name, size_t len);
/* Applies option name (as above) with value val to cfg: "on"/"off" for --relay, else a byte
 * count with an optional K, M or G suffix (powers of 1024). Returns 0 or -EINVAL with err. */
int hubd_relay_option(struct hub_relay_cfg *cfg, const char *name, size_t len, const char *val,
		      struct rg_err *err);
void hubd_relay_stats_add(struct hub_relay_stats *acc, const struct hub_relay_stats *x);
/* Appends the relay counters in Prometheus text format (riftgate_hub_relay_*). */
void hubd_relay_metrics(GString *o, const struct hub_relay_stats *t);

#endif
