/* SPDX-License-Identifier: MIT */
/*
 * Guest pages of a request: per-request mappings and persistent grants.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vbd/grants.h"

/* A grant kept mapped (read-write, as blkif.h note 8 allows). */
struct vbd_pgrant {
	uint32_t gref;
	void *addr;
	unsigned int users;		/* requests using it now */
	struct vbd_pgrant *hash_next;
	struct vbd_pgrant *lru_prev, *lru_next;	/* idle ones, oldest first */
};

struct vbd_grants {
	xengnttab_handle *h;
	uint32_t domid;
	unsigned int max_persistent;
	unsigned int nbuckets;
	struct vbd_pgrant **buckets;
	struct vbd_pgrant *lru_head, *lru_tail;
	uint32_t *refs;			/* scratch for batch maps */
	unsigned int refs_cap;
	xengnttab_grant_copy_segment_t *copy;	/* scratch for copies */
	unsigned int copy_cap;
	struct vbd_grant_stats stats;
};

struct vbd_grants *vbd_grants_create(xengnttab_handle *h, uint32_t domid,
				     unsigned int max_persistent)
{
	struct vbd_grants *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->h = h;
	g->domid = domid;
	g->max_persistent = max_persistent;
	if (max_persistent) {
		g->nbuckets = 64;
		while (g->nbuckets < max_persistent)
			g->nbuckets *= 2;
		g->buckets = calloc(g->nbuckets, sizeof(*g->buckets));
		if (!g->buckets) {
			free(g);
			return NULL;
		}
	}
	return g;
}

static unsigned int bucket(const struct vbd_grants *g, uint32_t gref)
{
	return (gref * 2654435761u) & (g->nbuckets - 1);
}

static struct vbd_pgrant *lookup(struct vbd_grants *g, uint32_t gref)
{
	struct vbd_pgrant *p;

	for (p = g->buckets[bucket(g, gref)]; p; p = p->hash_next)
		if (p->gref == gref)
			return p;
	return NULL;
}

static void lru_remove(struct vbd_grants *g, struct vbd_pgrant *p)
{
	if (p->lru_prev)
		p->lru_prev->lru_next = p->lru_next;
	else
		g->lru_head = p->lru_next;
	if (p->lru_next)
		p->lru_next->lru_prev = p->lru_prev;
	else
		g->lru_tail = p->lru_prev;
	p->lru_prev = p->lru_next = NULL;
}

static void lru_append(struct vbd_grants *g, struct vbd_pgrant *p)
{
	p->lru_next = NULL;
	p->lru_prev = g->lru_tail;
	if (g->lru_tail)
		g->lru_tail->lru_next = p;
	else
		g->lru_head = p;
	g->lru_tail = p;
}

static void forget(struct vbd_grants *g, struct vbd_pgrant *p)
{
	struct vbd_pgrant **pp = &g->buckets[bucket(g, p->gref)];

	while (*pp != p)
		pp = &(*pp)->hash_next;
	*pp = p->hash_next;
	xengnttab_unmap(g->h, p->addr, 1);
	g->stats.persistent--;
	free(p);
}

/* Takes a persistent mapping of gref: kept, new, or NULL (use a batch). */
static struct vbd_pgrant *persistent_get(struct vbd_grants *g, uint32_t gref)
{
	struct vbd_pgrant *p = lookup(g, gref);

	if (p) {
		if (p->users++ == 0)
			lru_remove(g, p);
		g->stats.persistent_hits++;
		return p;
	}
	if (g->stats.persistent >= g->max_persistent) {
		/* Full: make room by dropping the least recently used. */
		if (!g->lru_head)
			return NULL;
		p = g->lru_head;
		lru_remove(g, p);
		forget(g, p);
		g->stats.persistent_evictions++;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->addr = xengnttab_map_grant_ref(g->h, g->domid, gref,
					  PROT_READ | PROT_WRITE);
	g->stats.maps++;
	if (!p->addr) {
		free(p);
		return NULL;
	}
	g->stats.pages_mapped++;
	g->stats.persistent_maps++;
	p->gref = gref;
	p->users = 1;
	p->hash_next = g->buckets[bucket(g, gref)];
	g->buckets[bucket(g, gref)] = p;
	g->stats.persistent++;
	return p;
}

static void persistent_put(struct vbd_grants *g, struct vbd_pgrant *p)
{
	if (--p->users == 0)
		lru_append(g, p);
}

static int grow_refs(struct vbd_grants *g, unsigned int n)
{
	uint32_t *r;

	if (n <= g->refs_cap)
		return 0;
	r = realloc(g->refs, n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	g->refs = r;
	g->refs_cap = n;
	return 0;
}

int vbd_grants_map(struct vbd_grants *g, const struct vbd_segment *segs,
		   unsigned int n, bool to_guest, void **pages,
		   struct vbd_grant_map *m)
{
	unsigned int i, k = 0;
	int prot = to_guest ? PROT_READ | PROT_WRITE : PROT_READ;
	int err;

	m->batch = NULL;
	m->batch_count = 0;
	m->nr = n;
	for (i = 0; i < n; i++)
		m->pers[i] = g->max_persistent ? persistent_get(g, segs[i].gref)
					       : NULL;
	err = grow_refs(g, n);
	if (err)
		goto fail;
	for (i = 0; i < n; i++)
		if (!m->pers[i])
			g->refs[k++] = segs[i].gref;
	if (k) {
		m->batch = xengnttab_map_domain_grant_refs(g->h, k, g->domid,
							   g->refs, prot);
		g->stats.maps++;
		if (!m->batch) {
			err = errno ? -errno : -EFAULT;
			goto fail;
		}
		g->stats.pages_mapped += k;
		m->batch_count = k;
	}
	for (i = 0, k = 0; i < n; i++)
		pages[i] = m->pers[i] ? m->pers[i]->addr
				      : (char *)m->batch + (size_t)k++ *
							       VBD_PAGE_SIZE;
	return 0;

fail:
	for (i = 0; i < n; i++) {
		if (m->pers[i])
			persistent_put(g, m->pers[i]);
		m->pers[i] = NULL;
	}
	m->nr = 0;
	return err;
}

void vbd_grants_unmap(struct vbd_grants *g, struct vbd_grant_map *m)
{
	unsigned int i;

	if (m->batch)
		xengnttab_unmap(g->h, m->batch, m->batch_count);
	m->batch = NULL;
	m->batch_count = 0;
	for (i = 0; i < m->nr; i++) {
		if (m->pers[i])
			persistent_put(g, m->pers[i]);
		m->pers[i] = NULL;
	}
	m->nr = 0;
}

int vbd_grants_copy(struct vbd_grants *g, const struct vbd_segment *segs,
		    unsigned int n, bool to_guest, void *buf)
{
	char *p = buf;
	unsigned int i;

	if (n > g->copy_cap) {
		xengnttab_grant_copy_segment_t *c =
			realloc(g->copy, n * sizeof(*c));

		if (!c)
			return -ENOMEM;
		g->copy = c;
		g->copy_cap = n;
	}
	for (i = 0; i < n; i++) {
		xengnttab_grant_copy_segment_t *c = &g->copy[i];
		uint16_t off = (uint16_t)(segs[i].first_sect << VBD_SECTOR_SHIFT);
		uint16_t len = (uint16_t)((segs[i].last_sect - segs[i].first_sect
					   + 1) << VBD_SECTOR_SHIFT);

		memset(c, 0, sizeof(*c));
		if (to_guest) {
			c->source.virt = p;
			c->dest.foreign.ref = segs[i].gref;
			c->dest.foreign.offset = off;
			c->dest.foreign.domid = (uint16_t)g->domid;
			c->flags = GNTCOPY_dest_gref;
		} else {
			c->source.foreign.ref = segs[i].gref;
			c->source.foreign.offset = off;
			c->source.foreign.domid = (uint16_t)g->domid;
			c->dest.virt = p;
			c->flags = GNTCOPY_source_gref;
		}
		c->len = len;
		p += len;
	}
	g->stats.copies++;
	if (xengnttab_grant_copy(g->h, n, g->copy))
		return errno ? -errno : -EIO;
	for (i = 0; i < n; i++)
		if (g->copy[i].status != GNTST_okay)
			return -EFAULT;
	return 0;
}

void *vbd_grants_map_ro(struct vbd_grants *g, const uint32_t *refs,
			unsigned int n)
{
	uint32_t r[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	void *addr;

	if (n == 0 || n > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST) {
		errno = EINVAL;
		return NULL;
	}
	memcpy(r, refs, n * sizeof(*r));
	addr = xengnttab_map_domain_grant_refs(g->h, n, g->domid, r, PROT_READ);
	g->stats.maps++;
	if (addr)
		g->stats.pages_mapped += n;
	return addr;
}

void vbd_grants_unmap_ro(struct vbd_grants *g, void *addr, unsigned int n)
{
	if (addr)
		xengnttab_unmap(g->h, addr, n);
}

const struct vbd_grant_stats *vbd_grants_stats(const struct vbd_grants *g)
{
	return &g->stats;
}

void vbd_grants_destroy(struct vbd_grants *g)
{
	unsigned int i;

	if (!g)
		return;
	for (i = 0; i < g->nbuckets; i++) {
		while (g->buckets[i]) {
			struct vbd_pgrant *p = g->buckets[i];

			g->buckets[i] = p->hash_next;
			xengnttab_unmap(g->h, p->addr, 1);
			free(p);
		}
	}
	free(g->buckets);
	free(g->refs);
	free(g->copy);
	free(g);
}
