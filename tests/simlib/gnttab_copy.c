/* SPDX-License-Identifier: MIT */
/*
 * xengnttab_grant_copy: GNTTABOP_copy through gntdev. The foreign side is
 * read or written in the granting domain's memory file with pread/pwrite,
 * under a pin of the grant like Xen's acquire_grant_for_copy, so no mapping
 * is made and the granter cannot free the page mid-copy.
 */
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <xen/grant_table.h>

#include "gntdev_handle.h"

struct side {
	struct gt_dom *dom;
	uint32_t ref;
	off_t off;	/* in the memory file */
};

/* Pins one foreign side; returns its GNTST_* status. */
static int acquire(xengnttab_handle *h, uint32_t ref, uint16_t offset,
		   uint16_t domid, bool write, struct side *s)
{
	int st;

	s->dom = gnt_dom(h, domid);
	if (!s->dom)
		return GNTST_bad_domain;
	st = gt_pin(s->dom, ref, h->env.domid, write);
	if (st != GNTST_okay) {
		s->dom = NULL;
		return st;
	}
	s->ref = ref;
	s->off = (off_t)ref * SIM_PAGE_SIZE + offset;
	return GNTST_okay;
}

static void release(struct side *s)
{
	if (s->dom)
		gt_unpin(s->dom, s->ref);
}

static int16_t copy_segment(xengnttab_handle *h,
			    xengnttab_grant_copy_segment_t *seg)
{
	struct side src = { 0 }, dst = { 0 };
	char buf[SIM_PAGE_SIZE];
	size_t len = seg->len;
	int st = GNTST_okay;
	bool ok;

	if (seg->flags & GNTCOPY_source_gref)
		st = acquire(h, seg->source.foreign.ref,
			     seg->source.foreign.offset,
			     seg->source.foreign.domid, false, &src);
	if (st == GNTST_okay && (seg->flags & GNTCOPY_dest_gref))
		st = acquire(h, seg->dest.foreign.ref, seg->dest.foreign.offset,
			     seg->dest.foreign.domid, true, &dst);
	if (st != GNTST_okay)
		goto out;

	if (src.dom && dst.dom)
		ok = pread(src.dom->mem_rw, buf, len, src.off) == (ssize_t)len &&
		     pwrite(dst.dom->mem_rw, buf, len, dst.off) == (ssize_t)len;
	else if (src.dom)
		ok = pread(src.dom->mem_rw, seg->dest.virt, len, src.off) ==
		     (ssize_t)len;
	else
		ok = pwrite(dst.dom->mem_rw, seg->source.virt, len, dst.off) ==
		     (ssize_t)len;
	if (!ok)
		st = GNTST_general_error;
out:
	release(&dst);
	release(&src);
	return (int16_t)st;
}

int xengnttab_grant_copy(xengnttab_handle *h, uint32_t count,
			 xengnttab_grant_copy_segment_t *segs)
{
	if (gnt_usable(h) < 0) {
		GTERR(h, "ioctl GRANT COPY failed %d ", errno);
		return -1;
	}
	/*
	 * gntdev rejects the whole call (EINVAL) for a local-to-local
	 * segment or a foreign side crossing its page; Xen never sees it.
	 */
	for (uint32_t i = 0; i < count; i++) {
		const xengnttab_grant_copy_segment_t *s = &segs[i];

		if (!(s->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)) ||
		    ((s->flags & GNTCOPY_source_gref) &&
		     s->source.foreign.offset + s->len > SIM_PAGE_SIZE) ||
		    ((s->flags & GNTCOPY_dest_gref) &&
		     s->dest.foreign.offset + s->len > SIM_PAGE_SIZE)) {
			errno = EINVAL;
			GTERR(h, "ioctl GRANT COPY failed %d (segment %u)",
			      errno, i);
			return -1;
		}
	}
	for (uint32_t i = 0; i < count; i++)
		segs[i].status = copy_segment(h, &segs[i]);
	return 0;
}
