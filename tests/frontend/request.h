/* SPDX-License-Identifier: MIT */
/*
 * Building a request's data description: which pages, and which 512-byte
 * sectors of each, carry [page_offset, page_offset + len) of a buffer.
 * Pure functions, shared by the request path and the self-test.
 */
#ifndef BLKFRONT_REQUEST_H
#define BLKFRONT_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "abi.h"

/* Pages (segments) that len bytes starting page_offset into a page span. */
uint64_t req_nr_segs(unsigned page_offset, uint64_t len);

/* One segment per page: its grant and first/last sector in the page. */
void req_build_segs(const uint32_t *refs, unsigned n, unsigned page_offset,
		    uint64_t len, struct blk_seg *segs);

/* Copies buf to the pages (to_pages) or the pages to buf. */
void req_copy(void *const *pages, unsigned n, unsigned page_offset, uint64_t len,
	      void *buf, bool to_pages);

/* Writes n segment descriptors into indirect pages, 512 per page. */
void req_fill_indirect(void *const *ind_pages, const struct blk_seg *segs, unsigned n);

/* Indirect pages needed for n segments. */
unsigned req_nr_indirect_pages(unsigned n);

#endif
