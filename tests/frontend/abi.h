/* SPDX-License-Identifier: MIT */
/*
 * blkif ring ABIs: the wire layout of requests and responses.
 *
 * A 32-bit and a 64-bit x86 guest lay out the same blkif structs
 * differently (uint64_t is 4-byte aligned on i386), and the backend is told
 * which one through the frontend's `protocol` node. The frontend works on
 * ABI-neutral structs below and encodes them into a ring slot for the ABI it
 * negotiated, so the same request logic serves both layouts.
 */
#ifndef BLKFRONT_ABI_H
#define BLKFRONT_ABI_H

#include <stddef.h>
#include <stdint.h>

#include <xen/io/blkif.h>

enum blk_abi {
	BLK_ABI_X86_64,
	BLK_ABI_X86_32,
};

/* The shared ring header (indexes, events, padding) before the slots. */
#define SRING_HEADER_SIZE 64
#define XEN_PAGE 4096u

/* Segment descriptors in a ring slot and in indirect pages: 8 bytes each. */
#define BLK_SEG_WIRE_SIZE 8
#define SEGS_PER_INDIRECT_PAGE (XEN_PAGE / BLK_SEG_WIRE_SIZE)
/* The most segments an indirect request can name (8 pages of 512). */
#define BLK_MAX_INDIRECT_SEGS \
	(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * SEGS_PER_INDIRECT_PAGE)

struct blk_seg {
	uint32_t gref;
	uint8_t first_sect, last_sect;	/* 512-byte units within the page */
};

/*
 * What the frontend means to send. The union member used follows
 * `operation`: discard for BLKIF_OP_DISCARD, indirect for
 * BLKIF_OP_INDIRECT, rw for everything else (including unknown
 * operations, which hostile mode sends on purpose).
 */
struct blk_request {
	uint8_t operation;
	uint16_t handle;
	uint64_t id;
	uint64_t sector_number;		/* always 512-byte units */
	union {
		struct {
			/* May claim more than the 11 slots carry (hostile). */
			uint8_t nr_segments;
			struct blk_seg seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
		} rw;
		struct {
			uint8_t flag;
			uint64_t nr_sectors;
		} discard;
		struct {
			uint8_t indirect_op;
			uint16_t nr_segments;
			uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
		} indirect;
	} u;
};

struct blk_response {
	uint64_t id;
	uint8_t operation;
	int16_t status;
};

const char *abi_protocol(enum blk_abi abi);
/* "x86_64", "x86_64-abi", "x86_32", "x86_32-abi"; -1 when unknown. */
int abi_parse(const char *s, enum blk_abi *abi);

/* Size of one ring slot: the larger of request and response. */
size_t abi_slot_size(enum blk_abi abi);

/* Writes the whole slot: unused bytes are zeroed, never left stale. */
void abi_encode_request(enum blk_abi abi, void *slot,
			const struct blk_request *req);
void abi_decode_response(enum blk_abi abi, const void *slot,
			 struct blk_response *rsp);

/* The backend's side, for the self-test's in-process fake backend. */
void abi_encode_response(enum blk_abi abi, void *slot,
			 const struct blk_response *rsp);
void abi_decode_request(enum blk_abi abi, const void *slot,
			struct blk_request *req);

/* One segment descriptor in an indirect page (same in both ABIs). */
void abi_encode_segment(void *dst, const struct blk_seg *seg);

#endif
