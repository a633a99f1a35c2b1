/* SPDX-License-Identifier: MIT */
/*
 * The kit's rings (src/ring.c) with a toy protocol, in one process,
 * against an in-process guest: its memory is a memfd, its grant table an
 * array, its event channel a pipe. The test plays the frontend and checks
 * what ring.h promises a class: attach at rsp_prod, one private copy of
 * each request, responses copied whole with the rest of the slot zeroed,
 * bounded passes that resume, push-and-notify per pass, the overflow
 * check, storm limiting, take mode, counters, failed opens that leave
 * nothing mapped or guest_bound, and the core's drain.
 *
 * The guest, the worker process (src/worker.c: xbd_worker_*) and
 * libxengnttab / libxenevtchn are inproc-guest.c, replaced at link time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>
#include <xenbackd/class.h>
#include <xenbackd/ring.h>

#include "check.h"
#include "inproc-guest.h"
#include "ring-journal.h"

/* The worker, shorter in the scenarios. */
#define W guest_worker

/* ---- The toy protocol: 16-byte entries, answers of 12 bytes ---------- */

struct toy_req {
	uint64_t id;
	uint32_t value;
	uint32_t pad;
};

struct toy_rsp {
	uint64_t id;
	uint32_t value;		/* value + 1 */
};

#define ENTRY 16u

DEFINE_RING_TYPES(toy, struct toy_req, struct toy_req);

static toy_sring_t *sring;
static unsigned int size;
static RING_IDX req_prod, rsp_cons;

/* What the class saw. */
static unsigned int requests, passes, events, stops;
static bool defer;			/* keep requests to answer later */
static struct toy_req deferred[256];
static uint32_t tickets[256];		/* xbd_ring_ticket() of each */
static unsigned int nr_deferred;
static bool bad_copy;			/* a request seen in shared memory */
static struct xbd_ring *ring;

static bool accounting;			/* answers go to xbd_ring_account */
static uint64_t taken_seen;		/* the last xbd_ring_taken_at() */

static void respond(struct xbd_ring *r, const struct toy_req *q)
{
	struct toy_rsp rsp = { q->id, q->value + 1 };

	/* The id picks the operation, as a guest's field would: unchecked. */
	if (accounting)
		xbd_ring_account(r, (unsigned int)q->id % 7,
				 q->id % 5 == 4 ? XBD_RESULT_BAD_REQUEST
						: XBD_RESULT_OK, 100,
				 xbd_ring_taken_at(r));
	if (q->value == 13)
		xbd_ring_count_error(r);
	xbd_ring_count(r, 1, q->value);
	xbd_ring_respond(r, &rsp, 12);
}

static void on_request(struct xbd_ring *r, const void *req, void *ctx)
{
	const struct toy_req *q = req;
	uintptr_t p = (uintptr_t)req;

	requests++;
	taken_seen = xbd_ring_taken_at(r);
	/* The class only ever sees the private copy, aligned for anything. */
	if (p % _Alignof(max_align_t) ||
	    (p >= (uintptr_t)guest_mem &&
	     p < (uintptr_t)guest_mem + (size_t)GUEST_PAGES * 4096))
		bad_copy = true;
	/* The guest rewrites the slot now: the copy stays as it was. */
	{
		uint64_t id = q->id;

		memset(&sring->ring[q->pad & (size - 1)], 0x5a, ENTRY);
		if (q->id != id)
			bad_copy = true;
	}
	if (defer) {
		tickets[nr_deferred] = xbd_ring_ticket(r);
		deferred[nr_deferred++] = *q;
		return;
	}
	respond(r, q);
}

static void on_pass_done(struct xbd_ring *r, void *ctx)
{
	passes++;
}

static void on_stop(struct xbd_worker *w)
{
	stops++;
	/* Everything is answered, and the rings still open. */
	CHECK(W.rings.head != NULL);
}

static void guest_ring(uint32_t ref, RING_IDX start)
{
	guest_grants[ref] = GUEST_GRANT_RW;
	sring = guest_page(ref);
	memset(sring, 0, 4096);
	sring->req_prod = sring->rsp_prod = start;
	sring->req_event = sring->rsp_event = start + 1;
	req_prod = rsp_cons = start;
	size = xbd_ring_entries(1, ENTRY);
}

static void put(uint64_t id, uint32_t value)
{
	struct toy_req *s = &sring->ring[req_prod++ & (size - 1)].req;

	s->id = id;
	s->value = value;
	s->pad = req_prod - 1;	/* its slot, for on_request */
}

static void publish(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	sring->req_prod = req_prod;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Runs the loop until n responses are there (or 5 s); checks them. */
static unsigned int collect(unsigned int n, uint64_t first_id)
{
	ev_tstamp start = ev_time();
	unsigned int got = 0;

	while (got < n && ev_time() - start < 5 && !W.failed) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		while (rsp_cons != sring->rsp_prod && got < n) {
			unsigned char *slot = (unsigned char *)
				&sring->ring[rsp_cons++ & (size - 1)];
			struct toy_rsp r;

			memcpy(&r, slot, 12);
			CHECK_EQ(r.id, first_id + got);
			CHECK_EQ(r.value, (uint32_t)(first_id + got) * 3 + 1);
			/* The rest of the slot: zero, not the request. */
			CHECK_EQ(slot[12] | slot[13] | slot[14] | slot[15], 0);
			got++;
		}
		if (got < n)
			ev_run(W.loop, EVRUN_ONCE);
	}
	return got;
}

static void new_worker(void)
{
	guest_worker_reset(on_stop, NULL);
	requests = passes = events = stops = 0;
	defer = bad_copy = accounting = false;
	nr_deferred = 0;
	taken_seen = 0;
}

static struct xbd_ring *open_toy(unsigned int index, uint32_t ref,
				 uint32_t port, unsigned int budget)
{
	struct xbd_ring_config cfg = {
		.entry_size = ENTRY, .budget = budget,
		.request = on_request, .pass_done = on_pass_done,
	};

	return xbd_ring_open_refs(&W, index, &ref, 1, port, &cfg);
}

/* The core's drain to its end; nothing left behind. */
static void drain(void)
{
	CHECK(guest_worker_drain());
	CHECK(W.rings.head == NULL);
	CHECK_EQ(guest_maps_out, 0);
	CHECK_EQ(guest_bound, 0);
}

/* ---- Scenarios ------------------------------------------------------------ */

static void passes_and_answers(void)
{
	unsigned int i;

	new_worker();
	guest_ring(1, 0);
	ring = open_toy(0, 1, 10, 4);
	CHECK(ring != NULL);
	CHECK_EQ(xbd_ring_size(ring), 128);
	CHECK_EQ(xbd_ring_index(ring), 0);
	CHECK_EQ(guest_bound, 1);
	CHECK_EQ(guest_maps_out, 1);
	CHECK_EQ(W.area.nr_rings, 1);

	/* Ten requests, one event, a budget of 4: three passes. */
	guest_notifies = 0;
	for (i = 0; i < 10; i++)
		put(100 + i, (100 + i) * 3);
	publish();
	guest_kick(10);
	CHECK_EQ(collect(10, 100), 10);
	CHECK_EQ(requests, 10);
	CHECK_EQ(passes, 3);
	CHECK(guest_notifies >= 1 && guest_notifies <= 3);	/* once per pass at most */
	CHECK(!bad_copy);
	CHECK_EQ(W.area.ring[0].requests, 10);
	CHECK_EQ(W.area.ring[0].in_flight, 0);
	CHECK_EQ(W.area.ring[0].errors, 0);
	CHECK_EQ(W.area.ring[0].counter[1], (uint64_t)(100 + 109) * 10 / 2 * 3);
	/* Asked for an event with the next request (final check). */
	CHECK_EQ(sring->req_event, req_prod + 1);
	/* A class without operations: requests are not timed. */
	CHECK_EQ(taken_seen, 0);

	/* Answers given later: in flight until then, pushed by the class. */
	defer = true;
	put(200, 600);
	put(201, 603);
	publish();
	guest_kick(10);
	while (nr_deferred < 2)
		ev_run(W.loop, EVRUN_ONCE);
	CHECK_EQ(xbd_ring_in_flight(ring), 2);
	CHECK_EQ(W.area.ring[0].in_flight, 2);
	CHECK_EQ(sring->rsp_prod, rsp_cons);
	respond(ring, &deferred[0]);
	respond(ring, &deferred[1]);
	CHECK_EQ(xbd_ring_in_flight(ring), 0);
	xbd_ring_push(ring);
	CHECK_EQ(sring->rsp_prod, rsp_cons + 2);
	CHECK_EQ(collect(2, 200), 2);

	/* The drain waits for what is taken and for busy work. */
	defer = true;
	nr_deferred = 0;
	put(300, 900);
	publish();
	guest_kick(10);
	while (nr_deferred < 1)
		ev_run(W.loop, EVRUN_ONCE);
	xbd_worker_busy(&W, 1);
	worker_rings_drain(&W.rings);
	for (i = 0; i < 20; i++)
		ev_run(W.loop, EVRUN_NOWAIT);
	CHECK(!W.stopped);
	/* No passes any more: a new request stays on the ring. */
	put(301, 903);
	publish();
	guest_kick(10);
	for (i = 0; i < 20; i++)
		ev_run(W.loop, EVRUN_NOWAIT);
	CHECK_EQ(requests, 10 + 2 + 1);
	respond(ring, &deferred[0]);
	for (i = 0; i < 20; i++)
		ev_run(W.loop, EVRUN_NOWAIT);
	CHECK(!W.stopped);		/* still busy */
	CHECK_EQ(stops, 0);
	xbd_worker_busy(&W, -1);
	drain();
	CHECK_EQ(stops, 1);
	/* The answer written before the drain reached the frontend. */
	CHECK_EQ(collect(1, 300), 1);
}

/*
 * Answers accounted per operation: a class of 3 operations gets ids 0..13
 * as operations 0..6 (3..6 past its last: counted as the last), ids 4 and
 * 9 answered as bad requests.
 */
static void account(void)
{
	const struct xbd_ring_stats *st = &W.area.ring[0];
	uint64_t answers = 0;

	new_worker();
	W.rings.nr_ops = 3;
	accounting = true;
	guest_ring(8, 0);
	ring = open_toy(0, 8, 16, 0);
	CHECK(ring != NULL);
	for (unsigned int i = 0; i < 14; i++)
		put(i, i * 3);
	publish();
	guest_kick(16);
	CHECK_EQ(collect(14, 0), 14);
	CHECK(taken_seen != 0);
	CHECK_EQ(st->requests, 14);
	CHECK_EQ(st->errors, 2);
	CHECK_EQ(st->op[0].result[XBD_RESULT_OK], 2);
	CHECK_EQ(st->op[1].result[XBD_RESULT_OK], 2);
	CHECK_EQ(st->op[2].result[XBD_RESULT_OK], 8);
	CHECK_EQ(st->op[2].result[XBD_RESULT_BAD_REQUEST], 2);
	CHECK_EQ(st->op[0].bytes, 200);
	CHECK_EQ(st->op[2].bytes, 800);		/* not the errors' */
	for (unsigned int o = 0; o < XBD_MAX_OPS; o++) {
		uint64_t in_buckets = 0, results = 0;

		for (unsigned int k = 0; k < XBD_LATENCY_BUCKETS; k++)
			in_buckets += st->op[o].latency[k];
		for (unsigned int k = 0; k < XBD_NR_RESULTS; k++)
			results += st->op[o].result[k];
		CHECK_EQ(in_buckets, results);
		if (o >= 3)
			CHECK_EQ(results, 0);	/* nothing past the last */
		answers += results;
	}
	CHECK_EQ(answers, 14);
	/* Answered at once: well within the 1 ms bucket. */
	CHECK(st->op[2].latency_ns < 1000000ull * 10);
	drain();
}

/* A live ring taken over: requests waiting, indexes about to wrap. */
static void takeover(void)
{
	unsigned int i;

	new_worker();
	guest_ring(2, 0xfffffffau);
	for (i = 0; i < 12; i++)
		put(i, i * 3);
	publish();			/* no event */
	ring = open_toy(0, 2, 11, 0);
	CHECK(ring != NULL);
	CHECK_EQ(collect(12, 0), 12);
	CHECK_EQ(sring->rsp_prod, 0xfffffffau + 12);
	CHECK_EQ(passes, 1);		/* the default budget: 64 */
	drain();
}

static void faults(void)
{
	uint32_t refs[2] = { 3, 4 };
	struct xbd_ring_config cfg = {
		.entry_size = ENTRY, .request = on_request,
	};

	/* More requests than the ring holds: the device fails, none taken. */
	new_worker();
	guest_ring(3, 5);
	ring = open_toy(0, 3, 12, 0);
	CHECK(ring != NULL);
	sring->req_prod = 5 + size + 1;
	guest_kick(12);
	while (!W.failed)
		ev_run(W.loop, EVRUN_ONCE);
	CHECK_EQ(W.fail_err, EPROTO);
	CHECK(strstr(W.fail_text, "queue 0") != NULL);
	CHECK_EQ(requests, 0);
	drain();

	/*
	 * req_prod moved back behind requests taken and not answered: the
	 * ring's old slots are not taken again (they would be without end,
	 * past the requests a class can hold); the device fails.
	 */
	new_worker();
	guest_ring(3, 0xfffffffeu);
	ring = open_toy(0, 3, 12, 0);
	CHECK(ring != NULL);
	defer = true;
	for (unsigned int i = 0; i < 4; i++)
		put(i, i * 3);
	publish();
	guest_kick(12);
	while (requests < 4 && !W.failed)
		ev_run(W.loop, EVRUN_ONCE);
	CHECK_EQ(requests, 4);
	sring->req_prod = 0xfffffffeu + 1;
	guest_kick(12);
	while (!W.failed)
		ev_run(W.loop, EVRUN_ONCE);
	CHECK_EQ(W.fail_err, EPROTO);
	CHECK_EQ(requests, 4);
	for (unsigned int i = 0; i < nr_deferred; i++)
		respond(ring, &deferred[i]);
	drain();

	/* A page not granted: nothing mapped; the message names the queue. */
	new_worker();
	guest_grants[3] = GUEST_GRANT_RW;
	CHECK(xbd_ring_open_refs(&W, 5, refs, 2, 12, &cfg) == NULL);
	CHECK(W.failed);
	CHECK_EQ(W.fail_err, EPERM);
	CHECK(strstr(W.fail_text, "queue 5") != NULL);
	CHECK_EQ(guest_maps_out, 0);
	CHECK(W.rings.head == NULL);

	/* A port that cannot be guest_bound: the mapped pages are unmapped. */
	new_worker();
	guest_grants[4] = GUEST_GRANT_RW;
	CHECK(xbd_ring_open_refs(&W, 1, refs, 2, 666, &cfg) == NULL);
	CHECK_EQ(W.fail_err, EINVAL);
	CHECK(strstr(W.fail_text, "666") != NULL);
	CHECK_EQ(guest_maps_out, 0);
	CHECK_EQ(guest_bound, 0);
	CHECK(W.rings.head == NULL);

	/* Sizes no ring has; a queue the frontend did not give. */
	new_worker();
	cfg.entry_size = 4096;
	CHECK(xbd_ring_open_refs(&W, 0, refs, 1, 12, &cfg) == NULL);
	CHECK_EQ(W.fail_err, EINVAL);
	new_worker();
	cfg.entry_size = ENTRY;
	CHECK(xbd_ring_open_refs(&W, 0, refs, XBD_MAX_RING_PAGES + 1, 12,
				 &cfg) == NULL);
	new_worker();
	{
		struct xbd_ring_nodes nodes;

		memset(&nodes, 0, sizeof(nodes));
		nodes.nr_queues = 1;
		nodes.queue[0].evtchn = 12;
		nodes.queue[0].ring_ref[0] = 3;
		CHECK(xbd_ring_open(&W, &nodes, 1, &cfg) == NULL);
		CHECK(W.failed);
		new_worker();
		ring = xbd_ring_open(&W, &nodes, 0, &cfg);
		CHECK(ring != NULL);
		CHECK_EQ(guest_bound, 1);
	}
	drain();
}

/* Event floods with no work, and ports nobody guest_bound. */
static void storms(void)
{
	int i, before;

	new_worker();
	guest_ring(5, 0);
	ring = open_toy(0, 5, 13, 0);
	ev_run(W.loop, EVRUN_NOWAIT);
	before = guest_unmasks;
	for (i = 0; i < 2000; i++)
		guest_kick(13);
	for (i = 0; i < 3000; i++)
		ev_run(W.loop, EVRUN_NOWAIT);
	CHECK(guest_unmasks - before < 2000);
	/* After the pause, service as usual. */
	put(0, 0);
	publish();
	guest_kick(13);
	CHECK_EQ(collect(1, 0), 1);

	/* A port of no ring: unmasked and ignored. */
	before = guest_unmasks;
	guest_kick(77);
	ev_run(W.loop, EVRUN_NOWAIT);
	CHECK_EQ(guest_unmasks, before + 1);
	CHECK(!W.failed);
	drain();
}

/* A class that takes requests itself, on events. */
static bool on_event(struct xbd_ring *r, void *ctx)
{
	struct toy_req q;
	bool work = false;
	int n;

	events++;
	while ((n = xbd_ring_take(r, &q)) == 1) {
		work = true;
		respond(r, &q);
	}
	CHECK_EQ(n, 0);
	xbd_ring_push(r);
	return work;
}

static void take_mode(void)
{
	struct xbd_ring_config cfg = {
		.entry_size = ENTRY, .event = on_event,
	};
	uint32_t ref = 6;
	struct toy_req q;
	unsigned int i;

	new_worker();
	guest_ring(6, 0);
	ring = xbd_ring_open_refs(&W, 2, &ref, 1, 14, &cfg);
	CHECK(ring != NULL);
	CHECK_EQ(W.area.nr_rings, 3);		/* highest index + 1 */
	CHECK_EQ(xbd_ring_take(ring, &q), 0);
	CHECK_EQ(sring->req_event, 1u);		/* asked for the next one */
	for (i = 0; i < 5; i++)
		put(i, i * 3);
	publish();
	ev_run(W.loop, EVRUN_NOWAIT);
	CHECK_EQ(requests, 0);			/* no passes without request */
	guest_kick(14);
	CHECK_EQ(collect(5, 0), 5);
	CHECK(events >= 1);
	CHECK_EQ(W.area.ring[2].requests, 5);

	/* Closed early: unbound, unmapped, gone from the statistics. */
	{
		uint32_t ref0 = 7;
		struct xbd_ring *r0;

		guest_ring(7, 0);
		r0 = xbd_ring_open_refs(&W, 0, &ref0, 1, 15, &cfg);
		CHECK(r0 != NULL);
		CHECK_EQ(guest_bound, 2);
		xbd_ring_close(ring);
		CHECK_EQ(guest_bound, 1);
		CHECK_EQ(guest_maps_out, 1);
		CHECK_EQ(W.area.nr_rings, 1);
	}
	/* An overflow seen by take. */
	sring->req_prod = size + 1;
	CHECK_EQ(xbd_ring_take(W.rings.head, &q), -1);
	CHECK_EQ(W.fail_err, EPROTO);
	drain();
}

/* Answers deferred request k with its ticket. */
static void answer(unsigned int k)
{
	struct toy_rsp rsp = { deferred[k].id, deferred[k].value + 1 };

	xbd_ring_answer(ring, tickets[k], &rsp, 12);
}

/* Takes requests until n are deferred (or 5 s). */
static void defer_until(unsigned int n)
{
	ev_tstamp start = ev_time();

	while (nr_deferred < n && ev_time() - start < 5 && !W.failed)
		ev_run(W.loop, EVRUN_ONCE);
}

/*
 * A worker that dies (a child process killed with answers written out of
 * order, some published, some not) and the next one on the same journal:
 * it re-issues exactly what had no published answer, oldest first, and
 * never reads as a request a slot that a response overwrote.
 */
static void resume_after_death(void)
{
	void *journal = mmap(NULL, JOURNAL_BYTES, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	static const uint64_t again[] = { 500, 501, 503, 504, 506, 507, 508, 509 };
	struct toy_rsp rsp;
	uint64_t seen[16];
	unsigned int i, n = 0;
	int status;
	pid_t pid;

	CHECK(journal != MAP_FAILED);
	if (journal == MAP_FAILED)
		return;
	new_worker();
	W.rings.journal = journal;
	guest_ring(1, 4294967290u);	/* across the 32-bit wrap */
	for (i = 0; i < 8; i++)
		put(500 + i, (500 + i) * 3);
	publish();
	/* The frontend is this process; the worker a child. */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		ev_loop_fork(W.loop);
		ring = open_toy(0, 1, 10, 64);
		if (!ring)
			_exit(2);
		defer = true;
		guest_kick(10);
		defer_until(8);
		if (nr_deferred != 8)
			_exit(3);
		/* Out of order: two published, two written only. */
		answer(5);
		answer(2);
		xbd_ring_push(ring);
		answer(7);
		answer(0);
		_exit(0);	/* killed: nothing closed, nothing pushed */
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The frontend saw two answers and queues two more requests. */
	CHECK_EQ(sring->rsp_prod, rsp_cons + 2);
	for (i = 0; i < 2; i++) {
		memcpy(&rsp, &sring->ring[rsp_cons++ & (size - 1)], sizeof(rsp));
		CHECK_EQ(rsp.id, i ? 502 : 505);
	}
	put(508, 508 * 3);
	put(509, 509 * 3);
	publish();

	new_worker();
	W.rings.journal = journal;
	defer = true;
	ring = open_toy(0, 1, 10, 64);
	CHECK(ring != NULL);
	CHECK_EQ(xbd_ring_in_flight(ring), 6);
	guest_kick(10);
	defer_until(8);
	CHECK_EQ(nr_deferred, 8);
	for (i = 0; i < nr_deferred && i < 8; i++) {
		CHECK_EQ(deferred[i].id, again[i]);
		CHECK_EQ(deferred[i].value, (uint32_t)again[i] * 3);
	}
	CHECK(!bad_copy);
	/* Answered in another order again: each exactly once. */
	for (i = nr_deferred; i-- > 0;)
		answer(i);
	xbd_ring_push(ring);
	CHECK_EQ(xbd_ring_in_flight(ring), 0);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	while (rsp_cons != sring->rsp_prod && n < 16) {
		memcpy(&rsp, &sring->ring[rsp_cons++ & (size - 1)], sizeof(rsp));
		CHECK_EQ(rsp.value, (uint32_t)rsp.id * 3 + 1);
		seen[n++] = rsp.id;
	}
	CHECK_EQ(n, 8);
	for (i = 0; i < 8; i++) {
		unsigned int k, hits = 0;

		for (k = 0; k < n; k++)
			hits += seen[k] == again[i];
		CHECK_EQ(hits, 1);
	}
	drain();

	/*
	 * A journal that does not add up is not trusted: no resume. (A new
	 * connection, so a new journal, as main gives it.)
	 */
	((struct journal_ring *)journal)->magic = 0;
	new_worker();
	W.rings.journal = journal;
	guest_ring(1, 0);
	defer = true;
	ring = open_toy(0, 1, 10, 64);
	CHECK(ring != NULL);
	put(600, 1800);
	put(601, 1803);
	publish();
	guest_kick(10);
	defer_until(2);
	CHECK_EQ(nr_deferred, 2);
	/* Closed with both in flight: the journal keeps them, as a death. */
	xbd_ring_close(ring);
	CHECK_EQ(guest_maps_out, 0);
	((struct journal_entry *)((char *)journal + sizeof(struct journal_ring)))
		[0].state = 7;
	new_worker();
	W.rings.journal = journal;
	CHECK(open_toy(0, 1, 10, 64) == NULL);
	CHECK_EQ(W.fail_err, EIO);
	CHECK(strstr(W.fail_text, "cannot resume the ring") != NULL);
	CHECK_EQ(guest_maps_out, 0);
	munmap(journal, JOURNAL_BYTES);
}

int main(void)
{
	if (guest_init())
		return 77;
	passes_and_answers();
	takeover();
	faults();
	storms();
	take_mode();
	account();
	resume_after_death();
	ev_loop_destroy(W.loop);
	return test_exit("test-ring");
}
