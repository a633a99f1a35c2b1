/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xen/io/xenbus.h>

#include "blkdev.h"
#include "request.h"

volatile sig_atomic_t blkfront_stop;

#define STATE_BIT(s) (1u << (s))

uint64_t blkdev_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *blkio_status_name(int status)
{
	switch (status) {
	case BLKIF_RSP_OKAY: return "okay";
	case BLKIF_RSP_ERROR: return "error";
	case BLKIF_RSP_EOPNOTSUPP: return "eopnotsupp";
	case BLKIO_BACKEND_GONE: return "backend-gone";
	case BLKIO_TIMEOUT: return "timeout";
	case BLKIO_BROKEN: return "backend-broken";
	default: return "invalid";
	}
}

const char *blkif_op_name(int op)
{
	switch (op) {
	case BLKIF_OP_READ: return "read";
	case BLKIF_OP_WRITE: return "write";
	case BLKIF_OP_WRITE_BARRIER: return "barrier";
	case BLKIF_OP_FLUSH_DISKCACHE: return "flush";
	case BLKIF_OP_DISCARD: return "discard";
	case BLKIF_OP_INDIRECT: return "indirect";
	default: return "unknown";
	}
}

struct blkdev *blkdev_open(const struct blkdev_opts *opt)
{
	struct xbf_params p = {
		.path = opt->fe_path, .have_domid = true, .domid = opt->domid,
		.name = "blkfront",
	};
	struct blkdev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->opt = *opt;
	d->backend_state_seen = -1;
	d->xf = xbf_open(&p);
	if (!d->xf) {
		free(d);
		return NULL;
	}
	d->xce = xbf_evtchn(d->xf);
	d->xgs = xbf_gntshr(d->xf);
	d->devid = xbf_devid(d->xf);
	d->be_id = xbf_backend_id(d->xf);
	blkdev_backend_state(d);
	return d;
}

void blkdev_free(struct blkdev *d)
{
	if (!d)
		return;
	blkdev_teardown(d);
	xbf_free(d->xf);
	free(d);
}

int blkdev_backend_state(struct blkdev *d)
{
	d->be_state = xbf_backend_state(d->xf);
	return d->be_state;
}

bool blkdev_watches(struct blkdev *d)
{
	struct xbf_events ev;

	/* Ring events taken here are not lost: every poll looks at every ring. */
	xbf_wait(d->xf, 0, &ev);
	return ev.backend || ev.frontend;
}

static void report_backend(struct blkdev *d, const char *what)
{
	char *err = xbf_backend_error(d->xf);

	blkdev_backend_state(d);
	fprintf(stderr, "blkfront: %s (backend %s state %d %s%s%s)\n", what,
		xbf_backend_path(d->xf), d->be_state, xbf_state_name(d->be_state),
		err ? ", error: " : "", err ? err : "");
	free(err);
}

/* Reads a node whose absence means dflt; garbage is reported, then dflt. */
static unsigned long long be_u64(struct blkdev *d, const char *node,
				 unsigned long long dflt)
{
	uint64_t v;

	xbf_backend_uint(d->xf, node, dflt, UINT64_MAX, &v);
	return v;
}

static unsigned ilog2(unsigned long long v)
{
	unsigned r = 0;

	while (v > 1) {
		v >>= 1;
		r++;
	}
	return r;
}

/* Transport parameters, read at InitWait as Linux's talk_to_blkback does. */
static void read_transport(struct blkdev *d)
{
	unsigned long long v;

	v = be_u64(d, "max-ring-page-order", ULLONG_MAX);
	if (v == ULLONG_MAX)	/* the deprecated node counts pages */
		v = ilog2(be_u64(d, "max-ring-pages", 1));
	d->info.max_ring_order = v > 31 ? 31 : (unsigned)v;
	v = be_u64(d, "multi-queue-max-queues", 0);
	d->info.max_queues = v > 0xffff ? 0xffff : (unsigned)v;
}

static void free_queue(struct blkqueue *q)
{
	free(q->shadow);
	free(q->free_ids);
	q->shadow = NULL;
	q->free_ids = NULL;
	q->nr_free_ids = 0;
}

/* The request bookkeeping of queue idx, on the ring the library shared. */
static int alloc_queue(struct blkdev *d, struct blkqueue *q, unsigned idx)
{
	struct xbf_queue *xq = xbf_queue(d->xf, idx);

	memset(q, 0, sizeof(*q));
	q->idx = idx;
	fring_attach(&q->ring, xq->sring, xq->nr_pages, d->opt.abi);
	q->shadow = calloc(q->ring.nr_ents, sizeof(*q->shadow));
	q->free_ids = calloc(q->ring.nr_ents, sizeof(*q->free_ids));
	if (!q->shadow || !q->free_ids)
		return -1;
	for (unsigned i = q->ring.nr_ents; i-- > 0;)
		q->free_ids[q->nr_free_ids++] = i;
	return 0;
}

void blkdev_handshake_nodes(struct blkdev *d, struct xbf_nodes *l)
{
	xbf_ring_nodes(d->xf, l);
	/* Without the node the backend assumes its native ABI (blkif.h). */
	if (!d->opt.no_protocol_node)
		xbf_nodes_set(l, "protocol", "%s", abi_protocol(d->opt.abi));
	else
		xbf_nodes_rm(l, "protocol");
	xbf_nodes_set(l, "feature-persistent", "%u", d->opt.persistent ? 1 : 0);
}

/* Device properties and features, read once the backend is Connected. */
static int read_properties(struct blkdev *d)
{
	struct blkdev_info *in = &d->info;
	uint64_t v;

	if (xbf_backend_uint(d->xf, "sectors", 0, UINT64_MAX, &v) != 0) {
		report_backend(d, "backend is Connected without a valid `sectors`");
		return -1;
	}
	in->sectors = v;
	v = be_u64(d, "sector-size", 512);
	if (v < 512 || v > 65536 || (v & (v - 1))) {
		fprintf(stderr, "blkfront: %s/sector-size %" PRIu64 " is not a power of two >= 512\n",
			xbf_backend_path(d->xf), v);
		return -1;
	}
	in->sector_size = (unsigned)v;
	v = be_u64(d, "physical-sector-size", in->sector_size);
	if (v < in->sector_size || v > (1u << 24) || v % in->sector_size) {
		fprintf(stderr, "blkfront: warning: %s/physical-sector-size %" PRIu64 " is not a multiple of sector-size\n",
			xbf_backend_path(d->xf), v);
		v = in->sector_size;
	}
	in->physical_sector_size = (unsigned)v;
	in->info = (unsigned)be_u64(d, "info", 0);
	in->flush = be_u64(d, "feature-flush-cache", 0) != 0;
	in->barrier = be_u64(d, "feature-barrier", 0) != 0;
	in->discard = be_u64(d, "feature-discard", 0) != 0;
	in->discard_secure = be_u64(d, "discard-secure", 0) != 0;
	in->discard_granularity = (unsigned)be_u64(d, "discard-granularity", in->sector_size);
	in->discard_alignment = (unsigned)be_u64(d, "discard-alignment", 0);
	in->persistent = be_u64(d, "feature-persistent", 0) != 0;
	v = be_u64(d, "feature-max-indirect-segments", 0);
	in->max_indirect = v > 0xffff ? 0xffff : (unsigned)v;
	return 0;
}

static void negotiate_io(struct blkdev *d)
{
	unsigned ind = 0;

	d->persistent = d->opt.persistent && d->info.persistent;
	/* Like Linux: indirect only when the backend offers more than 11. */
	if (d->opt.indirect && d->info.max_indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		ind = d->info.max_indirect;
		if (d->opt.max_indirect && ind > d->opt.max_indirect)
			ind = d->opt.max_indirect;
		if (ind > BLK_MAX_INDIRECT_SEGS)
			ind = BLK_MAX_INDIRECT_SEGS;
		/* A bounded persistent pool must hold one largest request. */
		if (d->persistent && d->opt.max_grants) {
			unsigned room = d->opt.max_grants / GPOOL_CHUNK_PAGES * GPOOL_CHUNK_PAGES;

			while (ind > BLKIF_MAX_SEGMENTS_PER_REQUEST &&
			       ind + req_nr_indirect_pages(ind) > room)
				ind--;
		}
		if (ind <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
			ind = 0;
	}
	d->indirect_segs = ind;
	d->max_segs = ind ? ind : BLKIF_MAX_SEGMENTS_PER_REQUEST;
}

/* Why a wait for the backend ended early, for the message. */
static const char *wait_failed(const char *state)
{
	static char m[96];

	snprintf(m, sizeof(m), "%s waiting for backend %s",
		 errno == EINTR || blkfront_stop ? "interrupted" : "timed out", state);
	return errno == ENOENT ? "backend directory vanished" : m;
}

int blkdev_connect(struct blkdev *d)
{
	struct xbf_nodes nodes = { 0 };
	int rc = -1;

	d->backend_gone = false;
	d->broken = false;
	d->backend_state_seen = -1;
	d->protocol_errors = 0;

	/* A fresh start: a frontend left Connected/Closed by an earlier run. */
	if (xbf_reset(d->xf))
		return -1;

	if (d->opt.wait_initwait &&
	    xbf_wait_backend(d->xf, XBF_STATE(XenbusStateInitWait), d->opt.timeout_ms) < 0) {
		report_backend(d, wait_failed("InitWait"));
		return -1;
	}
	read_transport(d);

	d->ring_order = d->opt.ring_order;
	if (d->ring_order > d->info.max_ring_order)
		d->ring_order = d->info.max_ring_order;
	if (d->ring_order > BLKFRONT_MAX_RING_ORDER)
		d->ring_order = BLKFRONT_MAX_RING_ORDER;
	d->nr_queues = d->opt.queues ? d->opt.queues : 1;
	if (d->nr_queues > (d->info.max_queues ? d->info.max_queues : 1))
		d->nr_queues = d->info.max_queues ? d->info.max_queues : 1;
	if (d->nr_queues > BLKFRONT_MAX_QUEUES)
		d->nr_queues = BLKFRONT_MAX_QUEUES;

	if (xbf_share_rings(d->xf, d->nr_queues, d->ring_order)) {
		d->nr_queues = 0;
		goto out;
	}
	for (unsigned i = 0; i < d->nr_queues; i++)
		if (alloc_queue(d, &d->q[i], i))
			goto out;

	/* The ring nodes, blkif's, and Initialised: one transaction. */
	blkdev_handshake_nodes(d, &nodes);
	if (d->edit_nodes)
		d->edit_nodes(d, &nodes, d->edit_arg);
	if (xbf_write_nodes(d->xf, &nodes, XenbusStateInitialised))
		goto out;

	if (xbf_wait_connected(d->xf, d->opt.timeout_ms)) {
		int e = errno;

		d->backend_state_seen = e == ENOENT ? -1 : blkdev_backend_state(d);
		report_backend(d, e == ECONNREFUSED ? "backend refused the connection" :
			       wait_failed("Connected"));
		goto out;
	}
	if (read_properties(d))
		goto out;
	negotiate_io(d);
	d->pool = gpool_new(d->xgs, d->be_id, d->persistent, d->opt.max_grants);
	if (!d->pool)
		goto out;
	if (xbf_switch_state(d->xf, XenbusStateConnected))
		goto out;
	d->connected = true;
	rc = 0;
out:
	xbf_nodes_free(&nodes);
	return rc;
}

uint64_t blkdev_max_io(const struct blkdev *d, unsigned page_offset)
{
	return (uint64_t)d->max_segs * XEN_PAGE - page_offset;
}

static struct blkqueue *pick_queue(struct blkdev *d, int want)
{
	if (want >= 0) {
		struct blkqueue *q = &d->q[(unsigned)want % d->nr_queues];

		return q->nr_free_ids && fring_free(&q->ring) ? q : NULL;
	}
	for (unsigned i = 0; i < d->nr_queues; i++) {
		struct blkqueue *q = &d->q[d->next_queue++ % d->nr_queues];

		if (q->nr_free_ids && fring_free(&q->ring))
			return q;
	}
	return NULL;
}

static int fail_io(int e)
{
	errno = e;
	return -1;
}

int blkdev_submit(struct blkdev *d, struct blkio *io)
{
	struct blk_request req;
	struct blkqueue *q;
	struct shadow *sh;
	bool has_data = io->op == BLKIF_OP_READ || io->op == BLKIF_OP_WRITE ||
		(io->op == BLKIF_OP_WRITE_BARRIER && io->len);
	unsigned nsegs = 0, id;

	io->done = false;
	io->status = BLKIO_BACKEND_GONE;
	if (!d->connected || d->backend_gone || d->broken)
		return fail_io(EPIPE);
	if (io->offset % 512 || io->len % 512 || io->page_offset % 512 ||
	    io->page_offset >= XEN_PAGE)
		return fail_io(EINVAL);
	if (has_data) {
		uint64_t segs = req_nr_segs(io->page_offset, io->len);

		if (!io->len || segs > d->max_segs)
			return fail_io(EINVAL);
		nsegs = (unsigned)segs;
	}
	q = pick_queue(d, io->queue);
	if (!q)
		return fail_io(EAGAIN);
	id = q->free_ids[q->nr_free_ids - 1];
	sh = &q->shadow[id];
	memset(&sh->data, 0, sizeof(sh->data));
	memset(&sh->ind, 0, sizeof(sh->ind));

	memset(&req, 0, sizeof(req));
	req.operation = io->op;
	req.handle = (uint16_t)d->devid;
	req.sector_number = io->offset / 512;
	io->indirect = false;
	io->nr_segments = nsegs;

	if (io->op == BLKIF_OP_DISCARD) {
		req.u.discard.flag = io->discard_flag;
		req.u.discard.nr_sectors = io->len / 512;
	} else if (has_data) {
		bool indirect = d->indirect_segs &&
			(nsegs > BLKIF_MAX_SEGMENTS_PER_REQUEST ||
			 (io->force_indirect && io->op != BLKIF_OP_WRITE_BARRIER));
		struct blk_seg *segs, local[BLKIF_MAX_SEGMENTS_PER_REQUEST];

		if (gpool_get(d->pool, nsegs, io->op == BLKIF_OP_READ, &sh->data))
			goto no_grants;
		if (io->op != BLKIF_OP_READ)
			req_copy(sh->data.addr, sh->data.n, io->page_offset, io->len, io->buf, true);
		if (!indirect) {
			req_build_segs(sh->data.refs, nsegs, io->page_offset, io->len, req.u.rw.seg);
			req.u.rw.nr_segments = (uint8_t)nsegs;
		} else {
			unsigned nind = req_nr_indirect_pages(nsegs);

			segs = nsegs <= BLKIF_MAX_SEGMENTS_PER_REQUEST ? local :
				malloc(nsegs * sizeof(*segs));
			if (!segs) {
				gpool_put(d->pool, &sh->data);
				return fail_io(ENOMEM);
			}
			if (gpool_get(d->pool, nind, false, &sh->ind)) {
				int e = errno;

				gpool_put(d->pool, &sh->data);
				if (segs != local)
					free(segs);
				errno = e;
				goto no_grants;
			}
			req_build_segs(sh->data.refs, nsegs, io->page_offset, io->len, segs);
			req_fill_indirect(sh->ind.addr, segs, nsegs);
			if (segs != local)
				free(segs);
			req.operation = BLKIF_OP_INDIRECT;
			req.u.indirect.indirect_op = io->op;
			req.u.indirect.nr_segments = (uint16_t)nsegs;
			for (unsigned i = 0; i < nind; i++)
				req.u.indirect.indirect_grefs[i] = sh->ind.refs[i];
			io->indirect = true;
		}
	}
	/* flush, and barrier without data: no segments. */

	q->nr_free_ids--;
	sh->busy = true;
	sh->gen++;
	sh->io = io;
	req.id = (uint64_t)sh->gen << 32 | id;
	if (io->mangle)
		io->mangle(d, io, &req, &sh->data);
	/* The backend echoes the operation; for indirect, the inner one. */
	sh->rsp_op = req.operation == BLKIF_OP_INDIRECT ? req.u.indirect.indirect_op :
		req.operation;
	io->submit_ns = blkdev_now_ns();
	fring_put_request(&q->ring, &req);
	q->dirty = true;
	q->submitted++;
	d->inflight++;
	return 0;

no_grants: {
	int e = errno;

	/* Out of grants for now: what is in flight will give some back. */
	if (e == ENOSPC && d->inflight)
		return fail_io(EAGAIN);
	fprintf(stderr, "blkfront: cannot grant pages for a %u-segment request: %s%s\n",
		nsegs, strerror(e), e == ENOSPC ? " (lower --max-indirect, --qd or --bs)" : "");
	return fail_io(e == EAGAIN ? ENOSPC : e);
	}
}

void blkdev_kick(struct blkdev *d)
{
	for (unsigned i = 0; i < d->nr_queues; i++) {
		struct blkqueue *q = &d->q[i];

		if (!q->dirty)
			continue;
		q->dirty = false;
		if (fring_push(&q->ring)) {
			xbf_notify(d->xf, q->idx);
			d->notifies++;
		}
	}
}

static void complete_shadow(struct blkdev *d, struct blkqueue *q, unsigned id,
			    int16_t status, uint8_t rsp_op)
{
	struct shadow *sh = &q->shadow[id];
	struct blkio *io = sh->io;

	if (status == BLKIF_RSP_OKAY && io->op == BLKIF_OP_READ && sh->data.n)
		req_copy(sh->data.addr, sh->data.n, io->page_offset, io->len, io->buf, false);
	if (sh->data.refs)
		gpool_put(d->pool, &sh->data);
	if (sh->ind.refs)
		gpool_put(d->pool, &sh->ind);
	sh->busy = false;
	sh->io = NULL;
	q->free_ids[q->nr_free_ids++] = id;
	q->completed++;
	d->inflight--;
	io->status = status;
	io->rsp_operation = rsp_op;
	io->done = true;
	io->complete_ns = blkdev_now_ns();
	if (io->complete)
		io->complete(io);
}

/* Counts a protocol error; says so for the first few only. */
static bool protocol_error(struct blkdev *d)
{
	if (++d->protocol_errors == 11)
		fprintf(stderr, "blkfront: more protocol errors; only counting them now\n");
	return d->protocol_errors <= 10;
}

static void handle_response(struct blkdev *d, struct blkqueue *q, const struct blk_response *rsp)
{
	uint32_t id = (uint32_t)rsp->id, gen = (uint32_t)(rsp->id >> 32);
	struct shadow *sh;
	int16_t status = rsp->status;

	if (id >= q->ring.nr_ents || !q->shadow[id].busy || q->shadow[id].gen != gen) {
		/* Never trust an id: a double or invented answer is an error. */
		if (protocol_error(d))
			fprintf(stderr, "blkfront: queue %u: backend answered unknown id %#" PRIx64
			" (operation %u, status %d)%s\n", q->idx, rsp->id, rsp->operation,
			rsp->status, id < q->ring.nr_ents && !q->shadow[id].busy ?
			" - answered twice?" : "");
		return;
	}
	sh = &q->shadow[id];
	if (rsp->operation != sh->rsp_op && protocol_error(d))
		fprintf(stderr, "blkfront: queue %u: response to a %s carries operation %u\n",
			q->idx, blkif_op_name(sh->rsp_op), rsp->operation);
	if (status != BLKIF_RSP_OKAY && status != BLKIF_RSP_ERROR &&
	    status != BLKIF_RSP_EOPNOTSUPP) {
		if (protocol_error(d))
			fprintf(stderr, "blkfront: queue %u: response with invalid status %d\n",
				q->idx, status);
		status = BLKIF_RSP_ERROR;
	}
	complete_shadow(d, q, id, status, rsp->operation);
}

static void process_queue(struct blkdev *d, struct blkqueue *q)
{
	if (d->broken)
		return;
	do {
		uint32_t prod;
		int n = fring_responses(&q->ring, &prod);

		if (n < 0) {
			/* Nothing on this ring can be trusted any more: stop now. */
			protocol_error(d);
			fprintf(stderr, "blkfront: queue %u: backend's rsp_prod %u is more than "
				"the %u requests outstanding: broken backend\n", q->idx, prod,
				q->ring.req_prod_pvt - q->ring.rsp_cons);
			d->broken = true;
			blkdev_abort_inflight(d, BLKIO_BROKEN);
			return;
		}
		for (uint32_t i = q->ring.rsp_cons; i != prod; i++) {
			struct blk_response rsp;

			fring_get_response(&q->ring, i, &rsp);
			q->ring.rsp_cons = i + 1;
			handle_response(d, q, &rsp);
		}
	} while (fring_final_check(&q->ring));
}

/* The backend's directory changed: follow its state. */
static void backend_changed(struct blkdev *d)
{
	int st = blkdev_backend_state(d);

	if (!d->connected || d->backend_gone)
		return;
	if (st == XenbusStateConnected) {
		uint64_t v;

		/* Online resize: blkback rewrites sectors and state. */
		if (xbf_backend_uint(d->xf, "sectors", 0, UINT64_MAX, &v) == 0 &&
		    v != d->info.sectors) {
			d->info.sectors = v;
			printf("blkfront: resized sectors=%" PRIu64 "\n", v);
			fflush(stdout);
		}
		return;
	}
	/*
	 * Like Linux blkfront, only Closing, Closed or removal end the
	 * connection; other states (a restarting backend rewriting its
	 * nodes) are noted and waited out.
	 */
	if (st != XenbusStateClosing && st != XenbusStateClosed && st >= 0) {
		if (st != d->backend_state_seen)
			fprintf(stderr, "blkfront: note: backend state is now %d %s\n", st,
				xbf_state_name(st));
		d->backend_state_seen = st;
		return;
	}
	d->backend_gone = true;
	d->backend_state_seen = st;
	report_backend(d, "backend left Connected");
}

int blkdev_poll(struct blkdev *d, int timeout_ms)
{
	struct xbf_events ev;
	int rc;

	blkdev_kick(d);
	rc = xbf_wait(d->xf, timeout_ms, &ev);
	if (rc < 0 && errno != EINTR)
		return -1;
	d->events += (uint64_t)__builtin_popcount(ev.queues);
	if (rc > 0 && (ev.backend || ev.frontend)) {
		backend_changed(d);
		d->last_state_check_ns = blkdev_now_ns();
	} else if (blkdev_now_ns() - d->last_state_check_ns > 1000000000u) {
		/*
		 * Look once a second even without a watch event: a lost event,
		 * or a xenstore that went away (then no event ever comes).
		 */
		backend_changed(d);
		d->last_state_check_ns = blkdev_now_ns();
	}
	/* Every ring is cheap to look at; a lost event then costs nothing. */
	for (unsigned i = 0; i < d->nr_queues; i++)
		process_queue(d, &d->q[i]);
	blkdev_kick(d);
	return rc < 0 ? -1 : 0;
}

void blkdev_abort_inflight(struct blkdev *d, int16_t status)
{
	for (unsigned i = 0; i < d->nr_queues; i++) {
		struct blkqueue *q = &d->q[i];

		for (unsigned id = 0; q->shadow && id < q->ring.nr_ents; id++)
			if (q->shadow[id].busy)
				complete_shadow(d, q, id, status, 0);
	}
}

int blkdev_drain(struct blkdev *d, int timeout_ms)
{
	uint64_t deadline = blkdev_now_ns() + (uint64_t)timeout_ms * 1000000u;
	uint64_t gone_at = 0;

	while (d->inflight) {
		uint64_t now = blkdev_now_ns();

		if (now >= deadline) {
			fprintf(stderr, "blkfront: %u request(s) unanswered after %d ms\n",
				d->inflight, timeout_ms);
			blkdev_abort_inflight(d, BLKIO_TIMEOUT);
			return -1;
		}
		/* A backend that left gets a second to answer what it took. */
		if (d->backend_gone) {
			if (!gone_at)
				gone_at = now;
			else if (now - gone_at > 1000000000u) {
				blkdev_abort_inflight(d, BLKIO_BACKEND_GONE);
				return -1;
			}
		}
		blkdev_poll(d, 100);
	}
	return 0;
}

void blkdev_teardown(struct blkdev *d)
{
	blkdev_abort_inflight(d, BLKIO_BACKEND_GONE);
	for (unsigned i = 0; i < d->nr_queues; i++)
		free_queue(&d->q[i]);
	d->nr_queues = 0;
	xbf_release_rings(d->xf);
	gpool_free(d->pool);
	d->pool = NULL;
	d->connected = false;
}

int blkdev_close(struct blkdev *d)
{
	int rc = 0;

	if (d->connected && blkdev_drain(d, d->opt.timeout_ms))
		rc = -1;
	/* Closing, the backend's Closing, Closed, its Closed; then unshare. */
	if (xbf_close(d->xf, d->opt.timeout_ms)) {
		fprintf(stderr, "blkfront: %s\n", xbf_error(d->xf));
		rc = -1;
	}
	blkdev_teardown(d);
	return rc;
}
