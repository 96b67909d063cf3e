/* The agent's control socket: /run/riftgate/IFNAME.ctl. Without a `riftgate` group: directory
 * 0700, socket 0600, root only. With it: directory 0750 and socket 0660, group riftgate, and
 * the agent checks each client's SO_PEERCRED: root may send any command, anyone else only the
 * read-only ones (agent_ctl_read_only: "status"); others get {"ok":false,"error":...}.
 * Protocol: the client connects, writes one command line ("status" or "down"), and reads the
 * reply, a JSON object, until the agent closes the connection. One request per connection.
 * `riftgate status` and `riftgate down` are the clients; the agent serves on its GLib loop.
 * The directory can be moved with $RIFTGATE_RUN_DIR and the group named with
 * $RIFTGATE_CTL_GROUP (tests). */
#ifndef RG_AGENT_CTL_H
#define RG_AGENT_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

struct rg_err;

#define AGENT_CTL_GROUP "riftgate"

/* Commands a non-root member of the status group may send. A new read-only command (status,
 * diagnostics) is added to the list in ctl.c. */
bool agent_ctl_read_only(const char *cmd);

enum agent_ctl_limits {
	AGENT_CTL_CMD_MAX = 512,	/* bytes of a command line ("revoke BASE64" fits) */
	AGENT_CTL_REPLY_MAX = 1 << 20,	/* bytes a client accepts */
	AGENT_CTL_CLIENTS_MAX = 16,	/* connections served at once */
	AGENT_CTL_TIMEOUT_MS = 5000,	/* a client that says nothing is dropped */
};

/* Handles one command; returns the g_malloc'd JSON reply (never NULL). Agent loop only. */
typedef char *(*agent_ctl_handler)(void *opaque, const char *cmd);

struct agent_ctl_client;

struct agent_ctl {
	GMainContext *ctx;		/* not owned */
	agent_ctl_handler handler;
	void *opaque;			/* handler's, not owned */
	int fd;				/* listening socket, -1 = closed */
	guint src;			/* owned GSource id of the listener */
	char path[108];			/* sun_path */
	GList *clients;			/* owned struct agent_ctl_client * */
};

/* Writes the socket path for ifname into out; -ENAMETOOLONG when it does not fit. */
int agent_ctl_path(char *out, size_t cap, const char *ifname);

/* Creates the run directory (0700) and listens. A live agent already answering on the path is
 * -EADDRINUSE ("riftgate is already up on IFNAME"); a stale socket file is replaced. */
int agent_ctl_open(struct agent_ctl *c, GMainContext *ctx, const char *ifname,
		   agent_ctl_handler handler, void *opaque, struct rg_err *err);
/* Stops listening, drops clients, removes the socket file. Safe on a zeroed or closed struct. */
void agent_ctl_close(struct agent_ctl *c);

/* Client: sends cmd to the agent on ifname and returns its reply (g_free). -ENOENT/-ECONNREFUSED
 * when no agent runs there (err says "riftgate is not up on IFNAME"), -EACCES when not root,
 * -ETIMEDOUT. Blocking, with timeout_ms for the whole exchange. */
int agent_ctl_request(const char *ifname, const char *cmd, int timeout_ms, char **reply,
		      struct rg_err *err);

#endif
