/* See time.h. */
#include <time.h>

#include "util/clock.h"

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * RG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t rg_mono_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

uint64_t rg_wall_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}
