/* SPDX-License-Identifier: MIT */
/*
 * Ring requests: one copy out of shared memory, then validation.
 */
#include <string.h>

#include "vbd/request.h"

void vbd_request_copy(enum xbd_abi abi, const void *entry,
		      struct vbd_raw_request *raw)
{
	size_t n = vbd_abi_entry_size(abi);

	memcpy(raw->bytes, entry, n);
	memset(raw->bytes + n, 0, sizeof(raw->bytes) - n);
}

/* sector..sector+n within the disk, without overflow. */
static bool range_ok(const struct vbd_limits *lim, uint64_t sector,
		     uint64_t n)
{
	return sector <= lim->nr_sectors && n <= lim->nr_sectors - sector;
}

/* Aligned to the logical sector size (blkif counts 512-byte units). */
static bool aligned_ok(const struct vbd_limits *lim, uint64_t sector,
		       uint64_t n)
{
	uint64_t per = lim->sector_size >> VBD_SECTOR_SHIFT;

	if (per <= 1)
		return true;
	return sector % per == 0 && n % per == 0;
}

static bool segment_ok(const struct vbd_segment *s)
{
	return s->first_sect <= s->last_sect &&
	       s->last_sect < VBD_SECTORS_PER_PAGE;
}

static uint64_t segment_sectors(const struct vbd_segment *s)
{
	return (uint64_t)s->last_sect - s->first_sect + 1;
}

/* The fields common to read, write, flush and barrier requests. */
struct rw_fields {
	uint8_t nr_segments;
	uint64_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

static void get_rw(enum xbd_abi abi, const struct vbd_raw_request *raw,
		   struct rw_fields *f)
{
	if (abi == XBD_ABI_X86_32) {
		struct vbd_x86_32_request r;

		memcpy(&r, raw->bytes, sizeof(r));
		f->nr_segments = r.nr_segments;
		f->sector_number = r.sector_number;
		memcpy(f->seg, r.seg, sizeof(f->seg));
	} else {
		struct vbd_x86_64_request r;

		memcpy(&r, raw->bytes, sizeof(r));
		f->nr_segments = r.nr_segments;
		f->sector_number = r.sector_number;
		memcpy(f->seg, r.seg, sizeof(f->seg));
	}
}

static uint64_t get_id(enum xbd_abi abi, const struct vbd_raw_request *raw)
{
	uint64_t id;

	/* The id has one offset in every request format of an ABI. */
	memcpy(&id, raw->bytes + (abi == XBD_ABI_X86_32 ? 4 : 8), sizeof(id));
	return id;
}

static int decode_rw(enum xbd_abi abi, const struct vbd_raw_request *raw,
		     const struct vbd_limits *lim, struct vbd_request *req)
{
	struct rw_fields f;
	unsigned int i, min_segs = 1;

	switch (req->operation) {
	case BLKIF_OP_READ:
		req->kind = VBD_REQ_READ;
		break;
	case BLKIF_OP_WRITE:
		req->kind = VBD_REQ_WRITE;
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:
		if (!lim->flush)
			return BLKIF_RSP_EOPNOTSUPP;
		req->kind = VBD_REQ_FLUSH;
		min_segs = 0;
		break;
	default: /* BLKIF_OP_WRITE_BARRIER */
		if (!lim->barrier)
			return BLKIF_RSP_EOPNOTSUPP;
		req->kind = VBD_REQ_BARRIER;
		min_segs = 0;
		break;
	}

	get_rw(abi, raw, &f);
	if (f.nr_segments < min_segs ||
	    f.nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return BLKIF_RSP_ERROR;
	req->nr_segments = f.nr_segments;
	req->sector = f.sector_number;
	for (i = 0; i < f.nr_segments; i++) {
		struct vbd_segment *s = &req->seg[i];

		s->gref = f.seg[i].gref;
		s->first_sect = f.seg[i].first_sect;
		s->last_sect = f.seg[i].last_sect;
		if (!segment_ok(s))
			return BLKIF_RSP_ERROR;
		req->nr_sectors += segment_sectors(s);
	}
	if (req->nr_segments == 0) {
		req->sector = 0;	/* a pure flush has no range */
		return BLKIF_RSP_OKAY;
	}
	if (lim->readonly && req->kind != VBD_REQ_READ)
		return BLKIF_RSP_ERROR;
	if (!range_ok(lim, req->sector, req->nr_sectors) ||
	    !aligned_ok(lim, req->sector, req->nr_sectors))
		return BLKIF_RSP_ERROR;
	return BLKIF_RSP_OKAY;
}

static int decode_discard(enum xbd_abi abi, const struct vbd_raw_request *raw,
			  const struct vbd_limits *lim,
			  struct vbd_request *req)
{
	uint8_t flag;

	req->kind = VBD_REQ_DISCARD;
	if (!lim->discard)
		return BLKIF_RSP_EOPNOTSUPP;
	if (abi == XBD_ABI_X86_32) {
		struct vbd_x86_32_request_discard r;

		memcpy(&r, raw->bytes, sizeof(r));
		flag = r.flag;
		req->sector = r.sector_number;
		req->nr_sectors = r.nr_sectors;
	} else {
		struct vbd_x86_64_request_discard r;

		memcpy(&r, raw->bytes, sizeof(r));
		flag = r.flag;
		req->sector = r.sector_number;
		req->nr_sectors = r.nr_sectors;
	}
	/* blkif.h: the secure flag is ignored unless discard-secure = 1. */
	req->secure = (flag & BLKIF_DISCARD_SECURE) && lim->discard_secure;
	if (lim->readonly)
		return BLKIF_RSP_ERROR;
	if (!range_ok(lim, req->sector, req->nr_sectors))
		return BLKIF_RSP_ERROR;
	return BLKIF_RSP_OKAY;
}

static int decode_indirect(enum xbd_abi abi, const struct vbd_raw_request *raw,
			   const struct vbd_limits *lim,
			   struct vbd_request *req)
{
	uint8_t indirect_op;
	uint16_t nr_segments;
	struct vbd_x86_32_request_indirect r32;
	struct vbd_x86_64_request_indirect r64;
	unsigned int i;

	if (abi == XBD_ABI_X86_32) {
		memcpy(&r32, raw->bytes, sizeof(r32));
		indirect_op = r32.indirect_op;
		nr_segments = r32.nr_segments;
		req->sector = r32.sector_number;
		memcpy(req->indirect_grefs, r32.indirect_grefs,
		       sizeof(req->indirect_grefs));
	} else {
		memcpy(&r64, raw->bytes, sizeof(r64));
		indirect_op = r64.indirect_op;
		nr_segments = r64.nr_segments;
		req->sector = r64.sector_number;
		memcpy(req->indirect_grefs, r64.indirect_grefs,
		       sizeof(req->indirect_grefs));
	}

	if (lim->max_indirect_segments == 0)
		return BLKIF_RSP_EOPNOTSUPP;
	/* As blkback: the response echoes the operation performed. */
	req->rsp_operation = indirect_op;
	if (indirect_op == BLKIF_OP_READ)
		req->kind = VBD_REQ_READ;
	else if (indirect_op == BLKIF_OP_WRITE)
		req->kind = VBD_REQ_WRITE;
	else
		return BLKIF_RSP_ERROR;
	if (nr_segments == 0 || nr_segments > lim->max_indirect_segments ||
	    nr_segments > VBD_MAX_INDIRECT_SEGMENTS)
		return BLKIF_RSP_ERROR;
	if (lim->readonly && req->kind == VBD_REQ_WRITE)
		return BLKIF_RSP_ERROR;
	req->nr_segments = nr_segments;
	req->nr_indirect_pages = (nr_segments + VBD_SEGS_PER_INDIRECT_PAGE - 1) /
				 VBD_SEGS_PER_INDIRECT_PAGE;
	for (i = req->nr_indirect_pages;
	     i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
		req->indirect_grefs[i] = 0;
	/* Cheap early check: the range can only grow from here. */
	if (req->sector >= lim->nr_sectors)
		return BLKIF_RSP_ERROR;
	return BLKIF_RSP_OKAY;
}

int vbd_request_decode(enum xbd_abi abi, const struct vbd_raw_request *raw,
		       const struct vbd_limits *lim, struct vbd_request *req)
{
	memset(req, 0, sizeof(*req));
	req->operation = raw->bytes[0];
	req->rsp_operation = req->operation;
	req->id = get_id(abi, raw);

	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		return decode_rw(abi, raw, lim, req);
	case BLKIF_OP_DISCARD:
		return decode_discard(abi, raw, lim, req);
	case BLKIF_OP_INDIRECT:
		return decode_indirect(abi, raw, lim, req);
	default:
		return BLKIF_RSP_EOPNOTSUPP;
	}
}

int vbd_request_indirect_segments(struct vbd_request *req,
				  const struct vbd_limits *lim,
				  const volatile void *const *pages,
				  struct vbd_segment *segs)
{
	unsigned int i;
	uint64_t total = 0;

	for (i = 0; i < req->nr_segments; i++) {
		const volatile uint64_t *page =
			pages[i / VBD_SEGS_PER_INDIRECT_PAGE];
		/* One read of the whole 8-byte segment. */
		uint64_t v = page[i % VBD_SEGS_PER_INDIRECT_PAGE];
		struct vbd_segment *s = &segs[i];

		s->gref = (uint32_t)v;
		s->first_sect = (uint8_t)(v >> 32);
		s->last_sect = (uint8_t)(v >> 40);
		if (!segment_ok(s))
			return BLKIF_RSP_ERROR;
		total += segment_sectors(s);
	}
	req->nr_sectors = total;
	if (!range_ok(lim, req->sector, req->nr_sectors) ||
	    !aligned_ok(lim, req->sector, req->nr_sectors))
		return BLKIF_RSP_ERROR;
	return BLKIF_RSP_OKAY;
}

size_t vbd_response_build(enum xbd_abi abi, union vbd_response *rsp,
			  uint64_t id, uint8_t operation, int16_t status)
{
	memset(rsp, 0, sizeof(*rsp));
	if (abi == XBD_ABI_X86_32) {
		rsp->r32.id = id;
		rsp->r32.operation = operation;
		rsp->r32.status = status;
	} else {
		rsp->r64.id = id;
		rsp->r64.operation = operation;
		rsp->r64.status = status;
	}
	return vbd_abi_response_size(abi);
}
