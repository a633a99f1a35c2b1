/* SPDX-License-Identifier: MIT */
/*
 * The block class in its worker process: sets up the I/O context and the
 * queues; the core routes the rings' events and drains (class.h), and
 * vbd_worker_stop frees what is left once everything is answered.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vbd/vbd.h"
#include "vbd/worker.h"

/* After each batch of I/O completions: publish the responses. */
static void on_batch_done(void *ctx)
{
	struct vbd_worker_dev *wd = ctx;
	unsigned int i;

	for (i = 0; i < wd->nr_rings; i++)
		if (wd->rings[i] && wd->rings[i]->ring)
			xbd_ring_push(wd->rings[i]->ring);
}

/* Frees what vbd_worker_start made (the core closes the kit rings). */
static void release(struct vbd_worker_dev *wd)
{
	unsigned int i;

	for (i = 0; i < wd->nr_rings; i++) {
		vbd_ring_release(wd->rings[i]);
		wd->rings[i] = NULL;
	}
	vbd_io_destroy(wd->io);
	wd->io = NULL;
	wd->v->wd = NULL;
	free(wd);
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

	memset(&cfg, 0, sizeof(cfg));
	cfg.engine = v->opt.io_engine;
	cfg.threads = v->opt.io_threads;
	cfg.depth = v->opt.io_depth;
	cfg.fd = v->backing.fd;
	cfg.is_block = v->backing.is_block;
	cfg.nbd_uri = v->backing.nbd_uri;
	cfg.nbd_size = v->backing.size;
	cfg.nbd_timeout_ms = v->opt.nbd_timeout * 1000;
	cfg.nbd_retry_ms = v->opt.nbd_retry;
	cfg.nbd_request_timeout_ms = v->opt.nbd_request_timeout * 1000;
	cfg.batch_done = on_batch_done;
	cfg.ctx = wd;
	wd->io = vbd_io_create(wd->loop, &cfg);
	if (!wd->io) {
		err = errno;
		xbd_worker_fail(w, err, "cannot set up I/O: %s", strerror(err));
		release(wd);
		return -1;
	}

	wd->nr_rings = v->fe.rings.nr_queues;
	for (i = 0; i < wd->nr_rings; i++) {
		if (vbd_ring_open(wd, i, &wd->rings[i])) {
			/* Nothing of a queue stays mapped or bound. */
			for (unsigned int k = 0; k <= i; k++)
				if (wd->rings[k])
					xbd_ring_close(wd->rings[k]->ring);
			release(wd);
			return -1;
		}
	}

	/* The store may have changed while no worker ran. */
	vbd_worker_refresh_size(wd);

	xbd_log(XBD_INFO, "serving %u queue(s) of %u-page rings (%u entries), "
		"%s ABI, %s I/O%s, grants %s, %llu sectors of %u bytes%s",
		wd->nr_rings, 1u << v->fe.rings.ring_order,
		xbd_ring_size(wd->rings[0]->ring),
		xbd_abi_name(v->fe.rings.abi), vbd_io_engine_name(wd->io),
		v->backing.direct ? " (direct)" : "",
		wd->copy ? "copied" : v->persistent ? "mapped, persistent"
						    : "mapped per request",
		(unsigned long long)wd->lim.nr_sectors, wd->lim.sector_size,
		wd->lim.readonly ? ", read-only" : "");

	/* Requests already queued are taken when the loop runs (ring.h). */
	return 0;
}

/* The core's drain: everything is answered; the rings close after this. */
void vbd_worker_stop(struct xbd_worker *w)
{
	struct vbd_device *v = xbd_worker_priv(w);

	if (v->wd)
		release(v->wd);
}
