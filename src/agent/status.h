/* Agent status: the snapshot `riftgate status` shows. The agent fills a struct agent_status from
 * its live state, the control socket carries it as JSON, and the CLI renders it as text (or passes
 * the JSON through for --json). Pure data + json-glib: no sockets, no main loop. */
#ifndef RG_AGENT_STATUS_H
#define RG_AGENT_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rg_err;

enum agent_status_sizes {
	AGENT_ID_MAX = 64,		/* peerId: 1..64 chars (config rule) */
	AGENT_IFNAME_MAX = 15,
	AGENT_ADDR_MAX = 63,		/* "fd00::1/128" and friends */
	AGENT_KEY_B64_MAX = 44,
	AGENT_URL_MAX = 255,
	AGENT_STATE_MAX = 15,
	AGENT_CAND_MAX = 7,		/* host, srflx, prflx, relay */
	AGENT_ENDPOINT_MAX = 63,	/* "[v6]:port" / "ip:port" of a candidate */
	AGENT_KIND_MAX = 23,		/* a reason's machine name ("no-turn", "token") */
	AGENT_STATUS_PEERS_MAX = 4096,	/* a reply never lists more */
	AGENT_STATUS_TURN_MAX = 8,	/* turns: servers listed (RTC_MAX_ICE_SERVERS) */
	AGENT_STATUS_ROUTES_MAX = 16,	/* routes per peer and advertised (CONF_ROUTES_MAX) */
	AGENT_PREFIX_MAX = 49,		/* "ADDR/LEN" (RG_PREFIX_STR_MAX - 1) */
	AGENT_STATUS_DNS_MAX = 4,	/* [network] dns servers (CONF_DNS_MAX) */
};

/* A route a peer advertises, and what this device did with it. */
struct agent_status_route {
	char prefix[AGENT_PREFIX_MAX + 1];	/* as advertised */
	char state[AGENT_STATE_MAX + 1];	/* installed, not-accepted, refused, shadowed */
	char note[160];				/* refused: why; shadowed: whose copy is used; overlaps */
};

/* A turns: server, reached through the agent's TLS bridge. */
struct agent_status_turn {
	char url[AGENT_URL_MAX + 1];
	uint64_t tls_ok;			/* TLS connections set up, certificate verified */
	uint64_t tls_failed;			/* ... that failed (handshake, certificate, connect) */
	uint32_t open;				/* bridged connections open now */
	char last_error[256];			/* the last failure, "" once one succeeds */
};

struct agent_status_peer {
	char id[AGENT_ID_MAX + 1];
	char state[AGENT_STATE_MAX + 1];	/* agent_peer_state_name() */
	char public_key[AGENT_KEY_B64_MAX + 1];	/* public: fine to show */
	char address[AGENT_ADDR_MAX + 1];	/* tunnel address, "" = unknown */
	char candidate[AGENT_CAND_MAX + 1];	/* selected pair type, "" = none */
	char local_type[AGENT_CAND_MAX + 1];	/* our side of the selected pair, "" = none */
	char remote_type[AGENT_CAND_MAX + 1];	/* the peer's side */
	char local_endpoint[AGENT_ENDPOINT_MAX + 1];	/* "ip:port", "" = no pair */
	char remote_endpoint[AGENT_ENDPOINT_MAX + 1];	/* the peer's endpoint, "" = no pair */
	bool offerer;				/* we offer to this peer */
	int64_t last_handshake;			/* wall clock seconds, 0 = never */
	uint64_t rx_bytes, tx_bytes;		/* WireGuard transport bytes */
	int64_t rtt_ms;				/* ICE round trip, -1 = unknown */
	uint32_t attempts;			/* connection attempts since last up */
	uint32_t ice_restarts;			/* ICE restarts completed in place */
	int64_t since;				/* wall seconds of the last state change */
	uint32_t path_mtu;			/* UDP payload bytes per datagram, 0 = none */
	char path_mtu_state[AGENT_STATE_MAX + 1];	/* probed/pinned/pending/default/... */
	uint32_t peer_mtu;			/* largest IP packet sent to it, 0 = none */
	char last_error[256];			/* why the last attempt failed, "" = none */
	char last_error_kind[AGENT_KIND_MAX + 1];	/* its machine name, "" = none */
	char trust[128];			/* verified / unverified / rejected: <reason> */
	size_t n_routes;
	struct agent_status_route routes[AGENT_STATUS_ROUTES_MAX];	/* it advertises */
	/* "direct" (WireGuard on the ICE 5-tuple), "data channel", "relay" (the hub), "" = none */
	char path[AGENT_STATE_MAX + 1];
	char direct[AGENT_STATE_MAX + 1];	/* direct path: off, probing, up */
	uint64_t direct_tx, direct_rx;		/* WireGuard datagrams on the direct path */
	uint64_t direct_dropped;		/* frames dropped by rtc (before negotiation, ...) */
	uint64_t direct_rejected;		/* frames WireGuard refused (authentication) */
	char path_reason[64];			/* why the relay, "" = not on it */
	/* What the hub announced for this id that the agent refused ("address 10.0.0.2 owned by
	 * alice"), "" = nothing refused since its last accepted announcement. */
	char rejected[128];
	uint32_t rejections;			/* announcements refused, since the agent started */
};

struct agent_status {
	char ifname[AGENT_IFNAME_MAX + 1];
	char peer_id[AGENT_ID_MAX + 1];
	char public_key[AGENT_KEY_B64_MAX + 1];
	char address[AGENT_ADDR_MAX + 1];
	char hub_url[AGENT_URL_MAX + 1];
	char version[64];			/* the agent's build, "" = unknown */
	bool hub_connected;
	char hub_error[256];			/* why not connected (last failure), "" = none */
	char hub_error_kind[AGENT_KIND_MAX + 1];	/* sig_client_failure_name() */
	uint32_t mtu;
	bool mtu_pinned;			/* [device] mtu */
	uint64_t too_big_icmp;			/* packets over a peer's MTU: ICMP sent */
	uint64_t too_big_dropped;		/* ... dropped (IPv4 without DF) */
	uint64_t relay_tx, relay_rx;		/* datagrams through the hub relay */
	uint64_t relay_tx_dropped;		/* ... not sent (pacing, full socket) */
	int64_t pid;
	int64_t started;			/* wall seconds */
	uint32_t max_peers;			/* [network] max_peers */
	uint64_t refused_over_max;		/* peers not taken: the table was full */
	uint64_t refused_bad_id;		/* frames naming a peer id outside A-Z a-z 0-9 . _ - */
	size_t n_peers;
	struct agent_status_peer *peers;	/* owned, g_malloc'd array of n_peers */
	size_t n_turn;
	struct agent_status_turn turn[AGENT_STATUS_TURN_MAX];
	size_t n_routes;
	char routes[AGENT_STATUS_ROUTES_MAX][AGENT_PREFIX_MAX + 1];	/* we advertise */
	bool masquerade;			/* ... and masquerade towards */
	char accept_routes[256];		/* "all", "none" or the peer names, comma-separated */
	bool exit_offer;			/* we offer to be an exit node */
	char exit_node[AGENT_ID_MAX + 1];	/* the exit node selected, "" = none */
	char exit_state[AGENT_STATE_MAX + 1];	/* none, waiting, active, blocked */
	bool kill_switch;
	char dns_zone[168];			/* peers answer as NAME.<zone>, "" = no names */
	char dns_listen[AGENT_ADDR_MAX + 8];	/* "ADDR:53" */
	size_t n_dns_servers;			/* where other names are forwarded */
	char dns_servers[AGENT_STATUS_DNS_MAX][AGENT_PREFIX_MAX + 1];
	char dns_server[AGENT_PREFIX_MAX + 1];	/* ... the one in use, "" = none */
	/* queries answered from the zone, forwarded, failed (SERVFAIL or no answer upstream),
	 * refused, malformed */
	uint64_t dns_answered, dns_forwarded, dns_failed, dns_refused, dns_malformed;
	char dns_resolved[AGENT_STATE_MAX + 1];	/* systemd-resolved: resolved.h states, "" = n/a */
	char dns_resolved_error[192];		/* why not registered */
	char dns_settings[40];			/* "config" or "network SERIAL": whose dns/search */
	uint64_t dns_settings_refused;		/* network settings records refused */
};

/* Appends a zeroed peer entry (grows the array); NULL when the cap is reached. */
struct agent_status_peer *agent_status_add_peer(struct agent_status *s);
void agent_status_clear(struct agent_status *s);

/* One interface's JSON object, the agent's reply to `status` (g_free it). Field names are
 * stable: docs/status.schema.json describes them. */
char *agent_status_to_json(const struct agent_status *s);

/* `riftgate status --json`: the document {"schemaVersion", "interfaces": [the agents'
 * objects], "errors": [{"interface", "error"}]}, the same shape with no agent, one or several.
 * Builder: add each reply (parsed again, so a broken reply becomes an error entry, never
 * broken output) or error, then take the text. */
enum { AGENT_STATUS_SCHEMA_VERSION = 1 };
struct agent_status_doc;
struct agent_status_doc *agent_status_doc_new(void);
void agent_status_doc_add_reply(struct agent_status_doc *d, const char *ifname, const char *json,
				size_t len);
void agent_status_doc_add_error(struct agent_status_doc *d, const char *ifname, const char *msg);
/* Frees d; returns the pretty-printed document (g_free). */
char *agent_status_doc_finish(struct agent_status_doc *d);
/* Parses what agent_status_to_json() wrote; unknown fields are ignored. On error s is left
 * cleared and err says why. Returns 0 or -EINVAL. */
int agent_status_from_json(struct agent_status *s, const char *json, size_t len,
			   struct rg_err *err);

/* Human text in `wg show` style; now = wall seconds for "N seconds ago". g_free the result.
 * Every string is escaped (util/escape.h): ids and errors may come from the network. */
char *agent_status_format(const struct agent_status *s, int64_t now);

/* "1.50 MiB" style, into out. */
void agent_format_bytes(char *out, size_t cap, uint64_t bytes);
/* "1 minute, 3 seconds" style (as wg show), into out. */
void agent_format_ago(char *out, size_t cap, int64_t seconds);

#endif
