/* Reconnect backoff (see backoff.h). Pure arithmetic: callers pass the clock, tests pass the RNG. */
#include "signal/backoff.h"
#include "util/clock.h"

static uint64_t xorshift_state;

static uint32_t default_rng(void *opaque)
{
	(void)opaque;
	if (!xorshift_state)
		xorshift_state = rg_mono_ns() ^ (rg_wall_ns() << 17) ^ 0x9e3779b97f4a7c15ULL;
	xorshift_state ^= xorshift_state << 13;
	xorshift_state ^= xorshift_state >> 7;
	xorshift_state ^= xorshift_state << 17;
	return (uint32_t)(xorshift_state >> 32);
}

void sig_backoff_init(struct sig_backoff *b, sig_rng_fn rng, void *rng_opaque)
{
	*b = (struct sig_backoff){
		.base_ms = SIG_BACKOFF_BASE_MS,
		.cap_ms = SIG_BACKOFF_CAP_MS,
		.stable_ms = SIG_BACKOFF_STABLE_MS,
		.rng = rng ? rng : default_rng,
		.rng_opaque = rng_opaque,
	};
}

void sig_backoff_connected(struct sig_backoff *b, uint64_t now_ms)
{
	b->up_since_ms = now_ms ? now_ms : 1;
}

uint32_t sig_backoff_ceiling(const struct sig_backoff *b)
{
	uint64_t ceil = b->base_ms;

	/* doubling stops at the cap, so the shift never overflows however large attempt is */
	for (uint32_t i = 0; i < b->attempt && ceil < b->cap_ms; i++)
		ceil <<= 1;
	return ceil < b->cap_ms ? (uint32_t)ceil : b->cap_ms;
}

uint32_t sig_backoff_next(struct sig_backoff *b, uint64_t now_ms)
{
	uint32_t ceil;

	if (b->up_since_ms && now_ms >= b->up_since_ms &&
	    now_ms - b->up_since_ms >= b->stable_ms)
		b->attempt = 0;
	b->up_since_ms = 0;
	ceil = sig_backoff_ceiling(b);
	if (b->attempt < UINT32_MAX)
		b->attempt++;
	/* full jitter: uniform in [0, ceil] */
	return (uint32_t)(((uint64_t)b->rng(b->rng_opaque) * ((uint64_t)ceil + 1)) >> 32);
}
