/* Clocks. Monotonic time drives timers; wall time only for display and TAI64N. */
#ifndef RG_UTIL_CLOCK_H
#define RG_UTIL_CLOCK_H

#include <stdint.h>

enum { RG_NSEC_PER_SEC = 1000000000, RG_NSEC_PER_MSEC = 1000000 };

uint64_t rg_mono_ns(void);	/* CLOCK_MONOTONIC, never goes back */
uint64_t rg_wall_ns(void);	/* CLOCK_REALTIME, ns since the Unix epoch */

#endif
