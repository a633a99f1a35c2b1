/* SPDX-License-Identifier: MIT */
/*
 * The worker side of a block device: its rings, the requests in flight,
 * and the I/O context. ring.c takes requests off the shared rings and
 * answers them; dispatch.c carries a validated request through grant
 * mapping and I/O to its response; worker.c ties them to the class API.
 */
#ifndef VBD_WORKER_H
#define VBD_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <ev.h>
#include <xenbackd/class.h>

#include "vbd/device.h"
#include "vbd/grants.h"
#include "vbd/io.h"
#include "vbd/request.h"

struct vbd_ring;

/* Stages of a request (flush and barrier take several). */
enum vbd_stage {
	VBD_STAGE_IDLE,
	VBD_STAGE_HELD,		/* behind a barrier */
	VBD_STAGE_WAITING,	/* flush/barrier: earlier writes to finish */
	VBD_STAGE_PREFLUSH,
	VBD_STAGE_DATA,
	VBD_STAGE_POSTFLUSH,
};

/* A request in flight: the copy, its mapping, its I/O. */
struct vbd_ioreq {
	struct vbd_ring *ring;
	struct vbd_request req;
	enum vbd_stage stage;
	int16_t status;
	uint64_t seq;			/* writes: acceptance order */
	uint64_t wait_seq;		/* flush/barrier: writes up to this */
	bool in_writes;			/* on ring->writes */
	bool barrier;			/* the ring's barrier in progress */
	/* Segments and their pages (inline, or malloc'd when indirect). */
	struct vbd_segment *segs;
	void **pages;
	struct iovec *iov;
	unsigned int iovcnt;
	struct vbd_grant_map map;
	bool mapped;
	struct vbd_io_op op;
	/* Lists: free, held, waiting, writes. */
	struct vbd_ioreq *next, *prev;
	struct vbd_ioreq *wnext, *wprev;	/* ring->writes */
	void *heap;			/* indirect arrays */
	void *bounce;			/* grant copy: the data */
	size_t bounce_size;
	void *pages_inline[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	struct vbd_pgrant *pers_inline[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	struct iovec iov_inline[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct vbd_list {
	struct vbd_ioreq *head, *tail;
};

struct vbd_ring {
	struct vbd_worker_dev *wd;
	unsigned int index;
	enum vbd_abi abi;
	void *sring;			/* mapped ring pages */
	unsigned int nr_pages;
	blkif_back_ring_t back;		/* indexes; slots per abi */
	unsigned int size;		/* entries */
	uint32_t remote_port;
	int local_port;			/* -1: unbound */
	struct xbd_ring_stats *stats;
	struct vbd_grants *grants;

	struct vbd_ioreq *reqs;		/* [size] */
	struct vbd_ioreq *free;
	unsigned int in_flight;		/* taken off the ring, not answered */
	bool responses;			/* responses not yet pushed */
	bool more;			/* requests left after a bounded pass */

	/* Ordering (blkif.h flush and barrier semantics). */
	uint64_t seq;			/* last write accepted */
	struct vbd_list writes;		/* accepted writes, oldest first */
	struct vbd_list waiting;	/* flushes/barriers waiting */
	struct vbd_list held;		/* requests behind a barrier */
	bool barrier;			/* a barrier is in progress */

	/* Event storms (XSA-332): events that brought no work. */
	unsigned int idle_events;
	bool masked;
	ev_timer unmask_timer;
};

struct vbd_worker_dev {
	struct xbd_worker *w;
	bool copy;			/* grant copy, not mapping */
	struct vbd_device *v;
	struct ev_loop *loop;
	xengnttab_handle *gt;
	xenevtchn_handle *xe;
	uint32_t domid;
	struct vbd_io *io;
	struct vbd_limits lim;
	ev_io evtchn_watcher;
	ev_timer stop_timer;
	unsigned int nr_rings;
	struct vbd_ring *rings[VBD_MAX_QUEUES];
	bool draining;
	bool failed;
	bool stopping;
};

/* ring.c */
int vbd_ring_open(struct vbd_worker_dev *wd, unsigned int index,
		  struct vbd_ring **out);
void vbd_ring_close(struct vbd_ring *r);
/* Takes requests off the ring (bounded) and starts them. */
void vbd_ring_service(struct vbd_ring *r);
/* Writes a response slot; pushed by vbd_ring_push. */
void vbd_ring_respond(struct vbd_ring *r, uint64_t id, uint8_t op,
		      int16_t status);
/* Publishes the responses written and notifies the frontend if needed. */
void vbd_ring_push(struct vbd_ring *r);
/* The frontend notified ring r. */
void vbd_ring_event(struct vbd_ring *r);

/* dispatch.c */
/* A request copied off the ring; takes an ioreq from r->free. */
void vbd_dispatch(struct vbd_ring *r, const struct vbd_raw_request *raw);
/* Frees ioreq storage of a ring (at close). */
void vbd_dispatch_release(struct vbd_ring *r);

/* worker.c */
void vbd_worker_fault(struct vbd_worker_dev *wd, int err, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));
/*
 * Re-reads the backing store's size (it may have grown: online resize).
 * Returns true when the device's size changed.
 */
bool vbd_worker_refresh_size(struct vbd_worker_dev *wd);
/* A request was answered: checks whether a drain is complete. */
void vbd_worker_answered(struct vbd_worker_dev *wd);

/* List helpers (next/prev links). */
void vbd_list_append(struct vbd_list *l, struct vbd_ioreq *q);
void vbd_list_remove(struct vbd_list *l, struct vbd_ioreq *q);

#endif
