/* riftgate subcommands: one function per command, called by riftgate.c with argv[0] set to the
 * command name. Each prints its own usage for --help and returns the process exit code
 * (enum cmd_exit, the same for riftgate-hub and riftgate-wg). Only src/cli prints or exits. */
#ifndef RG_CLI_CMDS_H
#define RG_CLI_CMDS_H

#include <stdio.h>

/* Exit codes of all three binaries (docs/cli.md#exit-codes). CMD_USAGE: the command line
 * cannot be parsed (unknown command or option, missing option value, missing or extra
 * argument); the error names the offending word. A value that parses but fails its check is
 * CMD_ERR, with the value quoted. */
enum cmd_exit { CMD_OK = 0, CMD_ERR = 1, CMD_USAGE = 2 };

int cmd_genkey(int argc, char **argv);
int cmd_pubkey(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_invite(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_netcheck(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_rotate(int argc, char **argv);

/* Membership steps of init/invite/join (trust-cmds.c). Each prints its own errors and returns 0
 * or 1 like a command. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
struct conf;
struct conf_invite;
struct trust_prefix;
/* After init --new-network wrote the config: network key, anchor, this device's cert. */
int trust_cli_new_network(const struct conf *c, const char *config_path, const uint8_t *wg_pub);
/* On a signed network's admin device: a ticket for name/address into ticket (TRUST_TICKET_MAX
 * bytes) and its one-time seed, recorded in the registry; *signed_net false on an unsigned
 * network (nothing done). */
int trust_cli_invite_ticket(const struct conf *c, const char *config_path, const char *name,
			    const char *address, int64_t expires, uint8_t *ticket, size_t *ticket_len,
			    uint8_t *ticket_seed, bool *signed_net);
/* Addresses the registry holds (admin device only; none elsewhere). *addrs is free()d. */
int trust_cli_registry_addrs(const struct conf *c, const char *config_path,
			     struct trust_prefix **addrs, size_t *n);
/* riftgate check: the certificate against the anchor, the config's name, key and address. */
int trust_cli_check(const struct conf *c, const char *config_path, const uint8_t *wg_pub);
/* After join wrote the config from a ticket invite: the device's own keys and certificate. */
int trust_cli_join(const struct conf_invite *inv, const char *config_path, const uint8_t *wg_pub);

/* "riftgate", for messages. */
extern const char *rg_prog;
/* The command line chose the log level (-v, up --log-level): it wins over [log] level, also at
 * a reload. */
extern bool cli_log_level_given;

/* agent-cmds.c: interfaces with a control socket in the run directory, sorted (g_ptr_array_free
 * with TRUE). */
typedef struct _GPtrArray GPtrArray;
GPtrArray *cli_running_interfaces(void);

/* qr.c: text as a terminal QR code; -ENOTSUP without libqrencode, -ERANGE when too long. */
int cli_qr_print(FILE *f, const char *text);

/* True for "--help" or "-h". */
static inline int cmd_is_help(const char *arg)
{
	return arg && (__builtin_strcmp(arg, "--help") == 0 || __builtin_strcmp(arg, "-h") == 0);
}

/* True for "--version" or "-V". */
static inline int cmd_is_version(const char *arg)
{
	return arg && (__builtin_strcmp(arg, "--version") == 0 || __builtin_strcmp(arg, "-V") == 0);
}

#endif
