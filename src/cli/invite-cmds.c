/* riftgate invite / riftgate join (docs/cli.md §invite/join). `invite` runs on a member device:
 * it reads that device's config, picks a free tunnel address (asking the running agent which
 * addresses and names it knows, over the control socket) and prints a token (src/conf/invite.h).
 * `join` runs on the new device: it decodes the token, generates a private key and writes the
 * config the way `init` does. Tokens are secrets: they go to stdout only and are wiped. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "agent/ctl.h"
#include "agent/status.h"
#include "cli/cmds.h"
#include "cli/confpath.h"
#include "conf/addrpool.h"
#include "conf/config.h"
#include "conf/invite.h"
#include "conf/keys.h"
#include "trust/cert.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/err.h"
#include "util/x25519.h"

enum invite_cmd_limits {
	EXPIRES_DEFAULT_S = 24 * 3600,
	EXPIRES_MAX_S = 365 * 24 * 3600,
	AGENT_ASK_TIMEOUT_MS = 3000,
};

static int fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", rg_prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

static int bad_option(char **argv)
{
	fprintf(stderr, "%s: %s: invalid or incomplete option '%s' (see '%s %s --help')\n", rg_prog,
		argv[0], argv[optind - 1], rg_prog, argv[0]);
	return CMD_USAGE;
}

static int64_t now_s(void)
{
	return (int64_t)(rg_wall_ns() / RG_NSEC_PER_SEC);
}

/* "90s", "30m", "24h", "7d", "2w", "1h30m": at least one NUMBER UNIT pair. */
static bool parse_duration(const char *s, int64_t *out)
{
	int64_t total = 0;

	if (!*s)
		return false;
	while (*s) {
		int64_t v = 0, mult;
		int digits = 0;

		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			if (digits >= 9)
				return false;
			v = v * 10 + (*s - '0');
		}
		switch (*s) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		default: return false;
		}
		if (!digits)
			return false;
		s++;
		total += v * mult;
		if (total > EXPIRES_MAX_S)
			return false;
	}
	*out = total;
	return total > 0;
}

static void format_duration(char *buf, size_t cap, int64_t s)
{
	if (s % 86400 == 0)
		snprintf(buf, cap, "%lld day%s", (long long)(s / 86400), s == 86400 ? "" : "s");
	else if (s % 3600 == 0)
		snprintf(buf, cap, "%lld hour%s", (long long)(s / 3600), s == 3600 ? "" : "s");
	else if (s % 60 == 0)
		snprintf(buf, cap, "%lld minute%s", (long long)(s / 60), s == 60 ? "" : "s");
	else
		snprintf(buf, cap, "%lld second%s", (long long)s, s == 1 ? "" : "s");
}

/* ---- addresses ---- */

/* What the running agent knows: its own address, its peers' addresses and names. */
struct known {
	GArray *addrs;		/* struct rg_prefix */
	GPtrArray *names;	/* peer ids, g_free */
	bool asked;		/* the agent answered */
	char why[RG_ERR_MSG_LEN];	/* why not, when !asked */
};

static void known_clear(struct known *k)
{
	g_array_free(k->addrs, TRUE);
	g_ptr_array_free(k->names, TRUE);
}

static void ask_agent(struct known *k, const char *ifname)
{
	struct rg_err err = { 0 };
	struct agent_status s;
	char *reply = NULL;
	struct rg_prefix a;

	k->addrs = g_array_new(FALSE, TRUE, sizeof(struct rg_prefix));
	k->names = g_ptr_array_new_with_free_func(g_free);
	if (agent_ctl_request(ifname, "status", AGENT_ASK_TIMEOUT_MS, &reply, &err) < 0) {
		snprintf(k->why, sizeof(k->why), "%s", err.msg);
		return;
	}
	if (agent_status_from_json(&s, reply, strlen(reply), &err) < 0) {
		snprintf(k->why, sizeof(k->why), "its status did not parse: %.200s", err.msg);
		g_free(reply);
		return;
	}
	g_free(reply);
	k->asked = true;
	if (rg_prefix_parse_addr(&a, s.address))
		g_array_append_val(k->addrs, a);
	for (size_t i = 0; i < s.n_peers; i++) {
		if (rg_prefix_parse_addr(&a, s.peers[i].address))
			g_array_append_val(k->addrs, a);
		g_ptr_array_add(k->names, g_strdup(s.peers[i].id));
	}
	agent_status_clear(&s);
}

static bool known_name(const struct known *k, const char *name)
{
	for (guint i = 0; i < k->names->len; i++)
		if (strcmp(k->names->pdata[i], name) == 0)
			return true;
	return false;
}

/* ---- invite ---- */

static void invite_usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"Usage: %s %s [--config PATH] [--name NEWNAME] [--address ADDR/PREFIX]\n"
		"       [--expires DURATION] [--no-turn-secret] [--qr]\n"
		"\n"
		"Prints an invite token for a new device of this device's network (on stdout; the\n"
		"rest goes to stderr). On the new device: riftgate join -   (then paste the token).\n"
		"\n"
		"  --config PATH        this device's config (default: $XDG_CONFIG_HOME/riftgate/config.toml)\n"
		"  --name NEWNAME       suggested name of the new device (1-64 of A-Z a-z 0-9 . _ -)\n"
		"  --address ADDR/PFX   its tunnel address (default: a free one in this device's subnet)\n"
		"  --expires DURATION   how long the token is valid: 30m, 24h, 7d, 1h30m (default 24h,\n"
		"                       at most 365d)\n"
		"  --no-turn-secret     leave the TURN secret (and TURN servers that need it) out\n"
		"  --qr                 also print the token as a QR code (for a phone's camera)\n"
		"\n"
		"The token is a secret: it carries the hub's auth token. See docs/cli.md.\n",
		rg_prog, cmd);
}

/* The new device's address: checked when given, else picked. Prints what was checked. */
static int invite_address(const struct conf *c, const char *given, const struct known *k,
			  char *out, size_t cap)
{
	struct conf_addrpool pool = {
		.self = c->addr, .taken = (const struct rg_prefix *)k->addrs->data,
		.n_taken = k->addrs->len,
	};
	struct rg_prefix net = conf_addrpool_subnet(&pool), a;
	char subnet[RG_PREFIX_STR_MAX];

	rg_prefix_format(&net, subnet, sizeof(subnet));
	if (given) {
		if (!rg_prefix_parse(&a, given))
			return fail("--address must be an IPv4 or IPv6 address with a prefix length "
				    "(like 10.10.0.7/24), got '%.64s'", given);
		switch (conf_addrpool_check(&pool, &a)) {
		case CONF_ADDR_SELF:
			return fail("--address %.64s is this device's own address", given);
		case CONF_ADDR_TAKEN:
			return fail("--address %.64s is already used by a device the running agent "
				    "knows or the registry holds", given);
		case CONF_ADDR_OUTSIDE:
			fprintf(stderr, "%s: warning: %s is not in this network's subnet %s; the "
				"devices may not reach each other\n", rg_prog, given, subnet);
			break;
		case CONF_ADDR_RESERVED:
			/* IPv6 has no broadcast: only picks avoid those hosts there. */
			if (a.family == AF_INET)
				return fail("--address %.64s is the subnet's network or broadcast "
					    "address", given);
			break;
		case CONF_ADDR_FREE:
			break;
		}
		snprintf(out, cap, "%s", given);
		return 0;
	}
	if (conf_addrpool_pick(&pool, &a) < 0) {
		fprintf(stderr, "%s: no free address in %s; pass --address\n", rg_prog, subnet);
		return 1;
	}
	rg_prefix_format(&a, out, cap);
	fprintf(stderr, "Picked address %s, free in %s as far as this device can tell.\n", out,
		subnet);
	if (k->asked)
		fprintf(stderr, "Checked: this device's address and the %u address%s the running "
			"agent on %s knows.\n", k->addrs->len, k->addrs->len == 1 ? "" : "es",
			c->interface);
	else
		fprintf(stderr, "Checked: this device's address only; the agent on %s did not "
			"answer: %s.\n", c->interface, k->why);
	fprintf(stderr, "Not seen: devices offline now, invites not used yet. Pass --address to "
		"choose.\n");
	return 0;
}

int cmd_invite(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "address", required_argument, NULL, 'a' },
		{ "expires", required_argument, NULL, 'e' },
		{ "no-turn-secret", no_argument, NULL, 'T' },
		{ "qr", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL, *name = NULL, *address = NULL;
	char defpath[PATH_MAX], addr[96], when[48], dur[32], *token = NULL;
	struct conf_invite_opts o = { 0 };
	struct rg_err err = { 0 };
	struct known k = { 0 };
	struct trust_prefix *reg_addrs = NULL;
	size_t n_reg_addrs = 0;
	uint8_t ticket[TRUST_TICKET_MAX], ticket_seed[CONF_INVITE_TICKET_KEY_LEN];
	bool signed_net = false;
	struct conf c;
	int64_t expires_s = EXPIRES_DEFAULT_S;
	bool no_turn_secret = false, qr = false;
	size_t dropped = 0;
	int opt, ret = 1;

	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'n': name = optarg; break;
		case 'a': address = optarg; break;
		case 'T': no_turn_secret = true; break;
		case 'Q': qr = true; break;
		case 'e':
			if (!parse_duration(optarg, &expires_s))
				return fail("--expires must be a duration like 30m, 24h, 7d or 1h30m "
					    "(at most 365d), got '%.32s'", optarg);
			break;
		case 'h':
			invite_usage(stdout, argv[0]);
			return 0;
		default:
			return bad_option(argv);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: %s: unexpected argument '%s' (see '%s %s --help')\n", rg_prog,
			argv[0], argv[optind], rg_prog, argv[0]);
		return CMD_USAGE;
	}
	if (name && !conf_valid_name(name))
		return fail("--name must be 1-64 characters of A-Z a-z 0-9 . _ -, got '%.64s'", name);
	if (cli_config_load(&c, &path, defpath, sizeof(defpath), &err) < 0)
		return fail("%s", err.msg);
	if (name && strcmp(name, c.device_name) == 0) {
		fail("--name %s is this device's own name; choose another", name);
		goto out;
	}
	ask_agent(&k, c.interface);
	/* On the admin device of a signed network the registry knows every address issued, also
	 * to devices offline now and invites not used yet. */
	if (trust_cli_registry_addrs(&c, path, &reg_addrs, &n_reg_addrs) != 0)
		goto out;
	for (size_t i = 0; i < n_reg_addrs; i++) {
		struct rg_prefix a = { .family = reg_addrs[i].family == 4 ? AF_INET : AF_INET6,
				       .len = reg_addrs[i].plen };

		memcpy(a.addr, reg_addrs[i].addr, 16);
		g_array_append_val(k.addrs, a);
	}
	if (name && known_name(&k, name)) {
		fail("--name %s is already used by a device the running agent knows; choose "
		     "another", name);
		goto out;
	}
	if (invite_address(&c, address, &k, addr, sizeof(addr)) != 0)
		goto out;
	o.name = name;
	o.address = addr;
	o.expires = now_s() + expires_s;
	o.no_turn_secret = no_turn_secret;
	if (trust_cli_invite_ticket(&c, path, name, addr, o.expires, ticket, &o.ticket_len,
				    ticket_seed, &signed_net) != 0)
		goto out;
	if (signed_net) {
		o.ticket = ticket;
		o.ticket_key = ticket_seed;
	}
	if (no_turn_secret)
		for (size_t i = 0; i < c.n_turn; i++)
			dropped += !c.turn[i].username;
	if (conf_invite_encode(&c, &o, &token, &err) < 0) {
		fail("%s", err.msg);
		goto out;
	}
	if (qr) {
		int r = cli_qr_print(stdout, token);

		if (r < 0) {
			fail("--qr: %s", r == -ENOTSUP ? "this riftgate was built without libqrencode"
				 : r == -ERANGE ? "the token is too long for a QR code"
				 : "the QR encoder failed");
			goto out;
		}
	}
	puts(token);
	fflush(stdout);
	conf_invite_format_time(when, sizeof(when), o.expires);
	format_duration(dur, sizeof(dur), expires_s);
	fprintf(stderr, "Invite to network '%s' for %s%s%s, address %s; expires %s (in %s).\n",
		c.network_name, name ? "device '" : "a new device", name ? name : "",
		name ? "'" : "", addr, when, dur);
	if (signed_net)
		fprintf(stderr, "The token carries a one-time enrollment ticket for %s (recorded in "
			"the registry): the first device to join with it gets the certificate.\n",
			name);
	if (dropped)
		fprintf(stderr, "Left out %zu [[turn]] server%s that need%s the TURN secret.\n",
			dropped, dropped == 1 ? "" : "s", dropped == 1 ? "s" : "");
	fprintf(stderr, "On the new device run:  riftgate join -   and paste the token (reading it "
		"from stdin keeps it\nout of shell history), then the command it prints.\n"
		"Keep the token secret: it carries the network's hub auth token%s. Anyone holding it "
		"can\njoin until it expires, and reach the hub until the auth token is rotated.\n",
		c.turn_secret && !no_turn_secret ? " and TURN secret" : "");
	ret = 0;
out:
	if (k.addrs)
		known_clear(&k);
	free(reg_addrs);
	rg_memzero(ticket_seed, sizeof(ticket_seed));
	conf_invite_token_free(token);
	conf_clear(&c);
	return ret;
}

/* ---- join ---- */

static void join_usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"Usage: %s %s [TOKEN|-] [--config PATH] [--name NAME] [--address ADDR/PREFIX]\n"
		"       [--interface IFNAME] [--force]\n"
		"\n"
		"Creates this device's config from an invite token (from 'riftgate invite' on a member\n"
		"device) with a new private key. With '-' or no TOKEN the token is read from stdin,\n"
		"which keeps it out of shell history: recommended.\n"
		"\n"
		"  --config PATH        where to write (default: $XDG_CONFIG_HOME/riftgate/config.toml)\n"
		"  --name NAME          this device's name instead of the one in the token\n"
		"  --address ADDR/PFX   tunnel address instead of the one in the token\n"
		"  --interface IFNAME   TUN interface (default: " CONF_DEFAULT_INTERFACE ")\n"
		"  --force              replace an existing config (its private key is lost)\n",
		rg_prog, cmd);
}

/* The token text from stdin: a terminal gives one line, a pipe everything up to EOF. All
 * whitespace is dropped (a token wrapped by a mail client still reads). */
static char *read_token(size_t *len)
{
	size_t cap = CONF_INVITE_TOKEN_MAX + 2, n = 0;
	bool tty = isatty(STDIN_FILENO);
	char *buf = malloc(cap);
	int ch;

	if (!buf)
		return NULL;
	if (tty)
		fprintf(stderr, "Paste the invite token and press Enter: ");
	while ((ch = getchar()) != EOF) {
		if (tty && ch == '\n' && n > 0)
			break;
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f')
			continue;
		if (n == cap - 1)
			break;	/* too long: the decoder says so */
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void wipe_free(char *s, size_t n)
{
	if (s) {
		rg_memzero(s, n);
		free(s);
	}
}

static char *default_name(void)
{
	char host[HOST_NAME_MAX + 1] = "";
	char *dot;

	if (gethostname(host, sizeof(host)) < 0)
		return NULL;
	host[HOST_NAME_MAX] = '\0';
	if ((dot = strchr(host, '.')))
		*dot = '\0';
	return conf_valid_name(host) ? strdup(host) : NULL;
}

static int replace(char **field, const char *value)
{
	char *d = strdup(value);

	if (!d)
		return -ENOMEM;
	free(*field);
	*field = d;
	return 0;
}

int cmd_join(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "address", required_argument, NULL, 'a' },
		{ "interface", required_argument, NULL, 'i' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = NULL, *name = NULL, *address = NULL, *ifname = NULL, *arg = NULL;
	char defpath[PATH_MAX], abspath[PATH_MAX], b64[RG_KEY_B64_LEN + 1], when[48];
	char *text = NULL, *host = NULL;
	struct conf_invite inv = { 0 };
	struct rg_err err = { 0 };
	struct conf check;
	uint8_t pub[RG_KEY_LEN];
	size_t len = 0;
	bool force = false, from_arg = false;
	int opt, r, ret = 1;

	opterr = 0;
	optind = 0;
	/* No '+': the token may come before or after the flags. */
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'n': name = optarg; break;
		case 'a': address = optarg; break;
		case 'i': ifname = optarg; break;
		case 'f': force = true; break;
		case 'h':
			join_usage(stdout, argv[0]);
			return 0;
		default:
			return bad_option(argv);
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "%s: %s takes one token, got also '%s' (see '%s %s --help')\n",
			rg_prog, argv[0], argv[optind + 1], rg_prog, argv[0]);
		return CMD_USAGE;
	}
	if (optind < argc)
		arg = argv[optind];
	if (name && !conf_valid_name(name))
		return fail("--name must be 1-64 characters of A-Z a-z 0-9 . _ -, got '%.64s'", name);
	if (address && !rg_prefix_parse(&(struct rg_prefix){ 0 }, address))
		return fail("--address must be an IPv4 or IPv6 address with a prefix length (like "
			    "10.10.0.7/24), got '%.64s'", address);
	if (ifname && !conf_valid_ifname(ifname))
		return fail("--interface must be 1-15 characters of A-Z a-z 0-9 . _ -, got '%.32s'",
			    ifname);
	if (!path) {
		if (conf_default_path(defpath, sizeof(defpath), &err) < 0)
			return fail("%s", err.msg);
		path = defpath;
	}
	/* Before asking for the token: nobody pastes a secret only to be told this. */
	if (!force && access(path, F_OK) == 0)
		return fail("%s already exists (use --force to replace it; its private key is "
			    "lost)", path);

	if (arg && strcmp(arg, "-") != 0) {
		from_arg = true;
		len = strlen(arg);
		text = strdup(arg);
		/* Out of /proc/PID/cmdline from now on (shell history is another matter). */
		rg_memzero(argv[optind], len);
	} else {
		text = read_token(&len);
	}
	if (!text) {
		fprintf(stderr, "%s: out of memory\n", rg_prog);
		return 1;
	}
	if (len == 0) {
		fail("no invite token given (pass it on stdin: riftgate join -)%s", "");
		goto out;
	}
	if (from_arg)
		fprintf(stderr, "Note: a token on the command line can stay in shell history; "
			"'riftgate join -' reads it from stdin.\n");
	if ((r = conf_invite_decode(&inv, text, len, now_s(), &err)) < 0) {
		fail("%s", err.msg);
		goto out;
	}
	if (inv.ticket && ((name && strcmp(name, inv.conf.device_name ? inv.conf.device_name : "")) ||
			   address || !inv.conf.device_name)) {
		fail("this invite holds a one-time ticket for device '%s' and its address; join "
		     "without --name and --address", inv.conf.device_name ? inv.conf.device_name : "?");
		goto out;
	}
	if (!name && !inv.conf.device_name)
		name = host = default_name();
	if (!name && !inv.conf.device_name) {
		fail("the invite does not name this device and the host name is not a valid "
		     "name; pass --name%s", "");
		goto out;
	}
	if ((name && replace(&inv.conf.device_name, name) < 0) ||
	    (address && replace(&inv.conf.address, address) < 0)) {
		fail("out of memory%s", "");
		goto out;
	}
	rg_prefix_parse(&inv.conf.addr, inv.conf.address);
	if (inv.inviter && strcmp(inv.inviter, inv.conf.device_name) == 0) {
		fail("this device would have the inviter's name '%s'; pass --name", inv.inviter);
		goto out;
	}
	if (ifname)
		snprintf(inv.conf.interface, sizeof(inv.conf.interface), "%s", ifname);
	if ((r = conf_key_generate(inv.conf.private_key)) < 0) {
		fprintf(stderr, "%s: cannot read random bytes: %s\n", rg_prog, strerror(-r));
		goto out;
	}
	if (!rg_x25519_public(pub, inv.conf.private_key)) {
		fail("cannot derive the public key%s", "");
		goto out;
	}
	if (conf_save(&inv.conf, path, force, &err) < 0) {
		fail("%s", err.msg);
		goto out;
	}
	/* What we wrote must load as any config does (riftgate check, riftgate up). */
	if (conf_load(&check, path, &err) < 0) {
		fail("wrote a config that does not load: %s", err.msg);
		goto out;
	}
	conf_clear(&check);
	if (inv.ticket && trust_cli_join(&inv, path, pub) != 0) {
		unlink(path);	/* a config without its certificate would only be refused */
		goto out;
	}
	rg_key_to_base64(b64, pub);
	conf_invite_format_time(when, sizeof(when), inv.expires);
	printf("Ready to join network '%s'%s%s%s\n"
	       "Wrote %s\n"
	       "Device: %s\nAddress: %s\nInterface: %s\nPublic key: %s\n",
	       inv.conf.network_name, inv.inviter ? " (invited by " : "",
	       inv.inviter ? inv.inviter : "", inv.inviter ? ")" : "", path,
	       inv.conf.device_name, inv.conf.address, inv.conf.interface, b64);
	/* Absolute: sudo and systemd do not share this shell's directory or $HOME. */
	printf("Next: %sriftgate up --config %s\n", geteuid() == 0 ? "" : "sudo ",
	       realpath(path, abspath) ? abspath : path);
	fprintf(stderr, "The token (valid until %s) is no longer needed: delete it where you kept "
		"it.\n", when);
	ret = 0;
out:
	wipe_free(text, len);
	free(host);
	conf_invite_clear(&inv);
	return ret;
}
