/* SPDX-License-Identifier: MIT */
/*
 * The blkif ring ABIs: every field offset and size of the x86_64 and
 * x86_32 layouts, the ring sizes per page order, and a request written
 * byte by byte at the protocol's offsets decoding to the same values.
 */
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "vbd/request.h"

static const struct vbd_limits lim = {
	.nr_sectors = 1 << 20, .sector_size = 512, .flush = true,
	.barrier = true, .discard = true, .max_indirect_segments = 256,
};

static void put8(unsigned char *b, size_t off, uint8_t v) { b[off] = v; }
static void put16(unsigned char *b, size_t off, uint16_t v) { memcpy(b + off, &v, 2); }
static void put32(unsigned char *b, size_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void put64(unsigned char *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }

static void layouts(void)
{
	/* x86_64 */
	CHECK_EQ(offsetof(struct vbd_x86_64_request, operation), 0);
	CHECK_EQ(offsetof(struct vbd_x86_64_request, nr_segments), 1);
	CHECK_EQ(offsetof(struct vbd_x86_64_request, handle), 2);
	CHECK_EQ(offsetof(struct vbd_x86_64_request, id), 8);
	CHECK_EQ(offsetof(struct vbd_x86_64_request, sector_number), 16);
	CHECK_EQ(offsetof(struct vbd_x86_64_request, seg), 24);
	CHECK_EQ(sizeof(struct vbd_x86_64_request), 112);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_discard, flag), 1);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_discard, id), 8);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_discard, sector_number), 16);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_discard, nr_sectors), 24);
	CHECK_EQ(sizeof(struct vbd_x86_64_request_discard), 32);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_indirect, indirect_op), 1);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_indirect, nr_segments), 2);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_indirect, id), 8);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_indirect, sector_number), 16);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_indirect, handle), 24);
	CHECK_EQ(offsetof(struct vbd_x86_64_request_indirect, indirect_grefs), 28);
	CHECK_EQ(sizeof(struct vbd_x86_64_request_indirect), 64);
	CHECK_EQ(offsetof(struct vbd_x86_64_response, id), 0);
	CHECK_EQ(offsetof(struct vbd_x86_64_response, operation), 8);
	CHECK_EQ(offsetof(struct vbd_x86_64_response, status), 10);
	CHECK_EQ(sizeof(struct vbd_x86_64_response), 16);

	/* The native layout of the public header is the x86_64 one. */
	CHECK_EQ(offsetof(struct blkif_request, id), 8);
	CHECK_EQ(offsetof(struct blkif_request, sector_number), 16);
	CHECK_EQ(offsetof(struct blkif_request, seg), 24);
	CHECK_EQ(sizeof(struct blkif_request), 112);
	CHECK_EQ(offsetof(struct blkif_request_indirect, indirect_grefs), 28);
	CHECK_EQ(sizeof(struct blkif_response), 16);
	CHECK_EQ(offsetof(struct blkif_sring, ring), XBD_RING_HEADER_SIZE);
	CHECK_EQ(sizeof(union blkif_sring_entry), VBD_X86_64_ENTRY_SIZE);

	/* x86_32: 64-bit fields on 4-byte boundaries. */
	CHECK_EQ(offsetof(struct vbd_x86_32_request, operation), 0);
	CHECK_EQ(offsetof(struct vbd_x86_32_request, nr_segments), 1);
	CHECK_EQ(offsetof(struct vbd_x86_32_request, handle), 2);
	CHECK_EQ(offsetof(struct vbd_x86_32_request, id), 4);
	CHECK_EQ(offsetof(struct vbd_x86_32_request, sector_number), 12);
	CHECK_EQ(offsetof(struct vbd_x86_32_request, seg), 20);
	CHECK_EQ(sizeof(struct vbd_x86_32_request), 108);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_discard, flag), 1);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_discard, id), 4);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_discard, sector_number), 12);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_discard, nr_sectors), 20);
	CHECK_EQ(sizeof(struct vbd_x86_32_request_discard), 28);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_indirect, indirect_op), 1);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_indirect, nr_segments), 2);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_indirect, id), 4);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_indirect, sector_number), 12);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_indirect, handle), 20);
	CHECK_EQ(offsetof(struct vbd_x86_32_request_indirect, indirect_grefs), 24);
	CHECK_EQ(sizeof(struct vbd_x86_32_request_indirect), 64);
	CHECK_EQ(offsetof(struct vbd_x86_32_response, id), 0);
	CHECK_EQ(offsetof(struct vbd_x86_32_response, operation), 8);
	CHECK_EQ(offsetof(struct vbd_x86_32_response, status), 10);
	CHECK_EQ(sizeof(struct vbd_x86_32_response), 12);

	/* Segments: gref, first_sect, last_sect, 2 bytes of padding. */
	CHECK_EQ(offsetof(struct blkif_request_segment, gref), 0);
	CHECK_EQ(offsetof(struct blkif_request_segment, first_sect), 4);
	CHECK_EQ(offsetof(struct blkif_request_segment, last_sect), 5);
	CHECK_EQ(VBD_SEGS_PER_INDIRECT_PAGE, 512);
}

static void ring_sizes(void)
{
	static const unsigned int x64[] = { 32, 64, 128, 256, 512 };
	static const unsigned int x32[] = { 32, 64, 128, 256, 512 };
	unsigned int o;

	for (o = 0; o <= XBD_MAX_RING_ORDER; o++) {
		CHECK_EQ(vbd_ring_entries(XBD_ABI_X86_64, o), x64[o]);
		CHECK_EQ(vbd_ring_entries(XBD_ABI_X86_32, o), x32[o]);
	}
	/* As the public macro computes it for the native ABI. */
	CHECK_EQ(vbd_ring_entries(XBD_ABI_NATIVE, 0),
		 __CONST_RING_SIZE(blkif, 4096));
	CHECK_EQ(vbd_ring_entries(XBD_ABI_NATIVE, 4),
		 __CONST_RING_SIZE(blkif, 4096 * 16));
}

/* A write request laid out by hand in both ABIs decodes the same. */
static void decode_both(void)
{
	enum xbd_abi abis[] = { XBD_ABI_X86_64, XBD_ABI_X86_32 };
	unsigned int a;

	for (a = 0; a < 2; a++) {
		bool x32 = abis[a] == XBD_ABI_X86_32;
		size_t id = x32 ? 4 : 8, sec = x32 ? 12 : 16, seg = x32 ? 20 : 24;
		unsigned char slot[VBD_MAX_ENTRY_SIZE];
		struct vbd_raw_request raw;
		struct vbd_request req;

		memset(slot, 0xee, sizeof(slot));
		put8(slot, 0, BLKIF_OP_WRITE);
		put8(slot, 1, 2);
		put16(slot, 2, 0x1234);
		put64(slot, id, 0x0102030405060708ull);
		put64(slot, sec, 4096);
		put32(slot, seg, 77);
		put8(slot, seg + 4, 1);
		put8(slot, seg + 5, 7);
		put32(slot, seg + 8, 78);
		put8(slot, seg + 12, 0);
		put8(slot, seg + 13, 3);
		vbd_request_copy(abis[a], slot, &raw);
		CHECK_EQ(vbd_request_decode(abis[a], &raw, &lim, &req),
			 BLKIF_RSP_OKAY);
		CHECK_EQ(req.id, 0x0102030405060708ull);
		CHECK_EQ(req.kind, VBD_REQ_WRITE);
		CHECK_EQ(req.sector, 4096);
		CHECK_EQ(req.nr_segments, 2);
		CHECK_EQ(req.seg[0].gref, 77);
		CHECK_EQ(req.seg[0].first_sect, 1);
		CHECK_EQ(req.seg[0].last_sect, 7);
		CHECK_EQ(req.seg[1].gref, 78);
		CHECK_EQ(req.seg[1].last_sect, 3);
		CHECK_EQ(req.nr_sectors, 7 + 4);

		/* Discard */
		memset(slot, 0, sizeof(slot));
		put8(slot, 0, BLKIF_OP_DISCARD);
		put8(slot, 1, BLKIF_DISCARD_SECURE);
		put64(slot, id, 99);
		put64(slot, sec, 8);
		put64(slot, x32 ? 20 : 24, 16);
		vbd_request_copy(abis[a], slot, &raw);
		CHECK_EQ(vbd_request_decode(abis[a], &raw, &lim, &req),
			 BLKIF_RSP_OKAY);
		CHECK_EQ(req.id, 99);
		CHECK_EQ(req.kind, VBD_REQ_DISCARD);
		CHECK_EQ(req.sector, 8);
		CHECK_EQ(req.nr_sectors, 16);
		CHECK(!req.secure);	/* discard-secure not offered */

		/* Indirect */
		memset(slot, 0, sizeof(slot));
		put8(slot, 0, BLKIF_OP_INDIRECT);
		put8(slot, 1, BLKIF_OP_READ);
		put16(slot, 2, 600);
		put64(slot, id, 5);
		put64(slot, sec, 64);
		put16(slot, x32 ? 20 : 24, 0x51);
		put32(slot, x32 ? 24 : 28, 1000);
		put32(slot, x32 ? 28 : 32, 1001);
		vbd_request_copy(abis[a], slot, &raw);
		{
			struct vbd_limits l = lim;

			l.max_indirect_segments = 1024;
			CHECK_EQ(vbd_request_decode(abis[a], &raw, &l, &req),
				 BLKIF_RSP_OKAY);
		}
		CHECK_EQ(req.id, 5);
		CHECK_EQ(req.kind, VBD_REQ_READ);
		CHECK_EQ(req.rsp_operation, BLKIF_OP_READ);
		CHECK_EQ(req.nr_segments, 600);
		CHECK_EQ(req.nr_indirect_pages, 2);
		CHECK_EQ(req.indirect_grefs[0], 1000);
		CHECK_EQ(req.indirect_grefs[1], 1001);
		CHECK_EQ(req.sector, 64);
	}
}

/* A response built in private memory, copied out as the ring does. */
static size_t build(enum xbd_abi abi, unsigned char *slot, uint64_t id,
		    uint8_t op, int16_t status)
{
	union vbd_response rsp;
	size_t len;

	memset(&rsp, 0xbb, sizeof(rsp));
	len = vbd_response_build(abi, &rsp, id, op, status);
	memcpy(slot, &rsp, len);
	return len;
}

/* Responses: exactly the ABI's bytes, padding zero, neighbours intact. */
static void responses(void)
{
	unsigned char slot[128];
	uint64_t id;
	int16_t st;

	memset(slot, 0xaa, sizeof(slot));
	CHECK_EQ(build(XBD_ABI_X86_64, slot, 0x1122334455667788ull,
		       BLKIF_OP_READ, BLKIF_RSP_ERROR), 16);
	memcpy(&id, slot, 8);
	memcpy(&st, slot + 10, 2);
	CHECK_EQ(id, 0x1122334455667788ull);
	CHECK_EQ(slot[8], BLKIF_OP_READ);
	CHECK_EQ(slot[9], 0);
	CHECK_EQ(st, BLKIF_RSP_ERROR);
	CHECK_EQ(slot[12] | slot[13] | slot[14] | slot[15], 0);
	CHECK_EQ(slot[16], 0xaa);

	memset(slot, 0xaa, sizeof(slot));
	CHECK_EQ(build(XBD_ABI_X86_32, slot, 7, BLKIF_OP_WRITE,
		       BLKIF_RSP_EOPNOTSUPP), 12);
	memcpy(&id, slot, 8);
	memcpy(&st, slot + 10, 2);
	CHECK_EQ(id, 7);
	CHECK_EQ(slot[8], BLKIF_OP_WRITE);
	CHECK_EQ(slot[9], 0);
	CHECK_EQ(st, BLKIF_RSP_EOPNOTSUPP);
	CHECK_EQ(slot[12], 0xaa);
}

int main(void)
{
	layouts();
	ring_sizes();
	decode_both();
	responses();
	return test_exit("test-vbd-abi");
}
