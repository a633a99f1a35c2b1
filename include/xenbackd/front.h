/* SPDX-License-Identifier: MIT */
/*
 * xenbackd kit: a small library for userspace PV frontends (libxbdfront).
 *
 * The generic part of a frontend, on the real Xen library APIs
 * (libxenstore, xengntshr_* of libxengnttab, libxenevtchn), so the same
 * program runs in a Xen guest (/dev/xen/xenbus, gntalloc, evtchn) and on
 * the xenbackd test bed:
 *
 *   xbf_open            find the device, read backend/backend-id, watch
 *   xbf_reset           back to Initialising (before a [re]connection)
 *   xbf_wait_backend    wait for a backend state (InitWait, ...)
 *   xbf_backend_uint    read what the backend offers, checked
 *   xbf_share_rings     grant N ring pages per queue, one event channel each
 *   xbf_publish         ring nodes + the class's nodes + Initialised, in
 *                       one transaction
 *   xbf_wait_connected  wait for the backend's Connected, then
 *   xbf_switch_state    write Connected
 *   xbf_notify/xbf_wait ring events
 *   xbf_reconnect       after the backend went Closing: start over
 *   xbf_close/xbf_free  the Closing/Closed handshake, then free everything
 *
 * The protocol itself (request layouts, what the backend's nodes mean)
 * stays the frontend's. Shared rings are the standard ones of
 * <xen/io/ring.h>: this header includes <xenbackd/io-ring.h>, which gives
 * that header the barriers userspace lacks, so FRONT_RING_INIT,
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY and friends work as in a kernel.
 *
 * Errors: a function that fails returns -1 (or NULL) with errno set and a
 * message naming what failed in xbf_error(). Unexpected failures (a
 * xenstore, grant or event channel call that fails, a malformed backend
 * node) are also given to the log function (default: stderr, prefixed with
 * the name in xbf_params). Waits that end by timeout, signal or a closing
 * backend are results, not failures of the library: they set errno and
 * xbf_error() but log nothing, so the caller says what it was waiting for.
 *
 * The handles are not thread-safe: one thread per device, or a lock.
 */
#ifndef XENBACKD_FRONT_H
#define XENBACKD_FRONT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenbackd/io-ring.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

/* Up to 16 pages per ring (Linux's XENBUS_MAX_RING_GRANT_ORDER). */
#define XBF_MAX_RING_ORDER 4
#define XBF_MAX_RING_PAGES (1u << XBF_MAX_RING_ORDER)
#define XBF_MAX_QUEUES 16
#define XBF_PAGE_SIZE 4096u

/* A mask bit for xbf_wait_backend(): XBF_STATE(XenbusStateInitWait). */
#define XBF_STATE(s) (1u << (s))

struct xbf_dev;

typedef void xbf_log_fn(void *ctx, const char *msg);

struct xbf_params {
	/*
	 * The device: its frontend directory (/local/domain/5/device/vbd/51712),
	 * or, with path NULL, class ("vbd") and devid under this domain's
	 * device/ directory.
	 */
	const char *path;
	const char *class;
	unsigned int devid;
	/*
	 * This domain. Without have_domid: the number in a path of the form
	 * /local/domain/N/..., else xbf_own_domid().
	 */
	bool have_domid;
	unsigned int domid;
	/*
	 * Ring node names (NULL: "ring-ref", "event-channel"). With one page a
	 * ring is "<ring_ref>", with 2^N pages "<ring_ref>0".."<ring_ref>2^N-1"
	 * and "ring-page-order" N.
	 */
	const char *ring_ref_name;
	const char *event_channel_name;
	/* Messages: prefix (NULL: "xbf") and sink (NULL: stderr). */
	const char *name;
	xbf_log_fn *log;
	void *log_ctx;
};

/* ---- Opening and identity ------------------------------------------- */

/*
 * This domain's id: xenstore's relative node "domid" (resolved against the
 * caller's home, /local/domain/<self>, as a guest's xenstored does), else
 * $XENSIM_DOMID (the test bed). 0, or -1 with errno ENOENT.
 */
int xbf_own_domid(struct xs_handle *xs, unsigned int *domid);

/*
 * Opens xenstore, event channels and grant sharing (gntalloc), finds the
 * frontend directory, reads its "backend" (an absolute path) and
 * "backend-id" (a domain id), and watches both directories (the backend's
 * for its state, error node and removal; the frontend's for the toolstack
 * removing it). Writes nothing. Returns the device, or NULL after logging
 * why (e.g. "<fe>/backend: missing (no such device?)").
 */
struct xbf_dev *xbf_open(const struct xbf_params *p);

/*
 * Frees everything without writing to xenstore: unbinds the event channels,
 * unshares the ring pages, drops the watches, closes the handles. After
 * xbf_close() for a clean end; alone, it is a frontend vanishing (the
 * backend sees no state change). NULL is fine.
 */
void xbf_free(struct xbf_dev *d);

/* The last failure's message ("" when none). */
const char *xbf_error(const struct xbf_dev *d);

const char *xbf_frontend_path(const struct xbf_dev *d);
const char *xbf_backend_path(const struct xbf_dev *d);
unsigned int xbf_backend_id(const struct xbf_dev *d);
unsigned int xbf_domid(const struct xbf_dev *d);
/* The last component of the frontend path as a number (the devid). */
unsigned int xbf_devid(const struct xbf_dev *d);

/* The handles, for what the library does not do (data pages, say). */
struct xs_handle *xbf_xs(const struct xbf_dev *d);
xenevtchn_handle *xbf_evtchn(const struct xbf_dev *d);
xengntshr_handle *xbf_gntshr(const struct xbf_dev *d);

/* ---- xenstore -------------------------------------------------------- */

/* dir/node, malloc'd, or NULL (errno ENOENT: absent). */
char *xbf_read_frontend(const struct xbf_dev *d, const char *node);
char *xbf_read_backend(const struct xbf_dev *d, const char *node);

/*
 * The backend's node as a plain unsigned decimal (digits only, no sign or
 * space) up to max. 0: read; 1: absent, *v = dflt; -1: present but not
 * such a number, *v = dflt, and the message (naming node and value) in
 * xbf_error() and the log.
 */
int xbf_backend_uint(struct xbf_dev *d, const char *node, uint64_t dflt,
		     uint64_t max, uint64_t *v);

/* Writes dir/node outside a transaction. 0, or -1. */
int xbf_write_frontend(struct xbf_dev *d, const char *node, const char *value);

/*
 * The backend's error node: <backend>/error, else where xenbus_dev_error
 * puts it (/local/domain/<backend-id>/error<backend>/error). Malloc'd or
 * NULL.
 */
char *xbf_backend_error(const struct xbf_dev *d);
/* Watch events seen on <backend>/error: a fresh error tells from an old. */
unsigned int xbf_error_writes(const struct xbf_dev *d);

/* ---- xenbus states --------------------------------------------------- */

/* "Initialising", ..., "gone" for -1, "invalid" beyond Reconfigured. */
const char *xbf_state_name(int state);

/*
 * Writes <frontend>/state in a transaction that first reads it, so that a
 * directory the toolstack removed is not re-created: that is not an error
 * (returns 0, nothing written). 0, or -1.
 */
int xbf_switch_state(struct xbf_dev *d, int state);

/* Reads <frontend>/state: the state, or -1 when absent or garbage. */
int xbf_frontend_state(const struct xbf_dev *d);

/*
 * Reads <backend>/state: the state, XenbusStateUnknown (0) for garbage, -1
 * when absent (the backend directory is gone).
 */
int xbf_backend_state(struct xbf_dev *d);

/*
 * Waits until the backend state is in mask (XBF_STATE bits). Returns the
 * state, or -1 with errno ETIMEDOUT (timeout_ms passed; < 0: no limit),
 * EINTR (a signal: install handlers without SA_RESTART to stop a wait) or
 * ENOENT (the backend's state node is gone). Consumes watch events; looks
 * at least once a second even without one.
 */
int xbf_wait_backend(struct xbf_dev *d, unsigned int mask, int timeout_ms);

/*
 * Back to a fresh start: releases the rings (xbf_release_rings) and writes
 * Initialising unless the frontend is already there (a frontend left
 * Connected or Closed by an earlier run or connection). Call before the
 * first handshake. 0, or -1.
 */
int xbf_reset(struct xbf_dev *d);

/* ---- Rings ----------------------------------------------------------- */

struct xbf_queue {
	/*
	 * nr_pages pages granted writable to the backend, contiguous here,
	 * the shared ring header initialised as SHARED_RING_INIT does
	 * (indexes 0, req_event and rsp_event 1, the rest zero). Attach with
	 * FRONT_RING_INIT(&front, (struct x_sring *)sring,
	 * nr_pages * XBF_PAGE_SIZE).
	 */
	void *sring;
	unsigned int nr_pages;
	uint32_t ref[XBF_MAX_RING_PAGES];	/* grant refs, in page order */
	evtchn_port_t port;	/* our end, unbound for backend-id */
};

/*
 * Shares nr_queues rings (1..XBF_MAX_QUEUES) of 2^ring_order pages each
 * (ring_order <= XBF_MAX_RING_ORDER) with the backend domain, initialises
 * their headers, and allocates an unbound event channel port per queue for
 * it. Rings shared earlier are released first. Writes nothing to xenstore.
 * 0, or -1 with nothing shared.
 */
int xbf_share_rings(struct xbf_dev *d, unsigned int nr_queues,
		    unsigned int ring_order);

unsigned int xbf_nr_queues(const struct xbf_dev *d);
unsigned int xbf_ring_order(const struct xbf_dev *d);
/* Queue q (< xbf_nr_queues), or NULL. */
struct xbf_queue *xbf_queue(struct xbf_dev *d, unsigned int q);

/*
 * Unbinds the ports and unshares the pages. Only once the backend has let
 * go of them (it unmaps before it writes Closing or Closed); gntalloc
 * keeps a page the backend still maps alive until it unmaps, so an early
 * call wastes memory but breaks nothing.
 */
void xbf_release_rings(struct xbf_dev *d);

/* ---- Publishing (the handshake transaction) -------------------------- */

/* A list of nodes to write, names relative to the frontend directory. */
struct xbf_node {
	char *name;
	char *value;	/* NULL: remove the node */
};

struct xbf_nodes {
	struct xbf_node *v;
	unsigned int n, cap;
	bool nomem;	/* an allocation failed: publishing will fail */
};

/* Sets name (replacing an entry of that name) to the formatted value. */
void xbf_nodes_set(struct xbf_nodes *l, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records that name must be removed (for nodes a class may have left). */
void xbf_nodes_rm(struct xbf_nodes *l, const char *name);
/* The entry's value (NULL: no entry, or a removal). */
const char *xbf_nodes_get(const struct xbf_nodes *l, const char *name);
void xbf_nodes_free(struct xbf_nodes *l);

/*
 * Adds the nodes of the shared rings to l: with one queue "ring-ref" (or
 * "ring-ref0".."ring-refN" and "ring-page-order" N > 0) and
 * "event-channel"; with several, "multi-queue-num-queues" and the same
 * under "queue-<i>/" ("ring-page-order" stays at the top, as blkif and
 * netif have it).
 */
void xbf_ring_nodes(const struct xbf_dev *d, struct xbf_nodes *l);

/*
 * In one transaction, retried on EAGAIN: removes the ring nodes an earlier
 * connection of any shape may have left (ring-ref*, ring-page-order,
 * num-ring-pages, event-channel*, multi-queue-num-queues, queue-*), applies
 * l (writes and removals), and writes state when state >= 0. A backend
 * that watches <frontend>/state therefore sees all nodes together with the
 * state. 0, or -1.
 */
int xbf_write_nodes(struct xbf_dev *d, const struct xbf_nodes *l, int state);

/*
 * The handshake's step: xbf_ring_nodes() plus the class's own nodes
 * (class_nodes, may be NULL; they may also replace ring nodes) written with
 * state Initialised by xbf_write_nodes(). 0, or -1.
 */
int xbf_publish(struct xbf_dev *d, const struct xbf_nodes *class_nodes);

/*
 * Waits for the backend's Connected. 0, or -1 with errno ECONNREFUSED (the
 * backend went Closing or Closed instead; its error node is in
 * xbf_error()), ENOENT (backend gone), ETIMEDOUT, EINTR. Writes nothing:
 * read the backend's nodes, then xbf_switch_state(d, XenbusStateConnected).
 */
int xbf_wait_connected(struct xbf_dev *d, int timeout_ms);

/* ---- Events ---------------------------------------------------------- */

/* Notifies the backend on queue q's channel. 0, or -1. */
int xbf_notify(struct xbf_dev *d, unsigned int q);

struct xbf_events {
	uint32_t queues;	/* bit q: an event on queue q */
	bool backend;		/* the backend directory changed */
	bool frontend;		/* the frontend directory changed */
};

/*
 * Waits up to timeout_ms (0: just looks; < 0: no limit) for ring events
 * and xenstore watch events, and takes (and unmasks) every pending one.
 * Returns 1 when something happened (*ev says what), 0 on timeout, -1
 * with errno (EINTR: a signal). Ring events can be lost or spurious like
 * any: look at the rings after every return.
 */
int xbf_wait(struct xbf_dev *d, int timeout_ms, struct xbf_events *ev);

/* For a poll loop of one's own: readable means call xbf_wait(d, 0, ...). */
int xbf_event_fd(const struct xbf_dev *d);
int xbf_xenstore_fd(const struct xbf_dev *d);

/* ---- Closing and reconnecting ---------------------------------------- */

/*
 * The close handshake, as Linux frontends do it: writes Closing, waits for
 * the backend's Closing or Closed (or a fresh InitWait/Initialising: a
 * backend that already started over), writes Closed, waits for the
 * backend's Closed (it unmaps the rings on our Closed), then releases the
 * rings. A removed frontend directory is not re-created: then only the
 * rings are released. Each wait is bounded by timeout_ms; a backend that
 * disappears ends it early. 0, or -1 (a wait timed out or a write failed;
 * the rings are released anyway). Call xbf_free() afterwards.
 */
int xbf_close(struct xbf_dev *d, int timeout_ms);

/*
 * For a backend that left Connected (Closing or Closed) while the
 * frontend wants to go on. (A restarted xenbackd takes a Connected device
 * over without touching its state: nothing to do then.) If the backend is
 * Closing, writes Closed and waits for its Closed; then releases the rings,
 * writes Initialising and waits for the backend's InitWait. Then share,
 * publish and wait for Connected as the first time. 0, or -1 with errno
 * (ENOENT: the backend is gone; ETIMEDOUT; EINTR).
 */
int xbf_reconnect(struct xbf_dev *d, int timeout_ms);

#endif
