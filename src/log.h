/* SPDX-License-Identifier: MIT */
/*
 * Logging through libxentoollog: a stdio logger on stderr in the
 * foreground (with journald's priority prefixes and no timestamps when
 * stderr is the journal's stream), a syslog logger when daemonized. xbd_log() (class.h) is the
 * entry point for the core and the classes alike.
 */
#ifndef XBD_LOG_H
#define XBD_LOG_H

#include <stdbool.h>
#include <xentoollog.h>

#include "xenbackd/class.h"

/* Before log_init, messages go to stderr. */
int log_init(bool to_syslog, enum xbd_log_level level);
void log_set_level(enum xbd_log_level level);
enum xbd_log_level log_get_level(void);
/* Text put before every message of this process (a worker's device name). */
void log_set_prefix(const char *prefix);
/* In a freshly forked worker: forget the parent's syslog connection. */
void log_forget_syslog_fd(void);
/* The logger to hand to Xen libraries (xs, evtchn, gnttab). */
xentoollog_logger *log_logger(void);
void log_close(void);

/*
 * Messages a guest can cause at will (xbd_log_guest, class.h): a burst,
 * then one per interval, per process (a worker serves one device).
 */
#define LOG_GUEST_BURST 10
#define LOG_GUEST_INTERVAL 5
/* Seconds until the summary of suppressed messages may be written; -1: none. */
double log_guest_summary_due(void);
/* Writes that summary if a token allows it (or at once, with force). */
void log_guest_flush(bool force);

#endif
