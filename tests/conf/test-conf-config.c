/* conf/config: every validation rule as a table row (failing rows included), defaults, loading
 * (permissions), atomic saving and the default path. No error may quote a secret. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/config.h"
#include "util/err.h"

#define KEY "YEocP8SkEJgbJKZbR9PKNVvfxuPOUFbTDA9Vj6ZIr0U="
#define TOKEN "tok-s3cret"

/* Base document as section.key = value; a row overrides one (value NULL deletes it) and may
 * append raw text. */
static const struct {
	const char *sect, *key, *val;
} base[] = {
	{ "network", "name", "\"home\"" },
	{ "network", "server_url", "\"wss://hub.example.com/connect\"" },
	{ "network", "auth_token", "\"" TOKEN "\"" },
	{ "device", "name", "\"laptop\"" },
	{ "device", "private_key", "\"" KEY "\"" },
	{ "device", "address", "\"10.10.0.2/24\"" },
};

static const char *const sections[] = { "network", "device", "stun", "webrtc" };

static const struct {
	const char *key, *val, *extra, *err;	/* key "sect.key"; err NULL = valid */
} rows[] = {
	/* 1 */ { NULL, NULL, NULL, NULL },
	/* 2 */ { "network.name", "\"a b\"", NULL, "c:2:8: network.name must be 1-64" },
	/* 3 */ { "network.name", NULL, NULL, "missing required key network.name" },
	/* 4 */ { "network.server_url", "\"http://hub\"", NULL, "network.server_url must be ws://" },
	/* 5 */ { "network.server_url", "\"ws://\"", NULL, "network.server_url must be" },
	/* 6 */ { "network.server_url", "\"wss://hub:99999/\"", NULL, "network.server_url must be" },
	/* 7 */ { "network.server_url", "\"ws://127.0.0.1:8080\"", NULL, NULL },
	/* 8 */ { "network.server_url", "\"wss://[::1]:443/connect\"", NULL, NULL },
	/* 9 */ { "network.server_url", "\"ws://hub x\"", NULL, "network.server_url must be" },
	/* 10 */ { "network.auth_token", "\"\"", NULL, "network.auth_token must not be empty" },
	/* 11 */ { "network.auth_token", "\"tok s3cret\"", NULL, "must not contain spaces" },
	/* 12 */ { "network.auth_token", "5", NULL, "network.auth_token must be a string, got integer" },
	/* 13 */ { "network.turn_secret", "\"s3cret\"", NULL, NULL },
	/* 14 */ { "network.turn_secret", "true", NULL, "network.turn_secret must be a string" },
	/* 15 */ { "device.name", "\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"", NULL, NULL },
	/* 16 */ { "device.name", "\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"", NULL, "device.name must be 1-64" },
	/* 17 */ { "device.name", "\"bad/name\"", NULL, "device.name must be" },
	/* 18 */ { "device.name", "\"ok.name_1-x\"", NULL, NULL },
	/* 19 */ { "device.private_key", "\"YEocP8SkEJgbJKZbR9PKNVvfxuPOUFbTDA9Vj6ZIr0\"", NULL, "c:7:15: device.private_key must be a base64 key" },
	/* 20 */ { "device.private_key", "\"YEocP8SkEJgbJKZbR9PKNVvfxuPOUFbTDA9Vj6ZIr0V=\"", NULL, "device.private_key must be" },
	/* 21 */ { "device.private_key", "\"YEocP8SkEJgbJKZbR9PKNVvfxuPOUFbTDA9Vj6ZIr0U= \"", NULL, "device.private_key must be" },
	/* 22 */ { "device.private_key", NULL, NULL, "missing required key device.private_key" },
	/* 23 */ { "device.address", "\"10.10.0.2\"", NULL, "device.address must be an IPv4 or IPv6" },
	/* 24 */ { "device.address", "\"10.10.0.2/33\"", NULL, "device.address must be" },
	/* 25 */ { "device.address", "\"fd00::2/64\"", NULL, NULL },
	/* 26 */ { "device.address", "\"fd00::2/129\"", NULL, "device.address must be" },
	/* 27 */ { "device.address", "\"300.1.1.1/24\"", NULL, "device.address must be" },
	/* 28 */ { "device.address", "\"10.10.0.2/024\"", NULL, "device.address must be" },
	/* 29 */ { "device.interface", "\"rg-test0\"", NULL, NULL },
	/* 30 */ { "device.interface", "\"waytoolongiface0\"", NULL, "device.interface must be 1-15" },
	/* 31 */ { "device.interface", "\"a b\"", NULL, "device.interface must be" },
	/* 32 */ { "device.mtu", "1280", NULL, NULL },
	/* 33 */ { "device.mtu", "575", NULL, "device.mtu must be 576-9000, got 575" },
	/* 34 */ { "device.mtu", "9001", NULL, "device.mtu must be 576-9000" },
	/* 35 */ { "device.mtu", "\"1280\"", NULL, "device.mtu must be an integer, got string" },
	/* 36 */ { "stun.servers", "[]", NULL, NULL },
	/* 37 */ { "stun.servers", "[\"stun:127.0.0.1:3478\", \"stun:[::1]\"]", NULL, NULL },
	/* 38 */ { "stun.servers", "[\"http://x\"]", NULL, "stun.servers[0] must be stun:HOST[:PORT]" },
	/* 39 */ { "stun.servers", "[\"stun:x\", 1]", NULL, "stun.servers[1] must be a string" },
	/* 40 */ { "stun.servers", "\"stun:x\"", NULL, "stun.servers must be an array" },
	/* 41 */ { "stun.servers", "[\"stun:h:0\"]", NULL, "stun.servers[0] must be" },
	/* 42 */ { NULL, NULL, "[[turn]]\nurl = \"turn:127.0.0.1:3478?transport=udp\"\nusername = \"u\"\ncredential = \"p\"\n", NULL },
	/* 43 */ { NULL, NULL, "[[turn]]\nurl = \"turns:turn.example.com\"\nusername = \"u\"\ncredential = \"p\"\n", NULL },
	/* 44 */ { NULL, NULL, "[[turn]]\nurl = \"turn:h?transport=sctp\"\nusername = \"u\"\ncredential = \"p\"\n", "turn[0].url must be turn:" },
	/* 45 */ { NULL, NULL, "[[turn]]\nurl = \"turn:h\"\nusername = \"u\"\n", "turn[0] needs both username and credential" },
	/* 46 */ { NULL, NULL, "[[turn]]\nurl = \"turn:h\"\n", "network.turn_secret is not set" },
	/* 47 */ { "network.turn_secret", "\"x\"", "[[turn]]\nurl = \"turn:h\"\n", NULL },
	/* 48 */ { NULL, NULL, "[[turn]]\nurl = \"turn:h\"\nusername = \"u\"\ncredential = \"p\"\nport = 1\n", "unknown key 'port' in [[turn]]" },
	/* 49 */ { NULL, NULL, "turn = 1\n", "unknown key 'turn' in [webrtc]" },
	/* 50 */ { "webrtc.ordered", "true", NULL, NULL },
	/* 51 */ { "webrtc.ordered", "\"yes\"", NULL, "webrtc.ordered must be true or false" },
	/* 52 */ { "webrtc.max_retransmits", "-1", NULL, "webrtc.max_retransmits must be 0-65535" },
	/* 53 */ { "webrtc.max_retransmits", "65536", NULL, "webrtc.max_retransmits must be 0-65535" },
	/* 54 */ { "webrtc.max_retransmits", "3", NULL, NULL },
	/* 55 */ { "device.foo", "1", NULL, "c:9:1: unknown key 'foo' in [device]" },
	/* 56 */ { NULL, NULL, "[foo]\n", "c:11:2: unknown key 'foo' in the top level" },
	/* 57 */ { NULL, NULL, "[device]\n", "table 'device' is already defined" },
	/* 58 */ { NULL, NULL, "x = \n", "expected a value" },
	/* 59 */ { "network.name", "\"a\\u0000b\"", NULL, "network.name must be at most 1024 characters with no NUL" },
	/* 60 */ { "network.server_url", "\"wss://hub.example.com:443\"", NULL, NULL },
	/* 61 */ { "webrtc.path_mtu", "1472", NULL, NULL },
	/* 62 */ { "webrtc.path_mtu", "1199", NULL, "webrtc.path_mtu must be 1200-9000" },
	/* 63 */ { "webrtc.path_mtu", "9001", NULL, "webrtc.path_mtu must be 1200-9000" },
	/* 64 */ { "webrtc.path_mtu", "\"1472\"", NULL, "webrtc.path_mtu must be an integer" },
	/* 65 */ { NULL, NULL, "[[turn]]\nurl = \"turns:h:5349\"\nusername = \"u\"\ncredential = \"p\"\nca_file = \"/etc/rg/ca.pem\"\n", NULL },
	/* 66 */ { NULL, NULL, "[[turn]]\nurl = \"turn:h:3478\"\nusername = \"u\"\ncredential = \"p\"\nca_file = \"/etc/rg/ca.pem\"\n", "turn[0].ca_file only applies to a turns: URL" },
	/* 67 */ { NULL, NULL, "[[turn]]\nurl = \"turns:h\"\nusername = \"u\"\ncredential = \"p\"\nca_file = \"ca.pem\"\n", "turn[0].ca_file must be an absolute path, got 'ca.pem'" },
	/* 68 */ { NULL, NULL, "[[turn]]\nurl = \"turns:h\"\nusername = \"u\"\ncredential = \"p\"\nca_file = 1\n", "turn[0].ca_file must be a string" },
	/* 69 */ { "network.turn_secret", "\"x\"", "[[turn]]\nurl = \"turns:h\"\nca_file = \"/a/b\\tc\"\n", "turn[0].ca_file must be an absolute path" },
	/* 70 */ { "network.turn_secret", "\"x\"", "[[turn]]\nurl = \"turns:h\"\nca_file = \"/ca.pem\"\n", NULL },
	/* 71 */ { NULL, NULL, "[[turn]]\nurl = \"turns:h?transport=udp\"\nusername = \"u\"\ncredential = \"p\"\n", "turn[0].url: turns: is TLS over TCP" },
	/* 72 */ { "network.max_peers", "1", NULL, NULL },
	/* 73 */ { "network.max_peers", "65536", NULL, NULL },
	/* 74 */ { "network.max_peers", "0", NULL, "network.max_peers must be 1-65536, got 0" },
	/* 75 */ { "network.max_peers", "65537", NULL, "network.max_peers must be 1-65536" },
	/* 76 */ { "network.max_peers", "\"9\"", NULL, "network.max_peers must be an integer" },
	/* 77 */ { "network.allow_insecure_transport", "true", NULL, NULL },
	/* 78 */ { "network.allow_insecure_transport", "1", NULL, "network.allow_insecure_transport must be true or false" },
	/* 72 */ { NULL, NULL, "[[turn]]\nurl = \"turns:h?transport=tcp\"\nusername = \"u\"\ncredential = \"p\"\n", NULL },
	/* 73 */ { "device.routes", "[\"192.168.1.0/24\"]", NULL, NULL },
	/* 74 */ { "device.routes", "[\"192.168.1.5/24\"]", NULL, "device.routes[0] '192.168.1.5/24' is not a network address" },
	/* 75 */ { "device.routes", "[\"fd12::/64\"]", NULL, "device.routes[0] 'fd12::/64' is not of the tunnel address's family" },
	/* 76 */ { "device.routes", "[\"0.0.0.0/0\"]", NULL, "is a default route (/0)" },
	/* 77 */ { "device.routes", "[\"lan\"]", NULL, "device.routes[0] 'lan' is not an IPv4 or IPv6 prefix" },
	/* 78 */ { "device.routes", "[\"192.168.1.0\"]", NULL, "is not an IPv4 or IPv6 prefix" },
	/* 79 */ { "device.routes", "[1]", NULL, "device.routes[0] '' is not an IPv4" },
	/* 80 */ { "device.routes", "\"192.168.1.0/24\"", NULL, "device.routes must be an array" },
	/* 81 */ { "device.routes", "[\"192.168.0.0/16\", \"192.168.1.0/24\"]", NULL, "device.routes[1] '192.168.1.0/24' overlaps routes[0]" },
	/* 82 */ { "device.routes", "[\"10.10.0.0/16\"]", NULL, "covers this device's own tunnel address" },
	/* 83 */ { "device.routes", "[\"10.11.0.0/16\", \"10.12.0.0/16\", \"10.13.0.0/16\", \"10.14.0.0/16\", \"10.15.0.0/16\", \"10.16.0.0/16\", \"10.17.0.0/16\", \"10.18.0.0/16\", \"10.19.0.0/16\", \"10.20.0.0/16\", \"10.21.0.0/16\", \"10.22.0.0/16\", \"10.23.0.0/16\", \"10.24.0.0/16\", \"10.25.0.0/16\", \"10.26.0.0/16\"]", NULL, NULL },
	/* 84 */ { "device.routes", "[\"10.11.0.0/16\", \"10.12.0.0/16\", \"10.13.0.0/16\", \"10.14.0.0/16\", \"10.15.0.0/16\", \"10.16.0.0/16\", \"10.17.0.0/16\", \"10.18.0.0/16\", \"10.19.0.0/16\", \"10.20.0.0/16\", \"10.21.0.0/16\", \"10.22.0.0/16\", \"10.23.0.0/16\", \"10.24.0.0/16\", \"10.25.0.0/16\", \"10.26.0.0/16\", \"10.27.0.0/16\"]", NULL, "device.routes has more than 16 entries" },
	/* 85 */ { "device.masquerade", "false", NULL, NULL },
	/* 86 */ { "device.masquerade", "\"no\"", NULL, "device.masquerade must be true or false" },
	/* 87 */ { "network.accept_routes", "true", NULL, NULL },
	/* 88 */ { "network.accept_routes", "[\"home\", \"office-1\"]", NULL, NULL },
	/* 89 */ { "network.accept_routes", "[\"a b\"]", NULL, "network.accept_routes[0] must be a peer name" },
	/* 90 */ { "network.accept_routes", "\"home\"", NULL, "network.accept_routes must be true, false or an array" },
	/* 91 */ { "network.accept_routes", "[1]", NULL, "network.accept_routes[0] must be a peer name" },
	/* 92 */ { NULL, NULL, "[metrics]\nlisten = \"127.0.0.1:9587\"\n", NULL },
	/* 93 */ { NULL, NULL, "[metrics]\nlisten = \"[::1]:9587\"\n", NULL },
	/* 94 */ { NULL, NULL, "[metrics]\nlisten = \"localhost:9587\"\n", "metrics.listen must be IPv4:PORT or [IPv6]:PORT" },
	/* 95 */ { NULL, NULL, "[metrics]\nlisten = \"127.0.0.1:0\"\n", "metrics.listen must be" },
	/* 96 */ { NULL, NULL, "[metrics]\nlisten = \"127.0.0.1:65536\"\n", "metrics.listen must be" },
	/* 97 */ { NULL, NULL, "[metrics]\nlisten = \"::1:9587\"\n", "metrics.listen must be" },
	/* 98 */ { NULL, NULL, "[metrics]\nlisten = 9587\n", "metrics.listen must be a string" },
	/* 99 */ { NULL, NULL, "[metrics]\n", NULL },
	/* 100 */ { "webrtc.exclude_interfaces", "[\"wg*\", \"corp0\", \"vpn[0-9]\"]", NULL, NULL },
	/* 101 */ { "webrtc.exclude_interfaces", "[]", NULL, NULL },
	/* 102 */ { "webrtc.exclude_interfaces", "\"wg*\"", NULL, "webrtc.exclude_interfaces must be an array of strings" },
	/* 103 */ { "webrtc.exclude_interfaces", "[1]", NULL, "webrtc.exclude_interfaces[0] must be a string" },
	/* 104 */ { "webrtc.exclude_interfaces", "[\"ok\", \"a b\"]", NULL, "webrtc.exclude_interfaces[1] must be an interface name or glob" },
	/* 105 */ { "webrtc.exclude_interfaces", "[\"\"]", NULL, "webrtc.exclude_interfaces[0] must be" },
	/* 106 */ { "webrtc.exclude_interfaces", "[\"a/b\"]", NULL, "webrtc.exclude_interfaces[0] must be" },
	/* 107 */ { "webrtc.exclude_interfaces", "[\"0123456789abcdef0123456789abcdef\"]", NULL, "webrtc.exclude_interfaces[0] must be" },
	/* 108 */ { "webrtc.exclude_interfaces", "[\"x\\u001b\"]", NULL, "webrtc.exclude_interfaces[0] must be" },
	/* 109 */ { "network.exit_node", "\"home\"", NULL, NULL },
	/* 110 */ { "network.exit_node", "\"a b\"", NULL, "network.exit_node must be a peer name" },
	/* 111 */ { "network.exit_node", "true", NULL, "network.exit_node must be a string" },
	/* 112 */ { "network.kill_switch", "true", NULL, NULL },
	/* 113 */ { "network.kill_switch", "1", NULL, "network.kill_switch must be true or false" },
	/* 114 */ { "device.exit_node", "true", NULL, NULL },
	/* 115 */ { "device.exit_node", "\"home\"", NULL, "device.exit_node must be true or false (to use another device as exit: network.exit_node" },
	/* 116 */ { "network.domain", "\"rift\"", NULL, NULL },
	/* 117 */ { "network.domain", "\"home.example\"", NULL, NULL },
	/* 118 */ { "network.domain", "\"-bad\"", NULL, "network.domain must be DNS labels" },
	/* 119 */ { "network.domain", "\"a..b\"", NULL, "network.domain must be DNS labels" },
	/* 120 */ { "network.domain", "\"rift.\"", NULL, "network.domain must be DNS labels" },
	/* 121 */ { "network.domain", "\"ri_ft\"", NULL, "network.domain must be DNS labels" },
	/* 122 */ { "network.relay", "\"auto\"", NULL, NULL },
	/* 123 */ { "network.relay", "\"never\"", NULL, NULL },
	/* 124 */ { "network.relay", "\"always\"", NULL, NULL },
	/* 125 */ { "network.relay", "\"on\"", NULL, "network.relay must be \"auto\", \"never\" or \"always\", got 'on'" },
	/* 126 */ { "network.relay", "true", NULL, "network.relay must be a string, got bool" },
	/* 127 */ { "network.relay", "\"\"", NULL, "network.relay must not be empty" },
	/* 128 */ { "network.dns", "[\"1.1.1.1\", \"2606:4700::1111\"]", NULL, NULL },
	/* 129 */ { "network.dns", "[\"1.1.1.1\", \"1.0.0.1\", \"8.8.8.8\", \"9.9.9.9\"]", NULL, NULL },
	/* 130 */ { "network.dns", "[\"1.1.1.1\", \"1.0.0.1\", \"8.8.8.8\", \"9.9.9.9\", \"8.8.4.4\"]", NULL, "network.dns has more than 4 entries" },
	/* 131 */ { "network.dns", "[\"dns.example\"]", NULL, "network.dns[0] must be an IP address, got 'dns.example'" },
	/* 132 */ { "network.dns", "[\"1.1.1.0/24\"]", NULL, "network.dns[0] must be an IP address" },
	/* 133 */ { "network.dns", "\"1.1.1.1\"", NULL, "network.dns must be an array of strings, got string" },
	/* 134 */ { "network.search", "[\"corp.example\", \"lab\"]", NULL, NULL },
	/* 135 */ { "network.search", "[\"a..b\"]", NULL, "network.search[0] must be a domain" },
	/* 136 */ { "network.search", "[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\"]", NULL, "network.search has more than 8 entries" },
	/* 137 */ { "network.search", "[1]", NULL, "network.search[0] must be a domain" },
	/* 138 */ { NULL, NULL, "[log]\nlevel = \"debug\"\n", NULL },
	/* 139 */ { NULL, NULL, "[log]\nlevel = \"warning\"\n", NULL },
	/* 140 */ { NULL, NULL, "[log]\nlevel = \"loud\"\n", "c:12:9: log.level must be \"error\", \"warning\", \"info\", \"debug\" or \"trace\", got 'loud'" },
	/* 141 */ { NULL, NULL, "[log]\nlevel = 3\n", "log.level must be a string, got integer" },
	/* 142 */ { NULL, NULL, "[log]\nlevl = \"info\"\n", "unknown key 'levl' in [log]" },
	/* 143 */ { NULL, NULL, "[log]\n", NULL },
	/* 144 */ { "webrtc.direct_path", "false", NULL, NULL },
	/* 145 */ { "webrtc.direct_path", "true", NULL, NULL },
	/* 146 */ { "webrtc.direct_path", "\"no\"", NULL, "webrtc.direct_path must be true or false, got string" },
};

static char *make_doc(size_t row)
{
	GString *s = g_string_new(NULL);
	char sect[32] = "", key[32] = "";
	bool used = false;

	if (rows[row].key)
		g_assert_cmpint(sscanf(rows[row].key, "%31[^.].%31s", sect, key), ==, 2);
	for (size_t i = 0; i < G_N_ELEMENTS(sections); i++) {
		g_string_append_printf(s, "[%s]\n", sections[i]);
		for (size_t k = 0; k < G_N_ELEMENTS(base); k++) {
			if (strcmp(base[k].sect, sections[i]) != 0)
				continue;
			if (strcmp(sect, base[k].sect) == 0 && strcmp(key, base[k].key) == 0) {
				used = true;
				if (rows[row].val)
					g_string_append_printf(s, "%s = %s\n", key, rows[row].val);
				continue;
			}
			g_string_append_printf(s, "%s = %s\n", base[k].key, base[k].val);
		}
		if (!used && strcmp(sect, sections[i]) == 0) {
			g_string_append_printf(s, "%s = %s\n", key, rows[row].val);
			used = true;
		}
	}
	if (rows[row].extra)
		g_string_append(s, rows[row].extra);
	return g_string_free(s, FALSE);
}

static void test_rows(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *doc = make_doc(i);
		struct rg_err err = { 0 };
		struct conf c;
		int r = conf_parse(&c, doc, strlen(doc), "c", &err);

		g_test_message("row %zu: %s", i + 1, err.msg);
		if (!rows[i].err) {
			g_assert_cmpint(r, ==, 0);
			g_assert_cmpint(conf_validate(&c, "c", &err), ==, 0);
		} else {
			g_assert_cmpint(r, <, 0);
			g_assert_nonnull(strstr(err.msg, rows[i].err));
			g_assert_null(strstr(err.msg, TOKEN));
			g_assert_null(strstr(err.msg, "YEocP8SkEJgbJKZbR9PKNVvfxuPOUFbTDA9Vj6ZIr0"));
			g_assert_null(strstr(err.msg, "s3cret"));
			/* a failed read leaves nothing behind */
			g_assert_null(c.network_name);
			g_assert_true(c.n_stun == 0 && !c.stun_servers);
		}
		conf_clear(&c);
		g_free(doc);
	}
}

static void test_values(void)
{
	char *doc = make_doc(0);
	struct rg_err err = { 0 };
	struct conf c;
	uint8_t key[RG_KEY_LEN];

	g_assert_cmpint(conf_parse(&c, doc, strlen(doc), "c", &err), ==, 0);
	g_assert_cmpstr(c.network_name, ==, "home");
	g_assert_cmpstr(c.server_url, ==, "wss://hub.example.com/connect");
	g_assert_cmpstr(c.auth_token, ==, TOKEN);
	g_assert_null(c.turn_secret);
	g_assert_cmpstr(c.device_name, ==, "laptop");
	g_assert_true(rg_key_from_base64(key, KEY));
	g_assert_cmpint(memcmp(key, c.private_key, RG_KEY_LEN), ==, 0);
	g_assert_cmpint(c.addr.family, ==, AF_INET);
	g_assert_cmpuint(c.addr.len, ==, 24);
	g_assert_cmpint(memcmp(c.addr.addr, "\x0a\x0a\x00\x02", 4), ==, 0);
	g_assert_cmpstr(c.interface, ==, "riftgate0");
	g_assert_cmpuint(c.mtu, ==, 0);
	g_assert_cmpuint(c.n_stun, ==, 2);
	g_assert_cmpstr(c.stun_servers[0], ==, "stun:stun.cloudflare.com:3478");
	g_assert_cmpstr(c.stun_servers[1], ==, "stun:stun.l.google.com:19302");
	g_assert_cmpuint(c.n_turn, ==, 0);
	g_assert_false(c.ordered);
	g_assert_cmpuint(c.max_retransmits, ==, 0);
	g_assert_true(c.direct_path);
	{
		size_t n = 0;
		const char *const *ex = conf_exclude_interfaces(&c, &n);

		g_assert_false(c.exclude_interfaces_set);
		g_assert_cmpuint(n, ==, 7);
		g_assert_cmpstr(ex[0], ==, "riftgate*");
		g_assert_cmpstr(ex[1], ==, "wg*");
		g_assert_cmpstr(ex[2], ==, "tailscale*");
	}
	g_assert_cmpint(c.relay, ==, CONF_RELAY_AUTO);
	conf_clear(&c);
	g_free(doc);

	/* exclude_interfaces given: it replaces the defaults (an empty list too), and is saved */
	{
		static const char ex[] = "[network]\nname='n'\nserver_url='ws://h'\nauth_token='t'\n"
					 "[device]\nname='d'\nprivate_key='" KEY "'\n"
					 "address='10.0.0.1/24'\n[webrtc]\n"
					 "exclude_interfaces = ['corp*', 'vpn0']\n";
		const char *const *l;
		char *text = NULL;
		size_t n = 0;

		g_assert_cmpint(conf_parse(&c, ex, strlen(ex), "x", &err), ==, 0);
		l = conf_exclude_interfaces(&c, &n);
		g_assert_cmpuint(n, ==, 2);
		g_assert_cmpstr(l[0], ==, "corp*");
		g_assert_cmpstr(l[1], ==, "vpn0");
		g_assert_cmpint(conf_format(&c, &text), ==, 0);
		g_assert_nonnull(strstr(text, "exclude_interfaces = [\"corp*\", \"vpn0\"]\n"));
		conf_text_free(text);
		conf_clear(&c);
	}

	/* [stun] absent entirely: defaults too */
	static const char min[] = "[network]\nname='n'\nserver_url='ws://h'\nauth_token='t'\n"
				  "[device]\nname='d'\nprivate_key='" KEY "'\naddress='fd00::1/64'\n";
	g_assert_cmpint(conf_parse(&c, min, strlen(min), "m", &err), ==, 0);
	g_assert_cmpuint(c.n_stun, ==, 2);
	g_assert_cmpint(c.addr.family, ==, AF_INET6);
	g_assert_cmpuint(c.addr.len, ==, 64);
	conf_clear(&c);
}

/* network.relay survives a format/parse round trip; "auto" (the default) is not written. */
static void test_relay_round_trip(void)
{
	static const char *const vals[] = { "auto", "never", "always" };

	for (size_t i = 0; i < G_N_ELEMENTS(vals); i++) {
		g_autofree char *doc = g_strdup_printf("[network]\nname='n'\nserver_url='ws://h'\n"
						       "auth_token='t'\nrelay='%s'\n[device]\nname='d'\n"
						       "private_key='" KEY "'\naddress='10.1.0.1/24'\n", vals[i]);
		struct rg_err err = { 0 };
		struct conf c, c2;
		char *text = NULL;

		g_assert_cmpint(conf_parse(&c, doc, strlen(doc), "r", &err), ==, 0);
		g_assert_cmpint(c.relay, ==, (int)i);
		g_assert_cmpint(conf_format(&c, &text), ==, 0);
		g_assert_true((strstr(text, "relay = ") != NULL) == (i != 0));
		g_assert_cmpint(conf_parse(&c2, text, strlen(text), "r2", &err), ==, 0);
		g_assert_cmpint(c2.relay, ==, c.relay);
		conf_clear(&c);
		conf_clear(&c2);
		conf_text_free(text);
	}
}

/* [log] level: each name parses to its level ("warning" and "warn" alike), is written back only
 * when set, and survives a format/parse round trip; absent means unset (the command line's). */
static void test_log_level(void)
{
	static const struct { const char *val; enum rg_log_level level; } cases[] = {
		/* 1 */ { NULL, RG_LOG_INFO }, /* 2 */ { "error", RG_LOG_ERROR },
		/* 3 */ { "warning", RG_LOG_WARN }, /* 4 */ { "warn", RG_LOG_WARN },
		/* 5 */ { "info", RG_LOG_INFO }, /* 6 */ { "debug", RG_LOG_DEBUG },
		/* 7 */ { "trace", RG_LOG_TRACE },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *log = cases[i].val ? g_strdup_printf("[log]\nlevel = '%s'\n",
								      cases[i].val) : g_strdup("");
		g_autofree char *doc = g_strdup_printf("[network]\nname='n'\nserver_url='ws://h'\n"
						       "auth_token='t'\n[device]\nname='d'\n"
						       "private_key='" KEY "'\naddress='10.1.0.1/24'\n%s", log);
		struct rg_err err = { 0 };
		struct conf c, c2;
		char *text = NULL;

		g_assert_cmpint(conf_parse(&c, doc, strlen(doc), "l", &err), ==, 0);
		g_assert_cmpint(c.log_level_set, ==, cases[i].val != NULL);
		if (cases[i].val)
			g_assert_cmpint(c.log_level, ==, cases[i].level);
		g_assert_cmpint(conf_format(&c, &text), ==, 0);
		g_assert_true((strstr(text, "[log]") != NULL) == (cases[i].val != NULL));
		g_assert_cmpint(conf_parse(&c2, text, strlen(text), "l2", &err), ==, 0);
		g_assert_cmpint(c2.log_level_set, ==, c.log_level_set);
		g_assert_cmpint(c2.log_level, ==, c.log_level);
		conf_clear(&c);
		conf_clear(&c2);
		conf_text_free(text);
	}
}

/* Routes, masquerade and accept_routes survive a format/parse round trip. */
static void test_routes_round_trip(void)
{
	const char *doc = "[network]\nname = \"home\"\nserver_url = \"ws://h\"\n"
			  "auth_token = \"t\"\naccept_routes = [\"home\", \"lab\"]\n"
			  "exit_node = \"home\"\nkill_switch = true\n"
			  "dns = [\"fd00::53\", \"10.0.0.53\"]\nsearch = [\"corp.example\"]\n"
			  "[device]\nname = \"laptop\"\nprivate_key = \"" KEY "\"\n"
			  "address = \"fd00::2/64\"\nroutes = [\"fd12::/64\", \"fd13:1::/48\"]\n"
			  "masquerade = false\nexit_node = true\n";
	struct rg_err err = { 0 };
	struct conf c, d;
	char *text, pfx[RG_PREFIX_STR_MAX];

	g_assert_cmpint(conf_parse(&c, doc, strlen(doc), "c", &err), ==, 0);
	g_assert_cmpuint(c.n_routes, ==, 2);
	g_assert_false(c.masquerade);
	g_assert_false(c.accept_routes_all);
	g_assert_cmpuint(c.n_accept_routes_from, ==, 2);
	g_assert_cmpint(conf_format(&c, &text), ==, 0);
	g_assert_cmpint(conf_parse(&d, text, strlen(text), "d", &err), ==, 0);
	g_assert_cmpuint(d.n_routes, ==, 2);
	rg_prefix_format(&d.routes[1], pfx, sizeof(pfx));
	g_assert_cmpstr(pfx, ==, "fd13:1::/48");
	g_assert_false(d.masquerade);
	g_assert_cmpstr(d.accept_routes_from[1], ==, "lab");
	g_assert_cmpstr(d.exit_node, ==, "home");
	g_assert_true(d.kill_switch);
	g_assert_true(d.exit_offer);
	g_assert_cmpuint(d.n_dns_servers, ==, 2);
	g_assert_cmpstr(d.dns_servers[1], ==, "10.0.0.53");
	g_assert_cmpuint(d.n_dns_search, ==, 1);
	g_assert_cmpstr(d.dns_search[0], ==, "corp.example");
	conf_text_free(text);
	conf_clear(&d);
	conf_clear(&c);

	/* defaults: masquerade on, nothing accepted */
	doc = "[network]\nname = \"home\"\nserver_url = \"ws://h\"\nauth_token = \"t\"\n"
	      "[device]\nname = \"laptop\"\nprivate_key = \"" KEY "\"\naddress = \"10.0.0.2/24\"\n";
	g_assert_cmpint(conf_parse(&c, doc, strlen(doc), "c", &err), ==, 0);
	g_assert_true(c.masquerade);
	g_assert_false(c.accept_routes_all);
	g_assert_cmpuint(c.n_accept_routes_from + c.n_routes, ==, 0);
	conf_clear(&c);
}

static char *tmpdir(void)
{
	char *d = g_dir_make_tmp("rg-conf-XXXXXX", NULL);

	g_assert_nonnull(d);
	return d;
}

static void rmrf(const char *d)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", d);

	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_cmpint(chmod(path, mode), ==, 0);
}

static void test_load_permissions(void)
{
	static const struct {
		mode_t mode;
		bool ok;
	} modes[] = {
		/* 1 */ { 0600, true }, /* 2 */ { 0400, true }, /* 3 */ { 0640, false },
		/* 4 */ { 0604, false }, /* 5 */ { 0644, false }, /* 6 */ { 0620, false },
	};
	char *d = tmpdir(), *path = g_build_filename(d, "config.toml", NULL), *doc = make_doc(0);
	struct rg_err err = { 0 };
	struct conf c;

	for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
		char want[512];

		write_file(path, doc, modes[i].mode);
		g_test_message("mode %03o", modes[i].mode);
		if (modes[i].ok) {
			g_assert_cmpint(conf_load(&c, path, &err), ==, 0);
			g_assert_cmpstr(c.device_name, ==, "laptop");
		} else {
			g_assert_cmpint(conf_load(&c, path, &err), ==, -EPERM);
			snprintf(want, sizeof(want), "chmod 600 %s", path);
			g_assert_nonnull(strstr(err.msg, want));
		}
		conf_clear(&c);
	}
	/* Errors in a file name the file. */
	write_file(path, "[network]\nname = 1\n", 0600);
	g_assert_cmpint(conf_load(&c, path, &err), <, 0);
	g_assert_true(g_str_has_prefix(err.msg, path));
	g_assert_nonnull(strstr(err.msg, ":2:8: network.name must be a string"));
	g_assert_cmpint(conf_load(&c, d, &err), <, 0);		/* a directory */
	g_unlink(path);
	g_assert_cmpint(conf_load(&c, path, &err), ==, -ENOENT);
	g_free(doc);
	g_free(path);
	rmrf(d);
	g_free(d);
}

static void test_save(void)
{
	char *d = tmpdir(), *path = g_build_filename(d, "a", "b", "config.toml", NULL);
	char *dir = g_path_get_dirname(path), *doc = make_doc(0), *text = NULL;
	struct rg_err err = { 0 };
	struct conf c, back;
	struct stat st;
	GDir *gd;

	g_assert_cmpint(conf_parse(&c, doc, strlen(doc), "c", &err), ==, 0);
	free(c.auth_token);
	c.auth_token = strdup("q\"uo\\te");
	c.mtu = 1400;
	c.ordered = true;
	c.direct_path = false;
	umask(022);
	g_assert_cmpint(conf_save(&c, path, false, &err), ==, 0);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(stat(dir, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0700);
	g_assert_cmpint(conf_load(&back, path, &err), ==, 0);
	g_assert_cmpstr(back.auth_token, ==, "q\"uo\\te");
	g_assert_cmpuint(back.mtu, ==, 1400);
	g_assert_true(back.ordered);
	g_assert_false(back.direct_path);
	g_assert_cmpint(memcmp(back.private_key, c.private_key, RG_KEY_LEN), ==, 0);
	conf_clear(&back);

	/* No overwrite without asking; the file stays as it was. */
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	c.mtu = 1300;
	g_assert_cmpint(conf_save(&c, path, false, &err), ==, -EEXIST);
	g_assert_nonnull(strstr(err.msg, "already exists"));
	g_assert_cmpint(conf_load(&back, path, &err), ==, 0);
	g_assert_cmpuint(back.mtu, ==, 1400);
	conf_clear(&back);
	g_assert_cmpint(conf_save(&c, path, true, &err), ==, 0);
	g_assert_cmpint(conf_load(&back, path, &err), ==, 0);
	g_assert_cmpuint(back.mtu, ==, 1300);
	conf_clear(&back);

	/* An invalid config is not written at all. */
	c.mtu = 10;
	g_assert_cmpint(conf_save(&c, path, true, &err), ==, -EINVAL);
	g_assert_cmpint(conf_load(&back, path, &err), ==, 0);
	g_assert_cmpuint(back.mtu, ==, 1300);
	conf_clear(&back);

	/* No temp files left behind. */
	gd = g_dir_open(dir, 0, NULL);
	g_assert_cmpstr(g_dir_read_name(gd), ==, "config.toml");
	g_assert_null(g_dir_read_name(gd));
	g_dir_close(gd);

	conf_clear(&c);
	g_free(text);
	g_free(doc);
	g_free(dir);
	g_free(path);
	rmrf(d);
	g_free(d);
}

/* ca_file: read as the agent will (PEM certificates), and kept by a save. */
static void test_ca_file(void)
{
	char *d = tmpdir(), *ca = g_build_filename(d, "ca.pem", NULL);
	char *key = g_build_filename(d, "key.pem", NULL), *two = g_build_filename(d, "two.pem", NULL);
	char *bad = g_build_filename(d, "bad.pem", NULL), *path = g_build_filename(d, "c.toml", NULL);
	char *cmd = g_strdup_printf("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
				    "-nodes -days 1 -subj /CN=ca -keyout '%s' -out '%s'", key, ca);
	char *doc0 = make_doc(0), *doc, *text = NULL, *pem = NULL;
	struct rg_err err = { 0 };
	struct conf c, back;
	gint status = -1;

	g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, &status, NULL));
	g_assert_cmpint(status, ==, 0);
	g_assert_cmpint(conf_check_ca_file(ca, &err), ==, 1);
	g_assert_true(g_file_get_contents(ca, &pem, NULL, NULL));
	text = g_strconcat(pem, pem, NULL);
	write_file(two, text, 0644);
	g_assert_cmpint(conf_check_ca_file(two, &err), ==, 2);
	/* a private key alone holds no certificate */
	g_assert_cmpint(conf_check_ca_file(key, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err.msg, "no PEM certificate"));
	g_free(text);
	text = g_strndup(pem, strlen(pem) / 2);
	write_file(bad, text, 0644);
	g_assert_cmpint(conf_check_ca_file(bad, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err.msg, "cannot be read"));
	g_assert_cmpint(conf_check_ca_file("/nonexistent/ca.pem", &err), ==, -ENOENT);
	g_assert_nonnull(strstr(err.msg, "/nonexistent/ca.pem: cannot open"));

	doc = g_strdup_printf("%s[[turn]]\nurl = \"turns:198.18.0.1:5349\"\nusername = \"u\"\n"
			      "credential = \"p\"\nca_file = \"%s\"\n", doc0, ca);
	g_assert_cmpint(conf_parse(&c, doc, strlen(doc), "c", &err), ==, 0);
	g_assert_cmpstr(c.turn[0].ca_file, ==, ca);
	g_assert_cmpint(conf_save(&c, path, false, &err), ==, 0);
	g_assert_cmpint(conf_load(&back, path, &err), ==, 0);
	g_assert_cmpstr(back.turn[0].ca_file, ==, ca);
	conf_clear(&back);
	conf_clear(&c);

	g_free(doc);
	g_free(doc0);
	g_free(text);
	g_free(pem);
	g_free(cmd);
	g_free(path);
	g_free(bad);
	g_free(two);
	g_free(key);
	g_free(ca);
	rmrf(d);
	g_free(d);
}

/* [network] max_peers (default 1024) and allow_insecure_transport round trip; which ws:// URLs
 * send the token in clear (issue 15 items 4, 7). */
static void test_network_caps(void)
{
	static const struct { const char *url; bool insecure; } urls[] = {
		/* 1 */ { "ws://hub.example.com/connect", true },
		/* 2 */ { "ws://10.98.0.1:8080/connect", true },
		/* 3 */ { "ws://[fd00::1]:80", true },
		/* 4 */ { "wss://hub.example.com/connect", false },
		/* 5 */ { "ws://127.0.0.1:8080", false },
		/* 6 */ { "ws://127.9.9.9", false },
		/* 7 */ { "ws://localhost:8080/x", false },
		/* 8 */ { "ws://LocalHost", false },
		/* 9 */ { "ws://[::1]:8080/connect", false },
		/* 10 */ { "ws://localhost.evil.example", true },
		/* 11 */ { "ws://128.0.0.1", true },
		/* 12 */ { "not a url", false },
	};
	char *doc = make_doc(0), *text = NULL;
	struct rg_err err = { 0 };
	struct conf c, d;

	for (size_t i = 0; i < G_N_ELEMENTS(urls); i++) {
		g_test_message("url %zu: %s", i + 1, urls[i].url);
		g_assert_true(conf_server_url_insecure(urls[i].url) == urls[i].insecure);
	}
	g_assert_cmpint(conf_parse(&c, doc, strlen(doc), "c", &err), ==, 0);
	g_assert_cmpuint(c.max_peers, ==, CONF_MAX_PEERS_DEFAULT);
	g_assert_cmpuint(CONF_MAX_PEERS_DEFAULT, ==, 1024);
	g_assert_false(c.allow_insecure_transport);
	c.max_peers = 7;
	c.allow_insecure_transport = true;
	g_assert_cmpint(conf_format(&c, &text), ==, 0);
	g_assert_cmpint(conf_parse(&d, text, strlen(text), "t", &err), ==, 0);
	g_assert_cmpuint(d.max_peers, ==, 7);
	g_assert_true(d.allow_insecure_transport);
	conf_text_free(text);
	conf_clear(&c);
	conf_clear(&d);
	g_free(doc);
}

static void test_default_path(void)
{
	char buf[256];
	struct rg_err err = { 0 };

	g_setenv("XDG_CONFIG_HOME", "/x/cfg", TRUE);
	g_setenv("HOME", "/home/u", TRUE);
	g_assert_cmpint(conf_default_path(buf, sizeof(buf), &err), ==, 0);
	g_assert_cmpstr(buf, ==, "/x/cfg/riftgate/config.toml");
	g_setenv("XDG_CONFIG_HOME", "relative", TRUE);
	g_assert_cmpint(conf_default_path(buf, sizeof(buf), &err), ==, 0);
	g_assert_cmpstr(buf, ==, "/home/u/.config/riftgate/config.toml");
	g_unsetenv("XDG_CONFIG_HOME");
	g_assert_cmpint(conf_default_path(buf, sizeof(buf), &err), ==, 0);
	g_assert_cmpstr(buf, ==, "/home/u/.config/riftgate/config.toml");
	g_unsetenv("HOME");
	g_assert_cmpint(conf_default_path(buf, sizeof(buf), &err), <, 0);
	g_assert_nonnull(strstr(err.msg, "--config"));
	g_assert_cmpint(conf_default_path(buf, 8, &err), <, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf/config/rows", test_rows);
	g_test_add_func("/conf/config/values", test_values);
	g_test_add_func("/conf/config/load-permissions", test_load_permissions);
	g_test_add_func("/conf/config/save", test_save);
	g_test_add_func("/conf/config/default-path", test_default_path);
	g_test_add_func("/conf/config/network-caps", test_network_caps);
	g_test_add_func("/conf/config/ca-file", test_ca_file);
	g_test_add_func("/conf/config/routes-round-trip", test_routes_round_trip);
	g_test_add_func("/conf/config/relay-round-trip", test_relay_round_trip);
	g_test_add_func("/conf/config/log-level", test_log_level);
	return g_test_run();
}
