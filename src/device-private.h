/* SPDX-License-Identifier: MIT */
/*
 * The device record, shared by the lifecycle (device.c), the class API
 * (device-api.c) and the reports (report.c). Nothing else looks inside.
 */
#ifndef XBD_DEVICE_PRIVATE_H
#define XBD_DEVICE_PRIVATE_H

#include <ev.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "device.h"

#define MAX_KEPT_FDS 32

/* Where a device is in its life, as far as this daemon is concerned. */
enum conn {
	CONN_NEW,	/* found, not adopted yet (nodes incomplete, offline) */
	CONN_IDLE,	/* InitWait written (or Connected, taking over) */
	CONN_STARTING,	/* worker forked, not serving yet */
	CONN_CONNECTED,	/* worker serving, Connected written */
	CONN_DRAINING,	/* worker asked to stop */
	CONN_CLOSING,	/* Closing written, waiting for the frontend */
	CONN_CLOSED,	/* Closed written */
	CONN_FAILED,	/* setup failed: waits for its removal */
	CONN_FOREIGN,	/* found past Initialising without our mark: left alone */
};

enum hotplug_state {
	HP_UNKNOWN,	/* not looked at yet */
	HP_WAITING,	/* toolstack mode: waiting for hotplug-status */
	HP_RUNNING,	/* daemon mode: our script runs */
	HP_DONE,
	HP_FAILED,
};

struct xbd_device {
	struct xbd_device *next;
	struct xbd_device *dirty_next;
	bool dirty;
	unsigned int served;		/* index in xbd_config->names */
	const struct xbd_class *class;
	unsigned int frontend_id, devid;
	unsigned long seq;		/* names the frontend watch */
	char name[64];			/* "<name>/<domid>/<devid>" */
	char bpath[160];
	char fpath[256];
	char fe_token[32];
	char fe_state_path[264];
	bool fe_watched;
	void *priv;
	int kept[MAX_KEPT_FDS];
	unsigned int nr_kept;

	enum conn conn;
	int written_state;		/* last state we wrote, -1: none */
	bool setup_called;		/* release() is due */
	bool class_connected;		/* disconnect() is due */
	bool takeover;			/* found Connected: no connect() */
	bool drain_asked;
	bool fault;			/* the worker must end in an error */
	bool removing;
	bool made_anew;		/* removed for a new directory at its path */
	bool warned_state;

	enum hotplug_state hp;
	struct hotplug_run *hp_run;
	bool hp_added;			/* a "remove" run is due */
	char *script;			/* what "add" ran, for "remove" */
	bool hp_error_logged;
	bool backing_open;
	char *backing_failed;		/* nodes as they were when it failed */
	ev_timer backing_retry;		/* after a shortage (EMFILE...), or
					   to look again at an incomplete
					   directory */
	bool retry_backing;		/* what backing_retry is for */
	double incomplete_since;	/* frontend nodes missing since, 0: not */
	bool incomplete_warned;
	double backing_retry_delay;	/* seconds, doubled at each failure */

	struct worker *worker;
	struct stats_area *stats;	/* the worker's (shared), or the last's */
	/*
	 * The counts of every earlier worker of this device, added up when
	 * the next one starts: with stats, the device's totals since it was
	 * found (NULL: no earlier worker, or no memory to keep them).
	 */
	struct stats_area *retired;
	unsigned long workers_started;
	/*
	 * Workers started in place of one that died (not the guest's fault)
	 * on the same connection, which the frontend did not notice; and the
	 * current series of them (worker-restart-window).
	 */
	unsigned long worker_restarts;
	unsigned int series_restarts;
	double series_start;
	bool resuming;			/* the worker starting replaces one */
	bool replacing;			/* ... of a connected device */
	void *journal;			/* the rings' journal (ring-journal.h) */
	pid_t last_pid;
	time_t connected_at;
	char last_error[256];
	int last_errno;			/* of the last error node written */
};

extern const char *const conn_names[];
extern const char *const hp_names[];
/* Every device, newest first. */
extern struct xbd_device *device_list;

/* "Connected", "absent" for -1... */
const char *xenbus_state_name(long s);
/* A backend node's unsigned value, -1 when absent or not a number. */
long device_backend_long(struct xbd_device *d, const char *node);
/* The frontend's state; guest-written, so anything odd is "Unknown". */
long device_frontend_state(struct xbd_device *d);
/*
 * A backend write found the directory removed: the device is taken down
 * as removed at its next step (never from inside the caller).
 */
void device_backend_gone(struct xbd_device *d);
/*
 * The device's counters since it was found: every earlier worker's and
 * the current (or last) one's, in_flight the running worker's only.
 */
void device_totals(const struct xbd_device *d, struct stats_area *out);
/* Writes the "error" node ("<errno> <message>") and logs. */
void device_verror(struct xbd_device *d, int err, const char *fmt,
		   va_list ap) __attribute__((format(printf, 3, 0)));

#endif
