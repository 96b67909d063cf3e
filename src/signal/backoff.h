/* Reconnect backoff for the signaling client: capped exponential with full jitter.
 *
 * delay(n) = uniform[0, min(cap, base * 2^n)] for the n-th consecutive failure (n from 0), so a
 * fleet restarting together spreads out. The attempt count resets once a connection stays up
 * for SIG_BACKOFF_STABLE_MS. Pure arithmetic on caller-given clock values and an injected RNG,
 * so tests drive it without waiting; no overflow however many failures pile up.
 */
#ifndef RG_SIGNAL_BACKOFF_H
#define RG_SIGNAL_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

enum sig_backoff_ms {
	SIG_BACKOFF_BASE_MS = 500,
	SIG_BACKOFF_CAP_MS = 30000,
	SIG_BACKOFF_STABLE_MS = 60000,
	/* Auth rejections (HTTP 401/403): at most a few slow retries per minute, never a loop. */
	SIG_BACKOFF_AUTH_MIN_MS = 20000,
};

/* Returns a uniformly distributed 32-bit value. */
typedef uint32_t (*sig_rng_fn)(void *opaque);

struct sig_backoff {
	uint32_t base_ms, cap_ms, stable_ms;
	uint32_t attempt;	/* consecutive failures since the last stable connection */
	uint64_t up_since_ms;	/* when the current connection came up; 0 = not connected */
	sig_rng_fn rng;
	void *rng_opaque;
};

/* Defaults above; rng NULL uses a process-wide xorshift seeded from the clock. */
void sig_backoff_init(struct sig_backoff *b, sig_rng_fn rng, void *rng_opaque);
/* The connection came up at now_ms. */
void sig_backoff_connected(struct sig_backoff *b, uint64_t now_ms);
/* The connection (or an attempt) failed at now_ms: returns the delay before the next attempt
 * and counts the failure. A connection that had been up for stable_ms resets the count first. */
uint32_t sig_backoff_next(struct sig_backoff *b, uint64_t now_ms);
/* Upper bound of the next delay (min(cap, base * 2^attempt)), without consuming anything. */
uint32_t sig_backoff_ceiling(const struct sig_backoff *b);

#endif
