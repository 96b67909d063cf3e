/* `riftgate status` and `riftgate down`: clients of the agent's control socket
 * (/run/riftgate/IFNAME.ctl, src/agent/ctl.h). `up` lives in up.c, invite/join in
 * invite-cmds.c. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "agent/ctl.h"
#include "agent/status.h"
#include "cli/cmds.h"
#include "util/clock.h"
#include "util/err.h"

/* g_ptr_array_sort hands the compare function pointers to the elements. */
static gint name_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The run directory exists but we may not list it (not root, not in the riftgate group). */
static bool run_dir_denied(void)
{
	char path[108];
	DIR *d;

	if (agent_ctl_path(path, sizeof(path), "x"))
		return false;
	*strrchr(path, '/') = '\0';
	d = opendir(path);
	if (d) {
		closedir(d);
		return false;
	}
	return errno == EACCES || errno == EPERM;
}

/* Interfaces with a control socket in the run directory, sorted. */
GPtrArray *cli_running_interfaces(void)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	char path[108];
	const char *dir;
	DIR *d;
	struct dirent *e;

	if (agent_ctl_path(path, sizeof(path), "x"))
		return names;
	*strrchr(path, '/') = '\0';
	dir = path;
	d = opendir(dir);
	if (!d)
		return names;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n > 4 && n - 4 <= AGENT_IFNAME_MAX && strcmp(e->d_name + n - 4, ".ctl") == 0)
			g_ptr_array_add(names, g_strndup(e->d_name, n - 4));
	}
	closedir(d);
	g_ptr_array_sort(names, name_cmp);
	return names;
}

static void usage_status(FILE *f)
{
	fprintf(f, "Usage: %s status [--json] [IFNAME]\n"
		   "Shows the mesh: peers, their state, ICE candidate pair and endpoint, last handshake,\n"
		   "transfer, RTT, and why the hub or a peer is not connected. Without IFNAME, every\n"
		   "running interface. --json prints one document, docs/status.schema.json, whatever\n"
		   "runs (exit status 1 when an interface did not answer or none runs).\n", rg_prog);
}

/* Text for one interface; 0, or 1 with the error on stderr. */
static int status_text(const char *ifname)
{
	struct rg_err err = { 0 };
	struct agent_status s;
	char *reply = NULL, *text;
	int r;

	r = agent_ctl_request(ifname, "status", 5000, &reply, &err);
	if (r == 0) {
		r = agent_status_from_json(&s, reply, strlen(reply), &err);
		g_free(reply);
	}
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
		return 1;
	}
	text = agent_status_format(&s, (int64_t)(rg_wall_ns() / RG_NSEC_PER_SEC));
	fputs(text, stdout);
	g_free(text);
	agent_status_clear(&s);
	return 0;
}

/* The JSON document for the named interfaces: an interface that does not answer is an entry
 * of "errors" (and on stderr), never a missing or different document. */
static int status_json(GPtrArray *names)
{
	struct agent_status_doc *d = agent_status_doc_new();
	char *out;
	int ret = names->len ? 0 : 1;

	for (guint i = 0; i < names->len; i++) {
		struct rg_err err = { 0 };
		char *reply = NULL;

		if (agent_ctl_request(names->pdata[i], "status", 5000, &reply, &err) < 0) {
			fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
			agent_status_doc_add_error(d, names->pdata[i], err.msg);
			ret = 1;
			continue;
		}
		agent_status_doc_add_reply(d, names->pdata[i], reply, strlen(reply));
		g_free(reply);
	}
	out = agent_status_doc_finish(d);
	fputs(out, stdout);
	putchar('\n');
	g_free(out);
	return ret;
}

int cmd_status(int argc, char **argv)
{
	const char *ifname = NULL;
	bool json = false;
	GPtrArray *names;
	bool denied = false;
	int ret = 0;

	for (int i = 1; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			usage_status(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (argv[i][0] == '-' || ifname) {
			fprintf(stderr, "%s %s: %s '%s'\n", rg_prog, argv[0],
				argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
			usage_status(stderr);
			return CMD_USAGE;
		} else {
			ifname = argv[i];
		}
	}
	if (ifname) {
		names = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(names, g_strdup(ifname));
	} else {
		names = cli_running_interfaces();
		denied = names->len == 0 && run_dir_denied();
	}
	if (names->len == 0 && denied) {
		char path[108];

		agent_ctl_path(path, sizeof(path), "x");
		*strrchr(path, '/') = '\0';
		fprintf(stderr, "%s: permission denied on %s: run as root, or as a member of the "
			"'%s' group to read status\n", rg_prog, path, AGENT_CTL_GROUP);
	} else if (names->len == 0) {
		fprintf(stderr, "%s: riftgate is not up (no control socket; run '%s up')\n", rg_prog,
			rg_prog);
	}
	if (json) {
		ret = status_json(names);
	} else {
		ret = names->len ? 0 : 1;
		for (guint i = 0; i < names->len; i++) {
			if (i)
				putchar('\n');
			ret |= status_text(names->pdata[i]);
		}
	}
	g_ptr_array_free(names, TRUE);
	return ret;
}

static void usage_down(FILE *f)
{
	fprintf(f, "Usage: %s down [IFNAME]\n"
		   "Stops the agent on IFNAME (default: the only running one): peers are told, the\n"
		   "interface is removed.\n", rg_prog);
}

int cmd_down(int argc, char **argv)
{
	struct rg_err err = { 0 };
	const char *ifname = NULL;
	char *reply = NULL, *name = NULL;
	char path[108];
	GPtrArray *names = NULL;
	const char *e;
	bool denied;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			usage_down(stdout);
			return 0;
		} else if (argv[i][0] == '-' || ifname) {
			fprintf(stderr, "%s %s: %s '%s'\n", rg_prog, argv[0],
				argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
			usage_down(stderr);
			return CMD_USAGE;
		} else {
			ifname = argv[i];
		}
	}
	if (!ifname) {
		names = cli_running_interfaces();
		denied = names->len == 0 && run_dir_denied();
		if (names->len != 1) {
			if (names->len == 0 && denied)
				fprintf(stderr, "%s: permission denied: only root may take riftgate "
					"down\n", rg_prog);
			else if (names->len == 0)
				fprintf(stderr, "%s: riftgate is not up\n", rg_prog);
			else
				fprintf(stderr, "%s: several interfaces are up; name one\n", rg_prog);
			goto out;
		}
		name = g_strdup(names->pdata[0]);
		ifname = name;
	}
	if (agent_ctl_request(ifname, "down", 5000, &reply, &err) < 0) {
		fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
		goto out;
	}
	/* {"ok":false,"error":"..."}: refused (not root); the text has no quotes inside */
	if (strstr(reply, "\"ok\":false")) {
		e = strstr(reply, "\"error\":\"");
		e = e ? e + 9 : "refused";
		fprintf(stderr, "%s: %s: %.*s\n", rg_prog, ifname, (int)strcspn(e, "\""), e);
		goto out;
	}
	/* The agent removes its socket last: wait for it so `down && up` works. */
	agent_ctl_path(path, sizeof(path), ifname);
	for (int i = 0; i < 150 && access(path, F_OK) == 0; i++)
		g_usleep(100 * 1000);
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "%s: %s did not stop within 15 s\n", rg_prog, ifname);
		goto out;
	}
	printf("%s: %s is down\n", rg_prog, ifname);
	ret = 0;
out:
	g_free(reply);
	g_free(name);
	if (names)
		g_ptr_array_free(names, TRUE);
	return ret;
}
