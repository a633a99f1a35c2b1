/* SPDX-License-Identifier: MIT */
/*
 * The pieces of xenbackctl metrics that are plain functions: the latency
 * bucket of a duration (every bound, one past it, zero, the largest), the
 * sum of two workers' counters (everything but the in-flight gauge), and
 * label values escaped as the Prometheus text format wants.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "stats.h"
#include "worker.h"

static void buckets(void)
{
	CHECK_EQ(stats_latency_bucket(0), 0);
	CHECK_EQ(stats_latency_bucket(1), 0);
	CHECK_EQ(stats_latency_bucket(1000), 0);	/* 1 us: le 1 us */
	CHECK_EQ(stats_latency_bucket(1001), 1);	/* just over: le 2 us */
	CHECK_EQ(stats_latency_bucket(2000), 1);
	CHECK_EQ(stats_latency_bucket(2001), 2);
	CHECK_EQ(stats_latency_bucket(4000), 2);
	CHECK_EQ(stats_latency_bucket(5000), 3);
	/* Every bound belongs to its bucket, one ns more to the next. */
	for (unsigned int k = 0; k < XBD_LATENCY_BUCKETS - 1; k++) {
		uint64_t ns = stats_bucket_bound_us(k) * 1000;

		CHECK_EQ(stats_latency_bucket(ns), k);
		CHECK_EQ(stats_latency_bucket(ns + 1), k + 1);
	}
	CHECK_EQ(stats_bucket_bound_us(0), 1);
	CHECK_EQ(stats_bucket_bound_us(XBD_LATENCY_BUCKETS - 2), 1u << 22);
	/* Past the largest bound, and the largest duration: +Inf. */
	CHECK_EQ(stats_latency_bucket(((uint64_t)1 << 22) * 1000 + 1),
		 XBD_LATENCY_BUCKETS - 1);
	CHECK_EQ(stats_latency_bucket(UINT64_MAX - 1000), XBD_LATENCY_BUCKETS - 1);
	CHECK_EQ(stats_latency_bucket(UINT64_MAX), XBD_LATENCY_BUCKETS - 1);
}

static void fold(void)
{
	struct stats_area *a = calloc(1, sizeof(*a));
	struct stats_area *b = calloc(1, sizeof(*b));
	struct xbd_op_stats *o;

	b->nr_rings = 2;
	b->ring[1].requests = 5;
	b->ring[1].errors = 1;
	b->ring[1].in_flight = 3;
	b->ring[1].resource_waits = 4;
	b->ring[1].counter[XBD_MAX_COUNTERS - 1] = 7;
	o = &b->ring[1].op[XBD_MAX_OPS - 1];
	o->result[XBD_RESULT_OK] = 4;
	o->result[XBD_RESULT_NO_RESOURCES] = 1;
	o->bytes = 4096;
	o->latency_ns = 123;
	o->latency[XBD_LATENCY_BUCKETS - 1] = 5;
	/* A ring closed early: past nr_rings, its counts still count. */
	b->ring[5].requests = 9;
	stats_fold(a, b);
	stats_fold(a, b);
	CHECK_EQ(a->nr_rings, 2);
	CHECK_EQ(a->ring[1].requests, 10);
	CHECK_EQ(a->ring[1].errors, 2);
	CHECK_EQ(a->ring[1].in_flight, 0);	/* a gauge, not summed */
	CHECK_EQ(a->ring[1].resource_waits, 8);
	CHECK_EQ(a->ring[1].counter[XBD_MAX_COUNTERS - 1], 14);
	o = &a->ring[1].op[XBD_MAX_OPS - 1];
	CHECK_EQ(o->result[XBD_RESULT_OK], 8);
	CHECK_EQ(o->result[XBD_RESULT_NO_RESOURCES], 2);
	CHECK_EQ(stats_op_answers(o), 10);
	CHECK_EQ(o->bytes, 8192);
	CHECK_EQ(o->latency_ns, 246);
	CHECK_EQ(o->latency[XBD_LATENCY_BUCKETS - 1], 10);
	CHECK_EQ(a->ring[5].requests, 18);
	CHECK_EQ(a->ring[0].requests, 0);
	/* A worker claiming more rings than there are: capped. */
	b->nr_rings = 1000;
	stats_fold(a, b);
	CHECK_EQ(a->nr_rings, XBD_MAX_RINGS);
	free(a);
	free(b);
}

static bool label_is(const char *in, const char *want)
{
	struct buf b = { 0 };
	bool ok;

	buf_prom_label(&b, in);
	ok = !b.failed && b.len == strlen(want) && !memcmp(b.data, want, b.len);
	if (!ok)
		fprintf(stderr, "label of '%s': %.*s, expected %s\n", in,
			(int)b.len, b.data ? b.data : "", want);
	buf_free(&b);
	return ok;
}

static void labels(void)
{
	CHECK(label_is("vbd/5/51712", "\"vbd/5/51712\""));
	CHECK(label_is("", "\"\""));
	CHECK(label_is(NULL, "\"\""));
	CHECK(label_is("a\"b", "\"a\\\"b\""));
	CHECK(label_is("a\\b", "\"a\\\\b\""));
	CHECK(label_is("a\nb", "\"a\\nb\""));
	CHECK(label_is("\\n", "\"\\\\n\""));		/* backslash, then n */
	CHECK(label_is("tab\there", "\"tab?here\""));
	CHECK(label_is("\x7f\xc3\xa9", "\"???\""));
}

int main(void)
{
	buckets();
	fold();
	labels();
	return test_exit("test-metrics");
}
