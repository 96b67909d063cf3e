/* Hub relay (see relay.h): routes binary relay frames between joined peers of one network.
 *
 * Called from the host's event loop through hub_binary(), like hub_text(); reaches the
 * connection table only through hub-int.h. Budgets are token buckets in "charged bytes"
 * (frame length + HUB_RELAY_FRAME_COST, so floods of tiny frames pay too), refilled from the
 * host's millisecond clock:
 *	abuse	per socket, close_factor x the socket rate: every frame pays; empty = close 1008
 *	tokens	per socket, sock_rate/sock_burst: a relayed frame pays
 *	net	per network, net_rate/net_burst: a relayed frame pays
 *	fair	per socket, net_rate / active senders: a relayed frame pays, down to -sock_burst.
 *		Checked only while the network bucket is under half full (congested): a sender
 *		that borrowed while the network was idle is the first one held back, so under
 *		load every active sender gets about the same share (max-min fair without a queue).
 *	rx	per receiving socket, recv_rate/recv_burst: a relayed frame pays (all its senders);
 *		frames within their sender's share may take it into debt, down to -recv_burst
 *	flow	per (sender, receiver): deficit round robin without a queue. Each refill of the
 *		receiver's budget is dealt out as equal quanta to the senders active toward it
 *		(recv_rate / n per second each); a frame pays from its flow's deficit, which may go
 *		into debt (down to one receiver burst) while the receiver has room. Once the
 *		receiver is congested (its bucket under half, or its host backlog over half of
 *		backlog_max) a sender without deficit left is dropped, not queued: however hard
 *		one sender pushes, every other sender of that receiver keeps min(its rate, 1/n).
 *		HUB_RELAY_FLOWS senders per receiver are tracked; a new one takes the slot of the
 *		one heard from longest ago.
 * Freestanding: no libc calls.
 */
#include "hub/hub-int.h"
#include "hub/hub.h"

enum {
	MS_PER_DAY = 86400000,
	REFILL_CAP_MS = 60000,		/* longer idle periods refill like one minute */
};

void hub_relay_cfg_default(struct hub_relay_cfg *cfg)
{
	cfg->enabled = true;
	cfg->sock_rate = HUB_RELAY_SOCK_RATE;
	cfg->sock_burst = HUB_RELAY_SOCK_BURST;
	cfg->net_rate = HUB_RELAY_NET_RATE;
	cfg->net_burst = HUB_RELAY_NET_BURST;
	cfg->recv_rate = HUB_RELAY_RECV_RATE;
	cfg->recv_burst = HUB_RELAY_RECV_BURST;
	cfg->backlog_max = HUB_RELAY_BACKLOG_MAX;
	cfg->close_factor = HUB_RELAY_CLOSE_FACTOR;
	cfg->daily_bytes = 0;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void hub_relay_configure(struct hub *h, const struct hub_relay_cfg *cfg)
{
	struct hub_relay *r = &h->relay;

	r->cfg = *cfg;
	r->net_tokens = clamp(r->net_tokens, 0, cfg->net_burst);
	/* socket buckets are clamped at their next refill */
}

void hub_relay_get_stats(const struct hub *h, struct hub_relay_stats *out)
{
	*out = h->relay.stats;
}

uint64_t hub_relay_drops(const struct hub_relay_stats *s)
{
	return s->drop_malformed + s->drop_oversized + s->drop_unjoined + s->drop_unknown_peer +
	       s->drop_not_allowed + s->drop_sock_rate + s->drop_net_rate + s->drop_fair +
	       s->drop_receiver + s->drop_slow + s->drop_daily + s->drop_disabled;
}

void hub_relay_usage(const struct hub *h, uint64_t *day, uint64_t *bytes)
{
	*day = h->relay.day;
	*bytes = h->relay.day_bytes;
}

void hub_relay_set_usage(struct hub *h, uint64_t day, uint64_t bytes)
{
	h->relay.day = day;
	h->relay.day_bytes = bytes;
}

bool hub_relay_available(const struct hub *h)
{
	return h->relay.cfg.enabled && h->ops && h->ops->send_binary;
}

int hub_relay_parse(const uint8_t *frame, size_t len, const uint8_t **id, size_t *id_len,
		    const uint8_t **payload, size_t *payload_len)
{
	size_t il;

	if (len > HUB_RELAY_FRAME_MAX)
		return -2;
	if (len < HUB_RELAY_HEADER_MIN || frame[0] != HUB_RELAY_DATAGRAM)
		return -1;
	il = frame[1];
	/* a datagram carries at least one byte */
	if (il == 0 || len - HUB_RELAY_HEADER_MIN <= il)
		return -1;
	if (len - HUB_RELAY_HEADER_MIN - il > HUB_RELAY_PAYLOAD_MAX)
		return -2;
	*id = frame + HUB_RELAY_HEADER_MIN;
	*id_len = il;
	*payload = frame + HUB_RELAY_HEADER_MIN + il;
	*payload_len = len - HUB_RELAY_HEADER_MIN - il;
	return 0;
}

/* Senders that relayed a frame in this or the previous window (at least 1). */
static uint32_t active_senders(struct hub_relay *r, uint64_t now_ms)
{
	uint64_t epoch = now_ms / HUB_RELAY_ACTIVE_WINDOW_MS;

	if (epoch != r->epoch) {
		r->active_prev = epoch == r->epoch + 1 ? r->active_now : 0;
		r->active_now = 0;
		r->epoch = epoch;
	}
	uint32_t n = r->active_now > r->active_prev ? r->active_now : r->active_prev;

	return n ? n : 1;
}

static int64_t refill_by(uint64_t dt_ms, uint64_t rate)
{
	return (int64_t)(dt_ms * rate / 1000);
}

static void refill_conn(const struct hub_relay *r, struct hub_relay_conn *rc, uint64_t now_ms,
			uint32_t active)
{
	const struct hub_relay_cfg *cfg = &r->cfg;
	uint64_t factor = cfg->close_factor ? cfg->close_factor : 1;

	if (!rc->primed) {
		rc->primed = true;
		rc->tokens = cfg->sock_burst;
		rc->fair = cfg->sock_burst;
		rc->abuse = (int64_t)(cfg->sock_burst * factor);
		rc->last_ms = now_ms;
		return;
	}
	if (now_ms > rc->last_ms) {
		uint64_t dt = now_ms - rc->last_ms;

		if (dt > REFILL_CAP_MS)
			dt = REFILL_CAP_MS;
		rc->tokens += refill_by(dt, cfg->sock_rate);
		rc->fair += refill_by(dt, cfg->net_rate / active);
		rc->abuse += refill_by(dt, (uint64_t)cfg->sock_rate * factor);
		rc->last_ms = now_ms;
	}
	rc->tokens = clamp(rc->tokens, 0, cfg->sock_burst);
	rc->fair = clamp(rc->fair, -(int64_t)cfg->sock_burst, cfg->sock_burst);
	rc->abuse = clamp(rc->abuse, -1, (int64_t)(cfg->sock_burst * factor));
}

static void refill_net(struct hub_relay *r, uint64_t now_ms)
{
	if (!r->net_primed) {
		r->net_primed = true;
		r->net_tokens = r->cfg.net_burst;
		r->net_last_ms = now_ms;
		return;
	}
	if (now_ms > r->net_last_ms) {
		uint64_t dt = now_ms - r->net_last_ms;

		if (dt > REFILL_CAP_MS)
			dt = REFILL_CAP_MS;
		r->net_tokens += refill_by(dt, r->cfg.net_rate);
		r->net_last_ms = now_ms;
	}
	r->net_tokens = clamp(r->net_tokens, 0, r->cfg.net_burst);
}

static void refill_rx(const struct hub_relay_cfg *cfg, struct hub_relay_conn *rx, uint64_t now_ms)
{
	if (!rx->rx_primed) {
		rx->rx_primed = true;
		rx->rx_tokens = cfg->recv_burst;
		rx->rx_last_ms = now_ms;
		return;
	}
	if (now_ms > rx->rx_last_ms) {
		uint64_t dt = now_ms - rx->rx_last_ms;

		if (dt > REFILL_CAP_MS)
			dt = REFILL_CAP_MS;
		rx->rx_tokens += refill_by(dt, cfg->recv_rate);
		rx->rx_last_ms = now_ms;
	}
	rx->rx_tokens = clamp(rx->rx_tokens, -(int64_t)cfg->recv_burst, cfg->recv_burst);
}

static bool flow_active(const struct hub_relay_flow *f, uint64_t now_ms)
{
	return f->src && now_ms - f->seen_ms < HUB_RELAY_ACTIVE_WINDOW_MS;
}

/* src's flow toward receiver rx, refilled with its quantum: the receiver's rate over the
 * senders active toward it (src included). */
static struct hub_relay_flow *flow_get(const struct hub_relay_cfg *cfg, struct hub_relay_conn *rx,
				       uint64_t src, uint64_t now_ms)
{
	struct hub_relay_flow *f = NULL, *oldest = &rx->flows[0];
	uint32_t n = 1;

	for (size_t i = 0; i < HUB_RELAY_FLOWS; i++) {
		struct hub_relay_flow *x = &rx->flows[i];

		if (x->src == src)
			f = x;
		else if (flow_active(x, now_ms))
			n++;
		if (!x->src || (oldest->src && x->seen_ms < oldest->seen_ms))
			oldest = x;
	}
	if (n > HUB_RELAY_FLOWS)
		n = HUB_RELAY_FLOWS;
	int64_t cap = (int64_t)(cfg->recv_burst / n);

	if (!f) {
		f = oldest;
		f->src = src;
		f->deficit = cap;
		f->last_ms = now_ms;
	} else if (now_ms > f->last_ms) {
		uint64_t dt = now_ms - f->last_ms;

		if (dt > REFILL_CAP_MS)
			dt = REFILL_CAP_MS;
		f->deficit += refill_by(dt, cfg->recv_rate / n);
		f->last_ms = now_ms;
	}
	f->deficit = clamp(f->deficit, -(int64_t)cfg->recv_burst, cap);
	f->seen_ms = now_ms;
	return f;
}

/* Who may relay to whom; both are joined peers of this network and not the same socket.
 * TODO(issue 14): with a trust anchor (signed membership), refuse here unless both hold a
 * valid device certificate checked at join (hub_conn_view then carries that verdict). */
static bool relay_allowed(const struct hub_conn_view *src, const struct hub_conn_view *dst)
{
	return src->joined && dst->joined && src->id != dst->id;
}

void hub_binary(struct hub *h, uint64_t conn, const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct hub_relay *r = &h->relay;
	struct hub_relay_stats *st = &r->stats;
	struct hub_conn_view src, dst;
	const uint8_t *id, *payload;
	size_t id_len, payload_len;
	int64_t cost = (int64_t)(len > HUB_RELAY_FRAME_MAX ? HUB_RELAY_FRAME_MAX : len) +
		       HUB_RELAY_FRAME_COST;
	uint32_t active;
	int rc;

	if (!hub_int_conn(h, conn, &src))
		return;
	st->frames_in++;
	st->bytes_in += len;
	active = active_senders(r, now_ms);
	refill_conn(r, src.relay, now_ms, active);
	/* Every frame, good or bad, pays into the abuse bucket: a socket sending far past its
	 * budget is closed, whatever it sends. */
	if (r->cfg.close_factor) {
		src.relay->abuse -= cost;
		if (src.relay->abuse < 0) {
			st->drop_sock_rate++;
			st->kicked++;
			hub_int_kick(h, conn, HUB_CLOSE_POLICY, "relay flood");
			return;
		}
	}
	if (!hub_relay_available(h)) {
		st->drop_disabled++;
		return;
	}
	rc = hub_relay_parse(frame, len, &id, &id_len, &payload, &payload_len);
	if (rc) {
		if (rc == -2)
			st->drop_oversized++;
		else
			st->drop_malformed++;
		return;
	}
	if (!src.joined) {
		st->drop_unjoined++;
		return;
	}
	if (!hub_int_peer(h, id, id_len, &dst)) {
		st->drop_unknown_peer++;
		return;
	}
	if (!relay_allowed(&src, &dst)) {
		st->drop_not_allowed++;
		return;
	}
	if (r->cfg.daily_bytes) {
		uint64_t day = now_ms / MS_PER_DAY;

		if (day != r->day) {
			r->day = day;
			r->day_bytes = 0;
		}
		if (r->day_bytes + payload_len > r->cfg.daily_bytes) {
			st->drop_daily++;
			return;
		}
	}
	if (src.relay->tokens < cost) {
		st->drop_sock_rate++;
		return;
	}
	refill_net(r, now_ms);
	if (r->net_tokens < cost) {
		st->drop_net_rate++;
		return;
	}
	if (r->net_tokens < (int64_t)r->cfg.net_burst / 2 && src.relay->fair < cost) {
		st->drop_fair++;
		return;
	}
	size_t backlog = h->ops->backlog ? h->ops->backlog(h->host, dst.id) : 0;
	struct hub_relay_conn *rx = dst.relay;
	struct hub_relay_flow *flow;

	refill_rx(&r->cfg, rx, now_ms);
	flow = flow_get(&r->cfg, rx, src.id, now_ms);
	/* within its share: always (the receiver's budget may go into debt, down to one burst,
	 * so a sender that took the burst while alone cannot lock out one that arrives later);
	 * past it: only while the receiver has room */
	bool own = flow->deficit >= cost && rx->rx_tokens - cost >= -(int64_t)r->cfg.recv_burst;
	bool room = rx->rx_tokens >= (int64_t)r->cfg.recv_burst / 2 &&
		    backlog <= r->cfg.backlog_max / 2;

	if (!own && !room) {
		st->drop_receiver++;
		return;
	}
	if (backlog > r->cfg.backlog_max) {
		st->drop_slow++;
		return;
	}
	rx->rx_tokens -= cost;
	flow->deficit -= cost;
	if (flow->deficit < -(int64_t)r->cfg.recv_burst)
		flow->deficit = -(int64_t)r->cfg.recv_burst;
	src.relay->tokens -= cost;
	r->net_tokens -= cost;
	src.relay->fair -= cost;
	if (src.relay->fair < -(int64_t)r->cfg.sock_burst)
		src.relay->fair = -(int64_t)r->cfg.sock_burst;
	if (src.relay->active_epoch != r->epoch + 1) {
		src.relay->active_epoch = r->epoch + 1;
		r->active_now++;
	}
	r->day_bytes += payload_len;

	/* the same frame with the source's registered peerId in place of the destination */
	uint8_t *o = r->out;
	size_t n = 0;

	o[n++] = HUB_RELAY_DATAGRAM;
	o[n++] = (uint8_t)src.id_len;
	for (size_t i = 0; i < src.id_len; i++)
		o[n++] = (uint8_t)src.peer_id[i];
	for (size_t i = 0; i < payload_len; i++)
		o[n++] = payload[i];
	h->ops->send_binary(h->host, dst.id, o, n);
	st->frames_out++;
	st->bytes_out += payload_len;
}
