/* agent/turntls: the loopback TLS bridge against a GTlsServer on 127.0.0.1 (a thread serving one
 * connection: handshake, then echo). Certificates are made by openssl in a temp dir: a CA, a
 * server certificate for IP 127.0.0.1, one for DNS localhost, one for another name, a second CA.
 *   good:       bytes cross both ways, the TLS connection counts as verified
 *   dns name:   turns:localhost: the localhost certificate passes, the other name's does not
 *   other CA:   libnice's side is closed, the error says the issuer is not trusted
 *   wrong name: ... the name does not match
 *   bad config: ca_file unreadable, DTLS asked for: agent_turntls_new() fails and says why
 *   not ours:   a connection from another uid (65534) or another process of ours is refused
 *               (closed, nothing relayed); ours still works
 *   idle:       a bridged connection silent both ways for the idle time is closed; a busy one
 *               is kept */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "agent/turntls.h"
#include "util/err.h"

static char *dir;

static char *path_of(const char *name)
{
	return g_build_filename(dir, name, NULL);
}

static void sh(const char *cmd)
{
	gint status = -1;
	char *full = g_strdup_printf("cd '%s' && %s", dir, cmd);
	char *argv[] = { "/bin/sh", "-c", full, NULL };

	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
				   NULL, &status, NULL));
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_free(full);
}

static void make_pki(void)
{
	static const char *const ca =
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
		"-subj /CN=%s -addext basicConstraints=critical,CA:TRUE "
		"-addext keyUsage=critical,keyCertSign,cRLSign -keyout %s-key.pem -out %s.pem";
	static const char *const leaf =
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=%s "
		"-keyout %s-key.pem -out %s.csr && printf 'subjectAltName=%s\\n' > %s.ext && "
		"openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 1 "
		"-extfile %s.ext -out %s.pem";
	char *cmd;

	dir = g_dir_make_tmp("rg-turntls-XXXXXX", NULL);
	g_assert_nonnull(dir);
	cmd = g_strdup_printf(ca, "testca", "ca", "ca");
	sh(cmd);
	g_free(cmd);
	cmd = g_strdup_printf(ca, "otherca", "other", "other");
	sh(cmd);
	g_free(cmd);
	cmd = g_strdup_printf(leaf, "turn", "good", "good", "IP:127.0.0.1", "good", "good", "good",
			      "good");
	sh(cmd);
	g_free(cmd);
	cmd = g_strdup_printf(leaf, "turn", "name", "name", "DNS:turn.example.org", "name", "name",
			      "name", "name");
	sh(cmd);
	g_free(cmd);
	cmd = g_strdup_printf(leaf, "turn", "dns", "dns", "DNS:localhost", "dns", "dns", "dns", "dns");
	sh(cmd);
	g_free(cmd);
}

/* ---- one-connection TLS echo server on its own thread ---- */

struct server {
	GSocketListener *listener;
	GTlsCertificate *cert;
	guint16 port;
	GThread *thread;
	gint done;		/* atomic: the thread finished */
	gboolean handshake_ok;
};

static gpointer serve_one(gpointer data)
{
	struct server *s = data;
	GSocketConnection *conn = g_socket_listener_accept(s->listener, NULL, NULL, NULL);
	GIOStream *tls = NULL;
	char buf[4096];
	gssize n;

	if (conn)
		tls = g_tls_server_connection_new(G_IO_STREAM(conn), s->cert, NULL);
	if (tls && g_tls_connection_handshake(G_TLS_CONNECTION(tls), NULL, NULL)) {
		s->handshake_ok = TRUE;
		while ((n = g_input_stream_read(g_io_stream_get_input_stream(tls), buf, sizeof(buf),
						NULL, NULL)) > 0)
			if (!g_output_stream_write_all(g_io_stream_get_output_stream(tls), buf,
						       (gsize)n, NULL, NULL, NULL))
				break;
	}
	if (tls) {
		g_io_stream_close(tls, NULL, NULL);
		g_object_unref(tls);
	}
	g_clear_object(&conn);
	g_atomic_int_set(&s->done, 1);
	return NULL;
}

static void server_start(struct server *s, const char *leaf)
{
	char *cert = g_strdup_printf("%s/%s.pem", dir, leaf);
	char *key = g_strdup_printf("%s/%s-key.pem", dir, leaf);
	GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	GSocketAddress *any = g_inet_socket_address_new(lo, 0), *bound = NULL;

	memset(s, 0, sizeof(*s));
	s->cert = g_tls_certificate_new_from_files(cert, key, NULL);
	g_assert_nonnull(s->cert);
	s->listener = g_socket_listener_new();
	g_assert_true(g_socket_listener_add_address(s->listener, any, G_SOCKET_TYPE_STREAM,
						    G_SOCKET_PROTOCOL_TCP, NULL, &bound, NULL));
	s->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
	s->thread = g_thread_new("tls-echo", serve_one, s);
	g_object_unref(bound);
	g_object_unref(any);
	g_object_unref(lo);
	g_free(key);
	g_free(cert);
}

static void server_stop(struct server *s)
{
	gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	/* the bridge closes its TLS side on the loop: run it until the server thread is done */
	while (!g_atomic_int_get(&s->done) && g_get_monotonic_time() < until)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	g_assert_true(g_atomic_int_get(&s->done));
	g_thread_join(s->thread);
	g_socket_listener_close(s->listener);
	g_object_unref(s->listener);
	g_object_unref(s->cert);
}

/* ---- libnice's side: a plain TCP client of the bridge ---- */

static guint16 local_port(const struct agent_turntls *t)
{
	const char *u = agent_turntls_local_url(t);
	unsigned port = 0;

	g_assert_true(g_str_has_prefix(u, "turn:127.0.0.1:"));
	g_assert_true(g_str_has_suffix(u, "?transport=tcp"));
	g_assert_cmpint(sscanf(u, "turn:127.0.0.1:%u?", &port), ==, 1);
	g_assert_cmpuint(port, >, 0);
	return (guint16)port;
}

static int client_connect(guint16 port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
	return fd;
}

/* Runs the loop until fd has want bytes (returns them in buf) or is closed (returns 0). */
static gssize client_read(int fd, char *buf, size_t want)
{
	gint64 until = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
	size_t got = 0;

	while (g_get_monotonic_time() < until) {
		ssize_t n = recv(fd, buf + got, want - got, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return 0;
		if (n > 0 && (got += (size_t)n) == want)
			return (gssize)got;
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
	g_assert_not_reached();
}

static const char *host = "127.0.0.1";	/* the host name in the turns: URL */

static struct agent_turntls *bridge_to(const struct server *s, const char *ca)
{
	char *url = g_strdup_printf("turns:%s:%u", host, s->port);
	char *ca_file = ca ? path_of(ca) : NULL;
	struct agent_turntls *t = NULL;
	struct rg_err err = { 0 };

	g_assert_cmpint(agent_turntls_new(&t, NULL, url, ca_file, &err), ==, 0);
	g_assert_cmpstr(agent_turntls_url(t), ==, url);
	g_free(ca_file);
	g_free(url);
	return t;
}

static void echo_through(const char *leaf)
{
	static const char msg[] = "\x00\x03 allocate, and a second message";
	char buf[sizeof(msg) - 1];
	struct agent_turntls *t;
	struct server s;
	int fd;

	server_start(&s, leaf);
	t = bridge_to(&s, "ca.pem");
	fd = client_connect(local_port(t));
	g_assert_cmpint(send(fd, msg, sizeof(msg) - 1, 0), ==, (ssize_t)sizeof(msg) - 1);
	g_assert_cmpint(client_read(fd, buf, sizeof(buf)), ==, (gssize)sizeof(buf));
	g_assert_cmpmem(buf, sizeof(buf), msg, sizeof(msg) - 1);
	g_assert_true(s.handshake_ok);
	g_assert_cmpuint(agent_turntls_ok_count(t), ==, 1);
	g_assert_cmpuint(agent_turntls_fail_count(t), ==, 0);
	g_assert_cmpstr(agent_turntls_error(t), ==, "");
	g_assert_cmpuint(agent_turntls_open(t), ==, 1);
	close(fd);			/* libnice hangs up: both sides close */
	server_stop(&s);
	/* the splice ends on the loop, possibly a turn after the server saw its side close */
	for (gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	     agent_turntls_open(t) && g_get_monotonic_time() < until;)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	g_assert_cmpuint(agent_turntls_open(t), ==, 0);
	agent_turntls_free(t);
}

static void refused(const char *leaf, const char *ca, const char *reason);

static void test_good(void)
{
	echo_through("good");
}

/* A DNS name in the URL: checked against the certificate's DNS names (and sent as SNI). */
static void test_dns_name(void)
{
	host = "localhost";
	echo_through("dns");
	refused("name", "ca.pem", "name does not match");
	host = "127.0.0.1";
}

static void refused(const char *leaf, const char *ca, const char *reason)
{
	char buf[16];
	struct agent_turntls *t;
	struct server s;
	int fd;

	server_start(&s, leaf);
	t = bridge_to(&s, ca);
	fd = client_connect(local_port(t));
	g_assert_cmpint(send(fd, "\x00\x03", 2, 0), ==, 2);
	g_assert_cmpint(client_read(fd, buf, sizeof(buf)), ==, 0);	/* closed, nothing relayed */
	g_assert_false(s.handshake_ok);
	g_assert_cmpuint(agent_turntls_ok_count(t), ==, 0);
	g_assert_cmpuint(agent_turntls_fail_count(t), ==, 1);
	g_test_message("error: %s", agent_turntls_error(t));
	g_assert_nonnull(strstr(agent_turntls_error(t), "TLS: certificate refused"));
	g_assert_nonnull(strstr(agent_turntls_error(t), reason));
	close(fd);
	server_stop(&s);
	agent_turntls_free(t);
}

static void test_other_ca(void)
{
	refused("good", "other.pem", "issuer not trusted");
}

static void test_system_store(void)
{
	refused("good", NULL, "issuer not trusted");	/* the test CA is in no system store */
}

static void test_wrong_name(void)
{
	refused("name", "ca.pem", "name does not match");
}

/* The bridge goes away with a connection open: nothing dangles (ASan), the fd is closed. */
static void test_free_while_open(void)
{
	char buf[4];
	struct agent_turntls *t;
	struct server s;
	int fd;

	server_start(&s, "good");
	t = bridge_to(&s, "ca.pem");
	fd = client_connect(local_port(t));
	g_assert_cmpint(send(fd, "ping", 4, 0), ==, 4);
	g_assert_cmpint(client_read(fd, buf, 4), ==, 4);
	agent_turntls_free(t);
	g_assert_cmpint(client_read(fd, buf, 4), ==, 0);
	close(fd);
	server_stop(&s);
}

/* A child process (uid, or -1 to keep ours) connects and sends; exit 0 when the bridge closed
 * the connection without relaying anything, 1 when bytes came back or nothing happened. Only
 * async-signal-safe calls in the child (the parent has threads). */
static int foreign_client(guint16 port, int uid)
{
	pid_t pid = fork();
	int status = -1;

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		struct pollfd pfd;
		char buf[16];
		int fd;

		if (uid >= 0 && setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
			_exit(2);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			_exit(3);
		if (send(fd, "\x00\x03ping", 6, 0) != 6)
			_exit(4);
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 10000) != 1)
			_exit(1);	/* neither closed nor answered */
		_exit(recv(fd, buf, sizeof(buf), 0) <= 0 ? 0 : 1);
	}
	for (gint64 until = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		g_assert_cmpint(r, >=, 0);
		if (r == pid)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, until);
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Only the agent's own sockets are bridged (issue 15 item 6: a uid 65534 process was served). */
static void test_not_ours(void)
{
	static const char msg[] = "still works";
	char buf[sizeof(msg) - 1];
	struct agent_turntls *t;
	struct server s;
	int fd;

	if (geteuid() != 0) {
		g_test_skip("needs root to connect as another uid");
		return;
	}
	server_start(&s, "good");
	t = bridge_to(&s, "ca.pem");
	g_assert_cmpint(foreign_client(local_port(t), 65534), ==, 0);	/* another user */
	g_assert_cmpint(foreign_client(local_port(t), -1), ==, 0);	/* our uid, not our socket */
	g_assert_cmpuint(agent_turntls_refused_count(t), ==, 2);
	g_assert_cmpuint(agent_turntls_ok_count(t) + agent_turntls_fail_count(t), ==, 0);
	g_assert_false(s.handshake_ok);		/* nothing went to the server for them */
	fd = client_connect(local_port(t));	/* this process: bridged */
	g_assert_cmpint(send(fd, msg, sizeof(msg) - 1, 0), ==, (ssize_t)sizeof(msg) - 1);
	g_assert_cmpint(client_read(fd, buf, sizeof(buf)), ==, (gssize)sizeof(buf));
	g_assert_cmpuint(agent_turntls_refused_count(t), ==, 2);
	close(fd);
	server_stop(&s);
	agent_turntls_free(t);
}

/* A bridged connection that carries nothing is closed after the idle time; one that carries
 * data more often than that stays. */
static void test_idle(void)
{
	char buf[4];
	struct agent_turntls *t;
	struct server s;
	gint64 t0, t_last = 0;
	int fd;

	server_start(&s, "good");
	t = bridge_to(&s, "ca.pem");
	agent_turntls_set_idle_ms(t, 400);
	fd = client_connect(local_port(t));
	/* busy: 1.2 s of traffic every 100 ms, three idle times */
	for (int i = 0; i < 12; i++) {
		g_assert_cmpint(send(fd, "ping", 4, 0), ==, 4);
		g_assert_cmpint(client_read(fd, buf, 4), ==, 4);
		t_last = g_get_monotonic_time();	/* the bridge carried data just before */
		for (gint64 until = g_get_monotonic_time() + 100000; g_get_monotonic_time() < until;)
			if (!g_main_context_iteration(NULL, FALSE))
				g_usleep(1000);
	}
	g_assert_cmpuint(agent_turntls_idle_count(t), ==, 0);
	g_assert_cmpuint(agent_turntls_open(t), ==, 1);
	/* then silent: closed 400 ms after the last data (checked every 100 ms). The idle time
	 * counts from the bridge's last data, which t_last follows closely, not from t0 (the loop
	 * above already waited 100 ms after it); 100 ms of slack for a loaded machine and the
	 * kernel's jiffy-grained TCP_INFO times. */
	t0 = g_get_monotonic_time();
	g_assert_cmpint(client_read(fd, buf, 4), ==, 0);
	g_assert_cmpint(g_get_monotonic_time() - t_last, >=, 300 * 1000);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
	g_assert_cmpuint(agent_turntls_idle_count(t), ==, 1);
	close(fd);
	server_stop(&s);
	for (gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	     agent_turntls_open(t) && g_get_monotonic_time() < until;)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	g_assert_cmpuint(agent_turntls_open(t), ==, 0);
	agent_turntls_free(t);
}

static void test_bad_config(void)
{
	static const struct { const char *url, *ca, *want; } rows[] = {
		/* 1 */ { "turns:127.0.0.1:5349", "/nonexistent/ca.pem", "ca_file /nonexistent/ca.pem" },
		/* 2 */ { "turns:127.0.0.1:5349?transport=udp", NULL, "only ?transport=tcp fits" },
		/* 3 */ { "turn:127.0.0.1:3478", NULL, "not a turns: URL" },
		/* 4 */ { "turns:[::1", NULL, "turns:[::1" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct agent_turntls *t = (struct agent_turntls *)1;
		struct rg_err err = { 0 };

		g_test_message("row %zu", i + 1);
		g_assert_cmpint(agent_turntls_new(&t, NULL, rows[i].url, rows[i].ca, &err), <, 0);
		g_assert_null(t);
		g_assert_nonnull(strstr(err.msg, rows[i].want));
	}
}

int main(int argc, char **argv)
{
	int r;

	g_test_init(&argc, &argv, NULL);
	if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
		g_test_message("no GIO TLS backend (glib-networking)");
		return 77;
	}
	make_pki();
	g_test_add_func("/agent/turntls/good", test_good);
	g_test_add_func("/agent/turntls/dns-name", test_dns_name);
	g_test_add_func("/agent/turntls/other-ca", test_other_ca);
	g_test_add_func("/agent/turntls/system-store", test_system_store);
	g_test_add_func("/agent/turntls/wrong-name", test_wrong_name);
	g_test_add_func("/agent/turntls/free-while-open", test_free_while_open);
	g_test_add_func("/agent/turntls/bad-config", test_bad_config);
	g_test_add_func("/agent/turntls/not-ours", test_not_ours);
	g_test_add_func("/agent/turntls/idle", test_idle);
	r = g_test_run();
	sh("rm -rf ./*");
	g_rmdir(dir);
	g_free(dir);
	/* No exit-time leak check here: GIO's worker threads hold GnuTLS' dynamic TLS blocks,
	 * which Debian 12's (GCC 12) LeakSanitizer cannot walk ("Tracer caught signal 11"), and
	 * with use_tls=0 it reports every GLib thread-local as a leak. ASan and UBSan stay on. */
	fflush(NULL);
	_exit(r);
}
