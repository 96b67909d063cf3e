/* See resolved.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>

#include "agent/ctl.h"
#include "agent/resolved.h"
#include "util/log.h"
#include "util/prefix.h"

enum {
	RESOLVED_DOMAINS_MAX = 16,	/* zone, "~." and CONF_DNS_SEARCH_MAX search domains fit */
	RESOLVED_RETRY_MS = 500,	/* resolved has not seen the new link yet: ask again */
	RESOLVED_TRIES_MAX = 20,
	RESOLVED_REVERT_TIMEOUT_MS = 2000,	/* RevertLink when the agent stops */
};

#define RESOLVE1_NAME "org.freedesktop.resolve1"
#define RESOLVE1_PATH "/org/freedesktop/resolve1"
#define RESOLVE1_MANAGER "org.freedesktop.resolve1.Manager"

enum resolved_state { RS_PENDING, RS_REGISTERED, RS_UNAVAILABLE, RS_FAILED };

struct agent_resolved {
	GMainContext *ctx;		/* owned ref */
	GCancellable *cancel;		/* owned: cancelled by _free */
	GDBusConnection *bus;		/* owned private connection; NULL until connected */
	bool usable;			/* resolved is there and sees our links */
	char ifname[32];
	int ifindex;
	int stale_ifindex;		/* a crashed agent's registration to revert, 0 = none */
	char marker[256];		/* RUN_DIR/IFNAME.resolved while registered, "" = no path */
	/* what to register; have_settings false until agent_resolved_set() */
	bool have_settings;
	struct rg_prefix dns;
	char *domains[RESOLVED_DOMAINS_MAX];	/* owned */
	size_t n_domains;
	unsigned inflight;		/* our D-Bus operations not yet called back */
	unsigned ok;			/* of the two Set* calls of this round, the ones that succeeded */
	bool dirty;			/* settings changed while a round was in flight */
	bool sent;			/* something was sent: revert on free */
	bool logged;			/* the unavailable / failed line was logged */
	unsigned tries;
	guint retry_src;		/* owned GSource id, 0 = none */
	guint connect_src;		/* owned GSource id, 0 = none */
	enum resolved_state state;
	char why[192];
};

static void apply(struct agent_resolved *r);

static const char *state_str(enum resolved_state s)
{
	static const char *const names[] = {
		[RS_PENDING] = "pending", [RS_REGISTERED] = "registered",
		[RS_UNAVAILABLE] = "unavailable", [RS_FAILED] = "failed",
	};

	return names[s];
}

/* No resolved on this machine: the bus or the name is missing. */
static bool absent(const GError *e)
{
	g_autofree char *remote = g_dbus_error_get_remote_error(e);

	if (!remote)
		return e->domain != G_DBUS_ERROR || e->code == G_DBUS_ERROR_SERVICE_UNKNOWN ||
		       e->code == G_DBUS_ERROR_NAME_HAS_NO_OWNER ||
		       e->code == G_DBUS_ERROR_FILE_NOT_FOUND || e->code == G_DBUS_ERROR_NO_SERVER;
	return !strcmp(remote, "org.freedesktop.DBus.Error.ServiceUnknown") ||
	       !strcmp(remote, "org.freedesktop.DBus.Error.NameHasNoOwner") ||
	       !strcmp(remote, "org.freedesktop.systemd1.NoSuchUnit");
}

/* Once per failure, after the settings are known (dns.c has logged the resolvectl line). */
static void log_error(struct agent_resolved *r)
{
	if (r->logged || !r->have_settings ||
	    (r->state != RS_UNAVAILABLE && r->state != RS_FAILED))
		return;
	r->logged = true;
	if (r->state == RS_UNAVAILABLE)
		rg_log(RG_LOG_INFO, "%s: systemd-resolved not available (%s): to use the names on "
		       "this device, run the resolvectl line above", r->ifname, r->why);
	else
		rg_log(RG_LOG_WARN, "%s: systemd-resolved refused the link's DNS settings (%s): run "
		       "the resolvectl line above instead", r->ifname, r->why);
}

static void set_error(struct agent_resolved *r, GError *e)
{
	r->state = absent(e) ? RS_UNAVAILABLE : RS_FAILED;
	g_dbus_error_strip_remote_error(e);
	g_strlcpy(r->why, e->message, sizeof(r->why));
	log_error(r);
}

static gboolean retry_cb(gpointer data)
{
	struct agent_resolved *r = data;

	r->retry_src = 0;
	apply(r);
	return G_SOURCE_REMOVE;
}

/* One of the two Set* calls of a round answered. */
static void set_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	struct agent_resolved *r = data;
	g_autoptr(GError) e = NULL;
	GVariant *v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &e);

	if (v)
		g_variant_unref(v);
	r->inflight--;
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;			/* _free is waiting for us */
	if (e) {
		g_autofree char *remote = g_dbus_error_get_remote_error(e);

		/* a TUN created a moment ago may not be known to resolved yet */
		if (remote && !strcmp(remote, RESOLVE1_NAME ".NoSuchLink") &&
		    ++r->tries < RESOLVED_TRIES_MAX && !r->retry_src) {
			GSource *s = g_timeout_source_new(RESOLVED_RETRY_MS);

			g_source_set_callback(s, retry_cb, r, NULL);
			r->retry_src = g_source_attach(s, r->ctx);
			g_source_unref(s);
		} else if (!r->retry_src) {
			set_error(r, e);
		}
	} else if (++r->ok == 2) {
		r->state = RS_REGISTERED;
		r->why[0] = '\0';
		r->logged = false;
		/* best effort: without it a crash leaves the settings until the link goes away */
		if (r->marker[0]) {
			g_autofree char *idx = g_strdup_printf("%d\n", r->ifindex);

			(void)g_file_set_contents(r->marker, idx, -1, NULL);
		}
		rg_log(RG_LOG_INFO, "%s: DNS settings registered with systemd-resolved (link %d)",
		       r->ifname, r->ifindex);
	}
	if (!r->inflight && r->dirty && !r->retry_src)
		apply(r);
}

static GVariant *dns_arg(const struct agent_resolved *r)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a(iay)"));
	g_variant_builder_add(&b, "(i@ay)", r->dns.family,
			      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, r->dns.addr,
							r->dns.family == AF_INET ? 4 : 16, 1));
	return g_variant_new("(ia(iay))", r->ifindex, &b);
}

static GVariant *domains_arg(const struct agent_resolved *r)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sb)"));
	for (size_t i = 0; i < r->n_domains; i++) {
		bool routing = r->domains[i][0] == '~';

		g_variant_builder_add(&b, "(sb)", r->domains[i] + routing, routing);
	}
	return g_variant_new("(ia(sb))", r->ifindex, &b);
}

static void call(struct agent_resolved *r, const char *method, GVariant *args,
		 GAsyncReadyCallback cb)
{
	g_main_context_push_thread_default(r->ctx);
	g_dbus_connection_call(r->bus, RESOLVE1_NAME, RESOLVE1_PATH, RESOLVE1_MANAGER, method, args,
			       NULL, G_DBUS_CALL_FLAGS_NONE, -1, cb ? r->cancel : NULL, cb,
			       cb ? r : NULL);
	g_main_context_pop_thread_default(r->ctx);
	if (cb)
		r->inflight++;
}

/* Sends the settings (one round: SetLinkDNS, then SetLinkDomains on the same connection, so
 * resolved sees them in that order); a round already in flight finishes first. */
static void apply(struct agent_resolved *r)
{
	if (!r->usable || !r->have_settings)
		return;
	if (r->inflight) {
		r->dirty = true;
		return;
	}
	r->dirty = false;
	r->ok = 0;
	r->sent = true;
	if (r->state != RS_REGISTERED)
		r->state = RS_PENDING;
	call(r, "SetLinkDNS", dns_arg(r), set_cb);
	call(r, "SetLinkDomains", domains_arg(r), set_cb);
}

static void connected_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	struct agent_resolved *r = data;
	g_autoptr(GError) e = NULL;
	GDBusConnection *bus = g_dbus_connection_new_for_address_finish(res, &e);

	(void)src;
	r->inflight--;
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (!bus) {
		set_error(r, e);
		return;
	}
	r->bus = bus;
	r->usable = true;
	if (r->stale_ifindex) {
		/* before our own settings: the same connection keeps the order */
		rg_log(RG_LOG_INFO, "%s: reverting the systemd-resolved settings a previous agent "
		       "left on link %d", r->ifname, r->stale_ifindex);
		call(r, "RevertLink", g_variant_new("(i)", r->stale_ifindex), NULL);
		if (r->marker[0])
			(void)unlink(r->marker);
	}
	apply(r);
}

/* From the loop, so GDBus starts its threads after `up` dropped capabilities (capabilities are
 * per thread: one started before would keep them all). */
static gboolean connect_cb(gpointer data)
{
	struct agent_resolved *r = data;
	g_autoptr(GError) e = NULL;
	g_autofree char *addr = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &e);

	r->connect_src = 0;
	if (!addr) {
		set_error(r, e);
		return G_SOURCE_REMOVE;
	}
	/* a private connection: the shared one would raise SIGTERM in us when the bus goes */
	g_main_context_push_thread_default(r->ctx);
	g_dbus_connection_new_for_address(addr, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
					  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
					  r->cancel, connected_cb, r);
	g_main_context_pop_thread_default(r->ctx);
	r->inflight++;
	return G_SOURCE_REMOVE;
}

/* Interface indexes mean nothing in another network namespace: an agent in a namespace of its
 * own (a lab, `ip netns exec`) must not set DNS on the host link that has the same number. The
 * system bus's resolved runs in PID 1's namespace; where PID 1 cannot be looked at (a sandbox),
 * a namespace named in /run/netns (as `ip netns identify` finds it) is not the host's either. A
 * bus named in $DBUS_SYSTEM_BUS_ADDRESS is taken as the operator's choice. Read before
 * capabilities are dropped (PID 1's namespace needs them). */
static bool foreign_netns(void)
{
	struct stat self, other;
	GDir *dir;
	const char *name;
	bool foreign = false;

	if (getenv("DBUS_SYSTEM_BUS_ADDRESS") || stat("/proc/self/ns/net", &self) < 0)
		return false;
	if (stat("/proc/1/ns/net", &other) == 0)
		return other.st_dev != self.st_dev || other.st_ino != self.st_ino;
	if (!(dir = g_dir_open("/run/netns", 0, NULL)))
		return false;		/* cannot tell: assume the usual setup */
	while (!foreign && (name = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename("/run/netns", name, NULL);

		foreign = stat(path, &other) == 0 && other.st_dev == self.st_dev &&
			  other.st_ino == self.st_ino;
	}
	g_dir_close(dir);
	return foreign;
}

/* The ifindex a previous agent registered and did not revert (it crashed), 0 = none. */
static int stale_link(const char *marker)
{
	g_autofree char *text = NULL;
	char *end;
	long v;

	if (!marker[0] || !g_file_get_contents(marker, &text, NULL, NULL))
		return 0;
	v = strtol(text, &end, 10);
	return end != text && (*end == '\n' || !*end) && v > 0 && v < INT32_MAX ? (int)v : 0;
}

int agent_resolved_new(struct agent_resolved **out, GMainContext *ctx, const char *ifname,
		       int ifindex)
{
	struct agent_resolved *r = g_new0(struct agent_resolved, 1);
	char ctl[sizeof(r->marker)];
	size_t n;

	*out = r;
	r->ctx = g_main_context_ref(ctx);
	r->cancel = g_cancellable_new();
	g_strlcpy(r->ifname, ifname, sizeof(r->ifname));
	r->ifindex = ifindex;
	if (agent_ctl_path(ctl, sizeof(ctl), ifname) == 0 && (n = strlen(ctl)) > 4 &&
	    !strcmp(ctl + n - 4, ".ctl")) {
		ctl[n - 4] = '\0';
		snprintf(r->marker, sizeof(r->marker), "%s.resolved", ctl);
	}
	r->stale_ifindex = stale_link(r->marker);
	if (foreign_netns()) {
		r->state = RS_UNAVAILABLE;
		g_strlcpy(r->why, "the agent runs in another network namespace than the system's "
			  "systemd-resolved", sizeof(r->why));
		return 0;
	}
	{
		GSource *s = g_idle_source_new();

		g_source_set_callback(s, connect_cb, r, NULL);
		r->connect_src = g_source_attach(s, r->ctx);
		g_source_unref(s);
	}
	return 0;
}

void agent_resolved_set(struct agent_resolved *r, const struct rg_prefix *dns,
			const char *const *domains, size_t n_domains)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_domains; i++)
		g_free(r->domains[i]);
	r->n_domains = 0;
	for (size_t i = 0; i < n_domains && i < RESOLVED_DOMAINS_MAX; i++)
		r->domains[r->n_domains++] = g_strdup(domains[i]);
	r->dns = *dns;
	r->have_settings = true;
	r->tries = 0;
	log_error(r);
	apply(r);
}

void agent_resolved_free(struct agent_resolved *r)
{
	gint64 deadline;

	if (!r)
		return;
	if (r->retry_src)
		g_source_remove(r->retry_src);
	if (r->connect_src)
		g_source_remove(r->connect_src);
	/* Let the cancelled callbacks run (they touch only r->inflight), then undo. */
	g_cancellable_cancel(r->cancel);
	deadline = g_get_monotonic_time() + RESOLVED_REVERT_TIMEOUT_MS * 1000;
	while (r->inflight && g_get_monotonic_time() < deadline)
		if (!g_main_context_iteration(r->ctx, FALSE))
			g_usleep(1000);
	if (r->usable && r->sent) {
		g_autoptr(GError) e = NULL;
		g_autoptr(GVariant) v = g_dbus_connection_call_sync(r->bus, RESOLVE1_NAME,
			RESOLVE1_PATH, RESOLVE1_MANAGER, "RevertLink",
			g_variant_new("(i)", r->ifindex), NULL, G_DBUS_CALL_FLAGS_NONE,
			RESOLVED_REVERT_TIMEOUT_MS, NULL, &e);

		if (v) {
			rg_log(RG_LOG_INFO, "%s: DNS settings reverted in systemd-resolved", r->ifname);
			if (r->marker[0])
				(void)unlink(r->marker);
		} else if (r->state == RS_REGISTERED) {
			rg_log(RG_LOG_WARN, "%s: systemd-resolved: RevertLink failed: %s", r->ifname,
			       e->message);
		}
	}
	if (r->bus) {
		(void)g_dbus_connection_close_sync(r->bus, NULL, NULL);
		g_object_unref(r->bus);
	}
	g_object_unref(r->cancel);
	for (size_t i = 0; i < r->n_domains; i++)
		g_free(r->domains[i]);
	g_main_context_unref(r->ctx);
	g_free(r);
}

const char *agent_resolved_state(const struct agent_resolved *r, const char **why)
{
	*why = r ? r->why : "";
	return r ? state_str(r->state) : "";
}
