/* The agent: riftgate's running mesh node. One GLib main loop drives everything: the TUN device,
 * the WireGuard core (src/wg), one WebRTC peer connection per remote peer (src/rtc) whose
 * `wireguard` data channel is the WireGuard transport (endpoint = peer id), the signaling client
 * (src/signal), the UAPI socket (`wg show IFNAME`) and the control socket (`riftgate status`).
 *
 * Per peer: discovered → signaling → ice → sctp → handshake → up, and back to backoff on any
 * failure, retried with capped exponential backoff (peer.c). The CLI (src/cli/up.c) fills
 * struct agent_cfg from the config file; only the CLI prints or exits. */
#ifndef RG_AGENT_AGENT_H
#define RG_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

struct rg_err;
struct rg_prefix;
struct agent;
struct conf_turn;

enum agent_defaults {
	AGENT_PATH_MTU = 1200,		/* UDP payload bytes per datagram (DESIGN §Data path) */
	AGENT_MTU_MIN = 576,
	AGENT_MTU_MAX = 9000,
	AGENT_MTU_IPV6_MIN = 1280,	/* RFC 8200: the kernel disables IPv6 below it */
	AGENT_MAX_PEERS = 1024,		/* default [network] max_peers */
};

/* [network] relay: WireGuard datagrams through the hub (docs/agent.md §Relay). */
enum agent_relay_mode {
	AGENT_RELAY_AUTO = 0,	/* while ICE connects, when it finds no path, while a path is lost */
	AGENT_RELAY_NEVER,
	AGENT_RELAY_ALWAYS,	/* every datagram, even with a working data channel */
};

/* `riftgate reload` over the control socket (root only): re-read the config as SIGHUP does.
 * Returns 0 when the file was taken, -1 when it was refused (the running config stays); msg
 * gets what to tell the user either way. */
typedef int (*agent_reload_fn)(void *opaque, char *msg, size_t cap);

/* Everything the agent needs; strings are copied by agent_new(). */
struct agent_cfg {
	const char *ifname;		/* TUN name, <= 15 chars */
	const char *peer_id;		/* our id on the hub */
	uint8_t private_key[32];	/* wiped by the caller after agent_new() */
	const char *address;		/* our tunnel address, "10.10.0.2/24" */
	const char *hub_url;		/* ws:// or wss:// */
	const char *token;		/* bearer token or NULL */
	const char *const *stun;	/* "stun:host:port" */
	size_t n_stun;
	/* [[turn]] entries as the config has them (conf/config.h): username/credential NULL are
	 * derived from turn_secret per connection, a turns: url gets a TLS bridge (turntls.h) */
	const struct conf_turn *turn;
	size_t n_turn;
	const char *turn_secret;	/* TURN REST shared secret (coturn use-auth-secret) or NULL */
	unsigned mtu;			/* TUN MTU; 0 = derived from the SCTP packet size */
	unsigned path_mtu;		/* 0 = AGENT_PATH_MTU */
	bool ordered;			/* [webrtc] ordered (default false) */
	int max_retransmits;		/* [webrtc] max_retransmits (default 0) */
	bool no_direct_path;		/* [webrtc] direct_path = false */
	/* [webrtc] exclude_interfaces: name globs ICE never gathers on (besides our own TUN and
	 * every tunnel-kind interface, net/hostaddr.h) */
	const char *const *exclude_ifaces;
	size_t n_exclude_ifaces;
	const char *uapi_dir;		/* NULL = /var/run/wireguard */
	const char *network;		/* [network] name: the network id in certificates */
	/* The config file's path: membership state is read from beside it (trust/store.h). NULL
	 * or no trust anchor there: an unsigned network. */
	const char *trust_config;
	/* Subnet routes (agent/routes.h): advertised ones, checked by the config */
	const struct rg_prefix *routes;
	size_t n_routes;
	bool masquerade;		/* [device] masquerade (default true) */
	bool accept_routes_all;		/* [network] accept_routes = true */
	const char *const *accept_routes_from;	/* [network] accept_routes = [peer names] */
	size_t n_accept_routes_from;
	const char *metrics_listen;	/* [metrics] listen "IP:PORT", NULL = no metrics listener */
	const char *version;		/* the build's version, shown by status and metrics; NULL = "" */
	bool exit_offer;		/* [device] exit_node = true */
	const char *exit_node;		/* [network] exit_node / up --exit-node: peer name or NULL */
	bool kill_switch;		/* [network] kill_switch */
	const char *dns_domain;		/* [network] domain for peer names; NULL = "rift" */
	const char *const *dns_servers;	/* [network] dns: IP addresses other names go to */
	size_t n_dns_servers;
	const char *const *dns_search;	/* [network] search: domains added to the TUN link */
	size_t n_dns_search;
	enum agent_relay_mode relay;	/* [network] relay (default auto) */
	unsigned max_peers;		/* [network] max_peers; 0 = AGENT_MAX_PEERS (1024) */
	agent_reload_fn reload;		/* NULL: `riftgate reload` is refused */
	void *reload_opaque;
};

/* Called once when the agent wants to stop (`riftgate down`, or a fatal error such as the hub
 * rejecting our token: then err is set). */
typedef void (*agent_stop_fn)(void *opaque, const struct rg_err *err);

/* Builds the node: TUN up with address and MTU, WireGuard device, UAPI and control sockets.
 * No network traffic yet. Errors a person must fix fill err (not root, no /dev/net/tun, already
 * up, bad address). ctx: the loop everything runs on (NULL = thread default). */
int agent_new(struct agent **out, GMainContext *ctx, const struct agent_cfg *cfg,
	      agent_stop_fn stop, void *opaque, struct rg_err *err);
/* Connects to the hub and starts meeting peers. */
void agent_start(struct agent *a);
/* Hub state for the CLI's startup report: connected at least once since the start (not: reachable
 * now), and the last fatal error (bad token), if any. */
bool agent_hub_ever_connected(const struct agent *a);
const struct rg_err *agent_hub_error(const struct agent *a);
unsigned agent_mtu(const struct agent *a);
/* For systemd's STATUS= line: peers known and peers with a tunnel up, and whether the hub
 * connection is up right now. */
void agent_peer_counts(const struct agent *a, unsigned *up, unsigned *total, bool *hub_now);
/* Reload (SIGHUP): takes cfg's STUN and TURN servers and TURN secret for connections made from
 * now on, and its subnet routes: advertised routes, masquerade, exit offer (peers are told
 * through the hub) and accept_routes (peers' routes installed or removed at once), and the
 * names' domain, dns and search (dns.c; re-registered with resolved). The rest of cfg is
 * ignored. Tunnels that are up stay up. On error err is set: a domain the responder cannot
 * use (agent_dns_check) changes nothing; a turns: bridge that cannot start keeps the running servers and routes;
 * nftables refusing the new masquerade keeps the running advertising. */
int agent_reconfigure(struct agent *a, const struct agent_cfg *cfg, struct rg_err *err);
/* The WireGuard public key in use (base64): the config's, or a later `riftgate rotate`'s. */
const char *agent_public_key(const struct agent *a);
/* The exit node, as `riftgate set --exit-node` selects it (exit.h); NULL/"none": none. */
int agent_select_exit(struct agent *a, const char *name, struct rg_err *err);
/* Closes every peer connection (graceful SCTP/DTLS close), leaves the hub, removes the TUN and
 * sockets, wipes keys. NULL is fine. */
void agent_free(struct agent *a);

/* Time-limited TURN credentials (the TURN REST convention coturn implements with
 * use-auth-secret): username "EXPIRY:PEERID", credential base64(HMAC-SHA1(secret, username)).
 * Writes both NUL-terminated; false when they do not fit. */
bool agent_turn_credentials(const char *secret, const char *peer_id, int64_t expiry,
			    char *user, size_t user_cap, char *cred, size_t cred_cap);

/* TUN MTU for a largest single-packet SCTP message of max_msg bytes: one WireGuard datagram is
 * the IP packet padded to 16 bytes plus 32 bytes of header and tag. */
unsigned agent_mtu_for_message(size_t max_msg);

#endif
