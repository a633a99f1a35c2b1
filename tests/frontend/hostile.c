/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "hostile.h"
#include "pattern.h"
#include "request.h"

enum hkind {
	HK_HANDSHAKE,	/* garbage in the nodes the frontend publishes */
	HK_REQUEST,	/* one bad request on a good connection */
	HK_RING,	/* abuse of the ring or event channel itself */
};

struct hostile;

struct hcase {
	const char *name;
	enum hkind kind;
	/* HK_REQUEST: shapes the request; mangle then corrupts it. */
	void (*setup)(struct hostile *h, struct blkio *io);
	blkio_mangle_fn *mangle;
	/* HK_HANDSHAKE: corrupts the node list. */
	void (*edit)(struct blkdev *d, struct xbf_nodes *l, void *arg);
	/* HK_RING: the whole misbehaviour. */
	void (*run)(struct hostile *h);
	const char *expected;	/* reactions that pass, '|'-separated */
	const char *what;
};

struct hostile {
	const struct hcase *c;
	const char *value;	/* CASE:VALUE, or NULL */
	struct blkdev *d;
	const struct workload_opts *wo;

	const char *reaction;
	int status;
	bool have_status;
	const char *after;	/* sanity I/O afterwards: ok, failed, skipped */
	bool skip;
	const char *skip_why;
	bool edited;		/* the handshake hook ran (nodes were published) */
	char extra[256];
	/* The backend's error node before the case: only a change counts. */
	char *err_before;
	unsigned err_writes_before;

	/* Resources some cases need. */
	void *ro_page;
	uint32_t ro_ref;
	/* Multi-page cases: the size of a write + read-back done afterwards. */
	uint64_t multi_len;
};

static bool value_u64(const struct hostile *h, unsigned long long *v)
{
	char *end;

	if (!h->value)
		return false;
	errno = 0;
	*v = strtoull(h->value, &end, 0);
	return !errno && !*end && end != h->value;
}

/* A grant reference that is no longer granted: shared, then unshared. */
static uint32_t stale_ref(struct blkdev *d)
{
	uint32_t ref = 0xffffff00u;
	void *p = xengntshr_share_pages(d->xgs, d->be_id, 1, &ref, 1);

	if (p)
		xengntshr_unshare(d->xgs, p, 1);
	return ref;
}

/* An event channel port that is no longer bound: bound, then unbound. */
static unsigned stale_port(struct blkdev *d)
{
	xenevtchn_port_or_error_t p = xenevtchn_bind_unbound_port(d->xce, d->be_id);

	if (p < 0)
		return 4095;
	xenevtchn_unbind(d->xce, (evtchn_port_t)p);
	return (unsigned)p;
}

/* ---- handshake cases ------------------------------------------------- */

/* The first node of the list whose name ends with one of the suffixes. */
static const char *find_node(const struct xbf_nodes *l, const char *a, const char *b)
{
	for (unsigned i = 0; i < l->n; i++) {
		size_t n = strlen(l->v[i].name);

		if ((n >= strlen(a) && !strcmp(l->v[i].name + n - strlen(a), a)) ||
		    (b && n >= strlen(b) && !strcmp(l->v[i].name + n - strlen(b), b)))
			return l->v[i].name;
	}
	return NULL;
}

static void set_node(struct xbf_nodes *l, const char *name, const char *value)
{
	/* name may be the list's own string, which the set replaces. */
	char *n = strdup(name);

	if (!n)
		abort();
	xbf_nodes_set(l, n, "%s", value);
	free(n);
}

static void edit_ring_order(struct blkdev *d, struct xbf_nodes *l, void *arg)
{
	struct hostile *h = arg;
	char v[32], *offered = xbf_read_backend(d->xf, "max-ring-page-order");

	h->edited = true;
	if (!offered && !h->value) {
		h->skip = true;
		h->skip_why = "backend offers no max-ring-page-order";
		return;
	}
	free(offered);
	snprintf(v, sizeof(v), "%u", d->info.max_ring_order + 1);
	set_node(l, "ring-page-order", h->value ? h->value : v);
}

static void edit_ring_ref(struct blkdev *d, struct xbf_nodes *l, void *arg)
{
	struct hostile *h = arg;
	const char *name = find_node(l, "ring-ref", "ring-ref0");
	char v[32];

	h->edited = true;
	snprintf(v, sizeof(v), "%u", stale_ref(d));
	if (name)
		set_node(l, name, h->value ? h->value : v);
}

static void edit_queues(struct blkdev *d, struct xbf_nodes *l, void *arg)
{
	struct hostile *h = arg;
	char v[32];

	h->edited = true;
	if (!d->info.max_queues && !h->value) {
		h->skip = true;
		h->skip_why = "backend offers no multi-queue-max-queues";
		return;
	}
	snprintf(v, sizeof(v), "%u", d->info.max_queues + 1);
	set_node(l, "multi-queue-num-queues", h->value ? h->value : v);
}

static void edit_protocol(struct blkdev *d, struct xbf_nodes *l, void *arg)
{
	struct hostile *h = arg;

	(void)d;
	h->edited = true;
	set_node(l, "protocol", h->value ? h->value : "x86_16-abi");
}

static void edit_evtchn(struct blkdev *d, struct xbf_nodes *l, void *arg)
{
	struct hostile *h = arg;
	const char *name = find_node(l, "event-channel", NULL);
	char v[32];

	h->edited = true;
	snprintf(v, sizeof(v), "%u", stale_port(d));
	if (name)
		set_node(l, name, h->value ? h->value : v);
}

/* ---- request cases --------------------------------------------------- */

static void setup_past_end(struct hostile *h, struct blkio *io)
{
	unsigned ss = h->d->info.sector_size;

	/* Two sectors: the disk's last and the one after it. */
	io->offset = h->d->info.sectors * 512 - ss;
	io->len = 2 * (uint64_t)ss;
}

static void setup_discard(struct hostile *h, struct blkio *io)
{
	if (h->d->info.discard) {
		h->skip = true;
		h->skip_why = "backend offers feature-discard";
	}
	io->op = BLKIF_OP_DISCARD;
	io->len = 8 * 512 > h->d->info.sector_size ? 8 * 512 : h->d->info.sector_size;
}

static void setup_indirect(struct hostile *h, struct blkio *io)
{
	if (!h->d->indirect_segs) {
		h->skip = true;
		h->skip_why = "no indirect descriptors negotiated";
	}
	io->force_indirect = true;
}

static void setup_ro_read(struct hostile *h, struct blkio *io)
{
	(void)io;
	h->ro_page = xengntshr_share_pages(h->d->xgs, h->d->be_id, 1, &h->ro_ref, 0);
	if (!h->ro_page) {
		h->skip = true;
		h->skip_why = "cannot share a read-only page";
	}
}

static void mangle_bad_gref(struct blkdev *d, struct blkio *io, struct blk_request *r,
			    struct grant_pages *g)
{
	struct hostile *h = io->mangle_arg;
	unsigned long long v;

	(void)g;
	r->u.rw.seg[0].gref = value_u64(h, &v) ? (uint32_t)v : stale_ref(d);
}

/*
 * Bad grants after good ones, so that the backend maps (or copies) part of
 * the request before it meets the bad one: its unmap-on-error path after a
 * partial map (XSA-362) and its error completion are what run. VALUE is the
 * number of segments (default: a full direct request, 11; 16 for the
 * indirect one), each a whole page.
 */
static unsigned partial_segs(struct hostile *h, unsigned def, unsigned max)
{
	unsigned long long v;

	if (!value_u64(h, &v) || v < 2)
		v = def;
	return v > max ? max : (unsigned)v;
}

static void setup_bad_gref_last(struct hostile *h, struct blkio *io)
{
	unsigned n = partial_segs(h, BLKIF_MAX_SEGMENTS_PER_REQUEST,
				  BLKIF_MAX_SEGMENTS_PER_REQUEST);

	io->len = (uint64_t)n * XEN_PAGE;
	h->multi_len = io->len;
}

static void setup_bad_indirect(struct hostile *h, struct blkio *io)
{
	unsigned max = h->d->indirect_segs;

	if (!max) {
		h->skip = true;
		h->skip_why = "no indirect descriptors negotiated";
		return;
	}
	io->force_indirect = true;
	io->len = (uint64_t)partial_segs(h, 16 < max ? 16 : max, max) * XEN_PAGE;
	h->multi_len = io->len;
}

static void mangle_bad_gref_last(struct blkdev *d, struct blkio *io, struct blk_request *r,
				 struct grant_pages *g)
{
	(void)io;
	(void)g;
	r->u.rw.seg[r->u.rw.nr_segments - 1].gref = stale_ref(d);
}

/* The shadow of the request being built: its indirect pages are there. */
static struct shadow *shadow_of(struct blkdev *d, struct blkio *io)
{
	for (unsigned q = 0; q < d->nr_queues; q++)
		for (unsigned i = 0; i < d->q[q].ring.nr_ents; i++)
			if (d->q[q].shadow[i].busy && d->q[q].shadow[i].io == io)
				return &d->q[q].shadow[i];
	return NULL;
}

static void mangle_bad_indirect_seg(struct blkdev *d, struct blkio *io, struct blk_request *r,
				    struct grant_pages *g)
{
	struct shadow *sh = shadow_of(d, io);
	unsigned last = r->u.indirect.nr_segments - 1u;
	struct blk_seg seg;

	if (!sh || !sh->ind.n || r->operation != BLKIF_OP_INDIRECT)
		abort();	/* setup_bad_indirect made it indirect */
	/* The indirect page stays good; its last segment names a stale grant. */
	seg = (struct blk_seg){
		.gref = stale_ref(d), .first_sect = 0, .last_sect = XEN_PAGE / 512 - 1,
	};
	(void)g;
	abi_encode_segment((char *)sh->ind.addr[last / SEGS_PER_INDIRECT_PAGE] +
			   (last % SEGS_PER_INDIRECT_PAGE) * BLK_SEG_WIRE_SIZE, &seg);
}

static void mangle_bad_indirect_page(struct blkdev *d, struct blkio *io, struct blk_request *r,
				     struct grant_pages *g)
{
	unsigned nind = req_nr_indirect_pages(r->u.indirect.nr_segments);

	(void)io;
	(void)g;
	if (r->operation != BLKIF_OP_INDIRECT || !nind)
		abort();
	/* The last indirect page's grant is stale; the data grants are good. */
	r->u.indirect.indirect_grefs[nind - 1] = stale_ref(d);
}

static void mangle_ro_read(struct blkdev *d, struct blkio *io, struct blk_request *r,
			   struct grant_pages *g)
{
	struct hostile *h = io->mangle_arg;

	(void)d;
	(void)g;
	r->u.rw.seg[0].gref = h->ro_ref;
}

static void mangle_overflow(struct blkdev *d, struct blkio *io, struct blk_request *r,
			    struct grant_pages *g)
{
	struct hostile *h = io->mangle_arg;
	unsigned long long v;

	(void)d;
	(void)g;
	/* The end (sector + 8) wraps around 2^64. */
	r->sector_number = value_u64(h, &v) ? v : UINT64_MAX - 1;
}

static void mangle_first_gt_last(struct blkdev *d, struct blkio *io, struct blk_request *r,
				 struct grant_pages *g)
{
	(void)d;
	(void)io;
	(void)g;
	r->u.rw.seg[0].first_sect = 5;
	r->u.rw.seg[0].last_sect = 2;
}

static void mangle_last_past_page(struct blkdev *d, struct blkio *io, struct blk_request *r,
				  struct grant_pages *g)
{
	struct hostile *h = io->mangle_arg;
	unsigned long long v;

	(void)d;
	(void)g;
	r->u.rw.seg[0].first_sect = 0;
	r->u.rw.seg[0].last_sect = value_u64(h, &v) ? (uint8_t)v : XEN_PAGE / 512;
}

static void mangle_zero_segs(struct blkdev *d, struct blkio *io, struct blk_request *r,
			     struct grant_pages *g)
{
	(void)d;
	(void)io;
	(void)g;
	r->u.rw.nr_segments = 0;
}

static void mangle_many_segs(struct blkdev *d, struct blkio *io, struct blk_request *r,
			     struct grant_pages *g)
{
	struct hostile *h = io->mangle_arg;
	unsigned long long v;

	(void)d;
	(void)g;
	r->u.rw.nr_segments = value_u64(h, &v) ? (uint8_t)v : BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
}

static void mangle_many_indirect(struct blkdev *d, struct blkio *io, struct blk_request *r,
				 struct grant_pages *g)
{
	struct hostile *h = io->mangle_arg;
	unsigned long long v;

	(void)d;
	(void)g;
	/* 4097 segments need 9 indirect pages: one more than blkif allows. */
	r->u.indirect.nr_segments = value_u64(h, &v) ? (uint16_t)v : BLK_MAX_INDIRECT_SEGS + 1;
}

static void mangle_unknown_op(struct blkdev *d, struct blkio *io, struct blk_request *r,
			      struct grant_pages *g)
{
	struct hostile *h = io->mangle_arg;
	unsigned long long v;

	(void)d;
	(void)g;
	r->operation = value_u64(h, &v) ? (uint8_t)v : 0xee;
}

/* ---- observing the backend ------------------------------------------- */

static bool backend_closed(int state)
{
	return state < 0 || state == XenbusStateClosing || state == XenbusStateClosed;
}

/*
 * The backend's error node, when it was written since the case began
 * (seen by the watch) or differs from what it held then.
 */
static char *new_error(const struct hostile *h)
{
	char *err = xbf_backend_error(h->d->xf);

	if (err && h->err_before && !strcmp(err, h->err_before) &&
	    xbf_error_writes(h->d->xf) == h->err_writes_before) {
		free(err);
		return NULL;
	}
	return err;
}

static bool has_new_error(const struct hostile *h)
{
	char *err = new_error(h);

	free(err);
	return err != NULL;
}

/*
 * Polls the device for up to ms (handling responses and watches) until
 * the backend closes or writes its error node. Returns the reaction seen,
 * or NULL.
 */
static const char *watch_backend(struct hostile *h, int ms)
{
	uint64_t end = blkdev_now_ns() + (uint64_t)ms * 1000000u;
	struct blkdev *d = h->d;
	const char *seen = NULL;

	for (;;) {
		if (d->connected)
			blkdev_poll(d, 100);
		else {
			struct xbf_events ev;

			xbf_wait(d->xf, 100, &ev);
		}
		if (d->backend_gone || backend_closed(blkdev_backend_state(d)))
			return "device-closed";
		/* An error is often followed by Closing: allow a second for it. */
		if (!seen && has_new_error(h)) {
			seen = "error-node";
			if (end > blkdev_now_ns() + 1000000000u)
				end = blkdev_now_ns() + 1000000000u;
		}
		if (blkdev_now_ns() >= end || blkfront_stop)
			return seen;
	}
}

/*
 * After a multi-page case: a write of that many pages, the same way
 * (direct or indirect), read back and compared. With persistent grants it
 * reuses the pages of the bad request, so a pool the bad grant poisoned in
 * the backend shows here.
 */
static bool sanity_multi(struct hostile *h)
{
	struct blkdev *d = h->d;
	uint64_t len = h->multi_len;
	char *w = malloc(len), *r = calloc(1, len);
	struct blkio io = {
		.op = BLKIF_OP_WRITE, .len = len, .buf = w, .queue = -1,
		.force_indirect = h->c->setup == setup_bad_indirect,
	};
	bool ok = false;

	if (!w || !r)
		goto out;
	pattern_fill(w, len, h->wo->seed, 0, 7);
	if (wl_sync_io(d, &io, h->wo->timeout_ms) || io.status != BLKIF_RSP_OKAY) {
		fprintf(stderr, "hostile: the %" PRIu64 "-byte write afterwards got %s\n", len,
			blkio_status_name(io.status));
		goto out;
	}
	io = (struct blkio){
		.op = BLKIF_OP_READ, .len = len, .buf = r, .queue = -1,
		.force_indirect = h->c->setup == setup_bad_indirect,
	};
	if (wl_sync_io(d, &io, h->wo->timeout_ms) || io.status != BLKIF_RSP_OKAY) {
		fprintf(stderr, "hostile: the %" PRIu64 "-byte read afterwards got %s\n", len,
			blkio_status_name(io.status));
		goto out;
	}
	ok = !memcmp(w, r, len);
	if (!ok)
		fprintf(stderr, "hostile: the %" PRIu64 "-byte read afterwards does not return "
			"what was written\n", len);
	else
		snprintf(h->extra + strlen(h->extra), sizeof(h->extra) - strlen(h->extra),
			 " after-rw=%" PRIu64, len);
out:
	free(w);
	free(r);
	return ok;
}

/* One small read that must succeed: the device still works. */
static const char *sanity_io(struct hostile *h)
{
	struct blkdev *d = h->d;
	unsigned ss = d->info.sector_size;
	void *buf = malloc(ss);
	struct blkio io = { .op = BLKIF_OP_READ, .len = ss, .buf = buf, .queue = -1 };
	bool ok;

	if (!d->connected || d->backend_gone || !buf) {
		free(buf);
		return "skipped";
	}
	ok = !wl_sync_io(d, &io, h->wo->timeout_ms) && io.status == BLKIF_RSP_OKAY;
	free(buf);
	if (ok && h->multi_len)
		ok = sanity_multi(h);
	return ok ? "ok" : "failed";
}

static void run_request_case(struct hostile *h)
{
	struct blkdev *d = h->d;
	unsigned ss = d->info.sector_size;
	uint64_t len = ss > XEN_PAGE ? ss : XEN_PAGE;
	void *buf = calloc(1, 2 * len);
	struct blkio io = {
		.op = BLKIF_OP_READ, .offset = 0, .len = len, .buf = buf, .queue = -1,
		.mangle = h->c->mangle, .mangle_arg = h,
	};
	const char *r;

	if (!buf)
		return;
	if (h->c->setup)
		h->c->setup(h, &io);
	if (h->skip)
		goto out;
	if (io.len > 2 * len) {	/* a multi-page case */
		free(buf);
		buf = io.buf = calloc(1, io.len);
		if (!buf)
			return;
	}
	if (wl_sync_io(d, &io, h->wo->timeout_ms) && !io.done && !d->backend_gone) {
		h->reaction = "no-reaction";
		goto out;
	}
	if (io.done && io.status != BLKIO_BACKEND_GONE && io.status != BLKIO_TIMEOUT) {
		h->have_status = true;
		h->status = io.status;
		h->reaction = io.status == BLKIF_RSP_ERROR ? "error-response" :
			io.status == BLKIF_RSP_EOPNOTSUPP ? "eopnotsupp" : "okay";
	}
	/* An answer may still be followed by the backend closing. */
	r = watch_backend(h, h->reaction ? 300 : h->wo->timeout_ms);
	if (r && (!h->reaction || !strcmp(r, "device-closed")))
		h->reaction = r;
	if (!h->reaction)
		h->reaction = "no-reaction";
	h->after = sanity_io(h);
out:
	free(buf);
}

/* ---- ring cases ------------------------------------------------------ */

static void run_req_prod_ahead(struct hostile *h)
{
	struct blkqueue *q = &h->d->q[0];
	unsigned long long ahead;
	uint32_t rsp = fring_shared_get(&q->ring, SR_RSP_PROD);
	const char *r;

	if (!value_u64(h, &ahead))
		ahead = q->ring.nr_ents + 1ull;
	fring_shared_set(&q->ring, SR_REQ_PROD, rsp + (uint32_t)ahead);
	xbf_notify(h->d->xf, q->idx);
	snprintf(h->extra, sizeof(h->extra), " req_prod=%u rsp_prod=%u ring=%u",
		 rsp + (uint32_t)ahead, rsp, q->ring.nr_ents);
	r = watch_backend(h, h->wo->timeout_ms);
	h->reaction = r ? r : "no-reaction";
	h->after = "skipped";	/* the ring is garbage now */
}

/* Fills queue 0 with valid requests; returns how many (ios/bufs malloc'd). */
static unsigned fill_ring(struct hostile *h, uint8_t op, struct blkio **ios_out)
{
	struct blkdev *d = h->d;
	unsigned ss = d->info.sector_size, n = 0, cap = d->q[0].ring.nr_ents;
	struct blkio *ios = calloc(cap, sizeof(*ios));
	uint64_t span = d->info.sectors * 512 / ss;

	*ios_out = ios;
	if (!ios)
		return 0;
	for (; n < cap; n++) {
		ios[n] = (struct blkio){
			.op = op, .offset = (n % span) * ss, .len = ss, .queue = 0,
			.buf = malloc(ss),
		};
		if (!ios[n].buf)
			break;
		if (op == BLKIF_OP_WRITE)
			pattern_fill(ios[n].buf, ss, h->wo->seed, ios[n].offset / 512, 1);
		if (blkdev_submit(d, &ios[n])) {
			free(ios[n].buf);
			break;
		}
	}
	blkdev_kick(d);
	return n;
}

static void free_ios(struct blkio *ios, unsigned n)
{
	for (unsigned i = 0; ios && i < n; i++)
		free(ios[i].buf);
	free(ios);
}

static void run_never_consume(struct hostile *h)
{
	struct blkdev *d = h->d;
	struct blkqueue *q = &d->q[0];
	unsigned long long secs;
	struct blkio *ios;
	unsigned n = fill_ring(h, BLKIF_OP_READ, &ios), ok = 0;
	uint64_t end;
	uint32_t prod = 0;
	bool overrun = false;

	if (!value_u64(h, &secs))
		secs = 2;
	end = blkdev_now_ns() + secs * 1000000000ull;
	/* Keep poking the backend, never reading a response. */
	while (blkdev_now_ns() < end && !blkfront_stop) {
		xbf_notify(d->xf, q->idx);
		usleep(20000);
		prod = fring_shared_get(&q->ring, SR_RSP_PROD);
		if ((uint32_t)(prod - q->ring.rsp_cons) > n)
			overrun = true;
		blkdev_watches(d);
		if (backend_closed(blkdev_backend_state(d)))
			break;
	}
	snprintf(h->extra, sizeof(h->extra), " requests=%u answered=%u overrun=%d", n,
		 prod - q->ring.rsp_cons, overrun);
	if (backend_closed(d->be_state)) {
		h->reaction = "device-closed";
		h->after = "skipped";
	} else {
		blkdev_drain(d, h->wo->timeout_ms);
		for (unsigned i = 0; i < n; i++)
			ok += ios[i].done && ios[i].status == BLKIF_RSP_OKAY;
		h->reaction = overrun ? "overrun" : ok == n ? "survived" : "stalled";
		h->after = sanity_io(h);
	}
	free_ios(ios, n);
}

static void run_event_storm(struct hostile *h)
{
	struct blkdev *d = h->d;
	unsigned long long secs;
	uint64_t end, notifies = 0, ios = 0, bad = 0;
	unsigned ss = d->info.sector_size;
	void *buf = malloc(ss);

	if (!value_u64(h, &secs))
		secs = 2;
	end = blkdev_now_ns() + secs * 1000000000ull;
	while (buf && blkdev_now_ns() < end && !blkfront_stop && !d->backend_gone) {
		struct blkio io = { .op = BLKIF_OP_READ, .len = ss, .buf = buf, .queue = -1 };

		for (unsigned i = 0; i < 1000; i++)
			for (unsigned k = 0; k < d->nr_queues; k++, notifies++)
				xbf_notify(d->xf, k);
		/* Real I/O goes on through the storm and must still work. */
		if (wl_sync_io(d, &io, h->wo->timeout_ms) || io.status != BLKIF_RSP_OKAY)
			bad++;
		ios++;
	}
	free(buf);
	snprintf(h->extra, sizeof(h->extra), " notifies=%" PRIu64 " ios=%" PRIu64
		 " failed_ios=%" PRIu64, notifies, ios, bad);
	if (d->backend_gone || backend_closed(blkdev_backend_state(d))) {
		h->reaction = "device-closed";
		h->after = "skipped";
	} else {
		h->reaction = bad ? "io-failed" : "survived";
		h->after = sanity_io(h);
	}
}

static void run_change_nodes(struct hostile *h)
{
	struct blkdev *d = h->d;
	unsigned pages = 1u << d->ring_order;
	uint32_t refs[1u << BLKFRONT_MAX_RING_ORDER];
	void *decoy = xengntshr_share_pages(d->xgs, d->be_id, (int)pages, refs, 1);
	xenevtchn_port_or_error_t port = xenevtchn_bind_unbound_port(d->xce, d->be_id);
	struct workload_opts wo = *h->wo;
	struct xbf_nodes l = { 0 };
	const char *r;

	if (!decoy || port < 0) {
		h->skip = true;
		h->skip_why = "cannot make a decoy ring";
		goto out;
	}
	/* The same layout, every ring-ref and event-channel pointing elsewhere. */
	blkdev_handshake_nodes(d, &l);
	for (unsigned i = 0; i < l.n; i++) {
		char v[32];
		const char *base = strrchr(l.v[i].name, '/');

		base = base ? base + 1 : l.v[i].name;
		if (!strncmp(base, "ring-ref", 8))
			snprintf(v, sizeof(v), "%u", refs[strtoul(base + 8, NULL, 10) % pages]);
		else if (!strcmp(base, "event-channel"))
			snprintf(v, sizeof(v), "%d", port);
		else
			continue;
		free(l.v[i].value);
		l.v[i].value = strdup(v);
	}
	if (xbf_write_nodes(d->xf, &l, -1)) {
		h->reaction = "setup-failed";
		goto out;
	}
	r = watch_backend(h, 1000);
	if (r && !strcmp(r, "device-closed")) {
		h->reaction = r;
		h->after = "skipped";
		goto out;
	}
	/* The old ring must go on working (or the device must have closed). */
	wo.count = 100;
	wo.length = d->info.sectors * 512 < (1u << 20) ? 0 : (1u << 20);
	wo.offset = 0;
	wo.expect = BLKIF_RSP_OKAY;
	if (wl_verify(d, &wo) == 0)
		h->reaction = "ignored";
	else
		h->reaction = d->backend_gone ? "device-closed" : "io-failed";
	h->after = d->backend_gone ? "skipped" : sanity_io(h);
out:
	xbf_nodes_free(&l);
	if (port >= 0)
		xenevtchn_unbind(d->xce, (evtchn_port_t)port);
	if (decoy)
		xengntshr_unshare(d->xgs, decoy, pages);
}

static void run_kill_mid_io(struct hostile *h)
{
	struct blkdev *d = h->d;
	struct blkio *ios;
	unsigned n = fill_ring(h, BLKIF_OP_WRITE, &ios);

	printf("hostile: case=kill-mid-io inflight=%u queues=%u\n", n, d->nr_queues);
	fflush(stdout);
	fflush(stderr);
	/* Like a guest crashing: no unmap, no state change, nothing. */
	raise(SIGKILL);
	_exit(1);
}

/*
 * Many bad requests on one connection (VALUE: how many, default 2000),
 * each answered before the next: the backend must answer them all and
 * keep serving, and (checked by the test, in its log) must not log a line
 * for each.
 */
static void mangle_flood_op(struct blkdev *d, struct blkio *io, struct blk_request *r,
			    struct grant_pages *g)
{
	(void)d;
	(void)io;
	(void)g;
	r->operation = 0xee;
}

static void run_bad_request_flood(struct hostile *h)
{
	struct blkdev *d = h->d;
	unsigned ss = d->info.sector_size;
	unsigned long long n, i, refused = 0;
	void *buf = calloc(1, ss > XEN_PAGE ? ss : XEN_PAGE);

	if (!value_u64(h, &n))
		n = 2000;
	for (i = 0; buf && i < n && !blkfront_stop && !d->backend_gone; i++) {
		struct blkio io = {
			.op = BLKIF_OP_READ, .len = ss, .buf = buf, .queue = -1,
			.mangle = mangle_flood_op,
		};

		if (wl_sync_io(d, &io, h->wo->timeout_ms) && !io.done)
			break;
		refused += io.status == BLKIF_RSP_ERROR || io.status == BLKIF_RSP_EOPNOTSUPP;
	}
	free(buf);
	snprintf(h->extra, sizeof(h->extra), " sent=%llu refused=%llu", i, refused);
	if (d->backend_gone || backend_closed(blkdev_backend_state(d))) {
		h->reaction = "device-closed";
		h->after = "skipped";
	} else {
		h->reaction = refused == n ? "survived" : "no-reaction";
		h->after = sanity_io(h);
	}
}

/* ---- the table ------------------------------------------------------- */

#define BAD_REQUEST "error-response|device-closed"
#define BAD_RING "device-closed|error-node"

static const struct hcase cases[] = {
	{ "bad-gref", HK_REQUEST, NULL, mangle_bad_gref, NULL, NULL, BAD_REQUEST,
	  "a read whose segment names a grant that is not granted (VALUE: the ref)" },
	{ "ro-grant-read", HK_REQUEST, setup_ro_read, mangle_ro_read, NULL, NULL, BAD_REQUEST,
	  "a read into a page granted read-only" },
	{ "sector-past-end", HK_REQUEST, setup_past_end, NULL, NULL, NULL, BAD_REQUEST,
	  "a read of the last sector and the one past the end" },
	{ "sector-overflow", HK_REQUEST, NULL, mangle_overflow, NULL, NULL, BAD_REQUEST,
	  "a read whose sector range wraps around 2^64 (VALUE: sector_number)" },
	{ "first-gt-last", HK_REQUEST, NULL, mangle_first_gt_last, NULL, NULL, BAD_REQUEST,
	  "a segment with first_sect 5 > last_sect 2" },
	{ "last-past-page", HK_REQUEST, NULL, mangle_last_past_page, NULL, NULL, BAD_REQUEST,
	  "a segment with last_sect 8, past the 4 KiB page (VALUE: last_sect)" },
	{ "zero-segments", HK_REQUEST, NULL, mangle_zero_segs, NULL, NULL, BAD_REQUEST,
	  "a read with nr_segments 0" },
	{ "too-many-segments", HK_REQUEST, NULL, mangle_many_segs, NULL, NULL, BAD_REQUEST,
	  "a direct read with nr_segments 12 (VALUE: nr_segments)" },
	{ "bad-gref-last", HK_REQUEST, setup_bad_gref_last, mangle_bad_gref_last, NULL, NULL,
	  BAD_REQUEST, "a direct read of 11 pages, the last one's grant not granted "
	  "(VALUE: segments, >= 2)" },
	{ "bad-gref-indirect-seg", HK_REQUEST, setup_bad_indirect, mangle_bad_indirect_seg,
	  NULL, NULL, BAD_REQUEST, "an indirect read of 16 pages, good indirect page, the "
	  "last segment's grant not granted (VALUE: segments)" },
	{ "bad-indirect-page", HK_REQUEST, setup_bad_indirect, mangle_bad_indirect_page,
	  NULL, NULL, BAD_REQUEST, "an indirect read of 16 pages whose (last) indirect page "
	  "is not granted (VALUE: segments)" },
	{ "too-many-indirect", HK_REQUEST, setup_indirect, mangle_many_indirect, NULL, NULL,
	  BAD_REQUEST, "an indirect read of 4097 segments, 9 pages (VALUE: nr_segments)" },
	{ "unknown-op", HK_REQUEST, NULL, mangle_unknown_op, NULL, NULL,
	  BAD_REQUEST "|eopnotsupp", "a request with operation 0xee (VALUE: operation)" },
	{ "discard-unsupported", HK_REQUEST, setup_discard, NULL, NULL, NULL,
	  BAD_REQUEST "|eopnotsupp", "a discard to a backend without feature-discard" },
	{ "req-prod-ahead", HK_RING, NULL, NULL, NULL, run_req_prod_ahead, BAD_RING,
	  "req_prod set ring-size + 1 ahead of rsp_prod (VALUE: how far)" },
	{ "never-consume", HK_RING, NULL, NULL, NULL, run_never_consume, "survived",
	  "a full ring whose responses are never consumed, notified for 2 s (VALUE: seconds)" },
	{ "event-storm", HK_RING, NULL, NULL, NULL, run_event_storm, "survived|device-closed",
	  "notifications in a tight loop for 2 s with reads in between (VALUE: seconds)" },
	{ "change-ring-nodes-while-connected", HK_RING, NULL, NULL, NULL, run_change_nodes,
	  "ignored|device-closed", "ring-ref*/event-channel rewritten to a decoy ring once Connected" },
	{ "bad-request-flood", HK_RING, NULL, NULL, NULL, run_bad_request_flood, "survived",
	  "2000 requests with operation 0xee, one after the other (VALUE: how many)" },
	{ "kill-mid-io", HK_RING, NULL, NULL, NULL, run_kill_mid_io, "",
	  "a full ring of writes, then SIGKILL (prints the line first)" },
	{ "bad-ring-order", HK_HANDSHAKE, NULL, NULL, edit_ring_order, NULL, "refused",
	  "ring-page-order one above max-ring-page-order (VALUE: the node's text)" },
	{ "bad-ring-ref", HK_HANDSHAKE, NULL, NULL, edit_ring_ref, NULL, "refused",
	  "the first ring-ref naming a grant no longer granted (VALUE: the node's text)" },
	{ "bad-queues", HK_HANDSHAKE, NULL, NULL, edit_queues, NULL, "refused",
	  "multi-queue-num-queues one above the maximum (VALUE: the node's text)" },
	{ "bad-protocol", HK_HANDSHAKE, NULL, NULL, edit_protocol, NULL, "refused",
	  "protocol x86_16-abi (VALUE: the node's text)" },
	{ "bad-evtchn", HK_HANDSHAKE, NULL, NULL, edit_evtchn, NULL, "refused",
	  "event-channel naming an unbound port (VALUE: the node's text)" },
};

static const struct hcase *find_case(const char *spec, const char **value)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	*value = colon ? colon + 1 : NULL;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strlen(cases[i].name) == n && !strncmp(cases[i].name, spec, n))
			return &cases[i];
	return NULL;
}

void hostile_list(void)
{
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		printf("  %-34s %s\n  %-34s   passes on: %s\n", cases[i].name, cases[i].what, "",
		       cases[i].expected);
}

int hostile_check(const char *spec)
{
	const char *v;

	return find_case(spec, &v) ? 0 : -1;
}

static bool expected(const char *list, const char *r)
{
	size_t n = strlen(r);

	for (const char *p = list; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && !strncmp(p, r, n))
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

/* Prints s for a key="..." field: quotes and control characters escaped. */
static void print_quoted(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			putchar(' ');
		else
			putchar(*s);
	}
	putchar('"');
}

int hostile_run(const struct blkdev_opts *bo, const struct workload_opts *wo,
		const char *spec)
{
	struct hostile h = { .wo = wo, .after = "skipped" };
	struct blkdev *d;
	char *err;
	bool pass;
	int rc, close_rc = 0, state;

	h.c = find_case(spec, &h.value);
	if (!h.c)
		return 2;
	d = h.d = blkdev_open(bo);
	if (!d)
		return 1;
	blkdev_watches(d);
	h.err_before = xbf_backend_error(d->xf);
	h.err_writes_before = xbf_error_writes(d->xf);

	if (h.c->kind == HK_HANDSHAKE) {
		d->edit_nodes = h.c->edit;
		d->edit_arg = &h;
		rc = blkdev_connect(d);
		if (!h.edited) {
			fprintf(stderr, "hostile: the handshake failed before the bad nodes were written\n");
			free(h.err_before);
			blkdev_free(d);
			return 1;
		}
		if (rc == 0)
			h.reaction = "connected";
		else if (backend_closed(blkdev_backend_state(d)) || has_new_error(&h))
			h.reaction = "refused";
		else
			h.reaction = "no-reaction";
	} else {
		if (blkdev_connect(d)) {
			fprintf(stderr, "hostile: cannot connect to run %s\n", h.c->name);
			free(h.err_before);
			blkdev_free(d);
			return 1;
		}
		if (h.c->kind == HK_REQUEST)
			run_request_case(&h);
		else
			h.c->run(&h);
	}

	if (h.skip) {
		printf("hostile: case=%s skipped reason=", h.c->name);
		print_quoted(h.skip_why);
		printf("\n");
		blkdev_close(d);
		if (h.ro_page)
			xengntshr_unshare(d->xgs, h.ro_page, 1);
		blkdev_free(d);
		free(h.err_before);
		return 77;
	}

	state = blkdev_backend_state(d);
	err = new_error(&h);
	close_rc = blkdev_close(d);
	if (h.ro_page)
		xengntshr_unshare(d->xgs, h.ro_page, 1);

	pass = h.reaction && expected(h.c->expected, h.reaction) &&
		strcmp(h.after, "failed") && !d->protocol_errors && !close_rc;
	printf("hostile: case=%s reaction=%s", h.c->name, h.reaction ? h.reaction : "none");
	if (h.have_status)
		printf(" status=%d", h.status);
	printf(" backend-state=%d error=", state);
	print_quoted(err ? err : "");
	printf(" after=%s protocol-errors=%" PRIu64 " close=%s%s expected=%s verdict=%s\n",
	       h.after, d->protocol_errors, close_rc ? "failed" : "ok", h.extra,
	       h.c->expected, pass ? "pass" : "fail");
	fflush(stdout);
	free(err);
	free(h.err_before);
	blkdev_free(d);
	return pass ? 0 : 1;
}
