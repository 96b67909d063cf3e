/* Sliding-window replay protection for data message counters (RFC 6479 style bitmap ring).
 * Called by device.c after a data packet authenticated; pure, no I/O. */
#ifndef RG_WG_REPLAY_H
#define RG_WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

enum wg_replay_sizes {
	WG_REPLAY_BITS_TOTAL = 4096,				/* ring size */
	WG_REPLAY_WORDS = WG_REPLAY_BITS_TOTAL / 64,
	WG_REPLAY_WINDOW = WG_REPLAY_BITS_TOTAL - 64,		/* counters this far back: ok */
};

struct wg_replay {
	uint64_t next;				/* one more than the greatest counter accepted */
	uint64_t ring[WG_REPLAY_WORDS];
};

void wg_replay_init(struct wg_replay *r);
/* Accepts counter once: true if it is new and inside the window (and records it). */
bool wg_replay_accept(struct wg_replay *r, uint64_t counter);

#endif
