/* SPDX-License-Identifier: MIT */
/* Sums of ring statistics (stats.h). */
#include "stats.h"
#include "worker.h"

static void fold_ring(struct xbd_ring_stats *into,
		      const struct xbd_ring_stats *from)
{
	into->requests += from->requests;
	into->errors += from->errors;
	into->resource_waits += from->resource_waits;
	for (unsigned int i = 0; i < XBD_MAX_COUNTERS; i++)
		into->counter[i] += from->counter[i];
	for (unsigned int o = 0; o < XBD_MAX_OPS; o++) {
		struct xbd_op_stats *a = &into->op[o];
		const struct xbd_op_stats *b = &from->op[o];

		for (unsigned int i = 0; i < XBD_NR_RESULTS; i++)
			a->result[i] += b->result[i];
		a->bytes += b->bytes;
		a->latency_ns += b->latency_ns;
		for (unsigned int i = 0; i < XBD_LATENCY_BUCKETS; i++)
			a->latency[i] += b->latency[i];
	}
}

void stats_fold(struct stats_area *into, const struct stats_area *from)
{
	uint32_t n = from->nr_rings < XBD_MAX_RINGS ? from->nr_rings
						    : XBD_MAX_RINGS;

	/* Every slot: a ring closed early left nr_rings, not its counts. */
	for (uint32_t i = 0; i < XBD_MAX_RINGS; i++)
		fold_ring(&into->ring[i], &from->ring[i]);
	if (into->nr_rings < n)
		into->nr_rings = n;
}

uint64_t stats_op_answers(const struct xbd_op_stats *op)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < XBD_NR_RESULTS; i++)
		n += op->result[i];
	return n;
}
