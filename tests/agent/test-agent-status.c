/* Status snapshot: JSON round trip, tolerant parsing, text rendering. */
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "agent/status.h"
#include "util/err.h"

static void fill(struct agent_status *s)
{
	struct agent_status_peer *p;

	memset(s, 0, sizeof(*s));
	g_strlcpy(s->ifname, "rgag0a", sizeof(s->ifname));
	g_strlcpy(s->peer_id, "alice", sizeof(s->peer_id));
	g_strlcpy(s->public_key, "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=", sizeof(s->public_key));
	g_strlcpy(s->address, "10.98.10.1/24", sizeof(s->address));
	g_strlcpy(s->hub_url, "ws://10.98.0.1:8080", sizeof(s->hub_url));
	s->hub_connected = true;
	s->mtu = 1150;
	s->pid = 42;
	s->started = 1000;
	p = agent_status_add_peer(s);
	g_strlcpy(p->id, "bob", sizeof(p->id));
	g_strlcpy(p->state, "up", sizeof(p->state));
	g_strlcpy(p->address, "10.98.10.2/32", sizeof(p->address));
	g_strlcpy(p->candidate, "host", sizeof(p->candidate));
	p->offerer = true;
	p->last_handshake = 1090;
	p->rx_bytes = 3 * 1024 * 1024;
	p->tx_bytes = 1000;
	p->rtt_ms = 3;
	p->attempts = 1;
	p->since = 1050;
	p->path_mtu = 1472;
	g_strlcpy(p->path_mtu_state, "probed", sizeof(p->path_mtu_state));
	p->peer_mtu = 1360;
	s->too_big_icmp = 7;
	p = agent_status_add_peer(s);
	g_strlcpy(p->id, "carol", sizeof(p->id));
	g_strlcpy(p->state, "ice", sizeof(p->state));
	g_strlcpy(p->last_error, "ICE failed", sizeof(p->last_error));
	p->attempts = 3;
	p->ice_restarts = 2;
}

static void test_roundtrip(void)
{
	struct agent_status a, b;
	struct rg_err err = { 0 };
	char *json;

	fill(&a);
	json = agent_status_to_json(&a);
	g_assert_cmpint(agent_status_from_json(&b, json, strlen(json), &err), ==, 0);
	g_assert_cmpstr(b.ifname, ==, "rgag0a");
	g_assert_cmpstr(b.peer_id, ==, "alice");
	g_assert_cmpstr(b.public_key, ==, a.public_key);
	g_assert_true(b.hub_connected);
	g_assert_cmpuint(b.mtu, ==, 1150);
	g_assert_cmpuint(b.n_peers, ==, 2);
	g_assert_cmpstr(b.peers[0].id, ==, "bob");
	g_assert_cmpstr(b.peers[0].state, ==, "up");
	g_assert_cmpstr(b.peers[0].candidate, ==, "host");
	g_assert_true(b.peers[0].offerer);
	g_assert_cmpuint(b.peers[0].rx_bytes, ==, 3 * 1024 * 1024);
	g_assert_cmpint(b.peers[0].rtt_ms, ==, 3);
	g_assert_cmpint(b.peers[1].rtt_ms, ==, -1);
	g_assert_cmpstr(b.peers[1].last_error, ==, "ICE failed");
	g_assert_cmpuint(b.peers[1].attempts, ==, 3);
	g_assert_cmpuint(b.peers[1].ice_restarts, ==, 2);
	g_assert_cmpuint(b.peers[0].path_mtu, ==, 1472);
	g_assert_cmpstr(b.peers[0].path_mtu_state, ==, "probed");
	g_assert_cmpuint(b.peers[0].peer_mtu, ==, 1360);
	g_assert_cmpuint(b.peers[1].path_mtu, ==, 0);
	g_assert_cmpuint(b.too_big_icmp, ==, 7);
	g_assert_cmpuint(b.too_big_dropped, ==, 0);
	g_free(json);
	agent_status_clear(&a);
	agent_status_clear(&b);
}

static void test_bad_json(void)
{
	static const char *const cases[] = {
		/* 1 */ "",
		/* 2 */ "not json",
		/* 3 */ "[1,2]",
		/* 4 */ "{\"interface\":\"0123456789abcdefghij\"}",
		/* 5 */ "{\"peers\":[{\"state\":\"0123456789abcdefghij\"}]}",
	};
	struct agent_status s;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_err err = { 0 };

		g_assert_cmpint(agent_status_from_json(&s, cases[i], strlen(cases[i]), &err), ==,
				-22);
		g_assert_cmpstr(err.msg, !=, "");
		g_assert_null(s.peers);
	}
}

static void test_tolerant(void)
{
	const char *j = "{\"interface\":\"x\",\"future\":{\"a\":[1]},\"mtu\":\"oops\","
			"\"peers\":[7,{\"peerId\":\"p\",\"rxBytes\":-5}]}";
	struct agent_status s;
	struct rg_err err = { 0 };

	g_assert_cmpint(agent_status_from_json(&s, j, strlen(j), &err), ==, 0);
	g_assert_cmpstr(s.ifname, ==, "x");
	g_assert_cmpuint(s.mtu, ==, 0);
	g_assert_cmpuint(s.n_peers, ==, 1);
	g_assert_cmpstr(s.peers[0].id, ==, "p");
	g_assert_cmpuint(s.peers[0].rx_bytes, ==, 0);
	agent_status_clear(&s);
}

static void test_format(void)
{
	struct agent_status s;
	char *t;

	fill(&s);
	t = agent_status_format(&s, 1100);
	g_assert_nonnull(strstr(t, "interface: rgag0a\n"));
	g_assert_nonnull(strstr(t, "hub: ws://10.98.0.1:8080 (connected)\n"));
	g_assert_nonnull(strstr(t, "peer: bob\n  state: up (for 50 seconds)\n"));
	g_assert_nonnull(strstr(t, "candidate pair: host\n"));
	g_assert_nonnull(strstr(t, "path mtu: 1472 (probed), packets up to 1360\n"));
	g_assert_nonnull(strstr(t, "too big for their peer: 7 answered with ICMP, 0 dropped"));
	g_assert_nonnull(strstr(t, "latest handshake: 10 seconds ago\n"));
	g_assert_nonnull(strstr(t, "transfer: 3.00 MiB received, 1000 B sent\n"));
	g_assert_nonnull(strstr(t, "peer: carol\n  state: ice\n"));
	g_assert_nonnull(strstr(t, "last error: ICE failed\n"));
	g_free(t);
	agent_status_clear(&s);
}

/* turns: servers: JSON round trip and the text lines (ok, failing). */
static void test_turn_tls(void)
{
	struct agent_status a, b;
	struct rg_err err = { 0 };
	char *json, *text;

	fill(&a);
	a.n_turn = 2;
	g_strlcpy(a.turn[0].url, "turns:turn.example.net:5349", sizeof(a.turn[0].url));
	a.turn[0].tls_ok = 4;
	a.turn[0].open = 2;
	g_strlcpy(a.turn[1].url, "turns:198.51.100.7:443", sizeof(a.turn[1].url));
	a.turn[1].tls_failed = 3;
	g_strlcpy(a.turn[1].last_error, "TLS: certificate refused (issuer not trusted): CN=x",
		  sizeof(a.turn[1].last_error));
	json = agent_status_to_json(&a);
	g_assert_cmpint(agent_status_from_json(&b, json, strlen(json), &err), ==, 0);
	g_assert_cmpuint(b.n_turn, ==, 2);
	g_assert_cmpstr(b.turn[0].url, ==, "turns:turn.example.net:5349");
	g_assert_cmpuint(b.turn[0].tls_ok, ==, 4);
	g_assert_cmpuint(b.turn[0].open, ==, 2);
	g_assert_cmpstr(b.turn[0].last_error, ==, "");
	g_assert_cmpuint(b.turn[1].tls_failed, ==, 3);
	g_assert_cmpstr(b.turn[1].last_error, ==, a.turn[1].last_error);
	text = agent_status_format(&b, 1100);
	g_assert_nonnull(strstr(text, "  turn turns:turn.example.net:5349: TLS ok, 4 connections "
				"verified, 0 failed, 2 open\n"));
	g_assert_nonnull(strstr(text, "  turn turns:198.51.100.7:443: TLS failing, 0 connections "
				"verified, 3 failed, 0 open\n    last error: TLS: certificate refused "
				"(issuer not trusted): CN=x\n"));
	g_free(text);
	g_free(json);
	agent_status_clear(&b);
	agent_status_clear(&a);

	/* no turns: server: no lines, and an older agent's reply without turnTls parses */
	fill(&a);
	text = agent_status_format(&a, 1100);
	g_assert_null(strstr(text, "turn "));
	g_free(text);
	agent_status_clear(&a);
	json = g_strdup("{\"peers\":[]}");
	g_assert_cmpint(agent_status_from_json(&b, json, strlen(json), &err), ==, 0);
	g_free(json);
	g_assert_cmpuint(b.n_turn, ==, 0);
	agent_status_clear(&b);
}

/* Refusals round trip and show; a hostile id or error text cannot reach the terminal raw. */
static void test_rejected(void)
{
	struct agent_status a, b;
	struct rg_err err = { 0 };
	struct agent_status_peer *p;
	char *json, *text;

	fill(&a);
	a.max_peers = 1024;
	a.refused_over_max = 5;
	a.refused_bad_id = 2;
	p = &a.peers[1];
	g_strlcpy(p->rejected, "address 10.0.0.2 owned by alice", sizeof(p->rejected));
	p->rejections = 3;
	p = agent_status_add_peer(&a);
	g_strlcpy(p->id, "ev\x1b]0;x\x07il\nfake: line", sizeof(p->id));
	g_strlcpy(p->state, "discovered", sizeof(p->state));
	g_strlcpy(p->last_error, "bad \x1b[2J", sizeof(p->last_error));
	json = agent_status_to_json(&a);
	g_assert_cmpint(agent_status_from_json(&b, json, strlen(json), &err), ==, 0);
	g_assert_cmpstr(b.peers[1].rejected, ==, "address 10.0.0.2 owned by alice");
	g_assert_cmpuint(b.peers[1].rejections, ==, 3);
	g_assert_cmpuint(b.max_peers, ==, 1024);
	g_assert_cmpuint(b.refused_over_max, ==, 5);
	g_assert_cmpuint(b.refused_bad_id, ==, 2);
	text = agent_status_format(&b, 1100);
	g_assert_nonnull(strstr(text, "\n  rejected: address 10.0.0.2 owned by alice (3 times)\n"));
	g_assert_nonnull(strstr(text, "\n  refused: 5 peers over max_peers (1024)\n"));
	g_assert_nonnull(strstr(text, "\n  refused: 2 frames naming an unusable peer id\n"));
	g_assert_nonnull(strstr(text, "\npeer: ev\\x1b]0;x\\x07il\\x0afake: line\n"));
	g_assert_nonnull(strstr(text, "  last error: bad \\x1b[2J\n"));
	g_assert_null(strchr(text, '\x1b'));
	g_assert_null(strchr(text, '\x07'));
	g_free(text);
	g_free(json);
	agent_status_clear(&a);
	agent_status_clear(&b);
}

static void test_ago(void)
{
	static const struct { int64_t s; const char *want; } cases[] = {
		/* 1 */ { 0, "Now" },
		/* 2 */ { 1, "1 second" },
		/* 3 */ { 61, "1 minute, 1 second" },
		/* 4 */ { 3600 * 2 + 5, "2 hours, 5 seconds" },
		/* 5 */ { 86400 + 120, "1 day, 2 minutes" },
		/* 6 */ { -5, "Now" },
	};
	char out[64];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		agent_format_ago(out, sizeof(out), cases[i].s);
		g_assert_cmpstr(out, ==, cases[i].want);
	}
	agent_format_bytes(out, sizeof(out), 1023);
	g_assert_cmpstr(out, ==, "1023 B");
	agent_format_bytes(out, sizeof(out), 1536);
	g_assert_cmpstr(out, ==, "1.50 KiB");
}

/* The hub's failure, the peer's endpoints and the reason's kind survive the round trip and
 * show in the text. */
static void test_reasons(void)
{
	struct agent_status a, b;
	struct rg_err err = { 0 };
	char *json, *text;

	fill(&a);
	a.hub_connected = false;
	g_strlcpy(a.hub_error, "hub rejected token (HTTP 401 from http://h/)", sizeof(a.hub_error));
	g_strlcpy(a.hub_error_kind, "token", sizeof(a.hub_error_kind));
	g_strlcpy(a.version, "0.1.0 (abc1234)", sizeof(a.version));
	g_strlcpy(a.peers[0].remote_endpoint, "10.0.0.2:4000", sizeof(a.peers[0].remote_endpoint));
	g_strlcpy(a.peers[0].local_endpoint, "[fd00::1]:5000", sizeof(a.peers[0].local_endpoint));
	g_strlcpy(a.peers[0].remote_type, "srflx", sizeof(a.peers[0].remote_type));
	g_strlcpy(a.peers[0].local_type, "host", sizeof(a.peers[0].local_type));
	g_strlcpy(a.peers[1].last_error_kind, "no-turn", sizeof(a.peers[1].last_error_kind));
	json = agent_status_to_json(&a);
	g_assert_cmpint(agent_status_from_json(&b, json, strlen(json), &err), ==, 0);
	g_assert_cmpstr(b.hub_error, ==, a.hub_error);
	g_assert_cmpstr(b.hub_error_kind, ==, "token");
	g_assert_cmpstr(b.version, ==, "0.1.0 (abc1234)");
	g_assert_cmpstr(b.peers[0].remote_endpoint, ==, "10.0.0.2:4000");
	g_assert_cmpstr(b.peers[0].local_endpoint, ==, "[fd00::1]:5000");
	g_assert_cmpstr(b.peers[0].remote_type, ==, "srflx");
	g_assert_cmpstr(b.peers[0].local_type, ==, "host");
	g_assert_cmpstr(b.peers[1].last_error_kind, ==, "no-turn");
	text = agent_status_format(&b, 1100);
	g_assert_nonnull(strstr(text, "hub error: hub rejected token"));
	g_assert_nonnull(strstr(text, "  version: 0.1.0 (abc1234)\n"));
	g_assert_nonnull(strstr(text, "endpoint: 10.0.0.2:4000 (srflx), from [fd00::1]:5000 (host)"));
	g_free(text);
	g_free(json);
	agent_status_clear(&a);
	agent_status_clear(&b);
}

/* The name responder's servers, counters and systemd-resolved state survive JSON and show in
 * the text. */
static void test_dns(void)
{
	struct agent_status a, b;
	struct rg_err err = { 0 };
	char *json, *text;

	fill(&a);
	g_strlcpy(a.dns_zone, "home.rift", sizeof(a.dns_zone));
	g_strlcpy(a.dns_listen, "10.10.0.2:53", sizeof(a.dns_listen));
	a.n_dns_servers = 2;
	g_strlcpy(a.dns_servers[0], "192.168.1.1", sizeof(a.dns_servers[0]));
	g_strlcpy(a.dns_servers[1], "2001:db8::53", sizeof(a.dns_servers[1]));
	g_strlcpy(a.dns_server, "2001:db8::53", sizeof(a.dns_server));
	a.dns_answered = 7;
	a.dns_forwarded = 5;
	a.dns_failed = 2;
	a.dns_refused = 3;
	a.dns_malformed = 1;
	g_strlcpy(a.dns_resolved, "unavailable", sizeof(a.dns_resolved));
	g_strlcpy(a.dns_resolved_error, "no bus", sizeof(a.dns_resolved_error));
	json = agent_status_to_json(&a);
	g_assert_cmpint(agent_status_from_json(&b, json, strlen(json), &err), ==, 0);
	g_assert_cmpuint(b.n_dns_servers, ==, 2);
	g_assert_cmpstr(b.dns_servers[1], ==, "2001:db8::53");
	g_assert_cmpstr(b.dns_server, ==, "2001:db8::53");
	g_assert_cmpuint(b.dns_answered, ==, 7);
	g_assert_cmpuint(b.dns_forwarded, ==, 5);
	g_assert_cmpuint(b.dns_failed, ==, 2);
	g_assert_cmpuint(b.dns_refused, ==, 3);
	g_assert_cmpuint(b.dns_malformed, ==, 1);
	g_assert_cmpstr(b.dns_resolved, ==, "unavailable");
	g_assert_cmpstr(b.dns_resolved_error, ==, "no bus");
	text = agent_status_format(&b, 1100);
	g_assert_nonnull(strstr(text, "  dns servers: 192.168.1.1 2001:db8::53 (in use)\n"));
	g_assert_nonnull(strstr(text, "  dns queries: 7 answered locally, 5 forwarded, 2 failed, "
				"3 refused, 1 malformed\n"));
	g_assert_nonnull(strstr(text, "  systemd-resolved: unavailable (no bus)\n"));
	g_free(text);
	g_free(json);
	agent_status_clear(&a);
	agent_status_clear(&b);
}

/* The document keeps its shape: empty, one reply, a broken reply (an error entry), errors. */
static void test_doc(void)
{
	struct agent_status_doc *d = agent_status_doc_new();
	JsonParser *parser = json_parser_new();
	struct agent_status a;
	JsonObject *o;
	char *out, *json;

	out = agent_status_doc_finish(d);
	g_assert_true(json_parser_load_from_data(parser, out, -1, NULL));
	o = json_node_get_object(json_parser_get_root(parser));
	g_assert_cmpint(json_object_get_int_member(o, "schemaVersion"), ==, 1);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "interfaces")), ==, 0);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "errors")), ==, 0);
	g_free(out);

	fill(&a);
	json = agent_status_to_json(&a);
	d = agent_status_doc_new();
	agent_status_doc_add_reply(d, "rgag0a", json, strlen(json));
	agent_status_doc_add_reply(d, "rgag0b", "[1,2", 4);
	agent_status_doc_add_error(d, "rgag0c", "riftgate is not up on rgag0c");
	out = agent_status_doc_finish(d);
	g_assert_true(json_parser_load_from_data(parser, out, -1, NULL));
	o = json_node_get_object(json_parser_get_root(parser));
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "interfaces")), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(
			json_object_get_array_member(o, "interfaces"), 0), "interface"), ==, "rgag0a");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "errors")), ==, 2);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(
			json_object_get_array_member(o, "errors"), 0), "interface"), ==, "rgag0b");
	g_free(out);
	g_free(json);
	agent_status_clear(&a);
	g_object_unref(parser);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent/status/roundtrip", test_roundtrip);
	g_test_add_func("/agent/status/reasons", test_reasons);
	g_test_add_func("/agent/status/doc", test_doc);
	g_test_add_func("/agent/status/dns", test_dns);
	g_test_add_func("/agent/status/bad-json", test_bad_json);
	g_test_add_func("/agent/status/tolerant", test_tolerant);
	g_test_add_func("/agent/status/format", test_format);
	g_test_add_func("/agent/status/ago", test_ago);
	g_test_add_func("/agent/status/rejected", test_rejected);
	g_test_add_func("/agent/status/turn-tls", test_turn_tls);
	return g_test_run();
}
