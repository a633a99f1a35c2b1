/* SPDX-License-Identifier: MIT */
/*
 * A blkif queue on a kit ring (ring.h): the ring maps the frontend's
 * pages, binds its channel and hands over each request copied once; this
 * file gives the queue its request pool and grants, and answers in the
 * frontend's ABI.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vbd/worker.h"

static void on_request(struct xbd_ring *ring, const void *req, void *ctx)
{
	vbd_dispatch(ctx, req);
}

/* The pass queued its I/O: submit it as one batch. */
static void on_pass_done(struct xbd_ring *ring, void *ctx)
{
	struct vbd_ring *r = ctx;

	vbd_io_kick(r->wd->io);
}

int vbd_ring_open(struct vbd_worker_dev *wd, unsigned int index,
		  struct vbd_ring **out)
{
	const struct xbd_ring_nodes *fe = &wd->v->fe.rings;
	struct vbd_ring *r = calloc(1, sizeof(*r));
	struct xbd_ring_config cfg;
	unsigned int i;

	*out = r;
	if (!r) {
		xbd_worker_fail(wd->w, ENOMEM, "queue %u: out of memory",
				index);
		return -1;
	}
	r->wd = wd;
	r->index = index;
	r->abi = fe->abi;
	r->size = vbd_ring_entries(r->abi, fe->ring_order);
	r->reqs = calloc(r->size, sizeof(*r->reqs));
	r->grants = vbd_grants_create(wd->gt, wd->domid,
				      wd->v->persistent ?
				      wd->v->opt.max_persistent_grants : 0);
	if (!r->reqs || !r->grants) {
		xbd_worker_fail(wd->w, ENOMEM, "queue %u: out of memory",
				index);
		return -1;
	}
	for (i = r->size; i-- > 0;) {
		r->reqs[i].ring = r;
		r->reqs[i].next = r->free;
		r->free = &r->reqs[i];
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.entry_size = vbd_abi_entry_size(r->abi);
	cfg.budget = wd->v->opt.batch;
	cfg.request = on_request;
	cfg.pass_done = on_pass_done;
	cfg.ctx = r;
	r->ring = xbd_ring_open(wd->w, fe, index, &cfg);
	return r->ring ? 0 : -1;
}

void vbd_ring_release(struct vbd_ring *r)
{
	if (!r)
		return;
	vbd_dispatch_release(r);
	vbd_grants_destroy(r->grants);
	free(r->reqs);
	free(r);
}

void vbd_ring_respond(struct vbd_ring *r, uint32_t ticket, uint64_t id,
		      uint8_t op, int16_t status)
{
	union vbd_response rsp;
	size_t len = vbd_response_build(r->abi, &rsp, id, op, status);

	xbd_ring_answer(r->ring, ticket, &rsp, len);
}
