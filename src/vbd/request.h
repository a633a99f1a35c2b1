/* SPDX-License-Identifier: MIT */
/*
 * Ring requests: copied out of shared memory once, then validated.
 *
 * Pure functions with no I/O, so that unit tests and fuzzers call them
 * directly. The kit ring (ring.h) reads a request from its slot once into
 * private memory (XSA-155: the guest can rewrite the slot at any time;
 * only the copy is ever looked at); here it is decoded for its ABI into a
 * struct vbd_request whose every field has been checked against the
 * device's limits. Responses are built fully initialised in private
 * memory (XSA-216) and copied into the slot whole by the ring.
 */
#ifndef VBD_REQUEST_H
#define VBD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vbd/blkif-abi.h"

/* What the backend does for a request. */
enum vbd_req_kind {
	VBD_REQ_READ,
	VBD_REQ_WRITE,
	VBD_REQ_FLUSH,		/* flush cache; may carry data to write after */
	VBD_REQ_BARRIER,	/* drain, flush, then write its data, if any */
	VBD_REQ_DISCARD,
};

/* One segment: part of a granted guest page, in 512-byte sectors. */
struct vbd_segment {
	uint32_t gref;
	uint8_t first_sect;
	uint8_t last_sect;
};

/* The device as request validation sees it. */
struct vbd_limits {
	uint64_t nr_sectors;		/* disk size in 512-byte sectors */
	unsigned int sector_size;	/* logical: 512 or 4096 */
	bool readonly;
	bool flush;			/* BLKIF_OP_FLUSH_DISKCACHE offered */
	bool barrier;			/* BLKIF_OP_WRITE_BARRIER offered */
	bool discard;			/* BLKIF_OP_DISCARD offered */
	bool discard_secure;		/* BLKIF_DISCARD_SECURE honoured */
	unsigned int max_indirect_segments;	/* 0: no BLKIF_OP_INDIRECT */
};

/* A copied and validated request. */
struct vbd_request {
	uint64_t id;			/* echoed in the response */
	uint8_t rsp_operation;		/* operation echoed in the response */
	uint8_t operation;		/* BLKIF_OP_* as on the ring */
	enum vbd_req_kind kind;
	bool secure;			/* secure discard */
	uint64_t sector;		/* first 512-byte sector */
	uint64_t nr_sectors;		/* length in 512-byte sectors */
	/* Read/write segments: in seg[] unless indirect. */
	unsigned int nr_segments;
	/* Indirect requests: pages holding the segment list. */
	unsigned int nr_indirect_pages;
	uint32_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	struct vbd_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

/* A raw ring entry, copied out of shared memory. */
struct vbd_raw_request {
	union {
		uint64_t align;
		uint32_t words[VBD_MAX_ENTRY_SIZE / 4];
		unsigned char bytes[VBD_MAX_ENTRY_SIZE];
	};
};

/*
 * Takes a ring entry already copied into private memory (abi's entry
 * size) as a raw request, zero past the entry.
 */
void vbd_request_copy(enum xbd_abi abi, const void *entry,
		      struct vbd_raw_request *raw);

/*
 * Decodes and validates a copied request. Returns BLKIF_RSP_OKAY (0) with
 * *req complete (for an indirect request, nr_indirect_pages > 0 and its
 * segments still to be read with vbd_request_indirect_segments), or
 * BLKIF_RSP_ERROR / BLKIF_RSP_EOPNOTSUPP: answer the request with that
 * status; req->id and req->rsp_operation are always set.
 */
int vbd_request_decode(enum xbd_abi abi, const struct vbd_raw_request *raw,
		       const struct vbd_limits *lim, struct vbd_request *req);

/*
 * Reads and validates the segments of an indirect request from its mapped
 * indirect pages (pages[i] is the page granted by indirect_grefs[i]), each
 * segment read once, into segs[req->nr_segments]; then checks the request's
 * sector range. Returns BLKIF_RSP_OKAY or BLKIF_RSP_ERROR.
 */
int vbd_request_indirect_segments(struct vbd_request *req,
				  const struct vbd_limits *lim,
				  const volatile void *const *pages,
				  struct vbd_segment *segs);

/* A response in either ABI. */
union vbd_response {
	struct vbd_x86_64_response r64;
	struct vbd_x86_32_response r32;
	uint32_t words[4];
};

/*
 * Builds a response for abi in rsp, every byte set (padding zero), and
 * returns its size: what xbd_ring_answer() copies into the slot.
 */
size_t vbd_response_build(enum xbd_abi abi, union vbd_response *rsp,
			  uint64_t id, uint8_t operation, int16_t status);

/* Whether the request writes to the disk. */
static inline bool vbd_request_writes(const struct vbd_request *req)
{
	return req->kind == VBD_REQ_WRITE || req->kind == VBD_REQ_DISCARD ||
	       ((req->kind == VBD_REQ_FLUSH || req->kind == VBD_REQ_BARRIER) &&
		req->nr_segments > 0);
}

#endif
