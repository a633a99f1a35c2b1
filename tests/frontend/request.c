/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "request.h"

uint64_t req_nr_segs(unsigned page_offset, uint64_t len)
{
	return (page_offset + len + XEN_PAGE - 1) / XEN_PAGE;
}

void req_build_segs(const uint32_t *refs, unsigned n, unsigned page_offset,
		    uint64_t len, struct blk_seg *segs)
{
	uint64_t start = page_offset, end = page_offset + len;

	for (unsigned i = 0; i < n; i++) {
		uint64_t lo = (uint64_t)i * XEN_PAGE, hi = lo + XEN_PAGE;

		if (lo < start)
			lo = start;
		if (hi > end)
			hi = end;
		segs[i].gref = refs[i];
		segs[i].first_sect = (uint8_t)((lo % XEN_PAGE) / 512);
		segs[i].last_sect = (uint8_t)(((hi - 1) % XEN_PAGE) / 512);
	}
}

void req_copy(void *const *pages, unsigned n, unsigned page_offset, uint64_t len,
	      void *buf, bool to_pages)
{
	uint64_t done = 0;
	unsigned off = page_offset;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint64_t k = XEN_PAGE - off;

		if (k > len - done)
			k = len - done;
		if (to_pages)
			memcpy((char *)pages[i] + off, (char *)buf + done, k);
		else
			memcpy((char *)buf + done, (char *)pages[i] + off, k);
		done += k;
		off = 0;
	}
}

void req_fill_indirect(void *const *ind_pages, const struct blk_seg *segs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		abi_encode_segment((char *)ind_pages[i / SEGS_PER_INDIRECT_PAGE] +
				   (i % SEGS_PER_INDIRECT_PAGE) * BLK_SEG_WIRE_SIZE, &segs[i]);
}

unsigned req_nr_indirect_pages(unsigned n)
{
	return (n + SEGS_PER_INDIRECT_PAGE - 1) / SEGS_PER_INDIRECT_PAGE;
}
