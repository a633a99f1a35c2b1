/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pattern.h"
#include "workload.h"

/* At most this many messages per kind of failure, then only counts. */
#define MAX_REPORTS 10

/*
 * The engine keeps up to qd requests in flight: it asks the workload for
 * the next request whenever a slot is free, and hands completions back.
 */
enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_INFLIGHT };

struct engine;

struct eslot {
	struct blkio io;
	enum slot_state st;
	void *buf;
	size_t cap;
	struct engine *e;
};

struct engine {
	const char *name;
	struct blkdev *d;
	const struct workload_opts *o;
	unsigned qd;
	struct eslot *slots;
	/* 1: *s filled; 0: nothing to do until something completes; -1: done. */
	int (*next)(struct engine *e, struct eslot *s);
	void (*done)(struct engine *e, struct eslot *s);
	void *ctx;
	unsigned inflight;
	bool finished, fatal;
	uint64_t submitted, completed, failed;
};

static void *slot_buf(struct eslot *s, size_t len)
{
	if (len > s->cap) {
		void *b = realloc(s->buf, len);

		if (!b)
			return NULL;
		s->buf = b;
		s->cap = len;
	}
	return s->buf;
}

static void engine_complete(struct blkio *io)
{
	struct eslot *s = io->priv;
	struct engine *e = s->e;

	s->st = SLOT_FREE;
	e->inflight--;
	e->completed++;
	if (io->status != e->o->expect) {
		if (e->failed++ < MAX_REPORTS)
			fprintf(stderr, "%s: %s of %" PRIu64 " bytes at offset %" PRIu64
				": %s (%d), expected %s\n", e->name, blkif_op_name(io->op),
				io->len, io->offset, blkio_status_name(io->status), io->status,
				blkio_status_name(e->o->expect));
	}
	if (e->done)
		e->done(e, s);
}

/* Submits a built request: 0 sent, 1 no room now (stays pending), -1 failed. */
static int engine_send(struct engine *e, struct eslot *s)
{
	if (blkdev_submit(e->d, &s->io) == 0) {
		s->st = SLOT_INFLIGHT;
		e->inflight++;
		e->submitted++;
		return 0;
	}
	if (errno == EAGAIN) {
		s->st = SLOT_PENDING;
		return -1;
	}
	fprintf(stderr, "%s: cannot send a %s of %" PRIu64 " bytes at %" PRIu64 ": %s\n",
		e->name, blkif_op_name(s->io.op), s->io.len, s->io.offset, strerror(errno));
	s->st = SLOT_FREE;
	e->failed++;
	e->fatal = true;
	return -1;
}

static int engine_run(struct engine *e)
{
	struct blkdev *d = e->d;
	uint64_t last_done = 0, last_progress = blkdev_now_ns();

	e->slots = calloc(e->qd, sizeof(*e->slots));
	if (!e->slots)
		return -1;
	for (unsigned i = 0; i < e->qd; i++)
		e->slots[i].e = e;

	for (;;) {
		bool stopping = blkfront_stop || d->backend_gone || d->broken || e->fatal;
		bool pending = false, waiting = false;

		/*
		 * First send what was built but found no room, then build more:
		 * a pending request may be what the workload waits on.
		 */
		for (unsigned i = 0; !stopping && i < e->qd; i++) {
			struct eslot *s = &e->slots[i];

			if (s->st != SLOT_PENDING)
				continue;
			if (engine_send(e, s) < 0)
				break;
		}
		/* Nothing new while something waits for room: no starvation. */
		for (unsigned i = 0; i < e->qd; i++)
			pending |= e->slots[i].st == SLOT_PENDING;
		for (unsigned i = 0; !pending && !stopping && !e->fatal && !e->finished &&
		     i < e->qd; i++) {
			struct eslot *s = &e->slots[i];
			int r;

			if (s->st != SLOT_FREE)
				continue;
			memset(&s->io, 0, sizeof(s->io));
			s->io.queue = -1;
			r = e->next(e, s);
			if (r < 0)
				e->finished = true;
			if (r <= 0) {
				waiting = r == 0;
				break;
			}
			s->io.complete = engine_complete;
			s->io.priv = s;
			s->st = SLOT_PENDING;
			if (engine_send(e, s) < 0)
				break;
		}
		pending = false;
		for (unsigned i = 0; i < e->qd; i++)
			pending |= e->slots[i].st == SLOT_PENDING;
		if (!e->inflight) {
			if (stopping || e->fatal || (e->finished && !pending))
				break;
			if (waiting && !pending) {
				/* Waiting with nothing in flight would wait forever. */
				fprintf(stderr, "%s: internal error: the workload waits on nothing\n",
					e->name);
				e->fatal = true;
				break;
			}
		}
		blkdev_poll(d, 200);
		if (e->completed != last_done || !e->inflight) {
			last_done = e->completed;
			last_progress = blkdev_now_ns();
		} else if (blkdev_now_ns() - last_progress > (uint64_t)e->o->timeout_ms * 1000000u) {
			fprintf(stderr, "%s: no answer for %d ms with %u request(s) in flight\n",
				e->name, e->o->timeout_ms, e->inflight);
			blkdev_abort_inflight(d, BLKIO_TIMEOUT);
			e->fatal = true;
		}
	}
	if (d->broken) {
		fprintf(stderr, "%s: stopped: the backend broke the ring protocol\n", e->name);
		e->fatal = true;
	} else if (d->backend_gone) {
		fprintf(stderr, "%s: the backend went away (state %s)\n", e->name,
			xbf_state_name(d->backend_state_seen));
		e->fatal = true;
	}
	if (blkfront_stop && !e->finished) {
		fprintf(stderr, "%s: interrupted\n", e->name);
		e->fatal = true;
	}
	for (unsigned i = 0; i < e->qd; i++)
		free(e->slots[i].buf);
	free(e->slots);
	e->slots = NULL;
	return e->failed || e->fatal ? -1 : 0;
}

static unsigned default_qd(const struct workload_opts *o)
{
	return o->qd ? o->qd : 8;
}

int wl_sync_io(struct blkdev *d, struct blkio *io, int timeout_ms)
{
	uint64_t deadline = blkdev_now_ns() + (uint64_t)timeout_ms * 1000000u;

	while (blkdev_submit(d, io)) {
		if (errno != EAGAIN) {
			fprintf(stderr, "blkfront: cannot send a %s: %s\n", blkif_op_name(io->op),
				strerror(errno));
			return -1;
		}
		blkdev_poll(d, 100);
		if (blkdev_now_ns() > deadline) {
			fprintf(stderr, "blkfront: no ring slot for %d ms\n", timeout_ms);
			return -1;
		}
	}
	while (!io->done) {
		blkdev_poll(d, 100);
		if (io->done)
			break;
		if (blkdev_now_ns() > deadline || d->broken ||
		    (d->backend_gone && blkdev_drain(d, 1000))) {
			if (!io->done) {
				fprintf(stderr, "blkfront: no answer to a %s\n", blkif_op_name(io->op));
				blkdev_abort_inflight(d, d->backend_gone ? BLKIO_BACKEND_GONE : BLKIO_TIMEOUT);
			}
			return -1;
		}
	}
	return 0;
}

static uint64_t disk_bytes(const struct blkdev *d)
{
	return d->info.sectors * 512;
}

/* Default request size: the largest a request carries, at most 1 MiB. */
static uint64_t chunk_size(const struct blkdev *d, const struct workload_opts *o)
{
	uint64_t max = blkdev_max_io(d, 0), c;

	c = o->bs ? o->bs : (max < (1u << 20) ? max : (1u << 20));
	c -= c % d->info.sector_size;
	return c;
}

static int check_bs(const struct blkdev *d, const struct workload_opts *o, const char *name)
{
	uint64_t c = o->bs;

	if (c && (c % d->info.sector_size || c > blkdev_max_io(d, 0))) {
		fprintf(stderr, "%s: --bs %" PRIu64 " must be a multiple of the sector size %u "
			"and at most %" PRIu64 " (one request)\n", name, c, d->info.sector_size,
			blkdev_max_io(d, 0));
		return -1;
	}
	return 0;
}

/* ---- write-file ------------------------------------------------------ */

struct wfile {
	int fd;
	uint64_t size, rounded, pos, chunk;
	void *tail;	/* the disk's bytes after the file's end in its last sector */
};

static int wfile_next(struct engine *e, struct eslot *s)
{
	struct wfile *w = e->ctx;
	uint64_t n = w->rounded - w->pos, have;
	void *buf;

	if (w->pos >= w->rounded)
		return -1;
	if (n > w->chunk)
		n = w->chunk;
	buf = slot_buf(s, n);
	if (!buf)
		return -1;
	have = w->size - w->pos < n ? w->size - w->pos : n;
	for (uint64_t got = 0; got < have;) {
		ssize_t r = pread(w->fd, (char *)buf + got, have - got, (off_t)(w->pos + got));

		if (r <= 0) {
			fprintf(stderr, "write-file: reading the file: %s\n",
				r ? strerror(errno) : "unexpected end");
			e->fatal = true;
			return -1;
		}
		got += (uint64_t)r;
	}
	if (have < n)	/* the last, partial sector keeps the disk's bytes */
		memcpy((char *)buf + have,
		       (char *)w->tail + (w->size % e->d->info.sector_size), n - have);
	s->io.op = BLKIF_OP_WRITE;
	s->io.offset = e->o->offset + w->pos;
	s->io.len = n;
	s->io.buf = buf;
	w->pos += n;
	return 1;
}

int wl_write_file(struct blkdev *d, const struct workload_opts *o, const char *path)
{
	struct wfile w = { .fd = -1 };
	struct engine e = {
		.name = "write-file", .d = d, .o = o, .qd = default_qd(o),
		.next = wfile_next, .ctx = &w,
	};
	unsigned ss = d->info.sector_size;
	struct stat st;
	int rc = -1;

	if (check_bs(d, o, e.name))
		return -1;
	if (o->offset % ss) {
		fprintf(stderr, "write-file: --offset must be a multiple of the sector size %u\n", ss);
		return -1;
	}
	w.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (w.fd < 0 || fstat(w.fd, &st)) {
		fprintf(stderr, "write-file: %s: %s\n", path, strerror(errno));
		goto out;
	}
	w.size = (uint64_t)st.st_size;
	w.rounded = (w.size + ss - 1) / ss * ss;
	w.chunk = chunk_size(d, o);
	if (o->offset + w.rounded > disk_bytes(d) || o->offset + w.rounded < o->offset) {
		fprintf(stderr, "write-file: %" PRIu64 " bytes at offset %" PRIu64
			" do not fit on a disk of %" PRIu64 " bytes\n", w.size, o->offset, disk_bytes(d));
		goto out;
	}
	if (w.size % ss) {
		struct blkio io = {
			.op = BLKIF_OP_READ, .offset = o->offset + w.size / ss * ss, .len = ss,
			.queue = -1,
		};

		w.tail = io.buf = malloc(ss);
		if (!w.tail || wl_sync_io(d, &io, o->timeout_ms) || io.status) {
			fprintf(stderr, "write-file: cannot read the last sector to keep its tail\n");
			goto out;
		}
	}
	rc = engine_run(&e);
	printf("write-file: bytes=%" PRIu64 " offset=%" PRIu64 " requests=%" PRIu64
	       " failed=%" PRIu64 "\n", w.size, o->offset, e.completed, e.failed);
out:
	if (w.fd >= 0)
		close(w.fd);
	free(w.tail);
	return rc;
}

/* ---- read-file ------------------------------------------------------- */

struct rfile {
	int fd;
	uint64_t length, rounded, pos, chunk;
};

static int rfile_next(struct engine *e, struct eslot *s)
{
	struct rfile *r = e->ctx;
	uint64_t n = r->rounded - r->pos;

	if (r->pos >= r->rounded)
		return -1;
	if (n > r->chunk)
		n = r->chunk;
	s->io.buf = slot_buf(s, n);
	if (!s->io.buf)
		return -1;
	s->io.op = BLKIF_OP_READ;
	s->io.offset = e->o->offset + r->pos;
	s->io.len = n;
	r->pos += n;
	return 1;
}

static void rfile_done(struct engine *e, struct eslot *s)
{
	struct rfile *r = e->ctx;
	uint64_t pos = s->io.offset - e->o->offset, n = s->io.len;

	if (s->io.status != BLKIF_RSP_OKAY)
		return;
	if (pos + n > r->length)
		n = r->length - pos;
	for (uint64_t put = 0; put < n;) {
		ssize_t w = pwrite(r->fd, (char *)s->io.buf + put, n - put, (off_t)(pos + put));

		if (w < 0) {
			fprintf(stderr, "read-file: writing the file: %s\n", strerror(errno));
			e->fatal = true;
			return;
		}
		put += (uint64_t)w;
	}
}

int wl_read_file(struct blkdev *d, const struct workload_opts *o, const char *path)
{
	struct rfile r = { .fd = -1 };
	struct engine e = {
		.name = "read-file", .d = d, .o = o, .qd = default_qd(o),
		.next = rfile_next, .done = rfile_done, .ctx = &r,
	};
	unsigned ss = d->info.sector_size;
	int rc = -1;

	if (check_bs(d, o, e.name))
		return -1;
	if (o->offset % ss || o->offset > disk_bytes(d)) {
		fprintf(stderr, "read-file: --offset must be a multiple of the sector size %u "
			"within the disk\n", ss);
		return -1;
	}
	r.length = o->length ? o->length : disk_bytes(d) - o->offset;
	r.rounded = (r.length + ss - 1) / ss * ss;
	if (o->offset + r.rounded > disk_bytes(d) || o->offset + r.rounded < o->offset) {
		fprintf(stderr, "read-file: %" PRIu64 " bytes at offset %" PRIu64
			" run past the end of a disk of %" PRIu64 " bytes\n", r.length, o->offset,
			disk_bytes(d));
		return -1;
	}
	r.chunk = chunk_size(d, o);
	r.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r.fd < 0) {
		fprintf(stderr, "read-file: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = engine_run(&e);
	if (ftruncate(r.fd, (off_t)r.length) || close(r.fd)) {
		fprintf(stderr, "read-file: %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	printf("read-file: bytes=%" PRIu64 " offset=%" PRIu64 " requests=%" PRIu64
	       " failed=%" PRIu64 "\n", r.length, o->offset, e.completed, e.failed);
	return rc;
}

/* ---- verify ---------------------------------------------------------- */

#define SEC_KNOWN 1	/* sum[] holds what the sector must read back as */
#define SEC_BUSY 2	/* a request covering it is in flight */

struct verify {
	uint64_t rng;
	uint64_t start, nsect;	/* region: byte offset, 512-byte sectors */
	unsigned ss;
	uint64_t *sum;
	uint8_t *flags;
	uint64_t gen;
	unsigned ops_left;
	uint64_t final_pos;	/* final read-back pass, in 512-byte sectors */
	uint64_t mismatches;
	uint64_t reads, writes, flushes, discards, indirect;
	uint64_t read_bytes, written_bytes, max_len, min_len;
};

static bool range_busy(const struct verify *v, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++)
		if (v->flags[i] & SEC_BUSY)
			return true;
	return false;
}

static void range_mark(struct verify *v, uint64_t first, uint64_t n, bool busy)
{
	for (uint64_t i = first; i < first + n; i++) {
		if (busy)
			v->flags[i] |= SEC_BUSY;
		else
			v->flags[i] &= (uint8_t)~SEC_BUSY;
	}
}

/* A discard aligned to the backend's granularity inside the region. */
static bool pick_discard(struct engine *e, struct verify *v, struct eslot *s)
{
	const struct blkdev_info *in = &e->d->info;
	uint64_t gran = in->discard_granularity >= v->ss ? in->discard_granularity : v->ss;
	uint64_t align = in->discard_alignment % gran, first, k, len, off;

	/* First granule boundary at or after the region start. */
	first = v->start <= align ? align : align + (v->start - align + gran - 1) / gran * gran;
	if (first % v->ss || first + gran > v->start + v->nsect * 512)
		return false;
	k = (v->start + v->nsect * 512 - first) / gran;
	off = first + rng_below(&v->rng, k) * gran;
	len = gran * (1 + rng_below(&v->rng, 4));
	if (off + len > v->start + v->nsect * 512)
		len = gran;
	if (range_busy(v, (off - v->start) / 512, len / 512))
		return false;
	range_mark(v, (off - v->start) / 512, len / 512, true);
	s->io.op = BLKIF_OP_DISCARD;
	s->io.offset = off;
	s->io.len = len;
	return true;
}

static int verify_next(struct engine *e, struct eslot *s)
{
	struct verify *v = e->ctx;
	struct blkdev *d = e->d;
	uint64_t r, lim, n, first, po = 0;

	if (!v->ops_left) {
		/* Final pass: read back the whole region, checking every sector. */
		uint64_t max = blkdev_max_io(d, 0) / 512;

		if (v->final_pos >= v->nsect)
			return -1;
		n = v->nsect - v->final_pos;
		if (n > max)
			n = max;
		n -= n % (v->ss / 512);
		if (range_busy(v, v->final_pos, n))
			return 0;
		first = v->final_pos;
		v->final_pos += n;
		s->io.op = BLKIF_OP_READ;
		goto rw;
	}

	r = rng_below(&v->rng, 100);
	if (r < 2 && (d->info.flush || d->info.barrier)) {
		v->ops_left--;
		s->io.op = d->info.flush && (!d->info.barrier || r == 0) ?
			BLKIF_OP_FLUSH_DISKCACHE : BLKIF_OP_WRITE_BARRIER;
		s->io.offset = v->start;
		return 1;
	}
	if (r < 5 && d->info.discard && pick_discard(e, v, s)) {
		v->ops_left--;
		return 1;
	}
	s->io.op = r % 2 ? BLKIF_OP_WRITE : BLKIF_OP_READ;

	/* A start inside the page like an unaligned guest buffer. */
	if (v->ss < XEN_PAGE)
		po = rng_below(&v->rng, XEN_PAGE / v->ss) * v->ss;
	/* Sizes: one sector, a direct request, or up to the largest. */
	switch (rng_below(&v->rng, 4)) {
	case 0: lim = v->ss; break;
	case 1: lim = (uint64_t)BLKIF_MAX_SEGMENTS_PER_REQUEST * XEN_PAGE - po; break;
	default: lim = blkdev_max_io(d, po); break;
	}
	if (lim > blkdev_max_io(d, po))
		lim = blkdev_max_io(d, po);
	if (lim > v->nsect * 512)
		lim = v->nsect * 512;
	lim /= v->ss;
	if (!lim)
		return -1;
	n = (1 + rng_below(&v->rng, lim)) * (v->ss / 512);
	for (int tries = 0;; tries++) {
		first = rng_below(&v->rng, (v->nsect - n) / (v->ss / 512) + 1) * (v->ss / 512);
		if (!range_busy(v, first, n))
			break;
		if (tries == 8)
			return 0;	/* wait for something to complete */
	}
	v->ops_left--;
	s->io.page_offset = (unsigned)po;
	/* Small requests sometimes go indirect too, to exercise both forms. */
	s->io.force_indirect = d->indirect_segs && rng_below(&v->rng, 4) == 0;
rw:
	s->io.offset = v->start + first * 512;
	s->io.len = n * 512;
	s->io.buf = slot_buf(s, s->io.len);
	if (!s->io.buf)
		return -1;
	if (s->io.op == BLKIF_OP_WRITE)
		pattern_fill(s->io.buf, s->io.len, e->o->seed, s->io.offset / 512, ++v->gen);
	range_mark(v, first, n, true);
	return 1;
}

static void verify_done(struct engine *e, struct eslot *s)
{
	struct verify *v = e->ctx;
	struct blkio *io = &s->io;
	uint64_t first = (io->offset - v->start) / 512, n = io->len / 512;
	bool ok = io->status == BLKIF_RSP_OKAY;

	if (io->indirect)
		v->indirect++;
	switch (io->op) {
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		v->flushes++;
		return;
	case BLKIF_OP_DISCARD:
		v->discards++;
		/* Discarded data may read back as anything the backend likes. */
		for (uint64_t i = first; i < first + n; i++)
			v->flags[i] &= (uint8_t)~SEC_KNOWN;
		break;
	case BLKIF_OP_WRITE:
		v->writes++;
		v->written_bytes += ok ? io->len : 0;
		for (uint64_t i = 0; i < n; i++) {
			if (ok) {
				v->sum[first + i] = sector_sum((char *)io->buf + i * 512);
				v->flags[first + i] |= SEC_KNOWN;
			} else {
				v->flags[first + i] &= (uint8_t)~SEC_KNOWN;
			}
		}
		break;
	case BLKIF_OP_READ:
		v->reads++;
		v->read_bytes += ok ? io->len : 0;
		for (uint64_t i = 0; ok && i < n; i++) {
			const char *sec = (char *)io->buf + i * 512;
			uint64_t sum = sector_sum(sec);

			if (!(v->flags[first + i] & SEC_KNOWN)) {
				v->sum[first + i] = sum;
				v->flags[first + i] |= SEC_KNOWN;
			} else if (v->sum[first + i] != sum) {
				char what[128];

				if (v->mismatches++ < MAX_REPORTS) {
					pattern_describe(sec, what, sizeof(what));
					fprintf(stderr, "verify: MISMATCH at 512-byte sector %" PRIu64
						" (read of %" PRIu64 " bytes at %" PRIu64 "%s): it holds %s\n",
						io->offset / 512 + i, io->len, io->offset,
						io->indirect ? ", indirect" : "", what);
				}
			}
		}
		break;
	}
	if (io->op == BLKIF_OP_READ || io->op == BLKIF_OP_WRITE) {
		if (io->len > v->max_len)
			v->max_len = io->len;
		if (!v->min_len || io->len < v->min_len)
			v->min_len = io->len;
	}
	range_mark(v, first, n, false);
}

int wl_verify(struct blkdev *d, const struct workload_opts *o)
{
	struct verify v = { .rng = o->seed, .ss = d->info.sector_size };
	struct engine e = {
		.name = "verify", .d = d, .o = o, .qd = default_qd(o),
		.next = verify_next, .done = verify_done, .ctx = &v,
	};
	uint64_t len = o->length;
	int rc;

	if (o->offset % v.ss || o->offset >= disk_bytes(d)) {
		fprintf(stderr, "verify: --offset must be a multiple of the sector size %u "
			"within the disk\n", v.ss);
		return -1;
	}
	if (!len) {	/* by default the first 64 MiB from the offset */
		len = disk_bytes(d) - o->offset;
		if (len > (64u << 20))
			len = 64u << 20;
	}
	len -= len % v.ss;
	if (!len || o->offset + len > disk_bytes(d)) {
		fprintf(stderr, "verify: the region must lie within the disk (%" PRIu64 " bytes)\n",
			disk_bytes(d));
		return -1;
	}
	v.start = o->offset;
	v.nsect = len / 512;
	v.ops_left = o->count ? o->count : 1000;
	v.sum = calloc(v.nsect, sizeof(*v.sum));
	v.flags = calloc(v.nsect, 1);
	if (!v.sum || !v.flags) {
		fprintf(stderr, "verify: out of memory for %" PRIu64 " sectors\n", v.nsect);
		free(v.sum);
		free(v.flags);
		return -1;
	}
	rc = engine_run(&e);
	printf("verify: ops=%" PRIu64 " reads=%" PRIu64 " writes=%" PRIu64 " flushes=%" PRIu64
	       " discards=%" PRIu64 " indirect=%" PRIu64 " read_bytes=%" PRIu64
	       " written_bytes=%" PRIu64 " min_request=%" PRIu64 " max_request=%" PRIu64
	       " region=%" PRIu64 ":%" PRIu64 " seed=%" PRIu64 " mismatches=%" PRIu64
	       " failed=%" PRIu64 "\n", e.completed, v.reads, v.writes, v.flushes, v.discards,
	       v.indirect, v.read_bytes, v.written_bytes, v.min_len, v.max_len, v.start, len,
	       o->seed, v.mismatches, e.failed);
	free(v.sum);
	free(v.flags);
	return rc || v.mismatches ? -1 : 0;
}

/* ---- flush, discard -------------------------------------------------- */

int wl_flush(struct blkdev *d, const struct workload_opts *o, int op)
{
	struct blkio io = { .op = (uint8_t)op, .queue = -1 };
	bool offered = op == BLKIF_OP_FLUSH_DISKCACHE ? d->info.flush : d->info.barrier;

	if (!offered)
		fprintf(stderr, "%s: the backend does not offer %s; sending it anyway\n",
			blkif_op_name(op), op == BLKIF_OP_FLUSH_DISKCACHE ?
			"feature-flush-cache" : "feature-barrier");
	if (wl_sync_io(d, &io, o->timeout_ms))
		return -1;
	printf("%s: status=%s\n", blkif_op_name(op), blkio_status_name(io.status));
	if (io.status != o->expect) {
		fprintf(stderr, "%s: %s, expected %s\n", blkif_op_name(op),
			blkio_status_name(io.status), blkio_status_name(o->expect));
		return -1;
	}
	return 0;
}

int wl_discard(struct blkdev *d, const struct workload_opts *o, uint64_t off,
	       uint64_t len, bool secure)
{
	struct blkio io = {
		.op = BLKIF_OP_DISCARD, .offset = off, .len = len, .queue = -1,
		.discard_flag = secure ? BLKIF_DISCARD_SECURE : 0,
	};

	if (off % d->info.sector_size || len % d->info.sector_size) {
		fprintf(stderr, "discard: offset and length must be multiples of the sector size %u\n",
			d->info.sector_size);
		return -1;
	}
	if (!d->info.discard)
		fprintf(stderr, "discard: the backend does not offer feature-discard; sending it anyway\n");
	if (wl_sync_io(d, &io, o->timeout_ms))
		return -1;
	printf("discard: offset=%" PRIu64 " length=%" PRIu64 " secure=%d status=%s\n", off, len,
	       secure, blkio_status_name(io.status));
	if (io.status != o->expect) {
		fprintf(stderr, "discard: %s, expected %s\n", blkio_status_name(io.status),
			blkio_status_name(o->expect));
		return -1;
	}
	return 0;
}

/* ---- bench ----------------------------------------------------------- */

struct bench {
	uint64_t rng, start, span, pos, bs;
	uint64_t end_ns, first_ns, last_ns;
	uint64_t ios, bytes, lat_sum, lat_max;
	uint64_t hist[256];	/* latency, 4 buckets per power of two (ns) */
};

static unsigned lat_bucket(uint64_t ns)
{
	unsigned b = ns ? 63 - (unsigned)__builtin_clzll(ns) : 0;

	return b < 2 ? b * 4 : b * 4 + (unsigned)((ns >> (b - 2)) & 3);
}

static uint64_t bucket_top(unsigned i)
{
	unsigned b = i / 4, sub = i % 4;

	return b < 2 ? (2ull << b) : (uint64_t)(4 + sub + 1) << (b - 2);
}

static int bench_next(struct engine *e, struct eslot *s)
{
	struct bench *b = e->ctx;
	bool rnd = e->o->rw >= BENCH_RANDREAD;
	bool write = e->o->rw == BENCH_WRITE || e->o->rw == BENCH_RANDWRITE ||
		(e->o->rw == BENCH_RANDRW && (rng_next(&b->rng) & 1));

	if (blkdev_now_ns() >= b->end_ns)
		return -1;
	if (!s->buf) {
		/* Write data is made once per slot: the bench measures transport. */
		if (!slot_buf(s, b->bs))
			return -1;
		pattern_fill(s->buf, b->bs, e->o->seed, 0, 0);
	}
	if (rnd) {
		s->io.offset = b->start + rng_below(&b->rng, b->span / b->bs) * b->bs;
	} else {
		if (b->pos + b->bs > b->span)
			b->pos = 0;
		s->io.offset = b->start + b->pos;
		b->pos += b->bs;
	}
	s->io.op = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
	s->io.len = b->bs;
	s->io.buf = s->buf;
	return 1;
}

static void bench_done(struct engine *e, struct eslot *s)
{
	struct bench *b = e->ctx;
	uint64_t lat = s->io.complete_ns - s->io.submit_ns;

	/* Only the requests answered as --expect says count (and time). */
	if (s->io.status != e->o->expect)
		return;
	b->ios++;
	b->bytes += s->io.len;
	b->lat_sum += lat;
	if (lat > b->lat_max)
		b->lat_max = lat;
	b->hist[lat_bucket(lat)]++;
	b->last_ns = s->io.complete_ns;
}

int wl_bench(struct blkdev *d, const struct workload_opts *o)
{
	struct bench b = { .rng = o->seed };
	struct engine e = {
		.name = "bench", .d = d, .o = o, .qd = o->qd ? o->qd : 32,
		.next = bench_next, .done = bench_done, .ctx = &b,
	};
	double secs, iops, mbps;
	uint64_t p50 = 0, p99 = 0, seen = 0;
	int rc;

	if (check_bs(d, o, e.name) || o->offset % d->info.sector_size ||
	    o->offset >= disk_bytes(d)) {
		fprintf(stderr, "bench: --offset must be a multiple of the sector size within the disk\n");
		return -1;
	}
	b.bs = o->bs ? o->bs : 4096;
	if (b.bs % d->info.sector_size || b.bs > blkdev_max_io(d, 0)) {
		fprintf(stderr, "bench: --bs %" PRIu64 " does not fit one request\n", b.bs);
		return -1;
	}
	b.start = o->offset;
	b.span = o->length ? o->length : disk_bytes(d) - o->offset;
	if (b.start + b.span > disk_bytes(d))
		b.span = disk_bytes(d) - b.start;
	if (b.span < b.bs) {
		fprintf(stderr, "bench: the region is smaller than one request\n");
		return -1;
	}
	b.first_ns = blkdev_now_ns();
	b.end_ns = b.first_ns + (uint64_t)(o->seconds * 1e9);
	rc = engine_run(&e);
	secs = b.last_ns > b.first_ns ? (double)(b.last_ns - b.first_ns) / 1e9 : 0;
	iops = secs > 0 ? (double)b.ios / secs : 0;
	mbps = secs > 0 ? (double)b.bytes / secs / 1e6 : 0;
	for (unsigned i = 0; i < 256; i++) {
		seen += b.hist[i];
		if (!p50 && seen * 2 >= b.ios)
			p50 = bucket_top(i);
		if (!p99 && seen * 100 >= b.ios * 99)
			p99 = bucket_top(i);
	}
	printf("bench: rw=%s bs=%" PRIu64 " qd=%u queues=%u ring-order=%u persistent=%d "
	       "indirect=%u abi=%s seconds=%.3f ios=%" PRIu64 " bytes=%" PRIu64
	       " iops=%.1f mbps=%.2f lat_avg_us=%.1f lat_p50_us=%.1f lat_p99_us=%.1f"
	       " lat_max_us=%.1f failed=%" PRIu64 "%s%s\n",
	       bench_rw_name(o->rw), b.bs, e.qd, d->nr_queues, d->ring_order, d->persistent,
	       d->indirect_segs, abi_protocol(d->opt.abi), secs, b.ios, b.bytes, iops, mbps,
	       b.ios ? (double)b.lat_sum / (double)b.ios / 1e3 : 0, (double)p50 / 1e3,
	       (double)p99 / 1e3, (double)b.lat_max / 1e3, e.failed,
	       o->expect != BLKIF_RSP_OKAY ? " expect=" : "",
	       o->expect != BLKIF_RSP_OKAY ? blkio_status_name(o->expect) : "");
	if (!rc && !b.ios) {
		fprintf(stderr, "bench: no request was answered %s in %.3f s\n",
			blkio_status_name(o->expect), o->seconds);
		return -1;
	}
	return rc;
}

int parse_bench_rw(const char *s, enum bench_rw *rw)
{
	static const char *const names[] = { "read", "write", "randread", "randwrite", "randrw" };

	for (unsigned i = 0; i < 5; i++)
		if (!strcmp(s, names[i])) {
			*rw = (enum bench_rw)i;
			return 0;
		}
	return -1;
}

const char *bench_rw_name(enum bench_rw rw)
{
	static const char *const names[] = { "read", "write", "randread", "randwrite", "randrw" };

	return names[rw];
}
