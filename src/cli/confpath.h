/* Where riftgate's commands find a config when --config is not given (docs/cli.md#config-
 * location). As root: /etc/riftgate/IFNAME.toml, what riftgate@IFNAME.service uses; under sudo
 * also the invoking user's ~/.config/riftgate/config.toml, so `riftgate init` then `sudo
 * riftgate up` works. Otherwise $XDG_CONFIG_HOME/riftgate/config.toml. $RIFTGATE_CONF_DIR
 * replaces /etc/riftgate (tests). */
#ifndef RG_CLI_CONFPATH_H
#define RG_CLI_CONFPATH_H

#include <stdbool.h>
#include <stddef.h>

struct conf;
struct rg_err;

enum { CLI_PATH_MAX = 4096 };

#define CLI_ETC_DIR "/etc/riftgate"
#define CLI_DEFAULT_NETWORK "riftgate"	/* init's --network default */

/* For writing (init): as root CLI_ETC_DIR/IFNAME.toml, else the XDG path. */
int cli_config_path_new(char *buf, size_t cap, const char *ifname, struct rg_err *err);

/* For reading (up, check): the first existing of the candidates above, in this order: under
 * sudo the user's own config, then CLI_ETC_DIR/riftgate0.toml (as root), then the XDG path of
 * the current user. When none exists err lists every place looked at and says which --config
 * to pass. *announce is set when the choice is not obvious (root, several places). */
int cli_config_path_find(char *buf, size_t cap, bool *announce, struct rg_err *err);

/* For the commands that edit the network from its config (invite, devices, rotate): loads *path,
 * or when it is NULL the config cli_config_path_find chooses (as up and check do), written into
 * buf and stored in *path, saying which when the choice is not obvious. 0 or -errno with err. */
int cli_config_load(struct conf *c, const char **path, char *buf, size_t cap, struct rg_err *err);

/* The hub network a server_url selects, as riftgate-hub and the Worker read it: the segment
 * after /connect/, else ?network=NAME, else "default". *bare: the URL names no network and its
 * path is empty, "/" or "/connect" (a network can be appended as /connect/NAME). */
void cli_url_network(const char *url, char *out, size_t cap, bool *bare);

/* NULL when [network] name and the URL agree (or name is init's default and the URL names no
 * network); else a g_malloc'd warning that says which network the hub will use and the
 * server_url that would select the named one. */
char *cli_network_mismatch(const char *name, const char *url);

/* For init --network NAME: url with /connect/NAME when url names no network yet (see *bare
 * above), g_malloc'd; NULL when url already selects a network. */
char *cli_url_with_network(const char *url, const char *name);

#endif
