/* Where riftgate's commands find a config when --config is not given (docs/cli.md#config-
 * location). As root: /etc/riftgate/IFNAME.toml, what riftgate@IFNAME.service uses; under sudo
 * also the invoking user's ~/.config/riftgate/config.toml, so `riftgate init` then `sudo
 * riftgate up` works. Otherwise $XDG_CONFIG_HOME/riftgate/config.toml. $RIFTGATE_CONF_DIR
 * replaces /etc/riftgate (tests). */
#ifndef RG_CLI_CONFPATH_H
#define RG_CLI_CONFPATH_H

#include <stdbool.h>
#include <stddef.h>

struct rg_err;

enum { CLI_PATH_MAX = 4096 };

#define CLI_ETC_DIR "/etc/riftgate"

/* For writing (init): as root CLI_ETC_DIR/IFNAME.toml, else the XDG path. */
int cli_config_path_new(char *buf, size_t cap, const char *ifname, struct rg_err *err);

/* For reading (up, check): the first existing of the candidates above, in this order: under
 * sudo the user's own config, then CLI_ETC_DIR/riftgate0.toml (as root), then the XDG path of
 * the current user. When none exists err lists every place looked at and says which --config
 * to pass. *announce is set when the choice is not obvious (root, several places). */
int cli_config_path_find(char *buf, size_t cap, bool *announce, struct rg_err *err);

#endif
