/* Replay window for data counters (whitepaper §5.4.6): a ring of WG_REPLAY_BITS_TOTAL bits, one
 * per counter, of which the newest WG_REPLAY_WINDOW are meaningful. Moving forward clears the
 * words passed over; a counter is accepted once. Runs after authentication (device.c), so an
 * attacker cannot move the window. */
#include "wg/replay.h"

#include <string.h>

#include "wg/messages.h"

void wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool wg_replay_accept(struct wg_replay *r, uint64_t counter)
{
	uint64_t pos, word, cur_word, bit;

	if (counter >= WG_REJECT_AFTER_MESSAGES)
		return false;
	pos = counter + 1;			/* r->next is one past the greatest accepted */
	if (pos + WG_REPLAY_WINDOW < r->next)
		return false;			/* older than the window */
	word = pos >> 6;
	if (pos > r->next) {
		uint64_t n;

		cur_word = r->next >> 6;
		n = word - cur_word;
		if (n > WG_REPLAY_WORDS)
			n = WG_REPLAY_WORDS;
		for (uint64_t i = 1; i <= n; i++)
			r->ring[(cur_word + i) % WG_REPLAY_WORDS] = 0;
		r->next = pos;
	}
	bit = UINT64_C(1) << (pos & 63);
	word %= WG_REPLAY_WORDS;
	if (r->ring[word] & bit)
		return false;
	r->ring[word] |= bit;
	return true;
}
