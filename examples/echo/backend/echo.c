/* SPDX-License-Identifier: MIT */
/*
 * The echo backend class: the kit's example, the whole of a backend.
 *
 * The protocol is examples/echo/echoif.h. Everything generic -- xenstore,
 * the xenbus states, the worker process and its confinement, mapping the
 * ring, binding the channel, copying requests out of shared memory,
 * pushing responses, storm limiting, draining -- is the daemon's (see
 * include/xenbackd/class.h and ring.h). What is left is the protocol:
 *
 *   main    setup           offer feature-reverse before InitWait
 *           frontend_ready  read and check ring-ref and event-channel
 *   worker  worker_start    map the ring; each request then reaches
 *           echo_request    with the guest's fields still unchecked
 *
 * The device needs no backing store and no hotplug script, and it answers
 * every request before returning, so the core's default drain and close
 * are enough: no backing_ready, connect, worker_drain or release.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <xenbackd/class.h>
#include <xenbackd/ring.h>

#include "../echoif.h"

/*
 * Per device. main fills it before the worker is forked, so the worker
 * starts with a copy: plain data only (no pointers into main's heap).
 */
struct echo_device {
	bool reverse;			/* we offered feature-reverse */
	struct xbd_ring_nodes rings;	/* the frontend's nodes, checked */
	struct xbd_ring *ring;		/* worker: the mapped ring */
};

/* One ring of one page: no ring-page-order, no queues, no protocol node. */
static const struct xbd_ring_layout echo_layout = {
	.ring_ref = "ring-ref",
	.event_channel = "event-channel",
};

/* Our counters in xenbackctl stats, after requests, errors, in-flight. */
enum { COUNT_BYTES, COUNT_REVERSED };
static const char *const echo_counters[] = { "bytes", "reversed", NULL };
/*
 * Our operations in xenbackctl metrics, indexed by ECHO_OP_*: any other
 * op a guest sends counts as the last, "other".
 */
static const char *const echo_ops[] = { "ping", "sum", "reverse", "other", NULL };

static const struct xbd_class echo_class;

/* ---- Main process ------------------------------------------------------ */

/* "echo.reverse = 0" in xenbackd.conf withdraws the feature. */
static int echo_check_option(const char *key, const char *value, char *why,
			     size_t why_size)
{
	if (strcmp(key, "reverse")) {
		snprintf(why, why_size, "unknown key");
		return -1;
	}
	return xbd_check_uint(value, 0, 1, why, why_size);
}

/* Features go out before InitWait: the frontend reads them then. */
static int echo_setup(struct xbd_device *d)
{
	struct echo_device *e = xbd_device_priv(d);
	unsigned long reverse;

	xbd_class_option_uint(&echo_class, "reverse", 0, 1, 1, &reverse);
	e->reverse = reverse;
	if (xbd_backend_write(d, "feature-reverse", "%d", e->reverse)) {
		xbd_device_error(d, errno, "writing feature-reverse: %s",
				 strerror(errno));
		return -1;
	}
	return 0;
}

/* The frontend is Initialised: its nodes are guest-written, so checked. */
static int echo_frontend_ready(struct xbd_device *d)
{
	struct echo_device *e = xbd_device_priv(d);

	return xbd_frontend_read_rings(d, &echo_layout, &e->rings);
}

/* ---- Worker process ---------------------------------------------------- */

/*
 * Does one request on our private copy of it. The page is the guest's:
 * its bytes are copied in once, worked on here, and copied back, so a
 * guest changing them meanwhile changes nothing we compute.
 */
static int16_t echo_do(struct xbd_worker *w, struct xbd_ring *r,
		       const struct echo_device *e,
		       const struct echo_request *req, uint32_t *sum)
{
	bool write = req->op == ECHO_OP_REVERSE;
	uint8_t data[ECHO_PAGE_SIZE];
	uint8_t *page;

	if (req->op == ECHO_OP_PING)
		return ECHO_RSP_OKAY;
	if (req->op != ECHO_OP_SUM && !(write && e->reverse))
		return ECHO_RSP_EOPNOTSUPP;
	/* Check before use: the range must lie inside the page. */
	if ((uint32_t)req->offset + req->length > ECHO_PAGE_SIZE)
		return ECHO_RSP_ERROR;
	/* Any grant map can fail (XSA-362): a bad ref is the guest's error. */
	page = xengnttab_map_grant_ref(xbd_worker_gnttab(w),
				       xbd_worker_frontend_id(w), req->gref,
				       write ? PROT_READ | PROT_WRITE
					     : PROT_READ);
	if (!page)
		return ECHO_RSP_ERROR;
	memcpy(data, page + req->offset, req->length);
	*sum = echo_fnv1a(data, req->length);
	if (write) {
		for (unsigned int i = 0; i < req->length; i++)
			page[req->offset + i] = data[req->length - 1 - i];
		xbd_ring_count(r, COUNT_REVERSED, 1);
	}
	/* Every path that mapped unmaps. */
	xengnttab_unmap(xbd_worker_gnttab(w), page, 1);
	xbd_ring_count(r, COUNT_BYTES, req->length);
	return ECHO_RSP_OKAY;
}

/*
 * The ring helper copied the request out of shared memory (XSA-155); we
 * build the response in private memory, every byte of it (XSA-216), and
 * hand it back to be copied into the ring.
 */
static void echo_request(struct xbd_ring *r, const void *slot, void *ctx)
{
	struct xbd_worker *w = ctx;
	const struct echo_request *req = slot;
	struct echo_response rsp;

	memset(&rsp, 0, sizeof(rsp));
	rsp.id = req->id;
	rsp.op = req->op;
	rsp.status = echo_do(w, r, xbd_worker_priv(w), req, &rsp.sum);
	/* Counted per op: result, bytes, latency (errors too, by kind). */
	xbd_ring_account(r, req->op, rsp.status == ECHO_RSP_OKAY ? XBD_RESULT_OK :
			 rsp.status == ECHO_RSP_EOPNOTSUPP ? XBD_RESULT_UNSUPPORTED :
			 XBD_RESULT_BAD_REQUEST, req->length, xbd_ring_taken_at(r));
	xbd_ring_respond(r, &rsp, sizeof(rsp));
}

/* Confined and unprivileged by now: map the ring and serve it. */
static int echo_worker_start(struct xbd_worker *w)
{
	struct echo_device *e = xbd_worker_priv(w);
	const struct xbd_ring_config cfg = {
		.entry_size = sizeof(union echo_sring_entry),
		.request = echo_request,
		.ctx = w,
	};

	e->ring = xbd_ring_open(w, &e->rings, 0, &cfg);
	return e->ring ? 0 : -1;
}

static const struct xbd_class echo_class = {
	.name = "echo",
	.priv_size = sizeof(struct echo_device),
	.setup = echo_setup,
	.frontend_ready = echo_frontend_ready,
	.worker_start = echo_worker_start,
	.check_option = echo_check_option,
	.counters = echo_counters,
	.ops = echo_ops,
};
XBD_CLASS_REGISTER(echo_class);
