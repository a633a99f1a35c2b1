/* SPDX-License-Identifier: MIT */
/*
 * xenbackctl metrics: every device's counters, per ring and per
 * operation, in the Prometheus text exposition format (version 0.0.4) or
 * as JSON. What each metric means, and its unit, is in xenbackctl(8).
 *
 * The counters are the device's totals since this daemon found it
 * (device_totals: every worker's, so a reconnect does not reset them); a
 * daemon restart does, which xenbackd_start_time_seconds shows. Every
 * family is written whole, with its HELP and TYPE, before the next: the
 * format wants one family's series together.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classes.h"
#include "device-private.h"
#include "metrics.h"
#include "stats.h"

static double started_at;

/* The result kinds, as the "kind" label and the JSON members say them. */
static const char *const kind_names[XBD_NR_RESULTS] = {
	[XBD_RESULT_OK] = "ok",
	[XBD_RESULT_IO_ERROR] = "io-error",
	[XBD_RESULT_BAD_REQUEST] = "bad-request",
	[XBD_RESULT_UNSUPPORTED] = "unsupported",
	[XBD_RESULT_NO_RESOURCES] = "no-resources",
};

/* One device as shown: its totals, taken once for every family. */
struct entry {
	struct xbd_device *d;
	struct stats_area *t;
	unsigned int nr_rings, nr_ops, nr_counters;
};

void metrics_init(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	started_at = ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool shown(const struct xbd_device *d)
{
	return d->conn != CONN_NEW && !d->removing;
}

/* Every shown device with its totals; NULL (b->failed) without memory. */
static struct entry *take_entries(struct buf *b, unsigned int *n)
{
	struct xbd_device *d;
	struct entry *e;
	unsigned int i = 0, count = 0;

	for (d = device_list; d; d = d->next)
		count += shown(d);
	*n = 0;
	e = calloc(count ? count : 1, sizeof(*e));
	if (!e) {
		b->failed = true;
		return NULL;
	}
	for (d = device_list; d && i < count; d = d->next) {
		if (!shown(d))
			continue;
		e[i].t = malloc(sizeof(*e[i].t));
		if (!e[i].t) {
			b->failed = true;
			break;
		}
		device_totals(d, e[i].t);
		e[i].d = d;
		e[i].nr_rings = e[i].t->nr_rings < XBD_MAX_RINGS ?
				e[i].t->nr_rings : XBD_MAX_RINGS;
		e[i].nr_ops = class_nr_ops(d->class);
		e[i].nr_counters = class_nr_counters(d->class);
		i++;
	}
	*n = i;
	return e;
}

static void free_entries(struct entry *e, unsigned int n)
{
	for (unsigned int i = 0; e && i < n; i++)
		free(e[i].t);
	free(e);
}

/* ---- Prometheus text --------------------------------------------------- */

static void family(struct buf *b, const char *name, const char *type,
		   const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The device's labels; ring and op (< 0, NULL: none) after them. */
static void labels(struct buf *b, const struct entry *e, int ring,
		   const char *op)
{
	buf_printf(b, "{class=");
	buf_prom_label(b, e->d->class->name);
	buf_printf(b, ",device=");
	buf_prom_label(b, e->d->name);
	buf_printf(b, ",domid=\"%u\",devid=\"%u\"", e->d->frontend_id,
		   e->d->devid);
	if (ring >= 0)
		buf_printf(b, ",ring=\"%d\"", ring);
	if (op) {
		buf_printf(b, ",op=");
		buf_prom_label(b, op);
	}
}

static void sample(struct buf *b, const char *name, const struct entry *e,
		   int ring, const char *op, uint64_t v)
{
	buf_printf(b, "%s", name);
	labels(b, e, ring, op);
	buf_printf(b, "} %llu\n", (unsigned long long)v);
}

/* A ring counter picked by field, for every device and ring. */
typedef uint64_t ring_value(const struct xbd_ring_stats *r);
static uint64_t v_requests(const struct xbd_ring_stats *r) { return r->requests; }
static uint64_t v_errors(const struct xbd_ring_stats *r) { return r->errors; }
static uint64_t v_in_flight(const struct xbd_ring_stats *r) { return r->in_flight; }
static uint64_t v_waits(const struct xbd_ring_stats *r) { return r->resource_waits; }

static void ring_family(struct buf *b, const struct entry *e, unsigned int n,
			const char *name, const char *type, const char *help,
			ring_value *value)
{
	family(b, name, type, help);
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int r = 0; r < e[i].nr_rings; r++)
			sample(b, name, &e[i], r, NULL,
			       value(&e[i].t->ring[r]));
}

typedef uint64_t op_value(const struct xbd_op_stats *op);
static uint64_t v_answers(const struct xbd_op_stats *op) { return stats_op_answers(op); }
static uint64_t v_bytes(const struct xbd_op_stats *op) { return op->bytes; }

/* A family of one sample per device, ring and operation (label op). */
static void op_family(struct buf *b, const struct entry *e, unsigned int n,
		      const char *name, const char *help, op_value *value)
{
	family(b, name, "counter", help);
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int r = 0; r < e[i].nr_rings; r++)
			for (unsigned int o = 0; o < e[i].nr_ops; o++)
				sample(b, name, &e[i], r, e[i].d->class->ops[o],
				       value(&e[i].t->ring[r].op[o]));
}

/* Microseconds as decimal seconds, exactly ("0.000001"). */
static void seconds_us(struct buf *b, uint64_t us)
{
	buf_printf(b, "%llu.%06llu", (unsigned long long)(us / 1000000),
		   (unsigned long long)(us % 1000000));
}

static void histogram(struct buf *b, const struct entry *e, unsigned int r,
		      unsigned int o)
{
	static const char name[] = "xenbackd_op_latency_seconds";
	const struct xbd_op_stats *op = &e->t->ring[r].op[o];
	const char *opname = e->d->class->ops[o];
	uint64_t cum = 0;

	for (unsigned int k = 0; k < XBD_LATENCY_BUCKETS; k++) {
		cum += op->latency[k];
		buf_printf(b, "%s_bucket", name);
		labels(b, e, r, opname);
		buf_printf(b, ",le=\"");
		if (k < XBD_LATENCY_BUCKETS - 1)
			seconds_us(b, stats_bucket_bound_us(k));
		else
			buf_printf(b, "+Inf");
		buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
	}
	buf_printf(b, "%s_sum", name);
	labels(b, e, r, opname);
	buf_printf(b, "} %llu.%09llu\n",
		   (unsigned long long)(op->latency_ns / 1000000000u),
		   (unsigned long long)(op->latency_ns % 1000000000u));
	buf_printf(b, "%s_count", name);
	labels(b, e, r, opname);
	buf_printf(b, "} %llu\n", (unsigned long long)cum);
}

static void report_text(struct buf *b, const struct entry *e, unsigned int n)
{
	family(b, "xenbackd_build_info", "gauge",
	       "The daemon's version (label version); the value is 1.");
	buf_printf(b, "xenbackd_build_info{version=");
	buf_prom_label(b, XBD_VERSION);
	buf_printf(b, "} 1\n");
	family(b, "xenbackd_start_time_seconds", "gauge",
	       "When the daemon started, in seconds since the Unix epoch. "
	       "Every counter starts from zero then.");
	buf_printf(b, "xenbackd_start_time_seconds %.3f\n", started_at);

	family(b, "xenbackd_device_connected", "gauge",
	       "1 while a worker serves the device and it is Connected, else 0.");
	for (unsigned int i = 0; i < n; i++)
		sample(b, "xenbackd_device_connected", &e[i], -1, NULL,
		       e[i].d->conn == CONN_CONNECTED);
	family(b, "xenbackd_device_workers_started_total", "counter",
	       "Worker processes started for the device (one per connection "
	       "or reconnection).");
	for (unsigned int i = 0; i < n; i++)
		sample(b, "xenbackd_device_workers_started_total", &e[i], -1,
		       NULL, e[i].d->workers_started);
	family(b, "xenbackd_device_worker_restarts_total", "counter",
	       "Workers started in place of one that died without the guest "
	       "being at fault, on the same connection (the frontend did not "
	       "notice).");
	for (unsigned int i = 0; i < n; i++)
		sample(b, "xenbackd_device_worker_restarts_total", &e[i], -1,
		       NULL, e[i].d->worker_restarts);

	ring_family(b, e, n, "xenbackd_ring_requests_total", "counter",
		    "Requests taken off the ring.", v_requests);
	ring_family(b, e, n, "xenbackd_ring_errors_total", "counter",
		    "Requests answered with an error.", v_errors);
	ring_family(b, e, n, "xenbackd_ring_in_flight", "gauge",
		    "Requests taken off the ring and not answered yet.",
		    v_in_flight);
	ring_family(b, e, n, "xenbackd_ring_resource_waits_total", "counter",
		    "Requests that had to wait for the backend's resources "
		    "(I/O slots, memory) before they started.", v_waits);

	family(b, "xenbackd_ring_class_counter_total", "counter",
	       "The class's own per-ring counters, named by label counter "
	       "(vbd: read-bytes and write-bytes, in bytes).");
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int r = 0; r < e[i].nr_rings; r++)
			for (unsigned int c = 0; c < e[i].nr_counters; c++) {
				buf_printf(b, "xenbackd_ring_class_counter_total");
				labels(b, &e[i], r, NULL);
				buf_printf(b, ",counter=");
				buf_prom_label(b, e[i].d->class->counters[c]);
				buf_printf(b, "} %llu\n", (unsigned long long)
					   e[i].t->ring[r].counter[c]);
			}

	op_family(b, e, n, "xenbackd_op_requests_total",
		  "Requests answered, per operation (label op), whatever the "
		  "result.", v_answers);
	family(b, "xenbackd_op_errors_total", "counter",
	       "Requests answered with an error, per operation and kind "
	       "(io-error, bad-request, unsupported, no-resources).");
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int r = 0; r < e[i].nr_rings; r++)
			for (unsigned int o = 0; o < e[i].nr_ops; o++)
				for (unsigned int k = 1; k < XBD_NR_RESULTS; k++) {
					buf_printf(b, "xenbackd_op_errors_total");
					labels(b, &e[i], r, e[i].d->class->ops[o]);
					buf_printf(b, ",kind=\"%s\"} %llu\n",
						   kind_names[k],
						   (unsigned long long)
						   e[i].t->ring[r].op[o].result[k]);
				}
	op_family(b, e, n, "xenbackd_op_bytes_total",
		  "Bytes the operation's successful requests moved (read, "
		  "written, discarded), per operation; 512-byte sectors are "
		  "this divided by 512.", v_bytes);
	family(b, "xenbackd_op_latency_seconds", "histogram",
	       "Time from taking a request off the ring to answering it, in "
	       "seconds, per operation; buckets of 2^k microseconds.");
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int r = 0; r < e[i].nr_rings; r++)
			for (unsigned int o = 0; o < e[i].nr_ops; o++)
				histogram(b, &e[i], r, o);
}

/* ---- JSON -------------------------------------------------------------- */

static void json_op(struct buf *b, const struct entry *e, unsigned int r,
		    unsigned int o)
{
	const struct xbd_op_stats *op = &e->t->ring[r].op[o];
	uint64_t cum = 0;

	buf_printf(b, "%s{\"op\":", o ? "," : "");
	buf_json_string(b, e->d->class->ops[o]);
	buf_printf(b, ",\"requests\":%llu,\"bytes\":%llu,\"errors\":{",
		   (unsigned long long)stats_op_answers(op),
		   (unsigned long long)op->bytes);
	for (unsigned int k = 1; k < XBD_NR_RESULTS; k++)
		buf_printf(b, "%s\"%s\":%llu", k > 1 ? "," : "", kind_names[k],
			   (unsigned long long)op->result[k]);
	buf_printf(b, "},\"latency-sum-ns\":%llu,\"latency-buckets\":[",
		   (unsigned long long)op->latency_ns);
	for (unsigned int k = 0; k < XBD_LATENCY_BUCKETS; k++) {
		cum += op->latency[k];
		buf_printf(b, "%s%llu", k ? "," : "", (unsigned long long)cum);
	}
	buf_printf(b, "]}");
}

static void json_ring(struct buf *b, const struct entry *e, unsigned int r)
{
	const struct xbd_ring_stats *s = &e->t->ring[r];

	buf_printf(b, "%s{\"ring\":%u,\"requests\":%llu,\"errors\":%llu,"
		   "\"in-flight\":%llu,\"resource-waits\":%llu,\"counters\":{",
		   r ? "," : "", r, (unsigned long long)s->requests,
		   (unsigned long long)s->errors,
		   (unsigned long long)s->in_flight,
		   (unsigned long long)s->resource_waits);
	for (unsigned int c = 0; c < e->nr_counters; c++) {
		buf_printf(b, "%s", c ? "," : "");
		buf_json_string(b, e->d->class->counters[c]);
		buf_printf(b, ":%llu", (unsigned long long)s->counter[c]);
	}
	buf_printf(b, "},\"ops\":[");
	for (unsigned int o = 0; o < e->nr_ops; o++)
		json_op(b, e, r, o);
	buf_printf(b, "]}");
}

static void report_json(struct buf *b, const struct entry *e, unsigned int n)
{
	buf_printf(b, "{\"version\":");
	buf_json_string(b, XBD_VERSION);
	buf_printf(b, ",\"start-time\":%.3f,\"latency-bounds-us\":[",
		   started_at);
	for (unsigned int k = 0; k < XBD_LATENCY_BUCKETS - 1; k++)
		buf_printf(b, "%s%llu", k ? "," : "",
			   (unsigned long long)stats_bucket_bound_us(k));
	buf_printf(b, "],\"devices\":[");
	for (unsigned int i = 0; i < n; i++) {
		buf_printf(b, "%s{\"name\":", i ? "," : "");
		buf_json_string(b, e[i].d->name);
		buf_printf(b, ",\"class\":");
		buf_json_string(b, e[i].d->class->name);
		buf_printf(b, ",\"frontend-id\":%u,\"devid\":%u,"
			   "\"connected\":%s,\"workers-started\":%lu,"
			   "\"worker-restarts\":%lu,"
			   "\"rings\":[", e[i].d->frontend_id, e[i].d->devid,
			   e[i].d->conn == CONN_CONNECTED ? "true" : "false",
			   e[i].d->workers_started, e[i].d->worker_restarts);
		for (unsigned int r = 0; r < e[i].nr_rings; r++)
			json_ring(b, &e[i], r);
		buf_printf(b, "]}");
	}
	buf_printf(b, "]}\n");
}

void metrics_report(struct buf *b, bool json)
{
	unsigned int n;
	struct entry *e = take_entries(b, &n);

	if (!e)
		return;
	if (json)
		report_json(b, e, n);
	else
		report_text(b, e, n);
	free_entries(e, n);
}
