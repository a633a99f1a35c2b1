/* SPDX-License-Identifier: MIT */
/*
 * A worker's rings (ring.c), as the worker's core sees them: the rings
 * register here, one event-channel watcher routes each pending port to its
 * ring, and the default drain waits for every ring to answer what it took.
 *
 * Kept apart from struct xbd_worker (worker.c) so that the ring plumbing
 * can be tested without forking a worker: a test embeds a struct
 * worker_rings in a worker of its own and provides worker_rings().
 */
#ifndef XBD_WORKER_RINGS_H
#define XBD_WORKER_RINGS_H

#include <stdbool.h>

#include <ev.h>

#include "xenbackd/class.h"

struct xbd_ring;
struct stats_area;

struct worker_rings {
	struct xbd_worker *w;
	struct stats_area *stats;	/* shared with main: slot = ring index */
	void *journal;			/* shared with main (ring-journal.h),
					   NULL: rings are not journaled */
	void (*worker_stop)(struct xbd_worker *w);	/* the class's, or NULL */
	struct xbd_ring *head;		/* open rings */
	ev_io evtchn_w;			/* the worker's one event channel fd */
	bool watching;
	ev_timer first_pass;		/* new rings' first pass, from the loop */
	ev_timer stop_timer;		/* the default drain's last step */
	unsigned int nr_ops;		/* the class's operations (ops) */
	int busy;			/* xbd_worker_busy() */
	bool draining;			/* no more passes */
	bool default_drain;		/* the core's drain runs */
	bool stopping;
	bool closing_all;
};

/* The worker's rings (worker.c; a test's own worker provides it too). */
struct worker_rings *worker_rings(struct xbd_worker *w);

void worker_rings_init(struct worker_rings *s, struct xbd_worker *w,
		       struct stats_area *stats,
		       void (*worker_stop)(struct xbd_worker *w));
/* A drain began (the class's or the core's): rings take no more passes. */
void worker_rings_stop_passes(struct worker_rings *s);
/*
 * The core's drain (class.h, worker_drain NULL): once every ring has
 * answered what it took and nothing is busy, worker_stop, close the
 * rings, xbd_worker_stopped().
 */
void worker_rings_drain(struct worker_rings *s);

#endif
