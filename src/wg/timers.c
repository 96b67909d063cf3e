/* Per-peer timers (whitepaper §6), kept as monotonic deadlines; device.c arms the next one.
 *
 *   retransmit_handshake  REKEY_TIMEOUT (5 s) + 0..333 ms jitter after sending an initiation
 *                         with no response; gives up after REKEY_ATTEMPT_TIME (90 s = 18 tries)
 *   send_keepalive        KEEPALIVE_TIMEOUT (10 s) after receiving data with nothing sent back
 *   new_handshake         KEEPALIVE + REKEY_TIMEOUT (15 s) after sending data with nothing
 *                         received: the peer may be gone, so handshake again
 *   zero_key_material     3 * REJECT_AFTER_TIME (540 s) after the last new session: wipe all keys
 *   persistent_keepalive  the configured interval after any authenticated packet either way
 *   session_expiry        REJECT_AFTER_TIME (180 s) after the current session was derived
 *
 * REKEY_AFTER_TIME / REKEY_AFTER_MESSAGES are checked on the data path (peer.c), not here. */
#include "wg/timers.h"

#include <errno.h>
#include <stdlib.h>

#include "wg/peer.h"

enum { NS = 1000000000 };

static uint64_t s_to_ns(uint64_t s)
{
	return s * NS;
}

static uint64_t jitter_ns(struct wg_peer *peer)
{
	return (uint64_t)wg_device_jitter(peer->dev, WG_REKEY_TIMEOUT_JITTER_MAX_MS) * 1000000u;
}

/* Deadline 0 means disarmed, so a deadline never lands on 0 even with a fake clock at 0. */
static uint64_t at(uint64_t t)
{
	return t ? t : 1;
}

/* The device's schedule: a binary min-heap of its peers keyed by timers.next, so the earliest
 * deadline is sched[0]'s and a re-filed peer costs O(log peers). The agent and riftgate-wg ask
 * for it after every input batch; walking the peers there cost O(peers) per packet. */
static void place(struct wg_device *dev, size_t i, struct wg_peer *peer)
{
	dev->sched[i] = peer;
	peer->timers.sched_pos = i;
}

static void sift(struct wg_device *dev, size_t i)
{
	struct wg_peer *peer = dev->sched[i];
	uint64_t key = peer->timers.next;

	while (i > 0 && dev->sched[(i - 1) / 2]->timers.next > key) {
		place(dev, i, dev->sched[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= dev->sched_len)
			break;
		if (c + 1 < dev->sched_len &&
		    dev->sched[c + 1]->timers.next < dev->sched[c]->timers.next)
			c++;
		if (dev->sched[c]->timers.next >= key)
			break;
		place(dev, i, dev->sched[c]);
		i = c;
	}
	place(dev, i, peer);
}

/* After any write to a deadline: the peer's key follows its earliest deadline. */
static void refile(struct wg_peer *peer)
{
	uint64_t key = wg_timers_next(peer);

	if (key == peer->timers.next)
		return;
	peer->timers.next = key;
	sift(peer->dev, peer->timers.sched_pos);
}

int wg_timers_init(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;

	if (dev->sched_len == dev->sched_cap) {
		size_t cap = dev->sched_cap ? 2 * dev->sched_cap : 16;
		struct wg_peer **s = reallocarray(dev->sched, cap, sizeof(*s));

		if (!s)
			return -ENOMEM;
		dev->sched = s;
		dev->sched_cap = cap;
	}
	peer->timers = (struct wg_timers){ .next = UINT64_MAX };
	place(dev, dev->sched_len++, peer);	/* UINT64_MAX: already in heap order */
	return 0;
}

uint64_t wg_timers_earliest(const struct wg_device *dev)
{
	return dev->sched_len ? dev->sched[0]->timers.next : UINT64_MAX;
}

void wg_timers_data_sent(struct wg_peer *peer)
{
	if (!peer->timers.new_handshake)
		peer->timers.new_handshake =
			at(wg_device_now(peer->dev) +
			   s_to_ns(WG_KEEPALIVE_TIMEOUT_S + WG_REKEY_TIMEOUT_S) + jitter_ns(peer));
	refile(peer);
}

void wg_timers_data_received(struct wg_peer *peer)
{
	if (!peer->timers.send_keepalive)
		peer->timers.send_keepalive =
			at(wg_device_now(peer->dev) + s_to_ns(WG_KEEPALIVE_TIMEOUT_S));
	else
		peer->timers.need_another_keepalive = true;
	refile(peer);
}

void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer)
{
	peer->timers.send_keepalive = 0;
	refile(peer);
}

void wg_timers_any_authenticated_packet_received(struct wg_peer *peer)
{
	peer->timers.new_handshake = 0;
	refile(peer);
}

void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer)
{
	if (peer->persistent_keepalive_s)
		peer->timers.persistent_keepalive =
			at(wg_device_now(peer->dev) + s_to_ns(peer->persistent_keepalive_s));
	refile(peer);
}

void wg_timers_handshake_initiated(struct wg_peer *peer)
{
	peer->timers.retransmit_handshake =
		at(wg_device_now(peer->dev) + s_to_ns(WG_REKEY_TIMEOUT_S) + jitter_ns(peer));
	refile(peer);
}

void wg_timers_handshake_complete(struct wg_peer *peer)
{
	peer->timers.retransmit_handshake = 0;
	peer->timers.handshake_attempts = 0;
	peer->last_handshake_wall_ns = wg_device_wall(peer->dev);
	refile(peer);
}

void wg_timers_session_derived(struct wg_peer *peer)
{
	peer->timers.zero_key_material =
		at(wg_device_now(peer->dev) + s_to_ns(3 * WG_REJECT_AFTER_TIME_S));
	refile(peer);
}

void wg_timers_stop(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	size_t i = peer->timers.sched_pos;
	uint64_t last = peer->timers.last_sent_handshake_ns;

	peer->timers = (struct wg_timers){ .last_sent_handshake_ns = last, .next = UINT64_MAX };
	place(dev, i, dev->sched[--dev->sched_len]);
	if (i < dev->sched_len)
		sift(dev, i);
}

void wg_timers_session_expires(struct wg_peer *peer, uint64_t at_ns)
{
	peer->timers.session_expiry = at_ns;
	refile(peer);
}

void wg_timers_keys_zeroed(struct wg_peer *peer)
{
	peer->timers.session_expiry = 0;
	peer->timers.zero_key_material = 0;
	refile(peer);
}

void wg_timers_persistent_keepalive_off(struct wg_peer *peer)
{
	peer->timers.persistent_keepalive = 0;
	refile(peer);
}

static uint64_t min_armed(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

uint64_t wg_timers_next(const struct wg_peer *peer)
{
	const struct wg_timers *t = &peer->timers;
	uint64_t d = 0;

	d = min_armed(d, t->retransmit_handshake);
	d = min_armed(d, t->send_keepalive);
	d = min_armed(d, t->new_handshake);
	d = min_armed(d, t->zero_key_material);
	d = min_armed(d, t->persistent_keepalive);
	d = min_armed(d, t->session_expiry);
	return d ? d : UINT64_MAX;
}

static bool due(uint64_t *deadline, uint64_t now)
{
	if (!*deadline || *deadline > now)
		return false;
	*deadline = 0;
	return true;
}

void wg_timers_run(struct wg_peer *peer, uint64_t now)
{
	struct wg_timers *t = &peer->timers;

	if (due(&t->session_expiry, now))
		wg_peer_expire_current(peer);

	if (due(&t->retransmit_handshake, now)) {
		if (t->handshake_attempts >= WG_MAX_TIMER_HANDSHAKES) {
			/* REKEY_ATTEMPT_TIME is over: stop trying, drop what waited for it and
			 * make sure old keys still get wiped. */
			t->send_keepalive = 0;
			wg_peer_drop_staged(peer);
			wg_noise_handshake_clear(&peer->hs);
			wg_index_remove(peer->dev, &peer->hs.entry);
			if (!t->zero_key_material)
				t->zero_key_material = at(now + s_to_ns(3 * WG_REJECT_AFTER_TIME_S));
			wg_device_event(peer->dev, peer, WG_PEER_HANDSHAKE_FAILED);
		} else {
			t->handshake_attempts++;
			wg_peer_send_initiation(peer, true);
		}
	}

	if (due(&t->send_keepalive, now)) {
		wg_peer_send_keepalive(peer);
		if (t->need_another_keepalive) {
			t->need_another_keepalive = false;
			t->send_keepalive = at(now + s_to_ns(WG_KEEPALIVE_TIMEOUT_S));
		}
	}

	if (due(&t->new_handshake, now))
		wg_peer_send_initiation(peer, false);

	if (due(&t->zero_key_material, now))
		wg_peer_zero_keys(peer);

	if (due(&t->persistent_keepalive, now) && peer->persistent_keepalive_s)
		wg_peer_send_keepalive(peer);
	refile(peer);
}
