/* SPDX-License-Identifier: MIT */
/*
 * xenbackctl metrics (metrics.c): the devices' counters in the
 * Prometheus text exposition format, or as JSON.
 */
#ifndef XBD_METRICS_H
#define XBD_METRICS_H

#include <stdbool.h>

#include "buf.h"

/* Notes the daemon's start (xenbackd_start_time_seconds). */
void metrics_init(void);
/* Every device's metrics into b (b->failed when out of memory). */
void metrics_report(struct buf *b, bool json);

#endif
