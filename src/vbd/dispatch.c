/* SPDX-License-Identifier: MIT */
/*
 * A request's way through the worker: validated copy -> (ordering) ->
 * grant mapping -> I/O -> unmapping -> response.
 *
 * Ordering follows blkif.h: a flush (BLKIF_OP_FLUSH_DISKCACHE) starts
 * once every write accepted before it has completed; a barrier
 * (BLKIF_OP_WRITE_BARRIER) does the same and holds every later request
 * until it is done. Either may carry data, written after the flush (and
 * for a barrier flushed again, as the FUA write it stands for).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vbd/worker.h"

void vbd_list_append(struct vbd_list *l, struct vbd_ioreq *q)
{
	q->next = NULL;
	q->prev = l->tail;
	if (l->tail)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
}

void vbd_list_remove(struct vbd_list *l, struct vbd_ioreq *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		l->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		l->tail = q->prev;
	q->next = q->prev = NULL;
}

static void writes_append(struct vbd_ring *r, struct vbd_ioreq *q)
{
	q->seq = ++r->seq;
	q->wnext = NULL;
	q->wprev = r->writes.tail;
	if (r->writes.tail)
		r->writes.tail->wnext = q;
	else
		r->writes.head = q;
	r->writes.tail = q;
	q->in_writes = true;
}

static void writes_remove(struct vbd_ring *r, struct vbd_ioreq *q)
{
	if (!q->in_writes)
		return;
	if (q->wprev)
		q->wprev->wnext = q->wnext;
	else
		r->writes.head = q->wnext;
	if (q->wnext)
		q->wnext->wprev = q->wprev;
	else
		r->writes.tail = q->wprev;
	q->wnext = q->wprev = NULL;
	q->in_writes = false;
}

static void start(struct vbd_ioreq *q);
static void check_waiting(struct vbd_ring *r);
static void drop_bounce(struct vbd_ioreq *q);

/* The operation q is counted under (VBD_OP_*), from what the ring said. */
static unsigned int op_of(const struct vbd_request *req)
{
	switch (req->rsp_operation) {
	case BLKIF_OP_READ:
		return VBD_OP_READ;
	case BLKIF_OP_WRITE:
		return VBD_OP_WRITE;
	case BLKIF_OP_FLUSH_DISKCACHE:
		return VBD_OP_FLUSH;
	case BLKIF_OP_WRITE_BARRIER:
		return VBD_OP_BARRIER;
	case BLKIF_OP_DISCARD:
		return VBD_OP_DISCARD;
	default:
		return VBD_OP_OTHER;
	}
}

/* A grant map or copy that failed: ours when out of memory, else the guest's. */
static enum xbd_result grant_failure(int err)
{
	return err == -ENOMEM ? XBD_RESULT_NO_RESOURCES : XBD_RESULT_BAD_REQUEST;
}

/*
 * Answers q and returns it to the free list; res says, for the metrics,
 * why a status other than BLKIF_RSP_OKAY was given.
 */
static void finish(struct vbd_ioreq *q, int16_t status, enum xbd_result res)
{
	struct vbd_ring *r = q->ring;
	bool was_barrier = q->barrier;
	uint64_t bytes = q->req.nr_sectors << VBD_SECTOR_SHIFT;

	if (q->mapped) {
		vbd_grants_unmap(r->grants, &q->map);
		q->mapped = false;
	}
	writes_remove(r, q);
	if (status == BLKIF_RSP_OKAY && q->req.nr_segments) {
		if (q->req.kind == VBD_REQ_READ)
			xbd_ring_count(r->ring, VBD_COUNT_READ_BYTES, bytes);
		else if (q->req.kind != VBD_REQ_DISCARD)
			xbd_ring_count(r->ring, VBD_COUNT_WRITE_BYTES, bytes);
	}
	if (status == BLKIF_RSP_OKAY)
		res = XBD_RESULT_OK;
	else if (res == XBD_RESULT_OK)
		res = XBD_RESULT_IO_ERROR;	/* an error is never counted ok */
	xbd_ring_account(r->ring, op_of(&q->req), res, bytes, q->taken);
	vbd_ring_respond(r, q->ticket, q->req.id, q->req.rsp_operation, status);

	free(q->heap);
	q->heap = NULL;
	drop_bounce(q);
	q->barrier = false;
	q->stage = VBD_STAGE_IDLE;
	q->next = r->free;
	r->free = q;

	if (was_barrier) {
		/* Release what the barrier held, up to the next barrier. */
		r->barrier = false;
		while (r->held.head && !r->barrier) {
			struct vbd_ioreq *h = r->held.head;

			vbd_list_remove(&r->held, h);
			start(h);
		}
	}
	check_waiting(r);
}

/* Builds q->iov from its segments' pages, merging contiguous ones. */
static void build_iov(struct vbd_ioreq *q)
{
	unsigned int i, n = 0;

	for (i = 0; i < q->req.nr_segments; i++) {
		const struct vbd_segment *s = &q->segs[i];
		char *base = (char *)q->pages[i] +
			     ((size_t)s->first_sect << VBD_SECTOR_SHIFT);
		size_t len = ((size_t)s->last_sect - s->first_sect + 1)
			     << VBD_SECTOR_SHIFT;

		if (n && (char *)q->iov[n - 1].iov_base +
				 q->iov[n - 1].iov_len == base) {
			q->iov[n - 1].iov_len += len;
			continue;
		}
		q->iov[n].iov_base = base;
		q->iov[n].iov_len = len;
		n++;
	}
	q->iovcnt = n;
}

static void io_done(struct vbd_io_op *op, int res);

static void submit(struct vbd_ioreq *q, enum vbd_io_kind kind)
{
	struct vbd_io_op *op = &q->op;

	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->done = io_done;
	op->offset = q->req.sector << VBD_SECTOR_SHIFT;
	if ((kind == VBD_IO_READ || kind == VBD_IO_WRITE) && q->ring->wd->copy) {
		op->iov = q->iov;	/* the bounce buffer, set by copy_in */
		op->iovcnt = q->iovcnt;
	} else if (kind == VBD_IO_READ || kind == VBD_IO_WRITE) {
		build_iov(q);
		op->iov = q->iov;
		op->iovcnt = q->iovcnt;
	} else if (kind == VBD_IO_DISCARD || kind == VBD_IO_SECURE_DISCARD) {
		op->length = q->req.nr_sectors << VBD_SECTOR_SHIFT;
	}
	/* blkback's oo_req: the I/O has to wait for a free slot. */
	if (vbd_io_full(q->ring->wd->io))
		xbd_ring_count_wait(q->ring->ring);
	vbd_io_submit(q->ring->wd->io, op);
}

/* Bounce buffers kept per request up to this size; larger ones freed. */
#define BOUNCE_KEEP (BLKIF_MAX_SEGMENTS_PER_REQUEST * VBD_PAGE_SIZE)

static void drop_bounce(struct vbd_ioreq *q)
{
	if (q->bounce && q->bounce_size > BOUNCE_KEEP) {
		free(q->bounce);
		q->bounce = NULL;
		q->bounce_size = 0;
	}
}

/* Grant copy: the data through a bounce buffer, one iovec. */
static int copy_in(struct vbd_ioreq *q, bool to_guest)
{
	size_t len = q->req.nr_sectors << VBD_SECTOR_SHIFT;
	int err;

	if (q->bounce_size < len) {
		size_t sz = len < BOUNCE_KEEP ? BOUNCE_KEEP : len;
		void *b;

		free(q->bounce);
		q->bounce = NULL;
		q->bounce_size = 0;
		if (posix_memalign(&b, VBD_PAGE_SIZE, sz))
			return -ENOMEM;
		q->bounce = b;
		q->bounce_size = sz;
	}
	q->iov[0].iov_base = q->bounce;
	q->iov[0].iov_len = len;
	q->iovcnt = 1;
	if (to_guest)
		return 0;
	err = vbd_grants_copy(q->ring->grants, q->segs, q->req.nr_segments,
			      false, q->bounce);
	return err;
}

/* Maps (or copies) the data pages and writes (or reads) them. */
static void start_data(struct vbd_ioreq *q)
{
	struct vbd_ring *r = q->ring;
	bool to_guest = q->req.kind == VBD_REQ_READ;
	int err;

	q->stage = VBD_STAGE_DATA;
	if (r->wd->copy) {
		err = copy_in(q, to_guest);
		if (err) {
			xbd_log_guest(XBD_DEBUG, "queue %u: copying request %llu "
				"failed: %s", r->index,
				(unsigned long long)q->req.id, strerror(-err));
			finish(q, BLKIF_RSP_ERROR, grant_failure(err));
			return;
		}
		submit(q, to_guest ? VBD_IO_READ : VBD_IO_WRITE);
		return;
	}
	err = vbd_grants_map(r->grants, q->segs, q->req.nr_segments, to_guest,
			     q->pages, &q->map);
	if (err) {
		xbd_log_guest(XBD_DEBUG, "queue %u: mapping %u grant(s) of "
			"request %llu failed: %s", r->index, q->req.nr_segments,
			(unsigned long long)q->req.id, strerror(-err));
		finish(q, BLKIF_RSP_ERROR, grant_failure(err));
		return;
	}
	q->mapped = true;
	submit(q, to_guest ? VBD_IO_READ : VBD_IO_WRITE);
}

static void io_done(struct vbd_io_op *op, int res)
{
	struct vbd_ioreq *q = (struct vbd_ioreq *)((char *)op -
					offsetof(struct vbd_ioreq, op));

	if (res < 0) {
		xbd_log_guest(XBD_DEBUG, "queue %u: request %llu: I/O error: %s",
			q->ring->index,
			(unsigned long long)q->req.id, strerror(-res));
		if (res == -EOPNOTSUPP && q->req.kind != VBD_REQ_READ &&
		    q->req.kind != VBD_REQ_WRITE)
			finish(q, BLKIF_RSP_EOPNOTSUPP, XBD_RESULT_UNSUPPORTED);
		else
			finish(q, BLKIF_RSP_ERROR, res == -ENOMEM ?
			       XBD_RESULT_NO_RESOURCES : XBD_RESULT_IO_ERROR);
		return;
	}
	switch (q->stage) {
	case VBD_STAGE_PREFLUSH:
		if (q->req.nr_segments) {
			start_data(q);
			return;
		}
		break;
	case VBD_STAGE_DATA:
		if (q->ring->wd->copy && q->req.kind == VBD_REQ_READ &&
		    vbd_grants_copy(q->ring->grants, q->segs,
				    q->req.nr_segments, true, q->bounce)) {
			finish(q, BLKIF_RSP_ERROR, XBD_RESULT_BAD_REQUEST);
			return;
		}
		if (q->req.kind == VBD_REQ_BARRIER) {
			q->stage = VBD_STAGE_POSTFLUSH;
			submit(q, VBD_IO_FLUSH);
			return;
		}
		break;
	default:
		break;
	}
	finish(q, BLKIF_RSP_OKAY, XBD_RESULT_OK);
}

/* Flushes and barriers whose earlier writes are all done may start. */
static void check_waiting(struct vbd_ring *r)
{
	struct vbd_ioreq *q = r->waiting.head;

	while (q) {
		struct vbd_ioreq *next = q->next;
		struct vbd_ioreq *oldest = r->writes.head;

		/* The request's own data write does not count. */
		if (oldest == q)
			oldest = q->wnext;
		if (!oldest || oldest->seq > q->wait_seq) {
			vbd_list_remove(&r->waiting, q);
			q->stage = VBD_STAGE_PREFLUSH;
			submit(q, VBD_IO_FLUSH);
		}
		q = next;
	}
	vbd_io_kick(r->wd->io);
}

/* Starts a validated request (not behind a barrier). */
static void start(struct vbd_ioreq *q)
{
	struct vbd_ring *r = q->ring;

	if (r->barrier) {
		q->stage = VBD_STAGE_HELD;
		vbd_list_append(&r->held, q);
		return;
	}
	switch (q->req.kind) {
	case VBD_REQ_READ:
		start_data(q);
		break;
	case VBD_REQ_WRITE:
		writes_append(r, q);
		start_data(q);
		break;
	case VBD_REQ_DISCARD:
		writes_append(r, q);
		q->stage = VBD_STAGE_DATA;
		if (q->req.nr_sectors == 0) {
			finish(q, BLKIF_RSP_OKAY, XBD_RESULT_OK);
			break;
		}
		submit(q, q->req.secure ? VBD_IO_SECURE_DISCARD
					: VBD_IO_DISCARD);
		break;
	case VBD_REQ_FLUSH:
	case VBD_REQ_BARRIER:
		q->wait_seq = r->seq;
		if (q->req.nr_segments)
			writes_append(r, q);
		if (q->req.kind == VBD_REQ_BARRIER)
			r->barrier = q->barrier = true;
		q->stage = VBD_STAGE_WAITING;
		vbd_list_append(&r->waiting, q);
		check_waiting(r);
		break;
	}
}

/*
 * Reads and checks an indirect request's segment list: XBD_RESULT_OK, or
 * why the request is refused.
 */
static enum xbd_result load_indirect(struct vbd_ioreq *q)
{
	struct vbd_ring *r = q->ring;
	unsigned int n = q->req.nr_segments;
	const volatile void *pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	size_t sz = n * (sizeof(*q->segs) + sizeof(*q->pages) +
			 sizeof(*q->map.pers) + sizeof(*q->iov));
	char *base, *heap;
	unsigned int i;
	int status;

	heap = malloc(sz);
	if (!heap)
		return XBD_RESULT_NO_RESOURCES;
	q->heap = heap;
	/* Largest alignment first: iovecs, then pointers, then segments. */
	q->iov = (struct iovec *)heap;
	q->pages = (void **)(heap + n * sizeof(*q->iov));
	q->map.pers = (struct vbd_pgrant **)((char *)q->pages +
					     n * sizeof(*q->pages));
	q->segs = (struct vbd_segment *)((char *)q->map.pers +
					 n * sizeof(*q->map.pers));

	base = vbd_grants_map_ro(r->grants, q->req.indirect_grefs,
				 q->req.nr_indirect_pages);
	if (!base)
		return XBD_RESULT_BAD_REQUEST;
	for (i = 0; i < q->req.nr_indirect_pages; i++)
		pages[i] = base + (size_t)i * VBD_PAGE_SIZE;
	status = vbd_request_indirect_segments(&q->req, &r->wd->lim, pages,
					       q->segs);
	/* Past the end the worker knows: the store may have grown. */
	if (status != BLKIF_RSP_OKAY && vbd_worker_refresh_size(r->wd))
		status = vbd_request_indirect_segments(&q->req, &r->wd->lim,
						       pages, q->segs);
	vbd_grants_unmap_ro(r->grants, base, q->req.nr_indirect_pages);
	return status == BLKIF_RSP_OKAY ? XBD_RESULT_OK : XBD_RESULT_BAD_REQUEST;
}

void vbd_dispatch(struct vbd_ring *r, const void *entry)
{
	struct vbd_ioreq *q = r->free;
	struct vbd_raw_request raw_copy, *raw = &raw_copy;
	enum xbd_result res;
	int status;

	/* Never empty: at most r->size requests are outstanding. */
	r->free = q->next;
	q->next = q->prev = NULL;
	q->stage = VBD_STAGE_IDLE;
	q->mapped = false;
	q->barrier = false;
	q->heap = NULL;
	q->segs = q->req.seg;
	q->pages = q->pages_inline;
	q->map.pers = q->pers_inline;
	q->map.nr = 0;
	q->iov = q->iov_inline;
	q->taken = xbd_ring_taken_at(r->ring);
	q->ticket = xbd_ring_ticket(r->ring);
	vbd_request_copy(r->abi, entry, raw);

	status = vbd_request_decode(r->abi, raw, &r->wd->lim, &q->req);
	/* Past the end the worker knows: the store may have grown. */
	if (status == BLKIF_RSP_ERROR && vbd_worker_refresh_size(r->wd))
		status = vbd_request_decode(r->abi, raw, &r->wd->lim, &q->req);
	/* decode refuses what is not offered, and the guest's mistakes. */
	res = status == BLKIF_RSP_OKAY ? XBD_RESULT_OK :
	      status == BLKIF_RSP_EOPNOTSUPP ? XBD_RESULT_UNSUPPORTED :
	      XBD_RESULT_BAD_REQUEST;
	if (res == XBD_RESULT_OK && q->req.nr_indirect_pages) {
		res = load_indirect(q);
		if (res != XBD_RESULT_OK)
			status = BLKIF_RSP_ERROR;
	}
	if (status != BLKIF_RSP_OKAY) {
		xbd_log_guest(XBD_DEBUG, "queue %u: request %llu (operation %u) "
			"refused with %d", r->index,
			(unsigned long long)q->req.id, q->req.operation,
			status);
		q->stage = VBD_STAGE_IDLE;
		finish(q, (int16_t)status, res);
		return;
	}
	start(q);
}

void vbd_dispatch_release(struct vbd_ring *r)
{
	unsigned int i;

	if (!r->reqs)
		return;
	for (i = 0; i < r->size; i++) {
		if (r->reqs[i].mapped)
			vbd_grants_unmap(r->grants, &r->reqs[i].map);
		free(r->reqs[i].heap);
		r->reqs[i].heap = NULL;
		free(r->reqs[i].bounce);
		r->reqs[i].bounce = NULL;
		r->reqs[i].bounce_size = 0;
	}
}
