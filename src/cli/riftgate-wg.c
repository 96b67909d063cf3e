/* riftgate-wg IFNAME: a userspace WireGuard daemon over UDP, a drop-in for wireguard-go
 * (WG_QUICK_USERSPACE_IMPLEMENTATION=riftgate-wg wg-quick up ...). It creates the TUN and the
 * UAPI socket, then (unless -f) forks into the background so the caller can run `wg setconf`
 * at once; the engine is src/wgd/wgd.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/version.h"
#include "wgd/wgd.h"
#include "util/err.h"
#include "util/log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: riftgate-wg [options] IFNAME\n"
		"Userspace WireGuard over UDP; configure it with wg(8) or wg-quick(8).\n"
		"  -f, --foreground     stay in the foreground (also WG_PROCESS_FOREGROUND=1)\n"
		"  -m, --mtu N          TUN MTU (default %d)\n"
		"  -v, --verbose        debug logging (-vv: trace); also LOG_LEVEL=debug\n"
		"  -h, --help           this text\n"
		"  -V, --version        version and git describe of the build\n"
		"The UAPI socket is /var/run/wireguard/IFNAME.sock; removing it, SIGINT, SIGTERM or\n"
		"SIGHUP stop the daemon. Exit codes: 0 ok, 1 error, 2 malformed command line.\n",
		WGD_DEFAULT_MTU);
}

/* Parent waits for nothing: the device is fully up before the fork. */
static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);	/* not exit(): the child owns the socket file and the TUN */
	if (setsid() < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		if (fd != STDIN_FILENO)
			close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct wgd_config cfg = { 0 };
	const char *env = getenv("WG_PROCESS_FOREGROUND");
	bool foreground = env && !strcmp(env, "1");
	struct rg_err err = { 0 };
	enum rg_log_level level;
	struct wgd *d;
	int c, verbose = 0, ret;

	env = getenv("LOG_LEVEL");
	if (env && rg_log_parse_level(env, &level))
		rg_log_set_level(level);
	while ((c = getopt_long(argc, argv, "fm:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = true;
			break;
		case 'm': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end || v < 576 || v > 65535) {
				fprintf(stderr, "riftgate-wg: --mtu must be 576-65535, got '%s'\n",
					optarg);
				return 1;
			}
			cfg.mtu = (unsigned)v;
			break;
		}
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("riftgate-wg %s (%s)\n", RG_VERSION, RG_GIT_DESCRIBE);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		if (optind == argc)
			fputs("riftgate-wg: missing IFNAME\n", stderr);
		else
			fprintf(stderr, "riftgate-wg: unexpected argument '%s'\n", argv[optind + 1]);
		usage(stderr);
		return 2;
	}
	if (verbose)
		rg_log_set_level(verbose > 1 ? RG_LOG_TRACE : RG_LOG_DEBUG);
	cfg.ifname = argv[optind];
	ret = wgd_new(&d, &cfg, &err);
	if (ret < 0) {
		fprintf(stderr, "riftgate-wg: %s\n", err.msg);
		return 1;
	}
	if (!foreground && (ret = daemonize()) < 0) {
		fprintf(stderr, "riftgate-wg: cannot go to the background: %s\n", strerror(-ret));
		wgd_free(d);
		return 1;
	}
	ret = wgd_run(d, &err);
	wgd_free(d);
	if (ret < 0) {
		fprintf(stderr, "riftgate-wg: %s\n", err.msg);
		return 1;
	}
	return 0;
}
