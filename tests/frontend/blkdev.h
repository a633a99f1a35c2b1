/* SPDX-License-Identifier: MIT */
/*
 * One virtual block device as a frontend sees it: the blkif side of the
 * handshake (what to ask for, what the backend offers), the rings (one per
 * queue) and the request path (I/O -> granted pages -> ring request ->
 * response -> completion). The generic part -- xenstore, states, sharing
 * the rings, event channels, the handshake transaction, closing -- is
 * libxbdfront's (<xenbackd/front.h>).
 */
#ifndef BLKFRONT_BLKDEV_H
#define BLKFRONT_BLKDEV_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenbackd/front.h>

#include "abi.h"
#include "grants.h"
#include "ring.h"

#define BLKFRONT_MAX_QUEUES XBF_MAX_QUEUES
/* Linux's XENBUS_MAX_RING_GRANT_ORDER: 16 pages per ring. */
#define BLKFRONT_MAX_RING_ORDER XBF_MAX_RING_ORDER

/* Completion statuses beyond blkif's BLKIF_RSP_* (which are 0, -1, -2). */
#define BLKIO_BACKEND_GONE	(-100)	/* backend closed before answering */
#define BLKIO_TIMEOUT		(-101)	/* no answer in time */
#define BLKIO_BROKEN		(-102)	/* the backend broke the ring protocol */

/* Set by SIGINT/SIGTERM; long waits return early when it is set. */
extern volatile sig_atomic_t blkfront_stop;

struct blkdev;
struct blkio;

/*
 * Hostile mode's hook: sees the request (and its granted pages) after it
 * is built and before it goes on the ring, and may change anything.
 */
typedef void blkio_mangle_fn(struct blkdev *d, struct blkio *io,
			     struct blk_request *req, struct grant_pages *data);

struct blkio {
	/* Input. */
	uint8_t op;		/* BLKIF_OP_READ/WRITE/WRITE_BARRIER/FLUSH_DISKCACHE/DISCARD */
	uint64_t offset;	/* bytes from the start of the disk, 512-aligned */
	uint64_t len;		/* bytes, a multiple of 512 (0 for a bare flush) */
	void *buf;		/* len bytes, for READ/WRITE/WRITE_BARRIER */
	unsigned page_offset;	/* where the data starts in the first page */
	uint8_t discard_flag;	/* BLKIF_DISCARD_SECURE */
	int queue;		/* -1: round robin */
	bool force_indirect;	/* use BLKIF_OP_INDIRECT even for few segments */
	blkio_mangle_fn *mangle;
	void *mangle_arg;
	void (*complete)(struct blkio *io);
	void *priv;

	/* Output. */
	int16_t status;		/* BLKIF_RSP_* or BLKIO_* */
	bool done;
	uint8_t rsp_operation;
	uint64_t submit_ns, complete_ns;
	unsigned nr_segments;	/* as sent */
	bool indirect;		/* sent as BLKIF_OP_INDIRECT */
};

struct blkdev_opts {
	const char *fe_path;
	unsigned domid;
	enum blk_abi abi;
	bool no_protocol_node;	/* leave `protocol` unwritten: the native ABI */
	unsigned queues;	/* wanted; the backend's maximum caps it */
	unsigned ring_order;	/* wanted; the backend's maximum caps it */
	bool persistent;	/* offer feature-persistent */
	bool indirect;		/* use indirect descriptors when offered */
	unsigned max_indirect;	/* cap on indirect segments, 0: the backend's */
	unsigned max_grants;	/* persistent pool bound, 0: none */
	int timeout_ms;		/* each handshake wait */
	bool wait_initwait;	/* wait for InitWait before publishing */
};

/* What the backend published. */
struct blkdev_info {
	uint64_t sectors;	/* 512-byte units */
	unsigned sector_size, physical_sector_size, info;
	bool flush, barrier, discard, discard_secure;
	unsigned discard_granularity, discard_alignment;
	bool persistent;
	unsigned max_indirect;	/* feature-max-indirect-segments, 0 absent */
	unsigned max_ring_order;
	unsigned max_queues;
};

struct shadow {
	struct blkio *io;
	uint32_t gen;
	bool busy;
	uint8_t rsp_op;		/* the operation the response must echo */
	struct grant_pages data, ind;
};

struct blkqueue {
	unsigned idx;
	struct front_ring ring;	/* on the library's shared pages */
	bool dirty;		/* requests put but not pushed */
	struct shadow *shadow;	/* nr_ents entries; the id names one */
	unsigned *free_ids;
	unsigned nr_free_ids;
	uint64_t submitted, completed;
};

struct blkdev {
	struct blkdev_opts opt;
	struct xbf_dev *xf;
	/* The library's handles, for data grants and the hostile cases. */
	xenevtchn_handle *xce;
	xengntshr_handle *xgs;
	unsigned devid;
	unsigned be_id;

	/* Negotiated. */
	unsigned nr_queues, ring_order;
	bool persistent;
	unsigned indirect_segs;	/* 0: no indirect */
	unsigned max_segs;	/* per request */
	struct blkdev_info info;

	struct grant_pool *pool;
	struct blkqueue q[BLKFRONT_MAX_QUEUES];
	unsigned next_queue;
	unsigned inflight;
	bool connected;
	bool backend_gone;	/* backend left Connected while we were */
	bool broken;		/* the backend broke the ring protocol: stop */
	int be_state;		/* the backend state last read; -1: gone */
	int backend_state_seen;	/* the state that ended the connection */

	uint64_t last_state_check_ns;

	/* Counters. */
	uint64_t protocol_errors;	/* unknown ids, bad responses */
	uint64_t notifies, events;

	/* Hostile mode: edits the handshake's nodes before they are written. */
	void (*edit_nodes)(struct blkdev *d, struct xbf_nodes *nodes, void *arg);
	void *edit_arg;
};

/* Opens the device (xbf_open) and finds its directories. */
struct blkdev *blkdev_open(const struct blkdev_opts *opt);
void blkdev_free(struct blkdev *d);

/*
 * The frontend's part of the handshake up to Connected. Returns 0, or -1
 * after printing why (the backend's state and error node included).
 */
int blkdev_connect(struct blkdev *d);

/*
 * Queues io. Returns 0, or -1 with errno: EAGAIN no ring slot or grant
 * free now (poll and retry), EPIPE not connected, EINVAL a malformed io.
 */
int blkdev_submit(struct blkdev *d, struct blkio *io);

/* Pushes queued requests and notifies the backend where it asked. */
void blkdev_kick(struct blkdev *d);

/*
 * Waits up to timeout_ms for events, handles responses and backend
 * state changes. Returns 0, or -1 when interrupted by a signal.
 */
int blkdev_poll(struct blkdev *d, int timeout_ms);

/* Waits for every request to complete. -1 on timeout (then aborted). */
int blkdev_drain(struct blkdev *d, int timeout_ms);

/* Completes every in-flight request with status (no answer will count). */
void blkdev_abort_inflight(struct blkdev *d, int16_t status);

/*
 * Closes like blkfront: Closing, waits for the backend, Closed, then
 * unbinds and unshares everything. Returns 0 or -1.
 */
int blkdev_close(struct blkdev *d);

/* Releases rings, ports and grants without touching xenstore. */
void blkdev_teardown(struct blkdev *d);

/* The nodes the handshake writes: the rings' and blkif's own. */
void blkdev_handshake_nodes(struct blkdev *d, struct xbf_nodes *l);

/* Re-reads the backend's state into d->be_state and returns it. */
int blkdev_backend_state(struct blkdev *d);
/* Takes queued watch events without blocking; true when any came. */
bool blkdev_watches(struct blkdev *d);

/* The largest data length one request can carry at this page offset. */
uint64_t blkdev_max_io(const struct blkdev *d, unsigned page_offset);

uint64_t blkdev_now_ns(void);
const char *blkio_status_name(int status);
const char *blkif_op_name(int op);

#endif
