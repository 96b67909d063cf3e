/* riftgate-hub's server (see server.h): sockets, HTTP/1.1 (http.c) and RFC 6455 WebSocket (ws.c)
 * on one epoll set, feeding the hub core (src/hub).
 *
 * Why not libsoup here: every SoupWebsocketConnection keeps its own GSource, and GMainContext
 * polls all of them on every iteration, so with 10k peers each frame costs O(10k) — the first
 * load test managed 56 joins/s. Here GLib watches a single fd (the epoll set); each wakeup
 * handles at most EVENTS_PER_WAKEUP ready sockets. The client side (signal/client.c) keeps
 * libsoup: it has one socket.
 *
 * One struct hub per network ("default", or /connect/NAME, or ?network=NAME, as the Worker). The
 * hub core is never re-entered: its callbacks only append to output buffers or mark a socket as
 * closing; sockets that die are reaped after the current hub call returns. Runs on the
 * thread-default GMainContext of the creating thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "hub/hub.h"
#include "hubd/http.h"
#include "hubd/limits.h"
#include "hubd/relay.h"
#include "hubd/server.h"
#include "hubd/ws.h"
#include "trust/cert.h"
#include "trust/sign.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/err.h"
#include "util/log.h"

enum {
	LISTEN_BACKLOG = 4096,
	EVENTS_PER_WAKEUP = 64,
	READS_PER_WAKEUP = 8,			/* 16 KiB reads per socket per wakeup */
	WS_MSG_CAP = 2 * HUB_FRAME_MAX,		/* larger messages: close 1009 without reading */
	CLOSE_WAIT_MS = 2000,			/* for the peer's close frame */
	HTTP_HEAD_WAIT_MS = 10000,		/* for a complete request head */
	SWEEP_MS = 250,
};

enum conn_state { C_HTTP, C_WS, C_CLOSING, C_DEAD };

struct network {
	struct hubd_server *s;	/* back-pointer, not owned */
	char *name;
	struct hub hub;
	unsigned n_conns;
};

struct conn {
	uint64_t id;
	int fd;
	enum conn_state state;
	bool http_close;		/* HTTP reply queued: close once flushed */
	bool reaping;			/* already queued for reap() */
	struct network *net;		/* not owned; NULL until upgraded */
	GByteArray *in;			/* bytes read, not yet consumed */
	GByteArray *out;		/* bytes to write, from out_off */
	size_t out_off;
	bool want_out;			/* EPOLLOUT registered */
	struct hubd_ws_reader ws;	/* embedded: fragments of the message in progress */
	uint64_t close_deadline_ms;	/* C_CLOSING: give up waiting then; C_HTTP: head deadline */
	uint64_t join_deadline_ms;	/* C_WS before its first join: closed (1008) then */
	bool joined;			/* the hub registered it at least once */
	bool metrics_port;		/* accepted on --metrics-addr: /metrics and /healthz only */
	bool per_ip;			/* counted in per_ip */
	char remote[INET6_ADDRSTRLEN];
};

/* One log line per period for a limit that may fire thousands of times a second. */
struct ratelog {
	uint64_t last_ms;
	uint64_t suppressed;
};

struct hubd_server {
	int epfd, lfd, mlfd;		/* listeners: WebSocket/HTTP, and --metrics-addr (or -1) */
	guint epoll_src, sweep_src;
	guint accept_pause_src;		/* listeners out of epoll after EMFILE/ENFILE, or 0 */
	char *token;			/* NULL = open hub; wiped on free */
	char *version, *revision;	/* build_info labels, owned */
	GHashTable *conns;		/* uint64 id -> struct conn (owned) */
	GHashTable *networks;		/* name -> struct network (owned) */
	GPtrArray *reap;		/* conns to finalize after the current event */
	uint64_t next_id;
	unsigned n_waiting;		/* conns in C_HTTP or C_CLOSING (sweep_cb skips when 0) */
	unsigned n_unjoined;		/* conns in C_WS that never joined (sweep_cb checks those) */
	struct hubd_limits limits;
	GHashTable *per_ip;		/* remote address -> open conns (GUINT_TO_POINTER) */
	uint64_t out_queued;		/* bytes queued to all sockets (limits.max_queue_total) */
	struct ratelog log_accept, log_cap, log_per_ip, log_join, log_slow;
	uint64_t refused_cap, refused_per_ip, accept_pauses, join_timeouts, slow_drops,
		 budget_drops, close_protocol;
	uint16_t port, metrics_port;
	bool shutting_down;
	struct hub_stats gone;		/* counters of networks already freed */
	struct hub_relay_stats relay_gone;
	struct hub_relay_cfg relay;	/* applied to every network */
	uint64_t ws_total, auth_failures, http_requests;
	uint64_t loop_max_us;		/* most CPU one wakeup of the event handler used */
	/* signed membership; trust false = every join admitted as before */
	bool trust;
	struct trust_ctx tctx;		/* its revoked points at revoked */
	struct trust_revlist *revoked;	/* owned */
	struct trust_bindings *bindings;	/* owned: tickets seen, one binding each */
	struct trust_rotations *rotations;	/* owned: newest key rotation seen per cert */
	char *revoked_file;		/* owned, NULL = none */
	char *state_file;		/* owned, NULL = none: bindings and rotations (hubd_server_cfg) */
	struct timespec revoked_mtime;
	uint64_t admit_refused;
	uint64_t upgrade_revoked;	/* upgrades refused: the client's serial is revoked */
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * RG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	return rg_mono_ns() / RG_NSEC_PER_MSEC;
}

/* True when a limit's log line may be printed now; *suppressed says how many were not. */
static bool ratelog_ok(struct ratelog *r, uint64_t *suppressed)
{
	uint64_t now = now_ms();

	if (r->last_ms && now - r->last_ms < HUBD_LIMIT_LOG_MS) {
		r->suppressed++;
		return false;
	}
	*suppressed = r->suppressed;
	r->suppressed = 0;
	r->last_ms = now;
	return true;
}

/* ---- output ---- */

static size_t queued(const struct conn *c)
{
	return c->out->len - c->out_off;
}

static void out_append(struct hubd_server *s, struct conn *c, const void *p, size_t n)
{
	g_byte_array_append(c->out, p, (guint)n);
	s->out_queued += n;
}

static void set_events(struct hubd_server *s, struct conn *c, bool want_out)
{
	struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == want_out)
		return;
	c->want_out = want_out;
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void mark_dead(struct hubd_server *s, struct conn *c)
{
	if (c->reaping)
		return;
	c->reaping = true;
	g_ptr_array_add(s->reap, c);
}

static void flush_out(struct hubd_server *s, struct conn *c)
{
	while (c->out_off < c->out->len) {
		ssize_t w = send(c->fd, c->out->data + c->out_off, c->out->len - c->out_off,
				 MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			set_events(s, c, true);
			return;
		}
		if (w <= 0) {
			mark_dead(s, c);
			return;
		}
		c->out_off += (size_t)w;
		s->out_queued -= (size_t)w;
	}
	/* all out: give a big buffer back (10k idle peers must not each keep their peak) */
	if (c->out->len > 4096) {
		g_byte_array_unref(c->out);
		c->out = g_byte_array_new();
	} else {
		g_byte_array_set_size(c->out, 0);
	}
	c->out_off = 0;
	set_events(s, c, false);
	if (c->http_close)
		mark_dead(s, c);
}

/* Whether n more bytes may be queued to c: within its own cap and the hub's whole budget. If
 * not, c is the one not reading: it is dropped. */
static bool queue_room(struct hubd_server *s, struct conn *c, size_t n)
{
	bool own = queued(c) + n > s->limits.max_queue;
	uint64_t more;

	if (!own && s->out_queued + n <= s->limits.max_queue_total)
		return true;
	if (own)
		s->slow_drops++;
	else
		s->budget_drops++;
	if (ratelog_ok(&s->log_slow, &more))
		rg_log(RG_LOG_WARN, "event=drop reason=%s conn=%" G_GUINT64_FORMAT " remote=%s "
		       "queued=%zu total=%" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " more since)",
		       own ? "slow-reader" : "output-budget", c->id, c->remote, queued(c),
		       s->out_queued, more);
	mark_dead(s, c);
	return false;
}

static void queue_out(struct hubd_server *s, struct conn *c, const void *p, size_t n)
{
	if (c->reaping || !queue_room(s, c, n))
		return;
	out_append(s, c, p, n);
	if (!c->want_out)
		flush_out(s, c);
}

static void ws_send(struct hubd_server *s, struct conn *c, enum hubd_ws_opcode op, const void *p,
		    size_t n)
{
	uint8_t h[HUBD_WS_SERVER_HEADER_MAX];
	size_t hl = hubd_ws_header(h, op, n);

	/* header and payload are queued together: a frame is never half queued */
	if (c->reaping || !queue_room(s, c, hl + n))
		return;
	if (c->out->len == c->out_off && !c->want_out) {
		/* nothing queued: straight to the socket, queue only what does not fit */
		struct iovec iov[2] = { { h, hl }, { (void *)p, n } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t w;

		do
			w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN) {
			mark_dead(s, c);
			return;
		}
		if (w < 0)
			w = 0;
		if ((size_t)w == hl + n)
			return;
		if ((size_t)w < hl)
			out_append(s, c, h + w, hl - (size_t)w);
		out_append(s, c, (const uint8_t *)p + ((size_t)w > hl ? (size_t)w - hl : 0),
			   n - ((size_t)w > hl ? (size_t)w - hl : 0));
		set_events(s, c, true);
		return;
	}
	out_append(s, c, h, hl);
	out_append(s, c, p, n);
	if (!c->want_out)
		flush_out(s, c);
}

/* Sends a close frame and waits (bounded) for the peer's. */
static void ws_close(struct hubd_server *s, struct conn *c, uint16_t code, const char *reason)
{
	uint8_t p[2 + HUBD_WS_CLOSE_REASON_MAX];

	if (c->state != C_WS)
		return;
	if (!hubd_ws_close_code_valid(code))
		code = HUBD_WS_CLOSE_NORMAL;	/* 1005/1006/1015 are never sent on the wire */
	ws_send(s, c, HUBD_WS_OP_CLOSE, p, hubd_ws_close_payload(p, code, reason));
	if (!c->joined)
		s->n_unjoined--;
	c->state = C_CLOSING;
	s->n_waiting++;
	c->close_deadline_ms = now_ms() + CLOSE_WAIT_MS;
}

/* ---- hub host callbacks ---- */

static void host_send(void *host, uint64_t conn, const char *frame, size_t len)
{
	struct network *n = host;
	struct conn *c = g_hash_table_lookup(n->s->conns, &conn);

	if (c && c->state == C_WS)
		ws_send(n->s, c, HUBD_WS_OP_TEXT, frame, len);
}

static void host_close(void *host, uint64_t conn, uint16_t code, const char *reason)
{
	struct network *n = host;
	struct conn *c = g_hash_table_lookup(n->s->conns, &conn);

	if (c)
		ws_close(n->s, c, code, reason);
}

static void host_joined(void *host, uint64_t conn, const char *peer_id, const char *public_key,
			const char *address)
{
	struct network *n = host;
	struct conn *c = g_hash_table_lookup(n->s->conns, &conn);

	if (c && !c->joined) {
		c->joined = true;
		if (c->state == C_WS)
			n->s->n_unjoined--;
	}
	rg_log(RG_LOG_INFO, "event=join network=%s conn=%" G_GUINT64_FORMAT " peer=%.64s key=%.8s "
	       "address=%s remote=%s", n->name, conn, peer_id, public_key, *address ? address : "-",
	       c ? c->remote : "?");
}

static void *host_grow(void *host, size_t bytes)
{
	(void)host;
	return aligned_alloc(16, (bytes + 15) & ~(size_t)15);
}

static void host_release(void *host, void *chunk, size_t bytes)
{
	(void)host;
	(void)bytes;
	free(chunk);
}

static void host_send_binary(void *host, uint64_t conn, const uint8_t *frame, size_t len)
{
	struct network *n = host;
	struct conn *c = g_hash_table_lookup(n->s->conns, &conn);

	if (c && c->state == C_WS)
		ws_send(n->s, c, HUBD_WS_OP_BINARY, frame, len);
}

static size_t host_backlog(void *host, uint64_t conn)
{
	struct network *n = host;
	struct conn *c = g_hash_table_lookup(n->s->conns, &conn);

	return c ? queued(c) : 0;
}

/* The admin's revocation file, re-read whenever its mtime changes (records that do not verify
 * against the anchor are skipped). */
static void reload_revoked(struct hubd_server *s)
{
	char line[TRUST_REVOKE_B64_MAX + 4];
	struct stat st;
	FILE *f;

	if (!s->revoked_file || stat(s->revoked_file, &st) < 0 ||
	    (st.st_mtim.tv_sec == s->revoked_mtime.tv_sec &&
	     st.st_mtim.tv_nsec == s->revoked_mtime.tv_nsec))
		return;
	f = fopen(s->revoked_file, "re");
	if (!f)
		return;
	s->revoked_mtime = st.st_mtim;
	while (fgets(line, sizeof(line), f)) {
		struct trust_revoke r;

		line[strcspn(line, "\r\n")] = '\0';
		if (trust_revoke_from_base64(&r, line, strlen(line)) == TRUST_OK &&
		    trust_revoke_check(&s->tctx, &r) == TRUST_OK)
			trust_revlist_add(s->revoked, r.serial);
	}
	fclose(f);
}

/* --trust-state: one line per event, "binding ID(16 hex) WGKEY DEVKEY" or "rotation SERIAL(16
 * hex) SEQ WGKEY"; read back in order (a ticket's first binding wins, a cert's newest rotation
 * wins, unreadable lines are skipped). */
static void load_state(struct hubd_server *s)
{
	char line[256], kind[16], a[64], b[64];
	unsigned long long id;
	unsigned seq;
	size_t nb = 0, nr = 0;
	FILE *f;

	if (!s->state_file || !(f = fopen(s->state_file, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %llx %63s %63s", kind, &id, a, b) == 4 &&
		    !strcmp(kind, "binding") && id && s->bindings->n < TRUST_BINDINGS_MAX) {
			struct trust_binding *e = &s->bindings->b[s->bindings->n];
			bool known = false;

			for (size_t i = 0; i < s->bindings->n; i++)
				known |= s->bindings->b[i].id == id;
			if (!known && rg_key_from_base64(e->wg_key, a) &&
			    rg_key_from_base64(e->dev_key, b)) {
				e->id = id;
				s->bindings->n++;
				nb++;
			}
		} else if (sscanf(line, "%15s %llx %u %63s", kind, &id, &seq, a) == 4 &&
			   !strcmp(kind, "rotation") && id && seq) {
			struct trust_rotated *e = (struct trust_rotated *)
				trust_rotations_find(s->rotations, id);
			uint8_t key[TRUST_KEY_LEN];

			if (!rg_key_from_base64(key, a))
				continue;
			if (!e && s->rotations->n < TRUST_ROTATIONS_MAX) {
				e = &s->rotations->e[s->rotations->n++];
				e->serial = id;
				nr++;
			}
			if (e && seq >= e->seq) {
				e->seq = seq;
				memcpy(e->wg_key, key, TRUST_KEY_LEN);
			}
		}
	}
	fclose(f);
	rg_log(RG_LOG_INFO, "event=trust-state file=%s bindings=%zu rotations=%zu", s->state_file,
	       nb, nr);
}

static void append_state(struct hubd_server *s, const char *line)
{
	FILE *f;

	if (!s->state_file || !(f = fopen(s->state_file, "ae"))) {
		if (s->state_file)
			rg_log(RG_LOG_WARN, "event=trust-state-failed file=%s error=\"%m\"",
			       s->state_file);
		return;
	}
	fchmod(fileno(f), 0600);
	fputs(line, f);
	fflush(f);
	fsync(fileno(f));
	fclose(f);
}

/* After an admitted join: what it added to the tables goes to --trust-state. */
static void save_state(struct hubd_server *s, size_t nb, const struct trust_cert *tc,
		       const struct trust_rotation *ro, uint32_t seq_before)
{
	char line[256], k1[RG_KEY_B64_LEN + 1], k2[RG_KEY_B64_LEN + 1];

	if (s->bindings->n > nb) {
		const struct trust_binding *e = &s->bindings->b[s->bindings->n - 1];

		rg_key_to_base64(k1, e->wg_key);
		rg_key_to_base64(k2, e->dev_key);
		snprintf(line, sizeof(line), "binding %016llx %s %s\n", (unsigned long long)e->id,
			 k1, k2);
		append_state(s, line);
	}
	if (ro && ro->seq > seq_before) {
		rg_key_to_base64(k1, ro->new_wg);
		snprintf(line, sizeof(line), "rotation %016llx %u %s\n",
			 (unsigned long long)tc->serial, (unsigned)ro->seq, k1);
		append_state(s, line);
	}
}

static int host_admit(void *host, uint64_t conn, const char *peer_id, const char *public_key,
		      const char *address, const char *cert, const char *rotation,
		      uint32_t *rot_seq, const char **why)
{
	struct network *n = host;
	struct hubd_server *s = n->s;
	struct conn *c = g_hash_table_lookup(s->conns, &conn);
	uint64_t now = rg_wall_ns() / RG_NSEC_PER_SEC;
	struct trust_cert tc, view;
	struct trust_rotation ro;
	uint8_t key[TRUST_KEY_LEN];
	int v;

	reload_revoked(s);
	*rot_seq = 0;
	if (!*cert)
		v = TRUST_E_MALFORMED, *why = "no certificate";
	else if (trust_cert_from_base64(&tc, cert, strlen(cert)) != TRUST_OK)
		v = TRUST_E_MALFORMED;
	else if ((v = trust_cert_check(&s->tctx, &tc, now)) != TRUST_OK)
		;
	else if (*rotation && trust_rotation_from_base64(&ro, rotation, strlen(rotation)) != TRUST_OK)
		v = TRUST_E_MALFORMED;
	else if (*rotation && (v = trust_rotation_check(&s->tctx, &tc, &ro, now)) != TRUST_OK)
		;
	else if (!rg_key_from_base64(key, public_key))
		v = TRUST_E_KEY;
	else {
		size_t nb = s->bindings->n;
		const struct trust_rotated *e = trust_rotations_find(s->rotations, tc.serial);
		uint32_t seq_before = e ? e->seq : 0;

		/* under its key rotation, the cert names the rotation's new key */
		view = tc;
		if (*rotation)
			memcpy(view.wg_key, ro.new_wg, TRUST_KEY_LEN);
		if ((v = trust_cert_matches(&view, peer_id, key, address)) == TRUST_OK &&
		    (v = trust_bindings_use(s->bindings, &tc)) == TRUST_OK)
			v = trust_rotations_use(s->rotations, &tc, *rotation ? &ro : NULL);
		if (v == TRUST_OK)
			save_state(s, nb, &tc, *rotation ? &ro : NULL, seq_before);
	}
	if (v == TRUST_OK) {
		*rot_seq = *rotation ? ro.seq : 0;
		return 0;
	}
	if (*cert)
		*why = trust_verdict_str(v);
	s->admit_refused++;
	rg_log(RG_LOG_INFO, "event=refused network=%s conn=%" G_GUINT64_FORMAT " peer=%.64s "
	       "reason=\"%s\" remote=%s", n->name, conn, peer_id, *why, c ? c->remote : "?");
	return -1;
}

static const struct hub_ops host_ops = {
	.send = host_send, .close = host_close, .joined = host_joined,
	.grow = host_grow, .release = host_release,
	.send_binary = host_send_binary, .backlog = host_backlog,
};

/* One record seen on its way between agents: verified, kept, appended to the revoked file (so
 * it survives a restart); already-known serials are skipped. */
static void take_revocation(struct network *n, const char *text, size_t len)
{
	struct hubd_server *s = n->s;
	char buf[TRUST_REVOKE_B64_MAX + 1];
	struct trust_revoke r;
	FILE *f;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (trust_revoke_from_base64(&r, buf, len) != TRUST_OK ||
	    trust_revoke_check(&s->tctx, &r) != TRUST_OK ||
	    trust_revlist_has(s->revoked, r.serial) ||
	    trust_revlist_add(s->revoked, r.serial) != TRUST_OK)
		return;
	rg_log(RG_LOG_INFO, "event=revoked network=%s peer=%.64s serial=%016" G_GINT64_MODIFIER "x",
	       n->name, r.name, (guint64)r.serial);
	if (!s->revoked_file || !(f = fopen(s->revoked_file, "ae")))
		return;
	fprintf(f, "%s\n", buf);
	fclose(f);
}

/* The `revocations` array of a relayed revoke frame: strings of base64 (no escapes), others
 * skipped. The text is valid JSON (the core validated the frame). */
static void host_revocations(void *host, uint64_t conn, const char *a, size_t len)
{
	size_t i = 0;

	(void)conn;
	while (i < len) {
		size_t start;

		if (a[i] != '"') {
			i++;
			continue;
		}
		start = ++i;
		while (i < len && a[i] != '"' && a[i] != '\\')
			i++;
		if (i < len && a[i] == '"')
			take_revocation(host, a + start, i - start);
		while (i < len && a[i] != '"')	/* an escaped string: skip to its end */
			i += a[i] == '\\' ? 2 : 1;
		i++;
	}
}

static const struct hub_ops host_ops_trust = {
	.send = host_send, .close = host_close, .joined = host_joined,
	.grow = host_grow, .release = host_release,
	.send_binary = host_send_binary, .backlog = host_backlog, .admit = host_admit,
	.revocations = host_revocations,
};

/* ---- networks ---- */

static void add_stats(struct hub_stats *acc, const struct hub_stats *x)
{
	acc->opened += x->opened;
	acc->joins += x->joins;
	acc->relayed += x->relayed;
	acc->rejects += x->rejects;
	acc->replaced += x->replaced;
	acc->frames_in += x->frames_in;
	acc->frames_out += x->frames_out;
}

static void network_free(gpointer p)
{
	struct network *n = p;
	struct hub_stats st;
	struct hub_relay_stats rst;

	hub_get_stats(&n->hub, &st);
	add_stats(&n->s->gone, &st);
	hub_relay_get_stats(&n->hub, &rst);
	hubd_relay_stats_add(&n->s->relay_gone, &rst);
	hub_clear(&n->hub);
	g_free(n->name);
	g_free(n);
}

static struct network *network_get(struct hubd_server *s, const char *name)
{
	struct network *n = g_hash_table_lookup(s->networks, name);

	if (n)
		return n;
	n = g_new0(struct network, 1);
	n->s = s;
	n->name = g_strdup(name);
	hub_init(&n->hub, s->trust ? &host_ops_trust : &host_ops, n);
	hub_set_seed(&n->hub, g_random_int());
	hub_relay_configure(&n->hub, &s->relay);
	hub_set_join_extra_max(&n->hub, s->limits.join_extra_max);
	g_hash_table_insert(s->networks, n->name, n);
	return n;
}

/* ---- connections ---- */

static void conn_free(gpointer p)
{
	struct conn *c = p;

	if (c->fd >= 0)
		close(c->fd);
	g_byte_array_unref(c->in);
	g_byte_array_unref(c->out);
	hubd_ws_reader_clear(&c->ws);
	g_free(c);
}

static void per_ip_drop(struct hubd_server *s, const char *remote)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(s->per_ip, remote));

	if (n <= 1)
		g_hash_table_remove(s->per_ip, remote);
	else
		g_hash_table_insert(s->per_ip, g_strdup(remote), GUINT_TO_POINTER(n - 1));
}

/* Finalizes the sockets marked dead during this event: the hub hears of each (peer-left to the
 * others, which may mark more sockets dead: the loop picks those up too). */
static void reap(struct hubd_server *s)
{
	for (guint i = 0; i < s->reap->len; i++) {
		struct conn *c = s->reap->pdata[i];
		struct network *n = c->net;

		epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		if (c->state == C_HTTP || c->state == C_CLOSING)
			s->n_waiting--;
		else if (c->state == C_WS && !c->joined)
			s->n_unjoined--;
		s->out_queued -= queued(c);
		if (c->per_ip)
			per_ip_drop(s, c->remote);
		if (n) {
			hub_close(&n->hub, c->id);
			rg_log(RG_LOG_INFO, "event=close network=%s conn=%" G_GUINT64_FORMAT
			       " remote=%s", n->name, c->id, c->remote);
		}
		g_hash_table_remove(s->conns, &c->id);
		if (n && --n->n_conns == 0)
			g_hash_table_remove(s->networks, n->name);
	}
	g_ptr_array_set_size(s->reap, 0);
}

static void metrics(struct hubd_server *s, GString *o)
{
	struct hub_stats t = s->gone, st;
	struct hub_relay_stats rt = s->relay_gone, rst;
	uint64_t peers = 0, ws = 0;
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, s->networks);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		hub_get_stats(&((struct network *)v)->hub, &st);
		add_stats(&t, &st);
		hub_relay_get_stats(&((struct network *)v)->hub, &rst);
		hubd_relay_stats_add(&rt, &rst);
		peers += st.peers;
		ws += st.conns;
	}
	/* Build labels come from our own build (meson's version and git describe), never from a
	 * client: no escaping beyond what a tag may hold is needed, but quotes are dropped. */
	g_string_append(o, "# HELP riftgate_hub_build_info The hub's version and git describe.\n"
			"# TYPE riftgate_hub_build_info gauge\nriftgate_hub_build_info{version=\"");
	for (const char *p = s->version; *p; p++)
		if (*p != '"' && *p != '\\' && *p != '\n')
			g_string_append_c(o, *p);
	g_string_append(o, "\",revision=\"");
	for (const char *p = s->revision; *p; p++)
		if (*p != '"' && *p != '\\' && *p != '\n')
			g_string_append_c(o, *p);
	g_string_append(o, "\"} 1\n");
#define M(name, type, help, val)                                                         \
	g_string_append_printf(o, "# HELP riftgate_hub_" name " " help "\n# TYPE riftgate_hub_" \
			       name " " type "\nriftgate_hub_" name " %" G_GUINT64_FORMAT "\n", \
			       (guint64)(val))
	M("peers", "gauge", "Joined peers.", peers);
	M("connections", "gauge", "Open WebSocket connections.", ws);
	M("networks", "gauge", "Networks with at least one connection.",
	  g_hash_table_size(s->networks));
	M("connections_total", "counter", "WebSocket connections accepted.", s->ws_total);
	M("joins_total", "counter", "Successful joins.", t.joins);
	M("messages_relayed_total", "counter", "Offer/answer/ice-candidate frames relayed.",
	  t.relayed);
	M("rejects_total", "counter", "Frames answered with an error frame or a close.", t.rejects);
	M("replaced_total", "counter", "Connections replaced by a newer one with the same peerId.",
	  t.replaced);
	M("frames_in_total", "counter", "Text frames received.", t.frames_in);
	M("frames_out_total", "counter", "Frames sent.", t.frames_out);
	M("auth_failures_total", "counter", "Upgrades refused for a missing or wrong token.",
	  s->auth_failures);
	M("http_requests_total", "counter", "HTTP requests (upgrades included).", s->http_requests);
	M("upgrades_refused_revoked_total", "counter",
	  "Upgrades refused (403) for a revoked certificate serial (X-Riftgate-Serial).",
	  s->upgrade_revoked);
	M("loop_max_microseconds", "gauge", "Most CPU time one wakeup of the event handler used.",
	  s->loop_max_us);
	M("output_queued_bytes", "gauge", "Bytes queued to all sockets (--max-queue-total).",
	  s->out_queued);
	M("refused_max_conns_total", "counter", "Connections closed at accept: --max-conns reached.",
	  s->refused_cap);
	M("refused_per_ip_total", "counter", "Connections closed at accept: --max-conns-per-ip "
	  "reached.", s->refused_per_ip);
	M("accept_pauses_total", "counter", "Times the listener rested: out of file descriptors.",
	  s->accept_pauses);
	M("join_timeouts_total", "counter", "WebSockets closed for not joining in --join-timeout.",
	  s->join_timeouts);
	M("slow_reader_drops_total", "counter", "Sockets closed: their queue passed --max-queue.",
	  s->slow_drops);
	M("output_budget_drops_total", "counter", "Sockets closed: all queues passed "
	  "--max-queue-total.", s->budget_drops);
#undef M
	hubd_relay_metrics(o, &rt);
}

static void http_reply(struct hubd_server *s, struct conn *c, const char *status,
		       const char *type, const char *body, size_t len)
{
	GString *r = g_string_new(NULL);

	hubd_http_reply(r, status, NULL, type, body, len);
	c->http_close = true;	/* one request per connection: close once this is out */
	queue_out(s, c, r->str, r->len);
	g_string_free(r, TRUE);
}

static void http_fixed(struct hubd_server *s, struct conn *c, enum hubd_http_fixed which)
{
	GString *r = g_string_new(NULL);

	hubd_http_fixed_reply(r, which);
	c->http_close = true;
	queue_out(s, c, r->str, r->len);
	g_string_free(r, TRUE);
}

/* A request that is not an upgrade: /healthz, /metrics, else 404. */
static void handle_plain(struct hubd_server *s, struct conn *c, const char *path)
{
	/* with --metrics-addr, /metrics lives on that listener only */
	bool metrics_here = s->mlfd < 0 || c->metrics_port;

	if (!strcmp(path, "/healthz")) {
		http_fixed(s, c, HUBD_REPLY_HEALTHZ);
	} else if (!strcmp(path, "/metrics") && metrics_here) {
		GString *o = g_string_new(NULL);

		metrics(s, o);
		http_reply(s, c, "200 OK", "text/plain; version=0.0.4", o->str, o->len);
		g_string_free(o, TRUE);
	} else {
		http_fixed(s, c, HUBD_REPLY_NOT_FOUND);
	}
}

/* Signed membership: a client names its certificate serial in X-Riftgate-Serial; a revoked one
 * is refused before the upgrade (403, X-Riftgate-Refused: revoked), so it costs no WebSocket, no
 * hub connection and no join frame, and the client backs off as after a refused join. A client
 * that does not say (an old or a lying one) is refused at join as before. */
static bool revoked_at_upgrade(struct hubd_server *s, struct conn *c, const char *serial)
{
	static const char body[] = "this device's certificate is revoked\n";
	uint64_t v = 0;
	GString *r;

	if (!s->trust || !serial || strlen(serial) != 16)
		return false;
	for (int i = 0; i < 16; i++) {
		int d = g_ascii_xdigit_value(serial[i]);

		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	reload_revoked(s);
	if (!trust_revlist_has(s->revoked, v))
		return false;
	s->upgrade_revoked++;
	rg_log(RG_LOG_INFO, "event=refused-upgrade reason=revoked serial=%016" G_GINT64_MODIFIER
	       "x remote=%s", v, c->remote);
	r = g_string_new(NULL);
	hubd_http_reply(r, "403 Forbidden", "X-Riftgate-Refused: revoked\r\n",
			"text/plain; charset=utf-8", body, sizeof(body) - 1);
	c->http_close = true;
	queue_out(s, c, r->str, r->len);
	g_string_free(r, TRUE);
	return true;
}

/* A complete request head in c->in[0, head_len): answer it or upgrade. */
static void handle_http(struct hubd_server *s, struct conn *c, size_t head_len)
{
	struct hubd_http_req rq;
	g_autofree char *name = NULL;
	GString *resp;

	s->http_requests++;
	if (!hubd_http_parse(&rq, (const char *)c->in->data, head_len)) {
		g_byte_array_remove_range(c->in, 0, (guint)head_len);
		http_fixed(s, c, HUBD_REPLY_BAD_REQUEST);
		goto out;
	}
	g_byte_array_remove_range(c->in, 0, (guint)head_len);
	if (strcmp(rq.method, "GET") && strcmp(rq.method, "HEAD")) {
		http_fixed(s, c, HUBD_REPLY_METHOD);
		goto out;
	}
	if (!hubd_http_has_token(rq.upgrade, "websocket") || c->metrics_port) {
		handle_plain(s, c, rq.path);
		goto out;
	}
	/* a WebSocket upgrade */
	name = hubd_http_network_of(rq.path, rq.query);
	if (s->shutting_down) {
		http_fixed(s, c, HUBD_REPLY_SHUTTING_DOWN);
		goto out;
	}
	if (!hubd_http_bearer_ok(rq.auth, s->token)) {
		s->auth_failures++;
		if (rg_log_on(RG_LOG_WARN)) {
			g_autofree char *path = hubd_http_log_escape(rq.path, 200);

			rg_log(RG_LOG_WARN, "event=auth-failed remote=%s path=%s", c->remote, path);
		}
		http_fixed(s, c, HUBD_REPLY_UNAUTHORIZED);
		goto out;
	}
	if (!name) {
		http_fixed(s, c, HUBD_REPLY_BAD_NETWORK);
		goto out;
	}
	if (revoked_at_upgrade(s, c, rq.serial))
		goto out;
	if (!hubd_http_has_token(rq.connection, "upgrade") || !rq.key || strlen(rq.key) != 24 ||
	    !rq.version || strcmp(rq.version, "13")) {
		http_fixed(s, c, HUBD_REPLY_BAD_HANDSHAKE);
		goto out;
	}
	c->net = network_get(s, name);
	if (hub_open(&c->net->hub, c->id)) {
		rg_log(RG_LOG_ERROR, "event=reject reason=out-of-memory remote=%s", c->remote);
		c->net = NULL;
		http_fixed(s, c, HUBD_REPLY_OVERLOADED);
		goto out;
	}
	c->net->n_conns++;
	c->state = C_WS;
	s->n_waiting--;
	s->n_unjoined++;
	c->join_deadline_ms = now_ms() + s->limits.join_timeout_ms;
	s->ws_total++;
	resp = g_string_new(NULL);
	hubd_http_upgrade_reply(resp, rq.key);
	queue_out(s, c, resp->str, resp->len);
	g_string_free(resp, TRUE);
	if (rg_log_on(RG_LOG_DEBUG)) {
		g_autofree char *path = hubd_http_log_escape(rq.path, 200);

		rg_log(RG_LOG_DEBUG, "event=open network=%s conn=%" G_GUINT64_FORMAT " remote=%s "
		       "path=%s", name, c->id, c->remote, path);
	}
out:
	hubd_http_req_clear(&rq);
}

static void deliver(struct conn *c, uint8_t op, const uint8_t *p, size_t n)
{
	if (c->state != C_WS)
		return;	/* closing: the hub already dropped this socket */
	if (op == HUBD_WS_OP_BINARY)
		hub_binary(&c->net->hub, c->id, p, n, now_ms());	/* a relay frame */
	else
		hub_text(&c->net->hub, c->id, (const char *)p, n, now_ms());
}

/* Consumes complete frames from c->in. */
static void handle_frames(struct hubd_server *s, struct conn *c)
{
	size_t off = 0, used;
	struct hubd_ws_event ev;

	while (!c->reaping && off < c->in->len &&
	       (used = hubd_ws_read(&c->ws, c->in->data + off, c->in->len - off, &ev))) {
		off += used;
		switch (ev.kind) {
		case HUBD_WS_EV_NONE:
		case HUBD_WS_EV_PONG:
			break;
		case HUBD_WS_EV_MESSAGE:
			deliver(c, ev.opcode, ev.data, ev.len);
			break;
		case HUBD_WS_EV_CLOSE:
			/* answer (if we have not) and finish */
			if (c->state == C_WS)
				ws_close(s, c, ev.close_code == HUBD_WS_CLOSE_NO_STATUS ?
					 HUBD_WS_CLOSE_NORMAL : ev.close_code, NULL);
			c->http_close = true;	/* close the socket once the echo is out */
			flush_out(s, c);
			break;
		case HUBD_WS_EV_PING:	/* ws.c checked it: final, at most 125 bytes */
			ws_send(s, c, HUBD_WS_OP_PONG, ev.data, ev.len);
			break;
		case HUBD_WS_EV_ERROR:
			ws_close(s, c, ev.close_code, ev.reason);
			mark_dead(s, c);
			break;
		}
	}
	if (off >= c->in->len && off > 4096) {
		g_byte_array_unref(c->in);	/* same reason as in flush_out */
		c->in = g_byte_array_new();
	} else if (off) {
		g_byte_array_remove_range(c->in, 0, (guint)off);
	}
}

static void on_readable(struct hubd_server *s, struct conn *c)
{
	uint8_t buf[16384];

	/* bounded per wakeup (epoll is level-triggered: the rest comes next round), so one
	 * flooding socket cannot starve the others */
	for (int round = 0; round < READS_PER_WAKEUP; round++) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			mark_dead(s, c);
			return;
		}
		g_byte_array_append(c->in, buf, (guint)r);
		if (c->state == C_HTTP) {
			size_t head_len = hubd_http_head_len(c->in->data, c->in->len);

			if (!head_len) {
				if (c->in->len > HUBD_HTTP_HEAD_MAX)
					mark_dead(s, c);
				continue;
			}
			handle_http(s, c, head_len);
		}
		if (c->state == C_WS || c->state == C_CLOSING)
			handle_frames(s, c);
		if (c->reaping)
			return;
	}
}

/* epoll tag of the --metrics-addr listener (the main listener's is NULL, a socket's its conn) */
static char metrics_tag;

static void listeners_watch(struct hubd_server *s, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int op = on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL;

	if (s->lfd >= 0)
		epoll_ctl(s->epfd, op, s->lfd, &ev);
	ev.data.ptr = &metrics_tag;
	if (s->mlfd >= 0)
		epoll_ctl(s->epfd, op, s->mlfd, &ev);
}

static gboolean accept_resume_cb(gpointer data)
{
	struct hubd_server *s = data;

	s->accept_pause_src = 0;
	listeners_watch(s, true);
	return G_SOURCE_REMOVE;
}

/* Out of descriptors (EMFILE/ENFILE) or kernel memory: the pending connection stays in the
 * backlog and the listener stays readable, so polling it again at once would spin. Rest it
 * for HUBD_ACCEPT_PAUSE_MS; sockets closing meanwhile free descriptors. */
static void accept_pause(struct hubd_server *s, int error)
{
	uint64_t more;

	s->accept_pauses++;
	if (ratelog_ok(&s->log_accept, &more))
		rg_log(RG_LOG_WARN, "event=accept-paused error=%s pause_ms=%d conns=%u "
		       "(%" G_GUINT64_FORMAT " more since)", g_strerror(error), HUBD_ACCEPT_PAUSE_MS,
		       g_hash_table_size(s->conns), more);
	if (s->accept_pause_src)
		return;
	listeners_watch(s, false);
	s->accept_pause_src = g_timeout_add(HUBD_ACCEPT_PAUSE_MS, accept_resume_cb, s);
}

static void remote_text(const struct sockaddr_storage *ss, char out[static INET6_ADDRSTRLEN],
			bool *loopback)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
			inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], out, INET6_ADDRSTRLEN);
			*loopback = a6->sin6_addr.s6_addr[12] == 127;
		} else {
			inet_ntop(AF_INET6, &a6->sin6_addr, out, INET6_ADDRSTRLEN);
			*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
		}
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a4->sin_addr, out, INET6_ADDRSTRLEN);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	}
}

/* Whether a new connection from remote is within --max-conns and --max-conns-per-ip; counts
 * it in per_ip when it is. Loopback sources (a reverse proxy on this host) count only against
 * --max-conns unless limits.per_ip_loopback. */
static bool admit_conn(struct hubd_server *s, const char *remote, bool loopback, bool *per_ip)
{
	guint n;
	uint64_t more;

	*per_ip = false;
	if (g_hash_table_size(s->conns) >= s->limits.max_conns) {
		s->refused_cap++;
		if (ratelog_ok(&s->log_cap, &more))
			rg_log(RG_LOG_WARN, "event=refuse reason=max-conns limit=%u remote=%s "
			       "(%" G_GUINT64_FORMAT " more since)", s->limits.max_conns, remote, more);
		return false;
	}
	if (loopback && !s->limits.per_ip_loopback)
		return true;
	n = GPOINTER_TO_UINT(g_hash_table_lookup(s->per_ip, remote));
	if (n >= s->limits.max_conns_per_ip) {
		s->refused_per_ip++;
		if (ratelog_ok(&s->log_per_ip, &more))
			rg_log(RG_LOG_WARN, "event=refuse reason=max-conns-per-ip limit=%u remote=%s "
			       "(%" G_GUINT64_FORMAT " more since)", s->limits.max_conns_per_ip,
			       remote, more);
		return false;
	}
	g_hash_table_insert(s->per_ip, g_strdup(remote), GUINT_TO_POINTER(n + 1));
	*per_ip = true;
	return true;
}

static void on_accept(struct hubd_server *s, int lfd, bool metrics_port)
{
	for (int i = 0; i < EVENTS_PER_WAKEUP && !s->accept_pause_src; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char remote[INET6_ADDRSTRLEN];
		bool loopback, per_ip;
		int one = 1;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				accept_pause(s, errno);
			else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				rg_log(RG_LOG_WARN, "event=accept-failed error=%s", g_strerror(errno));
			return;
		}
		remote_text(&ss, remote, &loopback);
		if (!admit_conn(s, remote, loopback, &per_ip)) {
			close(fd);
			continue;
		}
		/* small frames that must go out now: no Nagle delay behind an unacknowledged one */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = g_new0(struct conn, 1);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

		c->id = ++s->next_id;
		c->fd = fd;
		c->close_deadline_ms = now_ms() + HTTP_HEAD_WAIT_MS;
		c->in = g_byte_array_new();
		c->out = g_byte_array_new();
		c->metrics_port = metrics_port;
		c->per_ip = per_ip;
		memcpy(c->remote, remote, sizeof(remote));
		hubd_ws_reader_init(&c->ws, WS_MSG_CAP);
		g_hash_table_insert(s->conns, &c->id, c);
		s->n_waiting++;
		epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

static gboolean epoll_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct hubd_server *s = data;
	struct epoll_event evs[EVENTS_PER_WAKEUP];
	uint64_t t0 = thread_cpu_ns(), us;
	int n = epoll_wait(fd, evs, EVENTS_PER_WAKEUP, 0);

	(void)cond;
	for (int i = 0; i < n; i++) {
		struct conn *c = evs[i].data.ptr;

		if (!c || c == (void *)&metrics_tag) {
			if (s->lfd >= 0 || s->mlfd >= 0)
				on_accept(s, c ? s->mlfd : s->lfd, c != NULL);
			continue;
		}
		if (c->reaping)
			continue;
		if (evs[i].events & EPOLLOUT)
			flush_out(s, c);
		if (!c->reaping && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			on_readable(s, c);
	}
	reap(s);
	us = (thread_cpu_ns() - t0) / 1000;	/* CPU, not wall: preemption is not our work */
	if (us > s->loop_max_us)
		s->loop_max_us = us;
	return G_SOURCE_CONTINUE;
}

/* Closes sockets whose peer never sent a whole request head, never answered our close frame,
 * or never joined after the upgrade. */
static gboolean sweep_cb(gpointer data)
{
	struct hubd_server *s = data;
	uint64_t now = now_ms(), more;
	GHashTableIter it;
	gpointer v;

	if (!s->n_waiting && !s->n_unjoined)
		return G_SOURCE_CONTINUE;	/* 10k joined peers: nothing to walk */
	g_hash_table_iter_init(&it, s->conns);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct conn *c = v;

		if ((c->state == C_CLOSING || c->state == C_HTTP) && now >= c->close_deadline_ms) {
			mark_dead(s, c);
		} else if (c->state == C_WS && !c->joined && now >= c->join_deadline_ms) {
			s->join_timeouts++;
			if (ratelog_ok(&s->log_join, &more))
				rg_log(RG_LOG_INFO, "event=drop reason=join-timeout conn=%"
				       G_GUINT64_FORMAT " remote=%s (%" G_GUINT64_FORMAT " more since)",
				       c->id, c->remote, more);
			ws_close(s, c, HUBD_WS_CLOSE_POLICY, "join timeout");
		}
	}
	reap(s);
	return G_SOURCE_CONTINUE;
}

/* ---- lifecycle ---- */

/* "HOST:PORT", ":PORT", "[V6]:PORT", "PORT". host NULL = all interfaces. */
static int parse_addr(const char *addr, char **host, guint16 *port, struct rg_err *err)
{
	const char *colon = strrchr(addr, ':');
	const char *ps = colon ? colon + 1 : addr;
	char *end;
	unsigned long p;

	*host = NULL;
	errno = 0;
	p = strtoul(ps, &end, 10);
	if (!*ps || *end || errno || p > 65535)
		return rg_err_set(err, -EINVAL, "address '%s': port must be 0-65535", addr);
	*port = (guint16)p;
	if (colon && colon > addr) {
		if (addr[0] == '[' && colon[-1] == ']')
			*host = g_strndup(addr + 1, (gsize)(colon - addr - 2));
		else
			*host = g_strndup(addr, (gsize)(colon - addr));
	}
	return 0;
}

static int listen_on(GInetAddress *ia, guint16 port, int *fd_out, uint16_t *port_out)
{
	g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, port);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, one = 1, zero = 0, family = g_inet_address_get_family(ia) == G_SOCKET_FAMILY_IPV6 ?
						     AF_INET6 : AF_INET;

	if (!g_socket_address_to_native(sa, &ss, sizeof(ss), NULL))
		return -EINVAL;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));	/* dual stack */
	/* backlog: a burst of peers reconnecting after a restart must not stall in SYN retries */
	if (bind(fd, (struct sockaddr *)&ss, g_socket_address_get_native_size(sa)) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*fd_out = fd;
	*port_out = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
				  ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

/* A listening socket on addr ("HOST:PORT", ":PORT", "[V6]:PORT", "localhost:PORT"). */
static int open_listener(const char *addr, int *fd, uint16_t *port, struct rg_err *err)
{
	g_autofree char *host = NULL;
	g_autoptr(GInetAddress) ia = NULL;
	guint16 want = 0;
	int r;

	if ((r = parse_addr(addr, &host, &want, err)))
		return r;
	if (!host || !*host)
		ia = g_inet_address_new_any(G_SOCKET_FAMILY_IPV6);
	else if (!strcmp(host, "localhost"))
		ia = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	else
		ia = g_inet_address_new_from_string(host);
	if (!ia)
		return rg_err_set(err, -EINVAL, "address '%s': '%s' is not an IP address", addr,
				  host);
	r = listen_on(ia, want, fd, port);
	if (r == -EAFNOSUPPORT && (!host || !*host)) {
		/* no IPv6 on this machine: all IPv4 interfaces then */
		g_clear_object(&ia);
		ia = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
		r = listen_on(ia, want, fd, port);
	}
	if (r)
		return rg_err_set(err, r, "cannot listen on %s: %s", addr, g_strerror(-r));
	return 0;
}

int hubd_server_new(struct hubd_server **out, const struct hubd_server_cfg *cfg,
		      struct rg_err *err)
{
	struct hubd_server *s;
	uint8_t anchor[TRUST_KEY_LEN];
	int r;

	*out = NULL;
	if (cfg->trust_anchor && (!rg_key_from_base64(anchor, cfg->trust_anchor) ||
				  !cfg->trust_network || !*cfg->trust_network ||
				  strlen(cfg->trust_network) > TRUST_NAME_MAX))
		return rg_err_set(err, -EINVAL, "--trust-anchor must be a base64 Ed25519 public key "
				  "(riftgate init --new-network prints it), with --trust-network "
				  "NAME");
	s = g_new0(struct hubd_server, 1);
	s->lfd = -1;
	s->mlfd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->token = cfg->token && *cfg->token ? g_strdup(cfg->token) : NULL;
	s->version = g_strdup(cfg->version ? cfg->version : "");
	s->revision = g_strdup(cfg->revision ? cfg->revision : "");
	if (cfg->trust_anchor) {
		s->trust = true;
		rg_key_from_base64(s->tctx.anchor, cfg->trust_anchor);	/* checked above */
		g_strlcpy(s->tctx.net, cfg->trust_network, sizeof(s->tctx.net));
		s->revoked = g_new0(struct trust_revlist, 1);
		s->bindings = g_new0(struct trust_bindings, 1);
		s->rotations = g_new0(struct trust_rotations, 1);
		s->tctx.revoked = s->revoked;
		s->tctx.verify = trust_verify;
		s->tctx.skew_s = TRUST_SKEW_S;
		s->revoked_file = g_strdup(cfg->revoked_file);
		reload_revoked(s);
		s->state_file = g_strdup(cfg->trust_state_file);
		load_state(s);
	}
	if (cfg->relay)
		s->relay = *cfg->relay;
	else
		hub_relay_cfg_default(&s->relay);
	if (cfg->limits)
		s->limits = *cfg->limits;
	else
		hubd_limits_default(&s->limits);
	s->conns = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, conn_free);
	s->networks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, network_free);
	s->per_ip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s->reap = g_ptr_array_new();
	if (s->epfd < 0) {
		r = rg_err_set(err, -errno, "epoll_create1: %s", g_strerror(errno));
		goto fail;
	}
	if ((r = open_listener(cfg->addr ? cfg->addr : ":8080", &s->lfd, &s->port, err)))
		goto fail;
	if (cfg->metrics_addr &&
	    (r = open_listener(cfg->metrics_addr, &s->mlfd, &s->metrics_port, err)))
		goto fail;
	listeners_watch(s, true);
	s->epoll_src = g_unix_fd_add(s->epfd, G_IO_IN, epoll_cb, s);
	s->sweep_src = g_timeout_add(SWEEP_MS, sweep_cb, s);
	*out = s;
	return 0;
fail:
	hubd_server_free(s);
	return r;
}

uint16_t hubd_server_metrics_port(const struct hubd_server *s)
{
	return s->metrics_port;
}

uint16_t hubd_server_port(const struct hubd_server *s)
{
	return s->port;
}

int hubd_server_open_count(const struct hubd_server *s)
{
	GHashTableIter it;
	gpointer v;
	int n = 0;

	g_hash_table_iter_init(&it, s->conns);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((struct conn *)v)->net)
			n++;
	return n;
}

void hubd_server_shutdown(struct hubd_server *s)
{
	GHashTableIter it;
	gpointer v;

	if (s->shutting_down)
		return;
	s->shutting_down = true;
	if (!s->accept_pause_src)
		listeners_watch(s, false);
	if (s->accept_pause_src)
		g_source_remove(s->accept_pause_src);
	s->accept_pause_src = 0;
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->mlfd >= 0)
		close(s->mlfd);
	s->lfd = s->mlfd = -1;
	g_hash_table_iter_init(&it, s->conns);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct conn *c = v;

		if (c->state == C_WS)
			ws_close(s, c, HUBD_WS_CLOSE_GOING_AWAY, "hub shutting down");
		else if (c->state == C_HTTP)
			mark_dead(s, c);
	}
	reap(s);
}

void hubd_server_free(struct hubd_server *s)
{
	if (!s)
		return;
	if (s->epoll_src)
		g_source_remove(s->epoll_src);
	if (s->sweep_src)
		g_source_remove(s->sweep_src);
	if (s->accept_pause_src)
		g_source_remove(s->accept_pause_src);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->mlfd >= 0)
		close(s->mlfd);
	/* sockets first (they point into networks), then the networks */
	g_hash_table_destroy(s->conns);
	g_hash_table_destroy(s->networks);
	g_hash_table_destroy(s->per_ip);
	g_ptr_array_unref(s->reap);
	if (s->epfd >= 0)
		close(s->epfd);
	g_free(s->revoked);
	g_free(s->bindings);
	g_free(s->rotations);
	g_free(s->revoked_file);
	g_free(s->state_file);
	if (s->token) {
		rg_memzero(s->token, strlen(s->token));
		g_free(s->token);
	}
	g_free(s->version);
	g_free(s->revision);
	g_free(s);
}
