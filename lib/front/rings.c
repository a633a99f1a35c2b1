/* SPDX-License-Identifier: MIT */
/*
 * Shared rings and event channels: the pages granted to the backend, the
 * generic ring header in them, one unbound port per queue, and waiting
 * for events.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <xenbackd/io-ring.h>

#include "front-private.h"

/*
 * The header every shared ring starts with is the same whatever the
 * slots hold: SHARED_RING_INIT on a ring of one-byte slots initialises any.
 */
struct xbf_any_slot {
	uint8_t byte;
};
DEFINE_RING_TYPES(xbf_any, struct xbf_any_slot, struct xbf_any_slot);

_Static_assert(offsetof(struct xbf_any_sring, ring) == XBD_RING_HEADER_SIZE,
	       "the shared ring header is 64 bytes");

static void release_queue(struct xbf_dev *d, struct xbf_queue *q)
{
	unsigned int i = (unsigned int)(q - d->q);

	if (d->bound & (1u << i)) {
		xenevtchn_unbind(d->xce, q->port);
		d->bound &= ~(1u << i);
	}
	if (q->sring) {
		xengntshr_unshare(d->xgs, q->sring, q->nr_pages);
		q->sring = NULL;
	}
	memset(q, 0, sizeof(*q));
}

void xbf_release_rings(struct xbf_dev *d)
{
	for (unsigned int i = 0; i < XBF_MAX_QUEUES; i++)
		release_queue(d, &d->q[i]);
	d->nr_queues = 0;
	d->ring_order = 0;
}

static int share_queue(struct xbf_dev *d, struct xbf_queue *q, unsigned int qi,
		       unsigned int pages)
{
	xenevtchn_port_or_error_t port;

	q->sring = xengntshr_share_pages(d->xgs, d->be_id, (int)pages, q->ref, 1);
	if (!q->sring) {
		xbf_fail(d, errno, "queue %u: cannot grant %u ring page(s) to domain %u: %s",
			 qi, pages, d->be_id, strerror(errno));
		return -1;
	}
	q->nr_pages = pages;
	memset(q->sring, 0, (size_t)pages * XBF_PAGE_SIZE);
	SHARED_RING_INIT((struct xbf_any_sring *)q->sring);
	port = xenevtchn_bind_unbound_port(d->xce, d->be_id);
	if (port < 0) {
		xbf_fail(d, errno, "queue %u: cannot allocate an event channel for domain %u: %s",
			 qi, d->be_id, strerror(errno));
		return -1;
	}
	q->port = (evtchn_port_t)port;
	d->bound |= 1u << qi;
	return 0;
}

int xbf_share_rings(struct xbf_dev *d, unsigned int nr_queues, unsigned int ring_order)
{
	xbf_release_rings(d);
	if (nr_queues < 1 || nr_queues > XBF_MAX_QUEUES || ring_order > XBF_MAX_RING_ORDER) {
		xbf_fail(d, EINVAL, "%u queue(s) of order %u: want 1..%u queues, order <= %u",
			 nr_queues, ring_order, XBF_MAX_QUEUES, XBF_MAX_RING_ORDER);
		return -1;
	}
	for (unsigned int i = 0; i < nr_queues; i++) {
		if (share_queue(d, &d->q[i], i, 1u << ring_order)) {
			int e = errno;

			xbf_release_rings(d);
			errno = e;
			return -1;
		}
	}
	d->nr_queues = nr_queues;
	d->ring_order = ring_order;
	return 0;
}

unsigned int xbf_nr_queues(const struct xbf_dev *d)
{
	return d->nr_queues;
}

unsigned int xbf_ring_order(const struct xbf_dev *d)
{
	return d->ring_order;
}

struct xbf_queue *xbf_queue(struct xbf_dev *d, unsigned int q)
{
	return q < d->nr_queues ? &d->q[q] : NULL;
}

int xbf_notify(struct xbf_dev *d, unsigned int q)
{
	if (q >= d->nr_queues) {
		xbf_set_error(d, EINVAL, "no queue %u", q);
		return -1;
	}
	if (xenevtchn_notify(d->xce, d->q[q].port) < 0) {
		xbf_fail(d, errno, "queue %u: notify port %u: %s", q, d->q[q].port,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int xbf_event_fd(const struct xbf_dev *d)
{
	return xenevtchn_fd(d->xce);
}

int xbf_xenstore_fd(const struct xbf_dev *d)
{
	return xs_fileno(d->xs);
}

/* Takes one pending port (the fd was readable) and unmasks it. */
static void take_event(struct xbf_dev *d, struct xbf_events *ev)
{
	xenevtchn_port_or_error_t port = xenevtchn_pending(d->xce);

	if (port < 0)
		return;
	for (unsigned int i = 0; i < d->nr_queues; i++)
		if (d->q[i].port == (evtchn_port_t)port)
			ev->queues |= 1u << i;
	xenevtchn_unmask(d->xce, (evtchn_port_t)port);
}

int xbf_wait(struct xbf_dev *d, int timeout_ms, struct xbf_events *ev)
{
	struct pollfd pfd[2] = {
		{ .fd = xenevtchn_fd(d->xce), .events = POLLIN },
		{ .fd = xs_fileno(d->xs), .events = POLLIN },
	};
	int rc;

	memset(ev, 0, sizeof(*ev));
	rc = poll(pfd, 2, timeout_ms);
	if (rc < 0) {
		if (errno == EINTR)
			xbf_set_error(d, EINTR, "interrupted");
		else
			xbf_fail(d, errno, "poll: %s", strerror(errno));
		return -1;
	}
	/* xenevtchn_pending reads one port; take what is queued, bounded. */
	for (unsigned int i = 0; i < 64 && (pfd[0].revents & POLLIN); i++) {
		take_event(d, ev);
		if (poll(pfd, 1, 0) <= 0)
			break;
	}
	if (pfd[1].revents & POLLIN)
		xbf_drain_watches(d, ev);
	return ev->queues || ev->backend || ev->frontend;
}
