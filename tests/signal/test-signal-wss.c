/* The signaling client over wss:// against a local TLS hub with a self-signed certificate: the
 * system CA store must refuse it (reported as a disconnect, retried, never trusted).
 *
 * Its own binary because glib-networking's GnuTLS worker threads crash LeakSanitizer's
 * stop-the-world at exit; leak checking of the client code runs in test-signal-client. */
#include <glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <unistd.h>

#include "signal/client.h"
#include "util/err.h"

int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return 1;
}

static gboolean poll_until(gboolean (*cond)(gpointer), gpointer data, guint timeout_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!cond(data)) {
		if (g_get_monotonic_time() > end)
			return FALSE;
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(2000);
	}
	return TRUE;
}

static void drain(void)
{
	gint64 end = g_get_monotonic_time() + 200 * 1000;

	while (g_get_monotonic_time() < end) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(5000);
	}
}

struct peer {
	struct sig_client *c;
	char *id;
	GPtrArray *msgs;
	unsigned connected, disconnected;
	char *last_reason;
};

static void on_connected(struct sig_client *c, void *opaque)
{
	(void)c;
	((struct peer *)opaque)->connected++;
}

static void on_disconnected(struct sig_client *c, const char *reason, void *opaque)
{
	struct peer *p = opaque;

	(void)c;
	p->disconnected++;
	g_free(p->last_reason);
	p->last_reason = g_strdup(reason);
}

static const struct sig_client_ops peer_ops = {
	.connected = on_connected, .disconnected = on_disconnected,
};

static void peer_stop(struct peer *p)
{
	sig_client_free(p->c);
	g_ptr_array_unref(p->msgs);
	g_free(p->id);
	g_free(p->last_reason);
}

static gboolean disconnected_once(gpointer data)
{
	return ((struct peer *)data)->disconnected > 0;
}

static void big_ws_cb(SoupServer *server, SoupServerMessage *msg, const char *path,
		      SoupWebsocketConnection *ws, gpointer data)
{
	(void)server; (void)msg; (void)path; (void)ws; (void)data;
}

/* wss:// goes through TLS with the system CA store: a self-signed hub is refused (reported as a
 * disconnect and retried, not trusted and not a crash). */
static void test_wss_untrusted(void)
{
	g_autofree char *dir = g_dir_make_tmp("rg-wss-XXXXXX", NULL);
	g_autofree char *crt = g_build_filename(dir, "hub.crt", NULL);
	g_autofree char *key = g_build_filename(dir, "hub.key", NULL);
	const char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
			       "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
			       "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
			       "-keyout", key, "-out", crt, NULL };
	g_autoptr(GError) err = NULL;
	g_autoptr(GTlsCertificate) cert = NULL;
	SoupServer *srv;
	int status = -1;
	GSList *uris;
	struct peer a;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
			  G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL) ||
	    status != 0) {
		g_test_skip("openssl cannot make a test certificate");
		return;
	}
	cert = g_tls_certificate_new_from_files(crt, key, &err);
	g_assert_no_error(err);
	srv = soup_server_new("tls-certificate", cert, NULL);
	soup_server_add_websocket_handler(srv, NULL, NULL, NULL, big_ws_cb, NULL, NULL);
	g_assert_true(soup_server_listen_local(srv, 0, SOUP_SERVER_LISTEN_IPV4_ONLY |
					       SOUP_SERVER_LISTEN_HTTPS, &err));
	g_assert_no_error(err);
	uris = soup_server_get_uris(srv);
	guint16 port = (guint16)g_uri_get_port(uris->data);

	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	g_autofree char *url = g_strdup_printf("wss://127.0.0.1:%u/connect", port);
	struct sig_client_cfg cfg = { .url = url, .peer_id = "a", .public_key = "Ka",
				      .backoff_base_ms = 5000, .backoff_cap_ms = 5000 };
	struct rg_err e;

	memset(&a, 0, sizeof(a));
	a.id = g_strdup("a");
	a.msgs = g_ptr_array_new_with_free_func(g_free);
	g_assert_cmpint(sig_client_new(&a.c, NULL, &cfg, &peer_ops, &a, &e), ==, 0);
	sig_client_start(a.c);
	if (!poll_until(disconnected_once, &a, 15000))
		g_error("wss to a self-signed hub neither failed nor connected");
	g_test_message("refused: %s", a.last_reason);
	g_assert_cmpuint(a.connected, ==, 0);
	peer_stop(&a);
	drain();
	g_object_unref(srv);
	drain();
	unlink(crt);
	unlink(key);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/signal/wss/untrusted", test_wss_untrusted);
	return g_test_run();
}
