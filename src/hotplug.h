/* SPDX-License-Identifier: MIT */
/*
 * Runs a device's hotplug script with Xen's protocol, without blocking the
 * event loop: the script gets its own process group, a time limit after
 * which the whole group is killed, and its output is kept for the error
 * message.
 */
#ifndef XBD_HOTPLUG_H
#define XBD_HOTPLUG_H

#include <stdbool.h>

struct ev_loop;
struct hotplug_run;

/*
 * ok: the script exited with status 0. message: what went wrong when not
 * ok (the script's last output line, or how it ended), never NULL.
 */
typedef void hotplug_done_fn(void *arg, bool ok, const char *message);

/*
 * Starts "script action" for the backend device at xenbus_path (relative
 * to our xenstore home, as libxl passes it) of class type. A script
 * without a '/' is looked up in XENDIR/scripts. NULL if it could not be
 * started (message logged and put in *why, a static string).
 */
struct hotplug_run *hotplug_start(struct ev_loop *loop, const char *script,
				  const char *action, const char *type,
				  const char *xenbus_path, unsigned int timeout,
				  hotplug_done_fn *done, void *arg,
				  const char **why);
/* Forgets a run: kills its process group, done is never called. */
void hotplug_cancel(struct hotplug_run *r);
/* How many scripts are running. */
unsigned int hotplug_running(void);

#endif
