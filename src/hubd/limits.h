/* riftgate-hub's resource limits (docs/riftgate-hub.md §Limits, docs/security.md): what one
 * client, one source address and all clients together may hold, with the defaults and the
 * command-line options that change them. The server (server.c) enforces them. */
#ifndef RG_HUBD_LIMITS_H
#define RG_HUBD_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rg_err;

enum hubd_limit_defaults {
	HUBD_MAX_CONNS_DEFAULT = 20000,		/* TCP connections, any state */
	HUBD_MAX_CONNS_PER_IP_DEFAULT = 64,	/* TCP connections from one source address */
	HUBD_JOIN_TIMEOUT_MS_DEFAULT = 10000,	/* upgrade -> join */
	HUBD_MAX_QUEUE_DEFAULT = 1024 * 1024,	/* bytes queued to one socket */
	HUBD_MAX_QUEUE_TOTAL_DEFAULT = 256 * 1024 * 1024,	/* bytes queued to all sockets */
	HUBD_ACCEPT_PAUSE_MS = 100,		/* listener rest after EMFILE/ENFILE */
	HUBD_LIMIT_LOG_MS = 10000,		/* one log line per limit per this period */
};

struct hubd_limits {
	uint32_t max_conns;
	uint32_t max_conns_per_ip;
	uint32_t join_timeout_ms;
	uint64_t max_queue;
	uint64_t max_queue_total;
	uint32_t join_extra_max;	/* hub_set_join_extra_max() for every network */
	bool per_ip_loopback;		/* count loopback sources per address too (tests) */
};

void hubd_limits_default(struct hubd_limits *l);
/* Whether name is a limit option (--max-conns, --max-conns-per-ip, --join-timeout,
 * --max-queue, --max-queue-total, --join-extra-max). */
bool hubd_limits_is_option(const char *name, size_t len);
/* Whether name (len bytes, not NUL-terminated) is one of opts[0..n). */
bool hubd_option_in(const char *const *opts, size_t n, const char *name, size_t len);
/* A count for an option: "123", or with suffix also "64K", "1M", "2G" (powers of 1024), up to
 * max. */
bool hubd_parse_count(const char *s, bool suffix, uint64_t max, uint64_t *out);
/* Applies option name with value val: counts for the connection caps, seconds (a decimal
 * allowed) for --join-timeout, byte counts with an optional K, M or G suffix for the rest.
 * Returns 0 or -EINVAL with err. */
int hubd_limits_option(struct hubd_limits *l, const char *name, size_t len, const char *val,
		       struct rg_err *err);

#endif
