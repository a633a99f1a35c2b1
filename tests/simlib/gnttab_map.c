/* SPDX-License-Identifier: MIT */
/*
 * The consuming side (xengnttab_*): opening, mapping and unmapping grants.
 * A mapping is MAP_SHARED on the granting domain's memory file, so both
 * sides see each other's writes; it is madvise(MADV_DONTFORK)ed because
 * gntdev mappings are not inherited across fork (VM_DONTCOPY on PV).
 */
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/grant_table.h>

#include "gntdev_handle.h"

#define NO_NOTIFY_OFFSET UINT32_MAX

struct gnt_page {
	struct gt_dom *dom;
	uint32_t ref;
};

struct gnt_map {
	struct gnt_map *next;
	uintptr_t addr;
	uint32_t count;
	uint32_t notify_offset;	/* NO_NOTIFY_OFFSET for none */
	int64_t notify_port;	/* -1 for none */
	struct gnt_page pages[];
};

static struct gnt_map **bucket(struct xengntdev_handle *h, uintptr_t addr)
{
	return &h->maps[(addr / SIM_PAGE_SIZE) % GNT_MAP_BUCKETS];
}

/* libxentoolcore's restrict_all: the real callback neuters the handle */
static int restrict_cb(struct sim_tc_handle *ah, uint32_t domid)
{
	struct xengntdev_handle *h =
		SIM_CONTAINER_OF(ah, struct xengntdev_handle, tc_ah);

	(void)domid;
	return xentoolcore__restrict_by_dup2_null(h->fd);
}

xengnttab_handle *xengnttab_open(xentoollog_logger *logger, unsigned flags)
{
	struct xengntdev_handle *h = calloc(1, sizeof(*h));

	(void)flags;
	if (!h)
		return NULL;
	h->fd = -1;
	/* registered before the fd exists, as libxentoolcore asks */
	h->tc_ah.restrict_callback = restrict_cb;
	xentoolcore__register_active_handle(&h->tc_ah);
	pthread_mutex_init(&h->lock, NULL);
	h->maps = calloc(GNT_MAP_BUCKETS, sizeof(*h->maps));
	if (!h->maps || gnt_handle_init(h, logger, "gnttab", true) < 0) {
		int e = errno;

		if (h->fd >= 0)
			close(h->fd);
		xentoolcore__deregister_active_handle(&h->tc_ah);
		pthread_mutex_destroy(&h->lock);
		free(h->maps);
		gnt_handle_fini(h);
		errno = e;
		return NULL;
	}
	return h;
}

int xengnttab_close(xengnttab_handle *h)
{
	int rc;

	if (!h)
		return 0;
	rc = close(h->fd);
	xentoolcore__deregister_active_handle(&h->tc_ah);
	/*
	 * Live mappings stay mapped (and their grants in use), as each gntdev
	 * mapping keeps the device open until munmap or exit. Only the
	 * bookkeeping goes.
	 */
	for (size_t b = 0; b < GNT_MAP_BUCKETS; b++)
		for (struct gnt_map *m = h->maps[b], *n; m; m = n) {
			n = m->next;
			free(m);
		}
	for (size_t i = 0; i < h->ndoms; i++) {
		gt_dom_close(h->doms[i]);
		free(h->doms[i]);
	}
	free(h->doms);
	free(h->maps);
	pthread_mutex_destroy(&h->lock);
	gnt_handle_fini(h);
	return rc;
}

int xengnttab_fd(xengnttab_handle *h)
{
	return h->fd;
}

int xengnttab_set_max_grants(xengnttab_handle *h, uint32_t nr_grants)
{
	/* pvops gntdev has no such ioctl and the real library ignores that */
	(void)h;
	(void)nr_grants;
	return 0;
}

static void unpin_pages(struct gnt_map *m, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		gt_unpin(m->pages[i].dom, m->pages[i].ref);
}

static bool next_in_run(const struct gnt_page *a, const struct gnt_page *b)
{
	return a->dom == b->dom && b->ref == a->ref + 1;
}

/*
 * Maps the pinned pages at one address range: one mmap per run of
 * consecutive refs, placed with MAP_FIXED in a reserved range when the
 * pages come from several runs.
 */
static void *map_pages(struct gnt_map *m, int prot)
{
	size_t len = (size_t)m->count * SIM_PAGE_SIZE;
	bool write = prot & PROT_WRITE;
	char *base;
	uint32_t i = 0;

	while (i + 1 < m->count && next_in_run(&m->pages[i], &m->pages[i + 1]))
		i++;
	if (i + 1 == m->count) {
		struct gnt_page *p = &m->pages[0];

		return mmap(NULL, len, prot, MAP_SHARED,
			    write ? p->dom->mem_rw : p->dom->mem_ro,
			    (off_t)p->ref * SIM_PAGE_SIZE);
	}
	base = mmap(NULL, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	for (i = 0; i < m->count;) {
		struct gnt_page *p = &m->pages[i];
		uint32_t run = 1;

		while (i + run < m->count &&
		       next_in_run(&m->pages[i + run - 1], &m->pages[i + run]))
			run++;
		if (mmap(base + (size_t)i * SIM_PAGE_SIZE,
			 (size_t)run * SIM_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED,
			 write ? p->dom->mem_rw : p->dom->mem_ro,
			 (off_t)p->ref * SIM_PAGE_SIZE) == MAP_FAILED) {
			int e = errno;

			munmap(base, len);
			errno = e;
			return MAP_FAILED;
		}
		i += run;
	}
	return base;
}

static void *grant_map(xengnttab_handle *h, uint32_t count,
		       const uint32_t *domids, size_t stride,
		       const uint32_t *refs, int prot, uint32_t notify_offset,
		       evtchn_port_t notify_port)
{
	bool write = prot & PROT_WRITE;
	struct gnt_map *m, **b;
	void *addr;
	int e;

	if (gnt_usable(h) < 0) {
		GTERR(h, "ioctl MAP_GRANT_REF failed");
		return NULL;
	}
	if (count == 0 || count > GT_MAX_ENTRIES) {
		errno = EINVAL;
		GTERR(h, "mmap failed: %u pages", count);
		return NULL;
	}
	m = malloc(sizeof(*m) + count * sizeof(m->pages[0]));
	if (!m)
		return NULL;
	m->count = count;
	/*
	 * Xen checks each grant as gntdev maps it; any failure fails the
	 * whole mmap with EINVAL and nothing stays mapped.
	 */
	for (uint32_t i = 0; i < count; i++) {
		uint32_t domid = domids[i * stride];
		struct gt_dom *d = gnt_dom(h, domid);
		int st = d ? gt_pin(d, refs[i], h->env.domid, write)
			   : GNTST_bad_domain;

		if (st != GNTST_okay) {
			unpin_pages(m, i);
			free(m);
			errno = EINVAL;
			GTERR(h, "mmap failed: domain %u grant ref %u for domain "
			      "%u%s: %s", domid, refs[i], h->env.domid,
			      write ? " (writable)" : "", gnt_status_str(st));
			return NULL;
		}
		m->pages[i].dom = d;
		m->pages[i].ref = refs[i];
	}
	addr = map_pages(m, prot);
	if (addr == MAP_FAILED) {
		e = errno;
		unpin_pages(m, count);
		free(m);
		errno = e;
		GTERR(h, "mmap failed");
		return NULL;
	}
	madvise(addr, (size_t)count * SIM_PAGE_SIZE, MADV_DONTFORK);

	m->addr = (uintptr_t)addr;
	m->notify_offset = NO_NOTIFY_OFFSET;
	m->notify_port = -1;
	if (notify_offset < (uint64_t)count * SIM_PAGE_SIZE ||
	    notify_port != (evtchn_port_t)-1) {
		/* gntdev only clears a byte in a writable mapping */
		if ((notify_offset < (uint64_t)count * SIM_PAGE_SIZE && !write) ||
		    (notify_port != (evtchn_port_t)-1 &&
		     gnt_notify_check(&h->env, notify_port) < 0)) {
			munmap(addr, (size_t)count * SIM_PAGE_SIZE);
			unpin_pages(m, count);
			free(m);
			errno = EINVAL;
			GTERR(h, "ioctl SET_UNMAP_NOTIFY failed");
			return NULL;
		}
		if (notify_offset < (uint64_t)count * SIM_PAGE_SIZE)
			m->notify_offset = notify_offset;
		if (notify_port != (evtchn_port_t)-1)
			m->notify_port = notify_port;
	}

	pthread_mutex_lock(&h->lock);
	b = bucket(h, m->addr);
	m->next = *b;
	*b = m;
	pthread_mutex_unlock(&h->lock);
	return addr;
}

void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid,
			      uint32_t ref, int prot)
{
	return grant_map(h, 1, &domid, 0, &ref, prot, NO_NOTIFY_OFFSET, -1);
}

void *xengnttab_map_grant_refs(xengnttab_handle *h, uint32_t count,
			       uint32_t *domids, uint32_t *refs, int prot)
{
	return grant_map(h, count, domids, 1, refs, prot, NO_NOTIFY_OFFSET, -1);
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
				      uint32_t domid, uint32_t *refs, int prot)
{
	return grant_map(h, count, &domid, 0, refs, prot, NO_NOTIFY_OFFSET, -1);
}

void *xengnttab_map_grant_ref_notify(xengnttab_handle *h, uint32_t domid,
				     uint32_t ref, int prot,
				     uint32_t notify_offset,
				     evtchn_port_t notify_port)
{
	return grant_map(h, 1, &domid, 0, &ref, prot, notify_offset,
			 notify_port);
}

int xengnttab_unmap(xengnttab_handle *h, void *start_address, uint32_t count)
{
	struct gnt_map **pm, *m;

	if (!start_address) {
		errno = EINVAL;
		return -1;
	}
	if (gnt_usable(h) < 0)
		return -1;
	/* gntdev finds the mapping by address and insists on its size */
	pthread_mutex_lock(&h->lock);
	for (pm = bucket(h, (uintptr_t)start_address); (m = *pm); pm = &m->next)
		if (m->addr == (uintptr_t)start_address)
			break;
	if (!m || m->count != count) {
		pthread_mutex_unlock(&h->lock);
		errno = EINVAL;
		return -1;
	}
	*pm = m->next;
	pthread_mutex_unlock(&h->lock);

	if (m->notify_offset != NO_NOTIFY_OFFSET)
		((volatile uint8_t *)start_address)[m->notify_offset] = 0;
	munmap(start_address, (size_t)count * SIM_PAGE_SIZE);
	if (m->notify_port >= 0)
		gnt_notify_send(&h->env, (uint32_t)m->notify_port);
	unpin_pages(m, count);
	free(m);
	return 0;
}

/* The dma-buf ioctls need a kernel; the simulation has none. */
static int no_dmabuf(xengnttab_handle *h, const char *what)
{
	if (gnt_usable(h) == 0) {
		errno = ENOSYS;
		GTERR(h, "%s: dma-buf is not simulated", what);
	}
	return -1;
}

int xengnttab_dmabuf_exp_from_refs(xengnttab_handle *h, uint32_t domid,
				   uint32_t flags, uint32_t count,
				   const uint32_t *refs, uint32_t *fd)
{
	(void)domid, (void)flags, (void)count, (void)refs, (void)fd;
	return no_dmabuf(h, "ioctl DMABUF_EXP_FROM_REFS failed");
}

int xengnttab_dmabuf_exp_wait_released(xengnttab_handle *h, uint32_t fd,
				       uint32_t wait_to_ms)
{
	(void)fd, (void)wait_to_ms;
	return no_dmabuf(h, "ioctl DMABUF_EXP_WAIT_RELEASED failed");
}

int xengnttab_dmabuf_imp_to_refs(xengnttab_handle *h, uint32_t domid,
				 uint32_t fd, uint32_t count, uint32_t *refs)
{
	(void)domid, (void)fd, (void)count, (void)refs;
	return no_dmabuf(h, "ioctl DMABUF_IMP_TO_REFS failed");
}

int xengnttab_dmabuf_imp_release(xengnttab_handle *h, uint32_t fd)
{
	(void)fd;
	return no_dmabuf(h, "ioctl DMABUF_IMP_RELEASE failed");
}
