/* SPDX-License-Identifier: MIT */
/*
 * What xenbackctl shows: the devices, one device, the ring counters, as
 * tables or JSON (metrics.c: xenbackctl metrics). Counters are the
 * device's totals (device_totals: its ended workers' and the running
 * one's), read from memory the workers write, so they are taken as
 * numbers and nothing more.
 *
 * The core's columns come first (REQUESTS, ERRORS, IN-FLIGHT), then the
 * class's counters by the names it gave (class.h, counters); the class's
 * own lines of "show" come from its show callback through xbd_show_field().
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes.h"
#include "config.h"
#include "device-private.h"
#include "log.h"
#include "stats.h"
#include "worker.h"

#define MAX_SHOW_FIELDS 32
#define MAX_KEY_LEN 31

/* What xbd_show_field() writes into: one device's show, text or JSON. */
struct xbd_show {
	struct buf *b;
	bool json;
	const struct xbd_device *d;
	unsigned int nr_keys;
	char keys[MAX_SHOW_FIELDS][MAX_KEY_LEN + 1];
};

/*
 * Names the core uses in show, as JSON members or text labels. A class
 * field of one of these names would make a second member of one name (or
 * a line that reads as the core's), so it is left out.
 */
static bool core_show_key(const char *key)
{
	static const char *const keys[] = {
		"name", "class", "frontend-id", "devid", "phase",
		"backend-state", "frontend-state", "hotplug", "worker-pid",
		"error", "backend-path", "frontend-path", "connected-since",
		"rings", "device", "backend", "frontend", "worker",
		"worker-restarts",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* Lower case letters, digits and dashes, as the counters' names. */
static bool valid_show_key(const char *key)
{
	size_t n = strlen(key);

	if (!n || n > MAX_KEY_LEN || key[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)key[i]) &&
		    !isdigit((unsigned char)key[i]) && key[i] != '-')
			return false;
	return true;
}

void xbd_show_field(struct xbd_show *s, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *value;
	int n;

	if (!key || !valid_show_key(key) || core_show_key(key)) {
		xbd_log(XBD_WARN, "%s: class %s shows a field named '%s': "
			"left out (lower case, digits and dashes, and none of "
			"the core's names)", s->d->name, s->d->class->name,
			key ? key : "(null)");
		return;
	}
	for (unsigned int i = 0; i < s->nr_keys; i++)
		if (!strcmp(s->keys[i], key)) {
			xbd_log(XBD_WARN, "%s: class %s shows '%s' twice: the "
				"second is left out", s->d->name,
				s->d->class->name, key);
			return;
		}
	if (s->nr_keys == MAX_SHOW_FIELDS) {
		xbd_log(XBD_WARN, "%s: class %s shows more than %d fields: "
			"'%s' left out", s->d->name, s->d->class->name,
			MAX_SHOW_FIELDS, key);
		return;
	}
	snprintf(s->keys[s->nr_keys++], sizeof(s->keys[0]), "%s", key);

	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->b->failed = true;
		return;
	}
	if (s->json) {
		buf_printf(s->b, ",\"%s\":", key);
		buf_json_string(s->b, value);
	} else {
		char label[MAX_KEY_LEN + 2];

		/* One line per field, whatever the value holds. */
		for (char *c = value; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		snprintf(label, sizeof(label), "%s:", key);
		buf_printf(s->b, "%-15s %s\n", label, value);
	}
	free(value);
}

static void class_show(struct buf *b, struct xbd_device *d, bool json)
{
	struct xbd_show s = { .b = b, .json = json, .d = d };

	if (d->class->show && d->priv)
		d->class->show(d, &s);
}

static void report_device_json(struct buf *b, struct xbd_device *d, bool full)
{
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
	buf_printf(b, ",\"worker-restarts\":%lu", d->worker_restarts);
	buf_printf(b, ",\"error\":");
	buf_json_string(b, d->last_error);
	if (full) {
		buf_printf(b, ",\"backend-path\":");
		buf_json_string(b, d->bpath);
		buf_printf(b, ",\"frontend-path\":");
		buf_json_string(b, d->fpath);
		buf_printf(b, ",\"connected-since\":%lld",
			   (long long)(d->conn == CONN_CONNECTED ? d->connected_at : 0));
		class_show(b, d, true);
	}
}

/* The rings the workers said they had, never more than there is room for. */
static unsigned int nr_rings(const struct stats_area *t)
{
	unsigned int n = t ? t->nr_rings : 0;

	return n < XBD_MAX_RINGS ? n : XBD_MAX_RINGS;
}

/*
 * The device's counters since it was found (device_totals), malloc'd:
 * NULL (nothing shown) when there is no memory for them, which the reply
 * then says (b->failed).
 */
static struct stats_area *totals_of(struct buf *b, const struct xbd_device *d)
{
	struct stats_area *t = malloc(sizeof(*t));

	if (!t) {
		b->failed = true;
		return NULL;
	}
	device_totals(d, t);
	return t;
}

static void report_rings_json(struct buf *b, struct xbd_device *d)
{
	unsigned int nc = class_nr_counters(d->class);
	struct stats_area *t = totals_of(b, d);

	buf_printf(b, "\"rings\":[");
	for (unsigned int i = 0; i < nr_rings(t); i++) {
		const struct xbd_ring_stats *r = &t->ring[i];

		buf_printf(b, "%s{\"ring\":%u,\"requests\":%llu,\"errors\":%llu,"
			   "\"in-flight\":%llu", i ? "," : "", i,
			   (unsigned long long)r->requests,
			   (unsigned long long)r->errors,
			   (unsigned long long)r->in_flight);
		for (unsigned int c = 0; c < nc; c++)
			buf_printf(b, ",\"%s\":%llu", d->class->counters[c],
				   (unsigned long long)r->counter[c]);
		buf_printf(b, "}");
	}
	buf_printf(b, "]");
	free(t);
}

/* A class counter's column: at least as wide as the byte counts need. */
static int counter_width(const char *name)
{
	int n = strlen(name);

	return n > 14 ? n : 14;
}

/* The table header for a class's devices (NULL: the core's columns only). */
static void rings_header(struct buf *b, const struct xbd_class *c)
{
	unsigned int nc = c ? class_nr_counters(c) : 0;

	buf_printf(b, "%-20s %4s %10s %8s %9s", "DEVICE", "RING", "REQUESTS",
		   "ERRORS", "IN-FLIGHT");
	for (unsigned int i = 0; i < nc; i++) {
		char up[32];
		size_t j;

		for (j = 0; c->counters[i][j] && j < sizeof(up) - 1; j++)
			up[j] = toupper((unsigned char)c->counters[i][j]);
		up[j] = '\0';
		buf_printf(b, " %*s", counter_width(c->counters[i]), up);
	}
	buf_printf(b, "\n");
}

static void report_rings_text(struct buf *b, struct xbd_device *d,
			      const struct stats_area *t)
{
	unsigned int nc = class_nr_counters(d->class);

	for (unsigned int i = 0; i < nr_rings(t); i++) {
		const struct xbd_ring_stats *r = &t->ring[i];

		buf_printf(b, "%-20s %4u %10llu %8llu %9llu", d->name, i,
			   (unsigned long long)r->requests,
			   (unsigned long long)r->errors,
			   (unsigned long long)r->in_flight);
		for (unsigned int c = 0; c < nc; c++)
			buf_printf(b, " %*llu", counter_width(d->class->counters[c]),
				   (unsigned long long)r->counter[c]);
		buf_printf(b, "\n");
	}
}

static void report_show_text(struct buf *b, struct xbd_device *d)
{
	struct stats_area *t;

	buf_printf(b, "device:         %s\n", d->name);
	buf_printf(b, "class:          %s\n", d->class->name);
	buf_printf(b, "phase:          %s\n", conn_names[d->conn]);
	buf_printf(b, "backend:        %s (%s)\n", d->bpath,
		   xenbus_state_name(device_backend_long(d, "state")));
	buf_printf(b, "frontend:       %s (%s)\n", d->fpath,
		   xenbus_state_name(device_frontend_state(d)));
	buf_printf(b, "hotplug:        %s\n", hp_names[d->hp]);
	class_show(b, d, false);
	if (d->worker)
		buf_printf(b, "worker:         pid %d\n", (int)worker_pid(d->worker));
	else
		buf_printf(b, "worker:         none\n");
	/* Replacements of a worker that died, unnoticed by the frontend. */
	buf_printf(b, "worker restarts: %lu\n", d->worker_restarts);
	if (d->last_error[0])
		buf_printf(b, "error:          %s\n", d->last_error);
	t = totals_of(b, d);
	if (nr_rings(t)) {
		rings_header(b, d->class);
		report_rings_text(b, d, t);
	}
	free(t);
}

static bool listed(const struct xbd_device *d)
{
	return d->conn != CONN_NEW && !d->removing;
}

/*
 * xenbackctl stats as text: one table per class, since each class has
 * columns of its own, in the order the classes are served. With no
 * device at all, the core's header alone.
 */
static void report_stats_text(struct buf *b)
{
	const struct xbd_class *done[MAX_CLASSES];
	unsigned int nr_done = 0;
	size_t start = b->len;

	for (unsigned int i = 0; i < xbd_config->nr_names; i++) {
		const struct xbd_class *c = xbd_config->names[i].class;
		bool seen = false, any = false;
		struct xbd_device *d;

		for (unsigned int j = 0; j < nr_done; j++)
			seen |= done[j] == c;
		if (seen || nr_done == MAX_CLASSES)
			continue;
		done[nr_done++] = c;
		for (d = device_list; d && !any; d = d->next)
			any = listed(d) && d->class == c;
		if (!any)
			continue;
		if (b->len > start)
			buf_printf(b, "\n");
		rings_header(b, c);
		for (d = device_list; d; d = d->next) {
			struct stats_area *t;

			if (!listed(d) || d->class != c)
				continue;
			t = totals_of(b, d);
			report_rings_text(b, d, t);
			free(t);
		}
	}
	if (b->len == start)
		rings_header(b, NULL);
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

	if (what == REPORT_STATS && !json) {
		report_stats_text(b);
		return 0;
	}
	if (json)
		buf_printf(b, "{\"devices\":[");
	else
		buf_printf(b, "%-20s %-12s %-12s %-10s %-7s %-8s %s\n",
			   "DEVICE", "BACKEND", "FRONTEND", "PHASE", "WORKER",
			   "RESTARTS", "ERROR");
	for (d = device_list; d; d = d->next) {
		if (!listed(d))
			continue;
		if (json) {
			buf_printf(b, "%s", first ? "" : ",");
			if (what == REPORT_LIST) {
				report_device_json(b, d, false);
			} else {
				buf_printf(b, "{\"name\":");
				buf_json_string(b, d->name);
				buf_printf(b, ",\"class\":");
				buf_json_string(b, d->class->name);
				buf_printf(b, ",");
				report_rings_json(b, d);
			}
			buf_printf(b, "}");
		} else {
			char pid[16] = "-";

			if (d->worker)
				snprintf(pid, sizeof(pid), "%d",
					 (int)worker_pid(d->worker));
			buf_printf(b, "%-20s %-12s %-12s %-10s %-7s %-8lu %s\n",
				   d->name, xenbus_state_name(device_backend_long(d, "state")),
				   xenbus_state_name(device_frontend_state(d)),
				   conn_names[d->conn], pid, d->worker_restarts,
				   d->last_error);
		}
		first = false;
	}
	if (json)
		buf_printf(b, "]}\n");
	return 0;
}
