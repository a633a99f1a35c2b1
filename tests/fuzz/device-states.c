/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the core's device lifecycle (src/device.c with
 * src/device-api.c and src/store.c, linked unchanged) driven by arbitrary
 * sequences of xenstore node changes -- the toolstack's in the backend
 * directories, the guest's in the frontend's -- interleaved with what the
 * daemon's other parts report back: workers starting, exiting cleanly,
 * failing or dying; hotplug scripts ending; time passing (retries, the
 * incomplete-directory grace); class callbacks failing; transactions
 * conflicting; and the daemon itself crashing and starting again over the
 * same store (takeover).
 *
 * Replaced at link time: libxenstore (an in-memory store here, with
 * watches that fire as xenstored's do, the initial fire included, and
 * transactions that can be told to conflict), the hotplug runner and the
 * worker processes (records the input drives), the clock. The class is
 * one of this file's, whose callbacks fail when the input says.
 *
 * Checked, at every daemon write and after every move:
 * - the daemon writes only inside an existing device directory under its
 *   backend home (never re-creating one the toolstack removed), and
 *   nothing in the frontend's; a state it writes is InitWait, Connected,
 *   Closing or Closed; InitWait never while online is 0;
 * - Connected only while the device's worker runs and said it started;
 * - a worker is started only while the frontend is Initialised or
 *   Connected, after setup and frontend_ready, at most one per device;
 * - class callbacks in order: setup at most once, frontend_ready after
 *   it, connect only with a worker started, disconnect once per
 *   frontend_ready that led to a worker, release once per setup and last;
 * - at the end, every backend directory removed and every worker and
 *   script ended, no device is left, every setup was released, and the
 *   only watch left is the daemon's own on its backend home.
 * ASan and UBSan watch the rest (a device used after it was freed); a
 * watchdog of 5 s of CPU time catches a loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include <xenstore.h>

#include "config.h"
#include "device-private.h"
#include "device.h"
#include "hotplug.h"
#include "owner.h"
#include "store.h"
#include "worker.h"
#include "../unit/stubs.h"
#include "watchdog.h"

#define ASSERT(c)                                                            \
	do {                                                                 \
		if (!(c)) {                                                  \
			fprintf(stderr, "%s:%d: assertion failed: %s\n",     \
				__FILE__, __LINE__, #c);                     \
			abort();                                             \
		}                                                            \
	} while (0)

#define HOME "/local/domain/0"
#define BASE HOME "/backend/fz"
#define NR_FIDS 2		/* frontend domains 1, 2 */
#define NR_DEVIDS 2		/* devids 0, 51712 */

static const unsigned int devids[NR_DEVIDS] = { 0, 51712 };
static bool debug;

/* ---- Input ------------------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* ---- The store ------------------------------------------------------------ */

#define MAX_NODES 1024
#define MAX_WATCHES 64
#define MAX_EVENTS 4096

struct node {
	char *path, *value;
	uint32_t hash;		/* of path: few strcmp (libFuzzer hooks them) */
	bool marked;		/* a directory the daemon's mark was written into */
	unsigned int next;	/* in its hash chain: index + 1, 0 ends it */
};

static struct node nodes[MAX_NODES];
static unsigned int nr_nodes;
/* Hash chains over nodes[] (index + 1): a lookup is most of a run. */
#define NR_BUCKETS 2048
static unsigned int buckets[NR_BUCKETS];

struct watch {
	char *path, *token;
};

static struct watch watches[MAX_WATCHES];
static unsigned int nr_watches;

static struct event {
	char *path, *token;
} events[MAX_EVENTS];
static unsigned int ev_head, ev_count;
static int ev_pipe[2] = { -1, -1 };

static bool daemon_writing;	/* the writes are the daemon's, checked */
static bool committing;		/* a write of the daemon's, not a move's */
static unsigned int conflicts;	/* transactions to fail with EAGAIN */
static unsigned int store_failures;	/* reads to fail with EIO */
static bool store_failed;	/* some read failed in this input */

static uint32_t hash_of(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static struct node *lookup(const char *path)
{
	uint32_t h = hash_of(path);

	for (unsigned int i = buckets[h % NR_BUCKETS]; i; i = nodes[i - 1].next)
		if (nodes[i - 1].hash == h && !strcmp(nodes[i - 1].path, path))
			return &nodes[i - 1];
	return NULL;
}

static void link_node(unsigned int i)
{
	unsigned int *head = &buckets[nodes[i].hash % NR_BUCKETS];

	nodes[i].next = *head;
	*head = i + 1;
}

static void unlink_node(unsigned int i)
{
	unsigned int *p = &buckets[nodes[i].hash % NR_BUCKETS];

	while (*p != i + 1)
		p = &nodes[*p - 1].next;
	*p = nodes[i].next;
}

static const char *value_of(const char *path)
{
	struct node *n = lookup(path);

	return n ? n->value : NULL;
}

/* path is p or below it. */
static bool at_or_below(const char *path, const char *p)
{
	size_t n = strlen(p);

	return !strncmp(path, p, n) && (path[n] == '\0' || path[n] == '/');
}

static void queue_event(const char *path, const char *token)
{
	struct event *e;

	if (ev_count == MAX_EVENTS)
		return;		/* xenstored drops too, past its quota */
	e = &events[(ev_head + ev_count++) % MAX_EVENTS];
	e->path = strdup(path);
	e->token = strdup(token);
	if (ev_count == 1)
		(void)!write(ev_pipe[1], "x", 1);
}

/* A change at path: the watches on it or above it, or below it if removed. */
static void fire(const char *path, bool removed)
{
	for (unsigned int i = 0; i < nr_watches; i++) {
		if (at_or_below(path, watches[i].path))
			queue_event(path, watches[i].token);
		else if (removed && at_or_below(watches[i].path, path))
			queue_event(watches[i].path, watches[i].token);
	}
}

static char mark[80];		/* this daemon's served-by */

/*
 * The daemon's mark written into a directory, by this daemon or by a
 * predecessor of this boot: what a restarted daemon would see as its
 * own, whatever is written over it later.
 */
static void note_mark(const char *path, const char *value)
{
	const char *slash = strrchr(path, '/');
	char dir[512];
	struct node *d;

	if (!slash || strcmp(slash + 1, "served-by") || strcmp(value, mark))
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	d = lookup(dir);
	if (d)
		d->marked = true;
}

static void set_node(const char *path, const char *value)
{
	struct node *n = lookup(path);
	char parent[512];
	char *slash;

	if (!n) {
		/* Parents first, as xenstored makes them. */
		snprintf(parent, sizeof(parent), "%s", path);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			if (!lookup(parent))
				set_node(parent, "");
		}
		ASSERT(nr_nodes < MAX_NODES);
		n = &nodes[nr_nodes++];
		n->path = strdup(path);
		n->hash = hash_of(path);
		n->value = NULL;
		n->marked = false;
		link_node(nr_nodes - 1);
	}
	free(n->value);
	n->value = strdup(value);
	note_mark(path, value);
	if (debug && !committing)
		fprintf(stderr, "store: %s = %s\n", path, value);
	fire(path, false);
}

static void rm_node(const char *path)
{
	bool any = false;

	if (debug)
		fprintf(stderr, "store: rm %s\n", path);
	for (unsigned int i = 0; i < nr_nodes;) {
		if (at_or_below(nodes[i].path, path)) {
			unlink_node(i);
			free(nodes[i].path);
			free(nodes[i].value);
			if (i != --nr_nodes) {
				unlink_node(nr_nodes);
				nodes[i] = nodes[nr_nodes];
				link_node(i);
			}
			any = true;
		} else {
			i++;
		}
	}
	if (any)
		fire(path, true);
}

static void reset_store(void)
{
	while (nr_nodes) {
		nr_nodes--;
		free(nodes[nr_nodes].path);
		free(nodes[nr_nodes].value);
	}
	memset(buckets, 0, sizeof(buckets));
	for (unsigned int i = 0; i < nr_watches; i++) {
		free(watches[i].path);
		free(watches[i].token);
	}
	nr_watches = 0;
	while (ev_count) {
		free(events[ev_head].path);
		free(events[ev_head].token);
		ev_head = (ev_head + 1) % MAX_EVENTS;
		ev_count--;
	}
	{
		char c[64];

		while (read(ev_pipe[0], c, sizeof(c)) > 0)
			;
	}
}

static void absolute(const char *path, char *out, size_t n)
{
	if (path[0] == '/')
		snprintf(out, n, "%s", path);
	else
		snprintf(out, n, HOME "/%s", path);
}

/* ---- libxenstore ----------------------------------------------------------- */

static int handle;

struct xs_handle *xs_open(unsigned long flags)
{
	return (struct xs_handle *)&handle;
}

void xs_close(struct xs_handle *h)
{
}

int xs_fileno(struct xs_handle *h)
{
	return ev_pipe[0];
}

char *xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
	char *p;

	return asprintf(&p, "/local/domain/%u", domid) < 0 ? NULL : p;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
	      unsigned int *len)
{
	char abs[512];
	const char *v;

	if (store_failures) {
		store_failures--;
		store_failed = true;
		errno = EIO;
		return NULL;
	}
	absolute(path, abs, sizeof(abs));
	v = value_of(abs);
	if (!v) {
		errno = ENOENT;
		return NULL;
	}
	if (len)
		*len = strlen(v);
	return strdup(v);
}

/* A write in a transaction waits for its end. */
static char *pending_path, *pending_value;
static bool in_transaction;

static bool long_is_zero(const char *v)
{
	char *end;
	long n;

	if (!v)
		return false;
	errno = 0;
	n = strtol(v, &end, 10);
	return !errno && end != v && !*end && n == 0;
}

static void check_daemon_write(const char *path, const char *value);

static void commit(const char *path, const char *value)
{
	if (daemon_writing)
		check_daemon_write(path, value);
	committing = true;
	set_node(path, value);
	committing = false;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
	      const void *data, unsigned int len)
{
	char abs[512], *v = strndup(data, len);

	absolute(path, abs, sizeof(abs));
	if (t != XBT_NULL) {
		ASSERT(in_transaction && !pending_path);
		pending_path = strdup(abs);
		pending_value = v;
		return true;
	}
	commit(abs, v);
	free(v);
	return true;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	char abs[512];

	absolute(path, abs, sizeof(abs));
	/* The daemon removes nothing of the device directories. */
	ASSERT(!daemon_writing || !at_or_below(abs, BASE));
	rm_node(abs);
	return true;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t,
		    const char *path, unsigned int *num)
{
	char abs[512];
	size_t len, total = 0;
	unsigned int n = 0;
	char **out, *p;

	absolute(path, abs, sizeof(abs));
	if (!lookup(abs)) {
		errno = ENOENT;
		return NULL;
	}
	len = strlen(abs);
	for (unsigned int i = 0; i < nr_nodes; i++)
		if (!strncmp(nodes[i].path, abs, len) &&
		    nodes[i].path[len] == '/' &&
		    !strchr(nodes[i].path + len + 1, '/')) {
			n++;
			total += strlen(nodes[i].path + len + 1) + 1;
		}
	out = malloc((n + 1) * sizeof(*out) + total + 1);
	if (!out)
		return NULL;
	p = (char *)(out + n + 1);
	n = 0;
	for (unsigned int i = 0; i < nr_nodes; i++)
		if (!strncmp(nodes[i].path, abs, len) &&
		    nodes[i].path[len] == '/' &&
		    !strchr(nodes[i].path + len + 1, '/')) {
			out[n++] = p;
			strcpy(p, nodes[i].path + len + 1);
			p += strlen(p) + 1;
		}
	out[n] = NULL;
	*num = n;
	return out;
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	char abs[512];

	absolute(path, abs, sizeof(abs));
	ASSERT(nr_watches < MAX_WATCHES);
	watches[nr_watches].path = strdup(abs);
	watches[nr_watches].token = strdup(token);
	nr_watches++;
	queue_event(abs, token);	/* the initial fire */
	return true;
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	char abs[512];

	absolute(path, abs, sizeof(abs));
	for (unsigned int i = 0; i < nr_watches; i++)
		if (!strcmp(watches[i].path, abs) &&
		    !strcmp(watches[i].token, token)) {
			free(watches[i].path);
			free(watches[i].token);
			watches[i] = watches[--nr_watches];
			return true;
		}
	ASSERT(!"unwatching a watch never set");
	return false;
}

char **xs_check_watch(struct xs_handle *h)
{
	struct event *e;
	char **out;
	size_t lp, lt;

	if (!ev_count) {
		char c[64];

		while (read(ev_pipe[0], c, sizeof(c)) > 0)
			;
		errno = EAGAIN;
		return NULL;
	}
	e = &events[ev_head];
	ev_head = (ev_head + 1) % MAX_EVENTS;
	ev_count--;
	lp = strlen(e->path) + 1;
	lt = strlen(e->token) + 1;
	out = malloc(2 * sizeof(*out) + lp + lt);
	ASSERT(out);
	out[XS_WATCH_PATH] = (char *)(out + 2);
	out[XS_WATCH_TOKEN] = out[XS_WATCH_PATH] + lp;
	memcpy(out[XS_WATCH_PATH], e->path, lp);
	memcpy(out[XS_WATCH_TOKEN], e->token, lt);
	free(e->path);
	free(e->token);
	return out;
}

/* A directory the toolstack removes as the daemon's next write starts. */
static char race_rm[256];

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	ASSERT(!in_transaction);
	in_transaction = true;
	if (race_rm[0]) {
		rm_node(race_rm);
		race_rm[0] = '\0';
	}
	return 1;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool cancel)
{
	bool ok = !cancel;

	ASSERT(in_transaction);
	in_transaction = false;
	if (ok && conflicts) {
		conflicts--;
		ok = false;
		errno = EAGAIN;
	} else if (cancel) {
		errno = 0;
	}
	if (ok && pending_path)
		commit(pending_path, pending_value);
	free(pending_path);
	free(pending_value);
	pending_path = pending_value = NULL;
	return ok || cancel;
}

/* ---- The clock ------------------------------------------------------------ */

static double now;

double monotonic_seconds(void)
{
	return now;
}

/* ---- Hotplug scripts -------------------------------------------------------- */

#define MAX_RUNS 64

struct hotplug_run {
	bool live;
	hotplug_done_fn *done;
	void *arg;
};

static struct hotplug_run runs[MAX_RUNS];
static bool hotplug_refuse;	/* the next start fails */

struct hotplug_run *hotplug_start(struct ev_loop *loop, const char *script,
				  const char *action, const char *type,
				  const char *xenbus_path, unsigned int timeout,
				  hotplug_done_fn *done, void *arg,
				  const char **why)
{
	ASSERT(!strcmp(action, "add") || !strcmp(action, "remove"));
	ASSERT(script);
	if (hotplug_refuse) {
		hotplug_refuse = false;
		*why = "cannot run the script";
		return NULL;
	}
	for (unsigned int i = 0; i < MAX_RUNS; i++)
		if (!runs[i].live) {
			runs[i] = (struct hotplug_run){ true, done, arg };
			return &runs[i];
		}
	*why = "too many scripts";
	return NULL;
}

void hotplug_cancel(struct hotplug_run *r)
{
	ASSERT(r->live);
	r->live = false;
}

unsigned int hotplug_running(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < MAX_RUNS; i++)
		n += runs[i].live;
	return n;
}

static void hotplug_finish(unsigned int i, bool ok)
{
	struct hotplug_run *r = &runs[i];

	if (!r->live)
		return;
	r->live = false;
	r->done(r->arg, ok, ok ? "" : "the script failed");
}

/* ---- Workers ---------------------------------------------------------------- */

#define MAX_WORKERS 32

struct worker {
	bool live, started, draining, killed;
	struct xbd_device *dev;
	pid_t pid;
};

static struct worker workers[MAX_WORKERS];
static pid_t next_pid = 1000;
static bool spawn_refuse;

struct stats_area *stats_area_new(void)
{
	return calloc(1, sizeof(struct stats_area));
}

void stats_area_free(struct stats_area *s)
{
	free(s);
}

static struct worker *worker_of(const struct xbd_device *d)
{
	for (unsigned int i = 0; i < MAX_WORKERS; i++)
		if (workers[i].live && workers[i].dev == d)
			return &workers[i];
	return NULL;
}

static void check_spawn(struct xbd_device *d);

struct worker *worker_spawn(struct ev_loop *loop,
			    const struct worker_spawn_args *a)
{
	check_spawn(a->dev);
	ASSERT(!worker_of(a->dev));
	ASSERT(a->stats && a->class && a->priv);
	if (spawn_refuse) {
		spawn_refuse = false;
		errno = EAGAIN;
		return NULL;
	}
	for (unsigned int i = 0; i < MAX_WORKERS; i++)
		if (!workers[i].live) {
			workers[i] = (struct worker){ .live = true,
						      .dev = a->dev,
						      .pid = next_pid++ };
			return &workers[i];
		}
	errno = EAGAIN;
	return NULL;
}

void worker_drain(struct worker *w, unsigned int timeout)
{
	ASSERT(w->live);
	w->draining = true;
}

void worker_kill(struct worker *w)
{
	ASSERT(w->live);
	w->killed = true;
}

pid_t worker_pid(const struct worker *w)
{
	return w->pid;
}

unsigned int worker_count(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < MAX_WORKERS; i++)
		n += workers[i].live;
	return n;
}

static void worker_end(struct worker *w, enum worker_end end)
{
	struct xbd_device *d = w->dev;

	w->live = false;
	device_worker_exited(d, end, end == WORKER_FAILED ? EPROTO : 0,
			     end == WORKER_FAILED ? "the ring broke"
						  : "killed");
}

/* ---- The class ----------------------------------------------------------------- */

/* What the class knows of each device: its callbacks, in order. */
struct fz_dev {
	bool set_up, ready, connected, released;
	unsigned int setups, readies, disconnects, releases;
	unsigned int fid, devid;
};

static uint8_t fail_mask;	/* callbacks that fail now */
enum {
	FAIL_SETUP = 1, FAIL_BACKING = 2, FAIL_BACKING_EMFILE = 4,
	FAIL_FRONTEND = 8, FAIL_CONNECT = 16,
};
static unsigned long setups, releases;

static struct fz_dev *fz(struct xbd_device *d)
{
	return xbd_device_priv(d);
}

static int fz_setup(struct xbd_device *d)
{
	struct fz_dev *f = fz(d);

	ASSERT(f && !f->setups);
	f->setups++;
	f->set_up = true;
	setups++;
	ASSERT(strlen(xbd_device_frontend_path(d)) > 0);
	f->fid = xbd_device_frontend_id(d);
	f->devid = xbd_device_devid(d);
	xbd_backend_write(d, "feature-fz", "%d", 1);
	return fail_mask & FAIL_SETUP ? -1 : 0;
}

static int fz_backing_ready(struct xbd_device *d)
{
	char *p;

	ASSERT(fz(d)->set_up && !fz(d)->released);
	if (fail_mask & FAIL_BACKING_EMFILE) {
		xbd_device_error(d, EMFILE, "out of fds");
		return -1;
	}
	p = xbd_backend_read(d, "params");
	free(p);
	if (fail_mask & FAIL_BACKING) {
		xbd_device_error(d, ENOENT, "no such file");
		return -1;
	}
	return 0;
}

static int fz_frontend_ready(struct xbd_device *d)
{
	struct fz_dev *f = fz(d);
	const char *fp = xbd_device_frontend_path(d);
	char prefix[40];

	ASSERT(f->set_up && !f->released && !f->ready);
	ASSERT(!worker_of(d));
	snprintf(prefix, sizeof(prefix), "/local/domain/%u/", f->fid);
	ASSERT(!strncmp(fp, prefix, strlen(prefix)));
	ASSERT(!strstr(fp, "/../") && !strstr(fp, "//"));
	if (fail_mask & FAIL_FRONTEND)
		return -1;
	f->ready = true;
	f->readies++;
	return 0;
}

static int fz_connect(struct xbd_device *d)
{
	struct worker *w = worker_of(d);

	ASSERT(fz(d)->ready && w && w->started);
	if (fail_mask & FAIL_CONNECT)
		return -1;
	fz(d)->connected = true;
	return 0;
}

static void fz_disconnect(struct xbd_device *d)
{
	struct fz_dev *f = fz(d);

	/* Once per frontend_ready that led to a worker. */
	ASSERT(f->ready && !f->released);
	f->ready = f->connected = false;
	f->disconnects++;
}

static void fz_release(struct xbd_device *d)
{
	struct fz_dev *f = fz(d);

	ASSERT(f->set_up && !f->released && !f->ready);
	ASSERT(!worker_of(d));
	f->released = true;
	f->releases++;
	releases++;
}

static int fz_worker_start(struct xbd_worker *w)
{
	ASSERT(!"no worker runs in this process");
	return -1;
}

static const char *const fz_backing_nodes[] = { "params", NULL };

static const struct xbd_class fz_class = {
	.name = "fz",
	.priv_size = sizeof(struct fz_dev),
	.setup = fz_setup,
	.backing_ready = fz_backing_ready,
	.backing_nodes = fz_backing_nodes,
	.frontend_ready = fz_frontend_ready,
	.connect = fz_connect,
	.disconnect = fz_disconnect,
	.release = fz_release,
	.worker_start = fz_worker_start,
};

/* ---- Checks ---------------------------------------------------------------------- */

static struct served_name names[1] = { { "fz", &fz_class } };
static struct config config = {
	.log_level = XBD_ERROR,
	.hotplug_timeout = 10,
	.drain_timeout = 5,
	.names = names,
	.nr_names = 1,
};
struct config *xbd_config = &config;

/* The device directory path is in (BASE/<fid>/<devid>), or "". */
static void device_dir_of(const char *path, char *out, size_t n)
{
	const char *p = path + strlen(BASE);
	const char *a, *b;

	out[0] = '\0';
	if (!at_or_below(path, BASE) || *p != '/')
		return;
	a = strchr(p + 1, '/');
	if (!a)
		return;
	b = strchr(a + 1, '/');
	snprintf(out, n, "%.*s", (int)((b ? b : a + strlen(a)) - path), path);
}

static struct xbd_device *device_at(const char *dir)
{
	for (struct xbd_device *d = device_list; d; d = d->next)
		if (!strcmp(xbd_device_backend_path(d), dir))
			return d;
	return NULL;
}

static void check_daemon_write(const char *path, const char *value)
{
	char dir[256], node[256];
	struct xbd_device *d;

	if (!strcmp(path, HOME "/xenbackd"))
		return;		/* owner.c's, not a device's */
	device_dir_of(path, dir, sizeof(dir));
	/* Inside a device directory that still exists. */
	ASSERT(dir[0] && strlen(path) > strlen(dir));
	ASSERT(lookup(dir));
	snprintf(node, sizeof(node), "%s", path + strlen(dir) + 1);
	if (debug)
		fprintf(stderr, "daemon: %s = %s\n", path, value);
	if (strcmp(node, "state"))
		return;
	/*
	 * InitWait and Connected are written only into a directory that
	 * the daemon marked as its own since it was made: else a restarted
	 * daemon leaves the device alone. A directory removed and made
	 * again before the daemon looked used to break it (seed
	 * reattach-unseen; test-reattach-at-once). Closing and Closed may
	 * come without: a new device whose setup fails (a bad frontend-id)
	 * is closed before it is ours.
	 */
	if (!strcmp(value, "2") || !strcmp(value, "4"))
		ASSERT(lookup(dir)->marked);
	ASSERT(!strcmp(value, "2") || !strcmp(value, "4") ||
	       !strcmp(value, "5") || !strcmp(value, "6"));
	/* An online node that could not be read counts as online. */
	if (!strcmp(value, "2") && !store_failed) {
		char online[300];

		snprintf(online, sizeof(online), "%s/online", dir);
		ASSERT(!long_is_zero(value_of(online)));
	}
	if (!strcmp(value, "4")) {
		struct worker *w;

		d = device_at(dir);
		ASSERT(d);
		w = worker_of(d);
		ASSERT(w && w->started && !w->killed);
		ASSERT(fz(d)->connected);
	}
}

static long frontend_state_of(struct xbd_device *d)
{
	char path[300];
	const char *v;
	char *end;
	long n;

	snprintf(path, sizeof(path), "%s/state", xbd_device_frontend_path(d));
	v = value_of(path);
	if (!v)
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno || end == v || *end || n < 0 ? -1 : n;
}

static void check_spawn(struct xbd_device *d)
{
	long fe = frontend_state_of(d);

	ASSERT(fe == XenbusStateInitialised || fe == XenbusStateConnected);
	ASSERT(fz(d)->set_up && fz(d)->ready && !fz(d)->released);
}

/* ---- The toolstack and the guest ----------------------------------------- */

static const char *const values[] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "", "-1", "04",
	"4294967297", "garbage", "connected", "error", "/etc/passwd",
	"/local/domain/1/device/fz/0", "/local/domain/2/device/fz/51712",
	"/local/domain/1/../0/x", "/local/domain/1/device/fz/0/",
	"block", "/no/such/script", "99999999999999999999999",
};
#define NR_VALUES (sizeof(values) / sizeof(values[0]))

static const char *const backend_nodes[] = {
	"state", "online", "frontend", "frontend-id", "script",
	"hotplug-status", "hotplug-error", "params", "served-by",
};
#define NR_BACKEND_NODES (sizeof(backend_nodes) / sizeof(backend_nodes[0]))

static void bdir(char *out, size_t n, unsigned int fid, unsigned int k)
{
	snprintf(out, n, BASE "/%u/%u", fid, devids[k]);
}

static void fdir(char *out, size_t n, unsigned int fid, unsigned int k)
{
	snprintf(out, n, "/local/domain/%u/device/fz/%u", fid, devids[k]);
}

static void put(const char *dir, const char *node, const char *value)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", dir, node);
	set_node(path, value);
}

/* A device as libxl writes it: frontend and backend directories. */
static void create_device(unsigned int fid, unsigned int k, uint8_t how)
{
	char b[256], f[256], v[32];

	bdir(b, sizeof(b), fid, k);
	fdir(f, sizeof(f), fid, k);
	put(f, "backend-id", "0");
	put(f, "backend", b);
	put(f, "state", "1");
	snprintf(v, sizeof(v), "%u", fid);
	if (!(how & 1))
		put(b, "frontend", f);
	if (!(how & 2))
		put(b, "frontend-id", v);
	put(b, "online", "1");
	put(b, "params", how & 4 ? "/dev/null" : "/tmp/disk");
	if (how & 8)
		put(b, "script", "block");
	if (how & 16) {
		/* Found as a predecessor of this boot left it. */
		put(b, "served-by", mark);
		put(b, "state", how & 32 ? "4" : "5");
		put(f, "state", "4");
	} else {
		put(b, "state", "1");
	}
}

/* ---- Running the daemon's loop --------------------------------------------- */

static struct ev_loop *loop;

static bool any_dirty(void)
{
	for (struct xbd_device *d = device_list; d; d = d->next)
		if (d->dirty)
			return true;
	return false;
}

/*
 * Runs the loop until every event is read and every device marked has
 * taken its step; false if that does not happen (a livelock).
 */
static bool run_loop(void)
{
	for (int i = 0; i < 64; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		if (!ev_count && !any_dirty())
			return true;
	}
	return false;
}

/* Time passes: the device timers that would have fired. */
static void time_passes(double seconds)
{
	now += seconds;
	for (struct xbd_device *d = device_list; d; d = d->next)
		if (ev_is_active(&d->backing_retry)) {
			ev_timer_stop(loop, &d->backing_retry);
			ev_feed_event(loop, &d->backing_retry, EV_TIMER);
		}
}

static void start_daemon(void)
{
	daemon_writing = true;
	ASSERT(store_open() == 0);
	ASSERT(devices_start(loop) == 0);
}

/* The daemon gone without a word (kill -9): its workers are not ours. */
static void crash_daemon(void)
{
	/* Settled: the daemon's writes and steps do not feed themselves. */
	ASSERT(run_loop());
	daemon_writing = false;
	for (unsigned int i = 0; i < MAX_WORKERS; i++)
		workers[i].live = false;
	for (unsigned int i = 0; i < MAX_RUNS; i++)
		runs[i].live = false;
	devices_free_all();
	store_close(loop);
	/* The connection's watches go with it. */
	for (unsigned int i = 0; i < nr_watches; i++) {
		free(watches[i].path);
		free(watches[i].token);
	}
	nr_watches = 0;
	while (ev_count) {
		free(events[ev_head].path);
		free(events[ev_head].token);
		ev_head = (ev_head + 1) % MAX_EVENTS;
		ev_count--;
	}
}

/* ---- Moves ------------------------------------------------------------------- */

enum {
	M_CREATE, M_BACKEND_NODE, M_FRONTEND_STATE, M_RM_BACKEND_NODE,
	M_RM_BACKEND_DIR, M_RM_FRONTEND_DIR, M_RM_DOMAIN, M_WORKER_STARTED,
	M_WORKER_EXIT, M_HOTPLUG_DONE, M_TIME, M_FAIL, M_CONFLICT,
	M_FLOOD, M_RESTART, M_REFUSE, M_FRONTEND_NODE, M_STORE_FAIL,
	M_REATTACH, M_RACE_RM, NR_MOVES
};

static void move(struct input *in)
{
	uint8_t m = u8(in), a = u8(in), b = u8(in);
	unsigned int fid = 1 + a % NR_FIDS, k = (a >> 1) % NR_DEVIDS;
	char dir[256], path[400];

	switch (m % NR_MOVES) {
	case M_CREATE:
		create_device(fid, k, b);
		break;
	case M_BACKEND_NODE:
		bdir(dir, sizeof(dir), fid, k);
		snprintf(path, sizeof(path), "%s/%s", dir,
			 backend_nodes[b % NR_BACKEND_NODES]);
		{
			uint8_t v = u8(in);

			set_node(path, v == 0xff ? mark : values[v % NR_VALUES]);
		}
		break;
	case M_FRONTEND_STATE:
		fdir(dir, sizeof(dir), fid, k);
		put(dir, "state", values[b % NR_VALUES]);
		break;
	case M_FRONTEND_NODE:
		fdir(dir, sizeof(dir), fid, k);
		put(dir, b & 1 ? "ring-ref" : "event-channel", values[b % NR_VALUES]);
		break;
	case M_RM_BACKEND_NODE:
		bdir(dir, sizeof(dir), fid, k);
		snprintf(path, sizeof(path), "%s/%s", dir,
			 backend_nodes[b % NR_BACKEND_NODES]);
		rm_node(path);
		break;
	case M_RM_BACKEND_DIR:
		bdir(dir, sizeof(dir), fid, k);
		rm_node(dir);
		break;
	case M_RM_FRONTEND_DIR:
		fdir(dir, sizeof(dir), fid, k);
		rm_node(dir);
		break;
	case M_RM_DOMAIN:
		snprintf(dir, sizeof(dir), BASE "/%u", fid);
		rm_node(dir);
		break;
	case M_WORKER_STARTED: {
		struct worker *w = &workers[b % MAX_WORKERS];

		if (w->live && !w->started) {
			w->started = true;
			device_worker_started(w->dev);
		}
		break;
	}
	case M_WORKER_EXIT: {
		struct worker *w = &workers[b % MAX_WORKERS];
		static const enum worker_end ends[4] = {
			WORKER_STOPPED, WORKER_FAILED, WORKER_DIED,
			WORKER_STOPPED,
		};

		if (w->live)
			worker_end(w, w->killed ? WORKER_DIED : ends[a % 4]);
		break;
	}
	case M_HOTPLUG_DONE:
		hotplug_finish(b % MAX_RUNS, a & 1);
		break;
	case M_TIME:
		time_passes(b / 8.0);
		break;
	case M_FAIL:
		fail_mask = b;
		break;
	case M_CONFLICT:
		conflicts = b % 40;
		break;
	case M_FLOOD:
		/* A guest writing its state in a loop (XSA-349). */
		fdir(dir, sizeof(dir), fid, k);
		for (unsigned int i = 0; i < 200; i++)
			put(dir, "state", values[(b + i) % 7]);
		break;
	case M_RESTART:
		crash_daemon();
		start_daemon();
		break;
	case M_REFUSE:
		hotplug_refuse = b & 1;
		spawn_refuse = b & 2;
		break;
	case M_STORE_FAIL:
		store_failures = b % 4;
		break;
	case M_RACE_RM:
		/* Removed while the daemon writes (the write must not make it). */
		bdir(race_rm, sizeof(race_rm), fid, k);
		break;
	case M_REATTACH:
		/* Detached and attached again before the daemon looks. */
		bdir(dir, sizeof(dir), fid, k);
		rm_node(dir);
		fdir(dir, sizeof(dir), fid, k);
		rm_node(dir);
		create_device(fid, k, b & ~16);
		break;
	}
	run_loop();
}

/* ---- The target ---------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	debug = getenv("DEVICE_STATES_DEBUG") != NULL;
	/* Quiet unless XBD_TEST_VERBOSE: stderr costs. */
	xbd_test_log_level = -1;
	fuzz_watchdog_install("device-states");
	if (pipe2(ev_pipe, O_CLOEXEC | O_NONBLOCK))
		abort();
	loop = ev_loop_new(EVFLAG_AUTO);
	if (!loop)
		abort();
	snprintf(mark, sizeof(mark), "xenbackd %s", owner_boot_id());
	return 0;
}

/* Everything removed, every worker and script ended: nothing is left. */
static void teardown(void)
{
	conflicts = store_failures = 0;
	race_rm[0] = '\0';
	fail_mask = 0;
	hotplug_refuse = spawn_refuse = false;
	rm_node(BASE);
	for (int round = 0; round < 64; round++) {
		run_loop();
		for (unsigned int i = 0; i < MAX_RUNS; i++)
			hotplug_finish(i, true);
		for (unsigned int i = 0; i < MAX_WORKERS; i++)
			if (workers[i].live && (workers[i].draining ||
						workers[i].killed))
				worker_end(&workers[i], workers[i].killed ?
					   WORKER_DIED : WORKER_STOPPED);
		time_passes(60);
		run_loop();
		if (!device_list && !worker_count())
			break;
	}
	ASSERT(device_list == NULL);
	ASSERT(worker_count() == 0);
	ASSERT(setups == releases);
	/* Only the daemon's watch on its backend home. */
	ASSERT(nr_watches == 1 && !strcmp(watches[0].path, BASE));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t cfg = u8(&in);

	fuzz_watchdog_arm(true);
	config.hotplug = cfg & 1 ? HOTPLUG_DAEMON : HOTPLUG_TOOLSTACK;
	now = 1000;
	setups = releases = 0;
	store_failed = false;
	memset(workers, 0, sizeof(workers));
	memset(runs, 0, sizeof(runs));
	reset_store();
	set_node(HOME "/domid", "0");
	/* Devices there before the daemon starts. */
	if (cfg & 2)
		create_device(1, 0, cfg >> 2);
	start_daemon();
	run_loop();
	for (int i = 0; i < 200 && in.n; i++)
		move(&in);
	teardown();
	/* Releases of devices freed by a crash were never called: fine. */
	crash_daemon();
	fuzz_watchdog_arm(false);
	return 0;
}
