/* The per-peer state machine (src/agent/peer.c) with a fake rtc and real WireGuard devices.
 *
 * peer.c is compiled into this test (like wireguard-tools' fuzz harnesses include the .c they
 * test) with its timers ten times shorter, and linked against this file's rtc_* functions: a
 * fake peer connection records what the agent asked for (offers, answers, restarts) and the test
 * plays the network (connection state, channel open). WireGuard is real: each remote peer is a
 * wg_device of its own whose datagrams travel through a queue flushed from the loop, so a tunnel
 * is "up" only after a real handshake, and a probe is answered only by a device holding the key.
 * We are "alice"; "bob" and "carol" sort after us (we offer), "aaron" before (it offers). */
#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

#include "conf/keys.h"
#include "signal/msg.h"
#include "util/encoding.h"
#include "util/x25519.h"
#include "wg/device.h"

enum { TIME_SCALE = 10 };

/* peer.c's GLib timeouts, scaled */
static GSource *scaled_timeout_source_new(guint ms)
{
	return g_timeout_source_new(ms / TIME_SCALE);
}
#define g_timeout_source_new scaled_timeout_source_new
#include "agent/peer.c"
#undef g_timeout_source_new

/* ---- fake rtc ---- */

struct rtc_channel {
	struct rtc_peer *pc;
	char label[32];
};

struct rtc_peer {
	const struct rtc_peer_ops *ops;
	void *opaque;
	unsigned id;		/* session: offers we make are "sess=ID gen=N" */
	unsigned gen;		/* bumped by rtc_peer_restart_ice */
	unsigned restarts;
	bool restart_pending;	/* our restart offer is unanswered */
	bool lost;		/* the path was reported lost (the test says so, see path_lost) */
	char *remote;		/* last remote description */
	struct rtc_channel *ch;	/* the `wireguard` channel (ours or the remote's) */
	bool closed;
};

static unsigned next_session = 100;
static unsigned live_pcs;

int rtc_peer_new(struct rtc_peer **out, GMainContext *ctx, const struct rtc_config *cfg,
		 const struct rtc_peer_ops *ops, void *opaque, struct rg_err *err)
{
	struct rtc_peer *pc = g_new0(struct rtc_peer, 1);

	(void)ctx;
	(void)cfg;
	(void)err;
	pc->ops = ops;
	pc->opaque = opaque;
	pc->id = next_session++;
	live_pcs++;
	*out = pc;
	return 0;
}

void rtc_peer_free(struct rtc_peer *pc)
{
	if (!pc)
		return;
	live_pcs--;
	if (pc->ch)
		g_free(pc->ch);
	g_free(pc->remote);
	g_free(pc);
}

void rtc_peer_close(struct rtc_peer *pc)
{
	pc->closed = true;
}

int rtc_peer_create_offer(struct rtc_peer *pc, char **sdp, struct rg_err *err)
{
	(void)err;
	*sdp = g_strdup_printf("sess=%u gen=%u", pc->id, pc->gen);
	return 0;
}

int rtc_peer_create_answer(struct rtc_peer *pc, char **sdp, struct rg_err *err)
{
	(void)err;
	*sdp = g_strdup_printf("answer sess=%u gen=%u", pc->id, pc->gen);
	return 0;
}

int rtc_peer_set_remote_description(struct rtc_peer *pc, enum rtc_sdp_type type, const char *sdp,
				    struct rg_err *err)
{
	if (!g_str_has_prefix(sdp, "sess=") && !g_str_has_prefix(sdp, "answer sess="))
		return rg_err_set(err, -EINVAL, "fake rtc: bad sdp '%s'", sdp);
	if (type == RTC_SDP_ANSWER)
		pc->restart_pending = false;
	g_free(pc->remote);
	pc->remote = g_strdup(sdp);
	return 0;
}

int rtc_peer_add_remote_candidate(struct rtc_peer *pc, const char *c, struct rg_err *err)
{
	(void)pc;
	(void)c;
	(void)err;
	return 0;
}

int rtc_peer_restart_ice(struct rtc_peer *pc)
{
	if (pc->restart_pending)
		return -EBUSY;
	pc->gen++;
	pc->restarts++;
	pc->restart_pending = true;
	return 0;
}

enum rtc_restart_state rtc_peer_restart_state(const struct rtc_peer *pc)
{
	return pc->restart_pending ? RTC_RESTART_LOCAL : RTC_RESTART_NONE;
}

bool rtc_peer_restart_pending(const struct rtc_peer *pc)
{
	return pc->restart_pending;
}

bool rtc_peer_path_lost(const struct rtc_peer *pc)
{
	return pc->lost;
}

bool rtc_peer_direct_up(const struct rtc_peer *pc)
{
	(void)pc;
	return false;	/* the fake never negotiates the direct path */
}

int rtc_peer_set_local_addrs(struct rtc_peer *pc, const char *const *addrs, size_t n)
{
	(void)pc;
	(void)addrs;
	(void)n;
	return 0;
}

/* "sess=S gen=G": same S as the remote description we hold is a restart (other G) or a repeat. */
enum rtc_offer_kind rtc_peer_offer_kind(struct rtc_peer *pc, const char *sdp)
{
	unsigned s1, g1, s2, g2;

	if (!pc->remote || sscanf(sdp, "sess=%u gen=%u", &s1, &g1) != 2 ||
	    sscanf(pc->remote, "sess=%u gen=%u", &s2, &g2) != 2 || s1 != s2)
		return RTC_OFFER_NEW;
	return g1 == g2 ? RTC_OFFER_REPEAT : RTC_OFFER_RESTART;
}

void rtc_peer_get_stats(struct rtc_peer *pc, struct rtc_stats *st)
{
	(void)pc;
	memset(st, 0, sizeof(*st));
	st->local_type = st->remote_type = RTC_CAND_HOST;
	st->rtt_ms = 1;
}

int rtc_peer_create_channel(struct rtc_peer *pc, const char *label, bool ordered,
			    int max_retransmits, struct rtc_channel **out)
{
	(void)ordered;
	(void)max_retransmits;
	g_assert_null(pc->ch);
	pc->ch = g_new0(struct rtc_channel, 1);
	pc->ch->pc = pc;
	g_strlcpy(pc->ch->label, label, sizeof(pc->ch->label));
	*out = pc->ch;
	return 0;
}

const char *rtc_channel_label(const struct rtc_channel *ch)
{
	return ch->label;
}

void rtc_channel_close(struct rtc_channel *ch)
{
	(void)ch;
}

const char *rtc_state_name(enum rtc_state s)
{
	return s == RTC_STATE_CONNECTED ? "connected" : "other";
}

const char *rtc_cand_type_name(enum rtc_cand_type t)
{
	return t == RTC_CAND_HOST ? "host" : "?";
}

/* ---- what agent.c provides to peer.c ---- */

static GPtrArray *sent;		/* struct sig_msg * the agent sent */

void agent_timer_rearm(struct agent *a)
{
	(void)a;
}

static unsigned dns_settings_used;

void agent_dns_use_settings(struct agent_dns *d, const struct trust_settings *s)
{
	(void)d;
	(void)s;
	dns_settings_used++;
}

int agent_send_signal(struct agent *a, const struct sig_msg *m)
{
	struct sig_msg *copy = g_new0(struct sig_msg, 1);
	char *json = sig_msg_to_json(m, NULL, NULL);

	(void)a;
	g_assert_nonnull(json);
	g_assert_cmpint(sig_msg_parse(copy, json, strlen(json), NULL), ==, 0);
	g_free(json);
	g_ptr_array_add(sent, copy);
	return 0;
}

bool agent_turn_credentials(const char *secret, const char *peer_id, int64_t expiry,
			    char *user, size_t user_cap, char *cred, size_t cred_cap)
{
	(void)secret;
	(void)peer_id;
	(void)expiry;
	(void)user;
	(void)user_cap;
	(void)cred;
	(void)cred_cap;
	return false;
}

/* ---- the network: remote WireGuard devices and a datagram queue ---- */

struct remote {
	char id[AGENT_ID_MAX + 1];
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	char pub_b64[AGENT_KEY_B64_MAX + 1];
	struct wg_device *dev;
	struct wg_peer *alice;	/* its peer for us */
	bool alive;		/* answers datagrams */
};

struct dgram {
	struct remote *from;	/* NULL: from alice */
	struct remote *to;	/* NULL: to alice */
	size_t len;
	uint8_t data[WG_PACKET_MAX];
};

struct t {
	struct agent a;
	struct remote remotes[8];
	size_t n_remotes;
	GQueue queue;		/* struct dgram * */
	guint flush_src;
	uint8_t pub[WG_KEY_LEN];
};

static struct t *T;

static struct remote *remote_by_id(const char *id, size_t len)
{
	for (size_t i = 0; i < T->n_remotes; i++)
		if (strlen(T->remotes[i].id) == len && memcmp(T->remotes[i].id, id, len) == 0)
			return &T->remotes[i];
	return NULL;
}

static gboolean flush_cb(gpointer data)
{
	struct dgram *d;

	(void)data;
	T->flush_src = 0;
	while ((d = g_queue_pop_head(&T->queue))) {
		if (d->to && d->to->alive) {
			struct wg_endpoint ep = { .len = 5 };

			memcpy(ep.data, "alice", 5);
			wg_device_input(d->to->dev, &ep, d->data, d->len);
		} else if (!d->to && d->from->alive) {
			struct agent_peer *p = agent_peer_get(&T->a, d->from->id, false);

			if (p)
				wg_device_input(T->a.dev, &p->ep, d->data, d->len);
		}
		g_free(d);
	}
	return G_SOURCE_REMOVE;
}

static void enqueue(struct remote *from, struct remote *to, const uint8_t *buf, size_t len)
{
	struct dgram *d = g_new0(struct dgram, 1);

	g_assert_cmpuint(len, <=, sizeof(d->data));
	d->from = from;
	d->to = to;
	d->len = len;
	memcpy(d->data, buf, len);
	g_queue_push_tail(&T->queue, d);
	if (!T->flush_src)
		T->flush_src = g_idle_add(flush_cb, NULL);
}

/* alice's device: datagrams go to the remote named by the endpoint, over the channel only */
static int alice_send(void *opaque, const struct wg_endpoint *ep, const uint8_t *buf, size_t len)
{
	struct remote *r = remote_by_id((const char *)ep->data, ep->len);
	struct agent_peer *p = r ? agent_peer_get(&T->a, r->id, false) : NULL;

	(void)opaque;
	if (!r || !p || !p->conn || !p->conn->ch)
		return -ENOTCONN;
	enqueue(NULL, r, buf, len);
	return 0;
}

static void alice_tun_write(void *opaque, struct wg_peer *peer, uint8_t *pkt, size_t len)
{
	(void)opaque;
	(void)peer;
	(void)pkt;
	(void)len;
}

static void alice_peer_event(void *opaque, struct wg_peer *peer, enum wg_peer_event ev)
{
	struct agent_peer *p = wg_peer_get_user(peer);

	(void)opaque;
	if (p)
		agent_peer_on_wg_event(p, ev);
}

/* WireGuard's own clocks, advanced by the tests past its handshake rate limit (REKEY_TIMEOUT),
 * which the scaled agent timers do not shorten, and past the TAI64N granularity a responder
 * needs between two initiations. */
static uint64_t clock_offset_ns;

static uint64_t fake_mono_ns(void *opaque)
{
	(void)opaque;
	return rg_mono_ns() + clock_offset_ns;
}

static uint64_t fake_wall_ns(void *opaque)
{
	(void)opaque;
	return rg_wall_ns() + clock_offset_ns;
}

static void advance_wg_clock(void)
{
	clock_offset_ns += 6 * (uint64_t)RG_NSEC_PER_SEC;
}

static const struct wg_device_ops alice_ops = {
	.send = alice_send,
	.mono_ns = fake_mono_ns,
	.wall_ns = fake_wall_ns,
	.tun_write = alice_tun_write,
	.peer_event = alice_peer_event,
};

static int remote_send(void *opaque, const struct wg_endpoint *ep, const uint8_t *buf,
		       size_t len)
{
	(void)ep;
	enqueue(opaque, NULL, buf, len);
	return 0;
}

static const struct wg_device_ops remote_ops = {
	.send = remote_send,
	.mono_ns = fake_mono_ns,
	.wall_ns = fake_wall_ns,
	.tun_write = alice_tun_write,
};

/* A remote device with a fresh key (a reinstall gets another one). */
static struct remote *remote_new(const char *id)
{
	struct remote *r = remote_by_id(id, strlen(id));

	if (!r) {
		g_assert_cmpuint(T->n_remotes, <, G_N_ELEMENTS(T->remotes));
		r = &T->remotes[T->n_remotes++];
	}
	wg_device_free(r->dev);
	memset(r, 0, sizeof(*r));
	g_strlcpy(r->id, id, sizeof(r->id));
	g_assert_cmpint(conf_key_generate(r->priv), ==, 0);
	g_assert_true(rg_x25519_public(r->pub, r->priv));
	rg_key_to_base64(r->pub_b64, r->pub);
	g_assert_cmpint(wg_device_new(&r->dev, &remote_ops, r), ==, 0);
	wg_device_set_private_key(r->dev, r->priv);
	g_assert_cmpint(wg_device_add_peer(r->dev, T->pub, &r->alice), ==, 0);
	struct wg_endpoint ep = { .len = 5 };

	memcpy(ep.data, "alice", 5);
	wg_peer_set_endpoint(r->alice, &ep);
	r->alive = true;
	return r;
}

static void setup(void)
{
	uint8_t priv[WG_KEY_LEN];

	T = g_new0(struct t, 1);
	sent = g_ptr_array_new();
	g_queue_init(&T->queue);
	T->a.ctx = g_main_context_ref(g_main_context_default());
	T->a.peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					   (GDestroyNotify)agent_peer_free);
	T->a.graveyard = g_ptr_array_new();
	T->a.max_peers = AGENT_MAX_PEERS;
	g_strlcpy(T->a.peer_id, "alice", sizeof(T->a.peer_id));
	g_strlcpy(T->a.ifname, "rgtest0", sizeof(T->a.ifname));
	g_strlcpy(T->a.address, "10.0.0.1/24", sizeof(T->a.address));
	T->a.hub_connected = T->a.hub_ever = true;
	g_assert_cmpint(conf_key_generate(priv), ==, 0);
	g_assert_true(rg_x25519_public(T->pub, priv));
	rg_key_to_base64(T->a.key_b64, T->pub);
	g_assert_cmpint(wg_device_new(&T->a.dev, &alice_ops, NULL), ==, 0);
	wg_device_set_private_key(T->a.dev, priv);
}

static void teardown(void)
{
	struct dgram *d;

	g_hash_table_destroy(T->a.peers);
	agent_peer_reap(&T->a);
	g_ptr_array_free(T->a.graveyard, TRUE);
	if (T->a.reap_src)
		g_source_remove(T->a.reap_src);
	if (T->flush_src)
		g_source_remove(T->flush_src);
	while ((d = g_queue_pop_head(&T->queue)))
		g_free(d);
	wg_device_free(T->a.dev);
	for (size_t i = 0; i < T->n_remotes; i++)
		wg_device_free(T->remotes[i].dev);
	g_free(T->a.addr_set);
	g_main_context_unref(T->a.ctx);
	for (guint i = 0; i < sent->len; i++) {
		sig_msg_clear(sent->pdata[i]);
		g_free(sent->pdata[i]);
	}
	g_ptr_array_free(sent, TRUE);
	g_assert_cmpuint(live_pcs, ==, 0);
	g_free(T);
}

/* ---- driving ---- */

static gboolean timeout_flag_cb(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

/* Runs the loop for ms of real time. */
static void run_ms(unsigned ms)
{
	bool done = false;
	guint src = g_timeout_add(ms, timeout_flag_cb, &done);

	while (!done)
		g_main_context_iteration(NULL, TRUE);
	(void)src;
}

/* Runs the loop until p reaches state s (or fails the test after 5 s). */
static void run_until_state(struct agent_peer *p, enum agent_peer_state s)
{
	bool late = false;
	guint src = g_timeout_add(5000, timeout_flag_cb, &late);

	while (p->state != s && !late)
		g_main_context_iteration(NULL, TRUE);
	if (late)
		g_error("peer %s: state %s, expected %s", p->id, agent_peer_state_name(p->state),
			agent_peer_state_name(s));
	g_source_remove(src);
}

static void deliver(const struct sig_msg *m)
{
	agent_peer_on_signal(&T->a, m);
}

static void join(const char *id, const char *key, const char *address)
{
	struct sig_msg m = { 0 };

	sig_msg_init_join(&m, id, key, address);
	deliver(&m);
	sig_msg_clear(&m);
}

static void offer_from(const char *from, const char *sdp, const char *key, const char *address)
{
	struct sig_msg m = { 0 };

	sig_msg_init_offer(&m, SIG_MSG_OFFER, from, "alice", sdp, key, address);
	deliver(&m);
	sig_msg_clear(&m);
}

static void answer_from(const char *from, const char *sdp)
{
	struct sig_msg m = { 0 };

	sig_msg_init_offer(&m, SIG_MSG_ANSWER, from, "alice", sdp, NULL, NULL);
	deliver(&m);
	sig_msg_clear(&m);
}

/* Messages of a type sent to id since index *from (advanced). */
static unsigned count_sent(enum sig_msg_type type, const char *to, guint *from)
{
	unsigned n = 0;

	for (guint i = from ? *from : 0; i < sent->len; i++) {
		const struct sig_msg *m = sent->pdata[i];

		n += m->type == type && m->to && strcmp(m->to, to) == 0;
	}
	if (from)
		*from = sent->len;
	return n;
}

static struct agent_peer *peer(const char *id)
{
	return agent_peer_get(&T->a, id, false);
}

/* The remote side's `wireguard` channel opens on our connection. */
static void channel_opens(struct agent_peer *p)
{
	struct rtc_peer *pc = p->conn->pc;
	struct rtc_channel *ch;

	pc->ops->state_changed(pc->opaque, RTC_STATE_CHECKING);
	pc->ops->state_changed(pc->opaque, RTC_STATE_CONNECTED);
	if (!pc->ch)
		g_assert_cmpint(rtc_peer_create_channel(pc, "wireguard", false, 0, &ch), ==, 0);
	pc->ops->channel_open(pc->opaque, pc->ch);
}

/* Brings a tunnel to r up from scratch: r joins, the offerer offers, the other answers, the
 * channel opens and WireGuard completes a real handshake. */
static struct agent_peer *bring_up(struct remote *r, const char *address)
{
	struct agent_peer *p;
	guint mark = sent->len;

	join(r->id, r->pub_b64, address);
	p = peer(r->id);
	g_assert_nonnull(p);
	if (p->offerer) {
		g_assert_cmpuint(count_sent(SIG_MSG_OFFER, r->id, &mark), ==, 1);
		g_assert_cmpint(p->state, ==, AGENT_PEER_SIGNALING);
		char *ans = g_strdup_printf("answer sess=%u gen=0", next_session++);

		answer_from(r->id, ans);
		g_free(ans);
	} else {
		char *sdp = g_strdup_printf("sess=%u gen=0", next_session++);

		offer_from(r->id, sdp, r->pub_b64, address);
		g_free(sdp);
		g_assert_cmpuint(count_sent(SIG_MSG_ANSWER, r->id, &mark), ==, 1);
	}
	g_assert_nonnull(p->conn);
	channel_opens(p);
	if (!p->offerer)
		g_assert_cmpint(wg_peer_handshake_now(r->alice), ==, 0);
	run_until_state(p, AGENT_PEER_UP);
	advance_wg_clock();	/* a probe may send its handshake at once */
	return p;
}

static struct wg_peer *route(const char *ip)
{
	uint8_t a[16] = { 0 };

	g_assert_cmpint(inet_pton(AF_INET, ip, a), ==, 1);
	return wg_device_route(T->a.dev, AF_INET, a);
}

/* ---- cases ---- */

static void test_up(void)
{
	struct remote *bob, *aaron;
	struct agent_peer *p;

	setup();
	bob = remote_new("bob");
	aaron = remote_new("aaron");
	p = bring_up(bob, "10.0.0.2/24");
	g_assert_true(p->offerer);
	g_assert_true(route("10.0.0.2") == p->wg);
	p = bring_up(aaron, "10.0.0.3/24");
	g_assert_false(p->offerer);
	g_assert_true(route("10.0.0.3") == p->wg);
	teardown();
}

/* Issue 15 item 0: a newcomer announcing a live peer's address gets nothing. */
static void test_address_owned(void)
{
	struct remote *bob, *mallory;
	struct agent_peer *p, *m;
	struct wg_peer *bob_wg;

	setup();
	bob = remote_new("bob");
	mallory = remote_new("mallory");
	p = bring_up(bob, "10.0.0.2/24");
	bob_wg = p->wg;
	join("mallory", mallory->pub_b64, "10.0.0.2/24");
	m = peer("mallory");
	g_assert_nonnull(m);
	g_assert_null(m->wg);
	g_assert_null(m->conn);
	g_assert_cmpstr(m->rejected, ==, "address 10.0.0.2 owned by bob");
	g_assert_true(route("10.0.0.2") == bob_wg);
	g_assert_cmpint(p->state, ==, AGENT_PEER_UP);
	/* its offers are refused the same way, counted, and the tunnel to bob is untouched */
	offer_from("mallory", "sess=7001 gen=0", mallory->pub_b64, "10.0.0.2/24");
	g_assert_null(m->conn);
	g_assert_cmpuint(m->rejections, ==, 2);
	g_assert_true(route("10.0.0.2") == bob_wg);
	/* our own address is not taken either */
	join("mallory2", remote_new("mallory2")->pub_b64, "10.0.0.1/24");
	g_assert_cmpstr(peer("mallory2")->rejected, ==, "address 10.0.0.1 is ours");
	g_assert_null(peer("mallory2")->wg);
	teardown();
}

/* A peer that is gone (not on the hub, no tunnel) may lose its address: readdressing works. */
static void test_address_of_gone_peer(void)
{
	struct remote *carol, *dave;
	struct agent_peer *c, *d;
	struct sig_msg left = { .type = SIG_MSG_PEER_LEFT, .peer_id = (char *)"carol" };

	setup();
	carol = remote_new("carol");
	dave = remote_new("dave");
	join("carol", carol->pub_b64, "10.0.0.4/24");
	c = peer("carol");
	g_assert_true(route("10.0.0.4") == c->wg);
	deliver(&left);
	g_assert_cmpint(c->state, ==, AGENT_PEER_LEFT);
	join("dave", dave->pub_b64, "10.0.0.4/24");
	d = peer("dave");
	g_assert_nonnull(d->wg);
	g_assert_true(route("10.0.0.4") == d->wg);
	g_assert_cmpstr(c->address, ==, "");
	teardown();
}

/* Issue 15 item 0: a newcomer announcing a key in use by another id is refused. */
static void test_key_in_use(void)
{
	struct remote *bob;
	struct agent_peer *p, *m;
	struct wg_peer *bob_wg;

	setup();
	bob = remote_new("bob");
	p = bring_up(bob, "10.0.0.2/24");
	bob_wg = p->wg;
	join("mallory", bob->pub_b64, "10.0.0.9/24");
	m = peer("mallory");
	g_assert_null(m->wg);
	g_assert_true(g_str_has_prefix(m->rejected, "public key "));
	g_assert_true(g_str_has_suffix(m->rejected, "... in use by bob"));
	g_assert_true(p->wg == bob_wg);
	g_assert_cmpstr(p->key_b64, ==, bob->pub_b64);
	g_assert_true(wg_peer_get_user(bob_wg) == p);
	g_assert_cmpint(p->state, ==, AGENT_PEER_UP);
	g_assert_null(route("10.0.0.9"));
	teardown();
}

/* Issue 15 item 0: the intruder holds bob's id on the hub (the real bob was evicted and backs
 * off) and offers a new connection without a publicKey. The working tunnel stays; the probe
 * is answered by the real bob, so the offer is refused. A join with another key or address
 * under bob's id is held and refused the same way. */
static void test_intruder_same_id(void)
{
	struct remote *bob, *eve;
	struct agent_peer *p;
	struct agent_conn *conn;
	struct wg_peer *bob_wg;
	guint mark;

	setup();
	bob = remote_new("bob");
	p = bring_up(bob, "10.0.0.2/24");
	conn = p->conn;
	bob_wg = p->wg;
	mark = sent->len;
	offer_from("bob", "sess=8001 gen=0", NULL, NULL);
	g_assert_true(p->conn == conn);
	g_assert_cmpint(p->state, ==, AGENT_PEER_UP);
	g_assert_cmpuint(count_sent(SIG_MSG_ANSWER, "bob", &mark), ==, 0);
	g_assert_nonnull(p->held_offer);
	run_ms(3 * AGENT_PROBE_MS / TIME_SCALE);
	g_assert_null(p->held_offer);
	g_assert_true(p->conn == conn);
	g_assert_cmpint(p->state, ==, AGENT_PEER_UP);
	g_assert_cmpuint(count_sent(SIG_MSG_ANSWER, "bob", &mark), ==, 0);
	g_assert_cmpstr(p->rejected, ==, "offer of a new connection while its tunnel works (held; "
			"probing it)");

	advance_wg_clock();
	eve = remote_new("eve");
	join("bob", eve->pub_b64, "10.0.0.66/24");
	g_assert_true(p->wg == bob_wg);
	g_assert_cmpstr(p->pending_key, ==, eve->pub_b64);
	run_ms(3 * AGENT_PROBE_MS / TIME_SCALE);
	g_assert_true(p->wg == bob_wg);
	g_assert_cmpstr(p->key_b64, ==, bob->pub_b64);
	g_assert_cmpstr(p->address, ==, "10.0.0.2/24");
	g_assert_cmpstr(p->pending_key, ==, "");
	g_assert_true(route("10.0.0.2") == bob_wg);
	g_assert_null(route("10.0.0.66"));
	g_assert_true(p->conn == conn);
	g_assert_cmpint(p->state, ==, AGENT_PEER_UP);
	/* the real bob coming back (same key, same address) changes nothing */
	advance_wg_clock();
	join("bob", bob->pub_b64, "10.0.0.2/24");
	run_ms(3 * AGENT_PROBE_MS / TIME_SCALE);
	g_assert_true(p->conn == conn);
	g_assert_cmpstr(p->key_b64, ==, bob->pub_b64);
	teardown();
}

/* The same announcements from a device that really restarted (reinstalled: new key): its old
 * tunnel does not answer the probe, so the change is taken and we reconnect. */
static void test_reinstalled_peer(void)
{
	struct remote *bob;
	struct agent_peer *p;
	guint mark;

	setup();
	bob = remote_new("bob");
	p = bring_up(bob, "10.0.0.2/24");
	bob = remote_new("bob");	/* new key; the old device is gone */
	mark = sent->len;
	join("bob", bob->pub_b64, "10.0.0.2/24");
	g_assert_cmpstr(p->key_b64, !=, bob->pub_b64);
	run_ms(3 * AGENT_PROBE_MS / TIME_SCALE);
	g_assert_cmpstr(p->key_b64, ==, bob->pub_b64);
	g_assert_cmpstr(p->rejected, ==, "");
	g_assert_cmpuint(count_sent(SIG_MSG_OFFER, "bob", &mark), ==, 1);
	g_assert_cmpint(p->state, ==, AGENT_PEER_SIGNALING);
	teardown();
}

/* A restarted offerer (aaron < alice) offers a new connection at once: the offer is held while
 * the dead tunnel is probed, then answered. */
static void test_restarted_offerer(void)
{
	struct remote *aaron;
	struct agent_peer *p;
	struct agent_conn *conn;
	guint mark;

	setup();
	aaron = remote_new("aaron");
	p = bring_up(aaron, "10.0.0.3/24");
	conn = p->conn;
	aaron->alive = false;		/* its old side is gone */
	mark = sent->len;
	join("aaron", aaron->pub_b64, "10.0.0.3/24");
	offer_from("aaron", "sess=9001 gen=0", aaron->pub_b64, "10.0.0.3/24");
	g_assert_true(p->conn == conn);
	g_assert_cmpuint(count_sent(SIG_MSG_ANSWER, "aaron", &mark), ==, 0);
	run_ms(3 * AGENT_PROBE_MS / TIME_SCALE);
	g_assert_true(p->conn != conn);
	g_assert_cmpuint(count_sent(SIG_MSG_ANSWER, "aaron", &mark), ==, 1);
	g_assert_cmpstr(p->conn->pc->remote, ==, "sess=9001 gen=0");
	g_assert_cmpint(p->state, ==, AGENT_PEER_ICE);	/* answered: checks run */
	teardown();
}

/* rtc reports the path of p's connection lost (consent, ICE failure or silence). */
static void path_lost(struct agent_peer *p)
{
	struct rtc_peer *pc = p->conn->pc;

	pc->lost = true;
	pc->ops->ice_path(pc->opaque, false, "consent lost");
}

/* Issue 13 item 3: a path lost while the hub is away (after a first connection) is kept and
 * restarted when the hub is back; with the hub reachable it restarts at once. */
static void test_hub_away_deferral(void)
{
	struct remote *bob;
	struct agent_peer *p;
	guint mark;

	setup();
	bob = remote_new("bob");
	p = bring_up(bob, "10.0.0.2/24");
	T->a.hub_connected = false;	/* outage after the first connection: hub_ever stays */
	g_assert_true(T->a.hub_ever);
	mark = sent->len;
	path_lost(p);
	g_assert_cmpint(p->state, ==, AGENT_PEER_UP);
	g_assert_false(peer_restarting(p));
	g_assert_cmpuint(p->conn->pc->restarts, ==, 0);
	g_assert_cmpuint(count_sent(SIG_MSG_OFFER, "bob", &mark), ==, 0);
	T->a.hub_connected = true;
	agent_peer_on_hub_connected(&T->a);
	g_assert_true(peer_restarting(p));
	g_assert_cmpuint(p->conn->pc->restarts, ==, 1);
	g_assert_cmpuint(count_sent(SIG_MSG_OFFER, "bob", &mark), ==, 1);
	teardown();
}

static void test_hub_reachable_restarts_at_once(void)
{
	struct remote *bob;
	struct agent_peer *p;
	guint mark;

	setup();
	bob = remote_new("bob");
	p = bring_up(bob, "10.0.0.2/24");
	mark = sent->len;
	path_lost(p);
	g_assert_true(peer_restarting(p));
	g_assert_cmpuint(p->conn->pc->restarts, ==, 1);
	g_assert_cmpuint(count_sent(SIG_MSG_OFFER, "bob", &mark), ==, 1);
	teardown();
}

/* Issue 15 item 5: ids outside A-Z a-z 0-9 . _ - (1-64) are refused and counted. */
static void test_bad_ids(void)
{
	static const char *const bad[] = {
		"ev\nil", "\x1b]0;x\x07", "a b", "", "caf\xc3\xa9", "a/b",
		"0123456789012345678901234567890123456789012345678901234567890123456789",
	};
	struct remote *r;

	setup();
	r = remote_new("ok");
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		join(bad[i], r->pub_b64, NULL);
		offer_from(bad[i], "sess=1 gen=0", r->pub_b64, NULL);
	}
	g_assert_cmpuint(g_hash_table_size(T->a.peers), ==, 0);
	g_assert_cmpuint(T->a.refused_bad_id, ==, 2 * G_N_ELEMENTS(bad));
	join("Ok.name_1-2", r->pub_b64, NULL);
	g_assert_nonnull(peer("Ok.name_1-2"));
	teardown();
}

/* Issue 16: DNS settings pushed to an unsigned network (no trust anchor to check them) are
 * refused and counted, whatever they hold, and never used. */
static void test_settings_unsigned(void)
{
	struct sig_msg m = { .type = SIG_MSG_REVOKE };

	setup();
	m.from = g_strdup("peer1");
	m.to = g_strdup(T->a.peer_id);
	m.revocations = g_new0(char *, 1);
	m.settings = g_strdup("cmcBBQNsYWI=");
	deliver(&m);
	deliver(&m);
	g_assert_cmpuint(T->a.settings_refused, ==, 2);
	g_assert_null(T->a.settings);
	g_assert_cmpuint(dns_settings_used, ==, 0);
	sig_msg_clear(&m);
	teardown();
}

/* Issue 15 item 4: at most max_peers entries; beyond, refused and counted; a peer that left
 * without a tunnel makes room. */
static void test_max_peers(void)
{
	struct sig_msg m = { .type = SIG_MSG_PEERS };
	struct sig_peer list[5];
	char ids[5][8];
	struct sig_msg left = { .type = SIG_MSG_PEER_LEFT, .peer_id = (char *)"p0" };

	setup();
	T->a.max_peers = 3;
	for (int i = 0; i < 5; i++) {
		g_snprintf(ids[i], sizeof(ids[i]), "p%d", i);
		list[i] = (struct sig_peer){ .peer_id = ids[i],
					     .public_key = remote_new(ids[i])->pub_b64 };
	}
	m.peers = list;
	m.n_peers = 5;
	deliver(&m);
	g_assert_cmpuint(g_hash_table_size(T->a.peers), ==, 3);
	g_assert_cmpuint(T->a.refused_over_max, ==, 2);
	g_assert_null(peer("p3"));
	deliver(&left);		/* p0 leaves before any tunnel: its entry may go */
	join("p3", list[3].public_key, NULL);
	g_assert_nonnull(peer("p3"));
	g_assert_null(peer("p0"));
	g_assert_cmpuint(g_hash_table_size(T->a.peers), ==, 3);
	join("p4", list[4].public_key, NULL);
	g_assert_null(peer("p4"));
	g_assert_cmpuint(T->a.refused_over_max, ==, 3);
	teardown();
}

/* Issue 15 item 4: a peer known only from its offer, never announced by the hub, is removed. */
static void test_unconfirmed_removed(void)
{
	struct remote *zed, *yan;

	setup();
	zed = remote_new("aaa");
	yan = remote_new("aab");
	offer_from("aaa", "sess=5 gen=0", zed->pub_b64, "10.0.0.7/24");
	g_assert_nonnull(peer("aaa"));
	g_assert_nonnull(peer("aaa")->conn);
	join("aab", yan->pub_b64, NULL);
	offer_from("aab", "sess=6 gen=0", yan->pub_b64, NULL);
	run_ms(AGENT_CONFIRM_MS / TIME_SCALE + 300);
	g_assert_null(peer("aaa"));
	g_assert_null(route("10.0.0.7"));
	g_assert_nonnull(peer("aab"));
	teardown();
}

/* relay.c's silence tracking: the relay takes over only after a second of unanswered sends, and
 * an idle spell (last datagram a WireGuard keepalive nobody answers) is not silence. */
static void test_quiet(void)
{
	static const struct {
		uint64_t ms;	/* time of a send */
		uint64_t rx;	/* rtc's received-datagram counter then */
		bool quiet;	/* expected verdict */
	} sends[] = {
		/* 1 */ { 0, 5, false },	/* first send: counting starts */
		/* 2 */ { 500, 5, false },
		/* 3 */ { 1000, 5, true },	/* a second of sending, nothing heard */
		/* 4 */ { 1150, 6, false },	/* an answer (polled): heard */
		/* 5 */ { 1200, 6, false },
		/* 6 */ { 1300, 6, false },	/* keepalive; nothing answers it */
		/* 7 */ { 61300, 6, false },	/* a minute later: a new episode, not a silent path */
		/* 8 */ { 61900, 6, false },
		/* 9 */ { 62400, 6, true },	/* still unanswered a second into the new episode */
		/* 10 */ { 62450, 6, true },	/* within one poll period, counter not read */
		/* 11 */ { 64500, 7, false },	/* a pause, then an answer */
	};
	struct agent_quiet q = { 0 };

	for (size_t i = 0; i < G_N_ELEMENTS(sends); i++) {
		uint64_t now = (sends[i].ms + 10000) * RG_NSEC_PER_MSEC;
		uint64_t rx = agent_quiet_poll_due(&q, now) ? sends[i].rx : q.rx;

		g_test_message("send %zu at %" G_GUINT64_FORMAT " ms", i + 1, sends[i].ms);
		g_assert_cmpint(agent_quiet_on_send(&q, now, rx), ==, sends[i].quiet);
		g_assert_cmpint(agent_quiet_now(&q, now), ==, sends[i].quiet);
	}
}

/* agent.c's WireGuard timer (agent_timer_moves): set for the first deadline and for an earlier
 * one; a later deadline or none leaves it (it fires early, finds nothing due and rearms), so
 * the deadline moving with every data packet does not wake the loop each time. */
static void test_timer_moves(void)
{
	static const struct { gint64 cur, want; bool moves; } t[] = {
		/* 1 */ { -1, -1, false },
		/* 2 */ { -1, 0, true },
		/* 3 */ { -1, 5000, true },
		/* 4 */ { 5000, 4999, true },
		/* 5 */ { 5000, 5000, false },
		/* 6 */ { 5000, 5001, false },
		/* 7 */ { 5000, -1, false },
		/* 8 */ { 0, 1, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
		g_assert_cmpint(agent_timer_moves(t[i].cur, t[i].want), ==, t[i].moves);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	rg_log_set_level(g_test_verbose() ? RG_LOG_DEBUG : RG_LOG_ERROR);
	g_test_add_func("/agent/peer/quiet", test_quiet);
	g_test_add_func("/agent/peer/up", test_up);
	g_test_add_func("/agent/peer/address-owned", test_address_owned);
	g_test_add_func("/agent/peer/address-of-gone-peer", test_address_of_gone_peer);
	g_test_add_func("/agent/peer/key-in-use", test_key_in_use);
	g_test_add_func("/agent/peer/intruder-same-id", test_intruder_same_id);
	g_test_add_func("/agent/peer/reinstalled-peer", test_reinstalled_peer);
	g_test_add_func("/agent/peer/restarted-offerer", test_restarted_offerer);
	g_test_add_func("/agent/peer/hub-away-deferral", test_hub_away_deferral);
	g_test_add_func("/agent/peer/hub-reachable-restarts", test_hub_reachable_restarts_at_once);
	g_test_add_func("/agent/peer/bad-ids", test_bad_ids);
	g_test_add_func("/agent/peer/max-peers", test_max_peers);
	g_test_add_func("/agent/peer/settings-unsigned", test_settings_unsigned);
	g_test_add_func("/agent/peer/unconfirmed-removed", test_unconfirmed_removed);
	g_test_add_func("/agent/peer/timer-moves", test_timer_moves);
	return g_test_run();
}
