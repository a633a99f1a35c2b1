/* SPDX-License-Identifier: MIT */
/*
 * Request validation: every field of every operation, good and bad, in
 * both ABIs; indirect segment lists; the single copy out of the ring.
 */
#include <string.h>

#include "check.h"
#include "vbd/request.h"

static struct vbd_limits lim;

static void reset_limits(void)
{
	memset(&lim, 0, sizeof(lim));
	lim.nr_sectors = 2048;		/* 1 MiB */
	lim.sector_size = 512;
	lim.flush = lim.barrier = lim.discard = true;
	lim.max_indirect_segments = 256;
}

/* A request in the native layout, then re-laid for x86_32 if asked. */
static void encode(enum xbd_abi abi, const struct vbd_x86_64_request *r,
		   struct vbd_raw_request *raw)
{
	memset(raw, 0, sizeof(*raw));
	if (abi == XBD_ABI_X86_64) {
		memcpy(raw->bytes, r, sizeof(*r));
	} else {
		struct vbd_x86_32_request q;

		memset(&q, 0, sizeof(q));
		q.operation = r->operation;
		q.nr_segments = r->nr_segments;
		q.handle = r->handle;
		q.id = r->id;
		q.sector_number = r->sector_number;
		memcpy(q.seg, r->seg, sizeof(q.seg));
		memcpy(raw->bytes, &q, sizeof(q));
	}
}

static int decode(enum xbd_abi abi, const struct vbd_x86_64_request *r,
		  struct vbd_request *out)
{
	struct vbd_raw_request raw;

	encode(abi, r, &raw);
	return vbd_request_decode(abi, &raw, &lim, out);
}

static struct vbd_x86_64_request rw(uint8_t op, uint64_t sector,
				    unsigned int nseg)
{
	struct vbd_x86_64_request r;
	unsigned int i;

	memset(&r, 0, sizeof(r));
	r.operation = op;
	r.nr_segments = (uint8_t)nseg;
	r.id = 0xabcdef;
	r.sector_number = sector;
	for (i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
		r.seg[i].gref = 100 + i;
		r.seg[i].first_sect = 0;
		r.seg[i].last_sect = 7;
	}
	return r;
}

static void read_write(enum xbd_abi abi)
{
	struct vbd_x86_64_request r;
	struct vbd_request q;

	/* Good: 1 and 11 segments. */
	r = rw(BLKIF_OP_READ, 0, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	CHECK_EQ(q.kind, VBD_REQ_READ);
	CHECK_EQ(q.nr_sectors, 8);
	CHECK_EQ(q.id, 0xabcdef);
	r = rw(BLKIF_OP_WRITE, 100, 11);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	CHECK_EQ(q.nr_sectors, 88);
	CHECK_EQ(q.rsp_operation, BLKIF_OP_WRITE);

	/* Zero or too many segments. */
	r = rw(BLKIF_OP_READ, 0, 0);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	CHECK_EQ(q.id, 0xabcdef);	/* still echoed */
	r = rw(BLKIF_OP_WRITE, 0, 11);
	r.nr_segments = 12;
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	r.nr_segments = 255;
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);

	/* first_sect > last_sect, last_sect past the page. */
	r = rw(BLKIF_OP_READ, 0, 2);
	r.seg[1].first_sect = 5;
	r.seg[1].last_sect = 4;
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	r = rw(BLKIF_OP_READ, 0, 2);
	r.seg[0].last_sect = 8;
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	r.seg[0].first_sect = 8;
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	r = rw(BLKIF_OP_READ, 0, 1);
	r.seg[0].first_sect = r.seg[0].last_sect = 7;	/* one sector: fine */
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	CHECK_EQ(q.nr_sectors, 1);

	/* Range: up to the last sector, not one past, no overflow. */
	r = rw(BLKIF_OP_READ, 2048 - 8, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	r = rw(BLKIF_OP_READ, 2048 - 7, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	r = rw(BLKIF_OP_WRITE, 2048, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	r = rw(BLKIF_OP_WRITE, UINT64_MAX - 3, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	r = rw(BLKIF_OP_READ, UINT64_MAX, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);

	/* Read-only: reads yes, writes no. */
	lim.readonly = true;
	r = rw(BLKIF_OP_READ, 0, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	r = rw(BLKIF_OP_WRITE, 0, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	lim.readonly = false;

	/* 4096-byte logical sectors: 8-sector alignment of start and size. */
	lim.sector_size = 4096;
	r = rw(BLKIF_OP_READ, 8, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	r = rw(BLKIF_OP_READ, 4, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	r = rw(BLKIF_OP_READ, 8, 1);
	r.seg[0].last_sect = 3;
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	/* Segments that split a logical sector across pages are fine. */
	r = rw(BLKIF_OP_READ, 8, 2);
	r.seg[0].first_sect = 1;
	r.seg[1].last_sect = 0;
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	lim.sector_size = 512;
}

static void flush_barrier(enum xbd_abi abi)
{
	struct vbd_x86_64_request r;
	struct vbd_request q;

	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 12345678, 0);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	CHECK_EQ(q.kind, VBD_REQ_FLUSH);
	CHECK_EQ(q.nr_segments, 0);
	CHECK_EQ(q.sector, 0);		/* no range: sector ignored */
	/* With data (a FUA write): checked like a write. */
	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 2);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	CHECK_EQ(q.nr_sectors, 16);
	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 2048, 2);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	r = rw(BLKIF_OP_WRITE_BARRIER, 0, 0);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	CHECK_EQ(q.kind, VBD_REQ_BARRIER);
	r = rw(BLKIF_OP_WRITE_BARRIER, 0, 12);
	r.nr_segments = 12;
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);

	/* Read-only: an empty flush is harmless, a flush with data is not. */
	lim.readonly = true;
	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_OKAY);
	r = rw(BLKIF_OP_WRITE_BARRIER, 0, 1);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_ERROR);
	lim.readonly = false;

	/* Not offered: EOPNOTSUPP, as blkif.h allows. */
	lim.flush = lim.barrier = false;
	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_EOPNOTSUPP);
	CHECK_EQ(q.rsp_operation, BLKIF_OP_FLUSH_DISKCACHE);
	r = rw(BLKIF_OP_WRITE_BARRIER, 0, 0);
	CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_EOPNOTSUPP);
	lim.flush = lim.barrier = true;
}

static void unknown_ops(enum xbd_abi abi)
{
	static const uint8_t ops[] = { BLKIF_OP_RESERVED_1, 7, 8, 42, 255 };
	struct vbd_x86_64_request r;
	struct vbd_request q;
	unsigned int i;

	for (i = 0; i < sizeof(ops); i++) {
		r = rw(ops[i], 0, 1);
		r.id = 1000 + i;
		CHECK_EQ(decode(abi, &r, &q), BLKIF_RSP_EOPNOTSUPP);
		CHECK_EQ(q.id, 1000 + i);
		CHECK_EQ(q.rsp_operation, ops[i]);
	}
}

static int decode_discard(enum xbd_abi abi, uint8_t flag, uint64_t sector,
			  uint64_t n, struct vbd_request *q)
{
	struct vbd_raw_request raw;

	memset(&raw, 0, sizeof(raw));
	if (abi == XBD_ABI_X86_64) {
		struct vbd_x86_64_request_discard d = {
			.operation = BLKIF_OP_DISCARD, .flag = flag, .id = 9,
			.sector_number = sector, .nr_sectors = n,
		};
		memcpy(raw.bytes, &d, sizeof(d));
	} else {
		struct vbd_x86_32_request_discard d;

		memset(&d, 0, sizeof(d));
		d.operation = BLKIF_OP_DISCARD;
		d.flag = flag;
		d.id = 9;
		d.sector_number = sector;
		d.nr_sectors = n;
		memcpy(raw.bytes, &d, sizeof(d));
	}
	return vbd_request_decode(abi, &raw, &lim, q);
}

static void discard(enum xbd_abi abi)
{
	struct vbd_request q;

	CHECK_EQ(decode_discard(abi, 0, 0, 2048, &q), BLKIF_RSP_OKAY);
	CHECK_EQ(q.kind, VBD_REQ_DISCARD);
	CHECK_EQ(q.nr_sectors, 2048);
	CHECK_EQ(decode_discard(abi, 0, 2048, 0, &q), BLKIF_RSP_OKAY);
	CHECK_EQ(decode_discard(abi, 0, 1, 2048, &q), BLKIF_RSP_ERROR);
	CHECK_EQ(decode_discard(abi, 0, UINT64_MAX, 2, &q), BLKIF_RSP_ERROR);
	CHECK_EQ(decode_discard(abi, 0, 2, UINT64_MAX, &q), BLKIF_RSP_ERROR);
	/* The secure flag only counts where discard-secure was offered. */
	CHECK_EQ(decode_discard(abi, BLKIF_DISCARD_SECURE, 0, 8, &q),
		 BLKIF_RSP_OKAY);
	CHECK(!q.secure);
	lim.discard_secure = true;
	CHECK_EQ(decode_discard(abi, BLKIF_DISCARD_SECURE, 0, 8, &q),
		 BLKIF_RSP_OKAY);
	CHECK(q.secure);
	lim.discard_secure = false;
	lim.readonly = true;
	CHECK_EQ(decode_discard(abi, 0, 0, 8, &q), BLKIF_RSP_ERROR);
	lim.readonly = false;
	lim.discard = false;
	CHECK_EQ(decode_discard(abi, 0, 0, 8, &q), BLKIF_RSP_EOPNOTSUPP);
	lim.discard = true;
}

static int decode_indirect(enum xbd_abi abi, uint8_t op, uint16_t nseg,
			   uint64_t sector, struct vbd_request *q)
{
	struct vbd_raw_request raw;
	unsigned int i;

	memset(&raw, 0, sizeof(raw));
	if (abi == XBD_ABI_X86_64) {
		struct vbd_x86_64_request_indirect r;

		memset(&r, 0, sizeof(r));
		r.operation = BLKIF_OP_INDIRECT;
		r.indirect_op = op;
		r.nr_segments = nseg;
		r.id = 77;
		r.sector_number = sector;
		for (i = 0; i < 8; i++)
			r.indirect_grefs[i] = 500 + i;
		memcpy(raw.bytes, &r, sizeof(r));
	} else {
		struct vbd_x86_32_request_indirect r;

		memset(&r, 0, sizeof(r));
		r.operation = BLKIF_OP_INDIRECT;
		r.indirect_op = op;
		r.nr_segments = nseg;
		r.id = 77;
		r.sector_number = sector;
		for (i = 0; i < 8; i++)
			r.indirect_grefs[i] = 500 + i;
		memcpy(raw.bytes, &r, sizeof(r));
	}
	return vbd_request_decode(abi, &raw, &lim, q);
}

static void indirect(enum xbd_abi abi)
{
	static union {
		uint64_t q[512];
		struct blkif_request_segment s[512];
	} page[2];
	const volatile void *pages[2] = { page[0].q, page[1].q };
	struct vbd_segment segs[1024];
	struct vbd_request q;
	unsigned int i;

	CHECK_EQ(decode_indirect(abi, BLKIF_OP_WRITE, 256, 0, &q),
		 BLKIF_RSP_OKAY);
	CHECK_EQ(q.nr_indirect_pages, 1);
	CHECK_EQ(q.indirect_grefs[0], 500);
	CHECK_EQ(q.indirect_grefs[1], 0);	/* unused pages cleared */
	CHECK_EQ(q.rsp_operation, BLKIF_OP_WRITE);
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_WRITE, 257, 0, &q),
		 BLKIF_RSP_ERROR);		/* too many segments */
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_READ, 0, 0, &q),
		 BLKIF_RSP_ERROR);		/* zero segments */
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_FLUSH_DISKCACHE, 1, 0, &q),
		 BLKIF_RSP_ERROR);		/* only read/write inside */
	CHECK_EQ(q.rsp_operation, BLKIF_OP_FLUSH_DISKCACHE);
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_INDIRECT, 1, 0, &q),
		 BLKIF_RSP_ERROR);
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_READ, 1, 2048, &q),
		 BLKIF_RSP_ERROR);		/* starts past the end */
	lim.readonly = true;
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_WRITE, 1, 0, &q),
		 BLKIF_RSP_ERROR);
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_READ, 1, 0, &q),
		 BLKIF_RSP_OKAY);
	lim.readonly = false;
	lim.max_indirect_segments = 0;
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_READ, 1, 0, &q),
		 BLKIF_RSP_EOPNOTSUPP);
	lim.max_indirect_segments = 4096;
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_READ, 4096, 0, &q),
		 BLKIF_RSP_OKAY);
	CHECK_EQ(q.nr_indirect_pages, 8);
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_READ, 4097, 0, &q),
		 BLKIF_RSP_ERROR);		/* past the protocol's 8 pages */

	/* The segment list: 600 segments over two pages. */
	for (i = 0; i < 1024; i++) {
		struct blkif_request_segment s = {
			.gref = 1000 + i, .first_sect = 0, .last_sect = 0,
		};
		page[i / 512].s[i % 512] = s;
	}
	lim.max_indirect_segments = 1024;
	lim.nr_sectors = 4096;
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_READ, 600, 8, &q),
		 BLKIF_RSP_OKAY);
	CHECK_EQ(vbd_request_indirect_segments(&q, &lim, pages, segs),
		 BLKIF_RSP_OKAY);
	CHECK_EQ(q.nr_sectors, 600);
	CHECK_EQ(segs[0].gref, 1000);
	CHECK_EQ(segs[599].gref, 1599);
	/* A bad segment anywhere fails the request. */
	page[1].s[50].last_sect = 8;
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_READ, 600, 8, &q),
		 BLKIF_RSP_OKAY);
	CHECK_EQ(vbd_request_indirect_segments(&q, &lim, pages, segs),
		 BLKIF_RSP_ERROR);
	page[1].s[50].last_sect = 0;
	page[0].s[3].first_sect = 1;
	CHECK_EQ(vbd_request_indirect_segments(&q, &lim, pages, segs),
		 BLKIF_RSP_ERROR);
	page[0].s[3].first_sect = 0;
	/* The range, known only once the segments are read. */
	CHECK_EQ(decode_indirect(abi, BLKIF_OP_READ, 600, 4096 - 599, &q),
		 BLKIF_RSP_OKAY);
	CHECK_EQ(vbd_request_indirect_segments(&q, &lim, pages, segs),
		 BLKIF_RSP_ERROR);
	reset_limits();
}

/* The copy takes the slot as it was; later changes do not reach it. */
static void single_copy(void)
{
	struct vbd_x86_64_request r = rw(BLKIF_OP_READ, 0, 1);
	struct vbd_raw_request raw;
	struct vbd_request q;
	union {
		struct vbd_x86_64_request r;
		uint32_t w[28];
	} slot;

	slot.r = r;
	vbd_request_copy(XBD_ABI_X86_64, &slot, &raw);
	slot.r.nr_segments = 200;
	slot.r.seg[0].last_sect = 200;
	CHECK_EQ(vbd_request_decode(XBD_ABI_X86_64, &raw, &lim, &q),
		 BLKIF_RSP_OKAY);
	CHECK_EQ(q.nr_segments, 1);
	CHECK_EQ(q.seg[0].last_sect, 7);
}

int main(void)
{
	enum xbd_abi abis[] = { XBD_ABI_X86_64, XBD_ABI_X86_32 };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		reset_limits();
		read_write(abis[i]);
		flush_barrier(abis[i]);
		unknown_ops(abis[i]);
		discard(abis[i]);
		indirect(abis[i]);
	}
	single_copy();
	return test_exit("test-vbd-request");
}
