/* riftgate-hub: the native signaling hub (docs/riftgate-hub.md). Parses flags, raises the fd
 * limit, runs src/hubd/server.c on the main loop, and shuts down gracefully (close frames
 * to every client) on SIGINT/SIGTERM/SIGHUP. */
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/version.h"
#include "hubd/limits.h"
#include "hubd/relay.h"
#include "hubd/server.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/err.h"
#include "util/log.h"

static const char usage[] =
	"usage: riftgate-hub [--addr HOST:PORT] [--token TOKEN] [--log-level LEVEL] [--relay ...]\n"
	"\n"
	"The riftgate signaling hub: peers join over WebSocket (ws://HOST:PORT/connect, or any\n"
	"path; /connect/NAME or ?network=NAME selects a separate network) and exchange\n"
	"offers, answers and ICE candidates through it.\n"
	"\n"
	"  -addr, --addr HOST:PORT   listen address (default :8080; port 0 picks a free port)\n"
	"  --token TOKEN             require 'Authorization: Bearer TOKEN' on the upgrade\n"
	"                            (default: $RIFTGATE_HUB_TOKEN; none = open hub)\n"
	"  --log-level LEVEL         error|warning|info|debug|trace (default info)\n"
	"  --trust-anchor KEY        signed network (docs/membership.md): admit a join only with a\n"
	"                            valid, unrevoked certificate for its peerId, key and address,\n"
	"                            signed by this network key (base64, from riftgate init\n"
	"                            --new-network); a seated peerId is never taken over\n"
	"  --trust-network NAME      the network id the certificates name (with --trust-anchor)\n"
	"  --revoked FILE            revocation records (the admin's NAME.trust/revoked), re-read\n"
	"                            when it changes\n"
	"  --trust-state FILE        keep the ticket bindings and key rotations seen in FILE\n"
	"                            (appended, read at start), so they survive a restart\n"
	"  --relay on|off            relay WireGuard datagrams between peers (default on)\n"
	"  --relay-rate BYTES        per sending socket, per second (default 8M; K/M/G suffixes)\n"
	"  --relay-burst BYTES       per sending socket (default 512K)\n"
	"  --relay-network-rate BYTES  per network, per second (default 32M)\n"
	"  --relay-network-burst BYTES per network (default 2M)\n"
	"  --relay-receive-rate BYTES  per receiving socket, shared fairly by its senders\n"
	"                            (default 8M)\n"
	"  --relay-receive-burst BYTES per receiving socket (default 512K)\n"
	"  --relay-daily BYTES       relayed bytes per network per UTC day (default 0 = no limit)\n"
	"  --metrics-addr HOST:PORT  serve /metrics only there (e.g. 127.0.0.1:9090)\n"
	"  --max-conns N             TCP connections in all (default 20000)\n"
	"  --max-conns-per-ip N      from one non-loopback address (default 64)\n"
	"  --join-timeout SECONDS    from the upgrade to a join (default 10)\n"
	"  --max-queue BYTES         queued to one socket; a slower reader is closed (default 1M)\n"
	"  --max-queue-total BYTES   queued to all sockets (default 256M)\n"
	"  --join-extra-max BYTES    unknown fields a join may carry to others (default 8K)\n"
	"  -h, --help                this text\n"
	"  -V, --version             version and git describe of the build\n"
	"\n"
	"HTTP: GET /healthz (ok), GET /metrics (Prometheus text).\n"
	"Exit codes: 0 ok, 1 error, 2 malformed command line.\n";

struct app {
	GMainLoop *loop;
	struct hubd_server *srv;
	uint64_t deadline_ns;
	bool stopping;
};

static gboolean drain_cb(gpointer data)
{
	struct app *a = data;

	if (hubd_server_open_count(a->srv) == 0 || rg_mono_ns() > a->deadline_ns) {
		g_main_loop_quit(a->loop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean signal_cb(gpointer data)
{
	struct app *a = data;

	if (a->stopping) {
		g_main_loop_quit(a->loop);	/* second signal: leave now */
		return G_SOURCE_CONTINUE;
	}
	a->stopping = true;
	rg_log(RG_LOG_INFO, "event=shutdown open=%d", hubd_server_open_count(a->srv));
	hubd_server_shutdown(a->srv);
	a->deadline_ns = rg_mono_ns() + 3ULL * RG_NSEC_PER_SEC;
	g_timeout_add(20, drain_cb, a);
	return G_SOURCE_CONTINUE;
}

/* 10k sockets need more than the usual 1024 descriptors. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			rg_log(RG_LOG_WARN, "cannot raise the open file limit: %m");
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 12000)
		rg_log(RG_LOG_WARN, "open file limit is %llu: fewer than 10k peers fit",
		       (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
	const char *addr = ":8080", *token = getenv("RIFTGATE_HUB_TOKEN");
	const char *anchor = NULL, *trust_net = NULL, *revoked = NULL, *state = NULL;
	struct hubd_server_cfg cfg;
	struct hub_relay_cfg relay;
	struct hubd_limits limits;
	const char *metrics_addr = NULL;
	struct rg_err err = { 0 };
	struct app a = { 0 };
	enum rg_log_level level;

	hub_relay_cfg_default(&relay);
	hubd_limits_default(&limits);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		const char *eq = strchr(arg, '=');
		size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help") || !strcmp(arg, "-help")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(arg, "-V") || !strcmp(arg, "--version")) {
			printf("riftgate-hub %s (%s)\n", RG_VERSION, RG_GIT_DESCRIBE);
			return 0;
		}
#define IS(name) (nlen == strlen(name) && !strncmp(arg, name, nlen))
		bool takes = IS("-addr") || IS("--addr") || IS("--token") || IS("-token") ||
			     IS("--log-level") || IS("--trust-anchor") || IS("--trust-network") ||
			     IS("--revoked") || IS("--trust-state") || IS("--metrics-addr") ||
			     hubd_relay_is_option(arg, nlen) || hubd_limits_is_option(arg, nlen);

		if (!takes) {
			fprintf(stderr, "riftgate-hub: unknown argument '%s'\n%s", arg, usage);
			return 2;
		}
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "riftgate-hub: %s needs a value\n", arg);
			return 2;
		}
		if (IS("-addr") || IS("--addr")) {
			addr = val;
		} else if (IS("--token") || IS("-token")) {
			token = val;
		} else if (IS("--trust-anchor")) {
			anchor = val;
		} else if (IS("--trust-network")) {
			trust_net = val;
		} else if (IS("--revoked")) {
			revoked = val;
		} else if (IS("--trust-state")) {
			state = val;
		} else if (IS("--metrics-addr")) {
			metrics_addr = val;
		} else if (hubd_limits_is_option(arg, nlen)) {
			if (hubd_limits_option(&limits, arg, nlen, val, &err)) {
				fprintf(stderr, "riftgate-hub: %s\n", err.msg);
				return 2;
			}
		} else if (hubd_relay_is_option(arg, nlen)) {
			if (hubd_relay_option(&relay, arg, nlen, val, &err)) {
				fprintf(stderr, "riftgate-hub: %s\n", err.msg);
				return 2;
			}
		} else if (!rg_log_parse_level(val, &level)) {
			fprintf(stderr, "riftgate-hub: --log-level must be error, warning, info, debug "
				"or trace, got '%s'\n", val);
			return 1;
		} else {
			rg_log_set_level(level);
		}
#undef IS
	}
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (!token || !*token)
		rg_log(RG_LOG_WARN, "no token set (--token or RIFTGATE_HUB_TOKEN): anyone can join");
	cfg = (struct hubd_server_cfg){ .addr = addr, .token = token, .relay = &relay,
					 .version = RG_VERSION, .revision = RG_GIT_DESCRIBE,
					 .trust_anchor = anchor, .trust_network = trust_net,
					 .revoked_file = revoked, .trust_state_file = state,
					 .limits = &limits,
					 .metrics_addr = metrics_addr };
	if ((trust_net || revoked || state) && !anchor) {
		fprintf(stderr, "riftgate-hub: --trust-network, --revoked and --trust-state need "
			"--trust-anchor\n");
		return 2;
	}
	if (hubd_server_new(&a.srv, &cfg, &err)) {
		fprintf(stderr, "riftgate-hub: %s\n", err.msg);
		return 1;
	}
	{
		const char *colon = strrchr(addr, ':');
		g_autofree char *host = colon ? g_strndup(addr, (gsize)(colon - addr)) : g_strdup("");

		rg_log(RG_LOG_INFO, "listening on %s:%u", *host ? host : "0.0.0.0",
		       hubd_server_port(a.srv));
	}
	if (metrics_addr)
		rg_log(RG_LOG_INFO, "metrics on %s (port %u)", metrics_addr,
		       hubd_server_metrics_port(a.srv));
	a.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGINT, signal_cb, &a);
	g_unix_signal_add(SIGTERM, signal_cb, &a);
	g_unix_signal_add(SIGHUP, signal_cb, &a);	/* a closed terminal: the same clean stop */
	g_main_loop_run(a.loop);
	rg_log(RG_LOG_INFO, "event=stopped open=%d", hubd_server_open_count(a.srv));
	hubd_server_free(a.srv);
	g_main_loop_unref(a.loop);
	return 0;
}
