/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: a ring slot (and indirect segment pages) as a guest
 * could write them, through the block class's copy and validation.
 *
 * Input: byte 0 chooses the ABI and the device's limits, bytes 1..112 are
 * the ring slot, the rest fills the indirect pages. Every request that
 * validates is checked against the limits it was validated for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vbd/request.h"

#define ASSERT(c) do { if (!(c)) abort(); } while (0)

static void check_segment(const struct vbd_segment *s)
{
	ASSERT(s->first_sect <= s->last_sect);
	ASSERT(s->last_sect < VBD_SECTORS_PER_PAGE);
}

static void check_range(const struct vbd_request *q,
			const struct vbd_limits *lim)
{
	ASSERT(q->sector <= lim->nr_sectors);
	ASSERT(q->nr_sectors <= lim->nr_sectors - q->sector);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST][512];
	static struct vbd_segment segs[VBD_MAX_INDIRECT_SEGMENTS];
	const volatile void *pp[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	unsigned char slot[VBD_MAX_ENTRY_SIZE];
	struct vbd_raw_request raw;
	struct vbd_limits lim;
	struct vbd_request q;
	enum xbd_abi abi;
	uint8_t cfg;
	unsigned int i;
	uint64_t total;
	int st;

	if (size < 1)
		return 0;
	cfg = data[0];
	data++;
	size--;
	abi = (cfg & 1) ? XBD_ABI_X86_32 : XBD_ABI_X86_64;
	memset(&lim, 0, sizeof(lim));
	lim.nr_sectors = (cfg & 2) ? 2048 : UINT64_MAX - 7;
	lim.sector_size = (cfg & 4) ? 4096 : 512;
	lim.readonly = cfg & 8;
	lim.flush = cfg & 16;
	lim.barrier = cfg & 32;
	lim.discard = cfg & 64;
	lim.discard_secure = lim.discard && (cfg & 128);
	lim.max_indirect_segments = (cfg & 16) ? 4096 : (cfg & 32) ? 256 : 0;

	memset(slot, 0, sizeof(slot));
	memcpy(slot, data, size < sizeof(slot) ? size : sizeof(slot));
	vbd_request_copy(abi, slot, &raw);
	st = vbd_request_decode(abi, &raw, &lim, &q);
	ASSERT(st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR ||
	       st == BLKIF_RSP_EOPNOTSUPP);
	{
		union vbd_response rsp;
		size_t len = vbd_response_build(abi, &rsp, q.id,
						q.rsp_operation, (int16_t)st);

		ASSERT(len == vbd_abi_response_size(abi));
		memcpy(slot, &rsp, len);
	}
	if (st != BLKIF_RSP_OKAY)
		return 0;

	if (lim.readonly)
		ASSERT(!vbd_request_writes(&q));
	if (q.nr_indirect_pages) {
		size_t rest = size > sizeof(slot) ? size - sizeof(slot) : 0;

		ASSERT(q.operation == BLKIF_OP_INDIRECT);
		ASSERT(q.nr_segments >= 1);
		ASSERT(q.nr_segments <= lim.max_indirect_segments);
		ASSERT(q.nr_indirect_pages <= BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
		ASSERT((q.nr_indirect_pages - 1) * VBD_SEGS_PER_INDIRECT_PAGE <
		       q.nr_segments);
		memset(pages, 0, sizeof(pages));
		memcpy(pages, data + sizeof(slot),
		       rest < sizeof(pages) ? rest : sizeof(pages));
		for (i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
			pp[i] = pages[i];
		st = vbd_request_indirect_segments(&q, &lim, pp, segs);
		ASSERT(st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR);
		if (st != BLKIF_RSP_OKAY)
			return 0;
		total = 0;
		for (i = 0; i < q.nr_segments; i++) {
			check_segment(&segs[i]);
			total += segs[i].last_sect - segs[i].first_sect + 1u;
		}
		ASSERT(total == q.nr_sectors);
		check_range(&q, &lim);
		return 0;
	}

	switch (q.kind) {
	case VBD_REQ_READ:
	case VBD_REQ_WRITE:
		ASSERT(q.nr_segments >= 1);
		/* fall through */
	case VBD_REQ_FLUSH:
	case VBD_REQ_BARRIER:
		ASSERT(q.nr_segments <= BLKIF_MAX_SEGMENTS_PER_REQUEST);
		total = 0;
		for (i = 0; i < q.nr_segments; i++) {
			check_segment(&q.seg[i]);
			total += q.seg[i].last_sect - q.seg[i].first_sect + 1u;
		}
		ASSERT(total == q.nr_sectors);
		if (q.nr_segments)
			check_range(&q, &lim);
		if (q.kind == VBD_REQ_FLUSH)
			ASSERT(lim.flush);
		if (q.kind == VBD_REQ_BARRIER)
			ASSERT(lim.barrier);
		if (q.nr_segments && lim.sector_size == 4096)
			ASSERT(q.sector % 8 == 0 && q.nr_sectors % 8 == 0);
		break;
	case VBD_REQ_DISCARD:
		ASSERT(lim.discard);
		check_range(&q, &lim);
		if (q.secure)
			ASSERT(lim.discard_secure);
		break;
	}
	return 0;
}
