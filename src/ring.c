/* SPDX-License-Identifier: MIT */
/*
 * Shared rings in the worker (ring.h): mapped from the frontend's grants,
 * bound to its event channel, read in bounded passes with each request
 * copied once, answered in batches. And the worker's set of rings
 * (worker-rings.h): the one event-channel watcher, and the core's drain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenbackd/ring.h>

#include "clock.h"
#include "ring-journal.h"
#include "stats.h"
#include "worker-rings.h"
#include "worker.h"

/* Events in a row that find no work before the port is rate limited. */
#define STORM_EVENTS 256
/* How long a storming port stays masked. */
#define STORM_PAUSE 0.002

/*
 * Only the generic header of the shared ring is used through this type
 * (the indexes, for ring.h's push and final-check macros); slots are
 * addressed by the class's entry size.
 */
DEFINE_RING_TYPES(xbd_any, uint8_t, uint8_t);

struct xbd_ring {
	struct xbd_worker *w;
	struct worker_rings *set;
	struct xbd_ring *next;		/* in set->head */
	unsigned int index;
	struct xbd_ring_config cfg;	/* budget filled in */
	void *sring;			/* mapped ring pages */
	unsigned int nr_pages;
	unsigned int size;		/* entries */
	xbd_any_back_ring_t back;	/* req_cons, rsp_prod_pvt */
	uint32_t remote_port;
	int local_port;			/* -1: unbound */
	struct xbd_ring_stats *stats;
	struct xbd_ring_stats spare;	/* past the shared slots */
	void *req;			/* the private copy of a request */
	uint64_t taken_at;		/* when it was taken (ns), if timed */
	bool responses;			/* responses not yet pushed */
	bool more;			/* requests left after a bounded pass */

	/* The journal (ring-journal.h); jr NULL: none. */
	struct journal_ring *jr;
	size_t jstride;			/* bytes per entry */
	bool tracked;			/* entries are kept */
	uint32_t ticket;		/* of the request handed over */
	uint32_t *jfree;		/* free entries (a stack) */
	unsigned int nfree;
	uint32_t *janswered;		/* answered, not published yet */
	unsigned int nanswered;
	uint32_t *replay;		/* a dead worker's, oldest first */
	unsigned int nreplay, replay_next;

	/* Event storms (XSA-332): events that brought no work. */
	unsigned int idle_events;
	bool masked;
	ev_timer unmask_timer;
};

static volatile void *slot(const struct xbd_ring *r, RING_IDX i)
{
	return (char *)r->sring + XBD_RING_HEADER_SIZE +
	       (size_t)(i & (r->size - 1)) * r->cfg.entry_size;
}

/* ---- The journal (ring-journal.h) -------------------------------------- */

/*
 * Stores to the journal in program order: a worker killed between two of
 * them leaves every earlier one done (the next worker reads them once
 * this one is reaped, so the compiler's order is all that matters).
 */
static void jstore(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static uint32_t jload(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static struct journal_entry *jentry(const struct xbd_ring *r, uint32_t i)
{
	return (struct journal_entry *)((char *)r->jr + sizeof(*r->jr) +
					(size_t)i * r->jstride);
}

/* The journal can no longer say what is in flight (req_cons still can). */
static void untrack(struct xbd_ring *r)
{
	if (!r->tracked)
		return;
	r->tracked = false;
	jstore(&r->jr->tracked, 0);
	xbd_log(XBD_DEBUG, "queue %u: answers not tracked: a worker restart "
		"can resume this ring only with nothing in flight", r->index);
}

/* Journals the request just copied into r->req from ring index pos. */
static void journal_take(struct xbd_ring *r, RING_IDX pos)
{
	struct journal_entry *e;
	uint32_t i;

	r->ticket = XBD_RING_NO_TICKET;
	if (!r->jr)
		return;
	if (r->tracked && !r->nfree)
		xbd_ring_push(r);	/* frees what it publishes */
	if (r->tracked && r->nfree) {
		i = r->jfree[--r->nfree];
		e = jentry(r, i);
		memcpy(e + 1, r->req, r->cfg.entry_size);
		e->pos = pos;
		jstore(&e->state, JOURNAL_TAKEN);
		r->ticket = i;
	} else {
		untrack(r);
	}
	jstore(&r->jr->req_cons, pos + 1);
}

/* The answer to ticket was written at slot. */
static void journal_answer(struct xbd_ring *r, uint32_t ticket, RING_IDX slot)
{
	struct journal_entry *e;

	if (!r->tracked)
		return;
	if (ticket >= r->size ||
	    jload(&(e = jentry(r, ticket))->state) != JOURNAL_TAKEN) {
		untrack(r);
		return;
	}
	e->slot = slot;
	jstore(&e->state, JOURNAL_ANSWERED);
	r->janswered[r->nanswered++] = ticket;
}

/* rsp_prod was published: the answered entries are free again. */
static void journal_published(struct xbd_ring *r)
{
	for (unsigned int k = 0; k < r->nanswered; k++) {
		uint32_t i = r->janswered[k];

		jstore(&jentry(r, i)->state, JOURNAL_FREE);
		if (r->tracked)
			r->jfree[r->nfree++] = i;
	}
	r->nanswered = 0;
}

static bool same_ring(const struct journal_ring *jr, const struct xbd_ring *r,
		      const uint32_t *refs)
{
	if (jload(&jr->nr_pages) != r->nr_pages ||
	    jload(&jr->entry_size) != r->cfg.entry_size ||
	    jload(&jr->size) != r->size ||
	    jload(&jr->evtchn) != r->remote_port)
		return false;
	for (unsigned int i = 0; i < r->nr_pages; i++)
		if (jload(&jr->refs[i]) != refs[i])
			return false;
	return true;
}

/* A new journal for the ring, attached at r->back.req_cons. */
static void journal_fresh(struct xbd_ring *r, const uint32_t *refs, bool fits)
{
	struct journal_ring *jr = r->jr;

	jstore(&jr->magic, 0);
	jr->nr_pages = r->nr_pages;
	jr->entry_size = r->cfg.entry_size;
	jr->size = r->size;
	jr->evtchn = r->remote_port;
	memset(jr->refs, 0, sizeof(jr->refs));
	memcpy(jr->refs, refs, r->nr_pages * sizeof(refs[0]));
	jr->req_cons = r->back.req_cons;
	jr->tracked = fits;
	r->tracked = fits;
	r->nfree = 0;
	if (fits)
		for (uint32_t i = r->size; i-- > 0;) {
			jentry(r, i)->state = JOURNAL_FREE;
			r->jfree[r->nfree++] = i;
		}
	jstore(&jr->magic, JOURNAL_MAGIC);
}

/* Oldest first: the larger age (req_cons - pos) first. */
static RING_IDX sort_base;
static const struct xbd_ring *sort_ring;

static int older_first(const void *a, const void *b)
{
	RING_IDX pa = jentry(sort_ring, *(const uint32_t *)a)->pos;
	RING_IDX pb = jentry(sort_ring, *(const uint32_t *)b)->pos;
	RING_IDX aa = sort_base - pa, ab = sort_base - pb;

	return aa > ab ? -1 : aa < ab;
}

/*
 * Attaches the ring to its journal, at the published rsp_prod (in
 * r->back). A journal left by a dead worker of the same ring gives the
 * requests it took and did not publish an answer for: they are re-issued
 * first (replay), and the ring is read on from where that worker stopped.
 * 0, or -1 after xbd_worker_fail() when what is in flight cannot be told.
 */
static int journal_attach(struct xbd_ring *r, const uint32_t *refs)
{
	struct worker_rings *s = r->set;
	RING_IDX rp = r->back.rsp_prod_pvt, rc, outstanding;
	bool fits;
	unsigned int n = 0;

	if (!s->journal || r->index >= XBD_MAX_RINGS)
		return 0;
	r->jr = (struct journal_ring *)((char *)s->journal +
					(size_t)r->index * JOURNAL_RING_BYTES);
	r->jstride = sizeof(struct journal_entry) +
		     ((r->cfg.entry_size + 7) & ~(size_t)7);
	fits = sizeof(*r->jr) + r->size * r->jstride <= JOURNAL_RING_BYTES;
	if (fits) {
		r->jfree = calloc(r->size, sizeof(*r->jfree));
		r->janswered = calloc(r->size, sizeof(*r->janswered));
		r->replay = calloc(r->size, sizeof(*r->replay));
		if (!r->jfree || !r->janswered || !r->replay) {
			xbd_worker_fail(r->w, ENOMEM, "queue %u: out of memory",
					r->index);
			return -1;
		}
	}
	if (jload(&r->jr->magic) != JOURNAL_MAGIC || !same_ring(r->jr, r, refs)) {
		journal_fresh(r, refs, fits);
		return 0;
	}
	/* Read once each: a dead worker's words, checked before use. */
	rc = jload(&r->jr->req_cons);
	outstanding = rc - rp;
	if (outstanding == 0) {
		journal_fresh(r, refs, fits);
		return 0;
	}
	if (outstanding > r->size) {
		xbd_worker_fail(r->w, EPROTO, "queue %u: cannot resume the ring: "
				"rsp_prod %u is not within the %u entries before "
				"the %u requests taken", r->index, rp, r->size, rc);
		return -1;
	}
	if (!fits || !jload(&r->jr->tracked)) {
		xbd_worker_fail(r->w, EIO, "queue %u: cannot resume the ring: "
				"the last worker did not track its %u request(s) "
				"in flight", r->index, outstanding);
		return -1;
	}
	r->nfree = 0;
	for (uint32_t i = 0; i < r->size; i++) {
		struct journal_entry *e = jentry(r, i);
		uint32_t st = jload(&e->state), pos = jload(&e->pos);
		uint32_t slot = jload(&e->slot);

		if (st == JOURNAL_TAKEN || st == JOURNAL_ANSWERED) {
			if ((int32_t)(pos - rc) >= 0)
				st = JOURNAL_FREE;	/* never handed over */
			else if (st == JOURNAL_ANSWERED &&
				 (int32_t)(slot - rp) < 0)
				st = JOURNAL_FREE;	/* published */
			else if (n < outstanding)
				st = JOURNAL_TAKEN;	/* in flight */
			else
				n = outstanding + 1;	/* too many */
		} else if (st != JOURNAL_FREE) {
			n = outstanding + 1;
		}
		if (n > outstanding)
			break;
		e->pos = pos;
		jstore(&e->state, st);
		if (st == JOURNAL_FREE)
			r->jfree[r->nfree++] = i;
		else
			r->replay[n++] = i;
	}
	if (n != outstanding) {
		xbd_worker_fail(r->w, EIO, "queue %u: cannot resume the ring: "
				"the journal of the last worker does not account "
				"for the %u request(s) in flight", r->index,
				outstanding);
		return -1;
	}
	sort_base = rc;
	sort_ring = r;
	qsort(r->replay, n, sizeof(*r->replay), older_first);
	r->nreplay = n;
	r->replay_next = 0;
	r->tracked = true;
	r->back.req_cons = rc;
	xbd_log(XBD_INFO, "queue %u: resuming after the last worker: %u "
		"request(s) in flight re-issued, the ring read on from %u",
		r->index, n, rc);
	return 0;
}

static bool replay_pending(const struct xbd_ring *r)
{
	return r->replay_next < r->nreplay;
}

/* Hands over the next request a dead worker left in flight, into r->req. */
static bool replay_one(struct xbd_ring *r)
{
	const volatile uint32_t *src;
	uint32_t i, *dst = r->req;

	if (!replay_pending(r))
		return false;
	i = r->replay[r->replay_next++];
	/* Once each word, as from the ring (entries are 8-byte aligned). */
	src = (const volatile uint32_t *)(jentry(r, i) + 1);
	for (size_t k = 0; k < r->cfg.entry_size / sizeof(uint32_t); k++)
		dst[k] = src[k];
	if (r->cfg.entry_size % sizeof(uint32_t)) {
		const volatile unsigned char *b = (const volatile unsigned char *)src;

		for (size_t k = r->cfg.entry_size & ~(sizeof(uint32_t) - 1);
		     k < r->cfg.entry_size; k++)
			((unsigned char *)r->req)[k] = b[k];
	}
	r->ticket = i;
	if (r->set->nr_ops)
		r->taken_at = monotonic_ns();
	/* Counted in requests by the worker that took it off the ring. */
	r->stats->in_flight = xbd_ring_in_flight(r);
	return true;
}

static void journal_close(struct xbd_ring *r)
{
	free(r->jfree);
	free(r->janswered);
	free(r->replay);
	r->jfree = r->janswered = r->replay = NULL;
	r->jr = NULL;
}

static struct ev_loop *loop_of(const struct xbd_ring *r)
{
	return xbd_worker_loop(r->w);
}

unsigned int xbd_ring_in_flight(const struct xbd_ring *r)
{
	return r->back.req_cons - r->back.rsp_prod_pvt;
}

unsigned int xbd_ring_size(const struct xbd_ring *r)
{
	return r->size;
}

unsigned int xbd_ring_index(const struct xbd_ring *r)
{
	return r->index;
}

struct xbd_ring_stats *xbd_ring_stats(struct xbd_ring *r)
{
	return r->stats;
}

void xbd_ring_count_error(struct xbd_ring *r)
{
	r->stats->errors++;
}

void xbd_ring_count(struct xbd_ring *r, unsigned int i, uint64_t n)
{
	if (i < XBD_MAX_COUNTERS)
		r->stats->counter[i] += n;
}

uint64_t xbd_ring_taken_at(const struct xbd_ring *r)
{
	return r->taken_at;
}

void xbd_ring_account(struct xbd_ring *r, unsigned int op,
		      enum xbd_result res, uint64_t bytes, uint64_t taken)
{
	unsigned int nr_ops = r->set->nr_ops;
	struct xbd_op_stats *o;
	uint64_t now, ns;

	if ((unsigned int)res >= XBD_NR_RESULTS)
		res = XBD_RESULT_IO_ERROR;
	if (res != XBD_RESULT_OK)
		r->stats->errors++;
	if (!nr_ops)
		return;
	/* A guest's value, never an index unchecked: past the end, the last. */
	o = &r->stats->op[op < nr_ops ? op : nr_ops - 1];
	o->result[res]++;
	if (res == XBD_RESULT_OK)
		o->bytes += bytes;
	now = monotonic_ns();
	ns = taken && now > taken ? now - taken : 0;
	o->latency_ns += ns;
	o->latency[stats_latency_bucket(ns)]++;
}

void xbd_ring_count_wait(struct xbd_ring *r)
{
	r->stats->resource_waits++;
}

/* ---- The worker's set of rings ----------------------------------------- */

static void check_drained(struct worker_rings *s)
{
	struct xbd_ring *r;

	if (!s->default_drain || s->stopping || s->busy > 0)
		return;
	for (r = s->head; r; r = r->next)
		if (xbd_ring_in_flight(r))
			return;
	/* From the loop, outside the class's callback that answered last. */
	s->stopping = true;
	ev_timer_start(xbd_worker_loop(s->w), &s->stop_timer);
}

static struct xbd_ring *ring_by_port(struct worker_rings *s,
				     evtchn_port_t port)
{
	struct xbd_ring *r;

	for (r = s->head; r; r = r->next)
		if (r->local_port == (int)port)
			return r;
	return NULL;
}

static void ring_pass(struct xbd_ring *r);
static void ring_event(struct xbd_ring *r);

/* Passes for the rings left with requests (r->more). */
static void resume_passes(struct worker_rings *s)
{
	struct xbd_ring *r, *next;

	for (r = s->head; r && !xbd_worker_failed(s->w); r = next) {
		next = r->next;
		if (r->more)
			ring_pass(r);
	}
}

static void on_first_pass(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker_rings *s = t->data;

	if (!xbd_worker_failed(s->w))
		resume_passes(s);
}

static void on_evtchn(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker_rings *s = io->data;
	xenevtchn_handle *xe = xbd_worker_evtchn(s->w);
	xenevtchn_port_or_error_t port;
	struct xbd_ring *r;

	if (xbd_worker_failed(s->w))
		return;
	/* Rings left with requests after a bounded pass. */
	if (revents & EV_CUSTOM)
		resume_passes(s);
	if (!(revents & EV_READ))
		return;
	port = xenevtchn_pending(xe);
	if (port < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		xbd_worker_fail(s->w, errno, "reading the event channel: %s",
				strerror(errno));
		return;
	}
	r = ring_by_port(s, (evtchn_port_t)port);
	if (!r) {
		xenevtchn_unmask(xe, (evtchn_port_t)port);
		return;
	}
	ring_event(r);
}

/* Runs from the loop, outside any I/O or ring callback. */
static void on_stop(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker_rings *s = t->data;

	if (s->worker_stop)
		s->worker_stop(s->w);
	s->closing_all = true;
	while (s->head)
		xbd_ring_close(s->head);
	s->closing_all = false;
	if (s->watching) {
		ev_io_stop(loop, &s->evtchn_w);
		s->watching = false;
	}
	xbd_log(XBD_DEBUG, "drained");
	xbd_worker_stopped(s->w);
}

void worker_rings_init(struct worker_rings *s, struct xbd_worker *w,
		       struct stats_area *stats,
		       void (*worker_stop)(struct xbd_worker *w))
{
	memset(s, 0, sizeof(*s));
	s->w = w;
	s->stats = stats;
	s->worker_stop = worker_stop;
	ev_init(&s->evtchn_w, on_evtchn);
	s->evtchn_w.data = s;
	ev_init(&s->first_pass, on_first_pass);
	ev_timer_set(&s->first_pass, 0, 0);
	s->first_pass.data = s;
	ev_init(&s->stop_timer, on_stop);
	ev_timer_set(&s->stop_timer, 0, 0);
	s->stop_timer.data = s;
}

void worker_rings_stop_passes(struct worker_rings *s)
{
	struct xbd_ring *r;

	s->draining = true;
	for (r = s->head; r; r = r->next)
		r->more = replay_pending(r);
}

void worker_rings_drain(struct worker_rings *s)
{
	worker_rings_stop_passes(s);
	s->default_drain = true;
	if (s->watching) {
		ev_io_stop(xbd_worker_loop(s->w), &s->evtchn_w);
		s->watching = false;
	}
	check_drained(s);
}

void xbd_worker_busy(struct xbd_worker *w, int delta)
{
	struct worker_rings *s = worker_rings(w);

	s->busy += delta;
	if (s->busy < 0)
		s->busy = 0;
	check_drained(s);
}

static void ring_register(struct worker_rings *s, struct xbd_ring *r)
{
	struct xbd_worker *w = s->w;

	r->next = s->head;
	s->head = r;
	if (r->index < XBD_MAX_RINGS && s->stats) {
		r->stats = &s->stats->ring[r->index];
		if (s->stats->nr_rings < r->index + 1)
			s->stats->nr_rings = r->index + 1;
	}
	if (!s->watching && !s->draining) {
		ev_io_set(&s->evtchn_w, xenevtchn_fd(xbd_worker_evtchn(w)),
			  EV_READ);
		ev_io_start(xbd_worker_loop(w), &s->evtchn_w);
		s->watching = true;
	}
}

static void ring_unregister(struct worker_rings *s, struct xbd_ring *r)
{
	struct xbd_ring **p;
	unsigned int n = 0;

	for (p = &s->head; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	r->next = NULL;
	if (!s->head) {
		/* No ring left to route to. */
		ev_io_stop(xbd_worker_loop(s->w), &s->evtchn_w);
		s->watching = false;
		ev_timer_stop(xbd_worker_loop(s->w), &s->first_pass);
	}
	/* A ring closed early leaves the statistics; the last drain does not. */
	if (s->closing_all || !s->stats)
		return;
	for (r = s->head; r; r = r->next)
		if (r->index < XBD_MAX_RINGS && r->index + 1 > n)
			n = r->index + 1;
	s->stats->nr_rings = n;
}

/* ---- One ring ------------------------------------------------------------ */

static void unmask_later(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct xbd_ring *r = t->data;

	r->masked = false;
	r->idle_events = 0;
	if (r->local_port >= 0)
		xenevtchn_unmask(xbd_worker_evtchn(r->w),
				 (evtchn_port_t)r->local_port);
	/* What came while the port was masked. */
	ring_pass(r);
	if (r->cfg.event && !xbd_worker_failed(r->w))
		r->cfg.event(r, r->cfg.ctx);
}

/* Copies slot i with one read of each word (XSA-155). */
static void copy_request(struct xbd_ring *r, RING_IDX i)
{
	size_t n = r->cfg.entry_size;

	if (n % sizeof(uint32_t) == 0) {
		const volatile uint32_t *src = slot(r, i);
		uint32_t *dst = r->req;

		for (size_t k = 0; k < n / sizeof(uint32_t); k++)
			dst[k] = src[k];
	} else {
		const volatile unsigned char *src = slot(r, i);
		unsigned char *dst = r->req;

		for (size_t k = 0; k < n; k++)
			dst[k] = src[k];
	}
}

/*
 * More outstanding requests than the ring holds, or req_prod moved back
 * behind what we took (which would have us take the ring's old slots
 * again, without end and beyond the requests we can hold): the device's
 * fault.
 */
static bool overflowed(struct xbd_ring *r, RING_IDX rp)
{
	RING_IDX ahead = rp - r->back.rsp_prod_pvt;

	if (ahead <= r->size &&
	    (RING_IDX)(r->back.req_cons - r->back.rsp_prod_pvt) <= ahead)
		return false;
	xbd_worker_fail(r->w, EPROTO, "queue %u: frontend produced requests "
			"beyond the ring (req_prod %u, req_cons %u, rsp_prod %u, "
			"size %u)", r->index, rp, r->back.req_cons,
			r->back.rsp_prod_pvt, r->size);
	return true;
}

static void took(struct xbd_ring *r)
{
	/* Timed only for a class that accounts its answers. */
	if (r->set->nr_ops)
		r->taken_at = monotonic_ns();
	journal_take(r, r->back.req_cons);
	r->back.req_cons++;
	r->stats->requests++;
	r->stats->in_flight = xbd_ring_in_flight(r);
}

/*
 * Resume from the loop, after the other rings and completions ran: a pass
 * cut short runs again once the callbacks pending now have run (passes
 * run in callbacks, and libev runs what they feed in the same round).
 */
static void resume_later(struct xbd_ring *r)
{
	ev_feed_event(loop_of(r), &r->set->evtchn_w, EV_CUSTOM);
}

/* Takes requests off the ring (at most a budget) and hands them over. */
static void ring_pass(struct xbd_ring *r)
{
	struct xbd_worker *w = r->w;
	unsigned int taken = 0;
	int more;

	r->more = false;
	if (!r->cfg.request || xbd_worker_failed(w) || !r->sring)
		return;
	/* A dead worker's requests first, even in a drain: they were taken. */
	while (replay_pending(r)) {
		if (taken == r->cfg.budget) {
			r->more = true;
			goto out;
		}
		replay_one(r);
		taken++;
		r->cfg.request(r, r->req, r->cfg.ctx);
		if (xbd_worker_failed(w))
			return;
	}
	if (r->set->draining)
		goto out;
	for (;;) {
		RING_IDX rp = r->back.sring->req_prod;

		xen_rmb();	/* slots after the index */
		if (overflowed(r, rp))
			return;
		while (r->back.req_cons != rp) {
			if (taken == r->cfg.budget) {
				r->more = true;
				goto out;
			}
			copy_request(r, r->back.req_cons);
			took(r);
			taken++;
			r->cfg.request(r, r->req, r->cfg.ctx);
			if (xbd_worker_failed(w))
				return;
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&r->back, more);
		if (!more)
			break;
	}
out:
	if (taken) {
		r->idle_events = 0;
		if (r->cfg.pass_done)
			r->cfg.pass_done(r, r->cfg.ctx);
	}
	xbd_ring_push(r);
	if (r->more)
		resume_later(r);
}

/* The frontend notified the ring's port. */
static void ring_event(struct xbd_ring *r)
{
	RING_IDX before = r->back.req_cons;
	bool work;

	if (r->masked)
		return;
	ring_pass(r);
	if (xbd_worker_failed(r->w))
		return;
	work = r->back.req_cons != before || r->more;
	if (r->cfg.event) {
		if (r->cfg.event(r, r->cfg.ctx))
			work = true;
		if (xbd_worker_failed(r->w))
			return;
	}
	if (!work) {
		/* A spurious event. A flood of them is rate limited. */
		if (++r->idle_events >= STORM_EVENTS) {
			r->masked = true;
			ev_timer_set(&r->unmask_timer, STORM_PAUSE, 0);
			ev_timer_start(loop_of(r), &r->unmask_timer);
			return;
		}
	}
	xenevtchn_unmask(xbd_worker_evtchn(r->w), (evtchn_port_t)r->local_port);
}

struct xbd_ring *xbd_ring_open_refs(struct xbd_worker *w, unsigned int index,
				    const uint32_t *refs,
				    unsigned int nr_pages, uint32_t evtchn,
				    const struct xbd_ring_config *cfg)
{
	struct worker_rings *s = worker_rings(w);
	uint32_t grefs[XBD_MAX_RING_PAGES];
	xenevtchn_port_or_error_t port;
	struct xbd_ring *r;
	size_t copy_size;
	int err;

	if (!cfg->entry_size || nr_pages < 1 || nr_pages > XBD_MAX_RING_PAGES ||
	    !xbd_ring_entries(nr_pages, cfg->entry_size)) {
		xbd_worker_fail(w, EINVAL, "queue %u: no ring of %u page(s) "
				"with %zu-byte entries", index, nr_pages,
				cfg->entry_size);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	/* Aligned for any type, and zero past entry_size. */
	copy_size = (cfg->entry_size + _Alignof(max_align_t) - 1) &
		    ~(_Alignof(max_align_t) - 1);
	if (r)
		r->req = aligned_alloc(_Alignof(max_align_t), copy_size);
	if (!r || !r->req) {
		if (r)
			free(r);
		xbd_worker_fail(w, ENOMEM, "queue %u: out of memory", index);
		return NULL;
	}
	memset(r->req, 0, copy_size);
	r->w = w;
	r->set = s;
	r->index = index;
	r->cfg = *cfg;
	if (!r->cfg.budget)
		r->cfg.budget = XBD_RING_DEFAULT_BUDGET;
	r->nr_pages = nr_pages;
	r->size = xbd_ring_entries(nr_pages, cfg->entry_size);
	r->remote_port = evtchn;
	r->local_port = -1;
	r->ticket = XBD_RING_NO_TICKET;
	r->stats = &r->spare;
	ev_timer_init(&r->unmask_timer, unmask_later, STORM_PAUSE, 0);
	r->unmask_timer.data = r;

	memcpy(grefs, refs, nr_pages * sizeof(grefs[0]));
	errno = 0;
	r->sring = xengnttab_map_domain_grant_refs(xbd_worker_gnttab(w),
						   nr_pages,
						   xbd_worker_frontend_id(w),
						   grefs,
						   PROT_READ | PROT_WRITE);
	if (!r->sring) {
		err = errno ? errno : EFAULT;
		xbd_worker_fail(w, err, "queue %u: mapping %u ring page(s) "
				"(first ref %u) failed: %s", index, nr_pages,
				refs[0], strerror(err));
		goto fail;
	}
	/*
	 * Continue from the ring's published state: a restarted daemon takes
	 * over where the last worker stopped; nothing of ours is pending.
	 */
	r->back.sring = r->sring;
	r->back.nr_ents = r->size;
	r->back.rsp_prod_pvt = r->back.sring->rsp_prod;
	r->back.req_cons = r->back.rsp_prod_pvt;
	/* After a worker died: from where it stopped (ring-journal.h). */
	if (journal_attach(r, grefs))
		goto fail;

	errno = 0;
	port = xenevtchn_bind_interdomain(xbd_worker_evtchn(w),
					  xbd_worker_frontend_id(w), evtchn);
	if (port < 0) {
		err = errno ? errno : EINVAL;
		xbd_worker_fail(w, err, "queue %u: binding event channel %u "
				"failed: %s", index, evtchn, strerror(err));
		goto fail;
	}
	r->local_port = port;
	ring_register(s, r);
	/*
	 * Requests may have been queued while no backend was running: a
	 * first pass once the loop runs. A timer, not a fed event: outside
	 * a callback, libev would leave that pending until its next wake-up.
	 */
	if (r->cfg.request && !s->draining) {
		r->more = true;
		ev_timer_start(xbd_worker_loop(w), &s->first_pass);
	}
	return r;

fail:
	if (r->sring)
		xengnttab_unmap(xbd_worker_gnttab(w), r->sring, nr_pages);
	journal_close(r);
	free(r->req);
	free(r);
	return NULL;
}

struct xbd_ring *xbd_ring_open(struct xbd_worker *w,
			       const struct xbd_ring_nodes *nodes,
			       unsigned int q,
			       const struct xbd_ring_config *cfg)
{
	if (q >= nodes->nr_queues || q >= XBD_MAX_QUEUES ||
	    nodes->ring_order > XBD_MAX_RING_ORDER) {
		xbd_worker_fail(w, EINVAL, "queue %u: not one of the %u "
				"queue(s) the frontend gave", q,
				nodes->nr_queues);
		return NULL;
	}
	return xbd_ring_open_refs(w, q, nodes->queue[q].ring_ref,
				  1u << nodes->ring_order,
				  nodes->queue[q].evtchn, cfg);
}

uint32_t xbd_ring_ticket(const struct xbd_ring *r)
{
	return r->ticket;
}

static void write_response(struct xbd_ring *r, const void *rsp, size_t len);

void xbd_ring_answer(struct xbd_ring *r, uint32_t ticket, const void *rsp,
		     size_t len)
{
	RING_IDX at = r->back.rsp_prod_pvt;

	write_response(r, rsp, len);
	journal_answer(r, ticket, at);
	r->back.rsp_prod_pvt++;
	r->responses = true;
	r->stats->in_flight = xbd_ring_in_flight(r);
	if (r->set->default_drain)
		check_drained(r->set);
}

void xbd_ring_respond(struct xbd_ring *r, const void *rsp, size_t len)
{
	/*
	 * Without a ticket the answer is known to be the last request's
	 * only when nothing else is in flight.
	 */
	if (r->tracked && xbd_ring_in_flight(r) != 1)
		untrack(r);
	xbd_ring_answer(r, r->ticket, rsp, len);
}

static void write_response(struct xbd_ring *r, const void *rsp, size_t len)
{
	volatile unsigned char *dst = slot(r, r->back.rsp_prod_pvt);
	const unsigned char *src = rsp;
	size_t n = r->cfg.entry_size, i = 0;

	if (len > n)
		len = n;
	/* Word stores where both sides allow, as the request copy. */
	if (n % sizeof(uint32_t) == 0 && len % sizeof(uint32_t) == 0) {
		volatile uint32_t *d = (volatile uint32_t *)dst;
		uint32_t word;

		for (; i < len; i += sizeof(word)) {
			memcpy(&word, src + i, sizeof(word));
			d[i / sizeof(word)] = word;
		}
		for (; i < n; i += sizeof(word))
			d[i / sizeof(word)] = 0;
	} else {
		for (; i < len; i++)
			dst[i] = src[i];
		for (; i < n; i++)
			dst[i] = 0;
	}
}

void xbd_ring_push(struct xbd_ring *r)
{
	int notify;

	if (!r->responses || !r->sring)
		return;
	r->responses = false;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->back, notify);
	if (r->jr)
		journal_published(r);
	if (notify && r->local_port >= 0)
		xenevtchn_notify(xbd_worker_evtchn(r->w),
				 (evtchn_port_t)r->local_port);
}

int xbd_ring_take(struct xbd_ring *r, void *buf)
{
	RING_IDX rp;
	int more;

	if (xbd_worker_failed(r->w) || !r->sring)
		return -1;
	if (replay_one(r)) {
		memcpy(buf, r->req, r->cfg.entry_size);
		return 1;
	}
	for (int checked = 0;; checked = 1) {
		rp = r->back.sring->req_prod;
		xen_rmb();	/* slots after the index */
		if (overflowed(r, rp))
			return -1;
		if (r->back.req_cons != rp)
			break;
		if (checked)
			return 0;
		/* Empty: ask for an event with the next request, recheck. */
		RING_FINAL_CHECK_FOR_REQUESTS(&r->back, more);
		if (!more)
			return 0;
	}
	copy_request(r, r->back.req_cons);
	memcpy(buf, r->req, r->cfg.entry_size);
	took(r);
	return 1;
}

void xbd_ring_close(struct xbd_ring *r)
{
	struct xbd_worker *w;

	if (!r)
		return;
	w = r->w;
	ev_timer_stop(loop_of(r), &r->unmask_timer);
	/* Answers already written reach the frontend. */
	xbd_ring_push(r);
	if (r->local_port >= 0)
		xenevtchn_unbind(xbd_worker_evtchn(w),
				 (evtchn_port_t)r->local_port);
	r->local_port = -1;
	if (r->sring)
		xengnttab_unmap(xbd_worker_gnttab(w), r->sring, r->nr_pages);
	r->sring = NULL;
	ring_unregister(r->set, r);
	journal_close(r);
	free(r->req);
	free(r);
}
