/* Allowed IPs: one path-compressed binary trie per address family mapping prefixes to peers,
 * longest prefix wins. Outgoing packets are routed by destination; incoming packets must come
 * from a source the sending peer owns. Nodes are allocated on configuration only. */
#ifndef RG_WG_ALLOWEDIPS_H
#define RG_WG_ALLOWEDIPS_H

#include <stdint.h>

struct wg_peer;
struct wg_allowed_ip;
struct wg_aip_node;

struct wg_allowedips {
	struct wg_aip_node *root4;	/* owned */
	struct wg_aip_node *root6;	/* owned */
};

void wg_allowedips_init(struct wg_allowedips *t);
void wg_allowedips_clear(struct wg_allowedips *t);
/* 0, -EINVAL or -ENOMEM. An existing identical prefix changes owner. */
int wg_allowedips_insert(struct wg_allowedips *t, const struct wg_allowed_ip *ip,
			 struct wg_peer *peer);
/* 0 or -ENOENT when peer does not own exactly that prefix. */
int wg_allowedips_remove(struct wg_allowedips *t, const struct wg_allowed_ip *ip,
			 const struct wg_peer *peer);
void wg_allowedips_remove_peer(struct wg_allowedips *t, const struct wg_peer *peer);
/* Longest-prefix match; family AF_INET (4 bytes) or AF_INET6 (16 bytes). NULL: no owner. */
struct wg_peer *wg_allowedips_lookup(const struct wg_allowedips *t, int family,
				     const uint8_t *addr);
/* Visits peer's prefixes (all prefixes if peer is NULL) in address order, v4 first. */
int wg_allowedips_foreach(const struct wg_allowedips *t, const struct wg_peer *peer,
			  int (*fn)(void *ctx, const struct wg_allowed_ip *ip,
				    struct wg_peer *owner),
			  void *ctx);

#endif
