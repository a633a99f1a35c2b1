/* SPDX-License-Identifier: MIT */
/*
 * Ring statistics: the latency buckets (ring.c counts into them in the
 * worker), and the sums main keeps so that a device's counters survive
 * its workers (report.c, metrics.c show them).
 */
#ifndef XBD_STATS_H
#define XBD_STATS_H

#include <stdint.h>

#include "xenbackd/class.h"

struct stats_area;

/*
 * The latency bucket of a request that took ns nanoseconds: the smallest
 * k with ns <= 2^k microseconds, or XBD_LATENCY_BUCKETS - 1 (the +Inf
 * bucket) past the largest bound.
 */
static inline unsigned int stats_latency_bucket(uint64_t ns)
{
	/* Whole microseconds, rounded up (ns + 999 could wrap). */
	uint64_t us = ns / 1000 + (ns % 1000 != 0);
	unsigned int k;

	if (us <= 1)
		return 0;
	k = 64 - (unsigned int)__builtin_clzll(us - 1);	/* 2^(k-1) < us <= 2^k */
	return k < XBD_LATENCY_BUCKETS - 1 ? k : XBD_LATENCY_BUCKETS - 1;
}

/* Bucket k's upper bound in microseconds (k < XBD_LATENCY_BUCKETS - 1). */
static inline uint64_t stats_bucket_bound_us(unsigned int k)
{
	return (uint64_t)1 << k;
}

/*
 * Adds every counter of from to into (not in_flight, a gauge of the
 * running worker only); into's nr_rings becomes the larger of the two.
 * from was written by a worker: its values are taken as numbers only.
 */
void stats_fold(struct stats_area *into, const struct stats_area *from);

/* A ring's requests answered by operation op, summed over its results. */
uint64_t stats_op_answers(const struct xbd_op_stats *op);

#endif
