/* SPDX-License-Identifier: MIT */
/*
 * A shared blkif ring: mapped from the frontend's grants, bound to its
 * event channel, read in bounded passes, answered in batches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vbd/worker.h"

/* Events in a row that find no work before the port is rate limited. */
#define STORM_EVENTS 256
/* How long a storming port stays masked. */
#define STORM_PAUSE 0.002

static volatile void *slot(struct vbd_ring *r, RING_IDX i)
{
	return (char *)r->sring + VBD_RING_HEADER_SIZE +
	       (size_t)(i & (r->size - 1)) * vbd_abi_entry_size(r->abi);
}

static void unmask_later(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct vbd_ring *r = t->data;

	r->masked = false;
	r->idle_events = 0;
	if (r->local_port >= 0)
		xenevtchn_unmask(r->wd->xe, (evtchn_port_t)r->local_port);
	vbd_ring_service(r);
}

int vbd_ring_open(struct vbd_worker_dev *wd, unsigned int index,
		  struct vbd_ring **out)
{
	const struct vbd_frontend_config *fe = &wd->v->fe;
	struct vbd_ring *r = calloc(1, sizeof(*r));
	uint32_t refs[VBD_MAX_RING_PAGES];
	xenevtchn_port_or_error_t port;
	unsigned int i;
	int err;

	if (!r)
		return -ENOMEM;
	r->wd = wd;
	r->index = index;
	r->abi = fe->abi;
	r->nr_pages = 1u << fe->ring_order;
	r->size = vbd_ring_entries(r->abi, fe->ring_order);
	r->remote_port = fe->queue[index].evtchn;
	r->local_port = -1;
	r->stats = xbd_worker_ring_stats(wd->w, index);
	ev_timer_init(&r->unmask_timer, unmask_later, STORM_PAUSE, 0);
	r->unmask_timer.data = r;
	*out = r;

	r->reqs = calloc(r->size, sizeof(*r->reqs));
	r->grants = vbd_grants_create(wd->gt, wd->domid,
				      wd->v->persistent ?
				      wd->v->opt.max_persistent_grants : 0);
	if (!r->reqs || !r->grants)
		return -ENOMEM;
	for (i = r->size; i-- > 0;) {
		r->reqs[i].ring = r;
		r->reqs[i].next = r->free;
		r->free = &r->reqs[i];
	}

	memcpy(refs, fe->queue[index].ring_ref, r->nr_pages * sizeof(refs[0]));
	r->sring = xengnttab_map_domain_grant_refs(wd->gt, r->nr_pages,
						   wd->domid, refs,
						   PROT_READ | PROT_WRITE);
	if (!r->sring) {
		err = errno ? errno : EFAULT;
		vbd_worker_fault(wd, err, "queue %u: mapping %u ring page(s) "
				 "failed: %s", index, r->nr_pages,
				 strerror(err));
		return -err;
	}
	/*
	 * Continue from the ring's published state: a restarted daemon takes
	 * over where the last worker stopped; nothing of ours is pending.
	 */
	r->back.sring = r->sring;
	r->back.nr_ents = r->size;
	r->back.rsp_prod_pvt = ((blkif_sring_t *)r->sring)->rsp_prod;
	r->back.req_cons = r->back.rsp_prod_pvt;

	port = xenevtchn_bind_interdomain(wd->xe, wd->domid, r->remote_port);
	if (port < 0) {
		err = errno ? errno : EINVAL;
		vbd_worker_fault(wd, err, "queue %u: binding event channel "
				 "%u failed: %s", index, r->remote_port,
				 strerror(err));
		return -err;
	}
	r->local_port = port;
	return 0;
}

void vbd_ring_close(struct vbd_ring *r)
{
	if (!r)
		return;
	ev_timer_stop(r->wd->loop, &r->unmask_timer);
	if (r->local_port >= 0)
		xenevtchn_unbind(r->wd->xe, (evtchn_port_t)r->local_port);
	r->local_port = -1;
	if (r->sring)
		xengnttab_unmap(r->wd->gt, r->sring, r->nr_pages);
	r->sring = NULL;
	vbd_dispatch_release(r);
	vbd_grants_destroy(r->grants);
	free(r->reqs);
	free(r);
}

void vbd_ring_respond(struct vbd_ring *r, uint64_t id, uint8_t op,
		      int16_t status)
{
	vbd_response_write(r->abi, slot(r, r->back.rsp_prod_pvt), id, op,
			   status);
	r->back.rsp_prod_pvt++;
	r->responses = true;
}

void vbd_ring_push(struct vbd_ring *r)
{
	int notify;

	if (!r->responses || !r->sring)
		return;
	r->responses = false;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->back, notify);
	if (notify && r->local_port >= 0)
		xenevtchn_notify(r->wd->xe, (evtchn_port_t)r->local_port);
}

void vbd_ring_service(struct vbd_ring *r)
{
	struct vbd_worker_dev *wd = r->wd;
	unsigned int budget = wd->v->opt.batch;
	unsigned int taken = 0;
	int more;

	r->more = false;
	if (wd->draining || wd->failed || !r->sring)
		return;
	for (;;) {
		RING_IDX rp = r->back.sring->req_prod;

		xen_rmb();	/* slots after the index */
		/* More outstanding requests than the ring holds: a fault. */
		if (rp - r->back.rsp_prod_pvt > r->size) {
			vbd_worker_fault(wd, EPROTO, "queue %u: frontend "
					 "produced requests beyond the ring "
					 "(req_prod %u, rsp_prod %u, size %u)",
					 r->index, rp, r->back.rsp_prod_pvt,
					 r->size);
			return;
		}
		while (r->back.req_cons != rp && !wd->failed) {
			struct vbd_raw_request raw;

			if (taken == budget) {
				r->more = true;
				goto out;
			}
			vbd_request_copy(r->abi, slot(r, r->back.req_cons),
					 &raw);
			r->back.req_cons++;
			taken++;
			vbd_dispatch(r, &raw);
		}
		if (wd->failed)
			return;
		RING_FINAL_CHECK_FOR_REQUESTS(&r->back, more);
		if (!more)
			break;
	}
out:
	if (taken)
		r->idle_events = 0;
	vbd_io_kick(wd->io);
	vbd_ring_push(r);
	if (r->more)
		/* Let the other rings and completions run first. */
		ev_feed_event(wd->loop, &wd->evtchn_watcher, EV_CUSTOM);
}

void vbd_ring_event(struct vbd_ring *r)
{
	RING_IDX before = r->back.req_cons;

	if (r->masked)
		return;
	vbd_ring_service(r);
	if (r->wd->failed)
		return;
	if (r->back.req_cons == before && !r->more) {
		/* A spurious event. A flood of them is rate limited. */
		if (++r->idle_events >= STORM_EVENTS) {
			r->masked = true;
			ev_timer_set(&r->unmask_timer, STORM_PAUSE, 0);
			ev_timer_start(r->wd->loop, &r->unmask_timer);
			return;
		}
	}
	xenevtchn_unmask(r->wd->xe, (evtchn_port_t)r->local_port);
}
