/* SPDX-License-Identifier: MIT */
/*
 * The in-process guest (inproc-guest.h): grant maps are mmaps of the
 * guest's memfd, with a page of PROT_NONE on either side so that a
 * backend reading or writing past what it mapped faults at once; the
 * event channel is a pipe of port numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "inproc-guest.h"

unsigned char *guest_mem;
enum guest_grant guest_grants[GUEST_PAGES];
int guest_maps_out, guest_bound, guest_notifies, guest_unmasks;
unsigned long guest_copies;
struct guest_hooks guest_hooks;
struct xbd_worker guest_worker;

static int guest_fd = -1;
static int evt_pipe[2];

/*
 * The backend's live mappings, to refuse an unmap of anything else: a
 * block ring keeps a mapping per request in flight and per persistent
 * grant.
 */
#define MAX_MAPPINGS 1024
static struct mapping {
	unsigned char *addr;
	uint32_t count;
} mappings[MAX_MAPPINGS];

int guest_init(void)
{
	guest_fd = memfd_create("guest", MFD_CLOEXEC);
	if (guest_fd < 0 ||
	    ftruncate(guest_fd, (off_t)GUEST_PAGES * GUEST_PAGE_SIZE))
		return -1;
	guest_mem = mmap(NULL, (size_t)GUEST_PAGES * GUEST_PAGE_SIZE,
			 PROT_READ | PROT_WRITE, MAP_SHARED, guest_fd, 0);
	if (guest_mem == MAP_FAILED || pipe2(evt_pipe, O_CLOEXEC | O_NONBLOCK))
		return -1;
	guest_worker.loop = ev_loop_new(EVFLAG_AUTO);
	return guest_worker.loop ? 0 : -1;
}

void *guest_page(uint32_t ref)
{
	return guest_mem + (size_t)ref * GUEST_PAGE_SIZE;
}

void guest_kick(uint32_t remote)
{
	uint32_t port = GUEST_LOCAL_PORT(remote);

	/*
	 * A pipe full of events nobody reads (a backend that stopped
	 * watching): Xen would find the port pending already, and so drop
	 * the notification too.
	 */
	if (write(evt_pipe[1], &port, sizeof(port)) != sizeof(port) &&
	    errno != EAGAIN)
		abort();
}

/* ---- libxengnttab ------------------------------------------------------ */

static bool may_map(uint32_t ref, int prot)
{
	return ref < GUEST_PAGES && guest_grants[ref] != GUEST_NOT_GRANTED &&
	       (!(prot & PROT_WRITE) || guest_grants[ref] == GUEST_GRANT_RW);
}

static void *map_refs(uint32_t count, uint32_t domid, const uint32_t *refs,
		      int prot)
{
	size_t len = (size_t)count * GUEST_PAGE_SIZE;
	unsigned char *base;
	struct mapping *m = NULL;
	uint32_t i;

	if (count == 0 || count > 1024) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < count; i++)
		if (domid != GUEST_DOMID || !may_map(refs[i], prot)) {
			errno = EPERM;
			return NULL;
		}
	for (i = 0; i < MAX_MAPPINGS && !m; i++)
		if (!mappings[i].addr)
			m = &mappings[i];
	if (!m)
		abort();		/* a backend that never unmaps */
	/* The pages with a guard page before and after. */
	base = mmap(NULL, len + 2 * GUEST_PAGE_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	base += GUEST_PAGE_SIZE;
	for (i = 0; i < count; i++)
		if (mmap(base + (size_t)i * GUEST_PAGE_SIZE, GUEST_PAGE_SIZE,
			 prot, MAP_SHARED | MAP_FIXED, guest_fd,
			 (off_t)refs[i] * GUEST_PAGE_SIZE) == MAP_FAILED)
			abort();
	m->addr = base;
	m->count = count;
	guest_maps_out += count;
	return base;
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
				      uint32_t domid, uint32_t *refs, int prot)
{
	void *addr = map_refs(count, domid, refs, prot);

	if (guest_hooks.mapped)
		guest_hooks.mapped(refs, count, prot, addr);
	return addr;
}

void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid,
			      uint32_t ref, int prot)
{
	return xengnttab_map_domain_grant_refs(h, 1, domid, &ref, prot);
}

int xengnttab_unmap(xengnttab_handle *h, void *addr, uint32_t count)
{
	struct mapping *m = NULL;

	for (unsigned int i = 0; i < MAX_MAPPINGS && !m; i++)
		if (mappings[i].addr && mappings[i].addr == addr)
			m = &mappings[i];
	/* Not a mapping of ours, or not all of one. */
	if (!m || m->count != count)
		abort();
	if (guest_hooks.unmapping)
		guest_hooks.unmapping(addr, count);
	guest_maps_out -= count;
	m->addr = NULL;
	return munmap((unsigned char *)addr - GUEST_PAGE_SIZE,
		      ((size_t)count + 2) * GUEST_PAGE_SIZE);
}

/*
 * Grant copy, checked as Xen checks it: a granted page of the guest (and
 * writable to copy into it), the range inside the page. Each segment
 * fails on its own, with its status.
 */
int xengnttab_grant_copy(xengnttab_handle *h, uint32_t count,
			 xengnttab_grant_copy_segment_t *segs)
{
	for (uint32_t i = 0; i < count; i++) {
		xengnttab_grant_copy_segment_t *c = &segs[i];
		bool to_guest = c->flags & GNTCOPY_dest_gref;
		union xengnttab_copy_ptr *f = to_guest ? &c->dest : &c->source;
		unsigned char *page;

		if ((c->flags & (GNTCOPY_dest_gref | GNTCOPY_source_gref)) ==
			    (GNTCOPY_dest_gref | GNTCOPY_source_gref) ||
		    f->foreign.domid != GUEST_DOMID ||
		    !may_map(f->foreign.ref, to_guest ? PROT_WRITE : PROT_READ) ||
		    (uint32_t)f->foreign.offset + c->len > GUEST_PAGE_SIZE) {
			c->status = GNTST_general_error;
			continue;
		}
		if (guest_hooks.copied)
			guest_hooks.copied(f->foreign.ref, to_guest);
		page = guest_page(f->foreign.ref) + f->foreign.offset;
		if (to_guest)
			memcpy(page, c->source.virt, c->len);
		else
			memcpy(c->dest.virt, page, c->len);
		c->status = GNTST_okay;
	}
	guest_copies += count;
	return 0;
}

/* ---- libxenevtchn ------------------------------------------------------ */

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h,
						     uint32_t domid,
						     evtchn_port_t remote)
{
	if (domid != GUEST_DOMID || remote == GUEST_BAD_PORT) {
		errno = EINVAL;
		return -1;
	}
	guest_bound++;
	return (xenevtchn_port_or_error_t)GUEST_LOCAL_PORT(remote);
}

int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	guest_bound--;
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *h)
{
	return evt_pipe[0];
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	uint32_t port;

	if (read(evt_pipe[0], &port, sizeof(port)) != sizeof(port)) {
		errno = EAGAIN;
		return -1;
	}
	return (xenevtchn_port_or_error_t)port;
}

int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	guest_unmasks++;
	return 0;
}

int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	guest_notifies++;
	return 0;
}

/* ---- The worker process (src/worker.c) ---------------------------------- */

struct worker_rings *worker_rings(struct xbd_worker *w) { return &w->rings; }
bool xbd_worker_failed(const struct xbd_worker *w) { return w->failed; }
struct ev_loop *xbd_worker_loop(struct xbd_worker *w) { return w->loop; }
void *xbd_worker_priv(struct xbd_worker *w) { return w->priv; }
const char *xbd_worker_name(const struct xbd_worker *w) { return "guest"; }
unsigned int xbd_worker_frontend_id(const struct xbd_worker *w)
{
	return GUEST_DOMID;
}
xengnttab_handle *xbd_worker_gnttab(struct xbd_worker *w) { return (void *)1; }
xenevtchn_handle *xbd_worker_evtchn(struct xbd_worker *w) { return (void *)2; }

void xbd_worker_fail(struct xbd_worker *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(w->fail_text, sizeof(w->fail_text), fmt, ap);
	va_end(ap);
	w->failed = true;
	w->fail_err = err;
	ev_break(w->loop, EVBREAK_ALL);
}

void xbd_worker_stopped(struct xbd_worker *w)
{
	w->stopped = true;
	ev_break(w->loop, EVBREAK_ALL);
}

void guest_worker_reset(void (*worker_stop)(struct xbd_worker *w),
			void *priv)
{
	struct xbd_worker *w = &guest_worker;
	uint32_t stale;

	/* Events no watcher read (after a drain stopped it). */
	while (read(evt_pipe[0], &stale, sizeof(stale)) > 0)
		;
	memset(&w->area, 0, sizeof(w->area));
	w->priv = priv;
	w->failed = w->stopped = false;
	w->fail_err = 0;
	w->fail_text[0] = '\0';
	worker_rings_init(&w->rings, w, &w->area, worker_stop);
}

bool guest_worker_drain(void)
{
	struct xbd_worker *w = &guest_worker;
	ev_tstamp start = ev_time();

	w->failed = false;
	worker_rings_drain(&w->rings);
	while (!w->stopped && ev_time() - start < 5) {
		if (guest_hooks.tick)
			guest_hooks.tick();
		ev_run(w->loop, guest_hooks.tick ? EVRUN_NOWAIT : EVRUN_ONCE);
	}
	memset(guest_grants, 0, sizeof(guest_grants));
	return w->stopped;
}
