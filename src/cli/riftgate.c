/* riftgate: the command a person types. A table of subcommands in wg's style; global options
 * (-v/--verbose, --help, --version) come before the command name. Every subcommand lives in its
 * own file. Exit codes (cmds.h): 0 ok, 1 error, 2 the command line is malformed. */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/version.h"
#include "util/log.h"

const char *rg_prog = "riftgate";
bool cli_log_level_given;

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *description;
} commands[] = {
	{ "genkey", cmd_genkey, "Generates a new private key and writes it to stdout" },
	{ "pubkey", cmd_pubkey, "Reads a private key from stdin and writes its public key to stdout" },
	{ "init", cmd_init, "Creates a config file with a new private key" },
	{ "check", cmd_check, "Checks a config file and prints the device's public key" },
	{ "up", cmd_up, "Joins the mesh: brings the interface up and connects to peers" },
	{ "down", cmd_down, "Leaves the mesh and removes the interface" },
	{ "status", cmd_status, "Shows the device, the hub connection and every peer" },
	{ "ping", cmd_ping, "Pings a peer through the tunnel, showing the ICE path of every reply" },
	{ "reload", cmd_reload, "Re-reads a running agent's config (as systemctl reload)" },
	{ "set", cmd_set, "Changes a running agent's settings (--exit-node NAME|none)" },
	{ "netcheck", cmd_netcheck, "Checks the hub, STUN, NAT type, UDP, TURN and IPv6 (no agent needed)" },
	{ "invite", cmd_invite, "Creates an invite token for a new device" },
	{ "join", cmd_join, "Creates a config from an invite token" },
	{ "devices", cmd_devices, "Lists or revokes the devices of a signed network (admin)" },
	{ "rotate", cmd_rotate, "Gives this device a new WireGuard key (signed network)" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s [-v|--verbose]... <cmd> [<args>]\n       %s --version\n\n"
		   "Available subcommands:\n", rg_prog, rg_prog);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s: %s\n", commands[i].name, commands[i].description);
	fprintf(f, "You may pass `--help' to any of these subcommands to view usage.\n");
}

int main(int argc, char **argv)
{
	enum rg_log_level level = RG_LOG_INFO;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			if (level < RG_LOG_TRACE)
				level++;
			cli_log_level_given = true;
		} else if (strcmp(argv[i], "-vv") == 0) {
			level = level + 2 > RG_LOG_TRACE ? RG_LOG_TRACE : level + 2;
			cli_log_level_given = true;
		} else if (cmd_is_help(argv[i])) {
			usage(stdout);
			return 0;
		} else if (cmd_is_version(argv[i])) {
			printf("%s %s (%s)\n", rg_prog, RG_VERSION, RG_GIT_DESCRIBE);
			return 0;
		} else {
			fprintf(stderr, "Invalid option: `%s'\n", argv[i]);
			usage(stderr);
			return CMD_USAGE;
		}
	}
	rg_log_set_level(level);
	if (i == argc) {
		usage(stderr);
		return CMD_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			return commands[k].fn(argc - i, argv + i);
	fprintf(stderr, "Invalid subcommand: `%s'\n", argv[i]);
	usage(stderr);
	return CMD_USAGE;
}
