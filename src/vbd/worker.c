/* SPDX-License-Identifier: MIT */
/*
 * The block class in its worker process: sets up the I/O context and the
 * rings, routes event-channel notifications to rings, and drains.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vbd/vbd.h"
#include "vbd/worker.h"

void vbd_worker_fault(struct vbd_worker_dev *wd, int err, const char *fmt,
		      ...)
{
	char text[256];
	va_list ap;

	if (wd->failed)
		return;
	wd->failed = true;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	xbd_worker_fail(wd->w, err, "%s", text);
}

static struct vbd_ring *ring_by_port(struct vbd_worker_dev *wd,
				     evtchn_port_t port)
{
	unsigned int i;

	for (i = 0; i < wd->nr_rings; i++)
		if (wd->rings[i] && wd->rings[i]->local_port == (int)port)
			return wd->rings[i];
	return NULL;
}

static void on_evtchn(struct ev_loop *loop, ev_io *w, int revents)
{
	struct vbd_worker_dev *wd = w->data;
	xenevtchn_port_or_error_t port;
	struct vbd_ring *r;
	unsigned int i;

	if (wd->failed)
		return;
	if (revents & EV_CUSTOM) {
		/* Rings left with requests after a bounded pass. */
		for (i = 0; i < wd->nr_rings && !wd->failed; i++)
			if (wd->rings[i]->more)
				vbd_ring_service(wd->rings[i]);
	}
	if (!(revents & EV_READ))
		return;
	port = xenevtchn_pending(wd->xe);
	if (port < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		vbd_worker_fault(wd, errno, "reading the event channel: %s",
				 strerror(errno));
		return;
	}
	r = ring_by_port(wd, (evtchn_port_t)port);
	if (!r) {
		xenevtchn_unmask(wd->xe, (evtchn_port_t)port);
		return;
	}
	vbd_ring_event(r);
}

/* After each batch of I/O completions: publish the responses. */
static void on_batch_done(void *ctx)
{
	struct vbd_worker_dev *wd = ctx;
	unsigned int i;

	for (i = 0; i < wd->nr_rings; i++)
		if (wd->rings[i])
			vbd_ring_push(wd->rings[i]);
}

static void teardown(struct vbd_worker_dev *wd)
{
	unsigned int i;

	ev_io_stop(wd->loop, &wd->evtchn_watcher);
	ev_timer_stop(wd->loop, &wd->stop_timer);
	for (i = 0; i < wd->nr_rings; i++) {
		if (wd->rings[i])
			vbd_ring_push(wd->rings[i]);
		vbd_ring_close(wd->rings[i]);
		wd->rings[i] = NULL;
	}
	vbd_io_destroy(wd->io);
	wd->io = NULL;
}

/* Runs from the loop, outside any I/O or ring callback. */
static void on_stop(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct vbd_worker_dev *wd = t->data;

	teardown(wd);
	xbd_log(XBD_DEBUG, "drained");
	xbd_worker_stopped(wd->w);
}

static bool drained(const struct vbd_worker_dev *wd)
{
	unsigned int i;

	for (i = 0; i < wd->nr_rings; i++)
		if (wd->rings[i] && wd->rings[i]->in_flight)
			return false;
	return !wd->io || vbd_io_in_flight(wd->io) == 0;
}

void vbd_worker_answered(struct vbd_worker_dev *wd)
{
	if (wd->draining && !wd->stopping && drained(wd)) {
		wd->stopping = true;
		ev_timer_start(wd->loop, &wd->stop_timer);
	}
}

bool vbd_worker_refresh_size(struct vbd_worker_dev *wd)
{
	uint64_t size;

	if (!wd->v->opt.online_resize ||
	    vbd_backing_current_size(&wd->v->backing, &size) ||
	    (size >> VBD_SECTOR_SHIFT) == wd->lim.nr_sectors)
		return false;
	xbd_log(XBD_INFO, "backing store resized: %llu -> %llu sectors",
		(unsigned long long)wd->lim.nr_sectors,
		(unsigned long long)(size >> VBD_SECTOR_SHIFT));
	wd->lim.nr_sectors = size >> VBD_SECTOR_SHIFT;
	return true;
}

int vbd_worker_start(struct xbd_worker *w)
{
	struct vbd_device *v = xbd_worker_priv(w);
	struct vbd_worker_dev *wd = calloc(1, sizeof(*wd));
	struct vbd_io_config cfg;
	unsigned int i;
	int err;

	if (!wd) {
		xbd_worker_fail(w, ENOMEM, "out of memory");
		return -1;
	}
	v->wd = wd;
	wd->w = w;
	wd->v = v;
	wd->loop = xbd_worker_loop(w);
	wd->gt = xbd_worker_gnttab(w);
	wd->xe = xbd_worker_evtchn(w);
	wd->domid = xbd_worker_frontend_id(w);
	wd->lim = v->lim;
	wd->copy = v->opt.grant_mode == VBD_GRANT_COPY;
	ev_init(&wd->stop_timer, on_stop);
	ev_timer_set(&wd->stop_timer, 0, 0);
	wd->stop_timer.data = wd;

	memset(&cfg, 0, sizeof(cfg));
	cfg.engine = v->opt.io_engine;
	cfg.threads = v->opt.io_threads;
	cfg.depth = v->opt.io_depth;
	cfg.fd = v->backing.fd;
	cfg.is_block = v->backing.is_block;
	cfg.batch_done = on_batch_done;
	cfg.ctx = wd;
	wd->io = vbd_io_create(wd->loop, &cfg);
	if (!wd->io) {
		err = errno;
		xbd_worker_fail(w, err, "cannot set up I/O: %s", strerror(err));
		return -1;
	}

	xbd_worker_set_nr_rings(w, v->fe.nr_queues);
	wd->nr_rings = v->fe.nr_queues;
	for (i = 0; i < wd->nr_rings; i++) {
		err = vbd_ring_open(wd, i, &wd->rings[i]);
		if (err) {
			if (!wd->failed)
				vbd_worker_fault(wd, -err, "queue %u: %s", i,
						 strerror(-err));
			teardown(wd);
			return -1;
		}
	}
	ev_io_init(&wd->evtchn_watcher, on_evtchn, xenevtchn_fd(wd->xe),
		   EV_READ);
	wd->evtchn_watcher.data = wd;
	ev_io_start(wd->loop, &wd->evtchn_watcher);

	/* The store may have changed while no worker ran. */
	vbd_worker_refresh_size(wd);

	xbd_log(XBD_INFO, "serving %u queue(s) of %u-page rings (%u entries), "
		"%s ABI, %s I/O%s, grants %s, %llu sectors of %u bytes%s",
		wd->nr_rings, 1u << v->fe.ring_order, wd->rings[0]->size,
		vbd_abi_name(v->fe.abi), vbd_io_engine_name(wd->io),
		v->backing.direct ? " (direct)" : "",
		wd->copy ? "copied" : v->persistent ? "mapped, persistent"
						    : "mapped per request",
		(unsigned long long)wd->lim.nr_sectors, wd->lim.sector_size,
		wd->lim.readonly ? ", read-only" : "");

	/* Requests may have been queued while no backend was running. */
	for (i = 0; i < wd->nr_rings && !wd->failed; i++)
		vbd_ring_service(wd->rings[i]);
	return wd->failed ? -1 : 0;
}

void vbd_worker_drain(struct xbd_worker *w)
{
	struct vbd_device *v = xbd_worker_priv(w);
	struct vbd_worker_dev *wd = v->wd;

	if (!wd) {
		xbd_worker_stopped(w);
		return;
	}
	wd->draining = true;
	ev_io_stop(wd->loop, &wd->evtchn_watcher);
	vbd_worker_answered(wd);
}
