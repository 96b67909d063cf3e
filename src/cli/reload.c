/* riftgate reload: asks a running agent to re-read its config, as SIGHUP and `systemctl reload`
 * do, and prints the outcome: applied (maybe naming keys that need a restart) or refused, with
 * why (the running config then stays). Root only, like every change (agent/ctl.c). */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "agent/ctl.h"
#include "cli/cmds.h"
#include "conf/config.h"
#include "util/err.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s reload [IFNAME]\n"
		   "Re-reads the running agent's config file (default: the only running interface)\n"
		   "and applies what can change without dropping tunnels: log level, STUN/TURN\n"
		   "servers, routes, accept_routes, exit node, DNS domain/dns/search\n"
		   "(docs/config.md#reload). A file that does not load is refused and the running\n"
		   "config stays (exit 1).\n", rg_prog);
}

int cmd_reload(int argc, char **argv)
{
	const char *ifname = NULL, *text = NULL;
	struct rg_err err = { 0 };
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GPtrArray) names = NULL;
	g_autofree char *reply = NULL;
	JsonObject *o;
	int ret = CMD_ERR;

	for (int i = 1; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			usage(stdout);
			return CMD_OK;
		} else if (argv[i][0] == '-' || ifname) {
			fprintf(stderr, "%s reload: %s '%s'\n", rg_prog,
				argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
			usage(stderr);
			return CMD_USAGE;
		}
		ifname = argv[i];
	}
	if (!ifname) {
		names = cli_running_interfaces();
		if (names->len != 1) {
			fprintf(stderr, "%s: %s\n", rg_prog, names->len ? "several interfaces are up; "
				"name one" : "riftgate is not up (or not visible to this user: try sudo)");
			return CMD_ERR;
		}
		ifname = names->pdata[0];
	} else if (!conf_valid_ifname(ifname)) {
		fprintf(stderr, "%s: '%.32s' is not an interface name\n", rg_prog, ifname);
		return CMD_ERR;
	}
	/* a reload resolves nothing and reads one small file; 10 s covers a busy loop */
	if (agent_ctl_request(ifname, "reload", 10000, &reply, &err) < 0) {
		fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
		return CMD_ERR;
	}
	if (!json_parser_load_from_data(parser, reply, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
		fprintf(stderr, "%s: %s: unexpected answer from the agent\n", rg_prog, ifname);
		return CMD_ERR;
	}
	o = json_node_get_object(json_parser_get_root(parser));
	if (json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
		text = json_object_get_string_member_with_default(o, "message", "config reloaded");
		printf("%s: %s: %s\n", rg_prog, ifname, text);
		ret = CMD_OK;
	} else {
		text = json_object_get_string_member_with_default(o, "error", "refused");
		fprintf(stderr, "%s: %s: %s\n", rg_prog, ifname, text);
	}
	return ret;
}
