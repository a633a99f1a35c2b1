/* SPDX-License-Identifier: MIT */
/*
 * The block class's worker side (ring.c, dispatch.c, grants.c, io*.c,
 * worker.c) on the kit's rings (src/ring.c) in one process, against an
 * in-process guest: its memory is a memfd, its grant table an array
 * (read-only grants, bad refs), its event channel a pipe. The test plays
 * blkfront, writing requests into the shared ring in either ABI, and
 * checks responses, data on the backing file, mappings left, and faults.
 * Both I/O engines.
 *
 * The worker process (src/worker.c: xbd_worker_*) and libxengnttab /
 * libxenevtchn are replaced here, at link time; the rings, their event
 * routing and the core's drain are the daemon's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "check.h"
#include "vbd/vbd.h"
#include "vbd/worker.h"
#include "worker-rings.h"
#include "worker.h"

#define DOMID 5
#define GUEST_PAGES 4096
#define DISK_SIZE (8u << 20)

/* ---- The guest: memory and grants ------------------------------------ */

static int guest_fd;
static unsigned char *guest;		/* the guest's own view */
static unsigned char grant_state[GUEST_PAGES];	/* 0 none, 1 rw, 2 ro */
static int maps_out;			/* pages mapped by the backend now */
static int map_calls;

static void grant(uint32_t ref, bool readonly)
{
	grant_state[ref] = readonly ? 2 : 1;
}

static void *page(uint32_t ref)
{
	return guest + (size_t)ref * 4096;
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
				      uint32_t domid, uint32_t *refs, int prot)
{
	unsigned char *base;
	uint32_t i;

	map_calls++;
	if (domid != DOMID || count == 0 || count > 1024) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < count; i++) {
		if (refs[i] >= GUEST_PAGES || !grant_state[refs[i]] ||
		    ((prot & PROT_WRITE) && grant_state[refs[i]] == 2)) {
			errno = EINVAL;
			return NULL;
		}
	}
	base = mmap(NULL, (size_t)count * 4096, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	for (i = 0; i < count; i++)
		if (mmap(base + (size_t)i * 4096, 4096, prot,
			 MAP_SHARED | MAP_FIXED, guest_fd,
			 (off_t)refs[i] * 4096) == MAP_FAILED)
			abort();
	maps_out += count;
	return base;
}

void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid,
			      uint32_t ref, int prot)
{
	return xengnttab_map_domain_grant_refs(h, 1, domid, &ref, prot);
}

int xengnttab_unmap(xengnttab_handle *h, void *addr, uint32_t count)
{
	maps_out -= count;
	CHECK(maps_out >= 0);
	return munmap(addr, (size_t)count * 4096);
}

int xengnttab_grant_copy(xengnttab_handle *h, uint32_t count,
			 xengnttab_grant_copy_segment_t *segs)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		xengnttab_grant_copy_segment_t *c = &segs[i];
		bool to_guest = c->flags & GNTCOPY_dest_gref;
		union xengnttab_copy_ptr *f = to_guest ? &c->dest : &c->source;

		if (f->foreign.domid != DOMID || f->foreign.ref >= GUEST_PAGES ||
		    !grant_state[f->foreign.ref] ||
		    (to_guest && grant_state[f->foreign.ref] == 2) ||
		    f->foreign.offset + c->len > 4096) {
			c->status = GNTST_general_error;
			continue;
		}
		if (to_guest)
			memcpy((char *)page(f->foreign.ref) + f->foreign.offset,
			       c->source.virt, c->len);
		else
			memcpy(c->dest.virt,
			       (char *)page(f->foreign.ref) + f->foreign.offset,
			       c->len);
		c->status = GNTST_okay;
	}
	return 0;
}

/* ---- The event channel ----------------------------------------------- */

static int evt_pipe[2];
static int notifies;		/* backend -> frontend */
static int bound;
static int unmasks;

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h,
						     uint32_t domid,
						     evtchn_port_t remote)
{
	if (domid != DOMID || remote == 666) {
		errno = EINVAL;
		return -1;
	}
	bound++;
	return (xenevtchn_port_or_error_t)(remote + 1000);
}

int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	bound--;
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *h)
{
	return evt_pipe[0];
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	uint32_t port;

	if (read(evt_pipe[0], &port, sizeof(port)) != sizeof(port)) {
		errno = EAGAIN;
		return -1;
	}
	return (xenevtchn_port_or_error_t)port;
}

int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	unmasks++;
	return 0;
}

int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	notifies++;
	return 0;
}

/* The frontend kicks queue q (remote port 10 + q). */
static void kick(unsigned int q)
{
	uint32_t port = 10 + q + 1000;

	CHECK_EQ(write(evt_pipe[1], &port, sizeof(port)), sizeof(port));
}

/* ---- The worker process (src/worker.c) -------------------------------- */

struct xbd_worker {
	struct vbd_device *priv;
	struct ev_loop *loop;
	struct stats_area area;
	struct xbd_ring_stats *stats;	/* area.ring */
	struct worker_rings rings;
	bool failed, stopped;
	int fail_err;
};

static struct xbd_worker W;

struct worker_rings *worker_rings(struct xbd_worker *w) { return &w->rings; }
bool xbd_worker_failed(const struct xbd_worker *w) { return w->failed; }

void *xbd_worker_priv(struct xbd_worker *w) { return w->priv; }
const char *xbd_worker_name(const struct xbd_worker *w) { return "vbd/5/51712"; }
unsigned int xbd_worker_frontend_id(const struct xbd_worker *w) { return DOMID; }
struct ev_loop *xbd_worker_loop(struct xbd_worker *w) { return w->loop; }
xengnttab_handle *xbd_worker_gnttab(struct xbd_worker *w) { return (void *)1; }
xenevtchn_handle *xbd_worker_evtchn(struct xbd_worker *w) { return (void *)2; }

void xbd_worker_fail(struct xbd_worker *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (getenv("XBD_TEST_VERBOSE")) {
		va_start(ap, fmt);
		fprintf(stderr, "worker fail: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	w->failed = true;
	w->fail_err = err;
	ev_break(w->loop, EVBREAK_ALL);
}

void xbd_worker_stopped(struct xbd_worker *w)
{
	w->stopped = true;
	ev_break(w->loop, EVBREAK_ALL);
}

/* ---- The frontend ------------------------------------------------------ */

struct front {
	enum xbd_abi abi;
	unsigned int order, nr_queues, size;
	uint32_t ring_ref[XBD_MAX_QUEUES];	/* first page of each ring */
	RING_IDX req_prod[XBD_MAX_QUEUES], rsp_cons[XBD_MAX_QUEUES];
};

static struct front F;
static struct vbd_device V;
static int disk_fd;
static uint32_t next_page = 64;		/* guest pages for data */

static blkif_sring_t *sring(unsigned int q)
{
	return page(F.ring_ref[q]);
}

static unsigned char *slot(unsigned int q, RING_IDX i)
{
	return (unsigned char *)sring(q) + XBD_RING_HEADER_SIZE +
	       (i & (F.size - 1)) * vbd_abi_entry_size(F.abi);
}

static uint32_t alloc_pages(unsigned int n)
{
	uint32_t p = next_page;

	next_page += n;
	if (next_page >= GUEST_PAGES)
		abort();
	return p;
}

/* A read/write style request in the frontend's ABI. */
static void put_rw(unsigned int q, uint8_t op, uint64_t id, uint64_t sector,
		   unsigned int nseg, const uint32_t *grefs, uint8_t first,
		   uint8_t last)
{
	unsigned char *s = slot(q, F.req_prod[q]++);
	unsigned int i;

	memset(s, 0, vbd_abi_entry_size(F.abi));
	if (F.abi == XBD_ABI_X86_64) {
		struct vbd_x86_64_request r;

		memset(&r, 0, sizeof(r));
		r.operation = op;
		r.nr_segments = (uint8_t)nseg;
		r.id = id;
		r.sector_number = sector;
		for (i = 0; i < nseg && i < 11; i++) {
			r.seg[i].gref = grefs[i];
			r.seg[i].first_sect = first;
			r.seg[i].last_sect = last;
		}
		memcpy(s, &r, sizeof(r));
	} else {
		struct vbd_x86_32_request r;
		struct blkif_request_segment seg[11];

		memset(&r, 0, sizeof(r));
		memset(seg, 0, sizeof(seg));
		r.operation = op;
		r.nr_segments = (uint8_t)nseg;
		r.id = id;
		r.sector_number = sector;
		for (i = 0; i < nseg && i < 11; i++) {
			seg[i].gref = grefs[i];
			seg[i].first_sect = first;
			seg[i].last_sect = last;
		}
		memcpy(r.seg, seg, sizeof(seg));
		memcpy(s, &r, sizeof(r));
	}
}

static void put_discard(unsigned int q, uint64_t id, uint64_t sector,
			uint64_t n)
{
	unsigned char *s = slot(q, F.req_prod[q]++);

	memset(s, 0, vbd_abi_entry_size(F.abi));
	if (F.abi == XBD_ABI_X86_64) {
		struct vbd_x86_64_request_discard r = {
			.operation = BLKIF_OP_DISCARD, .id = id,
			.sector_number = sector, .nr_sectors = n,
		};
		memcpy(s, &r, sizeof(r));
	} else {
		struct vbd_x86_32_request_discard r;

		memset(&r, 0, sizeof(r));
		r.operation = BLKIF_OP_DISCARD;
		r.id = id;
		r.sector_number = sector;
		r.nr_sectors = n;
		memcpy(s, &r, sizeof(r));
	}
}

static void put_indirect(unsigned int q, uint8_t op, uint64_t id,
			 uint64_t sector, unsigned int nseg,
			 const uint32_t *ind, unsigned int nind)
{
	unsigned char *s = slot(q, F.req_prod[q]++);
	unsigned int i;

	memset(s, 0, vbd_abi_entry_size(F.abi));
	if (F.abi == XBD_ABI_X86_64) {
		struct vbd_x86_64_request_indirect r;

		memset(&r, 0, sizeof(r));
		r.operation = BLKIF_OP_INDIRECT;
		r.indirect_op = op;
		r.nr_segments = (uint16_t)nseg;
		r.id = id;
		r.sector_number = sector;
		for (i = 0; i < nind; i++)
			r.indirect_grefs[i] = ind[i];
		memcpy(s, &r, sizeof(r));
	} else {
		struct vbd_x86_32_request_indirect r;
		uint32_t g[8] = { 0 };

		memset(&r, 0, sizeof(r));
		r.operation = BLKIF_OP_INDIRECT;
		r.indirect_op = op;
		r.nr_segments = (uint16_t)nseg;
		r.id = id;
		r.sector_number = sector;
		for (i = 0; i < nind; i++)
			g[i] = ind[i];
		memcpy(r.indirect_grefs, g, sizeof(g));
		memcpy(s, &r, sizeof(r));
	}
}

static void push(unsigned int q)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	sring(q)->req_prod = F.req_prod[q];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	kick(q);
}

struct rsp {
	uint64_t id;
	uint8_t op;
	int16_t status;
};

/* Runs the loop until n responses are on queue q (or 10 s). */
static int collect(unsigned int q, struct rsp *out, int n)
{
	ev_tstamp start = ev_time();
	int got = 0;

	while (got < n && ev_time() - start < 10 && !W.failed) {
		RING_IDX prod;

		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		prod = sring(q)->rsp_prod;
		while (F.rsp_cons[q] != prod && got < n) {
			unsigned char *s = slot(q, F.rsp_cons[q]++);

			memcpy(&out[got].id, s, 8);
			out[got].op = s[8];
			memcpy(&out[got].status, s + 10, 2);
			got++;
		}
		if (got < n)
			ev_run(W.loop, EVRUN_ONCE);
	}
	return got;
}

static int16_t one(unsigned int q, uint64_t id)
{
	struct rsp r;

	push(q);
	if (collect(q, &r, 1) != 1)
		return 99;
	CHECK_EQ(r.id, id);
	return r.status;
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i * 13 + (i >> 12));
}

/*
 * Connects a device: backing file of DISK_SIZE, queues and order as
 * given, the frontend's ring(s) granted and initialised with start as
 * their indexes (a takeover when nonzero).
 */
static enum vbd_grant_mode grant_mode;

static void connect(enum xbd_abi abi, unsigned int order, unsigned int queues,
		    enum vbd_io_engine_kind engine, bool readonly,
		    bool persistent, RING_IDX start)
{
	char path[] = "/tmp/test-vbd-worker.XXXXXX";
	unsigned int q, i;

	memset(&F, 0, sizeof(F));
	memset(&V, 0, sizeof(V));
	memset(&W.area, 0, sizeof(W.area));
	W.stats = W.area.ring;
	W.failed = W.stopped = false;
	/* A fresh worker: as worker_main() does, with the class's stop. */
	worker_rings_init(&W.rings, &W, &W.area, vbd_worker_stop);
	F.abi = abi;
	F.order = order;
	F.nr_queues = queues;
	F.size = vbd_ring_entries(abi, order);

	disk_fd = mkostemp(path, O_CLOEXEC);
	unlink(path);
	CHECK_EQ(ftruncate(disk_fd, DISK_SIZE), 0);

	vbd_options_load(&V.opt, NULL, NULL);
	V.opt.io_engine = engine;
	V.opt.io_threads = 3;
	V.opt.grant_mode = grant_mode;
	if (grant_mode == VBD_GRANT_COPY)
		persistent = false;
	V.backing.fd = disk_fd;
	V.backing.size = DISK_SIZE;
	V.backing.sector_size = 512;
	V.backing.physical_sector_size = 512;
	V.backing.readonly = readonly;
	V.backing.discard = !readonly;
	V.discard = !readonly;
	V.max_indirect_segments = 256;
	V.persistent = persistent;
	V.lim.nr_sectors = DISK_SIZE >> 9;
	V.lim.sector_size = 512;
	V.lim.readonly = readonly;
	V.lim.flush = V.lim.barrier = true;
	V.lim.discard = !readonly;
	V.lim.max_indirect_segments = 256;
	V.fe.rings.abi = abi;
	V.fe.rings.ring_order = order;
	V.fe.rings.nr_queues = queues;
	V.fe.persistent = persistent;
	for (q = 0; q < queues; q++) {
		uint32_t first = alloc_pages(1u << order);

		F.ring_ref[q] = first;
		memset(page(first), 0, (size_t)4096 << order);
		for (i = 0; i < (1u << order); i++) {
			grant(first + i, false);
			V.fe.rings.queue[q].ring_ref[i] = first + i;
		}
		V.fe.rings.queue[q].evtchn = 10 + q;
		sring(q)->req_prod = sring(q)->rsp_prod = start;
		sring(q)->req_event = sring(q)->rsp_event = start + 1;
		F.req_prod[q] = F.rsp_cons[q] = start;
	}
	W.priv = &V;
}

static void start_worker(void)
{
	CHECK_EQ(vbd_worker_start(&W), 0);
	CHECK_EQ(bound, (int)F.nr_queues);
}

/* Drains and checks that nothing is left behind. */
static void finish(void)
{
	ev_tstamp start = ev_time();

	if (W.failed) {
		/*
		 * The process would exit; here, let the I/O still running
		 * end, and drain as the core does.
		 */
		struct vbd_worker_dev *wd = V.wd;
		unsigned int i;

		for (i = 0; i < wd->nr_rings; i++)
			while (xbd_ring_in_flight(wd->rings[i]->ring) &&
			       ev_time() - start < 10)
				ev_run(W.loop, EVRUN_ONCE);
		W.failed = false;
	}
	/* As worker.c's start_drain with no worker_drain: the core's. */
	worker_rings_drain(&W.rings);
	while (!W.stopped && ev_time() - start < 10)
		ev_run(W.loop, EVRUN_ONCE);
	CHECK(W.stopped);
	CHECK(V.wd == NULL);
	CHECK(W.rings.head == NULL);
	CHECK_EQ(maps_out, 0);
	CHECK_EQ(bound, 0);
	close(disk_fd);
	/* Forget the guest's grants of this round. */
	memset(grant_state, 0, sizeof(grant_state));
	next_page = 64;
}

/* ---- Scenarios ---------------------------------------------------------- */

/* Writes then reads back 11 segments, checks the file and the guest. */
static void rw_roundtrip(unsigned int q, uint64_t sector, unsigned int seed)
{
	uint32_t g[11], r[11];
	unsigned char buf[4096];
	unsigned int i;

	for (i = 0; i < 11; i++) {
		g[i] = alloc_pages(1);
		grant(g[i], true);	/* the disk write only reads it */
		fill(page(g[i]), 4096, seed + i);
		r[i] = alloc_pages(1);
		grant(r[i], false);
		memset(page(r[i]), 0, 4096);
	}
	put_rw(q, BLKIF_OP_WRITE, 100 + seed, sector, 11, g, 0, 7);
	CHECK_EQ(one(q, 100 + seed), BLKIF_RSP_OKAY);
	for (i = 0; i < 11; i++) {
		CHECK_EQ(pread(disk_fd, buf, 4096,
			       (off_t)(sector * 512 + i * 4096)), 4096);
		CHECK(!memcmp(buf, page(g[i]), 4096));
	}
	put_rw(q, BLKIF_OP_READ, 200 + seed, sector, 11, r, 0, 7);
	CHECK_EQ(one(q, 200 + seed), BLKIF_RSP_OKAY);
	for (i = 0; i < 11; i++)
		CHECK(!memcmp(page(r[i]), page(g[i]), 4096));
}

static void basic(enum xbd_abi abi, enum vbd_io_engine_kind engine)
{
	uint32_t g;
	unsigned char buf[4096];
	struct rsp rs[40];
	int i;

	connect(abi, 0, 1, engine, false, false, 0);
	start_worker();
	rw_roundtrip(0, 0, 1);
	rw_roundtrip(0, (DISK_SIZE >> 9) - 88, 2);	/* the very end */
	CHECK_EQ(W.stats[0].requests, 4);
	CHECK_EQ(W.stats[0].counter[VBD_COUNT_WRITE_BYTES], 2 * 11 * 4096);
	CHECK_EQ(W.stats[0].counter[VBD_COUNT_READ_BYTES], 2 * 11 * 4096);
	CHECK_EQ(W.stats[0].errors, 0);
	CHECK_EQ(W.stats[0].in_flight, 0);

	/* Partial pages: sectors 2..5 of a page land at sector 7. */
	g = alloc_pages(1);
	grant(g, false);
	fill(page(g), 4096, 9);
	put_rw(0, BLKIF_OP_WRITE, 7, 7, 1, &g, 2, 5);
	CHECK_EQ(one(0, 7), BLKIF_RSP_OKAY);
	CHECK_EQ(pread(disk_fd, buf, 2048, 7 * 512), 2048);
	CHECK(!memcmp(buf, (char *)page(g) + 1024, 2048));

	/* Flush and barrier, with and without data. */
	put_rw(0, BLKIF_OP_FLUSH_DISKCACHE, 8, 0, 0, NULL, 0, 0);
	CHECK_EQ(one(0, 8), BLKIF_RSP_OKAY);
	put_rw(0, BLKIF_OP_WRITE_BARRIER, 9, 0, 0, NULL, 0, 0);
	CHECK_EQ(one(0, 9), BLKIF_RSP_OKAY);
	put_rw(0, BLKIF_OP_WRITE_BARRIER, 10, 64, 1, &g, 0, 7);
	CHECK_EQ(one(0, 10), BLKIF_RSP_OKAY);
	CHECK_EQ(pread(disk_fd, buf, 4096, 64 * 512), 4096);
	CHECK(!memcmp(buf, page(g), 4096));

	/* Discard: zeros, size unchanged. */
	put_discard(0, 11, 64, 8);
	CHECK_EQ(one(0, 11), BLKIF_RSP_OKAY);
	CHECK_EQ(pread(disk_fd, buf, 4096, 64 * 512), 4096);
	for (i = 0; i < 4096 && !buf[i]; i++)
		;
	CHECK_EQ(i, 4096);

	/* A full ring of writes, a flush and a barrier in one batch. */
	notifies = 0;
	for (i = 0; i < 30; i++)
		put_rw(0, BLKIF_OP_WRITE, 1000 + i, (uint64_t)i * 8, 1, &g, 0, 7);
	put_rw(0, BLKIF_OP_FLUSH_DISKCACHE, 2000, 0, 0, NULL, 0, 0);
	put_rw(0, BLKIF_OP_WRITE_BARRIER, 2001, 0, 0, NULL, 0, 0);
	push(0);
	CHECK_EQ(collect(0, rs, 32), 32);
	for (i = 0; i < 32; i++)
		CHECK_EQ(rs[i].status, BLKIF_RSP_OKAY);
	/* The flush follows every write before it, the barrier everything. */
	CHECK_EQ(rs[30].id == 2000 || rs[31].id == 2000, 1);
	CHECK_EQ(rs[31].id == 2001 || rs[30].id == 2001, 1);
	CHECK(notifies <= 32);
	finish();
}

/* Indirect requests: 256 segments written and read back. */
static void indirect(enum xbd_abi abi, enum vbd_io_engine_kind engine,
		     bool persistent)
{
	enum { N = 256 };
	uint32_t ind, data, back, ind2;
	struct blkif_request_segment *segs;
	unsigned int i;

	connect(abi, 1, 1, engine, false, persistent, 0);
	start_worker();
	data = alloc_pages(N);
	back = alloc_pages(N);
	ind = alloc_pages(1);
	ind2 = alloc_pages(1);
	grant(ind, true);
	grant(ind2, true);
	segs = page(ind);
	for (i = 0; i < N; i++) {
		grant(data + i, false);
		grant(back + i, false);
		fill(page(data + i), 4096, 50 + i);
		segs[i] = (struct blkif_request_segment){ data + i, 0, 7 };
		((struct blkif_request_segment *)page(ind2))[i] =
			(struct blkif_request_segment){ back + i, 0, 7 };
	}
	put_indirect(0, BLKIF_OP_WRITE, 1, 8, N, &ind, 1);
	CHECK_EQ(one(0, 1), BLKIF_RSP_OKAY);
	put_indirect(0, BLKIF_OP_READ, 2, 8, N, &ind2, 1);
	CHECK_EQ(one(0, 2), BLKIF_RSP_OKAY);
	for (i = 0; i < N; i++)
		CHECK(!memcmp(page(back + i), page(data + i), 4096));
	{
		unsigned char buf[4096];

		CHECK_EQ(pread(disk_fd, buf, 4096, 8 * 512 + 100 * 4096), 4096);
		CHECK(!memcmp(buf, page(data + 100), 4096));
	}
	/* Too many segments, a bad indirect page: error responses. */
	put_indirect(0, BLKIF_OP_READ, 3, 0, N + 1, &ind2, 1);
	CHECK_EQ(one(0, 3), BLKIF_RSP_ERROR);
	{
		uint32_t bad = GUEST_PAGES + 5;

		put_indirect(0, BLKIF_OP_READ, 4, 0, 8, &bad, 1);
		CHECK_EQ(one(0, 4), BLKIF_RSP_ERROR);
	}
	if (persistent && grant_mode == VBD_GRANT_MAP) {
		/* Reused grants: the second time, nothing new is mapped. */
		int calls = map_calls;

		put_indirect(0, BLKIF_OP_READ, 5, 8, N, &ind2, 1);
		CHECK_EQ(one(0, 5), BLKIF_RSP_OKAY);
		CHECK_EQ(map_calls - calls, 1);	/* the indirect page only */
		CHECK(maps_out >= 2 * N);	/* kept until disconnect */
	}
	finish();
}

/* Several queues and a multi-page ring, each queue its own channel. */
static void queues(enum xbd_abi abi, enum vbd_io_engine_kind engine)
{
	unsigned int q;

	connect(abi, 2, 3, engine, false, false, 0);
	start_worker();
	CHECK_EQ(W.area.nr_rings, 3);
	CHECK_EQ(F.size, 128);
	for (q = 0; q < 3; q++)
		rw_roundtrip(q, q * 1024, 10 + q);
	for (q = 0; q < 3; q++)
		CHECK_EQ(W.stats[q].requests, 2);
	finish();
}

/* What a hostile or broken frontend gets: error answers, no leaks. */
static void hostile(enum xbd_abi abi, enum vbd_io_engine_kind engine)
{
	uint32_t g = 0, ro = 0, bad = GUEST_PAGES + 100;
	unsigned char buf[4096], zero[4096];

	connect(abi, 0, 1, engine, false, false, 0);
	start_worker();
	g = alloc_pages(1);
	grant(g, false);
	ro = alloc_pages(1);
	grant(ro, true);
	memset(zero, 0, sizeof(zero));

	put_rw(0, BLKIF_OP_READ, 1, 0, 1, &bad, 0, 7);
	CHECK_EQ(one(0, 1), BLKIF_RSP_ERROR);		/* bad grant ref */
	put_rw(0, BLKIF_OP_READ, 2, 0, 1, &ro, 0, 7);
	CHECK_EQ(one(0, 2), BLKIF_RSP_ERROR);		/* read into r/o page */
	put_rw(0, BLKIF_OP_WRITE, 3, 0, 1, &ro, 0, 7);
	CHECK_EQ(one(0, 3), BLKIF_RSP_OKAY);		/* write from it: fine */
	put_rw(0, BLKIF_OP_READ, 4, DISK_SIZE >> 9, 1, &g, 0, 7);
	CHECK_EQ(one(0, 4), BLKIF_RSP_ERROR);		/* past the end */
	put_rw(0, BLKIF_OP_READ, 5, UINT64_MAX - 2, 1, &g, 0, 7);
	CHECK_EQ(one(0, 5), BLKIF_RSP_ERROR);		/* overflowing */
	put_rw(0, BLKIF_OP_READ, 6, 0, 1, &g, 5, 4);
	CHECK_EQ(one(0, 6), BLKIF_RSP_ERROR);		/* first > last */
	put_rw(0, BLKIF_OP_READ, 7, 0, 1, &g, 0, 8);
	CHECK_EQ(one(0, 7), BLKIF_RSP_ERROR);		/* past the page */
	put_rw(0, BLKIF_OP_READ, 8, 0, 0, &g, 0, 7);
	CHECK_EQ(one(0, 8), BLKIF_RSP_ERROR);		/* no segments */
	put_rw(0, 42, 9, 0, 1, &g, 0, 7);
	CHECK_EQ(one(0, 9), BLKIF_RSP_EOPNOTSUPP);	/* unknown op */
	{
		/* One bad grant among good ones: nothing stays mapped. */
		uint32_t mix[3] = { g, bad, g };

		put_rw(0, BLKIF_OP_WRITE, 10, 0, 3, mix, 0, 7);
		CHECK_EQ(one(0, 10), BLKIF_RSP_ERROR);
		CHECK_EQ(maps_out, 1);			/* the ring only */
	}
	CHECK_EQ(W.stats[0].errors, 9);
	CHECK(!W.failed);

	/* An event storm: rate limited, then service as usual. */
	{
		int i, before = unmasks;

		for (i = 0; i < 2000; i++)
			kick(0);
		for (i = 0; i < 3000; i++)
			ev_run(W.loop, EVRUN_NOWAIT);
		CHECK(unmasks - before < 2000);
		put_rw(0, BLKIF_OP_READ, 11, 0, 1, &g, 0, 7);
		CHECK_EQ(one(0, 11), BLKIF_RSP_OKAY);
	}

	/* req_prod more than a ring ahead: the device is shut. */
	sring(0)->req_prod = F.req_prod[0] + F.size + 1;
	kick(0);
	{
		ev_tstamp t = ev_time();

		while (!W.failed && ev_time() - t < 5)
			ev_run(W.loop, EVRUN_ONCE);
	}
	CHECK(W.failed);
	CHECK_EQ(W.fail_err, EPROTO);
	finish();

	/* A read-only device refuses writes and writes nothing. */
	connect(abi, 0, 1, engine, true, false, 0);
	start_worker();
	g = alloc_pages(1);
	grant(g, false);
	fill(page(g), 4096, 77);
	put_rw(0, BLKIF_OP_WRITE, 20, 0, 1, &g, 0, 7);
	CHECK_EQ(one(0, 20), BLKIF_RSP_ERROR);
	put_discard(0, 21, 0, 8);
	CHECK_EQ(one(0, 21), BLKIF_RSP_EOPNOTSUPP);
	CHECK_EQ(pread(disk_fd, buf, 4096, 0), 4096);
	CHECK(!memcmp(buf, zero, 4096));
	put_rw(0, BLKIF_OP_READ, 22, 0, 1, &g, 0, 7);
	CHECK_EQ(one(0, 22), BLKIF_RSP_OKAY);
	CHECK(!memcmp(page(g), zero, 4096));
	finish();

	/* A ring that cannot be mapped or bound: a fault at start. */
	connect(abi, 0, 1, engine, false, false, 0);
	V.fe.rings.queue[0].ring_ref[0] = bad;
	CHECK_EQ(vbd_worker_start(&W), -1);
	CHECK(W.failed);
	CHECK_EQ(W.fail_err, EINVAL);
	CHECK_EQ(maps_out, 0);
	CHECK(V.wd == NULL);
	CHECK(W.rings.head == NULL);
	close(disk_fd);
	connect(abi, 0, 1, engine, false, false, 0);
	V.fe.rings.queue[0].evtchn = 666;
	CHECK_EQ(vbd_worker_start(&W), -1);
	CHECK(W.failed);
	CHECK_EQ(maps_out, 0);
	CHECK_EQ(bound, 0);
	CHECK(V.wd == NULL);
	close(disk_fd);
	/* The second queue fails: the first is unmapped and unbound too. */
	connect(abi, 1, 2, engine, false, false, 0);
	V.fe.rings.queue[1].evtchn = 666;
	CHECK_EQ(vbd_worker_start(&W), -1);
	CHECK(W.failed);
	CHECK_EQ(maps_out, 0);
	CHECK_EQ(bound, 0);
	CHECK(V.wd == NULL);
	CHECK(W.rings.head == NULL);
	close(disk_fd);
	memset(grant_state, 0, sizeof(grant_state));
	next_page = 64;
}

/*
 * A worker taking over a live ring (daemon restart): the ring's indexes
 * are far from zero and requests wait there with no event pending.
 */
static void takeover(enum xbd_abi abi, enum vbd_io_engine_kind engine)
{
	RING_IDX start = 0xfffffff0u;	/* wraps while we run */
	struct rsp rs[20];
	uint32_t g;
	int i;

	connect(abi, 0, 1, engine, false, false, start);
	g = alloc_pages(1);
	grant(g, false);
	for (i = 0; i < 20; i++)
		put_rw(0, BLKIF_OP_WRITE, 300 + i, (uint64_t)i * 8, 1, &g, 0, 7);
	sring(0)->req_prod = F.req_prod[0];	/* no kick */
	start_worker();
	CHECK_EQ(collect(0, rs, 20), 20);
	{
		unsigned int seen = 0;

		/* Answered in completion order: each id once. */
		for (i = 0; i < 20; i++) {
			CHECK(rs[i].id >= 300 && rs[i].id < 320);
			seen |= 1u << (rs[i].id - 300);
			CHECK_EQ(rs[i].status, BLKIF_RSP_OKAY);
		}
		CHECK_EQ(seen, 0xfffff);
	}
	CHECK_EQ(sring(0)->rsp_prod, start + 20);
	finish();
}

/* Online resize: the file grows, a request past the old end works. */
static void resize(enum xbd_abi abi, enum vbd_io_engine_kind engine)
{
	uint32_t g;

	connect(abi, 0, 1, engine, false, false, 0);
	start_worker();
	g = alloc_pages(1);
	grant(g, false);
	put_rw(0, BLKIF_OP_READ, 1, DISK_SIZE >> 9, 1, &g, 0, 7);
	CHECK_EQ(one(0, 1), BLKIF_RSP_ERROR);
	CHECK_EQ(ftruncate(disk_fd, DISK_SIZE * 2), 0);
	put_rw(0, BLKIF_OP_READ, 2, DISK_SIZE >> 9, 1, &g, 0, 7);
	CHECK_EQ(one(0, 2), BLKIF_RSP_OKAY);
	put_rw(0, BLKIF_OP_WRITE, 3, (DISK_SIZE >> 8) - 8, 1, &g, 0, 7);
	CHECK_EQ(one(0, 3), BLKIF_RSP_OKAY);
	/* Shrunk under the guest: an error answer, nothing worse. */
	CHECK_EQ(ftruncate(disk_fd, DISK_SIZE / 2), 0);
	put_rw(0, BLKIF_OP_READ, 4, (DISK_SIZE >> 9) - 8, 1, &g, 0, 7);
	CHECK_EQ(one(0, 4), BLKIF_RSP_ERROR);
	put_rw(0, BLKIF_OP_READ, 5, 0, 1, &g, 0, 7);
	CHECK_EQ(one(0, 5), BLKIF_RSP_OKAY);
	finish();
}

/* Drain with I/O in flight: every request answered before stopping. */
static void drain_in_flight(enum xbd_abi abi, enum vbd_io_engine_kind engine)
{
	struct rsp rs[32];
	uint32_t g;
	int i;

	connect(abi, 0, 1, engine, false, false, 0);
	start_worker();
	g = alloc_pages(11);
	for (i = 0; i < 11; i++)
		grant(g + i, false);
	{
		uint32_t refs[11];

		for (i = 0; i < 11; i++)
			refs[i] = g + i;
		for (i = 0; i < 32; i++)
			put_rw(0, i % 2 ? BLKIF_OP_READ : BLKIF_OP_WRITE, i,
			       (uint64_t)i * 88, 11, refs, 0, 7);
	}
	push(0);
	ev_run(W.loop, EVRUN_ONCE);	/* taken, I/O started */
	worker_rings_drain(&W.rings);
	{
		ev_tstamp t = ev_time();

		while (!W.stopped && ev_time() - t < 10)
			ev_run(W.loop, EVRUN_ONCE);
	}
	CHECK(W.stopped);
	CHECK_EQ(maps_out, 0);
	CHECK_EQ(bound, 0);
	/* Everything taken was answered and pushed. */
	CHECK_EQ(sring(0)->rsp_prod, (RING_IDX)32);
	CHECK_EQ(collect(0, rs, 32), 32);
	for (i = 0; i < 32; i++)
		CHECK_EQ(rs[i].status, BLKIF_RSP_OKAY);
	CHECK(V.wd == NULL);
	close(disk_fd);
	memset(grant_state, 0, sizeof(grant_state));
	next_page = 64;
}

int main(void)
{
	enum vbd_io_engine_kind engines[] = { VBD_ENGINE_IO_URING,
					      VBD_ENGINE_THREADS,
					      VBD_ENGINE_IO_URING };
	enum xbd_abi abis[] = { XBD_ABI_X86_64, XBD_ABI_X86_32 };
	unsigned int e, a;

	guest_fd = memfd_create("guest", MFD_CLOEXEC);
	if (guest_fd < 0 || ftruncate(guest_fd, (off_t)GUEST_PAGES * 4096))
		return 77;
	guest = mmap(NULL, (size_t)GUEST_PAGES * 4096, PROT_READ | PROT_WRITE,
		     MAP_SHARED, guest_fd, 0);
	if (pipe2(evt_pipe, O_CLOEXEC | O_NONBLOCK))
		return 77;
	W.loop = ev_loop_new(EVFLAG_AUTO);

	for (e = 0; e < 3; e++) {
		/* The third round: grant copy, with io_uring. */
		grant_mode = e == 2 ? VBD_GRANT_COPY : VBD_GRANT_MAP;
		for (a = 0; a < 2; a++) {
			basic(abis[a], engines[e]);
			indirect(abis[a], engines[e], false);
			indirect(abis[a], engines[e], true);
			queues(abis[a], engines[e]);
			hostile(abis[a], engines[e]);
			takeover(abis[a], engines[e]);
			resize(abis[a], engines[e]);
			drain_in_flight(abis[a], engines[e]);
		}
	}
	ev_loop_destroy(W.loop);
	return test_exit("test-vbd-worker");
}
