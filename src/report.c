/* SPDX-License-Identifier: MIT */
/*
 * What xenbackctl shows: the devices, one device, the ring counters, as
 * tables or JSON. Counters are read from memory the workers write, so
 * they are taken as numbers and nothing more.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-private.h"
#include "worker.h"

static void report_device_json(struct buf *b, struct xbd_device *d, bool full)
{
	char *params = full ? xbd_backend_read(d, "params") : NULL;

	buf_printf(b, "{\"name\":");
	buf_json_string(b, d->name);
	buf_printf(b, ",\"class\":");
	buf_json_string(b, d->class->name);
	buf_printf(b, ",\"frontend-id\":%u,\"devid\":%u,\"phase\":\"%s\","
		   "\"backend-state\":\"%s\",\"frontend-state\":\"%s\","
		   "\"hotplug\":\"%s\",\"worker-pid\":",
		   d->frontend_id, d->devid, conn_names[d->conn],
		   xenbus_state_name(device_backend_long(d, "state")),
		   xenbus_state_name(device_frontend_state(d)), hp_names[d->hp]);
	if (d->worker)
		buf_printf(b, "%d", (int)worker_pid(d->worker));
	else
		buf_printf(b, "null");
	buf_printf(b, ",\"error\":");
	buf_json_string(b, d->last_error);
	if (full) {
		buf_printf(b, ",\"backend-path\":");
		buf_json_string(b, d->bpath);
		buf_printf(b, ",\"frontend-path\":");
		buf_json_string(b, d->fpath);
		buf_printf(b, ",\"params\":");
		buf_json_string(b, params ? params : "");
		buf_printf(b, ",\"connected-since\":%lld",
			   (long long)(d->conn == CONN_CONNECTED ? d->connected_at : 0));
	}
	free(params);
}

static void report_rings_json(struct buf *b, struct xbd_device *d)
{
	unsigned int n = d->stats ? d->stats->nr_rings : 0;

	buf_printf(b, "\"rings\":[");
	for (unsigned int i = 0; i < n && i < XBD_MAX_RINGS; i++) {
		const struct xbd_ring_stats *r = &d->stats->ring[i];

		buf_printf(b, "%s{\"ring\":%u,\"requests\":%llu,\"read-bytes\":%llu,"
			   "\"write-bytes\":%llu,\"errors\":%llu,\"in-flight\":%llu}",
			   i ? "," : "", i, (unsigned long long)r->requests,
			   (unsigned long long)r->counter[0],
			   (unsigned long long)r->counter[1],
			   (unsigned long long)r->errors,
			   (unsigned long long)r->in_flight);
	}
	buf_printf(b, "]");
}

static void report_rings_text(struct buf *b, struct xbd_device *d)
{
	unsigned int n = d->stats ? d->stats->nr_rings : 0;

	for (unsigned int i = 0; i < n && i < XBD_MAX_RINGS; i++) {
		const struct xbd_ring_stats *r = &d->stats->ring[i];

		buf_printf(b, "%-20s %4u %10llu %14llu %14llu %8llu %9llu\n",
			   d->name, i, (unsigned long long)r->requests,
			   (unsigned long long)r->counter[0],
			   (unsigned long long)r->counter[1],
			   (unsigned long long)r->errors,
			   (unsigned long long)r->in_flight);
	}
}

/* The class's show fields, as "key:" lines (minimal; the kit's report is H2's). */
struct xbd_show {
	struct buf *b;
};

void xbd_show_field(struct xbd_show *s, const char *key, const char *fmt, ...)
{
	char *v = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_printf(s->b, "%s:%*s%s\n", key,
		   strlen(key) < 15 ? (int)(15 - strlen(key)) : 1, "", v);
	free(v);
}

static void report_show_text(struct buf *b, struct xbd_device *d)
{
	struct xbd_show show = { b };

	buf_printf(b, "device:         %s\n", d->name);
	buf_printf(b, "class:          %s\n", d->class->name);
	buf_printf(b, "phase:          %s\n", conn_names[d->conn]);
	buf_printf(b, "backend:        %s (%s)\n", d->bpath,
		   xenbus_state_name(device_backend_long(d, "state")));
	buf_printf(b, "frontend:       %s (%s)\n", d->fpath,
		   xenbus_state_name(device_frontend_state(d)));
	buf_printf(b, "hotplug:        %s\n", hp_names[d->hp]);
	if (d->class->show)
		d->class->show(d, &show);
	if (d->worker)
		buf_printf(b, "worker:         pid %d\n", (int)worker_pid(d->worker));
	else
		buf_printf(b, "worker:         none\n");
	if (d->last_error[0])
		buf_printf(b, "error:          %s\n", d->last_error);
	if (d->stats && d->stats->nr_rings) {
		buf_printf(b, "%-20s %4s %10s %14s %14s %8s %9s\n", "DEVICE",
			   "RING", "REQUESTS", "READ-BYTES", "WRITE-BYTES",
			   "ERRORS", "IN-FLIGHT");
		report_rings_text(b, d);
	}
}

int devices_report(struct buf *b, enum report what, const char *dev, bool json)
{
	struct xbd_device *d;
	bool first = true;

	if (what == REPORT_SHOW) {
		for (d = device_list; d; d = d->next)
			if (d->conn != CONN_NEW && !strcmp(d->name, dev))
				break;
		if (!d)
			return -1;
		if (json) {
			report_device_json(b, d, true);
			buf_printf(b, ",");
			report_rings_json(b, d);
			buf_printf(b, "}\n");
		} else {
			report_show_text(b, d);
		}
		return 0;
	}

	if (json)
		buf_printf(b, "{\"devices\":[");
	else if (what == REPORT_LIST)
		buf_printf(b, "%-20s %-12s %-12s %-10s %-7s %s\n", "DEVICE",
			   "BACKEND", "FRONTEND", "PHASE", "WORKER", "ERROR");
	else
		buf_printf(b, "%-20s %4s %10s %14s %14s %8s %9s\n", "DEVICE",
			   "RING", "REQUESTS", "READ-BYTES", "WRITE-BYTES",
			   "ERRORS", "IN-FLIGHT");
	for (d = device_list; d; d = d->next) {
		if (d->conn == CONN_NEW || d->removing)
			continue;
		if (json) {
			buf_printf(b, "%s", first ? "" : ",");
			if (what == REPORT_LIST) {
				report_device_json(b, d, false);
			} else {
				buf_printf(b, "{\"name\":");
				buf_json_string(b, d->name);
				buf_printf(b, ",");
				report_rings_json(b, d);
			}
			buf_printf(b, "}");
		} else if (what == REPORT_LIST) {
			char pid[16] = "-";

			if (d->worker)
				snprintf(pid, sizeof(pid), "%d",
					 (int)worker_pid(d->worker));
			buf_printf(b, "%-20s %-12s %-12s %-10s %-7s %s\n",
				   d->name, xenbus_state_name(device_backend_long(d, "state")),
				   xenbus_state_name(device_frontend_state(d)),
				   conn_names[d->conn], pid, d->last_error);
		} else {
			report_rings_text(b, d);
		}
		first = false;
	}
	if (json)
		buf_printf(b, "]}\n");
	return 0;
}
