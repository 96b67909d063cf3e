/* The WireGuard cross-platform UAPI text protocol (get=1 / set=1), as `wg` and wireguard-go speak
 * it over /var/run/wireguard/IFNAME.sock. Text in, text out: the socket lives in src/net. A set
 * request is parsed and validated completely before anything changes, so a bad request
 * (errno=22) or a listen port that cannot be bound (errno=98) leaves the device as it was.
 * Device loop only (the core is single-threaded). */
#ifndef RG_WG_UAPI_H
#define RG_WG_UAPI_H

#include <stddef.h>
#include <stdint.h>

struct wg_device;

/* Settings the transport owns rather than the core. Any hook may be NULL: its key is then
 * reported as 0 (listen_port/fwmark lines are omitted) and setting it is accepted and ignored. */
struct wg_uapi_hooks {
	uint16_t (*get_listen_port)(void *opaque);
	/* 0 = pick a port. Return 0 or -errno (-EADDRINUSE). Called before any other change of
	 * the same request, so a failure leaves the configuration unchanged. */
	int (*set_listen_port)(void *opaque, uint16_t port);
	uint32_t (*get_fwmark)(void *opaque);
	int (*set_fwmark)(void *opaque, uint32_t mark);
	void *opaque;
};

/* Handles one request (everything up to and including its terminating empty line). Returns a
 * malloc'd reply ("...errno=N\n\n") of *reply_len bytes, or NULL when the request is not a
 * get or set (the caller then closes the connection, as wireguard-go does) or on ENOMEM. */
char *wg_uapi_handle(struct wg_device *dev, const struct wg_uapi_hooks *hooks, const char *req,
		     size_t len, size_t *reply_len);

/* The two halves, for tests and fuzzing. set: body is the lines after "set=1" (up to the empty
 * line, which may be absent); returns 0 or -errno. get: writes the key=value lines (without
 * errno) into a malloc'd string; returns NULL on ENOMEM. */
int wg_uapi_set(struct wg_device *dev, const struct wg_uapi_hooks *hooks, const char *body,
		size_t len);
char *wg_uapi_get(struct wg_device *dev, const struct wg_uapi_hooks *hooks, size_t *len);

#endif
