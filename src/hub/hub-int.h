/* The hub core's internal view of its connections, for relay.c (not for hosts). Everything here
 * is implemented in hub.c, which owns the connection table. */
#ifndef RG_HUB_HUB_INT_H
#define RG_HUB_HUB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hub;
struct hub_relay_conn;

/* A connection as relay.c sees it; pointers are valid until the next hub call. */
struct hub_conn_view {
	uint64_t id;
	bool joined;
	const char *peer_id;		/* NUL-terminated; "" when not joined */
	size_t id_len;
	struct hub_relay_conn *relay;	/* the connection's relay state (embedded) */
};

/* An open, not closing connection by id; false when there is none. */
bool hub_int_conn(struct hub *h, uint64_t conn, struct hub_conn_view *out);
/* A joined peer by peerId (not closing); false when there is none. */
bool hub_int_peer(struct hub *h, const uint8_t *peer_id, size_t len, struct hub_conn_view *out);
/* The hub ends conn: close request, peer-left to the others (as for the text rate limit). */
void hub_int_kick(struct hub *h, uint64_t conn, uint16_t code, const char *reason);

#endif
