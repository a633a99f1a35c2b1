/* SPDX-License-Identifier: MIT */
/*
 * The granting side (xengntshr_*). As with gntalloc, a share lives as long
 * as its mapping, not its handle: unsharing is munmap plus the end of
 * foreign access, closing the handle leaves shares alone, and unshare never
 * looks at the handle. Hence the process-wide share list.
 *
 * As in the real library, gntshr handles are not registered with
 * libxentoolcore: xentoolcore_restrict_all() leaves them working.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gntdev_handle.h"

#define NO_NOTIFY_OFFSET UINT32_MAX

struct share {
	struct share *next;
	uintptr_t base;
	uint32_t count, live;
	pid_t pid;		/* only the sharing process ends access */
	struct gt_dom *dom;
	struct sim_env env;
	uint32_t notify_offset;	/* NO_NOTIFY_OFFSET for none */
	int64_t notify_port;	/* -1 for none */
	bool *alive;		/* per page */
	uint32_t refs[];
};

/* The granting domains' tables, kept for the life of the process. */
struct own_dom {
	struct own_dom *next;
	struct gt_dom d;
	char griddir[PATH_MAX];
};

static pthread_mutex_t shares_lock = PTHREAD_MUTEX_INITIALIZER;
static struct share *shares;
static struct own_dom *own_doms;

/* Under shares_lock: our domain's table, opened (and made) once. */
static struct gt_dom *own_dom(xengntshr_handle *h)
{
	struct own_dom *o;

	for (o = own_doms; o; o = o->next)
		if (o->d.domid == h->env.domid &&
		    strcmp(o->griddir, h->griddir) == 0)
			return gt_dom_revalidate(o->griddir, &o->d) < 0 ? NULL
									: &o->d;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	if (gt_dom_open(h->griddir, h->env.domid, true, &o->d) < 0) {
		free(o);
		return NULL;
	}
	strcpy(o->griddir, h->griddir);
	o->next = own_doms;
	own_doms = o;
	return &o->d;
}

xengntshr_handle *xengntshr_open(xentoollog_logger *logger, unsigned flags)
{
	struct xengntdev_handle *h = calloc(1, sizeof(*h));
	struct gt_dom *d = NULL;

	(void)flags;
	if (!h)
		return NULL;
	/* /dev/xen/gntalloc is opened without O_CLOEXEC by the real one */
	if (gnt_handle_init(h, logger, "gntshr", false) == 0) {
		pthread_mutex_lock(&shares_lock);
		d = own_dom(h);
		if (d)
			/* a granter that died left grants no gntalloc ended */
			gt_reap_dead_granters(d);
		pthread_mutex_unlock(&shares_lock);
		if (!d)
			GSERR(h, "cannot open domain %u's grant table in %s",
			      h->env.domid, h->griddir);
	}
	if (!d) {
		int e = errno;

		if (h->fd >= 0)
			close(h->fd);
		gnt_handle_fini(h);
		errno = e;
		return NULL;
	}
	return h;
}

int xengntshr_close(xengntshr_handle *h)
{
	int rc;

	if (!h)
		return 0;
	rc = close(h->fd);
	gnt_handle_fini(h);
	return rc;
}

int xengntshr_fd(xengntshr_handle *h)
{
	return h->fd;
}

/* Maps claimed refs at one address range, one mmap per consecutive run. */
static void *map_refs(struct gt_dom *d, const uint32_t *refs, uint32_t count)
{
	size_t len = (size_t)count * SIM_PAGE_SIZE;
	char *base;
	uint32_t i, run;

	for (run = 1; run < count && refs[run] == refs[0] + run; run++)
		;
	if (run == count)
		return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			    d->mem_rw, (off_t)refs[0] * SIM_PAGE_SIZE);
	base = mmap(NULL, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	for (i = 0; i < count; i += run) {
		for (run = 1; i + run < count && refs[i + run] == refs[i] + run;
		     run++)
			;
		if (mmap(base + (size_t)i * SIM_PAGE_SIZE,
			 (size_t)run * SIM_PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, d->mem_rw,
			 (off_t)refs[i] * SIM_PAGE_SIZE) == MAP_FAILED) {
			int e = errno;

			munmap(base, len);
			errno = e;
			return MAP_FAILED;
		}
	}
	return base;
}

static void *share_pages(xengntshr_handle *h, uint32_t domid, int count,
			 uint32_t *refs, int writable, uint32_t notify_offset,
			 evtchn_port_t notify_port)
{
	struct share *s = NULL;
	struct gt_dom *d;
	void *addr;
	uint32_t n = (uint32_t)count;
	int e = ENOMEM;

	if (gnt_usable(h) < 0) {
		GSERR(h, "ioctl failed");
		return NULL;
	}
	if (count <= 0) {
		errno = EINVAL;
		GSERR(h, "ioctl failed: %d pages", count);
		return NULL;
	}
	pthread_mutex_lock(&shares_lock);
	d = own_dom(h);
	s = d ? calloc(1, sizeof(*s) + n * sizeof(s->refs[0])) : NULL;
	if (s)
		s->alive = calloc(n, sizeof(*s->alive));
	if (!s || !s->alive) {
		e = errno;
		goto fail;
	}
	if (gt_alloc(d, n, s->refs) < 0) {
		e = errno;
		GSERR(h, "ioctl failed: no room for %u grants in domain %u's "
		      "grant table", n, h->env.domid);
		goto fail;
	}
	addr = map_refs(d, s->refs, n);
	if (addr == MAP_FAILED) {
		e = errno;
		GSERR(h, "mmap failed");
		goto fail_unclaim;
	}
	s->notify_offset = NO_NOTIFY_OFFSET;
	s->notify_port = -1;
	if (notify_offset < (uint64_t)n * SIM_PAGE_SIZE)
		s->notify_offset = notify_offset;
	if (notify_port != (evtchn_port_t)-1) {
		if (gnt_notify_check(&h->env, notify_port) < 0) {
			e = EINVAL;
			GSERR(h, "ioctl SET_UNMAP_NOTIFY failed");
			munmap(addr, (size_t)n * SIM_PAGE_SIZE);
			goto fail_unclaim;
		}
		s->notify_port = notify_port;
	}
	for (uint32_t i = 0; i < n; i++) {
		gt_publish(d, s->refs[i], domid, writable);
		s->alive[i] = true;
	}
	s->base = (uintptr_t)addr;
	s->count = s->live = n;
	s->pid = getpid();
	s->dom = d;
	s->env = h->env;
	s->next = shares;
	shares = s;
	memcpy(refs, s->refs, n * sizeof(*refs));
	pthread_mutex_unlock(&shares_lock);
	return addr;

fail_unclaim:
	for (uint32_t i = 0; i < n; i++)
		gt_unclaim(d, s->refs[i]);
fail:
	if (s)
		free(s->alive);
	free(s);
	pthread_mutex_unlock(&shares_lock);
	errno = e;
	return NULL;
}

void *xengntshr_share_pages(xengntshr_handle *h, uint32_t domid, int count,
			    uint32_t *refs, int writable)
{
	return share_pages(h, domid, count, refs, writable, NO_NOTIFY_OFFSET,
			   -1);
}

void *xengntshr_share_page_notify(xengntshr_handle *h, uint32_t domid,
				  uint32_t *ref, int writable,
				  uint32_t notify_offset,
				  evtchn_port_t notify_port)
{
	return share_pages(h, domid, 1, ref, writable, notify_offset,
			   notify_port);
}

/* Under shares_lock: the live share page at addr, or NULL. */
static struct share *find_page(uintptr_t addr, uint32_t *idx)
{
	for (struct share *s = shares; s; s = s->next)
		if (addr >= s->base &&
		    addr < s->base + (uintptr_t)s->count * SIM_PAGE_SIZE) {
			*idx = (uint32_t)((addr - s->base) / SIM_PAGE_SIZE);
			return s->alive[*idx] ? s : NULL;
		}
	return NULL;
}

static void drop_share(struct share *s)
{
	for (struct share **ps = &shares; *ps; ps = &(*ps)->next)
		if (*ps == s) {
			*ps = s->next;
			break;
		}
	free(s->alive);
	free(s);
}

int xengntshr_unshare(xengntshr_handle *h, void *start_address,
		      uint32_t count)
{
	uintptr_t start = (uintptr_t)start_address;
	struct share *s;
	uint32_t idx;

	(void)h;	/* like munmap, which is all the real one does */
	if (start % SIM_PAGE_SIZE || count == 0) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&shares_lock);
	for (uint32_t i = 0; i < count; i++)
		if (!find_page(start + (uintptr_t)i * SIM_PAGE_SIZE, &idx)) {
			pthread_mutex_unlock(&shares_lock);
			errno = EINVAL;	/* not a shared page: nothing done */
			return -1;
		}
	/* gntalloc's order: clear the notify byte, unmap, notify, end access */
	for (uint32_t i = 0; i < count; i++) {
		s = find_page(start + (uintptr_t)i * SIM_PAGE_SIZE, &idx);
		if (s->pid == getpid() && s->notify_offset != NO_NOTIFY_OFFSET &&
		    s->notify_offset / SIM_PAGE_SIZE == idx)
			((volatile uint8_t *)s->base)[s->notify_offset] = 0;
	}
	munmap(start_address, (size_t)count * SIM_PAGE_SIZE);
	for (uint32_t i = 0; i < count; i++) {
		s = find_page(start + (uintptr_t)i * SIM_PAGE_SIZE, &idx);
		if (s->pid == getpid()) {
			if (s->notify_port >= 0 && idx == 0)
				gnt_notify_send(&s->env,
						(uint32_t)s->notify_port);
			gt_revoke(s->dom, s->refs[idx]);
		}
		s->alive[idx] = false;
		if (--s->live == 0)
			drop_share(s);
	}
	pthread_mutex_unlock(&shares_lock);
	return 0;
}
