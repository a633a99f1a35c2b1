/* SPDX-License-Identifier: MIT */
/*
 * xenbackd kit: the shared-ring plumbing every PV backend class needs.
 *
 * Two halves, one per process (see class.h for the split):
 *
 *   main     read and check the frontend's transport nodes (ring-ref or
 *            ring-refN with ring-page-order, event-channel, protocol,
 *            multi-queue-num-queues and queue-N/) into a struct
 *            xbd_ring_nodes kept in the device's priv, which the worker
 *            inherits when it is forked;
 *   worker   map those ring pages, bind the event channel, attach at the
 *            published rsp_prod (so a restarted daemon takes a live ring
 *            over where the last worker stopped), and take requests off
 *            the ring in bounded passes, each request copied once into
 *            private memory before the class sees it.
 *
 * What a ring does for a class, so that its own code is only its protocol:
 * - every request is copied out of shared memory once (XSA-155); the class
 *   only ever sees the copy;
 * - responses are built by the class in private memory and copied into the
 *   slot whole (XSA-216: build every byte of a response);
 * - a frontend that produces more requests than the ring holds is a fault
 *   of that device (the overflow check), never a loop;
 * - a pass takes at most `budget` requests, then lets the loop run other
 *   devices' rings and completions before it resumes;
 * - responses are pushed, and the frontend notified if it asked to be,
 *   once per pass (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY), and requests
 *   rechecked (RING_FINAL_CHECK_FOR_REQUESTS) before sleeping;
 * - events that bring no work, in a long row, mask the channel for a
 *   moment (XSA-332: a flooding guest cannot starve the others);
 * - what was taken and not answered is journaled in memory the main
 *   process keeps, so that a worker that crashes is replaced by one that
 *   answers exactly those requests (with xbd_ring_answer());
 * - a map or bind that fails is the device's fault, reported with the
 *   queue and errno, and everything mapped so far is unmapped (XSA-362).
 *
 * Rings register with their worker: the core's event-channel watcher routes
 * each pending port to its ring, and the core's default drain waits for every
 * ring to answer what it took, then closes them (class.h, worker_drain).
 */
#ifndef XENBACKD_RING_H
#define XENBACKD_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenbackd/class.h>
#include <xenbackd/io-ring.h>

struct xbd_device;
struct xbd_worker;
struct xbd_ring;

/* Largest ring: 16 pages, as Linux (XENBUS_MAX_RING_GRANT_ORDER). */
#define XBD_MAX_RING_ORDER 4
#define XBD_MAX_RING_PAGES (1u << XBD_MAX_RING_ORDER)
/* Queues per device: one ring and one event channel each. */
#define XBD_MAX_QUEUES 16
/* Largest event channel port of the FIFO ABI (2^17 ports; 0 is invalid). */
#define XBD_MAX_EVTCHN_PORT ((1u << 17) - 1)
/* Requests per pass when the class does not say. */
#define XBD_RING_DEFAULT_BUDGET 64

/* ---- Checked parsing of guest-written values (pure; fuzzed) ------------- */

/*
 * A plain unsigned decimal number: digits only (no sign, space, 0x or
 * empty string), at most 20 of them, value <= max. Returns 0, or EINVAL
 * (not such a number) / ERANGE (above max).
 */
int xbd_parse_uint(const char *s, uint64_t max, uint64_t *value);

/* The ring ABI a frontend declares with its "protocol" node. */
enum xbd_abi {
	XBD_ABI_X86_64,
	XBD_ABI_X86_32,
};
#if defined(__x86_64__)
#define XBD_ABI_NATIVE XBD_ABI_X86_64
#elif defined(__i386__)
#define XBD_ABI_NATIVE XBD_ABI_X86_32
#else
#error "xenbackd knows the x86 ring ABIs only"
#endif

/* "x86_64-abi" or "x86_32-abi" (XEN_IO_PROTO_ABI_*); "?" otherwise. */
const char *xbd_abi_name(enum xbd_abi abi);
/*
 * The "protocol" node's value (NULL: absent, which means the backend's
 * native ABI). Returns 0, or EINVAL for any other name.
 */
int xbd_parse_abi(const char *protocol, enum xbd_abi *abi);

/*
 * Reads node (relative to the frontend directory, e.g. "queue-1/ring-ref")
 * and returns its value, malloc'd, or NULL with errno set (ENOENT: absent).
 * The daemon reads xenstore through it; a fuzzer reads a buffer.
 */
typedef char *xbd_node_reader(void *ctx, const char *node);

/* ---- Main process: the frontend's transport nodes ----------------------- */

/*
 * How a class's rings are described in xenstore, and what its backend
 * offered. Names are relative to the frontend directory (or to its queue-N/
 * directories when the frontend uses several queues).
 */
struct xbd_ring_layout {
	/*
	 * "ring-ref": a one-page ring reads "ring-ref"; with ring-page-order
	 * N > 0 the frontend writes "ring-ref0".."ring-ref<2^N-1>" (blkif).
	 */
	const char *ring_ref;
	/* "event-channel". */
	const char *event_channel;
	/*
	 * max-ring-page-order offered (0: one page, and "ring-page-order" is
	 * not read). A frontend asking for more is refused.
	 */
	unsigned int max_ring_order;
	/*
	 * multi-queue-max-queues offered (0 or 1: one queue, and
	 * "multi-queue-num-queues" is not read).
	 */
	unsigned int max_queues;
	/* Read "protocol" (else the ABI is native and the node ignored). */
	bool abi;
};

struct xbd_ring_queue {
	uint32_t evtchn;			/* the frontend's port */
	uint32_t ring_ref[XBD_MAX_RING_PAGES];	/* grant refs, page order */
};

/* The frontend's rings, checked. Plain data: kept in priv over the fork. */
struct xbd_ring_nodes {
	enum xbd_abi abi;
	unsigned int ring_order;		/* each ring has 2^order pages */
	unsigned int nr_queues;			/* 1..max_queues */
	struct xbd_ring_queue queue[XBD_MAX_QUEUES];
};

/*
 * Parses the frontend's nodes (pure: reads through read). Every value must
 * be a plain decimal number in range (ports 1..XBD_MAX_EVTCHN_PORT, grant
 * refs nonzero, orders and queue counts within what was offered), or the
 * parse fails. Returns 0, or an errno value with a message in msg naming
 * the node, e.g. "queue-1/ring-ref3: not a decimal number".
 */
int xbd_parse_ring_nodes(const struct xbd_ring_layout *lay,
			 xbd_node_reader *read, void *ctx,
			 struct xbd_ring_nodes *out, char *msg, size_t msglen);

/*
 * The same against the device's frontend directory. Returns 0, or -1 after
 * xbd_device_error() named the bad node (the device is then shut).
 */
int xbd_frontend_read_rings(struct xbd_device *d,
			    const struct xbd_ring_layout *lay,
			    struct xbd_ring_nodes *out);

/*
 * Writes what the layout offers, for a class's setup (before InitWait):
 * "max-ring-page-order" when max_ring_order > 0, "multi-queue-max-queues"
 * when max_queues > 1. 0, or -1 after xbd_device_error().
 */
int xbd_backend_write_ring_limits(struct xbd_device *d,
				  const struct xbd_ring_layout *lay);

/* ---- Worker process: a mapped ring ------------------------------------- */

struct xbd_ring_config {
	/*
	 * Bytes in one slot: the larger of the request and the response
	 * (sizeof the union that DEFINE_RING_TYPES makes, or per ABI).
	 */
	size_t entry_size;
	/* Requests per pass; 0: XBD_RING_DEFAULT_BUDGET. */
	unsigned int budget;
	/*
	 * One request, already copied out of the shared ring into private
	 * memory (entry_size bytes; aligned for any type). It is the class's
	 * to check: every field was written by the guest. Answer it now or
	 * later with xbd_ring_respond(); until then it counts as in flight.
	 * NULL: the ring is not consumed in passes; the class takes
	 * requests itself with xbd_ring_take() (e.g. netif's rx ring, whose
	 * requests are buffers posted for later).
	 */
	void (*request)(struct xbd_ring *r, const void *req, void *ctx);
	/*
	 * Optional: after a pass took requests, before its responses are
	 * pushed (e.g. submit the batch of I/O the pass queued).
	 */
	void (*pass_done)(struct xbd_ring *r, void *ctx);
	/*
	 * Optional: the frontend notified the channel (after the pass, if
	 * request is set). Returns whether the event found work, for the
	 * storm limit; without it an event finds work when a pass took a
	 * request.
	 */
	bool (*event)(struct xbd_ring *r, void *ctx);
	void *ctx;
};

/*
 * Worker: maps queue q of nodes (2^ring_order pages, read-write), binds its
 * event channel, attaches at the published rsp_prod, and registers the ring
 * with the worker. Requests already on the ring are taken at once when the
 * loop runs. Returns the ring, or NULL after xbd_worker_fail() said what
 * failed (queue, grant refs or port, errno); nothing stays mapped or bound.
 */
struct xbd_ring *xbd_ring_open(struct xbd_worker *w,
			       const struct xbd_ring_nodes *nodes,
			       unsigned int q,
			       const struct xbd_ring_config *cfg);

/*
 * The same for a ring described by hand (a protocol whose nodes the layout
 * cannot describe): nr_pages grant refs and the frontend's port. Index
 * names the ring in messages and statistics.
 */
struct xbd_ring *xbd_ring_open_refs(struct xbd_worker *w, unsigned int index,
				    const uint32_t *refs,
				    unsigned int nr_pages, uint32_t evtchn,
				    const struct xbd_ring_config *cfg);

/*
 * Which request is being handed over (the request callback's, or the last
 * xbd_ring_take()'s), for xbd_ring_answer(). A class that answers
 * requests later, in any order, keeps it with the request.
 */
#define XBD_RING_NO_TICKET UINT32_MAX
uint32_t xbd_ring_ticket(const struct xbd_ring *r);

/*
 * Answers the request of ticket: copies len bytes (<= entry_size) of a
 * response built in private memory into the next response slot; the rest
 * of the slot is zeroed. Published at the end of the pass, or by
 * xbd_ring_push().
 *
 * The ticket lets the core know which request each answer is for: if the
 * worker dies (a crash, not a fault it reported), the device's next
 * worker re-issues exactly the requests that had no published answer,
 * and the frontend never notices (xenbackd(8), WORKER RESTARTS).
 */
void xbd_ring_answer(struct xbd_ring *r, uint32_t ticket, const void *rsp,
		     size_t len);

/*
 * The same for the request handed over last. A class answering this way
 * with more than that one request in flight gives up the resuming of
 * its ring by a restarted worker while anything is in flight (its
 * answers cannot be told apart): use xbd_ring_answer() then.
 */
void xbd_ring_respond(struct xbd_ring *r, const void *rsp, size_t len);

/*
 * Publishes the responses written so far and notifies the frontend if it
 * asked to be. For answers given outside a pass (asynchronous completions):
 * call it once per batch, not per response.
 */
void xbd_ring_push(struct xbd_ring *r);

/*
 * Takes the next request off the ring into buf (entry_size bytes of
 * private memory), for classes that consume without passes. Returns 1,
 * 0 when the ring is empty, or -1 when the frontend overflowed the ring
 * (the worker has failed).
 */
int xbd_ring_take(struct xbd_ring *r, void *buf);

/* Requests taken off the ring and not answered yet. */
unsigned int xbd_ring_in_flight(const struct xbd_ring *r);
/* The ring's entries, its index (queue), its mapped pages (for ABI code). */
unsigned int xbd_ring_size(const struct xbd_ring *r);
unsigned int xbd_ring_index(const struct xbd_ring *r);
/* The class's counters of this ring (class.h, counters). */
struct xbd_ring_stats *xbd_ring_stats(struct xbd_ring *r);
/* Counts an answered request as an error (the ERRORS column). */
void xbd_ring_count_error(struct xbd_ring *r);
/* Adds to the class's counter i (index into xbd_class.counters). */
void xbd_ring_count(struct xbd_ring *r, unsigned int i, uint64_t n);

/*
 * When the request being handed over (the request callback's, or the
 * last xbd_ring_take()'s) was taken off the ring, in nanoseconds of the
 * monotonic clock; 0 when the class declares no operations. Keep it with
 * a request answered later, for xbd_ring_account().
 */
uint64_t xbd_ring_taken_at(const struct xbd_ring *r);
/*
 * Counts an answered request (call it with xbd_ring_respond()) under
 * operation op, an index into xbd_class.ops: anything past the last
 * counts as the last, so a guest's value may be passed unchecked. res
 * says how it ended (a result other than XBD_RESULT_OK is also counted in
 * the ring's errors: do not call xbd_ring_count_error() too); bytes is
 * what it moved (counted when res is XBD_RESULT_OK); taken is
 * xbd_ring_taken_at() of the request, and the time from then to now
 * goes into the operation's latency histogram (one clock read).
 */
void xbd_ring_account(struct xbd_ring *r, unsigned int op,
		      enum xbd_result res, uint64_t bytes, uint64_t taken);
/*
 * A request had to wait for the backend's resources (I/O slots, memory)
 * before it could start: blkback's oo_req.
 */
void xbd_ring_count_wait(struct xbd_ring *r);

/*
 * Unbinds the channel, unmaps the pages, and unregisters the ring. The
 * default drain calls it for every ring; a class calls it itself only for
 * rings it closes early. Answers nothing: in-flight requests are lost.
 */
void xbd_ring_close(struct xbd_ring *r);

#endif
