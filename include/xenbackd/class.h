/* SPDX-License-Identifier: MIT */
/*
 * xenbackd device class API.
 *
 * A device class (vbd, ...) is a table of callbacks that the daemon's core
 * calls as a backend device moves through its life. The core owns xenstore,
 * the xenbus state machine, hotplug scripts, the worker processes and the
 * control socket; a class owns only what is specific to its protocol.
 *
 * Two processes are involved:
 *
 *   main (root)    setup -> backing_ready -> frontend_ready -> connect
 *                  ... disconnect ... release
 *   worker         worker_start ... worker_drain
 *
 * The worker is forked from main once the frontend is ready, so it starts
 * with a copy of the device's private data (priv) as frontend_ready left
 * it. Before worker_start runs, the core has closed every fd that the class
 * did not keep with xbd_device_keep_fd(), opened the event channel handle,
 * called xentoolcore_restrict_all(frontend domid), opened the grant table
 * handle (after the restriction, because libxengnttab answers a restriction
 * by disabling the handle: Linux gntdev cannot be limited to one domain)
 * and dropped root. The worker never talks to xenstore.
 *
 * Every value read from the frontend's xenstore directory or from a shared
 * ring is written by a guest that may be hostile: check it before use.
 */
#ifndef XENBACKD_CLASS_H
#define XENBACKD_CLASS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenevtchn.h>
#include <xengnttab.h>

struct ev_loop;
struct xbd_device;
struct xbd_worker;

/* At most this many rings (queues) per device are counted in statistics. */
#define XBD_MAX_RINGS 16
/* At most this many class-named counters per ring. */
#define XBD_MAX_COUNTERS 8

/* At most this many operations per class (xbd_class.ops). */
#define XBD_MAX_OPS 8
/*
 * Latency histogram buckets per operation: bucket k < XBD_LATENCY_BUCKETS
 * - 1 counts answers that took at most 2^k microseconds (and more than
 * bucket k - 1 allows); the last bucket counts the rest (over 2^22 us,
 * about 4.2 s).
 */
#define XBD_LATENCY_BUCKETS 24

/* How a request was answered, for errors counted by kind. */
enum xbd_result {
	XBD_RESULT_OK,
	XBD_RESULT_IO_ERROR,	/* the backing store (or the work) failed */
	XBD_RESULT_BAD_REQUEST,	/* the guest's fault: a bad field, grant,
				   segment or range; a write to a
				   read-only device */
	XBD_RESULT_UNSUPPORTED,	/* an operation not offered, or unknown */
	XBD_RESULT_NO_RESOURCES,	/* the backend ran out (memory) */
	XBD_NR_RESULTS
};

/* One operation's answers on one ring (xbd_ring_account()). */
struct xbd_op_stats {
	uint64_t result[XBD_NR_RESULTS];	/* answers, by result */
	uint64_t bytes;			/* moved by the answers that succeeded */
	uint64_t latency_ns;		/* sum of the answers' latencies */
	uint64_t latency[XBD_LATENCY_BUCKETS];	/* answers per bucket */
};

/*
 * Per-ring counters. They live in memory shared between main and the
 * worker: the worker updates them (the ring helpers of ring.h do it for
 * requests, errors and in_flight, and per operation in
 * xbd_ring_account()), main reads them for xenbackctl and adds each
 * ended worker's to the device's totals, so that they survive
 * reconnects and worker restarts (not a daemon restart).
 */
struct xbd_ring_stats {
	uint64_t requests;	/* requests taken off the ring */
	uint64_t errors;	/* requests answered with an error */
	uint64_t in_flight;	/* taken off the ring, not yet answered */
	uint64_t resource_waits;	/* requests that waited for resources */
	/* The class's own, named by xbd_class.counters. */
	uint64_t counter[XBD_MAX_COUNTERS];
	/* Per operation, named by xbd_class.ops. */
	struct xbd_op_stats op[XBD_MAX_OPS];
};

/*
 * A sink for xenbackctl show: the class adds its fields with
 * xbd_show_field() (shown as text lines and as JSON members).
 */
struct xbd_show;
void xbd_show_field(struct xbd_show *s, const char *key, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

struct xbd_class {
	/* Default xenstore class name, e.g. "vbd" (configurable per daemon). */
	const char *name;
	/*
	 * Optional. The Linux module that serves the same xenstore name in
	 * dom0's kernel, as /sys/module names it (e.g. "xen_blkback" for
	 * vbd, "xen_netback" for vif). When it is loaded and the class is
	 * served under its own name, the daemon warns at start that the
	 * kernel claims devices too, and names it when someone else writes
	 * a device's backend state. NULL: no such module.
	 */
	const char *kernel_backend;
	/* Size of the per-device private data, allocated zeroed by the core. */
	size_t priv_size;

	/*
	 * Main process, as root. Each returns 0 on success; on failure it
	 * returns -1 after xbd_device_error() said why. Every callback but
	 * frontend_ready and worker_start is optional: NULL does nothing
	 * (and succeeds).
	 */

	/* A new device: publish features. Runs before InitWait is written. */
	int (*setup)(struct xbd_device *d);

	/*
	 * The hotplug step is done (in toolstack mode: the script wrote its
	 * result; in daemon mode: our script run succeeded; with no script:
	 * at once). Open the backing store, keeping its fds for the worker
	 * with xbd_device_keep_fd(). After a failure it is called again
	 * when one of backing_nodes changes.
	 */
	int (*backing_ready)(struct xbd_device *d);
	/*
	 * Backend nodes (NULL-terminated) whose change makes the core retry
	 * a failed backing_ready, e.g. { "params", "mode", NULL }. NULL:
	 * never retried.
	 */
	const char *const *backing_nodes;

	/*
	 * Required. The frontend is Initialised (or Connected, when a
	 * restarted daemon takes over a live device): read and check its
	 * nodes into priv (ring.h: xbd_frontend_read_rings()). A bad value:
	 * xbd_device_error() and return -1; the device is shut.
	 */
	int (*frontend_ready)(struct xbd_device *d);

	/*
	 * The worker serves the rings. Write what the frontend reads on
	 * Connected (e.g. sectors, info); the core then writes Connected.
	 * Not called when taking over a device that is already Connected,
	 * nor for a worker started in place of one that died (frontend_ready
	 * is called again then, before the new worker is forked).
	 */
	int (*connect)(struct xbd_device *d);

	/*
	 * The worker is gone (frontend closed, reconnects, a fault, or it
	 * died and another is started in its place).
	 */
	void (*disconnect)(struct xbd_device *d);

	/* The device is removed: close the backing store, free what priv owns. */
	void (*release)(struct xbd_device *d);

	/*
	 * Required. Worker process. worker_start maps the rings
	 * (xbd_ring_open()), which binds their event channels, and registers
	 * any watchers of its own on xbd_worker_loop(); it returns 0, or -1
	 * after xbd_worker_fail(). The core then runs the loop until the
	 * worker stops.
	 */
	int (*worker_start)(struct xbd_worker *w);

	/*
	 * Optional. Stop taking requests off the rings; once every request
	 * in flight is answered, unmap and unbind and call
	 * xbd_worker_stopped(). Used for disconnects and for daemon shutdown
	 * (the device stays Connected in xenstore so that a restarted daemon
	 * takes it over). NULL: the core's drain, which stops every ring's
	 * passes, waits until each ring has answered all it took and the
	 * worker is not busy (xbd_worker_busy()), calls worker_stop, closes
	 * the rings and stops.
	 */
	void (*worker_drain)(struct xbd_worker *w);
	/*
	 * Optional, with the core's drain: everything is answered; free what
	 * worker_start made, before the rings are closed.
	 */
	void (*worker_stop)(struct xbd_worker *w);

	/*
	 * Optional. Main process: called about once a second for each
	 * Connected device, for changes that only the class can see, e.g. a
	 * backing store that grew (online resize: the class rewrites its
	 * nodes and the state, as blkback does). Faults are reported with
	 * xbd_device_error().
	 */
	void (*poll)(struct xbd_device *d);

	/*
	 * Optional (NULL: every "<class>.<key>" is accepted, and the class
	 * checks what it reads). Main process, while the config file is
	 * read (at start, and on SIGHUP): checks one "<class>.<key> = value"
	 * line, key given without the prefix. Returns 0 if the class takes
	 * it, else -1 after writing why into why (why_size bytes, e.g.
	 * "unknown key", "not a number from 0 to 4"); the daemon then
	 * refuses the file, naming its file and line. Each line is checked,
	 * even one a later line overrides. Must not depend on anything but
	 * key and value: no device exists yet. xbd_check_uint() helps.
	 */
	int (*check_option)(const char *key, const char *value, char *why,
			    size_t why_size);

	/*
	 * Optional. Main process, for xenbackctl show: the class's fields
	 * (e.g. the backing store, its mode), added with xbd_show_field().
	 */
	void (*show)(struct xbd_device *d, struct xbd_show *s);

	/*
	 * Names of the class's per-ring counters (NULL-terminated, at most
	 * XBD_MAX_COUNTERS, lower case with dashes, e.g. "read-bytes"),
	 * counted with xbd_ring_count() and shown by xenbackctl stats after
	 * the core's requests, errors and in-flight. NULL: none.
	 */
	const char *const *counters;

	/*
	 * Names of the class's operations (NULL-terminated, at most
	 * XBD_MAX_OPS, lower case with dashes), e.g. { "read", "write",
	 * "flush", "discard", "other", NULL }. Each answer the class
	 * accounts with xbd_ring_account() (ring.h) is counted under its
	 * operation: answers by result, bytes, a latency histogram, shown by
	 * xenbackctl metrics. An operation index out of range counts as the
	 * last, so name a catch-all last. NULL: no per-operation metrics.
	 */
	const char *const *ops;
};

/* Registers a class; the daemon serves it under its configured name. */
int xbd_register_class(const struct xbd_class *c);

/*
 * Compiled into the daemon, a class registers itself with one line in its
 * own sources, XBD_CLASS_REGISTER(echo_class); and its directory's
 * module.mk adds those sources to the daemon (XBD_CLASS_SOURCES). No core
 * file names a class. A registration that fails (a duplicate name, too
 * many classes) is reported by the daemon at start.
 */
#define XBD_CLASS_REGISTER(cls)						\
	__attribute__((constructor)) static void xbd_register_##cls(void) \
	{								\
		xbd_register_class(&(cls));				\
	}

/* ---- Main process: the device ---------------------------------------- */

void *xbd_device_priv(struct xbd_device *d);
/*
 * "vbd/5/51712": name/frontend-domid/devid, for messages, where name is
 * the xenstore name the device is served under, not necessarily the
 * class's ("vbd3/5/51712" when "classes = vbd3=vbd").
 */
const char *xbd_device_name(const struct xbd_device *d);
unsigned int xbd_device_frontend_id(const struct xbd_device *d);
unsigned int xbd_device_devid(const struct xbd_device *d);
/* Absolute xenstore paths of the backend and frontend directories. */
const char *xbd_device_backend_path(const struct xbd_device *d);
const char *xbd_device_frontend_path(const struct xbd_device *d);

/*
 * Reads a node below the backend (or frontend) directory. Returns a
 * malloc'd NUL-terminated string, or NULL with errno set (ENOENT if the
 * node does not exist).
 */
char *xbd_backend_read(struct xbd_device *d, const char *node);
char *xbd_frontend_read(struct xbd_device *d, const char *node);

/*
 * Reads an unsigned decimal integer node of the frontend. Returns 0, or
 * -1 with errno ENOENT (absent), EINVAL (not a plain decimal number) or
 * ERANGE (above max).
 */
int xbd_frontend_read_uint(struct xbd_device *d, const char *node,
			   unsigned long max, unsigned long *value);
int xbd_backend_read_uint(struct xbd_device *d, const char *node,
			  unsigned long max, unsigned long *value);

/*
 * Writes a node below the backend directory, printf-style. 0 or -1. Never
 * re-creates a removed backend directory: then it writes nothing, fails
 * with errno ENOENT, and the device is taken down as removed.
 */
int xbd_backend_write(struct xbd_device *d, const char *node,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Reports a device fault as Xen backends do: writes the backend's "error"
 * node ("<errno> <message>") and logs it. The caller then returns -1.
 */
void xbd_device_error(struct xbd_device *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Keeps fd open into the worker (all other fds are closed there). */
void xbd_device_keep_fd(struct xbd_device *d, int fd);
/* Forgets a kept fd (the class closes it itself). */
void xbd_device_forget_fd(struct xbd_device *d, int fd);

/* ---- Worker process --------------------------------------------------- */

void *xbd_worker_priv(struct xbd_worker *w);
const char *xbd_worker_name(const struct xbd_worker *w);
unsigned int xbd_worker_frontend_id(const struct xbd_worker *w);
struct ev_loop *xbd_worker_loop(struct xbd_worker *w);
xengnttab_handle *xbd_worker_gnttab(struct xbd_worker *w);
xenevtchn_handle *xbd_worker_evtchn(struct xbd_worker *w);
/* Whether xbd_worker_fail() was called: stop what you are doing. */
bool xbd_worker_failed(const struct xbd_worker *w);
/*
 * Work that outlives the responses (e.g. I/O still running after an error
 * was answered) holds the core's drain: +1 when it starts, -1 when it ends.
 */
void xbd_worker_busy(struct xbd_worker *w, int delta);

/*
 * A fault that ends this device (bad ring contents, a failed map, a broken
 * backing store): main writes the error node and shuts the device; the
 * worker exits once this returns to the loop (with the status that says
 * so: a worker that ends any other way without being asked to is a
 * crash, and is replaced on the same rings, xenbackd(8)).
 */
void xbd_worker_fail(struct xbd_worker *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Drained: everything answered, unmapped and unbound; the worker exits. */
void xbd_worker_stopped(struct xbd_worker *w);

/* ---- Configuration ---------------------------------------------------- */

/*
 * A class's own option from the config file, written there as
 * "<class>.<key> = value" (e.g. "vbd.max-ring-page-order = 4"); key is
 * given without the class prefix. Returns NULL when unset; the last
 * setting in the file wins. Valid in main and in the worker. Values were
 * checked at start by the class's check_option, if it has one.
 */
const char *xbd_class_option(const struct xbd_class *c, const char *key);

/*
 * A numeric class option: *value is dflt when unset, else the option's
 * value, which must be a plain decimal number from min to max. Returns 0,
 * or -1 (logged, naming the option; *value is dflt) for a bad value.
 */
int xbd_class_option_uint(const struct xbd_class *c, const char *key,
			  unsigned long min, unsigned long max,
			  unsigned long dflt, unsigned long *value);
/*
 * For check_option: 0 when value is a plain decimal number from min to
 * max, else -1 with why set to "not a number from MIN to MAX".
 */
int xbd_check_uint(const char *value, unsigned long min, unsigned long max,
		   char *why, size_t why_size);

/* ---- Logging (main and worker) ---------------------------------------- */

enum xbd_log_level { XBD_ERROR, XBD_WARN, XBD_INFO, XBD_DEBUG };

void xbd_log(enum xbd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xbd_vlog(enum xbd_log_level level, const char *fmt, va_list ap);
/*
 * For what a guest can make happen at will, such as a bad request: a
 * burst of 10 lines, then at most one every 5 s, and a line saying how
 * many were suppressed. In a worker the budget is its device's; main
 * shares one among all devices, so use it there only for messages that
 * would otherwise flood.
 */
void xbd_log_guest(enum xbd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xbd_vlog_guest(enum xbd_log_level level, const char *fmt, va_list ap);

#endif
