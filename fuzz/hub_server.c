/* libFuzzer target: riftgate-hub's connection handling (src/hubd/server.c, included so its
 * statics are reachable; http.c and ws.c are linked) on one connection whose socket is one end
 * of a socketpair. The input is the byte stream a client would send: a request head, then
 * frames. fuzz/hub_http.c and fuzz/hub_ws.c fuzz the two parsers on their own. */
#include "../src/hubd/server.c"

static void drain_fd(int fd)
{
	char buf[65536];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hubd_server srv = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *c;
	int sp[2];

	rg_log_set_level(RG_LOG_ERROR);
	/* a GLib critical is a bug too (g_strstr_len on an empty buffer's NULL used to be one) */
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp))
		return 0;
	srv.lfd = -1;
	srv.mlfd = -1;
	srv.version = g_strdup("fuzz");
	srv.revision = g_strdup("fuzz");
	hubd_limits_default(&srv.limits);
	hub_relay_cfg_default(&srv.relay);
	srv.per_ip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	srv.epfd = epoll_create1(EPOLL_CLOEXEC);
	srv.conns = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, conn_free);
	srv.networks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, network_free);
	srv.reap = g_ptr_array_new();
	c = g_new0(struct conn, 1);
	c->id = 1;
	c->fd = sp[0];
	c->in = g_byte_array_new();
	c->out = g_byte_array_new();
	hubd_ws_reader_init(&c->ws, WS_MSG_CAP);
	strcpy(c->remote, "fuzz");
	g_hash_table_insert(srv.conns, &c->id, c);
	srv.n_waiting++;
	ev.data.ptr = c;
	epoll_ctl(srv.epfd, EPOLL_CTL_ADD, c->fd, &ev);

	/* what on_readable does with each chunk; two chunks so split heads/frames are exercised */
	size_t half = size / 2;
	const uint8_t *chunks[2] = { data, data + half };
	size_t lens[2] = { half, size - half };

	for (int i = 0; i < 2 && !c->reaping; i++) {
		g_byte_array_append(c->in, chunks[i], (guint)lens[i]);
		if (c->state == C_HTTP) {
			size_t head_len = hubd_http_head_len(c->in->data, c->in->len);

			if (head_len)
				handle_http(&srv, c, head_len);
		}
		if (!c->reaping && (c->state == C_WS || c->state == C_CLOSING))
			handle_frames(&srv, c);
		drain_fd(sp[1]);
	}
	mark_dead(&srv, c);
	reap(&srv);
	g_hash_table_destroy(srv.conns);
	g_hash_table_destroy(srv.networks);
	g_hash_table_destroy(srv.per_ip);
	g_free(srv.version);
	g_free(srv.revision);
	g_ptr_array_unref(srv.reap);
	close(srv.epfd);
	close(sp[1]);
	return 0;
}
