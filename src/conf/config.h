/* The riftgate config model (DESIGN.md §Config): what `riftgate init` writes and the agent reads.
 * Loading validates every field and names `file:line:col` on errors; secrets are never echoed.
 * Absent optional values: turn_secret NULL, mtu 0 (the agent derives it). */
#ifndef RG_CONF_CONFIG_H
#define RG_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/encoding.h"
#include "util/log.h"
#include "conf/routes.h"
#include "util/prefix.h"

struct rg_err;
struct conf_toml_value;

enum conf_limits {
	CONF_NAME_MAX = 64,		/* device/network names (the peerId) */
	CONF_IFNAME_MAX = 15,		/* IFNAMSIZ - 1 */
	CONF_MTU_MIN = 576,
	CONF_MTU_MAX = 9000,
	CONF_PATH_MTU_MIN = 1200,	/* UDP payload every WebRTC path carries */
	CONF_PATH_MTU_MAX = 9000,
	CONF_LIST_MAX = 32,		/* stun servers, turn entries */
	CONF_STRING_MAX = 1024,		/* any other string value */
	CONF_FILE_MAX = 1 << 20,	/* bytes */
	CONF_MAX_PEERS_DEFAULT = 1024,	/* network.max_peers */
	CONF_MAX_PEERS_MAX = 65536,
};

#define CONF_DEFAULT_INTERFACE "riftgate0"
#define CONF_DNS_MAX 4
#define CONF_SEARCH_MAX 8

struct conf_turn {
	char *url;		/* turn: host[:port][?transport=udp|tcp], turns: host[:port][?transport=tcp] */
	char *username;		/* NULL with credential NULL: derived from network.turn_secret */
	char *credential;	/* secret */
	char *ca_file;		/* turns: only: PEM CA(s) that replace the system store; NULL = system */
};

struct conf {
	/* [network] */
	char *network_name;
	char *server_url;	/* ws:// or wss:// */
	char *auth_token;	/* secret */
	char *turn_secret;	/* secret; NULL = absent */
	/* relay through the hub (docs/config.md): "auto" (default), "never", "always" */
	enum conf_relay { CONF_RELAY_AUTO = 0, CONF_RELAY_NEVER, CONF_RELAY_ALWAYS } relay;
	/* accept_routes: true (from every peer) or a list of peer names; absent = none */
	bool accept_routes_all;
	char **accept_routes_from;
	size_t n_accept_routes_from;
	char *exit_node;	/* peer name whose exit (default route) to use; NULL = none */
	bool kill_switch;	/* with exit_node: drop traffic while that exit is down */
	char *dns_domain;	/* peers answer as NAME.<network>.<domain>; NULL = "rift" */
	/* DNS push (docs/routes.md#names): other names are forwarded to dns[0] (none: REFUSED);
	 * search domains are added to the TUN link's domains */
	char **dns_servers;	/* IP addresses, at most CONF_DNS_MAX */
	size_t n_dns_servers;
	char **dns_search;	/* domains, at most CONF_SEARCH_MAX */
	size_t n_dns_search;
	unsigned max_peers;	/* peers the agent keeps at most (CONF_MAX_PEERS_DEFAULT) */
	bool allow_insecure_transport;	/* ws:// to a host that is not loopback (token in clear) */
	/* [device] */
	char *device_name;	/* the peerId */
	uint8_t private_key[RG_KEY_LEN];
	char *address;		/* CIDR as written, validated */
	struct rg_prefix addr;	/* the same, parsed (host bits kept: the device's address) */
	char interface[CONF_IFNAME_MAX + 1];
	unsigned mtu;		/* 0 = derived by the agent */
	struct rg_prefix routes[CONF_ROUTES_MAX];	/* advertised LAN prefixes (conf/routes.h) */
	size_t n_routes;
	bool masquerade;	/* NAT tunnel traffic leaving to those LANs (default true) */
	bool exit_offer;	/* exit_node = true: offer this device as an exit node */
	/* [stun] */
	char **stun_servers;
	size_t n_stun;
	/* [[turn]] */
	struct conf_turn *turn;
	size_t n_turn;
	/* [webrtc] */
	bool ordered;
	unsigned max_retransmits;
	unsigned path_mtu;	/* UDP payload bytes per datagram; 0 = probed (default) */
	bool direct_path;	/* WireGuard on the ICE 5-tuple between riftgate peers (default true) */
	/* [log] */
	bool log_level_set;	/* [log] level given; else the command line's (default info) */
	enum rg_log_level log_level;
	/* [metrics] */
	char *metrics_listen;	/* "IP:PORT" / "[IPv6]:PORT" for Prometheus text; NULL = off */
	/* interface-name globs ICE never gathers on; unset = CONF_DEFAULT_EXCLUDE_INTERFACES */
	char **exclude_interfaces;
	size_t n_exclude_interfaces;
	bool exclude_interfaces_set;
};

/* Other VPNs' usual interface names (tunnel kinds are skipped anyway, see net/hostaddr.h). */
#define CONF_DEFAULT_EXCLUDE_INTERFACES \
	{ "riftgate*", "wg*", "tailscale*", "tun*", "tap*", "zt*", "nebula*" }
enum { CONF_EXCLUDE_PATTERN_MAX = 31 };
/* The effective [webrtc] exclude_interfaces: the file's list, or the defaults. */
const char *const *conf_exclude_interfaces(const struct conf *c, size_t *n);

/* Empty config with every default set (interface, stun servers, webrtc). Returns 0 or -ENOMEM. */
int conf_init(struct conf *c);
/* Frees everything and wipes the secrets. Safe on a zeroed or half-built struct. */
void conf_clear(struct conf *c);

/* Reads a parsed document into c (which must be conf_clear()ed or zero). On failure c is left
 * zeroed and err names name:line:col. */
int conf_from_toml(struct conf *c, const struct conf_toml_value *root, const char *name,
		   struct rg_err *err);
/* Parses TOML text and reads it: conf_toml_parse + conf_from_toml. */
int conf_parse(struct conf *c, const char *text, size_t len, const char *name,
	       struct rg_err *err);

/* Loads a file: refuses one readable or writable by group/others (the message says
 * `chmod 600 PATH`), or larger than CONF_FILE_MAX. */
int conf_load(struct conf *c, const char *path, struct rg_err *err);

/* Checks every field (the loader calls this too). */
int conf_validate(const struct conf *c, const char *name, struct rg_err *err);

/* TOML text of c (NUL-terminated, caller frees with conf_text_free, which wipes it). */
int conf_format(const struct conf *c, char **out);
void conf_text_free(char *text);

/* Writes c atomically: parent directory created 0700, temp file 0600, fsync, rename. With
 * overwrite false an existing file is left alone and -EEXIST returned. */
int conf_save(const struct conf *c, const char *path, bool overwrite, struct rg_err *err);

/* $XDG_CONFIG_HOME/riftgate/config.toml, else $HOME/.config/riftgate/config.toml. */
/* A literal "IPv4:PORT" or "[IPv6]:PORT" with a port 1-65535 ([metrics] listen). */
bool conf_valid_listen(const char *s);

int conf_default_path(char *buf, size_t cap, struct rg_err *err);

/* Field checks, shared with `riftgate init` for its flags. Return true when valid. */
bool conf_valid_name(const char *s);
bool conf_valid_server_url(const char *s);
/* A ws:// URL whose host is not loopback (localhost, 127.0.0.0/8, ::1): the bearer token would
 * cross the network in clear. false for wss:// and for anything that is not a valid URL. */
bool conf_server_url_insecure(const char *s);
bool conf_valid_ifname(const char *s);
/* stun:HOST[:PORT]; turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT][?transport=tcp]
 * (util/iceurl.h parses them) */
bool conf_valid_stun_url(const char *s);
bool conf_valid_turn_url(const char *s);
/* A [[turn]] ca_file value: an absolute path, no control characters. */
bool conf_valid_ca_file(const char *s);
/* Reads a ca_file the way the agent will: a PEM file holding at least one certificate. Returns
 * the number of certificates, or -errno with err naming the file and what is wrong. */
int conf_check_ca_file(const char *path, struct rg_err *err);
/* network.auth_token: non-empty, no spaces or control characters (an HTTP bearer token). */
bool conf_valid_auth_token(const char *s);
/* network.domain: DNS labels of a-z A-Z 0-9 and '-' (1-63 each, not starting or ending with
 * '-'), dot-separated, at most 63 characters in all. */
bool conf_valid_domain(const char *s);

#endif
