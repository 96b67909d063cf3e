/* Subnet routes in the agent (docs/routes.md). Advertising: this device's `[device] routes` go
 * out in join/offer/answer; forwarding is enabled and (unless `masquerade = false`) tunnel
 * traffic leaving towards them is masqueraded (net/masq.c). Receiving: routes a peer advertises
 * are kept per peer id, checked (agent_route_may_advertise), and installed only when the user
 * opted in (`[network] accept_routes`): an allowed IP on that peer and a kernel route to the TUN.
 * The same prefix from several peers goes to the smallest peer id; the others are shown as
 * shadowed. Agent loop only. */
#ifndef RG_AGENT_ROUTES_H
#define RG_AGENT_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/prefix.h"

struct agent;
struct agent_peer;
struct agent_routes;
struct agent_status;
struct agent_status_peer;
struct rg_err;

struct agent_routes_cfg {
	const struct rg_prefix *routes;	/* advertised; checked by the config */
	size_t n_routes;
	bool masquerade;
	bool exit_offer;		/* [device] exit_node = true: advertise /0, forward all */
	bool accept_all;		/* accept_routes = true */
	const char *const *accept_from;	/* accept_routes = [names] */
	size_t n_accept_from;
	/* Servers the tunnel must never capture: "ws[s]://HOST...", "stun:HOST...", "turn[s]:HOST" */
	const char *hub_url;
	const char *const *servers;
	size_t n_servers;
};

int agent_routes_new(struct agent_routes **out, struct agent *a, const struct agent_routes_cfg *cfg);
/* Advertising side, once the TUN is up: forwarding and the masquerade table. */
int agent_routes_start(struct agent_routes *r, struct rg_err *err);
/* Reload: takes cfg's advertised routes, masquerade, exit offer, accept_routes and servers.
 * Forwarding and the masquerade table follow the new advertising; routes peers advertised are
 * judged again (accept_routes), installed or removed. *advertised_changed: what join/offer/answer
 * announce changed (the caller tells the peers). On error (nftables) err is set and the
 * advertising stays as it was; accept_routes and the servers are applied regardless. */
int agent_routes_reconfigure(struct agent_routes *r, const struct agent_routes_cfg *cfg,
			     bool *advertised_changed, struct rg_err *err);
/* Deletes the masquerade table, restores forwarding as it was; kernel routes leave with the TUN. */
void agent_routes_free(struct agent_routes *r);

/* The routes extension for our join/offer/answer (NULL-terminated, g_strfreev); NULL when we
 * advertise none. */
char **agent_routes_advertised(const struct agent_routes *r);
/* A peer's routes field (NULL: absent, nothing changes); installs/removes what changed. */
void agent_routes_learn(struct agent_routes *r, const char *peer_id, char *const *routes);
/* The peer's WireGuard allowed IPs were reset (new key or address): add its routes again. */
void agent_routes_peer_changed(struct agent_routes *r, struct agent_peer *p);
/* Forgets a peer that is being freed. */
void agent_routes_forget(struct agent_routes *r, const char *peer_id);

/* The peer advertises a default route (/0 of our tunnel's family): it offers to be an exit. */
bool agent_routes_offers_exit(const struct agent_routes *r, const char *peer_id);

/* The one check of "may this peer advertise this route": a prefix of our tunnel's family that
 * covers no hub/STUN/TURN server, none of this host's own networks, not our tunnel subnet. Signed
 * membership will add the certificate's routes here. false: *why says why. */
bool agent_route_may_advertise(struct agent_routes *r, const char *peer_id,
			       const struct rg_prefix *route, const char **why);

void agent_routes_status(const struct agent_routes *r, struct agent_status *s);
void agent_routes_status_peer(const struct agent_routes *r, const char *peer_id,
			      struct agent_status_peer *sp);

#endif
