/* riftgate init: writes a new config (DESIGN.md §Config) with a freshly generated private key.
 * Every flag is checked before anything is written; an existing file is kept unless --force. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cli/cmds.h"
#include "cli/confpath.h"
#include "conf/config.h"
#include "conf/keys.h"
#include "util/ct.h"
#include "util/err.h"
#include "util/x25519.h"

static void init_usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"Usage: %s %s --name DEVICE --server URL --token TOKEN --address CIDR\n"
		"       [--network NAME] [--new-network] [--interface IFNAME] [--mtu N] [--config PATH]\n"
		"       [--force] [--allow-insecure-transport]\n"
		"\n"
		"  --name DEVICE     this device's peer id (1-64 of A-Z a-z 0-9 . _ -)\n"
		"  --server URL      signaling hub, ws://HOST[:PORT][/PATH] or wss://...\n"
		"  --token TOKEN     hub auth token (default: $RIFTGATE_TOKEN)\n"
		"  --address CIDR    tunnel address with prefix, e.g. 10.10.0.2/24\n"
		"  --network NAME    hub network: appended to a --server URL that names none, as\n"
		"                    /connect/NAME (default: riftgate, the hub's default network)\n"
		"  --new-network     also create the network's signing key on this device (the admin\n"
		"                    device) and this device's certificate: a signed network whose\n"
		"                    hub cannot add or change devices (docs/membership.md)\n"
		"  --interface NAME  TUN interface (default: " CONF_DEFAULT_INTERFACE ")\n"
		"  --mtu N           TUN MTU, 576-9000 (default: derived from the path)\n"
		"  --config PATH     where to write (default: $XDG_CONFIG_HOME/riftgate/config.toml;\n"
		"                    as root " CLI_ETC_DIR "/IFNAME.toml, what riftgate@IFNAME uses)\n"
		"  --force           replace an existing config (its old key is lost)\n"
		"  --allow-insecure-transport\n"
		"                    let `up` use a ws:// hub that is not on loopback (the token then\n"
		"                    crosses the network in clear; wss:// is the safe choice)\n",
		rg_prog, cmd);
}

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", rg_prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

static char *dup_or_die(const char *s, int *oom)
{
	char *d = strdup(s);

	if (!d)
		*oom = 1;
	return d;
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "server", required_argument, NULL, 's' },
		{ "token", required_argument, NULL, 't' },
		{ "address", required_argument, NULL, 'a' },
		{ "network", required_argument, NULL, 'N' },
		{ "interface", required_argument, NULL, 'i' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "force", no_argument, NULL, 'f' },
		{ "new-network", no_argument, NULL, 'W' },
		{ "allow-insecure-transport", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *name = NULL, *server = NULL, *token = getenv("RIFTGATE_TOKEN");
	const char *address = NULL, *network = "riftgate", *ifname = NULL, *path = NULL;
	char defpath[PATH_MAX], b64[RG_KEY_B64_LEN + 1];
	uint8_t pub[RG_KEY_LEN];
	unsigned long mtu = 0;
	struct rg_err err = { 0 };
	struct conf c = { 0 };
	struct rg_prefix addr;
	int force = 0, new_network = 0, insecure = 0, opt, oom = 0, r, ret = 1;
	bool network_given = false;
	char *server_net = NULL;

	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 's': server = optarg; break;
		case 't': token = optarg; break;
		case 'a': address = optarg; break;
		case 'N': network = optarg; network_given = true; break;
		case 'i': ifname = optarg; break;
		case 'c': path = optarg; break;
		case 'f': force = 1; break;
		case 'W': new_network = 1; break;
		case 'I': insecure = 1; break;
		case 'm': {
			char *end;

			mtu = strtoul(optarg, &end, 10);
			if (!*optarg || *end || mtu < CONF_MTU_MIN || mtu > CONF_MTU_MAX)
				return fail("--mtu must be a number from 576 to 9000, got '%.16s'",
					    optarg);
			break;
		}
		case 'h':
			init_usage(stdout, argv[0]);
			return 0;
		default:
			fprintf(stderr, "%s: %s: invalid or incomplete option '%s' (see '%s %s "
				"--help')\n", rg_prog, argv[0], argv[optind - 1], rg_prog, argv[0]);
			return CMD_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: %s: unexpected argument '%s' (see '%s %s --help')\n", rg_prog,
			argv[0], argv[optind], rg_prog, argv[0]);
		return CMD_USAGE;
	}
	if (!name || !server || !token || !address) {
		fprintf(stderr, "%s: %s needs --name, --server, --token and --address (see '%s %s "
			"--help')\n", rg_prog, argv[0], rg_prog, argv[0]);
		return CMD_USAGE;
	}
	if (!conf_valid_name(name))
		return fail("--name must be 1-64 characters of A-Z a-z 0-9 . _ -, got '%.64s'", name);
	if (!conf_valid_name(network))
		return fail("--network must be 1-64 characters of A-Z a-z 0-9 . _ -, got '%.64s'",
			    network);
	if (!conf_valid_server_url(server))
		return fail("--server must be ws://HOST[:PORT][/PATH] or wss://HOST[:PORT][/PATH], "
			    "got '%.100s'", server);
	if (!*token)
		return fail("--token must not be empty%s", "");
	if (!rg_prefix_parse(&addr, address))
		return fail("--address must be an IPv4 or IPv6 address with a prefix length "
			    "(like 10.10.0.2/24), got '%.64s'", address);
	if (ifname && !conf_valid_ifname(ifname))
		return fail("--interface must be 1-15 characters of A-Z a-z 0-9 . _ -, got '%.32s'",
			    ifname);
	if (!path) {
		if (cli_config_path_new(defpath, sizeof(defpath), ifname, &err) < 0)
			return fail("%s", err.msg);
		path = defpath;
	}
	/* The hub picks the network from the URL path: --network goes there (docs/config.md). */
	if (network_given && !(server_net = cli_url_with_network(server, network))) {
		char *m = cli_network_mismatch(network, server);

		if (m) {
			fprintf(stderr, "%s: --network %s, but --server %s selects another network\n",
				rg_prog, network, server);
			g_free(m);
			return 1;
		}
	}

	if ((r = conf_init(&c)) < 0) {
		oom = 1;
		goto out;
	}
	c.network_name = dup_or_die(network, &oom);
	c.server_url = dup_or_die(server_net ? server_net : server, &oom);
	c.auth_token = dup_or_die(token, &oom);
	c.device_name = dup_or_die(name, &oom);
	c.address = dup_or_die(address, &oom);
	c.addr = addr;
	if (oom)
		goto out;
	if (ifname)
		snprintf(c.interface, sizeof(c.interface), "%s", ifname);
	c.mtu = (unsigned)mtu;
	c.allow_insecure_transport = insecure && conf_server_url_insecure(server);
	if ((r = conf_key_generate(c.private_key)) < 0) {
		fprintf(stderr, "%s: cannot read random bytes: %s\n", rg_prog, strerror(-r));
		goto out;
	}
	if (!rg_x25519_public(pub, c.private_key)) {
		fprintf(stderr, "%s: cannot derive the public key\n", rg_prog);
		goto out;
	}
	if (conf_save(&c, path, force, &err) < 0) {
		fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
		goto out;
	}
	rg_key_to_base64(b64, pub);
	printf("Wrote %s\nPublic key: %s\n", path, b64);
	if (conf_server_url_insecure(server) && insecure)
		printf("Warning: %s is ws:// to a host that is not loopback: the auth token crosses "
		       "the network in clear (allow_insecure_transport = true).\n", server);
	else if (conf_server_url_insecure(server))
		printf("Note: %s is ws:// to a host that is not loopback: 'riftgate up' refuses it "
		       "(the auth token would cross the network in clear). Use wss://, or set "
		       "allow_insecure_transport = true in [network] (--allow-insecure-transport).\n",
		       server);
	if (new_network) {
		ret = trust_cli_new_network(&c, path, pub);
		goto out;
	}
	printf("Note: this network is not signed: its hub and anyone holding the auth token can "
	       "add or impersonate devices; peers show as 'unverified' (see --new-network).\n");
	ret = 0;
out:
	if (oom)
		fprintf(stderr, "%s: out of memory\n", rg_prog);
	conf_clear(&c);
	g_free(server_net);
	return ret;
}

/* riftgate check: loads the config the way the agent will and says whether it is usable. */
int cmd_check(int argc, char **argv)
{
	char defpath[PATH_MAX], b64[RG_KEY_B64_LEN + 1];
	const char *path = NULL;
	struct rg_err err = { 0 };
	struct conf c;
	uint8_t pub[RG_KEY_LEN];
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			printf("Usage: %s %s [--config PATH]\n", rg_prog, argv[0]);
			return 0;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc && !path) {
			path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0 && !path) {
			path = argv[i] + 9;
		} else {
			fprintf(stderr, "%s: %s: %s '%s' (see '%s %s --help')\n", rg_prog, argv[0],
				strcmp(argv[i], "--config") == 0 ? "missing the value of" :
				argv[i][0] == '-' ? "unknown option" : "unexpected argument",
				argv[i], rg_prog, argv[0]);
			return CMD_USAGE;
		}
	}
	if (!path) {
		bool announce;

		if (cli_config_path_find(defpath, sizeof(defpath), &announce, &err) < 0)
			return fail("%s", err.msg);
		path = defpath;
	}
	if (conf_load(&c, path, &err) < 0)
		return fail("%s", err.msg);
	if (!rg_x25519_public(pub, c.private_key)) {
		fprintf(stderr, "%s: %s: cannot derive the public key\n", rg_prog, path);
		goto out;
	}
	rg_key_to_base64(b64, pub);
	printf("%s: ok\nnetwork %s, device %s, address %s, interface %s\npublic key: %s\n", path,
	       c.network_name, c.device_name, c.address, c.interface, b64);
	{
		char *m = cli_network_mismatch(c.network_name, c.server_url);

		if (m)
			printf("warning: %s\n", m);
		g_free(m);
	}
	if (c.path_mtu)
		printf("path mtu: %u (pinned, no probing)\n", c.path_mtu);
	else
		printf("path mtu: probed per peer (1200 until verified)\n");
	if (trust_cli_check(&c, path, pub) != 0)
		goto out;
	if (c.mtu)
		printf("tun mtu: %u (pinned)\n", c.mtu);
	for (size_t i = 0; i < c.n_turn; i++) {
		int n;

		if (strncmp(c.turn[i].url, "turns:", 6) != 0)
			continue;
		if (!c.turn[i].ca_file) {
			printf("turn %s: TLS, certificate checked against the system CA store\n",
			       c.turn[i].url);
			continue;
		}
		n = conf_check_ca_file(c.turn[i].ca_file, &err);
		if (n < 0) {
			fprintf(stderr, "%s: %s: turn[%zu].ca_file: %s\n", rg_prog, path, i, err.msg);
			goto out;
		}
		printf("turn %s: TLS, certificate checked against %s (%d certificate%s)\n",
		       c.turn[i].url, c.turn[i].ca_file, n, n == 1 ? "" : "s");
	}
	ret = 0;
out:
	conf_clear(&c);
	return ret;
}
