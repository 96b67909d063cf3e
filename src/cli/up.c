/* `riftgate up`: loads the config, builds the agent (TUN, WireGuard device, UAPI and control
 * sockets), connects to the hub and runs the loop until `riftgate down`, SIGINT or SIGTERM.
 * SIGHUP (systemctl reload) re-reads the config and applies what can change while tunnels stay
 * up. Without --foreground it daemonizes once the interface and sockets are ready and the hub
 * has answered (or not, within a few seconds): every startup error is printed before detaching.
 * Under systemd (Type=notify) it logs native journald records and reports READY=1 at that same
 * moment (journal.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include "agent/agent.h"
#include "agent/ctl.h"
#include "cli/cmds.h"
#include "cli/version.h"
#include "cli/confpath.h"
#include "cli/journal.h"
#include "cli/privs.h"
#include "trust/store.h"
#include "conf/config.h"
#include "net/hostaddr.h"
#include "rtc/rtc.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/err.h"
#include "util/log.h"
#include "util/x25519.h"

enum {
	UP_HUB_WAIT_MS = 5000,
	UP_LOG_MAX_BYTES = 4 << 20,	/* the detached log is rotated to IFNAME.log.1 past this */
	UP_LOG_CHECK_S = 30,
	UP_STATUS_S = 5,		/* STATUS= refresh under systemd */
};

/* Open descriptors (docs/systemd.md, LimitNOFILE; measured by tests/e2e/test-nofile.sh): the
 * agent's own (TUN, netlink, hub, control and UAPI sockets, the log, GLib's wakeups: 13 in the
 * lab) stay under UP_FDS_BASE; a peer takes one ICE socket per local address ICE gathers on,
 * two eventfds (the wakeups of libnice's own context and of the context the agent runs on,
 * src/rtc/loop.h) and, on a pair that is not relayed, a second descriptor of the pair's socket
 * (our own receive, src/rtc/ice.c): 4 in the lab, one address; and for each TURN server up to
 * UP_FDS_PER_TURN (a TCP allocation and its turns: TLS bridge). */
enum { UP_FDS_BASE = 64, UP_FDS_PER_TURN = 3, UP_FDS_PER_PEER_FIXED = 3 };

struct up_state {
	GMainLoop *loop;
	bool stopped;
	bool failed;
	struct rg_err err;
	struct agent *agent;		/* not owned */
	const char *config;		/* the file reloads read; not owned */
	const struct conf *running;	/* the config at start (what a reload cannot change); not owned */
	char *exit_node;		/* owned: the file's exit node as last applied */
	bool exit_from_cli;		/* up --exit-node: the file's exit_node is not used */
	char log_path[128];		/* detached log, "" in the foreground */
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s up [--config PATH] [-v|--verbose] [--log-level LEVEL] "
		   "[-f|--foreground] [--exit-node NAME|none]\n"
		   "Brings the mesh interface up and connects to every peer of the network.\n"
		   "  --config PATH    config file (default $XDG_CONFIG_HOME/riftgate/config.toml)\n"
		   "  --exit-node NAME send all traffic through peer NAME (it offers exit_node);\n"
		   "                   none: no exit node, whatever [network] exit_node says\n"
		   "  -v, --verbose    more log output (twice: trace)\n"
		   "  --log-level L    error|warning|info|debug|trace; wins over [log] level, also\n"
		   "                   at a reload (default: [log] level, else info)\n"
		   "  -f, --foreground stay in the foreground, log to stderr (systemd, tests)\n"
		   "Without --config: as root /etc/riftgate/riftgate0.toml, under sudo first the\n"
		   "invoking user's ~/.config/riftgate/config.toml.\n"
		   "Without --foreground the agent detaches once it is ready; its log goes to\n"
		   "/run/riftgate/IFNAME.log (and the journal, where journald runs). Stop it with\n"
		   "'%s down'; '%s reload' (or SIGHUP) re-reads the config.\n",
		rg_prog, rg_prog, rg_prog);
}

static void on_stop(void *opaque, const struct rg_err *err)
{
	struct up_state *st = opaque;

	st->stopped = true;
	if (err && err->msg[0]) {
		st->failed = true;
		st->err = *err;
	}
	g_main_loop_quit(st->loop);
}

static gboolean on_signal(gpointer data)
{
	struct up_state *st = data;

	rg_log(RG_LOG_INFO, "signal received, going down");
	cli_notify("STOPPING=1\nSTATUS=going down");
	st->stopped = true;
	g_main_loop_quit(st->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean on_wait_tick(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_CONTINUE;
}

static void fill_cfg(struct agent_cfg *ac, const struct conf *c)
{
	ac->ifname = c->interface;
	ac->peer_id = c->device_name;
	memcpy(ac->private_key, c->private_key, sizeof(ac->private_key));
	ac->address = c->address;
	ac->hub_url = c->server_url;
	ac->token = c->auth_token;
	ac->stun = (const char *const *)c->stun_servers;
	ac->n_stun = c->n_stun;
	ac->turn = c->turn;
	ac->n_turn = c->n_turn;
	ac->turn_secret = c->turn_secret;
	ac->mtu = c->mtu;
	ac->path_mtu = c->path_mtu;
	ac->ordered = c->ordered;
	ac->max_retransmits = (int)c->max_retransmits;
	ac->no_direct_path = !c->direct_path;
	ac->relay = c->relay == CONF_RELAY_NEVER ? AGENT_RELAY_NEVER :
		    c->relay == CONF_RELAY_ALWAYS ? AGENT_RELAY_ALWAYS : AGENT_RELAY_AUTO;
	ac->max_peers = c->max_peers;
	ac->routes = c->routes;
	ac->n_routes = c->n_routes;
	ac->masquerade = c->masquerade;
	ac->accept_routes_all = c->accept_routes_all;
	ac->accept_routes_from = (const char *const *)c->accept_routes_from;
	ac->n_accept_routes_from = c->n_accept_routes_from;
	ac->metrics_listen = c->metrics_listen;
	ac->version = RG_VERSION " (" RG_GIT_DESCRIBE ")";
	ac->exclude_ifaces = conf_exclude_interfaces(c, &ac->n_exclude_ifaces);
	ac->exit_offer = c->exit_offer;
	ac->exit_node = c->exit_node;
	ac->kill_switch = c->kill_switch;
	ac->dns_domain = c->dns_domain;
	ac->dns_servers = (const char *const *)c->dns_servers;
	ac->n_dns_servers = c->n_dns_servers;
	ac->dns_search = (const char *const *)c->dns_search;
	ac->n_dns_search = c->n_dns_search;
}

static bool same(const char *x, const char *y)
{
	return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* The file's private key is the one the agent runs with: the config's at start, or the one
 * `riftgate rotate` wrote there and switched the agent to. */
static bool key_in_use(const struct agent *a, const struct conf *c)
{
	char b64[RG_KEY_B64_LEN + 1];
	uint8_t pub[RG_KEY_LEN];

	return rg_x25519_public(pub, c->private_key) && (rg_key_to_base64(b64, pub),
							strcmp(b64, agent_public_key(a)) == 0);
}

/* Names the settings a reload cannot apply (they need `down` and `up`). */
static void needs_restart(const struct agent *a, const struct conf *old, const struct conf *new,
			  char what[static 256])
{
	what[0] = '\0';

#define CHANGED(cond, name)                                                            \
	do {                                                                           \
		if (cond)                                                              \
			g_strlcat(what, what[0] ? ", " name : name, 256);              \
	} while (0)
	CHANGED(strcmp(old->interface, new->interface), "[device] interface");
	CHANGED(!same(old->device_name, new->device_name), "[device] name");
	CHANGED(!key_in_use(a, new), "[device] private_key");
	CHANGED(!same(old->address, new->address), "[device] address");
	CHANGED(old->mtu != new->mtu, "[device] mtu");
	CHANGED(!same(old->server_url, new->server_url), "[network] server_url");
	CHANGED(!same(old->auth_token, new->auth_token), "[network] auth_token");
	CHANGED(old->kill_switch != new->kill_switch, "[network] kill_switch");
	CHANGED(old->relay != new->relay, "[network] relay");
	CHANGED(old->max_peers != new->max_peers, "[network] max_peers");
	CHANGED(old->path_mtu != new->path_mtu || old->ordered != new->ordered ||
		old->max_retransmits != new->max_retransmits ||
		old->direct_path != new->direct_path, "[webrtc]");
	CHANGED(!same(old->metrics_listen, new->metrics_listen), "[metrics] listen");
#undef CHANGED
	if (what[0])
		rg_log(RG_LOG_WARN, "reload: %s changed; that takes 'riftgate down' and 'up' "
		       "(running with the old value)", what);
}

static gboolean on_log_check(gpointer data);

/* The log level a config asks for: [log] level, else info; the command line's wins. */
static void apply_log_level(const struct conf *c)
{
	enum rg_log_level was = rg_log_threshold;
	enum rg_log_level want = c->log_level_set ? c->log_level : RG_LOG_INFO;

	if (cli_log_level_given) {
		if (c->log_level_set && c->log_level != was)
			rg_log(RG_LOG_INFO, "log level stays %s (set on the command line; [log] level "
			       "= %s is not used)", rg_log_level_name(was),
			       rg_log_level_name(c->log_level));
		return;
	}
	if (want == was)
		return;
	/* announced at info under whichever of the two levels shows it */
	if (want < was)
		rg_log(RG_LOG_INFO, "log level %s -> %s", rg_log_level_name(was),
		       rg_log_level_name(want));
	rg_log_set_level(want);
	if (want > was)
		rg_log(RG_LOG_INFO, "log level %s -> %s", rg_log_level_name(was),
		       rg_log_level_name(want));
}

/* SIGHUP: re-read the config; a file that is missing, unreadable or invalid (half written)
 * changes nothing. Applies the log level, the STUN/TURN servers (new connections), routes and
 * exit node, and the names' domain/dns/search; tunnels stay up. */
static int reload_config(struct up_state *st, char *msg, size_t cap)
{
	struct agent_cfg ac = { 0 };
	struct rg_err err = { 0 };
	struct conf c = { 0 };
	char what[256];
	int ret = -1;

	cli_notify("RELOADING=1\nSTATUS=reloading the config");
	rg_log(RG_LOG_INFO, "reload: reading %s", st->config);
	if (conf_load(&c, st->config, &err) < 0) {
		rg_log(RG_LOG_WARN, "reload: %s; keeping the running config", err.msg);
		snprintf(msg, cap, "%s; the running config stays", err.msg);
		goto out;
	}
	apply_log_level(&c);
	needs_restart(st->agent, st->running, &c, what);
	fill_cfg(&ac, &c);
	if (agent_reconfigure(st->agent, &ac, &err) < 0) {
		rg_log(RG_LOG_WARN, "reload: %s; keeping the running settings it names", err.msg);
		snprintf(msg, cap, "%s; the running settings it names stay", err.msg);
		goto out;
	}
	ret = 0;
	/* The file's exit node, when the file changed it (riftgate set --exit-node stays until
	 * then); an --exit-node on the command line keeps winning. */
	if (!st->exit_from_cli && !same(st->exit_node, c.exit_node)) {
		err = (struct rg_err){ 0 };
		if (agent_select_exit(st->agent, c.exit_node, &err) < 0) {
			rg_log(RG_LOG_WARN, "reload: exit node: %s", err.msg);
			snprintf(msg, cap, "exit node: %s", err.msg);
			ret = -1;
			goto out;
		} else {
			g_free(st->exit_node);
			st->exit_node = g_strdup(c.exit_node);
		}
	}
	if (what[0])
		snprintf(msg, cap, "config reloaded; %s changed: that takes 'riftgate down' and 'up' "
			 "(running with the old value)", what);
	else
		snprintf(msg, cap, "config reloaded");
	rg_log(RG_LOG_DEBUG, "reload: %s applied", st->config);
out:
	if (st->log_path[0])	/* a reload also rotates the detached log when it is past its cap */
		on_log_check(st);
	rg_memzero(ac.private_key, sizeof(ac.private_key));
	conf_clear(&c);
	cli_notify(ret == 0 ? "READY=1\nSTATUS=up (config reloaded)" :
		   "READY=1\nSTATUS=up (reload refused, the running config stays: see the log)");
	return ret;
}

/* SIGHUP: the reload's outcome is in the log. */
static gboolean on_reload(gpointer data)
{
	char msg[512];

	reload_config(data, msg, sizeof(msg));
	return G_SOURCE_CONTINUE;
}

/* `riftgate reload` (control socket, root only): the outcome also goes back to the caller. */
static int on_ctl_reload(void *opaque, char *msg, size_t cap)
{
	struct up_state *st = opaque;

	if (!st->agent) {
		snprintf(msg, cap, "the agent is still starting");
		return -1;
	}
	return reload_config(st, msg, cap);
}

/* The detached log is the agent's stderr: past UP_LOG_MAX_BYTES it moves to IFNAME.log.1 and
 * a fresh file takes its place (one old generation kept). */
static gboolean on_log_check(gpointer data)
{
	struct up_state *st = data;
	char old[sizeof(st->log_path) + 2];
	struct stat sb;
	int fd;

	if (fstat(STDERR_FILENO, &sb) < 0 || sb.st_size < UP_LOG_MAX_BYTES)
		return G_SOURCE_CONTINUE;
	snprintf(old, sizeof(old), "%s.1", st->log_path);
	if (rename(st->log_path, old) < 0)
		return G_SOURCE_CONTINUE;
	fd = open(st->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	rg_log(RG_LOG_INFO, "log rotated (previous part: %s)", old);
	return G_SOURCE_CONTINUE;
}

/* Raises the soft descriptor limit to the hard one (a login shell's 1024 holds a few hundred
 * peers), then warns when even that is short of max_peers peers on this host. */
static void check_nofile(const struct conf *c)
{
	struct net_hostaddr_filter f = { .own_ifname = c->interface };
	char addrs[RTC_MAX_LOCAL_ADDRS][INET6_ADDRSTRLEN];
	unsigned long long per, need, fit;
	struct rlimit rl;
	size_t n_addrs;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return;
	f.exclude = conf_exclude_interfaces(c, &f.n_exclude);
	n_addrs = MAX(net_hostaddrs(&f, addrs, RTC_MAX_LOCAL_ADDRS), (size_t)1);
	per = n_addrs + UP_FDS_PER_TURN * c->n_turn + UP_FDS_PER_PEER_FIXED;
	need = UP_FDS_BASE + per * c->max_peers;
	fit = rl.rlim_cur > UP_FDS_BASE ? (rl.rlim_cur - UP_FDS_BASE) / per : 0;
	if (rl.rlim_cur < need)
		rg_log(RG_LOG_WARN, "open file limit %llu is short of what max_peers is %u may take "
		       "here: about %llu descriptors (%llu a peer: %zu local address%s, %zu TURN "
		       "server%s); about %llu peers fit. Raise LimitNOFILE= (ulimit -n) or lower "
		       "[network] max_peers", (unsigned long long)rl.rlim_cur, c->max_peers, need,
		       per, n_addrs, n_addrs == 1 ? "" : "es", c->n_turn, c->n_turn == 1 ? "" : "s",
		       fit);
	else
		rg_log(RG_LOG_DEBUG, "open file limit %llu: %u peers take at most about %llu",
		       (unsigned long long)rl.rlim_cur, c->max_peers, need);
}

/* Under systemd: STATUS= follows the mesh (`systemctl status` shows the line). */
static gboolean on_status_tick(gpointer data)
{
	struct up_state *st = data;
	unsigned up, total;
	bool hub;
	char msg[160];

	agent_peer_counts(st->agent, &up, &total, &hub);
	snprintf(msg, sizeof(msg), "STATUS=up, %u/%u peer%s connected, hub %s", up, total,
		 total == 1 ? "" : "s", hub ? "connected" : "unreachable (retrying)");
	cli_notify(msg);
	return G_SOURCE_CONTINUE;
}

/* Runs the loop until the hub answered, rejected us, or UP_HUB_WAIT_MS passed. */
static void wait_for_hub(struct agent *a, struct up_state *st)
{
	gint64 deadline = g_get_monotonic_time() + UP_HUB_WAIT_MS * 1000;
	guint tick = g_timeout_add(100, on_wait_tick, st->loop);

	while (!st->stopped && !agent_hub_ever_connected(a) && g_get_monotonic_time() < deadline) {
		const struct rg_err *he = agent_hub_error(a);

		if (he && he->code)
			break;
		g_main_loop_run(st->loop);
	}
	g_source_remove(tick);
}

/* Daemon handshake: the child writes "0message" (ready) or "1message" (failed) to the pipe. */
static void report(int fd, bool ok, const char *msg)
{
	char buf[1100];
	int n;

	if (fd < 0) {
		if (msg && msg[0])
			fprintf(stderr, "%s: %s\n", rg_prog, msg);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%c%s", ok ? '0' : '1', msg ? msg : "");
	if (n > 0 && write(fd, buf, (size_t)MIN(n, (int)sizeof(buf) - 1)) < 0)
		return;
}

/* Parent side: waits for the child's report and mirrors it. */
static int wait_child(int fd)
{
	char buf[1100];
	ssize_t n, off = 0;

	while (off < (ssize_t)sizeof(buf) - 1) {
		n = read(fd, buf + off, sizeof(buf) - 1 - (size_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	if (off == 0) {
		fprintf(stderr, "%s: the agent exited during startup\n", rg_prog);
		return 1;
	}
	if (buf[1])
		fprintf(stderr, "%s: %s\n", rg_prog, buf + 1);
	return buf[0] == '0' ? 0 : 1;
}

static void to_log_file(const char *ifname, char path[static 128])
{
	char old[140];
	int fd, nul;

	path[0] = '\0';
	if (agent_ctl_path(path, 128, ifname) == 0) {
		char *dot = strrchr(path, '.');

		if (dot && (size_t)(dot - path) + 5 < 128)
			memcpy(dot, ".log", 5);
		else
			path[0] = '\0';
	}
	if (path[0]) {
		char *slash = strrchr(path, '/');

		*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			path[0] = '\0';
		else
			*slash = '/';
	}
	/* Each run starts a new file; the previous run's stays as IFNAME.log.1. */
	snprintf(old, sizeof(old), "%s.1", path);
	if (path[0])
		rename(path, old);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	fd = path[0] ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600) : -1;
	if (fd < 0)
		path[0] = '\0';
	if (nul >= 0) {
		dup2(nul, STDIN_FILENO);
		dup2(fd >= 0 ? fd : nul, STDOUT_FILENO);
		dup2(fd >= 0 ? fd : nul, STDERR_FILENO);
	}
	if (fd >= 0)
		close(fd);
	if (nul >= 0)
		close(nul);
}

int cmd_up(int argc, char **argv)
{
	const char *config = NULL, *exit_node = NULL;
	bool foreground = false;
	char defpath[CLI_PATH_MAX];
	struct conf c = { 0 };
	struct agent_cfg ac = { 0 };
	struct up_state st = { 0 };
	struct rg_err err = { 0 };
	struct agent *a = NULL;
	int pipefd[2] = { -1, -1 };
	int rfd = -1, ret = 1, verbose = 0;
	enum rg_log_level level = RG_LOG_INFO;
	bool level_given = false;
	guint sig_int = 0, sig_term = 0, sig_hup = 0, log_check = 0, status_tick = 0;
	bool announce = false;

	for (int i = 1; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config = argv[i] + 9;
		} else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			verbose++;
		} else if (strcmp(argv[i], "-vv") == 0) {
			verbose += 2;
		} else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
			const char *l = argv[++i];

			if (!rg_log_parse_level(l, &level)) {
				fprintf(stderr, "%s up: --log-level must be error, warning, info, debug "
					"or trace, got '%s'\n", rg_prog, l);
				return CMD_ERR;
			}
			level_given = true;
		} else if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--foreground") == 0) {
			foreground = true;
		} else if (strcmp(argv[i], "--exit-node") == 0 && i + 1 < argc) {
			exit_node = argv[++i];
		} else {
			fprintf(stderr, "%s up: %s '%s'\n", rg_prog,
				strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "--log-level") == 0 ||
				strcmp(argv[i], "--exit-node") == 0 ? "missing the value of" :
				argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
			usage(stderr);
			return CMD_USAGE;
		}
	}
	if (verbose)
		rg_log_set_level(MIN(rg_log_threshold + verbose, RG_LOG_TRACE));
	if (level_given)
		rg_log_set_level(level);
	cli_log_level_given = cli_log_level_given || verbose || level_given;
	if (geteuid() != 0) {
		fprintf(stderr, "%s: 'up' must run as root: it creates a TUN device and configures it "
			"(try: sudo %s up)\n", rg_prog, rg_prog);
		return 1;
	}
	if (!config) {
		if (cli_config_path_find(defpath, sizeof(defpath), &announce, &err) < 0) {
			fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
			return 1;
		}
		config = defpath;
	}
	if (conf_load(&c, config, &err) < 0) {
		fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
		return 1;
	}
	if (announce)
		fprintf(stderr, "%s: using %s\n", rg_prog, config);
	if (!cli_log_level_given && c.log_level_set)
		rg_log_set_level(c.log_level);
	{
		char *m = cli_network_mismatch(c.network_name, c.server_url);

		if (m)
			fprintf(stderr, "%s: warning: %s\n", rg_prog, m);
		g_free(m);
	}
	if (conf_server_url_insecure(c.server_url) && !c.allow_insecure_transport) {
		fprintf(stderr, "%s: %s: network.server_url %s is ws:// to a host that is not "
			"loopback: the auth token would cross the network in clear. Use wss://, or "
			"set allow_insecure_transport = true in [network]\n", rg_prog, config,
			c.server_url);
		goto out;
	}
	if (conf_server_url_insecure(c.server_url))
		fprintf(stderr, "%s: warning: %s is ws:// to a host that is not loopback: the auth "
			"token crosses the network in clear (allow_insecure_transport = true)\n",
			rg_prog, c.server_url);
	if (access("/dev/net/tun", R_OK | W_OK) < 0) {
		fprintf(stderr, "%s: /dev/net/tun is missing (%s): load the tun module "
			"(modprobe tun) or give the container the device\n", rg_prog,
			strerror(errno));
		goto out;
	}

	fill_cfg(&ac, &c);
	if (exit_node)		/* --exit-node wins over [network] exit_node; none: no exit */
		ac.exit_node = strcmp(exit_node, "none") ? exit_node : NULL;
	st.config = config;
	st.running = &c;
	st.exit_node = g_strdup(c.exit_node);
	st.exit_from_cli = exit_node != NULL;
	ac.reload = on_ctl_reload;
	ac.reload_opaque = &st;
	ac.network = c.network_name;
	ac.trust_config = config;
	{
		char anchor[PATH_MAX + 16];

		if (trust_store_path(anchor, sizeof(anchor) - 8, config) == 0 &&
		    (strcat(anchor, "/anchor"), access(anchor, F_OK) != 0))
			fprintf(stderr, "Note: network '%s' is not signed: the hub and anyone with the "
				"auth token can add or impersonate devices; peers show as "
				"'unverified' (docs/membership.md).\n", c.network_name);
	}

	if (!foreground) {
		pid_t pid;

		fflush(NULL);
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			fprintf(stderr, "%s: pipe: %s\n", rg_prog, strerror(errno));
			goto out;
		}
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "%s: fork: %s\n", rg_prog, strerror(errno));
			goto out;
		}
		if (pid > 0) {
			close(pipefd[1]);
			pipefd[1] = -1;
			ret = wait_child(pipefd[0]);
			pipefd[0] = -1;
			goto out;
		}
		close(pipefd[0]);
		pipefd[0] = -1;
		rfd = pipefd[1];
		pipefd[1] = -1;
		setsid();
		/* From here on the log goes to /run/riftgate/IFNAME.log; what the user must see
		 * travels through the pipe. */
		to_log_file(c.interface, st.log_path);
		cli_journal_tee(c.interface);	/* and to the journal, where journald runs */
	} else {
		cli_journal_use(c.interface);
	}
	signal(SIGPIPE, SIG_IGN);
	check_nofile(&c);
	st.loop = g_main_loop_new(NULL, FALSE);
	if (agent_new(&a, NULL, &ac, on_stop, &st, &err) < 0) {
		report(rfd, false, err.msg);
		goto out;
	}
	rg_memzero(ac.private_key, sizeof(ac.private_key));
	{
		/* Files of another user (sudo with the user's config) stay reachable: the config
		 * for SIGHUP, and the signed network's state directory next to it, where received
		 * revocations are persisted. */
		char tdir[PATH_MAX];
		struct stat cs;
		bool foreign = stat(config, &cs) == 0 && cs.st_uid != 0;
		bool foreign_state = trust_store_path(tdir, sizeof(tdir), config) == 0 &&
				     stat(tdir, &cs) == 0 && cs.st_uid != 0;

		if (cli_drop_privileges(foreign, foreign_state, &err) < 0) {
			report(rfd, false, err.msg);
			goto out;
		}
		rg_log(RG_LOG_DEBUG, "capabilities: CAP_NET_ADMIN%s%s only",
		       foreign ? ", CAP_DAC_READ_SEARCH (to re-read the config)" : "",
		       foreign_state ? ", CAP_DAC_OVERRIDE (to persist revocations)" : "");
	}
	sig_int = g_unix_signal_add(SIGINT, on_signal, &st);
	sig_term = g_unix_signal_add(SIGTERM, on_signal, &st);
	st.agent = a;
	sig_hup = g_unix_signal_add(SIGHUP, on_reload, &st);
	if (st.log_path[0])
		log_check = g_timeout_add_seconds(UP_LOG_CHECK_S, on_log_check, &st);
	if (getenv("NOTIFY_SOCKET"))
		status_tick = g_timeout_add_seconds(UP_STATUS_S, on_status_tick, &st);
	cli_notify("STATUS=interface up, connecting to the hub");
	agent_start(a);
	wait_for_hub(a, &st);
	if (!agent_hub_ever_connected(a)) {
		const struct rg_err *he = agent_hub_error(a);
		char msg[1024];

		if (he && he->code) {
			/* A rejected token will not fix itself: fail loudly, do not linger. */
			snprintf(msg, sizeof(msg), "%.200s (check [network] auth_token in %.256s)", he->msg,
				 config);
			/* In the foreground the agent has logged the error itself: add the hint. */
			if (rfd >= 0)
				report(rfd, false, msg);
			else
				rg_log(RG_LOG_INFO, "check [network] auth_token in %s", config);
			cli_notify("STATUS=the hub refused the token");
			goto out;
		}
		snprintf(msg, sizeof(msg), "warning: %s; %s is up and keeps retrying",
			 he ? he->msg : "hub not reachable yet", c.interface);
		if (rfd >= 0)
			report(rfd, true, msg);
		cli_notify("READY=1\nSTATUS=up, hub not reachable yet (retrying)");
	} else {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s is up (mtu %u), connected to %s", c.interface,
			 agent_mtu(a), c.server_url);
		if (rfd >= 0)
			report(rfd, true, msg);
		else
			rg_log(RG_LOG_INFO, "%s", msg);
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=up (mtu %u), connected to the hub",
			 agent_mtu(a));
		cli_notify(msg);
	}
	if (rfd >= 0) {
		close(rfd);
		rfd = -1;
	}
	if (!st.stopped)
		g_main_loop_run(st.loop);
	/* st.err was logged by the agent when it happened */
	rg_log(RG_LOG_INFO, "%s: going down", c.interface);
	cli_notify("STOPPING=1\nSTATUS=going down");
	ret = st.failed ? 1 : 0;
out:
	if (sig_int)
		g_source_remove(sig_int);
	if (sig_term)
		g_source_remove(sig_term);
	if (sig_hup)
		g_source_remove(sig_hup);
	if (log_check)
		g_source_remove(log_check);
	if (status_tick)
		g_source_remove(status_tick);
	agent_free(a);
	if (st.loop)
		g_main_loop_unref(st.loop);
	if (rfd >= 0)
		close(rfd);
	for (int i = 0; i < 2; i++)
		if (pipefd[i] >= 0)
			close(pipefd[i]);
	rg_memzero(ac.private_key, sizeof(ac.private_key));
	conf_clear(&c);
	g_free(st.exit_node);
	/* A clean stop leaves no log behind in /run (nor the old generation); a failure keeps
	 * its log for reading, until the next up moves it to IFNAME.log.1. */
	if (st.log_path[0] && ret == 0) {
		char old[sizeof(st.log_path) + 2];

		snprintf(old, sizeof(old), "%s.1", st.log_path);
		unlink(st.log_path);
		unlink(old);
	}
	return ret;
}
