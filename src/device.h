/* SPDX-License-Identifier: MIT */
/*
 * Backend devices and their xenbus lifecycle. One struct xbd_device per
 * backend directory <home>/backend/<name>/<frontend-id>/<devid>; its state
 * machine is re-evaluated (device_step) whenever something about it may
 * have changed, never once per event, so event floods coalesce.
 */
#ifndef XBD_DEVICE_H
#define XBD_DEVICE_H

#include <stdbool.h>

#include "buf.h"
#include "worker.h"

struct ev_loop;

/* Starts watching every served class name; discovery follows the watch. */
int devices_start(struct ev_loop *loop);
/*
 * Daemon shutdown: stop every hotplug script, ask every worker to drain.
 * xenstore states are left as they are, for a restarted daemon. done() is
 * called once no worker is left (maybe at once).
 */
void devices_shutdown(void (*done)(void));
/* Frees what is left after the loop ended (no xenstore writes). */
void devices_free_all(void);

/* From worker.c. */
void device_worker_started(struct xbd_device *d);
void device_worker_exited(struct xbd_device *d, enum worker_end end,
			  int err, const char *text);

/*
 * In a new worker: unmaps the counters and ring journals shared with
 * every other device's worker, so that a worker can write only its own.
 */
void devices_unmap_other_stats(const struct stats_area *mine,
			       const void *my_journal);

/* Control socket reports. dev selects one device ("<name>/<domid>/<devid>"). */
enum report { REPORT_LIST, REPORT_SHOW, REPORT_STATS };
/* 0, or -1 when dev names no device. */
int devices_report(struct buf *out, enum report what, const char *dev,
		   bool json);

#endif
