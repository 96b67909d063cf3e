/* Prometheus text exposition of the agent ([metrics] listen = "IP:PORT", docs/metrics.md): a
 * small HTTP/1.0 listener on the agent loop that answers GET /metrics with the same snapshot
 * `riftgate status` shows, formatted by agent_metrics_format(). Agent loop only. */
#ifndef RG_AGENT_METRICS_H
#define RG_AGENT_METRICS_H

#include <stdint.h>

#include <glib.h>

struct agent_status;
struct rg_err;

enum agent_metrics_limits {
	AGENT_METRICS_REQ_MAX = 4096,		/* request bytes read (line and headers) */
	AGENT_METRICS_CLIENTS_MAX = 8,		/* scrapes served at once */
	AGENT_METRICS_TIMEOUT_MS = 5000,	/* a client that sends no request in time is dropped */
};

/* Fills s (zeroed by the caller; agent_status_clear() afterwards). */
typedef void (*agent_metrics_fill_fn)(void *opaque, struct agent_status *s);

struct agent_metrics {
	GMainContext *ctx;		/* not owned */
	agent_metrics_fill_fn fill;
	void *opaque;
	int fd;				/* listening socket, -1 = off */
	guint src;			/* owned GSource id */
	GList *clients;			/* owned struct agent_metrics_client * */
	char addr[64];			/* "IP:PORT" as bound */
};

/* Listens on where ("IPv4:PORT" or "[IPv6]:PORT"). 0 or -errno with err. */
int agent_metrics_open(struct agent_metrics *m, GMainContext *ctx, const char *where,
		       agent_metrics_fill_fn fill, void *opaque, struct rg_err *err);
/* Safe on a zeroed or closed struct (fd must be -1 or open). */
void agent_metrics_close(struct agent_metrics *m);

/* The exposition text for s (g_free); now = wall seconds (handshake ages). */
char *agent_metrics_format(const struct agent_status *s, int64_t now);

#endif
