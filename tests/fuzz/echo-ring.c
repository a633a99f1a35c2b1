/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the echo class (examples/echo/backend/echo.c) serving
 * a shared ring on the kit's rings (src/ring.c), against a guest whose
 * every move comes from the input: the indexes it publishes (req_prod
 * far ahead, behind or wrapped; rsp_event anywhere; req_event
 * scribbled), every byte of every request slot (op, gref, offset,
 * length, id, padding), which pages it grants and whether writable, its
 * rewriting slots between passes, and what it does while the backend
 * works on a request (rewriting that request's slot after it was copied,
 * the slots of requests not yet taken, the bytes of the page before they
 * are read, withdrawing its grants).
 *
 * The class is the daemon's: echo.c is linked unchanged and found by
 * name in the real registry (src/classes.c), where its constructor put
 * it, then driven through its public callbacks as main and the worker
 * drive them: setup (a stubbed backend directory records the
 * feature-reverse it writes), frontend_ready (ring-ref and event-channel
 * read through the kit's real parser), worker_start (which opens the ring
 * through xbd_ring_open). That is cleaner than #including echo.c: the
 * harness needs none of echo.c's static functions -- what the class
 * promises shows on the ring and in the grant table -- and it fuzzes the
 * object the daemon links, constructor and all. The guest, the grant
 * table and the worker process are tests/unit/inproc-guest.c.
 *
 * The worker's loop runs until idle after each move of the guest (a
 * step); then, and from inside the backend's grant maps and unmaps, the
 * invariants are asserted:
 * - no more responses than requests taken, and all taken are answered
 *   (echo answers before it returns); nothing taken beyond req_prod;
 * - a req_prod more than the ring's size ahead of the responses fails
 *   the device (EPROTO) with nothing taken, never loops or reads past;
 *   an event on a sane ring takes everything published;
 * - each response, in its request's slot, carries that request's id and
 *   op, as the backend copied them (a slot rewritten after the copy
 *   changes nothing), its padding and the rest of the slot zero;
 * - status OKAY only for PING, SUM, or REVERSE with feature-reverse
 *   offered, with offset + length <= 4096 and a grant that mapped
 *   (writable for REVERSE); ERROR for a bad range or a grant that does
 *   not map; EOPNOTSUPP otherwise; the sum 0 unless OKAY;
 * - a page is mapped only for such a request, once, read-only for SUM,
 *   and unmapped before the next; SUM is the FNV-1a 32 of the bytes as
 *   they were when the backend read them, and leaves the page as it
 *   was; REVERSE reverses exactly the range in place;
 * - responses pushed at the end of the passes, the frontend notified
 *   exactly when rsp_event asked for it, req_event asking for the next
 *   request once idle; errors, bytes and reversed counted right;
 * - after the core's drain nothing is mapped, bound or open.
 * Reading or writing outside the mapped pages faults on the guard pages
 * around every mapping; outside private buffers, ASan reports it. A
 * backend that loops (e.g. on a req_prod far ahead) never returns to be
 * checked: a watchdog of 5 s of CPU time per input aborts it, well
 * before libFuzzer's own -timeout (20 min unless told) would.
 *
 * Input: a header (reverse option, start index, page seed, grants), then
 * guest moves until the input ends (at most MAX_STEPS); read as a stream
 * that yields zeros once exhausted.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include <xenbackd/class.h>
#include <xenbackd/ring.h>

#include "../../examples/echo/echoif.h"
#include "../unit/inproc-guest.h"
#include "watchdog.h"
#include "classes.h"

#define ASSERT(c)                                                            \
	do {                                                                 \
		if (!(c)) {                                                  \
			fprintf(stderr, "%s:%d: assertion failed: %s\n",     \
				__FILE__, __LINE__, #c);                     \
			abort();                                             \
		}                                                            \
	} while (0)

#define RING_REF 20		/* the ring's page, granted only to map it */
#define DATA_PAGES 16		/* refs 0..15: what the guest may grant */
#define PORT 9			/* the frontend's event channel */
#define ENTRY sizeof(union echo_sring_entry)
#define SIZE 128u		/* entries of a one-page echo ring */
#define MASK (SIZE - 1)
#define MAX_STEPS 48

_Static_assert(ENTRY == 24, "echoif.h: 24-byte slots");
_Static_assert(sizeof(struct echo_response) == 16, "16-byte responses");

/* The guest's moves: bits of the first byte of each step. */
enum {
	MOVE_REQUESTS = 1,	/* n slots written at req_prod, which advances */
	MOVE_RAW_PROD = 2,	/* req_prod set to any 32-bit value */
	MOVE_REWRITE = 4,	/* any slots rewritten, by index */
	MOVE_RSP_EVENT = 8,	/* rsp_event: rsp_prod + n, or any value */
	MOVE_REQ_EVENT = 16,	/* req_event scribbled */
	MOVE_GRANTS = 32,	/* grants changed */
	MOVE_MEANWHILE = 64,	/* what to do inside the backend's maps */
	MOVE_KICK = 128,	/* notify the channel */
};

/* What the guest does each time the backend maps a page, in one step. */
enum {
	MEANWHILE_SLOT = 1,	/* rewrite the slot of the request mapped for */
	MEANWHILE_PENDING = 2,	/* rewrite the slots not yet taken */
	MEANWHILE_DATA = 4,	/* change the range's bytes before the read */
	MEANWHILE_REVOKE = 8,	/* withdraw every grant */
};

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint32_t u32(struct input *in)
{
	uint32_t v = u8(in);

	v |= (uint32_t)u8(in) << 8;
	v |= (uint32_t)u8(in) << 16;
	return v | (uint32_t)u8(in) << 24;
}

static void bytes(struct input *in, void *dst, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memcpy(dst, in->p, k);
	memset((uint8_t *)dst + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

static uint32_t next_random(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void fill_random(uint32_t *x, uint8_t *p, size_t n)
{
	while (n--)
		*p++ = (uint8_t)next_random(x);
}

/*
 * A data page's bytes, from the input's seed: made when the backend maps
 * the page first (a whole page per input would cost most of the time).
 */
static uint32_t page_seed;
static bool page_made[DATA_PAGES];

static void make_page(uint32_t ref)
{
	uint64_t x = page_seed * 0x9e3779b97f4a7c15ull + ref, *p;

	if (ref >= DATA_PAGES || page_made[ref])
		return;
	page_made[ref] = true;
	p = guest_page(ref);
	for (unsigned int i = 0; i < GUEST_PAGE_SIZE / sizeof(*p); i++) {
		x += 0x9e3779b97f4a7c15ull;
		p[i] = x ^ (x >> 29);
	}
}

/* FNV-1a 32, written out again rather than taken from echoif.h. */
static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

#define W guest_worker

static echo_sring_t *sring(void)
{
	return guest_page(RING_REF);
}

static uint8_t *slot(RING_IDX i)
{
	return (uint8_t *)guest_page(RING_REF) + XBD_RING_HEADER_SIZE +
	       (size_t)(i & MASK) * ENTRY;
}

static uint64_t taken(void)
{
	return W.area.ring[0].requests;
}

/* ---- Main process: the class's device, stubbed -------------------------- */

struct xbd_device {
	int unused;
};

static struct xbd_device dev;
static _Alignas(max_align_t) unsigned char priv[4096];
static const char *reverse_option;	/* echo.reverse, NULL: unset */
static int feature_reverse;		/* what setup wrote, -1: nothing */

void *xbd_device_priv(struct xbd_device *d)
{
	return priv;
}

const char *xbd_device_frontend_path(const struct xbd_device *d)
{
	return "/local/domain/7/device/echo/0";
}

char *xbd_frontend_read(struct xbd_device *d, const char *node)
{
	if (!strcmp(node, "ring-ref"))
		return strdup("20");
	if (!strcmp(node, "event-channel"))
		return strdup("9");
	errno = ENOENT;
	return NULL;
}

int xbd_backend_write(struct xbd_device *d, const char *node,
		      const char *fmt, ...)
{
	char v[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (!strcmp(node, "feature-reverse"))
		feature_reverse = !strcmp(v, "1") ? 1 : !strcmp(v, "0") ? 0 : 2;
	return 0;
}

void xbd_device_error(struct xbd_device *d, int err, const char *fmt, ...)
{
	ASSERT(!"the class reported a device error");
}

const char *xbd_class_option(const struct xbd_class *c, const char *key)
{
	return !strcmp(key, "reverse") ? reverse_option : NULL;
}

/* ---- One step: a move of the guest, then the worker until idle ---------- */

/* What the backend did with request k of the step (from the hooks). */
struct seen {
	bool mapped_for;	/* it asked for the page */
	bool mapped;		/* and got it */
	bool unmapped;
	uint32_t sum;		/* FNV-1a of the bytes when it read them */
};

static struct step {
	bool on;		/* the hooks watch (not at open and drain) */
	RING_IDX first;		/* req_cons when the step began */
	RING_IDX prod;		/* req_prod the guest published */
	uint64_t taken0;
	uint8_t meanwhile;	/* MEANWHILE_* */
	uint32_t random;
	/*
	 * The slots as the backend copies them: as they were when the step
	 * began, with what the guest rewrote meanwhile before their copy.
	 */
	uint8_t model[SIZE][ENTRY];
	struct seen seen[SIZE];
	/* The page mapped now, and its bytes as the backend read them. */
	void *mapping;
	unsigned int mapped_k;
	uint8_t before[GUEST_PAGE_SIZE];
} S;

static bool reverse;		/* feature-reverse offered */
static uint64_t errors, nbytes, reversed;	/* what the counters must say */

static struct echo_request request_of(unsigned int k)
{
	struct echo_request q;

	memcpy(&q, S.model[(S.first + k) & MASK], sizeof(q));
	return q;
}

static bool valid_op(uint8_t op)
{
	return op == ECHO_OP_PING || op == ECHO_OP_SUM ||
	       (op == ECHO_OP_REVERSE && reverse);
}

static bool in_page(const struct echo_request *q)
{
	return (uint32_t)q->offset + q->length <= ECHO_PAGE_SIZE;
}

static void on_mapped(const uint32_t *refs, uint32_t count, int prot,
		      void *addr)
{
	uint64_t n = taken() - S.taken0;
	struct echo_request q;
	struct seen *e;
	unsigned int k;
	bool write;

	if (!S.on)
		return;
	/* For the request taken last: the one the class works on now. */
	ASSERT(n >= 1 && n <= SIZE);
	k = (unsigned int)n - 1;
	e = &S.seen[k];
	q = request_of(k);
	write = q.op == ECHO_OP_REVERSE;
	/* Nothing but the response writes that slot after the copy. */
	ASSERT(!memcmp(slot(S.first + k), S.model[(S.first + k) & MASK],
		       ENTRY));
	ASSERT(count == 1);
	ASSERT(!e->mapped_for);			/* once per request */
	ASSERT(!S.mapping);			/* one page at a time */
	ASSERT(q.op != ECHO_OP_PING && valid_op(q.op));
	ASSERT(in_page(&q));			/* checked before the map */
	ASSERT(refs[0] == q.gref);
	ASSERT(prot == (write ? PROT_READ | PROT_WRITE : PROT_READ));
	e->mapped_for = true;
	e->mapped = addr != NULL;
	ASSERT(e->mapped ==
	       (q.gref < GUEST_PAGES && guest_grants[q.gref] &&
		(!write || guest_grants[q.gref] == GUEST_GRANT_RW)));
	if (addr) {
		uint8_t *page = guest_page(q.gref);

		make_page(q.gref);
		if (S.meanwhile & MEANWHILE_DATA)
			fill_random(&S.random, page + q.offset, q.length);
		memcpy(S.before, page, GUEST_PAGE_SIZE);
		e->sum = fnv1a(S.before + q.offset, q.length);
		S.mapping = addr;
		S.mapped_k = k;
	}
	/* Copied already: what the class answers must not change. */
	if (S.meanwhile & MEANWHILE_SLOT)
		fill_random(&S.random, slot(S.first + k), ENTRY);
	/* Not copied yet: the backend sees the new bytes. */
	if (S.meanwhile & MEANWHILE_PENDING) {
		RING_IDX avail = S.prod - S.first;

		for (RING_IDX j = k + 1; j < avail && j < SIZE; j++) {
			fill_random(&S.random, S.model[(S.first + j) & MASK],
				    ENTRY);
			memcpy(slot(S.first + j),
			       S.model[(S.first + j) & MASK], ENTRY);
		}
	}
	if (S.meanwhile & MEANWHILE_REVOKE)
		memset(guest_grants, 0, DATA_PAGES * sizeof(guest_grants[0]));
}

static void on_unmapping(void *addr, uint32_t count)
{
	struct echo_request q;
	struct seen *e;
	const uint8_t *page;

	if (!S.on)
		return;
	ASSERT(addr == S.mapping && count == 1);
	e = &S.seen[S.mapped_k];
	q = request_of(S.mapped_k);
	ASSERT(e->mapped && !e->unmapped);
	e->unmapped = true;
	S.mapping = NULL;
	page = guest_page(q.gref);
	/* The range reversed in place, or nothing changed. */
	if (q.op == ECHO_OP_REVERSE) {
		for (unsigned int i = 0; i < q.length; i++)
			ASSERT(page[q.offset + i] ==
			       S.before[q.offset + q.length - 1 - i]);
		ASSERT(!memcmp(page, S.before, q.offset));
		ASSERT(!memcmp(page + q.offset + q.length,
			       S.before + q.offset + q.length,
			       GUEST_PAGE_SIZE - q.offset - q.length));
	} else {
		ASSERT(!memcmp(page, S.before, GUEST_PAGE_SIZE));
	}
}

/* Response k of the step, against request k as the backend copied it. */
static void check_response(unsigned int k)
{
	const struct echo_request q = request_of(k);
	const struct seen *e = &S.seen[k];
	const uint8_t *s = slot(S.first + k);
	struct echo_response rsp;
	int16_t want;

	memcpy(&rsp, s, sizeof(rsp));
	ASSERT(rsp.id == q.id);
	ASSERT(rsp.op == q.op);
	ASSERT(rsp._pad1 == 0);
	for (size_t i = sizeof(rsp); i < ENTRY; i++)
		ASSERT(s[i] == 0);

	if (!valid_op(q.op))
		want = ECHO_RSP_EOPNOTSUPP;
	else if (q.op == ECHO_OP_PING)
		want = ECHO_RSP_OKAY;
	else if (!in_page(&q))
		want = ECHO_RSP_ERROR;
	else
		want = e->mapped ? ECHO_RSP_OKAY : ECHO_RSP_ERROR;
	ASSERT(rsp.status == want);
	/* A page asked for exactly when the request needs one. */
	ASSERT(e->mapped_for == (valid_op(q.op) && q.op != ECHO_OP_PING &&
				 in_page(&q)));
	ASSERT(e->mapped == e->unmapped);
	if (rsp.status == ECHO_RSP_OKAY && q.op != ECHO_OP_PING) {
		ASSERT(rsp.sum == e->sum);
		nbytes += q.length;
		reversed += q.op == ECHO_OP_REVERSE;
	} else {
		ASSERT(rsp.sum == 0);
	}
	errors += rsp.status != ECHO_RSP_OKAY;
}

/* Runs the worker's loop until it is idle. */
static void run_worker(void)
{
	uint64_t last = taken();

	for (int i = 0, idle = 0; i < 64 && !idle && !W.failed; i++) {
		ev_run(W.loop, EVRUN_NOWAIT);
		idle = taken() == last ? idle + 1 : 0;
		last = taken();
	}
}

/* Returns whether the ring still serves. */
static bool step(RING_IDX cons, bool ran)
{
	echo_sring_t *sr = sring();
	RING_IDX rsp0 = sr->rsp_prod, avail;
	int notifies0 = guest_notifies;
	uint64_t n;

	memset(S.seen, 0, sizeof(S.seen));
	S.first = cons;
	S.prod = sr->req_prod;
	S.taken0 = taken();
	S.mapping = NULL;
	for (unsigned int i = 0; i < SIZE; i++)
		memcpy(S.model[i], slot(i), ENTRY);
	ASSERT(rsp0 == cons);			/* all taken were answered */

	S.on = true;
	run_worker();
	S.on = false;

	n = taken() - S.taken0;
	avail = S.prod - S.first;
	ASSERT(guest_maps_out == 1);		/* the ring only */
	ASSERT(!S.mapping);
	ASSERT(W.area.ring[0].in_flight == 0);
	if (W.failed) {
		/* Only an overflow fails it, before it takes anything. */
		ASSERT(W.fail_err == EPROTO);
		ASSERT(avail > SIZE);
		ASSERT(n == 0);
		ASSERT(sr->rsp_prod == rsp0);
		ASSERT(guest_notifies == notifies0);
		return false;
	}
	if (avail > SIZE) {
		ASSERT(!ran);			/* a pass fails on it */
		ASSERT(n == 0);
	} else {
		ASSERT(n <= avail);
		if (ran)
			ASSERT(n == avail);
	}
	/* Everything answered is pushed, in its request's slot. */
	ASSERT(sr->rsp_prod == (RING_IDX)(S.first + n));
	for (unsigned int k = 0; k < n; k++)
		check_response(k);
	ASSERT(W.area.ring[0].errors == errors);
	ASSERT(W.area.ring[0].counter[0] == nbytes);
	ASSERT(W.area.ring[0].counter[1] == reversed);
	/* Every answer in the metrics of one of echo's four ops, none past. */
	{
		uint64_t answers = 0;

		for (unsigned int o = 0; o < XBD_MAX_OPS; o++)
			for (unsigned int k = 0; k < XBD_NR_RESULTS; k++) {
				ASSERT(o < 4 || !W.area.ring[0].op[o].result[k]);
				answers += W.area.ring[0].op[o].result[k];
			}
		ASSERT(answers == W.area.ring[0].requests);
	}
	/* Notified exactly when a response crossed rsp_event. */
	{
		RING_IDX new = sr->rsp_prod, ev = sr->rsp_event;
		bool asked = new != rsp0 &&
			     (RING_IDX)(new - ev) < (RING_IDX)(new - rsp0);

		/* Once at most: one push crosses it. */
		ASSERT(guest_notifies - notifies0 == asked);
	}
	/* Idle: an event asked for with the next request. */
	if (ran)
		ASSERT(sr->req_event == (RING_IDX)(S.first + n + 1));
	return true;
}

/* Two bits a data page: 0 not granted, 2 read-only, 1 or 3 writable. */
static void set_grants(uint32_t g)
{
	for (unsigned int r = 0; r < DATA_PAGES; r++, g >>= 2)
		guest_grants[r] = (g & 3) == 2 ? GUEST_GRANT_RO :
				  (g & 3) ? GUEST_GRANT_RW : GUEST_NOT_GRANTED;
}

/* The guest's move; returns whether it notified. */
static bool move(struct input *in, RING_IDX *prod)
{
	echo_sring_t *sr = sring();
	uint8_t flags = u8(in);

	if (flags & MOVE_REQUESTS) {
		unsigned int n = u8(in);

		for (unsigned int i = 0; i < n; i++)
			bytes(in, slot((*prod)++), ENTRY);
	}
	if (flags & MOVE_RAW_PROD)
		*prod = u32(in);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	sr->req_prod = *prod;
	if (flags & MOVE_REWRITE) {
		unsigned int n = u8(in) % 8;

		for (unsigned int i = 0; i < n; i++) {
			uint8_t s = u8(in);

			bytes(in, slot(s), ENTRY);
		}
	}
	if (flags & MOVE_RSP_EVENT) {
		uint8_t d = u8(in);

		sr->rsp_event = d == 0xff ? u32(in) : sr->rsp_prod + d;
	}
	if (flags & MOVE_REQ_EVENT)
		sr->req_event = u32(in);
	if (flags & MOVE_GRANTS)
		set_grants(u32(in));
	S.meanwhile = flags & MOVE_MEANWHILE ? u8(in) : 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (flags & MOVE_KICK)
		guest_kick(PORT);
	return flags & MOVE_KICK;
}

static const struct xbd_class *echo;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (guest_init())
		abort();
	guest_hooks.mapped = on_mapped;
	guest_hooks.unmapping = on_unmapping;
	fuzz_watchdog_install("echo-ring");
	/* Registered by echo.c's constructor, as in the daemon. */
	echo = classes_find("echo");
	if (classes_check() || !echo || echo->priv_size > sizeof(priv))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const options[] = { NULL, "0", "1", NULL };
	struct input in = { data, size };
	uint8_t cfg = u8(&in);
	RING_IDX start = u32(&in), prod, cons;
	uint32_t seed = u32(&in) | 1;
	echo_sring_t *sr;
	bool serving;

	fuzz_watchdog_arm(true);
	/* Main: the device set up, the frontend's nodes read. */
	memset(priv, 0, sizeof(priv));
	guest_worker_reset(echo->worker_stop, priv);
	/* As the daemon's worker: the guest's op picks the metrics' slot. */
	W.rings.nr_ops = class_nr_ops(echo);
	memset(guest_grants, 0, sizeof(guest_grants));
	reverse_option = options[cfg & 3];
	reverse = !reverse_option || !strcmp(reverse_option, "1");
	feature_reverse = -1;
	ASSERT(echo->setup(&dev) == 0);
	ASSERT(feature_reverse == reverse);
	ASSERT(echo->frontend_ready(&dev) == 0);

	/* The guest: its pages, its ring, requests waiting before we map. */
	S.random = seed;
	page_seed = seed;
	memset(page_made, 0, sizeof(page_made));
	sr = sring();
	memset(sr, 0, GUEST_PAGE_SIZE);
	sr->req_prod = sr->rsp_prod = start;
	sr->req_event = sr->rsp_event = start + 1;
	prod = cons = start;
	errors = nbytes = reversed = 0;
	set_grants(u32(&in));
	move(&in, &prod);

	/* The worker: maps the ring; its page is no data page after that. */
	guest_grants[RING_REF] = GUEST_GRANT_RW;
	ASSERT(echo->worker_start(&W) == 0);
	ASSERT(guest_maps_out == 1 && guest_bound == 1);
	guest_grants[RING_REF] = GUEST_NOT_GRANTED;

	/* The first pass runs without an event: a ring taken over. */
	serving = step(cons, true);
	for (int i = 1; serving && in.n && i < MAX_STEPS; i++) {
		bool kicked;

		cons = sr->rsp_prod;
		kicked = move(&in, &prod);
		serving = step(cons, kicked);
	}

	/* The core's drain, or the worker's exit after a failure. */
	ASSERT(guest_worker_drain());
	ASSERT(W.rings.head == NULL);
	ASSERT(guest_maps_out == 0);
	ASSERT(guest_bound == 0);
	fuzz_watchdog_arm(false);
	return 0;
}
