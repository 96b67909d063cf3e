/* A stand-in for systemd-resolved's org.freedesktop.resolve1.Manager, for e2e-names: it owns
 * org.freedesktop.resolve1 on the bus at ADDRESS (a private dbus-daemon the test starts) and
 * writes one line per call to LOG, so the test can assert the exact calls and arguments:
 *	SetLinkDNS IFINDEX FAMILY:ADDRESS ...
 *	SetLinkDomains IFINDEX DOMAIN ...	(a routing-only domain is written "~DOMAIN")
 *	RevertLink IFINDEX
 *	OTHER METHOD (ARGS)			(any other method, in GVariant text form)
 * The first NO_SUCH_LINK Set* calls (default 0) fail with org.freedesktop.resolve1.NoSuchLink,
 * as resolved answers before it has seen a new link. "ready" is written when the name is owned.
 * Usage: fake-resolved ADDRESS LOG [NO_SUCH_LINK] */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

static const char introspection[] =
	"<node><interface name='org.freedesktop.resolve1.Manager'>"
	"<method name='SetLinkDNS'><arg type='i' direction='in'/>"
	"<arg type='a(iay)' direction='in'/></method>"
	"<method name='SetLinkDomains'><arg type='i' direction='in'/>"
	"<arg type='a(sb)' direction='in'/></method>"
	"<method name='SetLinkDefaultRoute'><arg type='i' direction='in'/>"
	"<arg type='b' direction='in'/></method>"
	"<method name='RevertLink'><arg type='i' direction='in'/></method>"
	"</interface></node>";

static FILE *out;
static int no_such_link;

static void emit(const char *line)
{
	fprintf(out, "%s\n", line);
	fflush(out);
}

static void method_call(GDBusConnection *c, const char *sender, const char *path,
			const char *iface, const char *method, GVariant *args,
			GDBusMethodInvocation *inv, gpointer data)
{
	GString *line = g_string_new(method);
	gint32 ifindex;

	(void)c, (void)sender, (void)path, (void)iface, (void)data;
	if (!strcmp(method, "SetLinkDNS")) {
		GVariantIter *it;
		gint32 family;
		GVariant *addr;

		g_variant_get(args, "(ia(iay))", &ifindex, &it);
		g_string_append_printf(line, " %d", ifindex);
		while (g_variant_iter_next(it, "(i@ay)", &family, &addr)) {
			gsize n;
			const void *b = g_variant_get_fixed_array(addr, &n, 1);
			char text[INET6_ADDRSTRLEN] = "?";

			if ((family == AF_INET && n == 4) || (family == AF_INET6 && n == 16))
				inet_ntop(family, b, text, sizeof(text));
			g_string_append_printf(line, " %d:%s", family, text);
			g_variant_unref(addr);
		}
		g_variant_iter_free(it);
	} else if (!strcmp(method, "SetLinkDomains")) {
		GVariantIter *it;
		const char *name;
		gboolean routing;

		g_variant_get(args, "(ia(sb))", &ifindex, &it);
		g_string_append_printf(line, " %d", ifindex);
		while (g_variant_iter_next(it, "(&sb)", &name, &routing))
			g_string_append_printf(line, " %s%s", routing ? "~" : "", name);
		g_variant_iter_free(it);
	} else if (!strcmp(method, "RevertLink")) {
		g_variant_get(args, "(i)", &ifindex);
		g_string_append_printf(line, " %d", ifindex);
	} else {
		g_autofree char *text = g_variant_print(args, FALSE);

		g_string_printf(line, "OTHER %s %s", method, text);
	}
	emit(line->str);
	g_string_free(line, TRUE);
	if (g_str_has_prefix(method, "SetLink") && no_such_link > 0) {
		no_such_link--;
		g_dbus_method_invocation_return_dbus_error(inv, "org.freedesktop.resolve1.NoSuchLink",
							   "Link not known");
		return;
	}
	g_dbus_method_invocation_return_value(inv, NULL);
}

static void acquired(GDBusConnection *c, const char *name, gpointer data)
{
	(void)c, (void)name, (void)data;
	emit("ready");
}

static void lost(GDBusConnection *c, const char *name, gpointer data)
{
	(void)c, (void)data;
	fprintf(stderr, "fake-resolved: lost or could not own %s\n", name);
	exit(1);
}

int main(int argc, char **argv)
{
	static const GDBusInterfaceVTable vtable = { .method_call = method_call };
	GError *e = NULL;
	GDBusConnection *c;
	GDBusNodeInfo *info;
	GMainLoop *loop;

	if (argc < 3) {
		fprintf(stderr, "usage: fake-resolved ADDRESS LOG [NO_SUCH_LINK]\n");
		return 2;
	}
	out = fopen(argv[2], "a");
	no_such_link = argc > 3 ? atoi(argv[3]) : 0;
	c = g_dbus_connection_new_for_address_sync(argv[1],
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &e);
	if (!out || !c) {
		fprintf(stderr, "fake-resolved: %s\n", e ? e->message : argv[2]);
		return 1;
	}
	info = g_dbus_node_info_new_for_xml(introspection, &e);
	g_assert_no_error(e);
	g_dbus_connection_register_object(c, "/org/freedesktop/resolve1", info->interfaces[0],
					  &vtable, NULL, NULL, &e);
	g_assert_no_error(e);
	g_bus_own_name_on_connection(c, "org.freedesktop.resolve1", G_BUS_NAME_OWNER_FLAGS_NONE,
				     acquired, lost, NULL, NULL);
	loop = g_main_loop_new(NULL, FALSE);
	g_main_loop_run(loop);
	return 0;
}
