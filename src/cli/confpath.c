/* See confpath.h. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "cli/cmds.h"
#include "cli/confpath.h"
#include "conf/config.h"
#include "util/err.h"

/* $RIFTGATE_CONF_DIR moves CLI_ETC_DIR (tests). */
static const char *etc_dir(void)
{
	const char *d = getenv("RIFTGATE_CONF_DIR");

	return d && d[0] == '/' ? d : CLI_ETC_DIR;
}

int cli_config_path_new(char *buf, size_t cap, const char *ifname, struct rg_err *err)
{
	int n;

	if (geteuid() != 0)
		return conf_default_path(buf, cap, err);
	n = snprintf(buf, cap, "%s/%s.toml", etc_dir(), ifname ? ifname : CONF_DEFAULT_INTERFACE);
	if (n < 0 || (size_t)n >= cap)
		return rg_err_set(err, -ENAMETOOLONG, "config path too long");
	return 0;
}

/* The config `riftgate init` wrote for the user who ran sudo: their XDG default (sudo resets
 * the environment, so $HOME/.config of their passwd entry). */
static bool sudo_user_path(char *buf, size_t cap)
{
	const char *user = getenv("SUDO_USER");
	struct passwd *pw;
	int n;

	if (geteuid() != 0 || !user || !*user || !strcmp(user, "root") || !(pw = getpwnam(user)) ||
	    !pw->pw_dir || pw->pw_dir[0] != '/')
		return false;
	n = snprintf(buf, cap, "%s/.config/riftgate/config.toml", pw->pw_dir);
	return n > 0 && (size_t)n < cap;
}

int cli_config_path_find(char *buf, size_t cap, bool *announce, struct rg_err *err)
{
	char cand[3][CLI_PATH_MAX];
	size_t n = 0, len = 0;
	char looked[3 * CLI_PATH_MAX];

	*announce = false;
	if (sudo_user_path(cand[n], sizeof(cand[n])))
		n++;
	if (geteuid() == 0 && cli_config_path_new(cand[n], sizeof(cand[n]), NULL, err) == 0)
		n++;
	if (conf_default_path(cand[n], sizeof(cand[n]), err) == 0)
		n++;
	if (n == 0)
		return -ENOENT;
	looked[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (access(cand[i], F_OK) == 0) {
			if ((size_t)snprintf(buf, cap, "%s", cand[i]) >= cap)
				return rg_err_set(err, -ENAMETOOLONG, "config path too long");
			*announce = geteuid() == 0;
			return 0;
		}
		len += (size_t)snprintf(looked + len, sizeof(looked) - len, "%s%s",
					i ? ", " : "", cand[i]);
	}
	return rg_err_set(err, -ENOENT, "no config found (looked at %.600s); pass --config PATH%s",
			  looked, geteuid() == 0 ? ", or write one with 'riftgate init' (as root it "
			  "writes " CLI_ETC_DIR "/IFNAME.toml)" : " or run 'riftgate init'");
}

int cli_config_load(struct conf *c, const char **path, char *buf, size_t cap, struct rg_err *err)
{
	bool announce = false;
	int ret;

	if (!*path) {
		ret = cli_config_path_find(buf, cap, &announce, err);
		if (ret < 0)
			return ret;
		*path = buf;
	}
	ret = conf_load(c, *path, err);
	if (ret == 0 && announce)
		fprintf(stderr, "%s: using %s\n", rg_prog, *path);
	return ret;
}

void cli_url_network(const char *url, char *out, size_t cap, bool *bare)
{
	const char *p = strstr(url, "://"), *q, *end;
	size_t n;

	*bare = false;
	snprintf(out, cap, "default");
	if (!p)
		return;
	p = strchr(p + 3, '/');
	q = strchr(url, '?');
	if (p && q && q < p)
		p = NULL;	/* "ws://h?network=x": no path */
	if (p && g_str_has_prefix(p, "/connect/") && p[9] && p[9] != '?') {
		p += 9;
		end = p + strcspn(p, "?/#");
		n = (size_t)(end - p);
		snprintf(out, cap, "%.*s", (int)n, p);
		return;
	}
	if (q && (q = strstr(q, "network=")) && (q[-1] == '?' || q[-1] == '&')) {
		q += 8;
		n = strcspn(q, "&#");
		snprintf(out, cap, "%.*s", (int)n, q);
		return;
	}
	n = p ? strcspn(p, "?#") : 0;
	*bare = !q && (n == 0 || (n == 1 && p[0] == '/') || (n == 8 && !strncmp(p, "/connect", 8)) ||
		       (n == 9 && !strncmp(p, "/connect/", 9)));
}

/* "ws://host:port" of url, then "/connect/NAME". */
static char *url_for(const char *url, const char *name)
{
	const char *h = strstr(url, "://");
	size_t n = h ? (size_t)(h + 3 - url) + strcspn(h + 3, "/?#") : strlen(url);

	return g_strdup_printf("%.*s/connect/%s", (int)n, url, name);
}

char *cli_network_mismatch(const char *name, const char *url)
{
	g_autofree char *want = NULL;
	char net[80];
	bool bare;

	cli_url_network(url, net, sizeof(net), &bare);
	if (!name || strcmp(name, net) == 0 ||
	    (strcmp(net, "default") == 0 && strcmp(name, CLI_DEFAULT_NETWORK) == 0))
		return NULL;
	want = url_for(url, name);
	if (strcmp(net, "default") == 0)
		return g_strdup_printf("[network] name '%s' is not sent to the hub: %s joins the "
				       "hub's default network (for a network named '%s', "
				       "server_url = \"%s\")", name, url, name, want);
	return g_strdup_printf("[network] name '%s' differs from the network '%s' that "
			       "server_url selects; the hub uses '%s'", name, net, net);
}

char *cli_url_with_network(const char *url, const char *name)
{
	char net[80];
	bool bare;

	cli_url_network(url, net, sizeof(net), &bare);
	return bare ? url_for(url, name) : NULL;
}
