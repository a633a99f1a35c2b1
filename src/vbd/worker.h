/* SPDX-License-Identifier: MIT */
/*
 * The worker side of a block device: its queues, the requests in flight,
 * and the I/O context. Each queue is a kit ring (ring.h), which maps it,
 * takes requests off it in bounded passes and copies each once; ring.c
 * connects a queue to its ring; dispatch.c carries a validated request
 * through grant mapping and I/O to its response; worker.c ties them to
 * the class API.
 */
#ifndef VBD_WORKER_H
#define VBD_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <ev.h>
#include <xenbackd/class.h>
#include <xenbackd/ring.h>

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
	uint64_t taken;			/* xbd_ring_taken_at(), for metrics */
	uint32_t ticket;		/* xbd_ring_ticket(), for the answer */
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

/* The class's counters (vbd_class.counters). */
enum { VBD_COUNT_READ_BYTES, VBD_COUNT_WRITE_BYTES };
/*
 * The class's operations (vbd_class.ops): what a request asked for, as
 * the response echoes it; any other operation (unknown, or an indirect
 * request refused before its operation was known) is "other", last.
 */
enum { VBD_OP_READ, VBD_OP_WRITE, VBD_OP_FLUSH, VBD_OP_BARRIER,
       VBD_OP_DISCARD, VBD_OP_OTHER };

/* One queue: its kit ring, and the blkif state around it. */
struct vbd_ring {
	struct vbd_worker_dev *wd;
	struct xbd_ring *ring;		/* NULL until opened */
	unsigned int index;
	enum xbd_abi abi;
	unsigned int size;		/* entries */
	struct vbd_grants *grants;

	struct vbd_ioreq *reqs;		/* [size] */
	struct vbd_ioreq *free;

	/* Ordering (blkif.h flush and barrier semantics). */
	uint64_t seq;			/* last write accepted */
	struct vbd_list writes;		/* accepted writes, oldest first */
	struct vbd_list waiting;	/* flushes/barriers waiting */
	struct vbd_list held;		/* requests behind a barrier */
	bool barrier;			/* a barrier is in progress */
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
	unsigned int nr_rings;
	struct vbd_ring *rings[XBD_MAX_QUEUES];
};

/* ring.c */
/* Sets up queue index and opens its kit ring. 0, or -1 (the worker failed). */
int vbd_ring_open(struct vbd_worker_dev *wd, unsigned int index,
		  struct vbd_ring **out);
/* Frees the queue's blkif state (not its kit ring: the core closes it). */
void vbd_ring_release(struct vbd_ring *r);
/*
 * Answers a request (ticket: xbd_ring_ticket() when it was taken); pushed
 * at the end of the pass or by xbd_ring_push.
 */
void vbd_ring_respond(struct vbd_ring *r, uint32_t ticket, uint64_t id,
		      uint8_t op, int16_t status);

/* dispatch.c */
/*
 * A request as the kit ring copied it off the shared ring (entry bytes of
 * private memory); takes an ioreq from r->free.
 */
void vbd_dispatch(struct vbd_ring *r, const void *entry);
/* Frees ioreq storage of a ring (at close). */
void vbd_dispatch_release(struct vbd_ring *r);

/* worker.c */
/*
 * Re-reads the backing store's size (it may have grown: online resize).
 * Returns true when the device's size changed.
 */
bool vbd_worker_refresh_size(struct vbd_worker_dev *wd);

/* List helpers (next/prev links). */
void vbd_list_append(struct vbd_list *l, struct vbd_ioreq *q);
void vbd_list_remove(struct vbd_list *l, struct vbd_ioreq *q);

#endif
