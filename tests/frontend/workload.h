/* SPDX-License-Identifier: MIT */
/*
 * Workloads: what the frontend does once connected. Each returns 0 when
 * every request ended with the expected status and every check passed.
 */
#ifndef BLKFRONT_WORKLOAD_H
#define BLKFRONT_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "blkdev.h"

enum bench_rw { BENCH_READ, BENCH_WRITE, BENCH_RANDREAD, BENCH_RANDWRITE, BENCH_RANDRW };

struct workload_opts {
	uint64_t offset;	/* bytes */
	uint64_t length;	/* bytes; 0: the default for the workload */
	unsigned qd;		/* requests in flight */
	uint64_t bs;		/* bytes per request; 0: the workload's default */
	unsigned count;		/* verify: operations */
	uint64_t seed;
	double seconds;		/* bench */
	enum bench_rw rw;
	int expect;		/* status every workload request must get */
	int timeout_ms;		/* longest wait for any one answer */
};

int wl_write_file(struct blkdev *d, const struct workload_opts *o, const char *path);
int wl_read_file(struct blkdev *d, const struct workload_opts *o, const char *path);
int wl_verify(struct blkdev *d, const struct workload_opts *o);
/* op: BLKIF_OP_FLUSH_DISKCACHE or BLKIF_OP_WRITE_BARRIER (no data). */
int wl_flush(struct blkdev *d, const struct workload_opts *o, int op);
int wl_discard(struct blkdev *d, const struct workload_opts *o, uint64_t off,
	       uint64_t len, bool secure);
int wl_bench(struct blkdev *d, const struct workload_opts *o);

/*
 * Submits one request and waits for its answer (retrying while the ring
 * is full). Returns 0 when it was answered (see io->status), -1 when it
 * could not be sent or was not answered in time.
 */
int wl_sync_io(struct blkdev *d, struct blkio *io, int timeout_ms);

int parse_bench_rw(const char *s, enum bench_rw *rw);
const char *bench_rw_name(enum bench_rw rw);

#endif
