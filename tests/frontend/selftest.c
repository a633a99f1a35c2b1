/* SPDX-License-Identifier: MIT */
/*
 * Self-test of the blkfront's pure parts: the two ring ABIs' wire layouts
 * (checked byte by byte against the offsets blkif.h's field sizes and
 * alignments imply, and on x86_64 against the system header itself), the
 * ring index arithmetic against an in-process fake backend (including
 * 32-bit wrap and a lying backend), segment building, and the data
 * patterns and checksums that verification relies on.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "pattern.h"
#include "request.h"
#include "ring.h"

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
			__LINE__, #cond);				\
		failures++;						\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	unsigned long long a_ = (unsigned long long)(a);		\
	unsigned long long b_ = (unsigned long long)(b);		\
	if (a_ != b_) {							\
		fprintf(stderr, "%s:%d: %s == %llu, expected %s == %llu\n",	\
			__FILE__, __LINE__, #a, a_, #b, b_);		\
		failures++;						\
	}								\
} while (0)

static uint64_t get(const void *p, size_t off, size_t size)
{
	uint64_t v = 0;

	memcpy(&v, (const char *)p + off, size);	/* little endian */
	return v;
}

/* Offsets of one layout, as blkif.h's field sizes and alignment give them. */
struct layout {
	enum blk_abi abi;
	size_t slot;
	/* read/write */
	size_t rw_id, rw_sector, rw_seg;
	/* discard */
	size_t d_id, d_sector, d_nr, d_size;
	/* indirect */
	size_t i_nseg, i_id, i_sector, i_handle, i_grefs;
	/* response */
	size_t r_op, r_status, r_size;
};

static const struct layout layouts[] = {
	/* x86_64: uint64_t aligned to 8, so 4 bytes of padding after handle. */
	{ BLK_ABI_X86_64, 112, 8, 16, 24, 8, 16, 24, 32, 2, 8, 16, 24, 28, 8, 10, 16 },
	/* i386: uint64_t aligned to 4, no padding. */
	{ BLK_ABI_X86_32, 108, 4, 12, 20, 4, 12, 20, 28, 2, 4, 12, 20, 24, 8, 10, 12 },
};

static void test_layout(const struct layout *l)
{
	unsigned char slot[256];
	struct blk_request r, back;
	struct blk_response rsp;

	CHECK_EQ(abi_slot_size(l->abi), l->slot);

	/* Read/write with every segment filled and distinct values. */
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_WRITE;
	r.handle = 0xcafe;
	r.id = 0x1122334455667788ull;
	r.sector_number = 0x0102030405060708ull;
	r.u.rw.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST;
	for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		r.u.rw.seg[i] = (struct blk_seg){ 0xa0000000u + i, (uint8_t)i % 8, 7 };
	memset(slot, 0xff, sizeof(slot));
	abi_encode_request(l->abi, slot, &r);
	CHECK_EQ(get(slot, 0, 1), BLKIF_OP_WRITE);
	CHECK_EQ(get(slot, 1, 1), BLKIF_MAX_SEGMENTS_PER_REQUEST);
	CHECK_EQ(get(slot, 2, 2), 0xcafe);
	CHECK_EQ(get(slot, l->rw_id, 8), r.id);
	CHECK_EQ(get(slot, l->rw_sector, 8), r.sector_number);
	for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
		size_t s = l->rw_seg + i * BLK_SEG_WIRE_SIZE;

		CHECK_EQ(get(slot, s, 4), 0xa0000000u + i);
		CHECK_EQ(get(slot, s + 4, 1), i % 8);
		CHECK_EQ(get(slot, s + 5, 1), 7);
		CHECK_EQ(get(slot, s + 6, 2), 0);	/* padding zeroed */
	}
	CHECK_EQ(l->rw_seg + BLKIF_MAX_SEGMENTS_PER_REQUEST * BLK_SEG_WIRE_SIZE, l->slot);
	CHECK_EQ(slot[l->slot], 0xff);		/* nothing past the slot */
	if (l->abi == BLK_ABI_X86_64)
		CHECK_EQ(get(slot, 4, 4), 0);	/* padding zeroed */
	abi_decode_request(l->abi, slot, &back);
	CHECK(!memcmp(&back.u.rw.seg, &r.u.rw.seg, sizeof(r.u.rw.seg)));
	CHECK_EQ(back.id, r.id);

	/* A request claiming 12 segments writes only the 11 the slot has. */
	r.u.rw.nr_segments = 12;
	memset(slot, 0xff, sizeof(slot));
	abi_encode_request(l->abi, slot, &r);
	CHECK_EQ(get(slot, 1, 1), 12);
	CHECK_EQ(slot[l->slot], 0xff);

	/* A small request leaves no stale byte in the slot. */
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_READ;
	r.u.rw.nr_segments = 1;
	r.u.rw.seg[0] = (struct blk_seg){ 5, 0, 7 };
	memset(slot, 0xff, sizeof(slot));
	abi_encode_request(l->abi, slot, &r);
	for (size_t i = l->rw_seg + BLK_SEG_WIRE_SIZE; i < l->slot; i++)
		CHECK_EQ(slot[i], 0);

	/* Discard. */
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_DISCARD;
	r.u.discard.flag = BLKIF_DISCARD_SECURE;
	r.handle = 0x1234;
	r.id = 42;
	r.sector_number = 0xdeadbeef01ull;
	r.u.discard.nr_sectors = 0x1000000002ull;
	memset(slot, 0xff, sizeof(slot));
	abi_encode_request(l->abi, slot, &r);
	CHECK_EQ(get(slot, 0, 1), BLKIF_OP_DISCARD);
	CHECK_EQ(get(slot, 1, 1), BLKIF_DISCARD_SECURE);
	CHECK_EQ(get(slot, 2, 2), 0x1234);
	CHECK_EQ(get(slot, l->d_id, 8), 42);
	CHECK_EQ(get(slot, l->d_sector, 8), r.sector_number);
	CHECK_EQ(get(slot, l->d_nr, 8), r.u.discard.nr_sectors);
	for (size_t i = l->d_size; i < l->slot; i++)
		CHECK_EQ(slot[i], 0);

	/* Indirect. */
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_INDIRECT;
	r.u.indirect.indirect_op = BLKIF_OP_READ;
	r.u.indirect.nr_segments = 4096;
	r.handle = 0x5678;
	r.id = 7;
	r.sector_number = 99;
	for (unsigned i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
		r.u.indirect.indirect_grefs[i] = 0xb0000000u + i;
	memset(slot, 0xff, sizeof(slot));
	abi_encode_request(l->abi, slot, &r);
	CHECK_EQ(get(slot, 0, 1), BLKIF_OP_INDIRECT);
	CHECK_EQ(get(slot, 1, 1), BLKIF_OP_READ);
	CHECK_EQ(get(slot, l->i_nseg, 2), 4096);
	CHECK_EQ(get(slot, l->i_id, 8), 7);
	CHECK_EQ(get(slot, l->i_sector, 8), 99);
	CHECK_EQ(get(slot, l->i_handle, 2), 0x5678);
	for (unsigned i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
		CHECK_EQ(get(slot, l->i_grefs + 4 * i, 4), 0xb0000000u + i);
	CHECK_EQ(l->i_grefs + 4 * BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST + (l->abi == BLK_ABI_X86_32 ? 8 : 4), 64);
	abi_decode_request(l->abi, slot, &back);
	CHECK_EQ(back.u.indirect.nr_segments, 4096);
	CHECK_EQ(back.u.indirect.indirect_grefs[7], 0xb0000007u);

	/* Response, both directions. */
	memset(slot, 0xff, sizeof(slot));
	rsp = (struct blk_response){ 0x8877665544332211ull, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_EOPNOTSUPP };
	abi_encode_response(l->abi, slot, &rsp);
	CHECK_EQ(get(slot, 0, 8), rsp.id);
	CHECK_EQ(get(slot, l->r_op, 1), BLKIF_OP_FLUSH_DISKCACHE);
	CHECK_EQ(get(slot, l->r_op + 1, 1), 0);	/* padding zeroed (XSA-216) */
	CHECK_EQ((int16_t)get(slot, l->r_status, 2), BLKIF_RSP_EOPNOTSUPP);
	CHECK_EQ(slot[l->r_size], 0xff);
	memset(&rsp, 0, sizeof(rsp));
	abi_decode_response(l->abi, slot, &rsp);
	CHECK_EQ(rsp.id, 0x8877665544332211ull);
	CHECK_EQ(rsp.operation, BLKIF_OP_FLUSH_DISKCACHE);
	CHECK_EQ(rsp.status, BLKIF_RSP_EOPNOTSUPP);
}

static void test_native_header(void)
{
#ifdef __x86_64__
	/* On x86_64 the system's blkif.h describes the x86_64 ABI. */
	CHECK_EQ(sizeof(struct blkif_request), layouts[0].slot);
	CHECK_EQ(offsetof(struct blkif_request, id), layouts[0].rw_id);
	CHECK_EQ(offsetof(struct blkif_request, sector_number), layouts[0].rw_sector);
	CHECK_EQ(offsetof(struct blkif_request, seg), layouts[0].rw_seg);
	CHECK_EQ(sizeof(struct blkif_request_segment), BLK_SEG_WIRE_SIZE);
	CHECK_EQ(sizeof(struct blkif_request_discard), layouts[0].d_size);
	CHECK_EQ(offsetof(struct blkif_request_discard, nr_sectors), layouts[0].d_nr);
	CHECK_EQ(offsetof(struct blkif_request_indirect, nr_segments), layouts[0].i_nseg);
	CHECK_EQ(offsetof(struct blkif_request_indirect, id), layouts[0].i_id);
	CHECK_EQ(offsetof(struct blkif_request_indirect, handle), layouts[0].i_handle);
	CHECK_EQ(offsetof(struct blkif_request_indirect, indirect_grefs), layouts[0].i_grefs);
	CHECK_EQ(sizeof(struct blkif_request_indirect), 64);
	CHECK_EQ(sizeof(struct blkif_response), layouts[0].r_size);
	CHECK_EQ(offsetof(struct blkif_response, status), layouts[0].r_status);
	CHECK_EQ(offsetof(struct blkif_sring, ring), SRING_HEADER_SIZE);
	CHECK_EQ(__CONST_RING_SIZE(blkif, 4096), fring_size(1, BLK_ABI_X86_64));
	CHECK_EQ(__CONST_RING_SIZE(blkif, 4096 << 4), fring_size(16, BLK_ABI_X86_64));
#endif
}

static void test_ring_sizes(void)
{
	for (unsigned abi = 0; abi < 2; abi++) {
		CHECK_EQ(fring_size(1, abi), 32);
		CHECK_EQ(fring_size(2, abi), 64);
		CHECK_EQ(fring_size(4, abi), 128);
		CHECK_EQ(fring_size(8, abi), 256);
		CHECK_EQ(fring_size(16, abi), 512);
	}
	CHECK_EQ(SEGS_PER_INDIRECT_PAGE, 512);
	CHECK_EQ(BLK_MAX_INDIRECT_SEGS, 4096);
}

/* A fake backend: takes every request, answers each with its id. */
static unsigned fake_backend(struct front_ring *r, uint32_t *req_cons, uint32_t *rsp_prod)
{
	uint32_t prod = fring_shared_get(r, SR_REQ_PROD);
	unsigned n = 0;

	for (; *req_cons != prod; (*req_cons)++, n++) {
		struct blk_request req;
		struct blk_response rsp;

		abi_decode_request(r->abi, fring_slot(r, *req_cons), &req);
		rsp = (struct blk_response){ req.id, req.operation, BLKIF_RSP_OKAY };
		abi_encode_response(r->abi, fring_slot(r, (*rsp_prod)++), &rsp);
	}
	fring_shared_set(r, SR_RSP_PROD, *rsp_prod);
	/* Ask to be woken for the next request, as RING_FINAL_CHECK does. */
	fring_shared_set(r, SR_REQ_EVENT, *req_cons + 1);
	return n;
}

static void test_ring(enum blk_abi abi, uint32_t start)
{
	void *mem = aligned_alloc(XEN_PAGE, 2 * XEN_PAGE);
	struct front_ring r;
	uint32_t req_cons = start, rsp_prod = start, prod;
	uint64_t next_id = 1, expect_id = 1;

	fring_init(&r, mem, 2, abi);
	CHECK_EQ(r.nr_ents, 64);
	CHECK_EQ(fring_shared_get(&r, SR_REQ_EVENT), 1);
	CHECK_EQ(fring_shared_get(&r, SR_RSP_EVENT), 1);
	/* Start all indexes near 2^32 to cross the wrap. */
	r.req_prod_pvt = r.rsp_cons = start;
	fring_shared_set(&r, SR_REQ_PROD, start);
	fring_shared_set(&r, SR_RSP_PROD, start);
	fring_shared_set(&r, SR_REQ_EVENT, start + 1);
	fring_shared_set(&r, SR_RSP_EVENT, start + 1);

	for (unsigned round = 0; round < 10; round++) {
		unsigned batch = 1 + round * 7 % 64;

		CHECK_EQ(fring_free(&r), 64);
		for (unsigned i = 0; i < batch; i++) {
			struct blk_request req = { .operation = BLKIF_OP_READ, .id = next_id++ };

			fring_put_request(&r, &req);
		}
		CHECK_EQ(fring_free(&r), 64 - batch);
		/* The backend asked for an event at the next request: notify. */
		CHECK(fring_push(&r));
		CHECK_EQ(fake_backend(&r, &req_cons, &rsp_prod), batch);
		CHECK_EQ(fring_responses(&r, &prod), (int)batch);
		for (uint32_t i = r.rsp_cons; i != prod; i++) {
			struct blk_response rsp;

			fring_get_response(&r, i, &rsp);
			CHECK_EQ(rsp.id, expect_id++);
		}
		r.rsp_cons = prod;
		CHECK(!fring_final_check(&r));
		CHECK_EQ(fring_shared_get(&r, SR_RSP_EVENT), r.rsp_cons + 1);
	}
	CHECK(r.req_prod_pvt - start == next_id - 1);

	/* No notification when the backend did not ask for one yet. */
	fring_shared_set(&r, SR_REQ_EVENT, r.req_prod_pvt + 10);
	fring_put_request(&r, &(struct blk_request){ .operation = BLKIF_OP_READ, .id = 1000 });
	CHECK(!fring_push(&r));

	/* A backend claiming more responses than requests is caught. */
	fring_shared_set(&r, SR_RSP_PROD, r.req_prod_pvt + 1);
	CHECK_EQ(fring_responses(&r, &prod), -1);
	free(mem);
}

static void test_segments(void)
{
	uint32_t refs[16];
	struct blk_seg segs[16];
	void *pages[3];
	char buf[3 * 4096], back[3 * 4096];

	for (unsigned i = 0; i < 16; i++)
		refs[i] = 100 + i;
	/* 8 KiB starting 512 bytes into the first page: three pages. */
	CHECK_EQ(req_nr_segs(512, 8192), 3);
	req_build_segs(refs, 3, 512, 8192, segs);
	CHECK_EQ(segs[0].gref, 100);
	CHECK_EQ(segs[0].first_sect, 1);
	CHECK_EQ(segs[0].last_sect, 7);
	CHECK_EQ(segs[1].first_sect, 0);
	CHECK_EQ(segs[1].last_sect, 7);
	CHECK_EQ(segs[2].first_sect, 0);
	CHECK_EQ(segs[2].last_sect, 0);
	/* One sector in the middle of a page. */
	CHECK_EQ(req_nr_segs(1536, 512), 1);
	req_build_segs(refs, 1, 1536, 512, segs);
	CHECK_EQ(segs[0].first_sect, 3);
	CHECK_EQ(segs[0].last_sect, 3);
	/* The largest direct and indirect requests. */
	CHECK_EQ(req_nr_segs(0, 11 * 4096), 11);
	CHECK_EQ(req_nr_segs(512, 11 * 4096 - 512), 11);
	CHECK_EQ(req_nr_segs(512, 11 * 4096), 12);
	CHECK_EQ(req_nr_indirect_pages(4096), 8);
	CHECK_EQ(req_nr_indirect_pages(513), 2);

	/* Copying in and out through pages at an offset round-trips. */
	for (unsigned i = 0; i < 3; i++)
		pages[i] = aligned_alloc(4096, 4096);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	req_copy(pages, 3, 512, 8192, buf, true);
	CHECK(!memcmp((char *)pages[0] + 512, buf, 3584));
	CHECK(!memcmp(pages[1], buf + 3584, 4096));
	CHECK(!memcmp(pages[2], buf + 7680, 512));
	memset(back, 0, sizeof(back));
	req_copy(pages, 3, 512, 8192, back, false);
	CHECK(!memcmp(back, buf, 8192));

	/* Indirect descriptors: 8 bytes each, 512 per page. */
	{
		void *ind[2] = { aligned_alloc(4096, 4096), aligned_alloc(4096, 4096) };
		struct blk_seg many[600];

		for (unsigned i = 0; i < 600; i++)
			many[i] = (struct blk_seg){ 1000 + i, 0, 7 };
		memset(ind[0], 0xff, 4096);
		memset(ind[1], 0xff, 4096);
		req_fill_indirect(ind, many, 600);
		CHECK_EQ(get(ind[0], 0, 4), 1000);
		CHECK_EQ(get(ind[0], 4, 1), 0);
		CHECK_EQ(get(ind[0], 5, 1), 7);
		CHECK_EQ(get(ind[0], 6, 2), 0);
		CHECK_EQ(get(ind[0], 511 * 8, 4), 1511);
		CHECK_EQ(get(ind[1], 0, 4), 1512);
		CHECK_EQ(get(ind[1], 87 * 8, 4), 1599);
		free(ind[0]);
		free(ind[1]);
	}
	for (unsigned i = 0; i < 3; i++)
		free(pages[i]);
}

static void test_pattern(void)
{
	char a[2048], b[2048], what[128];
	uint64_t s1 = 5, s2 = 5;

	/* The generator is deterministic per seed. */
	for (int i = 0; i < 100; i++)
		CHECK_EQ(rng_next(&s1), rng_next(&s2));
	for (int i = 0; i < 1000; i++)
		CHECK(rng_below(&s1, 7) < 7);

	pattern_fill(a, sizeof(a), 1, 100, 3);
	pattern_fill(b, sizeof(b), 1, 100, 3);
	CHECK(!memcmp(a, b, sizeof(a)));
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(sector_sum(a + i * 512), sector_sum(b + i * 512));
	/* Any of sector, generation or seed changes the data and the sum. */
	pattern_fill(b, sizeof(b), 1, 100, 4);
	CHECK(sector_sum(a) != sector_sum(b));
	pattern_fill(b, sizeof(b), 1, 101, 3);
	CHECK(sector_sum(a) != sector_sum(b));
	CHECK(sector_sum(a + 512) == sector_sum(b));	/* shifted by one sector */
	pattern_fill(b, sizeof(b), 2, 100, 3);
	CHECK(sector_sum(a) != sector_sum(b));
	/* A single flipped bit changes the sum. */
	memcpy(b, a, 512);
	b[300] ^= 0x10;
	CHECK(sector_sum(a) != sector_sum(b));
	/* Each sector names itself, for mismatch reports. */
	pattern_describe(a + 1024, what, sizeof(what));
	CHECK(!strcmp(what, "data written for sector 102 gen 3 seed 1"));
	memset(b, 0, 512);
	pattern_describe(b, what, sizeof(what));
	CHECK(!strcmp(what, "zeroes"));
}

static void test_abi_names(void)
{
	enum blk_abi abi;

	CHECK(!strcmp(abi_protocol(BLK_ABI_X86_64), "x86_64-abi"));
	CHECK(!strcmp(abi_protocol(BLK_ABI_X86_32), "x86_32-abi"));
	CHECK(!abi_parse("x86_32", &abi) && abi == BLK_ABI_X86_32);
	CHECK(!abi_parse("x86_64-abi", &abi) && abi == BLK_ABI_X86_64);
	CHECK(abi_parse("arm-abi", &abi) == -1);
}

int main(void)
{
	for (unsigned i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		test_layout(&layouts[i]);
	test_native_header();
	test_ring_sizes();
	test_ring(BLK_ABI_X86_64, 0);
	test_ring(BLK_ABI_X86_32, 0);
	test_ring(BLK_ABI_X86_64, 0xffffffe0u);
	test_ring(BLK_ABI_X86_32, 0xfffffff7u);
	test_segments();
	test_pattern();
	test_abi_names();
	if (failures) {
		fprintf(stderr, "selftest: %d check(s) failed\n", failures);
		return 1;
	}
	printf("selftest: all checks passed\n");
	return 0;
}
