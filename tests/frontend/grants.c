/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "abi.h"
#include "grants.h"

/* Pool growth step: one xengntshr_share_pages call per chunk. */
#define CHUNK_PAGES GPOOL_CHUNK_PAGES

struct chunk {
	void *base;
	uint32_t refs[CHUNK_PAGES];
};

struct grant_pool {
	xengntshr_handle *xgs;
	uint32_t domid;
	bool persistent;
	unsigned max_pages;
	unsigned long shared;	/* pages shared right now */

	/* persistent mode */
	struct chunk *chunks;
	unsigned nr_chunks;
	unsigned *free_stack;	/* LIFO of free page numbers */
	unsigned nr_free;
};

struct grant_pool *gpool_new(xengntshr_handle *xgs, uint32_t domid,
			     bool persistent, unsigned max_pages)
{
	struct grant_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->xgs = xgs;
	p->domid = domid;
	p->persistent = persistent;
	p->max_pages = max_pages;
	return p;
}

bool gpool_persistent(const struct grant_pool *p)
{
	return p->persistent;
}

unsigned long gpool_shared_pages(const struct grant_pool *p)
{
	return p->shared;
}

static int alloc_arrays(struct grant_pages *g, unsigned n, bool with_idx)
{
	g->n = n;
	g->refs = calloc(n ? n : 1, sizeof(*g->refs));
	g->addr = calloc(n ? n : 1, sizeof(*g->addr));
	g->pool_idx = with_idx ? calloc(n ? n : 1, sizeof(*g->pool_idx)) : NULL;
	if (!g->refs || !g->addr || (with_idx && !g->pool_idx)) {
		free(g->refs);
		free(g->addr);
		free(g->pool_idx);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void free_arrays(struct grant_pages *g)
{
	free(g->refs);
	free(g->addr);
	free(g->pool_idx);
	g->refs = NULL;
	g->addr = NULL;
	g->pool_idx = NULL;
	g->n = 0;
}

/* Adds one chunk of writable pages to the persistent pool. */
static int grow(struct grant_pool *p)
{
	unsigned total = p->nr_chunks * CHUNK_PAGES;
	struct chunk *c;
	unsigned *st;

	if (p->max_pages && total + CHUNK_PAGES > p->max_pages) {
		errno = ENOSPC;
		return -1;
	}
	c = realloc(p->chunks, (p->nr_chunks + 1) * sizeof(*c));
	if (!c)
		return -1;
	p->chunks = c;
	st = realloc(p->free_stack, (total + CHUNK_PAGES) * sizeof(*st));
	if (!st)
		return -1;
	p->free_stack = st;
	c = &p->chunks[p->nr_chunks];
	c->base = xengntshr_share_pages(p->xgs, p->domid, CHUNK_PAGES, c->refs, 1);
	if (!c->base) {
		/* The driver's grant limit (gntalloc `limit`) is a "not now". */
		if (errno == ENOMEM || errno == ENOSPC)
			errno = ENOSPC;
		return -1;
	}
	/* Push in reverse so the lowest page is handed out first. */
	for (unsigned i = CHUNK_PAGES; i-- > 0;)
		p->free_stack[p->nr_free++] = total + i;
	p->nr_chunks++;
	p->shared += CHUNK_PAGES;
	return 0;
}

int gpool_get(struct grant_pool *p, unsigned n, bool backend_writes,
	      struct grant_pages *out)
{
	out->shared_base = NULL;
	if (!p->persistent) {
		if (alloc_arrays(out, n, false))
			return -1;
		if (n == 0)
			return 0;
		out->shared_base = xengntshr_share_pages(p->xgs, p->domid, (int)n,
							 out->refs, backend_writes);
		if (!out->shared_base) {
			int e = errno;

			free_arrays(out);
			errno = (e == ENOMEM || e == ENOSPC) ? ENOSPC : e;
			return -1;
		}
		for (unsigned i = 0; i < n; i++)
			out->addr[i] = (char *)out->shared_base + (size_t)i * XEN_PAGE;
		p->shared += n;
		return 0;
	}

	while (p->nr_free < n)
		if (grow(p))
			return -1;
	if (alloc_arrays(out, n, true))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		unsigned idx = p->free_stack[--p->nr_free];
		struct chunk *c = &p->chunks[idx / CHUNK_PAGES];

		out->pool_idx[i] = idx;
		out->refs[i] = c->refs[idx % CHUNK_PAGES];
		out->addr[i] = (char *)c->base + (size_t)(idx % CHUNK_PAGES) * XEN_PAGE;
	}
	return 0;
}

void gpool_put(struct grant_pool *p, struct grant_pages *g)
{
	if (g->shared_base) {
		xengntshr_unshare(p->xgs, g->shared_base, g->n);
		p->shared -= g->n;
	} else if (g->pool_idx) {
		/* Reverse order: the pages used first are reused first. */
		for (unsigned i = g->n; i-- > 0;)
			p->free_stack[p->nr_free++] = g->pool_idx[i];
	}
	g->shared_base = NULL;
	free_arrays(g);
}

void gpool_free(struct grant_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->nr_chunks; i++)
		xengntshr_unshare(p->xgs, p->chunks[i].base, CHUNK_PAGES);
	p->shared -= (unsigned long)p->nr_chunks * CHUNK_PAGES;
	free(p->chunks);
	free(p->free_stack);
	free(p);
}
