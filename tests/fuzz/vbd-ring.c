/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the block class's whole worker side -- the kit's ring
 * passes (src/ring.c), the request copy and validation, indirect segment
 * pages, grant mapping with persistent grants or grant copy, the
 * flush/barrier ordering, the I/O path of src/vbd/io.c, responses and
 * the core's drain -- against a guest whose every move comes from the
 * input, on simulated grants (tests/unit/inproc-guest.c).
 *
 * Linked as the daemon links it: src/vbd/{request,frontend,options,
 * backing,grants,ring,dispatch,worker,io}.c and src/ring.c unchanged.
 * Replaced at link time: libxengnttab / libxenevtchn and the worker
 * process (inproc-guest.c), and the two I/O engines (io_uring, the thread
 * pool) by one engine here that holds every operation until the input
 * completes it -- in any order, in full, short, or with an error -- on a
 * model disk in memory. That makes a run deterministic, lets completions
 * race the guest, and keeps the I/O real enough: a read writes the bytes
 * into the iovecs the class built (a guard page or a read-only mapping
 * faults), a write reads them.
 *
 * The guest: one or two queues of 1, 2 or 4 ring pages in either ABI;
 * requests written whole from the input (any bytes) or from a compact
 * form (read, write, flush, barrier, discard, indirect, any operation;
 * segments on a few grant refs) that reaches deep paths quickly;
 * req_prod moved anywhere (far ahead: the device fails with EPROTO);
 * slots of requests already taken rewritten (XSA-155); grants given,
 * made read-only and withdrawn, also from inside the backend's grant
 * maps; indirect pages filled with segments; the disk grown (online
 * resize); event storms; a drain with I/O in flight.
 *
 * After each move the worker's loop runs until idle; then:
 * - every response answers a request taken (its id and operation as the
 *   request was copied, a slot rewritten after the copy changes nothing),
 *   once; status OKAY, ERROR or EOPNOTSUPP; padding and the rest of the
 *   slot zero; never more responses than requests taken;
 * - the I/O: inside the disk, no write or discard on a read-only device,
 *   READ/WRITE only with data, each operation completed once;
 * - once every operation completed, every request taken is answered and
 *   nothing is in flight; the pages mapped are the rings and at most
 *   max-persistent-grants per queue;
 * - a req_prod more than a ring ahead fails the worker with EPROTO;
 * - after the core's drain nothing is mapped, bound or left in flight.
 * Guard pages around every mapping, ASan and UBSan catch the rest; a
 * watchdog of 5 s of CPU time per input catches a loop.
 *
 * Input: a header (configuration), then steps until the input ends (at
 * most MAX_STEPS), read as a stream that yields zeros once exhausted.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <xenbackd/class.h>
#include <xenbackd/ring.h>

#include "../unit/inproc-guest.h"
#include "watchdog.h"
#include "vbd/vbd.h"
#include "vbd/worker.h"

#define ASSERT(c)                                                            \
	do {                                                                 \
		if (!(c)) {                                                  \
			fprintf(stderr, "%s:%d: assertion failed: %s\n",     \
				__FILE__, __LINE__, #c);                     \
			abort();                                             \
		}                                                            \
	} while (0)

#define DATA_PAGES 32		/* refs 0..31: what the guest may grant */
#define RING_REF0 40		/* queue q's ring: 40 + 4q .. */
#define PORT0 9			/* queue q's event channel: 9 + q */
#define MAX_QUEUES 2
#define MAX_SIZE 128u		/* entries of a 4-page x86_64 ring */
#define MAX_STEPS 64
#define MAX_OPS 1024		/* I/O operations outstanding */
#define DISK_MAX (4u << 20)	/* the model disk, bytes */

/* ---- Input ------------------------------------------------------------- */

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

static uint16_t u16(struct input *in)
{
	uint16_t v = u8(in);

	return v | (uint16_t)(u8(in) << 8);
}

static uint32_t u32(struct input *in)
{
	uint32_t v = u16(in);

	return v | (uint32_t)u16(in) << 16;
}

static uint64_t u64(struct input *in)
{
	uint64_t v = u32(in);

	return v | (uint64_t)u32(in) << 32;
}

static void bytes(struct input *in, void *dst, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memcpy(dst, in->p, k);
	memset((uint8_t *)dst + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

static uint32_t random_state;
/* VBD_RING_DEBUG set: each step and a response not expected, on stderr. */
static bool debug;

static uint32_t next_random(void)
{
	random_state ^= random_state << 13;
	random_state ^= random_state >> 17;
	random_state ^= random_state << 5;
	return random_state;
}

/* ---- The device ---------------------------------------------------------- */

#define W guest_worker

static struct vbd_device V;
static enum xbd_abi abi;
static unsigned int nr_queues, order, size, entry;
static bool unique_ids;
static int disk_fd = -1;
static uint64_t disk_bytes;		/* the backing file's size now */
static unsigned char *disk;		/* the model disk, DISK_MAX bytes */
static uint64_t disk_dirty;		/* bytes below which it may be nonzero */

/* ---- The I/O engine: operations held until the input completes them ---- */

struct fake_engine {
	struct vbd_io_engine base;
	struct vbd_io_op *queued[MAX_OPS];	/* submitted, not kicked */
	unsigned int nr_queued;
	struct vbd_io_op *started[MAX_OPS];	/* kicked, not completed */
	unsigned int nr_started;
	bool live;
};

static struct fake_engine engine;
static uint64_t ops_done;

static bool fake_supports(struct vbd_io_engine *e, enum vbd_io_kind kind)
{
	return true;
}

static void fake_submit(struct vbd_io_engine *e, struct vbd_io_op *op)
{
	uint64_t len = 0;

	ASSERT(engine.live);
	ASSERT(engine.nr_queued + engine.nr_started < MAX_OPS);
	switch (op->kind) {
	case VBD_IO_READ:
	case VBD_IO_WRITE:
		for (unsigned int i = 0; i < op->iovcnt; i++)
			len += op->iov[i].iov_len;
		/* What is left of it (a short transfer is resubmitted). */
		ASSERT(op->done_bytes + len == op->length);
		ASSERT(op->length > 0 && op->length % 512 == 0);
		ASSERT(op->offset % 512 == 0);
		ASSERT(op->offset <= disk_bytes &&
		       op->length <= disk_bytes - op->offset);
		ASSERT(op->kind == VBD_IO_READ || !V.lim.readonly);
		break;
	case VBD_IO_FLUSH:
		ASSERT(V.lim.flush || V.lim.barrier);
		break;
	case VBD_IO_DISCARD:
	case VBD_IO_SECURE_DISCARD:
		ASSERT(!V.lim.readonly && V.lim.discard);
		ASSERT(op->kind == VBD_IO_DISCARD || V.lim.discard_secure);
		ASSERT(op->offset <= disk_bytes &&
		       op->length <= disk_bytes - op->offset);
		break;
	default:
		ASSERT(!"an unknown I/O operation");
	}
	engine.queued[engine.nr_queued++] = op;
}

static void fake_kick(struct vbd_io_engine *e)
{
	for (unsigned int i = 0; i < engine.nr_queued; i++)
		engine.started[engine.nr_started++] = engine.queued[i];
	engine.nr_queued = 0;
}

static void fake_destroy(struct vbd_io_engine *e)
{
	/* io.h: nothing may be in flight. */
	ASSERT(engine.nr_queued == 0 && engine.nr_started == 0);
	engine.live = false;
}

static const struct vbd_io_engine_ops fake_ops = {
	.name = "threads",
	.supports = fake_supports,
	.submit = fake_submit,
	.kick = fake_kick,
	.destroy = fake_destroy,
};

struct vbd_io_engine *vbd_io_uring_create(struct ev_loop *loop,
					  const struct vbd_io_config *cfg)
{
	errno = ENOSYS;
	return NULL;
}

struct vbd_io_engine *vbd_io_nbd_create(struct ev_loop *loop,
					const struct vbd_io_config *cfg)
{
	errno = ENOSYS;
	return NULL;
}

struct vbd_io_engine *vbd_io_threads_create(struct ev_loop *loop,
					    const struct vbd_io_config *cfg)
{
	ASSERT(!engine.live);
	memset(&engine, 0, sizeof(engine));
	engine.base.ops = &fake_ops;
	engine.live = true;
	return &engine.base;
}

/* Moves up to n bytes between op's iovecs (from done_bytes on) and disk. */
static long transfer(struct vbd_io_op *op, uint64_t n)
{
	uint64_t pos = op->offset + op->done_bytes, done = 0;

	for (unsigned int i = 0; i < op->iovcnt && done < n; i++) {
		size_t k = op->iov[i].iov_len;

		if (k > n - done)
			k = n - done;
		if (op->kind == VBD_IO_READ) {
			memcpy(op->iov[i].iov_base, disk + pos + done, k);
		} else {
			memcpy(disk + pos + done, op->iov[i].iov_base, k);
			if (pos + done + k > disk_dirty)
				disk_dirty = pos + done + k;
		}
		done += k;
	}
	return (long)done;
}

/* Completes started operation i as the input says. */
static void complete(unsigned int i, uint8_t how)
{
	struct vbd_io_op *op = engine.started[i];
	uint64_t left = op->length - op->done_bytes;
	long res = 0;

	engine.started[i] = engine.started[--engine.nr_started];
	switch (how % 16) {
	case 10:
		res = -EIO;
		break;
	case 11:
		res = -ENOMEM;
		break;
	case 12:
		res = -EOPNOTSUPP;
		break;
	case 13:
		res = -EINVAL;		/* no O_DIRECT to drop: an error */
		break;
	case 14:			/* short */
		if (op->kind == VBD_IO_READ || op->kind == VBD_IO_WRITE)
			res = transfer(op, left > 1 ? left / 2 + how / 16 % 3
						    : left);
		break;
	case 15:			/* nothing: end of file */
		break;
	default:
		if (op->kind == VBD_IO_READ || op->kind == VBD_IO_WRITE)
			res = transfer(op, left);
		else if (op->kind != VBD_IO_FLUSH)
			memset(disk + op->offset, 0, op->length);
	}
	ops_done++;
	engine.base.complete(engine.base.io, op, (int)res);
}

static void end_batch(void)
{
	if (engine.live)
		engine.base.batch_end(engine.base.io);
}

/* ---- The guest's view of its rings --------------------------------------- */

struct queue {
	RING_IDX prod;			/* what it published */
	RING_IDX cons;			/* responses it consumed */
	RING_IDX taken;			/* requests the backend took */
	/* Slot i's request as published (or rewritten before it was taken). */
	uint64_t id[MAX_SIZE];
	uint8_t op[MAX_SIZE];
	/* Requests taken and not answered: id and operation expected. */
	uint64_t out_id[MAX_SIZE];
	uint8_t out_op[MAX_SIZE];
	unsigned int nr_out;
};

static struct queue Q[MAX_QUEUES];
/*
 * Some queue's req_prod was more than a ring ahead of its responses, or
 * behind the requests the backend took.
 */
static bool overrun;
/*
 * A ring page was mapped writable, or copied into, as a data page: the
 * guest had the disk's bytes written over its own ring (its business),
 * so what the slots say is no longer the backend's word alone.
 */
static bool clobbered;
static bool serving;		/* the rings are mapped: maps are for data */
static RING_IDX start;
static uint64_t next_id;

static blkif_sring_t *sring(unsigned int q)
{
	return guest_page(RING_REF0 + 4 * q);
}

static uint8_t *slot(unsigned int q, RING_IDX i)
{
	return (uint8_t *)sring(q) + XBD_RING_HEADER_SIZE +
	       (size_t)(i & (size - 1)) * entry;
}

static struct xbd_ring_stats *stats(unsigned int q)
{
	return &W.area.ring[q];
}

/* The backend's req_cons, from its counters. */
static RING_IDX backend_cons(unsigned int q)
{
	return start + (RING_IDX)stats(q)->requests;
}

/* What slot i of queue q holds now, as the backend would copy it. */
static void model_slot(unsigned int q, RING_IDX i)
{
	const uint8_t *s = slot(q, i);
	uint64_t id;

	memcpy(&id, s + (abi == XBD_ABI_X86_64 ? 8 : 4), sizeof(id));
	Q[q].id[i & (size - 1)] = id;
	/* An indirect request answers for its operation, if offered. */
	Q[q].op[i & (size - 1)] = s[0] == BLKIF_OP_INDIRECT &&
				  V.lim.max_indirect_segments ? s[1] : s[0];
}

/* Requests newly taken join those expecting an answer. */
static void note_taken(unsigned int q)
{
	struct queue *g = &Q[q];
	RING_IDX cons = backend_cons(q);

	ASSERT((RING_IDX)(cons - g->taken) <= size);
	for (; g->taken != cons; g->taken++) {
		ASSERT(g->nr_out < MAX_SIZE);
		g->out_id[g->nr_out] = g->id[g->taken & (size - 1)];
		if (debug)
			fprintf(stderr, "taken %u: id %llu op %u\n", g->taken,
				(unsigned long long)g->out_id[g->nr_out],
				g->op[g->taken & (size - 1)]);
		g->out_op[g->nr_out] = g->op[g->taken & (size - 1)];
		g->nr_out++;
	}
}

/* Reads the responses pushed since the last look, checking each. */
static void consume(unsigned int q)
{
	struct queue *g = &Q[q];
	RING_IDX prod;

	prod = sring(q)->rsp_prod;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (overrun && !clobbered) {
		/*
		 * A guest that wrote past its free slots: the backend may
		 * legitimately take more than a ring of requests between two
		 * looks (slots it answered meanwhile were free to it), and
		 * which request a slot held when copied is not known. Only
		 * that no answer comes before its request is checked here;
		 * at the end every request taken must be answered.
		 */
		ASSERT((RING_IDX)(backend_cons(q) - prod) <= 2 * size);
		g->taken = backend_cons(q);
		g->cons = prod;
		g->nr_out = (RING_IDX)(g->taken - prod);
		return;
	}
	note_taken(q);
	if (clobbered) {
		/*
		 * The guest had the backend write data over its own ring
		 * (a segment on a ring page): rsp_prod and the slots may
		 * be anything now, so neither says what was answered.
		 */
		g->cons = prod;
		g->nr_out = 0;
		return;
	}
	/* Never more answers than requests taken. */
	ASSERT((RING_IDX)(prod - g->cons) <= g->nr_out);
	for (; g->cons != prod; g->cons++) {
		const uint8_t *s = slot(q, g->cons);
		unsigned int rsz = vbd_abi_response_size(abi), k;
		uint64_t id;
		int16_t status;

		memcpy(&id, s, 8);
		memcpy(&status, s + 10, 2);
		ASSERT(status == BLKIF_RSP_OKAY || status == BLKIF_RSP_ERROR ||
		       status == BLKIF_RSP_EOPNOTSUPP);
		ASSERT(s[9] == 0);
		for (k = 12; k < entry; k++)
			ASSERT(s[k] == 0);
		(void)rsz;
		for (k = 0; k < g->nr_out && !overrun; k++)
			if (g->out_id[k] == id && g->out_op[k] == s[8])
				break;
		/*
		 * A guest that wrote past the free slots may have them
		 * overwritten by responses before they are taken: which
		 * request was copied is not known any more, only how many.
		 */
		if (overrun)
			k = 0;
		/* The id and operation of a request taken, as copied. */
		if (k == g->nr_out && debug) {
			fprintf(stderr, "response id %llu op %u status %d; "
				"expected:", (unsigned long long)id, s[8],
				status);
			for (k = 0; k < g->nr_out; k++)
				fprintf(stderr, " %llu/%u",
					(unsigned long long)g->out_id[k],
					g->out_op[k]);
			fprintf(stderr, "\n");
			k = g->nr_out;
		}
		ASSERT(k < g->nr_out);
		g->nr_out--;
		g->out_id[k] = g->out_id[g->nr_out];
		g->out_op[k] = g->out_op[g->nr_out];
	}
}

static void publish(unsigned int q)
{
	struct queue *g = &Q[q];
	RING_IDX old = sring(q)->req_prod;

	/* The slots now published, as they are (if the ring holds them). */
	if ((RING_IDX)(g->prod - old) <= size)
		for (RING_IDX i = old; i != g->prod; i++)
			model_slot(q, i);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	sring(q)->req_prod = g->prod;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- Requests ------------------------------------------------------------ */

static uint64_t request_id(struct input *in)
{
	return unique_ids ? next_id++ : u8(in);
}

static uint32_t small_gref(uint8_t b)
{
	/* Mostly data pages; sometimes a ring page, or one never granted. */
	return b < 224 ? b % DATA_PAGES : b % 64u;
}

static void put_rw(struct input *in, uint8_t *s, uint8_t op)
{
	uint8_t nseg = u8(in) % 12, first, last;
	uint64_t sector = u16(in) % 4200u, id = request_id(in);
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];

	memset(seg, 0, sizeof(seg));
	for (unsigned int i = 0; i < nseg && i < 11; i++) {
		uint8_t b = u8(in), fl = u8(in);

		first = fl & 7;
		last = fl & 0x80 ? (fl >> 3) & 15 : 7;
		seg[i].gref = small_gref(b);
		seg[i].first_sect = first;
		seg[i].last_sect = last;
	}
	if (abi == XBD_ABI_X86_64) {
		struct vbd_x86_64_request r;

		memset(&r, 0, sizeof(r));
		r.operation = op;
		r.nr_segments = nseg;
		r.id = id;
		r.sector_number = sector;
		memcpy(r.seg, seg, sizeof(seg));
		memcpy(s, &r, sizeof(r));
	} else {
		struct vbd_x86_32_request r;

		memset(&r, 0, sizeof(r));
		r.operation = op;
		r.nr_segments = nseg;
		r.id = id;
		r.sector_number = sector;
		memcpy(r.seg, seg, sizeof(seg));
		memcpy(s, &r, sizeof(r));
	}
}

static void put_discard(struct input *in, uint8_t *s)
{
	uint8_t flag = u8(in) & 1;
	uint64_t sector = u16(in) % 4200u, n = u16(in) % 4200u;
	uint64_t id = request_id(in);

	if (abi == XBD_ABI_X86_64) {
		struct vbd_x86_64_request_discard r = {
			.operation = BLKIF_OP_DISCARD, .flag = flag, .id = id,
			.sector_number = sector, .nr_sectors = n,
		};
		memcpy(s, &r, sizeof(r));
	} else {
		struct vbd_x86_32_request_discard r;

		memset(&r, 0, sizeof(r));
		r.operation = BLKIF_OP_DISCARD;
		r.flag = flag;
		r.id = id;
		r.sector_number = sector;
		r.nr_sectors = n;
		memcpy(s, &r, sizeof(r));
	}
}

static void put_indirect(struct input *in, uint8_t *s)
{
	static const uint8_t ops[4] = { BLKIF_OP_READ, BLKIF_OP_WRITE,
					BLKIF_OP_FLUSH_DISKCACHE, 99 };
	uint8_t op = u8(in);
	uint16_t nseg = u16(in) % 1100;
	uint64_t sector = u16(in) % 4200u, id = request_id(in);
	uint32_t g[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST] = { 0 };
	unsigned int nind = (nseg + 511) / 512;

	for (unsigned int i = 0; i < nind && i < 8; i++)
		g[i] = small_gref(u8(in));
	if (abi == XBD_ABI_X86_64) {
		struct vbd_x86_64_request_indirect r;

		memset(&r, 0, sizeof(r));
		r.operation = BLKIF_OP_INDIRECT;
		r.indirect_op = ops[op % 4];
		r.nr_segments = nseg;
		r.id = id;
		r.sector_number = sector;
		memcpy(r.indirect_grefs, g, sizeof(g));
		memcpy(s, &r, sizeof(r));
	} else {
		struct vbd_x86_32_request_indirect r;

		memset(&r, 0, sizeof(r));
		r.operation = BLKIF_OP_INDIRECT;
		r.indirect_op = ops[op % 4];
		r.nr_segments = nseg;
		r.id = id;
		r.sector_number = sector;
		memcpy(r.indirect_grefs, g, sizeof(g));
		memcpy(s, &r, sizeof(r));
	}
}

/* One request at queue q's req_prod (not published yet). */
static void put_request(struct input *in, unsigned int q)
{
	static const uint8_t rw_ops[8] = {
		BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_READ, BLKIF_OP_WRITE,
		BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_WRITE_BARRIER,
		BLKIF_OP_RESERVED_1, 42,
	};
	uint8_t how = u8(in);
	uint8_t *s = slot(q, Q[q].prod++);

	memset(s, 0, entry);
	switch (how % 8) {
	case 0: case 1: case 2: case 3:
		put_rw(in, s, rw_ops[(how >> 3) % 8]);
		break;
	case 4:
		put_discard(in, s);
		break;
	case 5: case 6:
		put_indirect(in, s);
		break;
	default:
		bytes(in, s, entry);
	}
}

/*
 * The guest wrote slots that may hold requests published and not taken
 * yet (more than a ring's worth written, req_prod moved back): what the
 * backend will copy is what they hold now.
 */
static void remodel(unsigned int q)
{
	RING_IDX cons = backend_cons(q), prod = sring(q)->req_prod;

	if ((RING_IDX)(prod - cons) <= size)
		for (RING_IDX i = cons; i != prod; i++)
			model_slot(q, i);
}

/* Writes n segments into data page ref (an indirect page). */
static void fill_indirect(struct input *in)
{
	uint32_t ref = u8(in) % DATA_PAGES;
	unsigned int n = u8(in), skip = u8(in) % 4 * 128;
	struct blkif_request_segment *segs = guest_page(ref);

	for (unsigned int i = 0; i < n; i++) {
		uint8_t b = u8(in), fl = u8(in);

		segs[(skip + i) % 512] = (struct blkif_request_segment){
			.gref = small_gref(b), .first_sect = fl & 7,
			.last_sect = fl & 0x80 ? (fl >> 3) & 15 : 7,
		};
	}
}

/* Two bits a data page: 0 not granted, 2 read-only, 1 or 3 writable. */
static void set_grants(uint64_t g)
{
	for (unsigned int r = 0; r < DATA_PAGES; r++, g >>= 2)
		guest_grants[r] = (g & 3) == 2 ? GUEST_GRANT_RO :
				  (g & 3) ? GUEST_GRANT_RW : GUEST_NOT_GRANTED;
}

/* ---- The guest inside the backend's grant maps --------------------------- */

enum {
	MEANWHILE_REWRITE = 1,	/* rewrite slots of requests taken */
	MEANWHILE_REVOKE = 2,	/* withdraw every data grant */
	MEANWHILE_READONLY = 4,	/* make every data grant read-only */
	MEANWHILE_PUBLISH = 8,	/* publish what was written */
};

static uint8_t meanwhile;
static bool hooks_on;

static void check_overrun(void)
{
	for (unsigned int q = 0; q < nr_queues; q++) {
		RING_IDX ahead = sring(q)->req_prod - Q[q].cons;

		if (ahead > size || ahead < (RING_IDX)(backend_cons(q) - Q[q].cons))
			overrun = true;
	}
}

/* Rewrites the slots of requests taken and not answered (any bytes). */
static void rewrite_taken(unsigned int q)
{
	RING_IDX cons = backend_cons(q);
	unsigned int n = stats(q)->in_flight;

	if (n > size)
		n = size;
	for (RING_IDX i = cons - n; i != cons; i++) {
		uint32_t *w = (uint32_t *)slot(q, i);

		for (unsigned int k = 0; k < entry / 4; k++)
			w[k] = next_random();
	}
}

static bool is_ring_ref(uint32_t ref)
{
	return ref >= RING_REF0 && ref < RING_REF0 + 4 * MAX_QUEUES;
}

static void on_copied(uint32_t ref, bool to_guest)
{
	if (to_guest && is_ring_ref(ref))
		clobbered = true;
}

static void on_mapped(const uint32_t *refs, uint32_t count, int prot,
		      void *addr)
{
	if (serving && addr && (prot & PROT_WRITE))
		for (uint32_t i = 0; i < count; i++)
			if (is_ring_ref(refs[i]))
				clobbered = true;
	if (!hooks_on || !meanwhile)
		return;
	if (meanwhile & MEANWHILE_REWRITE)
		for (unsigned int q = 0; q < nr_queues; q++)
			rewrite_taken(q);
	if (meanwhile & MEANWHILE_REVOKE)
		for (unsigned int r = 0; r < DATA_PAGES; r++)
			guest_grants[r] = GUEST_NOT_GRANTED;
	if (meanwhile & MEANWHILE_READONLY)
		for (unsigned int r = 0; r < DATA_PAGES; r++)
			if (guest_grants[r])
				guest_grants[r] = GUEST_GRANT_RO;
	if (meanwhile & MEANWHILE_PUBLISH)
		for (unsigned int q = 0; q < nr_queues; q++)
			publish(q);
	check_overrun();
	/* Once per move: the guest is not that fast. */
	meanwhile = 0;
}

/* ---- Running the worker --------------------------------------------------- */

/* Runs the worker's loop until nothing happens (bounded). */
/*
 * The monotonic clock, the fuzzer's: libev's timers (a storming port
 * stays masked for 2 ms) and the kit's latencies read it, and it moves
 * only in run_worker, so that a step sees the same thing however long it
 * took (under load a real 2 ms passed or not, and an input failed once
 * and passed when run again). Other clocks (libFuzzer's) are the
 * system's. It never goes back, across inputs too: libev would not
 * expect it.
 */
static struct timespec fuzz_now = { .tv_sec = 1000 };

int clock_gettime(clockid_t id, struct timespec *ts)
{
	if (id == CLOCK_MONOTONIC) {
		*ts = fuzz_now;
		return 0;
	}
	return (int)syscall(SYS_clock_gettime, id, ts);
}

static void time_passes(long ns)
{
	fuzz_now.tv_nsec += ns;
	while (fuzz_now.tv_nsec >= 1000000000L) {
		fuzz_now.tv_nsec -= 1000000000L;
		fuzz_now.tv_sec++;
	}
}

static void tick(void)
{
	time_passes(3000000);
}

/*
 * Runs the worker's loop until nothing changes, 3 ms passing each round:
 * more than a masked port waits, so every unmask is due by the end.
 */
static void run_worker(void)
{
	uint64_t last = ~0ull;

	hooks_on = true;
	for (int i = 0; i < 64 && !W.failed && !W.stopped; i++) {
		uint64_t now = ops_done;

		tick();
		for (unsigned int q = 0; q < nr_queues; q++)
			now += stats(q)->requests * 7 + stats(q)->in_flight;
		now += engine.nr_queued * 131 + engine.nr_started * 17;
		ev_run(W.loop, EVRUN_NOWAIT);
		if (now == last)
			break;
		last = now;
	}
	hooks_on = false;
}

/* Completes every operation (in full), until none is left. */
static void settle(void)
{
	for (int round = 0; round < 256 && (engine.nr_started ||
					    engine.nr_queued); round++) {
		if (engine.nr_queued)
			fake_kick(&engine.base);
		while (engine.nr_started)
			complete(engine.nr_started - 1, 0);
		end_batch();
		run_worker();
	}
	ASSERT(!engine.nr_started && !engine.nr_queued);
}

/* What must hold once every operation has completed. */
static void check_idle(void)
{
	int persistent = 0;

	for (unsigned int q = 0; q < nr_queues; q++) {
		consume(q);
		ASSERT(stats(q)->in_flight == 0);
		ASSERT(Q[q].nr_out == 0);
		ASSERT(clobbered || Q[q].cons == backend_cons(q));
		if (V.wd && V.wd->rings[q] && V.wd->rings[q]->grants)
			persistent += vbd_grants_stats(V.wd->rings[q]->grants)
					      ->persistent;
	}
	if (!V.wd)
		return;
	ASSERT(persistent <= (int)(nr_queues * V.opt.max_persistent_grants));
	ASSERT(V.persistent || persistent == 0);
	ASSERT(guest_maps_out ==
	       (int)(nr_queues << order) + persistent);
}

/* ---- One step ------------------------------------------------------------- */

enum {
	MOVE_REQUESTS = 1 << 0,	/* n requests written at req_prod */
	MOVE_PUBLISH = 1 << 1,	/* req_prod published */
	MOVE_RAW_PROD = 1 << 2,	/* req_prod: any value, or ahead by n */
	MOVE_REWRITE = 1 << 3,	/* slots of requests taken rewritten */
	MOVE_RSP_EVENT = 1 << 4,
	MOVE_GRANTS = 1 << 5,
	MOVE_COMPLETE = 1 << 6,	/* I/O operations completed */
	MOVE_KICK = 1 << 7,
	MOVE_INDIRECT = 1 << 8,	/* an indirect page filled */
	MOVE_MEANWHILE = 1 << 9,
	MOVE_RESIZE = 1 << 10,	/* the disk grows */
	MOVE_SETTLE = 1 << 11,	/* every operation completes */
	MOVE_STORM = 1 << 12,	/* events without work */
	MOVE_DRAIN = 1 << 13,	/* the core's drain begins */
	MOVE_REQ_EVENT = 1 << 14,
	MOVE_QUEUE = 1 << 15,	/* the moves are queue 1's */
};

static bool draining;

static void step(struct input *in)
{
	uint16_t flags = u16(in);
	unsigned int q = flags & MOVE_QUEUE && nr_queues > 1 ? 1 : 0;

	if (flags & MOVE_REQUESTS) {
		unsigned int n = u8(in) % (size + 4);

		for (unsigned int i = 0; i < n; i++)
			put_request(in, q);
		remodel(q);
	}
	if (flags & MOVE_RAW_PROD) {
		uint8_t d = u8(in);

		Q[q].prod = d == 0xff ? u32(in) : Q[q].prod + d % 16;
	}
	if (flags & MOVE_INDIRECT)
		fill_indirect(in);
	if (flags & (MOVE_PUBLISH | MOVE_RAW_PROD))
		publish(q);
	check_overrun();
	if (flags & MOVE_REWRITE)
		rewrite_taken(q);
	if (flags & MOVE_RSP_EVENT) {
		uint8_t d = u8(in);

		sring(q)->rsp_event = d == 0xff ? u32(in) : sring(q)->rsp_prod + d;
	}
	if (flags & MOVE_REQ_EVENT)
		sring(q)->req_event = u32(in);
	if (flags & MOVE_GRANTS)
		set_grants(u64(in));
	if (flags & MOVE_RESIZE) {
		uint64_t grow = (uint64_t)(u8(in) + 1) * 4096;

		if (disk_bytes + grow <= DISK_MAX) {
			disk_bytes += grow;
			ASSERT(ftruncate(disk_fd, (off_t)disk_bytes) == 0);
		}
	}
	meanwhile = flags & MOVE_MEANWHILE ? u8(in) : 0;
	if (flags & MOVE_COMPLETE) {
		unsigned int n = u8(in) % 16;

		fake_kick(&engine.base);
		for (unsigned int i = 0; i < n && engine.nr_started; i++) {
			uint8_t pick = u8(in), how = u8(in);

			complete(pick % engine.nr_started, how);
		}
		end_batch();
	}
	if (flags & MOVE_STORM) {
		/* As fast as the backend reads them (a pipe holds only so many). */
		hooks_on = true;
		for (unsigned int i = 0; i < 300; i++) {
			guest_kick(PORT0 + q);
			ev_run(W.loop, EVRUN_NOWAIT);
		}
		hooks_on = false;
	}
	if (flags & MOVE_KICK)
		guest_kick(PORT0 + q);
	if ((flags & MOVE_DRAIN) && !draining) {
		draining = true;
		worker_rings_drain(&W.rings);
	}

	run_worker();
	if (debug)
		fprintf(stderr, "step %#x q%u: prod %u req_prod %u cons %u "
			"taken %u backend %u in_flight %u rsp_prod %u size %u\n",
			flags, q, Q[q].prod, sring(q)->req_prod, Q[q].cons,
			Q[q].taken, backend_cons(q), (unsigned)stats(q)->in_flight,
			sring(q)->rsp_prod, size);
	for (unsigned int k = 0; k < nr_queues; k++)
		consume(k);
	if (W.failed) {
		/*
		 * Only a ring overrun fails a worker that started: one the
		 * guest made, or the backend's own write over a ring page
		 * the guest gave it as data.
		 */
		ASSERT(W.fail_err == EPROTO);
		ASSERT(overrun || clobbered);
	}
	if (flags & MOVE_SETTLE) {
		settle();
		if (!W.failed && !W.stopped)
			check_idle();
	}
}

/* ---- The target ----------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (guest_init())
		abort();
	guest_hooks.mapped = on_mapped;
	guest_hooks.copied = on_copied;
	guest_hooks.tick = tick;
	fuzz_watchdog_install("vbd-ring");
	debug = getenv("VBD_RING_DEBUG") != NULL;
	disk = mmap(NULL, DISK_MAX, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	disk_fd = memfd_create("vbd-ring-disk", MFD_CLOEXEC);
	if (disk == MAP_FAILED || disk_fd < 0)
		abort();
	return 0;
}

static void configure(struct input *in)
{
	static const unsigned int budgets[8] = { 0, 1, 2, 3, 5, 8, 16, 32 };
	static const unsigned int indirect[4] = { 0, 16, 256, 4096 };
	uint8_t c0 = u8(in), c1 = u8(in), c2 = u8(in);
	unsigned int sectors = u16(in) % 4096 + 8;

	abi = c0 & 1 ? XBD_ABI_X86_32 : XBD_ABI_X86_64;
	order = (c0 >> 1 & 3) % 3;
	nr_queues = c0 & 8 ? 2 : 1;
	entry = vbd_abi_entry_size(abi);
	size = vbd_ring_entries(abi, order);
	unique_ids = c1 & 0x80;

	memset(&V, 0, sizeof(V));
	vbd_options_load(&V.opt, NULL, NULL);
	V.opt.io_engine = VBD_ENGINE_THREADS;
	V.opt.io_threads = (c2 & 3) + 1;
	V.opt.batch = budgets[c2 >> 2 & 7];
	V.opt.max_persistent_grants = 1u << (c2 >> 5);
	V.opt.grant_mode = c0 & 16 ? VBD_GRANT_COPY : VBD_GRANT_MAP;
	V.opt.online_resize = c0 & 128;
	V.persistent = (c0 & 32) && V.opt.grant_mode == VBD_GRANT_MAP;
	V.fe.persistent = V.persistent;

	if (c1 & 0x40)
		sectors &= ~7u;
	disk_bytes = (uint64_t)sectors * 512;
	/* Zeroed as far as the last input wrote: 4 MiB each time is slow. */
	memset(disk, 0, disk_dirty);
	disk_dirty = 0;
	ASSERT(ftruncate(disk_fd, 0) == 0);
	ASSERT(ftruncate(disk_fd, (off_t)disk_bytes) == 0);
	V.backing.fd = disk_fd;
	V.backing.size = disk_bytes;
	V.backing.sector_size = c1 & 0x40 ? 4096 : 512;
	V.backing.physical_sector_size = V.backing.sector_size;
	V.backing.readonly = c0 & 64;
	V.lim.nr_sectors = sectors;
	V.lim.sector_size = V.backing.sector_size;
	V.lim.readonly = c0 & 64;
	V.lim.flush = c1 & 1;
	V.lim.barrier = c1 & 2;
	V.lim.discard = (c1 & 4) && !V.lim.readonly;
	V.lim.discard_secure = V.lim.discard && (c1 & 8);
	V.lim.max_indirect_segments = indirect[c1 >> 4 & 3];
	V.max_indirect_segments = V.lim.max_indirect_segments;
	V.discard = V.lim.discard;
	V.fe.rings.abi = abi;
	V.fe.rings.ring_order = order;
	V.fe.rings.nr_queues = nr_queues;
	for (unsigned int q = 0; q < nr_queues; q++) {
		for (unsigned int i = 0; i < (1u << order); i++)
			V.fe.rings.queue[q].ring_ref[i] = RING_REF0 + 4 * q + i;
		V.fe.rings.queue[q].evtchn = PORT0 + q;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct input in = { data, n };

	fuzz_watchdog_arm(true);
	configure(&in);
	start = u32(&in);
	random_state = u32(&in) | 1;
	next_id = 0x1000;
	draining = false;
	overrun = clobbered = false;
	ops_done = 0;
	meanwhile = 0;

	guest_worker_reset(vbd_worker_stop, &V);
	W.rings.nr_ops = VBD_OP_OTHER + 1;
	memset(guest_grants, 0, sizeof(guest_grants));
	memset(guest_mem, 0, (size_t)GUEST_PAGES * GUEST_PAGE_SIZE);
	set_grants(u64(&in));
	memset(Q, 0, sizeof(Q));
	for (unsigned int q = 0; q < nr_queues; q++) {
		blkif_sring_t *sr = sring(q);

		for (unsigned int i = 0; i < (1u << order); i++)
			guest_grants[RING_REF0 + 4 * q + i] = GUEST_GRANT_RW;
		sr->req_prod = sr->rsp_prod = start;
		sr->req_event = sr->rsp_event = start + 1;
		Q[q].prod = Q[q].cons = Q[q].taken = start;
	}
	/* Requests waiting before the worker maps the ring: a takeover. */
	{
		unsigned int k = u8(&in) % 8;

		for (unsigned int i = 0; i < k; i++)
			put_request(&in, 0);
		publish(0);
	}

	ASSERT(vbd_worker_start(&W) == 0);
	serving = true;
	ASSERT(guest_maps_out == (int)(nr_queues << order));
	ASSERT(guest_bound == (int)nr_queues);

	for (int i = 0; i < MAX_STEPS && in.n && !W.failed && !W.stopped; i++)
		step(&in);

	/* Every operation completes; then the core's drain. */
	settle();
	if (!W.failed && !W.stopped)
		check_idle();
	ASSERT(guest_worker_drain());
	serving = false;
	for (unsigned int q = 0; q < nr_queues; q++) {
		consume(q);
		ASSERT(Q[q].nr_out == 0);
	}
	ASSERT(V.wd == NULL);
	ASSERT(W.rings.head == NULL);
	ASSERT(guest_maps_out == 0);
	ASSERT(guest_bound == 0);
	ASSERT(!engine.live);
	fuzz_watchdog_arm(false);
	return 0;
}
