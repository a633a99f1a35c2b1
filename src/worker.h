/* SPDX-License-Identifier: MIT */
/*
 * Worker processes: one per connected device, forked from main so that it
 * inherits the class's private data, then confined (fds, xentoolcore
 * restriction, unprivileged user) before the class serves the rings.
 * Main and worker talk over a socketpair; the ring counters live in a
 * shared anonymous mapping that main only reads.
 */
#ifndef XBD_WORKER_H
#define XBD_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "xenbackd/class.h"

struct ev_loop;
struct xbd_device;
struct worker;

/* Shared with the worker: it writes, main reads (and trusts no value). */
struct stats_area {
	uint32_t nr_rings;
	uint32_t pad;
	struct xbd_ring_stats ring[XBD_MAX_RINGS];
};

/* NULL with errno set on failure. */
struct stats_area *stats_area_new(void);
void stats_area_free(struct stats_area *s);

/* How a worker ended, for device_worker_exited(). */
enum worker_end {
	WORKER_STOPPED,		/* drained on request, exited cleanly */
	WORKER_FAILED,		/* reported a fault (err, text) */
	WORKER_DIED,		/* exited or was killed without saying why */
};

struct worker_spawn_args {
	struct xbd_device *dev;
	const struct xbd_class *class;
	const char *name;		/* device name for logs */
	unsigned int frontend_id;
	void *priv;
	const int *keep_fds;
	unsigned int nr_keep_fds;
	struct stats_area *stats;
	void *journal;			/* JOURNAL_BYTES shared, or NULL */
};

/*
 * The exit status of a worker that reported why it stops
 * (xbd_worker_fail: a fault of the guest, or of the device's setup).
 * Any other end but a clean drain (a signal, another status) is a crash,
 * which the device survives with a new worker (device.c).
 */
#define WORKER_EXIT_FAULT 3

/* Forks the worker. NULL on failure (logged), with errno saying why. */
struct worker *worker_spawn(struct ev_loop *loop,
			    const struct worker_spawn_args *a);
/* Asks the worker to drain; it is killed if not gone after timeout s. */
void worker_drain(struct worker *w, unsigned int timeout);
/* Kills the worker at once (a drain that must not wait). */
void worker_kill(struct worker *w);
pid_t worker_pid(const struct worker *w);
/*
 * An fd on the workers' lock file: every worker keeps it open, so a
 * restarted daemon can wait for the workers of a crashed one to end.
 */
void worker_set_lock_fd(int fd);
unsigned int worker_count(void);

#endif
