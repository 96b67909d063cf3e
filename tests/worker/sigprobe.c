/* sigprobe: the riftgate signaling client (src/signal/client.c) as a line-oriented test tool.
 *
 * Connects to a hub with sig_client, joins, and prints one line per event on stdout until its
 * time is up, so Node tests can drive the real C client against the Worker in Miniflare:
 *	connected N | disconnected REASON | fatal MESSAGE | message TYPE PEER
 * Lines on stdin send frames: "offer TO" sends an offer with a fixed SDP.
 * Usage: sigprobe URL TOKEN PEER_ID SECONDS
 * Optional environment for signed networks: SIGPROBE_KEY (publicKey), SIGPROBE_ADDRESS,
 * SIGPROBE_CERT (base64 certificate), SIGPROBE_SERIAL (16 hex digits: X-Riftgate-Serial).
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "signal/client.h"
#include "signal/msg.h"
#include "util/err.h"

struct probe {
	GMainLoop *loop;
	struct sig_client *client;
	guint in_src;	/* stdin watch; 0 once stdin hit EOF */
};

static void on_connected(struct sig_client *c, void *opaque)
{
	(void)opaque;
	printf("connected %u\n", sig_client_connect_count(c));
	fflush(stdout);
}

static void on_disconnected(struct sig_client *c, const char *reason, void *opaque)
{
	(void)c;
	(void)opaque;
	printf("disconnected %s\n", reason ? reason : "");
	fflush(stdout);
}

static void on_message(struct sig_client *c, const struct sig_msg *m, void *opaque)
{
	const char *who = m->from ? m->from : m->peer_id;

	(void)c;
	(void)opaque;
	printf("message %s %s", sig_msg_type_name(m->type), who ? who : "-");
	if (m->type == SIG_MSG_PEERS)
		for (size_t i = 0; i < m->n_peers; i++)
			printf(" %s", m->peers[i].peer_id);
	printf("\n");
	fflush(stdout);
}

static void on_fatal(struct sig_client *c, const struct rg_err *err, void *opaque)
{
	(void)c;
	(void)opaque;
	printf("fatal %s\n", err->msg);
	fflush(stdout);
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer opaque)
{
	struct probe *p = opaque;
	gchar *text = NULL;
	gsize len = 0;
	GIOStatus st;

	(void)cond;
	st = g_io_channel_read_line(ch, &text, &len, NULL, NULL);
	if (st != G_IO_STATUS_NORMAL) {
		g_free(text);
		if (st == G_IO_STATUS_AGAIN)
			return G_SOURCE_CONTINUE;
		p->in_src = 0;
		return G_SOURCE_REMOVE;
	}
	g_strchomp(text);
	if (g_str_has_prefix(text, "offer ")) {
		struct sig_msg m = { 0 };

		sig_msg_init_offer(&m, SIG_MSG_OFFER, "", text + 6, "v=0\r\n", NULL, NULL);
		printf("sent %d\n", sig_client_send(p->client, &m));
		fflush(stdout);
		sig_msg_clear(&m);
	}
	g_free(text);
	return G_SOURCE_CONTINUE;
}

static gboolean on_timeout(gpointer opaque)
{
	g_main_loop_quit(((struct probe *)opaque)->loop);
	return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
	static const struct sig_client_ops ops = {
		.connected = on_connected,
		.disconnected = on_disconnected,
		.message = on_message,
		.fatal = on_fatal,
	};
	struct probe p = { 0 };
	struct rg_err err = { 0 };
	struct sig_client_cfg cfg = { 0 };
	GIOChannel *in;

	if (argc != 5) {
		fprintf(stderr, "usage: sigprobe URL TOKEN PEER_ID SECONDS\n");
		return 2;
	}
	cfg.url = argv[1];
	cfg.token = argv[2];
	cfg.peer_id = argv[3];
	cfg.public_key = getenv("SIGPROBE_KEY") ? getenv("SIGPROBE_KEY") :
			 "bWFkZS11cC10ZXN0LWtleS1vZi0zMi1ieXRlcy4uLi4=";
	cfg.address = getenv("SIGPROBE_ADDRESS");
	cfg.cert = getenv("SIGPROBE_CERT");
	cfg.cert_serial = getenv("SIGPROBE_SERIAL");
	if (sig_client_new(&p.client, NULL, &cfg, &ops, &p, &err) < 0) {
		fprintf(stderr, "sigprobe: %s\n", err.msg);
		return 1;
	}
	p.loop = g_main_loop_new(NULL, FALSE);
	in = g_io_channel_unix_new(0);
	p.in_src = g_io_add_watch(in, G_IO_IN | G_IO_HUP, on_stdin, &p);
	g_timeout_add_seconds((guint)atoi(argv[4]), on_timeout, &p);
	sig_client_start(p.client);
	g_main_loop_run(p.loop);
	if (p.in_src)
		g_source_remove(p.in_src);
	g_io_channel_unref(in);
	sig_client_free(p.client);
	g_main_loop_unref(p.loop);
	printf("exit\n");
	return 0;
}
