/* SPDX-License-Identifier: MIT */
/*
 * blkif wire layouts for the x86_64 and x86_32 ABIs.
 *
 * The layouts are written out here from blkif.h's field sizes and the two
 * ABIs' alignment rules (x86_64: uint64_t 8-aligned; i386: 4-aligned, which
 * is what #pragma pack(4) gives), rather than taken from the system header,
 * because the header only describes the ABI it is compiled for. The
 * self-test checks every offset against the numbers blkif.h implies.
 */
#include <string.h>

#include <xen/io/protocols.h>

#include "abi.h"

struct seg_wire {
	uint32_t gref;
	uint8_t first_sect, last_sect;
	uint16_t pad;
};

struct rw_x64 {
	uint8_t operation, nr_segments;
	uint16_t handle;
	uint32_t pad;
	uint64_t id, sector_number;
	struct seg_wire seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct discard_x64 {
	uint8_t operation, flag;
	uint16_t handle;
	uint32_t pad;
	uint64_t id, sector_number, nr_sectors;
};

struct indirect_x64 {
	uint8_t operation, indirect_op;
	uint16_t nr_segments;
	uint32_t pad1;
	uint64_t id, sector_number;
	uint16_t handle, pad2;
	uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint32_t pad3;
};

struct rsp_x64 {
	uint64_t id;
	uint8_t operation, pad1;
	int16_t status;
	uint32_t pad2;
};

#pragma pack(push, 4)
struct rw_x32 {
	uint8_t operation, nr_segments;
	uint16_t handle;
	uint64_t id, sector_number;
	struct seg_wire seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct discard_x32 {
	uint8_t operation, flag;
	uint16_t handle;
	uint64_t id, sector_number, nr_sectors;
};

struct indirect_x32 {
	uint8_t operation, indirect_op;
	uint16_t nr_segments;
	uint64_t id, sector_number;
	uint16_t handle, pad1;
	uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint64_t pad2;	/* blkif.h pads the i386 struct to 64 bytes */
};

struct rsp_x32 {
	uint64_t id;
	uint8_t operation, pad1;
	int16_t status;
};
#pragma pack(pop)

/* The facts the backend relies on; the self-test repeats them at run time. */
_Static_assert(sizeof(struct seg_wire) == BLK_SEG_WIRE_SIZE, "segment");
_Static_assert(sizeof(struct rw_x64) == 112, "x86_64 request");
_Static_assert(offsetof(struct rw_x64, id) == 8, "x86_64 id");
_Static_assert(offsetof(struct rw_x64, seg) == 24, "x86_64 seg");
_Static_assert(sizeof(struct discard_x64) == 32, "x86_64 discard");
_Static_assert(sizeof(struct indirect_x64) == 64, "x86_64 indirect");
_Static_assert(offsetof(struct indirect_x64, handle) == 24, "x86_64 ind handle");
_Static_assert(offsetof(struct indirect_x64, indirect_grefs) == 28, "x86_64 grefs");
_Static_assert(sizeof(struct rsp_x64) == 16, "x86_64 response");
_Static_assert(sizeof(struct rw_x32) == 108, "x86_32 request");
_Static_assert(offsetof(struct rw_x32, id) == 4, "x86_32 id");
_Static_assert(offsetof(struct rw_x32, seg) == 20, "x86_32 seg");
_Static_assert(sizeof(struct discard_x32) == 28, "x86_32 discard");
_Static_assert(sizeof(struct indirect_x32) == 64, "x86_32 indirect");
_Static_assert(offsetof(struct indirect_x32, indirect_grefs) == 24, "x86_32 grefs");
_Static_assert(sizeof(struct rsp_x32) == 12, "x86_32 response");

const char *abi_protocol(enum blk_abi abi)
{
	return abi == BLK_ABI_X86_32 ? XEN_IO_PROTO_ABI_X86_32 : XEN_IO_PROTO_ABI_X86_64;
}

int abi_parse(const char *s, enum blk_abi *abi)
{
	if (!strcmp(s, "x86_64") || !strcmp(s, XEN_IO_PROTO_ABI_X86_64))
		*abi = BLK_ABI_X86_64;
	else if (!strcmp(s, "x86_32") || !strcmp(s, XEN_IO_PROTO_ABI_X86_32))
		*abi = BLK_ABI_X86_32;
	else
		return -1;
	return 0;
}

size_t abi_slot_size(enum blk_abi abi)
{
	return abi == BLK_ABI_X86_32 ? sizeof(struct rw_x32) : sizeof(struct rw_x64);
}

static void put_segs(struct seg_wire *w, const struct blk_seg *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		w[i].gref = s[i].gref;
		w[i].first_sect = s[i].first_sect;
		w[i].last_sect = s[i].last_sect;
		w[i].pad = 0;
	}
}

static void get_segs(struct blk_seg *s, const struct seg_wire *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		s[i].gref = w[i].gref;
		s[i].first_sect = w[i].first_sect;
		s[i].last_sect = w[i].last_sect;
	}
}

static unsigned slot_segs(uint8_t n)
{
	return n < BLKIF_MAX_SEGMENTS_PER_REQUEST ? n : BLKIF_MAX_SEGMENTS_PER_REQUEST;
}

/*
 * Each encoder builds the struct on the stack, fully zeroed, then copies it
 * into the slot in one go: the slot (possibly misaligned for x86_32) is only
 * touched by memcpy, and no byte of an earlier request survives in it.
 */
#define ENCODE_RW(T, slot, r) do {					\
	T w;								\
	memset(&w, 0, sizeof(w));					\
	w.operation = (r)->operation;					\
	w.nr_segments = (r)->u.rw.nr_segments;				\
	w.handle = (r)->handle;						\
	w.id = (r)->id;							\
	w.sector_number = (r)->sector_number;				\
	put_segs(w.seg, (r)->u.rw.seg, slot_segs((r)->u.rw.nr_segments)); \
	memcpy((slot), &w, sizeof(w));					\
} while (0)

#define ENCODE_DISCARD(T, slot, r) do {					\
	T w;								\
	memset(&w, 0, sizeof(w));					\
	w.operation = (r)->operation;					\
	w.flag = (r)->u.discard.flag;					\
	w.handle = (r)->handle;						\
	w.id = (r)->id;							\
	w.sector_number = (r)->sector_number;				\
	w.nr_sectors = (r)->u.discard.nr_sectors;			\
	memcpy((slot), &w, sizeof(w));					\
} while (0)

#define ENCODE_INDIRECT(T, slot, r) do {				\
	T w;								\
	memset(&w, 0, sizeof(w));					\
	w.operation = (r)->operation;					\
	w.indirect_op = (r)->u.indirect.indirect_op;			\
	w.nr_segments = (r)->u.indirect.nr_segments;			\
	w.handle = (r)->handle;						\
	w.id = (r)->id;							\
	w.sector_number = (r)->sector_number;				\
	memcpy(w.indirect_grefs, (r)->u.indirect.indirect_grefs,	\
	       sizeof(w.indirect_grefs));				\
	memcpy((slot), &w, sizeof(w));					\
} while (0)

void abi_encode_request(enum blk_abi abi, void *slot, const struct blk_request *req)
{
	memset(slot, 0, abi_slot_size(abi));
	if (abi == BLK_ABI_X86_32) {
		if (req->operation == BLKIF_OP_DISCARD)
			ENCODE_DISCARD(struct discard_x32, slot, req);
		else if (req->operation == BLKIF_OP_INDIRECT)
			ENCODE_INDIRECT(struct indirect_x32, slot, req);
		else
			ENCODE_RW(struct rw_x32, slot, req);
	} else {
		if (req->operation == BLKIF_OP_DISCARD)
			ENCODE_DISCARD(struct discard_x64, slot, req);
		else if (req->operation == BLKIF_OP_INDIRECT)
			ENCODE_INDIRECT(struct indirect_x64, slot, req);
		else
			ENCODE_RW(struct rw_x64, slot, req);
	}
}

#define DECODE_RSP(T, slot, r) do {					\
	T w;								\
	memcpy(&w, (slot), sizeof(w));					\
	(r)->id = w.id;							\
	(r)->operation = w.operation;					\
	(r)->status = w.status;						\
} while (0)

void abi_decode_response(enum blk_abi abi, const void *slot, struct blk_response *rsp)
{
	if (abi == BLK_ABI_X86_32)
		DECODE_RSP(struct rsp_x32, slot, rsp);
	else
		DECODE_RSP(struct rsp_x64, slot, rsp);
}

#define ENCODE_RSP(T, slot, r) do {					\
	T w;								\
	memset(&w, 0, sizeof(w));					\
	w.id = (r)->id;							\
	w.operation = (r)->operation;					\
	w.status = (r)->status;						\
	memcpy((slot), &w, sizeof(w));					\
} while (0)

void abi_encode_response(enum blk_abi abi, void *slot, const struct blk_response *rsp)
{
	if (abi == BLK_ABI_X86_32)
		ENCODE_RSP(struct rsp_x32, slot, rsp);
	else
		ENCODE_RSP(struct rsp_x64, slot, rsp);
}

#define DECODE_RW(T, slot, r) do {					\
	T w;								\
	memcpy(&w, (slot), sizeof(w));					\
	(r)->handle = w.handle;						\
	(r)->id = w.id;							\
	(r)->sector_number = w.sector_number;				\
	(r)->u.rw.nr_segments = w.nr_segments;				\
	get_segs((r)->u.rw.seg, w.seg, slot_segs(w.nr_segments));	\
} while (0)

#define DECODE_DISCARD(T, slot, r) do {					\
	T w;								\
	memcpy(&w, (slot), sizeof(w));					\
	(r)->handle = w.handle;						\
	(r)->id = w.id;							\
	(r)->sector_number = w.sector_number;				\
	(r)->u.discard.flag = w.flag;					\
	(r)->u.discard.nr_sectors = w.nr_sectors;			\
} while (0)

#define DECODE_INDIRECT(T, slot, r) do {				\
	T w;								\
	memcpy(&w, (slot), sizeof(w));					\
	(r)->handle = w.handle;						\
	(r)->id = w.id;							\
	(r)->sector_number = w.sector_number;				\
	(r)->u.indirect.indirect_op = w.indirect_op;			\
	(r)->u.indirect.nr_segments = w.nr_segments;			\
	memcpy((r)->u.indirect.indirect_grefs, w.indirect_grefs,	\
	       sizeof(w.indirect_grefs));				\
} while (0)

void abi_decode_request(enum blk_abi abi, const void *slot, struct blk_request *req)
{
	memset(req, 0, sizeof(*req));
	req->operation = *(const uint8_t *)slot;
	if (abi == BLK_ABI_X86_32) {
		if (req->operation == BLKIF_OP_DISCARD)
			DECODE_DISCARD(struct discard_x32, slot, req);
		else if (req->operation == BLKIF_OP_INDIRECT)
			DECODE_INDIRECT(struct indirect_x32, slot, req);
		else
			DECODE_RW(struct rw_x32, slot, req);
	} else {
		if (req->operation == BLKIF_OP_DISCARD)
			DECODE_DISCARD(struct discard_x64, slot, req);
		else if (req->operation == BLKIF_OP_INDIRECT)
			DECODE_INDIRECT(struct indirect_x64, slot, req);
		else
			DECODE_RW(struct rw_x64, slot, req);
	}
}

void abi_encode_segment(void *dst, const struct blk_seg *seg)
{
	struct seg_wire w = {
		.gref = seg->gref,
		.first_sect = seg->first_sect,
		.last_sect = seg->last_sect,
	};
	memcpy(dst, &w, sizeof(w));
}
