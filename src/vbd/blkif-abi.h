/* SPDX-License-Identifier: MIT */
/*
 * The blkif ring ABIs, as laid out in guest memory.
 *
 * A frontend writes requests in its own ABI (frontend node "protocol"):
 * x86_64 and x86_32 guests lay out the same fields differently, because
 * i386 aligns 64-bit integers to 4 bytes. The public header only describes
 * the native layout, so both are spelled out here from the protocol's field
 * sizes and alignment; tests/unit/test-vbd-abi asserts every offset.
 *
 * Both rings share the generic header (req_prod, req_event, rsp_prod,
 * rsp_event, 48 bytes of padding) and differ in the size of a ring entry,
 * which is the larger of the request and the response.
 */
#ifndef VBD_BLKIF_ABI_H
#define VBD_BLKIF_ABI_H

#include <stddef.h>
#include <stdint.h>

/* <xen/io/ring.h> with userspace barriers (blkif.h uses its macros). */
#include <xenbackd/io-ring.h>
#include <xenbackd/ring.h>

#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

#define VBD_PAGE_SIZE XBD_PAGE_SIZE
#define VBD_SECTOR_SHIFT 9			/* blkif sectors: 512 bytes */
#define VBD_SECTORS_PER_PAGE (VBD_PAGE_SIZE >> VBD_SECTOR_SHIFT)

/* Segments in one indirect page, and the protocol's upper bound. */
#define VBD_SEGS_PER_INDIRECT_PAGE \
	(VBD_PAGE_SIZE / sizeof(struct blkif_request_segment))
#define VBD_MAX_INDIRECT_SEGMENTS \
	(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * VBD_SEGS_PER_INDIRECT_PAGE)

/*
 * The ring ABIs and ring sizes are the kit's (ring.h: enum xbd_abi,
 * XBD_MAX_RING_ORDER, XBD_MAX_QUEUES, xbd_ring_entries()).
 */

/* ---- x86_64: natural alignment ------------------------------------- */

struct vbd_x86_64_request {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	uint32_t _pad1;
	uint64_t id;
	uint64_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct vbd_x86_64_request_discard {
	uint8_t operation;
	uint8_t flag;
	uint16_t handle;
	uint32_t _pad1;
	uint64_t id;
	uint64_t sector_number;
	uint64_t nr_sectors;
};

struct vbd_x86_64_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint32_t _pad1;
	uint64_t id;
	uint64_t sector_number;
	uint16_t handle;
	uint16_t _pad2;
	uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint32_t _pad3;
};

struct vbd_x86_64_response {
	uint64_t id;
	uint8_t operation;
	uint8_t _pad1;
	int16_t status;
	uint32_t _pad2;
};

/* ---- x86_32: 64-bit fields aligned to 4 bytes ---------------------- */

struct vbd_x86_32_request {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	uint64_t id;
	uint64_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __attribute__((packed, aligned(4)));

struct vbd_x86_32_request_discard {
	uint8_t operation;
	uint8_t flag;
	uint16_t handle;
	uint64_t id;
	uint64_t sector_number;
	uint64_t nr_sectors;
} __attribute__((packed, aligned(4)));

struct vbd_x86_32_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint64_t id;
	uint64_t sector_number;
	uint16_t handle;
	uint16_t _pad1;
	uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint64_t _pad2;
} __attribute__((packed, aligned(4)));

struct vbd_x86_32_response {
	uint64_t id;
	uint8_t operation;
	uint8_t _pad1;
	int16_t status;
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct blkif_request_segment) == 8, "segment size");
_Static_assert(sizeof(struct vbd_x86_64_request) == 112, "x86_64 request");
_Static_assert(sizeof(struct vbd_x86_64_request_discard) == 32, "x86_64 discard");
_Static_assert(sizeof(struct vbd_x86_64_request_indirect) == 64, "x86_64 indirect");
_Static_assert(sizeof(struct vbd_x86_64_response) == 16, "x86_64 response");
_Static_assert(sizeof(struct vbd_x86_32_request) == 108, "x86_32 request");
_Static_assert(sizeof(struct vbd_x86_32_request_discard) == 28, "x86_32 discard");
_Static_assert(sizeof(struct vbd_x86_32_request_indirect) == 64, "x86_32 indirect");
_Static_assert(sizeof(struct vbd_x86_32_response) == 12, "x86_32 response");

/* Size of one ring entry (union of request and response). */
#define VBD_X86_64_ENTRY_SIZE 112u
#define VBD_X86_32_ENTRY_SIZE 108u
#define VBD_MAX_ENTRY_SIZE 112u

static inline unsigned int vbd_abi_entry_size(enum xbd_abi abi)
{
	return abi == XBD_ABI_X86_32 ? VBD_X86_32_ENTRY_SIZE
				     : VBD_X86_64_ENTRY_SIZE;
}

static inline unsigned int vbd_abi_response_size(enum xbd_abi abi)
{
	return abi == XBD_ABI_X86_32 ? sizeof(struct vbd_x86_32_response)
				     : sizeof(struct vbd_x86_64_response);
}

/* Entries in a ring of 2^order pages (as __CONST_RING_SIZE). */
static inline unsigned int vbd_ring_entries(enum xbd_abi abi,
					    unsigned int order)
{
	return xbd_ring_entries(1u << order, vbd_abi_entry_size(abi));
}

#endif
