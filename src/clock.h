/* SPDX-License-Identifier: MIT */
/* The monotonic clock, for deadlines, rate limits and latencies. */
#ifndef XBD_CLOCK_H
#define XBD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Seconds since an arbitrary point; a change of the wall clock does not
 * move it. */
double monotonic_seconds(void);

/*
 * The same in nanoseconds, inline: it is read per request (latencies),
 * where a call through clock_gettime's vDSO is all it should cost.
 */
static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
