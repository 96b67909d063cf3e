/* The hub connection's proxy comes from the environment (signal/proxy.h): numbered cases of
 * environment -> the proxy looked up for a URI; and a hub client never loads GIO's proxy
 * modules (libproxy, GNOME's with dconf), which GLib's default resolver would. */
#include <string.h>

#include <glib.h>
#include <gio/gio.h>

#include "signal/client.h"
#include "signal/proxy.h"
#include "util/err.h"

static const char *const vars[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
				    "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY" };

struct proxy_case {
	const char *env[4];	/* NAME=value */
	const char *uri;
	const char *want;
};

static void test_env(void)
{
	static const struct proxy_case cases[] = {
		/* 1 */ { { NULL }, "http://hub.example.com:8080/", "direct://" },
		/* 2 */ { { "http_proxy=http://p:3128" }, "http://hub.example.com/", "http://p:3128" },
		/* 3 */ { { "http_proxy=http://p:3128" }, "https://hub.example.com/", "direct://" },
		/* 4 */ { { "https_proxy=http://s:3128" }, "https://hub.example.com/", "http://s:3128" },
		/* 5 */ { { "HTTPS_PROXY=http://s:3128" }, "https://hub.example.com/", "http://s:3128" },
		/* 6 */ { { "HTTP_PROXY=http://p:3128" }, "http://hub.example.com/", "direct://" },
		/* 7 */ { { "all_proxy=socks5://a:1080" }, "https://hub.example.com/", "socks5://a:1080" },
		/* 8 */ { { "ALL_PROXY=socks5://a:1080", "http_proxy=http://p:3128" },
			  "http://hub.example.com/", "http://p:3128" },
		/* 9 */ { { "https_proxy=http://s:3128", "no_proxy=localhost, .example.com" },
			  "https://hub.example.com/", "direct://" },
		/* 10 */ { { "https_proxy=http://s:3128", "NO_PROXY=.example.com" },
			   "https://hub.example.org/", "http://s:3128" },
		/* 11 */ { { "https_proxy=http://s:3128", "no_proxy=10.0.0.0/8" },
			   "https://10.1.2.3:8443/", "direct://" },
		/* 12 */ { { "https_proxy=http://s:3128", "all_proxy=socks5://a:1", "no_proxy=*" },
			   "https://hub.example.org/", "direct://" },
		/* 13 */ { { "https_proxy=" }, "https://hub.example.com/", "direct://" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct proxy_case *c = &cases[i];
		g_autoptr(GError) e = NULL;
		g_auto(GStrv) got = NULL;
		GProxyResolver *r;

		for (size_t v = 0; v < G_N_ELEMENTS(vars); v++)
			g_unsetenv(vars[v]);
		for (size_t k = 0; k < G_N_ELEMENTS(c->env) && c->env[k]; k++) {
			g_auto(GStrv) kv = g_strsplit(c->env[k], "=", 2);

			g_setenv(kv[0], kv[1], TRUE);
		}
		r = sig_proxy_resolver_from_env();
		if (!r) {	/* no proxy named: direct */
			if (strcmp(c->want, "direct://") != 0)
				g_error("case %zu: no resolver, want %s", i + 1, c->want);
			continue;
		}
		got = g_proxy_resolver_lookup(r, c->uri, NULL, &e);
		g_assert_no_error(e);
		if (g_strv_length(got) != 1 || strcmp(got[0], c->want) != 0)
			g_error("case %zu: %s -> %s, want %s", i + 1, c->uri, got[0], c->want);
		g_object_unref(r);
	}
	for (size_t v = 0; v < G_N_ELEMENTS(vars); v++)
		g_unsetenv(vars[v]);
}

static void on_disconnected(struct sig_client *c, const char *reason, void *opaque)
{
	(void)c;
	(void)reason;
	(*(int *)opaque)++;
}

/* A hub client tries a connection (to a closed port) and GIO's proxy modules stay out of the
 * process: their shared objects are not mapped and dconf's thread never started. */
static void test_no_gio_modules(void)
{
	static const struct sig_client_ops ops = { .disconnected = on_disconnected };
	static const char *const modules[] = { "libgiolibproxy", "libgiognomeproxy",
					       "libdconfsettings", "libproxy.so" };
	struct sig_client_cfg cfg = { .url = "ws://127.0.0.1:1/", .peer_id = "p",
				      .public_key = "pAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
				      .backoff_base_ms = 10000, .backoff_cap_ms = 10000 };
	struct rg_err err = { 0 };
	g_autofree char *maps = NULL;
	struct sig_client *c;
	int down = 0;
	GDir *d;
	const char *t;

	g_assert_cmpint(sig_client_new(&c, NULL, &cfg, &ops, &down, &err), ==, 0);
	sig_client_start(c);
	while (!down)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(g_file_get_contents("/proc/self/maps", &maps, NULL, NULL));
	for (size_t i = 0; i < G_N_ELEMENTS(modules); i++)
		if (strstr(maps, modules[i]))
			g_error("%s is mapped", modules[i]);
	d = g_dir_open("/proc/self/task", 0, NULL);
	g_assert_nonnull(d);
	while ((t = g_dir_read_name(d))) {
		g_autofree char *path = g_strdup_printf("/proc/self/task/%s/comm", t);
		g_autofree char *comm = NULL;

		if (g_file_get_contents(path, &comm, NULL, NULL))
			g_assert_null(strstr(comm, "dconf"));
	}
	g_dir_close(d);
	sig_client_free(c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/signal/proxy/env", test_env);
	g_test_add_func("/signal/proxy/no-gio-modules", test_no_gio_modules);
	return g_test_run();
}
