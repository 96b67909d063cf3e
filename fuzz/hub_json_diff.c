/* libFuzzer target, differential: the hub core's JSON reader (src/hub/json.c, as hub.c uses it)
 * against json-glib (what the agent parses with), on the same bytes.
 *
 * A hub with alice (conn 1) and bob (conn 2) joined gets the input as one frame from alice.
 * Fails when
 *   - the hub accepted the frame as JSON and json-glib reads any member the hub acts on (type,
 *     peerId, to, from, publicKey, address) differently: present or not, string or not, which
 *     string (both let the last duplicate win);
 *   - a frame the hub sends to bob reads, through json-glib, as anything but alice's own words:
 *     a relay must say from alice, a join or peer-left must be about alice, and the hub never
 *     sends bob a `peers` list here (the "type\u0000" and "from\u0000" spoofs of issue 15). */
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "hub/json.h"

#define KEY_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define KEY_B "BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static const char *const acted_on[] = { "type", "peerId", "to", "from", "publicKey", "address" };

static JsonObject *glib_object(JsonParser *p, const char *s, size_t len)
{
	JsonNode *root;

	if (!json_parser_load_from_data(p, s, (gssize)len, NULL))
		return NULL;
	root = json_parser_get_root(p);
	return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
}

/* The string json-glib holds for name, or NULL when absent or not a string. */
static const char *glib_str(JsonObject *o, const char *name, bool *present)
{
	JsonNode *n = json_object_get_member(o, name);

	*present = n != NULL;
	if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(n);
}

/* The hub reader's view of member name: the last occurrence, decoded; *is_str false when that
 * value is not a string or holds U+0000 (the hub refuses such values). */
static bool hub_view(const char *s, size_t len, const char *name, char *out, size_t cap,
		     bool *is_str)
{
	struct hub_json_iter it;
	struct hub_json_span k, v;
	bool present = false;
	char kb[64];

	hub_json_iter_init(&it, s, len);
	while (hub_json_iter_next(&it, &k, &v)) {
		long kn = hub_json_decode(&k, kb, sizeof(kb), true);

		if (kn < 0 || (size_t)kn != strlen(name) || memcmp(kb, name, (size_t)kn))
			continue;
		present = true;
		*is_str = v.kind == HUB_JSON_STRING && hub_json_decode(&v, out, cap, false) >= 0;
	}
	return present;
}

static void compare_input(JsonParser *p, const char *s, size_t len)
{
	JsonObject *o;
	static char hv[HUB_FRAME_MAX + 1];

	if (!hub_json_validate_object(s, len, HUB_JSON_DEPTH_MAX))
		return;	/* refused with bad-json: the hub acts on nothing */
	o = glib_object(p, s, len);
	if (!o)
		return;	/* the agent would drop it: no disagreement that matters */
	for (size_t i = 0; i < G_N_ELEMENTS(acted_on); i++) {
		bool hub_str = false, glib_present;
		bool hub_present = hub_view(s, len, acted_on[i], hv, sizeof(hv), &hub_str);
		const char *gv = glib_str(o, acted_on[i], &glib_present);

		if (hub_present != glib_present)
			abort();
		if (hub_str && (!gv || strcmp(gv, hv)))
			abort();
	}
}

struct host {
	JsonParser *parser;
	bool checking;
};

static void h_send(void *host, uint64_t conn, const char *frame, size_t len)
{
	struct host *h = host;
	JsonObject *o;
	const char *type, *who;
	bool present;

	if (len > HUB_FRAME_MAX)
		abort();
	if (!h->checking || conn != 2)
		return;
	o = glib_object(h->parser, frame, len);
	if (!o)
		abort();	/* the hub only writes JSON */
	type = glib_str(o, "type", &present);
	if (!type)
		abort();
	if (!strcmp(type, "offer") || !strcmp(type, "answer") || !strcmp(type, "ice-candidate"))
		who = glib_str(o, "from", &present);
	else if (!strcmp(type, "join") || !strcmp(type, "peer-left"))
		who = glib_str(o, "peerId", &present);
	else if (!strcmp(type, "error"))
		return;	/* alice re-joined as bob with bob's key: bob is told he was replaced */
	else
		abort();
	if (!who || strcmp(who, "alice"))
		abort();
}

static void h_close(void *host, uint64_t conn, uint16_t code, const char *reason)
{
	(void)host; (void)conn; (void)code; (void)reason;
}

static void *h_grow(void *host, size_t bytes)
{
	(void)host;
	return aligned_alloc(16, (bytes + 15) & ~(size_t)15);
}

static void h_release(void *host, void *chunk, size_t bytes)
{
	(void)host; (void)bytes;
	free(chunk);
}

static const struct hub_ops ops = { .send = h_send, .close = h_close, .grow = h_grow,
				    .release = h_release };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ja[] = "{\"type\":\"join\",\"peerId\":\"alice\",\"publicKey\":\"" KEY_A "\"}";
	static const char jb[] = "{\"type\":\"join\",\"peerId\":\"bob\",\"publicKey\":\"" KEY_B "\"}";
	struct host host = { .parser = json_parser_new() };
	struct hub h;

	if (size > HUB_FRAME_MAX)
		goto out;
	compare_input(host.parser, (const char *)data, size);
	hub_init(&h, &ops, &host);
	hub_open(&h, 1);
	hub_open(&h, 2);
	hub_text(&h, 1, ja, sizeof(ja) - 1, 1);
	hub_text(&h, 2, jb, sizeof(jb) - 1, 1);
	host.checking = true;
	hub_text(&h, 1, size ? (const char *)data : NULL, size, 2);
	hub_clear(&h);
out:
	g_object_unref(host.parser);
	return 0;
}
