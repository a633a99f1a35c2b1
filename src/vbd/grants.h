/* SPDX-License-Identifier: MIT */
/*
 * Guest pages of a request: mapped per request, or kept mapped across
 * requests (persistent grants, blkif.h "feature-persistent").
 *
 * Every map can fail (XSA-362): a failed vbd_grants_map leaves nothing
 * mapped, and every mapped page is released by vbd_grants_unmap.
 */
#ifndef VBD_GRANTS_H
#define VBD_GRANTS_H

#include <stdbool.h>
#include <stdint.h>

#include <xengnttab.h>

#include "vbd/request.h"

struct vbd_grants;
struct vbd_pgrant;

/* One request's mapping. */
struct vbd_grant_map {
	void *batch;			/* pages mapped for this request only */
	unsigned int batch_count;
	unsigned int nr;		/* segments */
	struct vbd_pgrant **pers;	/* [nr]: persistent entry or NULL */
};

struct vbd_grant_stats {
	uint64_t maps;			/* map calls */
	uint64_t pages_mapped;
	uint64_t persistent_hits;
	uint64_t persistent_maps;
	uint64_t persistent_evictions;
	uint64_t copies;		/* grant copy calls */
	unsigned int persistent;	/* currently kept */
};

/*
 * Per ring. max_persistent = 0 turns persistent grants off for this
 * frontend.
 */
struct vbd_grants *vbd_grants_create(xengnttab_handle *h, uint32_t domid,
				     unsigned int max_persistent);
/* Unmaps every kept grant; no request may hold a mapping. */
void vbd_grants_destroy(struct vbd_grants *g);

/*
 * Maps the pages of segs[0..n): pages[i] gets the address of segment i's
 * page. to_guest: the backend writes into the pages (a disk read), so they
 * are mapped writable; else read-only. m->pers must point to n entries.
 * Returns 0, or -errno with nothing left mapped.
 */
int vbd_grants_map(struct vbd_grants *g, const struct vbd_segment *segs,
		   unsigned int n, bool to_guest, void **pages,
		   struct vbd_grant_map *m);
void vbd_grants_unmap(struct vbd_grants *g, struct vbd_grant_map *m);

/*
 * Grant copy instead of mapping: copies segs[0..n)'s data between the
 * guest's pages and buf (the segments' bytes back to back). to_guest:
 * buf -> guest (a disk read). Returns 0, or -errno when any part failed.
 */
int vbd_grants_copy(struct vbd_grants *g, const struct vbd_segment *segs,
		    unsigned int n, bool to_guest, void *buf);

/* Maps n pages read-only for a moment (indirect segment lists). */
void *vbd_grants_map_ro(struct vbd_grants *g, const uint32_t *refs,
			unsigned int n);
void vbd_grants_unmap_ro(struct vbd_grants *g, void *addr, unsigned int n);

const struct vbd_grant_stats *vbd_grants_stats(const struct vbd_grants *g);

#endif
