/* libFuzzer target: the hub relay (src/hub/relay.c) fed a script of events on four
 * connections. Each record: one op byte (low 2 bits: open / close / join / binary frame; next 2
 * bits: connection; high 4 bits: clock step), then for join one byte naming the peer and for a
 * binary frame a 2-byte length and that many bytes. Budgets are small so every drop path runs.
 * Checks: every frame the hub emits parses and carries the sender's registered peerId, never
 * goes back to its sender, and every frame received is relayed or counted as one drop. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub-int.h"
#include "hub/hub.h"

/* a valid key (the hub takes only base64 of 32 bytes) */
#define RKEY "KAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static const char *const names[4] = { "a", "bb", "ccc", "dddd" };
static uint64_t sender;
static char sender_id[256];

static void f_send(void *host, uint64_t conn, const char *frame, size_t len)
{
	(void)host; (void)conn; (void)frame; (void)len;
}

static void f_send_binary(void *host, uint64_t conn, const uint8_t *frame, size_t len)
{
	const uint8_t *id, *pl;
	size_t il, pll;

	(void)host;
	if (hub_relay_parse(frame, len, &id, &il, &pl, &pll))
		abort();
	if (conn == sender || !sender_id[0] || il != strlen(sender_id) || memcmp(id, sender_id, il))
		abort();
}

static void f_close(void *host, uint64_t conn, uint16_t code, const char *reason)
{
	(void)host; (void)conn; (void)code; (void)reason;
}

static size_t f_backlog(void *host, uint64_t conn)
{
	(void)host;
	return conn == 3 ? HUB_RELAY_BACKLOG_MAX + 1 : conn == 2 ? HUB_RELAY_BACKLOG_MAX / 2 + 1 : 0;
}

static void *f_grow(void *host, size_t bytes)
{
	(void)host;
	return aligned_alloc(16, (bytes + 15) & ~(size_t)15);
}

static void f_release(void *host, void *chunk, size_t bytes)
{
	(void)host; (void)bytes;
	free(chunk);
}

static const struct hub_ops ops = { .send = f_send, .close = f_close, .grow = f_grow,
				    .release = f_release, .send_binary = f_send_binary,
				    .backlog = f_backlog };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hub h;
	struct hub_relay_cfg cfg;
	struct hub_relay_stats st;
	uint64_t now = 1;
	size_t i = 0;
	char frame[96];

	hub_init(&h, &ops, NULL);
	hub_relay_cfg_default(&cfg);
	cfg.sock_rate = 20000;
	cfg.sock_burst = 8000;
	cfg.net_rate = 30000;
	cfg.net_burst = 16000;
	cfg.recv_rate = 15000;		/* small, so receiver shares and their debt are reached */
	cfg.recv_burst = 6000;
	cfg.close_factor = 4;
	cfg.daily_bytes = 50000;
	hub_relay_configure(&h, &cfg);
	while (i < size) {
		uint8_t op = data[i++];
		uint64_t conn = (op >> 2) & 3;
		size_t len;

		now += (uint64_t)(op >> 4) * 7;
		switch (op & 3) {
		case 0:
			hub_open(&h, conn);
			break;
		case 1:
			hub_close(&h, conn);
			break;
		case 2: {
			const char *id = names[i < size ? data[i++] & 3 : 0];

			snprintf(frame, sizeof(frame),
				 "{\"type\":\"join\",\"peerId\":\"%s\",\"publicKey\":\"" RKEY "\"}", id);
			hub_text(&h, conn, frame, strlen(frame), now);
			break;
		}
		case 3: {
			if (size - i < 2) {
				len = size - i;
			} else {
				len = (size_t)data[i] | (size_t)data[i + 1] << 8;
				i += 2;
				if (len > size - i)
					len = size - i;
			}
			struct hub_conn_view v;

			sender = conn;
			sender_id[0] = '\0';
			if (hub_int_conn(&h, conn, &v) && v.joined)
				memcpy(sender_id, v.peer_id, v.id_len + 1);
			hub_binary(&h, conn, data + i, len, now);
			i += len;
			break;
		}
		}
		hub_relay_get_stats(&h, &st);
		if (st.frames_in != st.frames_out + hub_relay_drops(&st))
			abort();
	}
	hub_clear(&h);
	return 0;
}
