/* SPDX-License-Identifier: MIT */
/*
 * Pages granted to the backend for request data and indirect descriptors.
 *
 * xengntshr can only grant memory it allocated itself, so request data is
 * copied into granted pages (writes) or out of them (reads), as Linux
 * blkfront does with persistent grants. Two modes:
 *
 *   per request   pages are shared for one request (read-only for the
 *                 backend when it only reads them) and unshared when the
 *                 response arrives;
 *   persistent    (feature-persistent negotiated) pages come from a pool
 *                 that grows in chunks, are always granted writable
 *                 (blkif.h note 8) and are reused LIFO so the backend's
 *                 mapping cache stays small.
 */
#ifndef BLKFRONT_GRANTS_H
#define BLKFRONT_GRANTS_H

#include <stdbool.h>
#include <stdint.h>

#include <xengnttab.h>

struct grant_pool;

/* A set of granted pages handed to one request. */
struct grant_pages {
	unsigned n;
	uint32_t *refs;		/* n grant references */
	void **addr;		/* n local page addresses */
	/* private */
	void *shared_base;	/* per-request mapping to unshare, or NULL */
	unsigned *pool_idx;	/* persistent: pool page numbers */
};

/* Pages per pool growth step. */
#define GPOOL_CHUNK_PAGES 32

/*
 * max_pages bounds the persistent pool (0: no bound other than what
 * xengntshr refuses).
 */
struct grant_pool *gpool_new(xengntshr_handle *xgs, uint32_t domid,
			     bool persistent, unsigned max_pages);

/*
 * Grants n pages. backend_writes: the backend will write them (a read
 * from disk); ignored in persistent mode. Returns 0, or -1 with errno
 * (ENOSPC: the pool or xengntshr is out of grants for now).
 */
int gpool_get(struct grant_pool *p, unsigned n, bool backend_writes,
	      struct grant_pages *out);

/* Returns the pages: unshared (per request) or back to the pool. */
void gpool_put(struct grant_pool *p, struct grant_pages *g);

/* Unshares every pool page. */
void gpool_free(struct grant_pool *p);

bool gpool_persistent(const struct grant_pool *p);
/* Pages currently shared with the backend (pool pages included). */
unsigned long gpool_shared_pages(const struct grant_pool *p);

#endif
