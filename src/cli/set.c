/* riftgate set: changes a running agent's settings over its control socket (docs/cli.md#set).
 * Today: the exit node (docs/routes.md). */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "agent/ctl.h"
#include "cli/cmds.h"
#include "conf/config.h"
#include "util/err.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s set [--interface IFNAME] --exit-node NAME|none\n"
		   "Changes a running agent's settings:\n"
		   "  --exit-node NAME  send all traffic through peer NAME (it offers exit_node)\n"
		   "  --exit-node none  stop using an exit node (routing as before)\n"
		   "  --interface IF    the agent's interface (default %s)\n",
		rg_prog, CONF_DEFAULT_INTERFACE);
}

int cmd_set(int argc, char **argv)
{
	const char *ifname = CONF_DEFAULT_INTERFACE, *exit_node = NULL;
	struct rg_err err = { 0 };
	char *reply = NULL, cmd[96];
	int ret = CMD_ERR;

	for (int i = 1; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			usage(stdout);
			return CMD_OK;
		} else if (strcmp(argv[i], "--exit-node") == 0 && i + 1 < argc) {
			exit_node = argv[++i];
		} else if (strcmp(argv[i], "--interface") == 0 && i + 1 < argc) {
			ifname = argv[++i];
		} else {
			fprintf(stderr, "%s set: %s '%s'\n", rg_prog,
				argv[i][0] == '-' ? "unknown option or missing value" :
				"unexpected argument", argv[i]);
			usage(stderr);
			return CMD_USAGE;
		}
	}
	if (!exit_node) {
		fprintf(stderr, "%s set: nothing to set (--exit-node NAME|none)\n", rg_prog);
		usage(stderr);
		return CMD_USAGE;
	}
	if (strcmp(exit_node, "none") != 0 && !conf_valid_name(exit_node)) {
		fprintf(stderr, "%s: --exit-node must be a peer name (1-%d characters of A-Z a-z "
			"0-9 . _ -) or none, got '%.64s'\n", rg_prog, CONF_NAME_MAX, exit_node);
		return CMD_ERR;
	}
	if (!conf_valid_ifname(ifname)) {
		fprintf(stderr, "%s: --interface '%.32s' is not an interface name\n", rg_prog,
			ifname);
		return CMD_ERR;
	}
	snprintf(cmd, sizeof(cmd), "exit-node %s", exit_node);
	if (agent_ctl_request(ifname, cmd, 5000, &reply, &err) < 0) {
		fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
		return CMD_ERR;
	}
	if (strstr(reply, "\"ok\":true")) {
		ret = CMD_OK;
	} else {
		fprintf(stderr, "%s: %s: %s", rg_prog, ifname, reply);
	}
	g_free(reply);
	return ret;
}
