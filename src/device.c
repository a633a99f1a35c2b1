/* SPDX-License-Identifier: MIT */
/*
 * Backend devices: discovery under <home>/backend/<name>, the xenbus
 * handshake (xen/io/xenbus.h) and the class callbacks around it.
 *
 * Nothing here reacts to a single watch event. An event only marks its
 * device for re-evaluation; device_step() then reads the few nodes that
 * matter and moves the device on from what it finds. That makes the state
 * machine indifferent to event order and coalescing, and bounds what a
 * guest writing its nodes in a loop can cost us (XSA-349): one step per
 * device per loop iteration, whatever the number of events.
 */
#include <ctype.h>
#include <errno.h>
#include <ev.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>

#include "clock.h"
#include "config.h"
#include "device-private.h"
#include "hotplug.h"
#include "log.h"
#include "owner.h"
#include "ring-journal.h"
#include "stats.h"
#include "store.h"

const char *const conn_names[] = {
	[CONN_NEW] = "new", [CONN_IDLE] = "waiting", [CONN_STARTING] = "starting",
	[CONN_CONNECTED] = "connected", [CONN_DRAINING] = "draining",
	[CONN_CLOSING] = "closing", [CONN_CLOSED] = "closed",
	[CONN_FAILED] = "failed", [CONN_FOREIGN] = "foreign",
};

const char *const hp_names[] = {
	[HP_UNKNOWN] = "unknown", [HP_WAITING] = "waiting for the toolstack",
	[HP_RUNNING] = "script running", [HP_DONE] = "done",
	[HP_FAILED] = "failed",
};

static struct ev_loop *loop;
struct xbd_device *device_list;
static struct xbd_device *dirty_list;
static ev_timer flush_timer;
static ev_timer poll_timer;
static unsigned long next_seq = 1;
static char **bases;			/* <home>/backend/<name>, per name */
static bool shutting_down;
static void (*shutdown_done)(void);

static void device_step(struct xbd_device *d);
static void device_remove(struct xbd_device *d, const char *why);

const char *xenbus_state_name(long s)
{
	static const char *names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured",
	};

	if (s < 0)
		return "absent";
	return s < 9 ? names[s] : "invalid";
}

/* ---- Scheduling re-evaluation ----------------------------------------- */

static void flush_dirty(struct ev_loop *l, ev_timer *t, int revents)
{
	struct xbd_device *list = dirty_list, *d, *next;

	/*
	 * Devices marked while this runs wait for the next round, so a step
	 * that kicks its own device cannot spin here.
	 */
	dirty_list = NULL;
	for (d = list; d; d = next) {
		next = d->dirty_next;
		d->dirty = false;
		d->dirty_next = NULL;
		device_step(d);
	}
}

static void device_kick(struct xbd_device *d)
{
	if (d->dirty)
		return;
	d->dirty = true;
	d->dirty_next = dirty_list;
	dirty_list = d;
	if (!ev_is_active(&flush_timer)) {
		ev_timer_set(&flush_timer, 0, 0);
		ev_timer_start(loop, &flush_timer);
	}
}

/* ---- Small helpers ----------------------------------------------------- */

/*
 * Every backend write checks, in its transaction, that the directory is
 * still there (xbd_backend_write): a device the toolstack removed is never
 * re-created by a late write, whatever its phase. The step that follows
 * finds the directory gone and takes the device down.
 */
void device_backend_gone(struct xbd_device *d)
{
	device_kick(d);
}

long device_backend_long(struct xbd_device *d, const char *node)
{
	char path[sizeof(d->bpath) + 64];

	snprintf(path, sizeof(path), "%s/%s", d->bpath, node);
	return store_read_long(path);
}

long device_frontend_state(struct xbd_device *d)
{
	char path[sizeof(d->fpath) + 8];
	long s;

	snprintf(path, sizeof(path), "%s/state", d->fpath);
	s = store_read_long(path);
	return s > XenbusStateReconfigured ? XenbusStateUnknown : s;
}

/* "online" is the toolstack's; only an explicit 0 takes a device down. */
static bool backend_online(struct xbd_device *d)
{
	return device_backend_long(d, "online") != 0;
}

static void write_state(struct xbd_device *d, enum xenbus_state s)
{
	char v[4];

	snprintf(v, sizeof(v), "%d", s);
	if (d->written_state != (int)s)
		xbd_log(XBD_DEBUG, "%s: state %s", d->name, xenbus_state_name(s));
	d->written_state = s;
	xbd_backend_write(d, "state", "%s", v);
}

static bool frontend_wants_connection(long fe)
{
	return fe == XenbusStateInitialised || fe == XenbusStateConnected;
}

/* A frontend starting over (kexec, resume, a restarted process). */
static bool frontend_reinitialising(long fe)
{
	return fe == XenbusStateInitialising || fe == XenbusStateInitWait;
}

static bool frontend_gone(long fe)
{
	return fe == XenbusStateClosed || fe <= XenbusStateUnknown;
}

void device_verror(struct xbd_device *d, int err, const char *fmt,
		   va_list ap)
{
	char msg[sizeof(d->last_error)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(d->last_error, sizeof(d->last_error), "%s", msg);
	d->last_errno = err;
	xbd_log(XBD_ERROR, "%s: %s", d->name, msg);
	if (!d->removing)
		xbd_backend_write(d, "error", "%d %s", err, msg);
}

static void device_error(struct xbd_device *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void device_error(struct xbd_device *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	device_verror(d, err, fmt, ap);
	va_end(ap);
}

/* The class's optional callbacks: NULL does nothing. */
static void class_disconnect(struct xbd_device *d)
{
	if (d->class->disconnect)
		d->class->disconnect(d);
}

static void class_release(struct xbd_device *d)
{
	if (d->class->release)
		d->class->release(d);
}

/* ---- Device table ------------------------------------------------------ */

static struct xbd_device *find_device(unsigned int served, unsigned int fid,
				      unsigned int devid)
{
	for (struct xbd_device *d = device_list; d; d = d->next)
		if (d->served == served && d->frontend_id == fid &&
		    d->devid == devid)
			return d;
	return NULL;
}

static void backing_retry_due(struct ev_loop *l, ev_timer *t, int revents)
{
	struct xbd_device *d = t->data;

	if (d->retry_backing) {
		/* Forget the snapshot: the retry is due whatever the nodes say. */
		d->retry_backing = false;
		free(d->backing_failed);
		d->backing_failed = NULL;
	}
	device_kick(d);
}

static struct xbd_device *create_device(unsigned int served, unsigned int fid,
					unsigned int devid)
{
	struct xbd_device *d = calloc(1, sizeof(*d));

	if (!d) {
		xbd_log(XBD_ERROR, "out of memory for a device");
		return NULL;
	}
	d->served = served;
	d->class = xbd_config->names[served].class;
	d->frontend_id = fid;
	d->devid = devid;
	d->seq = next_seq++;
	d->written_state = -1;
	snprintf(d->name, sizeof(d->name), "%s/%u/%u",
		 xbd_config->names[served].name, fid, devid);
	snprintf(d->bpath, sizeof(d->bpath), "%s/%u/%u", bases[served], fid,
		 devid);
	snprintf(d->fe_token, sizeof(d->fe_token), "fe:%lu", d->seq);
	ev_timer_init(&d->backing_retry, backing_retry_due, 0, 0);
	d->backing_retry.data = d;
	d->next = device_list;
	device_list = d;
	return d;
}

static void unlink_device(struct xbd_device *d)
{
	struct xbd_device **p;

	for (p = &device_list; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	if (d->dirty)
		for (p = &dirty_list; *p; p = &(*p)->dirty_next)
			if (*p == d) {
				*p = d->dirty_next;
				break;
			}
}

/* Frees a device without any xenstore or class action left. */
static void free_device(struct xbd_device *d)
{
	unlink_device(d);
	ev_timer_stop(loop, &d->backing_retry);
	if (d->fe_watched)
		store_unwatch(d->fe_state_path, d->fe_token);
	stats_area_free(d->stats);
	if (d->journal)
		munmap(d->journal, JOURNAL_BYTES);
	free(d->retired);
	free(d->backing_failed);
	free(d->script);
	free(d->priv);
	free(d);
}

/* ---- Hotplug ----------------------------------------------------------- */

static void hotplug_remove_done(void *arg, bool ok, const char *msg)
{
	/* Nothing waits for it: the device is gone. Logged by hotplug.c. */
}

static void hotplug_add_done(void *arg, bool ok, const char *msg)
{
	struct xbd_device *d = arg;
	char *status, *error;

	d->hp_run = NULL;
	status = xbd_backend_read(d, "hotplug-status");
	/* Xen's scripts report themselves: their word stands. */
	if (status && (!strcmp(status, "connected") || !strcmp(status, "error")))
		ok = !strcmp(status, "connected");
	else if (ok)
		xbd_backend_write(d, "hotplug-status", "connected");
	if (!ok) {
		error = xbd_backend_read(d, "hotplug-error");
		if (!error) {
			/* The message first: the toolstack reads it on "error". */
			xbd_backend_write(d, "hotplug-error", "%s", msg);
			if (!status || strcmp(status, "error"))
				xbd_backend_write(d, "hotplug-status", "error");
		}
		device_error(d, EIO, "hotplug script: %s", error ? error : msg);
		free(error);
	}
	free(status);
	d->hp = ok ? HP_DONE : HP_FAILED;
	d->hp_added = true;	/* "remove" undoes even a half-done "add" */
	device_kick(d);
}

static void run_hotplug_add(struct xbd_device *d, const char *script)
{
	char xenbus_path[128];
	const char *why;

	snprintf(xenbus_path, sizeof(xenbus_path), "backend/%s",
		 d->name);
	free(d->script);
	d->script = strdup(script);
	d->hp_run = hotplug_start(loop, script, "add",
				  xbd_config->names[d->served].name,
				  xenbus_path, xbd_config->hotplug_timeout,
				  hotplug_add_done, d, &why);
	if (d->hp_run) {
		d->hp = HP_RUNNING;
		return;
	}
	xbd_backend_write(d, "hotplug-error", "%s", why);
	xbd_backend_write(d, "hotplug-status", "error");
	device_error(d, ENOENT, "hotplug script: %s", why);
	d->hp = HP_FAILED;
}

static void run_hotplug_remove(struct xbd_device *d)
{
	char xenbus_path[128];
	const char *why;

	/*
	 * Xen's scripts read their nodes on "remove"; once the toolstack
	 * removed the directory they can only do their best, as with udev.
	 */
	snprintf(xenbus_path, sizeof(xenbus_path), "backend/%s", d->name);
	hotplug_start(loop, d->script, "remove",
		      xbd_config->names[d->served].name, xenbus_path,
		      xbd_config->hotplug_timeout, hotplug_remove_done, NULL,
		      &why);
}

/*
 * The backend nodes the class named (backing_nodes) as they are now. A
 * failed backing_ready is retried once this changes; a class that names
 * none is never retried (its snapshot is always "").
 */
static char *backing_snapshot(struct xbd_device *d)
{
	const char *const *nodes = d->class->backing_nodes;
	struct buf b = { 0 };

	for (unsigned int i = 0; nodes && nodes[i]; i++) {
		char *v = xbd_backend_read(d, nodes[i]);

		buf_printf(&b, "%s=%s\n", nodes[i], v ? v : "");
		free(v);
	}
	if (b.failed) {
		buf_free(&b);
		return strdup("");
	}
	return b.data ? b.data : strdup("");
}

/*
 * A failure that says nothing about the device: the host ran short of
 * something that comes back (fds, memory). Waiting for the toolstack to
 * change a node would wait forever.
 */
static bool shortage(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM;
}

#define BACKING_RETRY_FIRST 1.0
#define BACKING_RETRY_MAX 30.0

static void retry_backing_later(struct xbd_device *d)
{
	double delay = d->backing_retry_delay;

	delay = delay < BACKING_RETRY_FIRST ? BACKING_RETRY_FIRST : delay * 2;
	if (delay > BACKING_RETRY_MAX)
		delay = BACKING_RETRY_MAX;
	d->backing_retry_delay = delay;
	xbd_log(XBD_INFO, "%s: opening the backing store again in %.0f s",
		d->name, delay);
	d->retry_backing = true;
	ev_timer_set(&d->backing_retry, delay, 0);
	ev_timer_start(loop, &d->backing_retry);
}

/*
 * Moves the hotplug step on and opens the backing store once it is done.
 * True when the backing store is open.
 */
static bool hotplug_and_backing(struct xbd_device *d)
{
	char *status, *script, *snap;

	if (d->backing_open)
		return true;

	if (d->hp == HP_UNKNOWN) {
		script = xbd_backend_read(d, "script");
		status = xbd_backend_read(d, "hotplug-status");
		if (!script)
			d->hp = HP_DONE;
		else if (xbd_config->hotplug == HOTPLUG_TOOLSTACK)
			d->hp = HP_WAITING;
		else if (status && !strcmp(status, "connected")) {
			/* Ran before we were restarted. */
			d->hp = HP_DONE;
			d->hp_added = true;
			d->script = script;
			script = NULL;
		} else if (status && !strcmp(status, "error")) {
			d->hp = HP_FAILED;
		} else {
			run_hotplug_add(d, script);
		}
		free(script);
		free(status);
	}

	if (d->hp == HP_WAITING) {
		status = xbd_backend_read(d, "hotplug-status");
		if (status && !strcmp(status, "connected")) {
			d->hp = HP_DONE;
		} else if (status && !strcmp(status, "error") &&
			   !d->hp_error_logged) {
			char *error = xbd_backend_read(d, "hotplug-error");

			d->hp_error_logged = true;
			device_error(d, EIO, "the toolstack's hotplug script "
				     "failed: %s", error ? error : "no message");
			free(error);
		}
		free(status);
	}
	if (d->hp != HP_DONE)
		return false;

	snap = backing_snapshot(d);
	if (d->backing_failed && !strcmp(snap, d->backing_failed)) {
		free(snap);
		return false;
	}
	free(d->backing_failed);
	d->backing_failed = NULL;
	ev_timer_stop(loop, &d->backing_retry);
	d->retry_backing = false;
	d->last_errno = 0;
	if (d->class->backing_ready && d->class->backing_ready(d)) {
		/* Retried once the toolstack changes what the class reads. */
		d->backing_failed = snap;
		if (shortage(d->last_errno))
			retry_backing_later(d);
		return false;
	}
	free(snap);
	d->backing_retry_delay = 0;
	d->backing_open = true;
	xbd_log(XBD_DEBUG, "%s: backing store open", d->name);
	return true;
}

/* ---- The handshake ----------------------------------------------------- */

/* A frontend path must be under the frontend domain's home, like blkback. */
static bool valid_frontend_path(const struct xbd_device *d, const char *p)
{
	char prefix[40];
	size_t n = snprintf(prefix, sizeof(prefix), "/local/domain/%u/",
			    d->frontend_id);

	if (strncmp(p, prefix, n) || strlen(p) >= sizeof(d->fpath) ||
	    !p[n] || p[strlen(p) - 1] == '/' || strstr(p, "//") ||
	    strstr(p, "/../") || strstr(p, "/./"))
		return false;
	for (const char *c = p; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("/_-.@", *c))
			return false;
	return true;
}

/*
 * The mark of the devices this daemon serves: written into the backend
 * directory (which only the backend domain may write) before the first
 * InitWait, as "xenbackd <boot-id>". A device found past Initialising is
 * taken over only with this boot's mark: one that another backend drives
 * (the kernel's blkback, a second daemon, anything) or that a daemon of
 * an earlier boot left is never touched.
 */
#define SERVED_BY_NODE "served-by"
static char served_by[64];

static void load_identity(void)
{
	snprintf(served_by, sizeof(served_by), "xenbackd %s", owner_boot_id());
}

/* Whether the device carries this daemon's mark (this boot's). */
static bool device_is_ours(struct xbd_device *d)
{
	char *v = xbd_backend_read(d, SERVED_BY_NODE);
	bool ours = v && !strcmp(v, served_by);

	free(v);
	return ours;
}

static void leave_foreign(struct xbd_device *d, long be_state)
{
	char *v = xbd_backend_read(d, SERVED_BY_NODE);

	d->conn = CONN_FOREIGN;
	snprintf(d->last_error, sizeof(d->last_error),
		 "not ours: found %s %s; left alone", xenbus_state_name(be_state),
		 v ? "with another daemon's mark" : "without our mark");
	xbd_log(XBD_WARN, "%s: found %s %s (%s): another backend serves it, "
		"or a daemon of an earlier boot left it; leaving it alone",
		d->name, xenbus_state_name(be_state),
		v ? "with the mark" : "without the mark of xenbackd",
		v ? v : SERVED_BY_NODE " absent");
	free(v);
}

static void fail_setup(struct xbd_device *d)
{
	d->conn = CONN_FAILED;
	write_state(d, XenbusStateClosing);
}

/* Seconds a directory may lack its frontend nodes before we say so. */
#define INCOMPLETE_GRACE 1.0

/*
 * A backend directory without frontend-id or frontend cannot be adopted.
 * A toolstack writing node by node may just not be done: after a grace
 * second, say so once, in the log and in the error node the toolstack
 * reads, and leave the state alone (the device is not ours to drive
 * yet). Adopted as usual once the node appears.
 */
static void frontend_node_missing(struct xbd_device *d, const char *node)
{
	double now = monotonic_seconds();

	if (d->incomplete_warned)
		return;
	if (!d->incomplete_since)
		d->incomplete_since = now;
	if (now - d->incomplete_since < INCOMPLETE_GRACE) {
		/* Looked at again when the grace ends, events or not. */
		if (!ev_is_active(&d->backing_retry)) {
			ev_timer_set(&d->backing_retry, INCOMPLETE_GRACE -
				     (now - d->incomplete_since) + 0.05, 0);
			ev_timer_start(loop, &d->backing_retry);
		}
		return;
	}
	d->incomplete_warned = true;
	snprintf(d->last_error, sizeof(d->last_error), "no %s node: the "
		 "device cannot be set up until the toolstack writes it", node);
	d->last_errno = ENOENT;
	xbd_log(XBD_WARN, "%s: %s", d->name, d->last_error);
	xbd_backend_write(d, "error", "%d %s", ENOENT, d->last_error);
}

/*
 * Adopts a device: checks its frontend, calls the class's setup and puts
 * the state where the handshake needs it. Leaves the device CONN_NEW when
 * it should not be adopted (yet).
 */
static void device_setup(struct xbd_device *d, long be_state)
{
	unsigned long fid;
	char *fpath;

	if (!backend_online(d))
		return;		/* being taken down: not ours to start */
	if (be_state > XenbusStateInitialising && !device_is_ours(d)) {
		leave_foreign(d, be_state);
		return;
	}
	if (xbd_backend_read_uint(d, "frontend-id", UINT_MAX, &fid)) {
		if (errno == ENOENT)
			frontend_node_missing(d, "frontend-id");
		else {
			device_error(d, EINVAL, "bad frontend-id node");
			fail_setup(d);
		}
		return;
	}
	fpath = xbd_backend_read(d, "frontend");
	if (!fpath) {
		if (errno == ENOENT)
			frontend_node_missing(d, "frontend");
		return;
	}
	d->incomplete_since = 0;
	if (fid != d->frontend_id || !valid_frontend_path(d, fpath)) {
		device_error(d, EINVAL, "frontend %s (domain %lu) is not a "
			     "path under /local/domain/%u", fpath, fid,
			     d->frontend_id);
		free(fpath);
		fail_setup(d);
		return;
	}
	snprintf(d->fpath, sizeof(d->fpath), "%s", fpath);
	free(fpath);

	d->priv = calloc(1, d->class->priv_size ? d->class->priv_size : 1);
	if (!d->priv) {
		device_error(d, ENOMEM, "out of memory");
		fail_setup(d);
		return;
	}
	/* Only the state node: the rest of the frontend's writes are noise. */
	snprintf(d->fe_state_path, sizeof(d->fe_state_path), "%s/state",
		 d->fpath);
	if (store_watch(d->fe_state_path, d->fe_token) == 0)
		d->fe_watched = true;

	if (be_state > XenbusStateInitialising)
		xbd_log(XBD_INFO, "%s: taking over (backend %s, frontend %s)",
			d->name, xenbus_state_name(be_state),
			xenbus_state_name(device_frontend_state(d)));
	else
		xbd_log(XBD_INFO, "%s: new device, frontend %s", d->name,
			d->fpath);

	d->setup_called = true;
	if (d->class->setup && d->class->setup(d)) {
		fail_setup(d);
		return;
	}
	switch (be_state) {
	case XenbusStateConnected:
		d->takeover = true;
		d->written_state = be_state;
		d->conn = CONN_IDLE;
		break;
	case XenbusStateClosing:
		d->written_state = be_state;
		d->conn = CONN_CLOSING;
		break;
	case XenbusStateClosed:
		d->written_state = be_state;
		d->conn = CONN_CLOSED;
		break;
	default:
		/* Ours from now on: a restarted daemon takes it over. */
		if (xbd_backend_write(d, SERVED_BY_NODE, "%s", served_by)) {
			if (errno != ENOENT)
				device_error(d, errno, "writing %s: %s",
					     SERVED_BY_NODE, strerror(errno));
			fail_setup(d);
			return;
		}
		/* libxl gives us 10 s to get here before it gives up. */
		write_state(d, XenbusStateInitWait);
		d->conn = CONN_IDLE;
	}
}

/*
 * A detach and an attach of the same device id, both before we saw the
 * removal: the directory at our path is new (libxl writes state
 * Initialising only into a directory it creates, and our mark is gone or
 * is not ours). Not the device we set up: start over, as with any new
 * directory in Initialising.
 */
static bool made_anew(struct xbd_device *d, long be_state)
{
	char *mark;
	bool ours;

	/*
	 * A state that could not be read may be Initialising too: the
	 * mark decides then (and a mark that cannot be read either keeps
	 * the device as it is).
	 */
	if (d->written_state < 0 ||
	    (be_state >= 0 && be_state != XenbusStateInitialising))
		return false;
	mark = xbd_backend_read(d, SERVED_BY_NODE);
	if (!mark)
		return errno == ENOENT;
	ours = !strcmp(mark, served_by);
	free(mark);
	return !ours;
}

/*
 * Someone else writing our state: libxl does (Closing, with online 0, on
 * detach); anything else means another backend drives this device.
 */
static void check_state_owner(struct xbd_device *d, long be_state, bool online)
{
	const char *kb;

	if (d->written_state < 0 || be_state == d->written_state ||
	    d->warned_state)
		return;
	if (!online && be_state == XenbusStateClosing)
		return;
	d->warned_state = true;
	kb = d->class->kernel_backend;
	xbd_log(XBD_WARN, "%s: backend state changed to %s behind our back "
		"(we wrote %s): another backend is serving this device%s%s%s",
		d->name, xenbus_state_name(be_state), xenbus_state_name(d->written_state),
		kb ? " -- is the kernel's " : "", kb ? kb : "",
		kb ? " loaded? Unload it or serve under another name" : "");
}

/*
 * The last worker's counters join the device's totals before a new
 * worker gets a fresh area: a reconnect or a worker restart does not
 * reset what xenbackctl shows. Without memory for the totals they are
 * lost (logged), never the device.
 */
static void retire_stats(struct xbd_device *d)
{
	if (!d->stats)
		return;
	if (!d->retired)
		d->retired = calloc(1, sizeof(*d->retired));
	if (d->retired)
		stats_fold(d->retired, d->stats);
	else
		xbd_log(XBD_WARN, "%s: out of memory: the counters of its "
			"last worker are lost", d->name);
	stats_area_free(d->stats);
	d->stats = NULL;
}

void device_totals(const struct xbd_device *d, struct stats_area *out)
{
	memset(out, 0, sizeof(*out));
	if (d->retired)
		stats_fold(out, d->retired);
	if (d->stats) {
		stats_fold(out, d->stats);
		/* A gauge: what the running worker holds, nothing of the dead. */
		for (unsigned int i = 0; d->worker && i < XBD_MAX_RINGS; i++)
			out->ring[i].in_flight = d->stats->ring[i].in_flight;
	}
}

/*
 * The rings' journal, shared with the worker and kept over its death. A
 * new connection gets a new one (the pages of the last are dropped); a
 * worker replacing a dead one finds what it left (d->resuming). Only
 * what the worker touches takes memory. Without one (no memory), a
 * worker that dies is not replaced.
 */
static void prepare_journal(struct xbd_device *d)
{
	void *p;

	if (d->resuming && d->journal)
		return;
	if (d->journal)
		munmap(d->journal, JOURNAL_BYTES);
	p = mmap(NULL, JOURNAL_BYTES, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	d->journal = p == MAP_FAILED ? NULL : p;
	if (!d->journal)
		xbd_log(XBD_WARN, "%s: no memory for the ring journal: a worker "
			"that dies will not be replaced", d->name);
}

static void start_worker(struct xbd_device *d)
{
	struct worker_spawn_args a;
	int err;

	if (d->class->frontend_ready(d)) {
		d->conn = CONN_CLOSING;
		write_state(d, XenbusStateClosing);
		return;
	}
	d->class_connected = true;
	if (!d->resuming)
		d->replacing = false;
	prepare_journal(d);
	retire_stats(d);
	d->stats = stats_area_new();
	err = errno;
	if (d->stats) {
		memset(&a, 0, sizeof(a));
		a.dev = d;
		a.class = d->class;
		a.name = d->name;
		a.frontend_id = d->frontend_id;
		a.priv = d->priv;
		a.keep_fds = d->kept;
		a.nr_keep_fds = d->nr_kept;
		a.stats = d->stats;
		a.journal = d->journal;
		d->worker = worker_spawn(loop, &a);
		err = errno;
	}
	if (!d->worker) {
		/* The real cause: fork's EAGAIN, socketpair's EMFILE... */
		if (err <= 0)
			err = EIO;
		device_error(d, err, "cannot start a worker process: %s%s",
			     d->stats ? "" : "shared counters: ", strerror(err));
		class_disconnect(d);
		d->class_connected = false;
		d->conn = CONN_CLOSING;
		write_state(d, XenbusStateClosing);
		return;
	}
	d->drain_asked = false;
	d->fault = false;
	d->workers_started++;
	d->last_pid = worker_pid(d->worker);
	d->conn = CONN_STARTING;
}

static void drain_worker(struct xbd_device *d)
{
	d->drain_asked = true;
	d->conn = CONN_DRAINING;
	worker_drain(d->worker, xbd_config->drain_timeout);
}

void device_worker_started(struct xbd_device *d)
{
	if (d->conn != CONN_STARTING || shutting_down)
		return;
	if (d->takeover) {
		/* The frontend already saw Connected from our predecessor. */
		d->takeover = false;
	} else if (d->class->connect && d->class->connect(d)) {
		d->fault = true;
		drain_worker(d);
		return;
	} else {
		write_state(d, XenbusStateConnected);
	}
	d->conn = CONN_CONNECTED;
	d->last_error[0] = '\0';	/* the error node keeps the history */
	if (d->replacing) {
		/* The same connection: connected_at stays. */
		d->replacing = false;
		xbd_log(XBD_INFO, "%s: resumed, served by worker %d", d->name,
			(int)d->last_pid);
	} else {
		d->connected_at = time(NULL);
		xbd_log(XBD_INFO, "%s: connected, served by worker %d",
			d->name, (int)d->last_pid);
	}
	/* The frontend may have moved while we connected. */
	device_kick(d);
}

/*
 * A worker died on a live connection without a fault it reported: not the
 * guest's doing (a signal, a crash, the OOM killer). A new worker takes
 * the same rings over where the dead one stopped, re-issuing what it left
 * unanswered (ring-journal.h), without the device leaving its state; the
 * frontend never notices. A worker that keeps dying is stopped:
 * more than worker-restarts replacements within worker-restart-window
 * seconds of the first close the device, as a fault would. True when a
 * new worker was started (or the device closed trying).
 */
static bool restart_worker(struct xbd_device *d, const char *why)
{
	double now = monotonic_seconds();
	unsigned int max = xbd_config->worker_restarts;
	unsigned int window = xbd_config->worker_restart_window;

	if (!d->series_restarts || now - d->series_start > window) {
		d->series_start = now;
		d->series_restarts = 0;
	}
	if (!d->journal || d->series_restarts >= max) {
		if (!d->journal)
			device_error(d, EPIPE, "%s; not replaced: no ring journal",
				     why);
		else if (!max)
			device_error(d, EPIPE, "%s; not replaced: worker-restarts "
				     "is 0", why);
		else
			device_error(d, EPIPE, "%s; not replaced: the worker died "
				     "%u times within %u s (worker-restarts %u)",
				     why, d->series_restarts + 1, window, max);
		return false;
	}
	d->series_restarts++;
	d->worker_restarts++;
	xbd_log(XBD_WARN, "%s: %s: starting a new worker on the same rings "
		"(%u of at most %u within %u s)", d->name, why,
		d->series_restarts, max, window);
	/* The frontend already saw Connected: no connect() again. */
	if (d->written_state == XenbusStateConnected)
		d->takeover = true;
	d->resuming = true;
	d->replacing = d->replacing || d->conn == CONN_CONNECTED;
	d->conn = CONN_IDLE;
	start_worker(d);
	d->resuming = false;
	device_kick(d);
	return true;
}

static void kick_or_create(unsigned int served, unsigned int fid,
			   unsigned int devid);

static void finish_removal(struct xbd_device *d)
{
	unsigned int served = d->served, fid = d->frontend_id, devid = d->devid;
	bool anew = d->made_anew;

	if (d->setup_called)
		class_release(d);
	if (xbd_config->hotplug == HOTPLUG_DAEMON && d->hp_added && d->script)
		run_hotplug_remove(d);
	free_device(d);
	/* The directory now at its path is a device of its own. */
	if (anew)
		kick_or_create(served, fid, devid);
}

void device_worker_exited(struct xbd_device *d, enum worker_end end, int err,
			  const char *text)
{
	d->worker = NULL;
	if (d->class_connected) {
		class_disconnect(d);
		d->class_connected = false;
	}
	if (shutting_down) {
		if (!worker_count() && shutdown_done)
			shutdown_done();
		return;
	}
	if (d->removing) {
		finish_removal(d);
		return;
	}
	if (end == WORKER_DIED && !d->drain_asked && !d->fault &&
	    (d->conn == CONN_STARTING || d->conn == CONN_CONNECTED)) {
		if (restart_worker(d, text))
			return;
		/* restart_worker() wrote why not. */
		d->conn = CONN_CLOSING;
		write_state(d, XenbusStateClosing);
	} else if (end != WORKER_STOPPED || d->fault || !d->drain_asked) {
		/* Only this device goes down; the error says why. */
		if (end != WORKER_STOPPED)
			device_error(d, end == WORKER_FAILED ? err : EPIPE, "%s",
				     text);
		else if (!d->fault)
			device_error(d, EIO, "worker stopped on its own");
		d->conn = CONN_CLOSING;
		write_state(d, XenbusStateClosing);
	} else if (frontend_reinitialising(device_frontend_state(d)) &&
		   backend_online(d)) {
		d->conn = CONN_IDLE;
		write_state(d, XenbusStateInitWait);
	} else {
		d->conn = CONN_CLOSING;
		write_state(d, XenbusStateClosing);
	}
	d->fault = false;
	device_kick(d);
}

static void device_remove(struct xbd_device *d, const char *why)
{
	if (d->removing)
		return;
	d->removing = true;
	xbd_log(XBD_INFO, "%s: removed (%s)", d->name, why);
	if (d->hp_run) {
		hotplug_cancel(d->hp_run);
		d->hp_run = NULL;
	}
	if (d->worker) {
		/* Answer what is in flight, then finish in worker_exited. */
		if (!d->drain_asked)
			drain_worker(d);
		return;
	}
	finish_removal(d);
}

static void device_step(struct xbd_device *d)
{
	long be_state, fe;
	bool online, backing;

	if (d->removing || shutting_down)
		return;

	be_state = device_backend_long(d, "state");
	if (be_state < 0 && !store_exists(d->bpath)) {
		if (d->conn == CONN_NEW || d->conn == CONN_FOREIGN)
			free_device(d);
		else
			device_remove(d, "backend directory removed");
		return;
	}
	if (d->conn == CONN_FOREIGN)
		return;		/* never ours: only its removal is followed */
	if (d->conn == CONN_NEW) {
		device_setup(d, be_state);
		if (d->conn == CONN_NEW || d->conn == CONN_FAILED ||
		    d->conn == CONN_FOREIGN)
			return;
		be_state = device_backend_long(d, "state");
	}

	if (made_anew(d, be_state)) {
		d->made_anew = true;
		device_remove(d, "the toolstack made its backend directory anew");
		return;
	}
	online = backend_online(d);
	check_state_owner(d, be_state, online);
	fe = device_frontend_state(d);
	backing = d->conn == CONN_FAILED ? false : hotplug_and_backing(d);

	switch (d->conn) {
	case CONN_NEW:
	case CONN_FOREIGN:
		return;
	case CONN_FAILED:
		if (!online && !frontend_wants_connection(fe)) {
			write_state(d, XenbusStateClosed);
			device_remove(d, "online is 0");
		}
		return;
	case CONN_IDLE:
		if (d->takeover && fe != XenbusStateConnected) {
			/*
			 * The frontend started over while no daemon ran: it
			 * needs a whole handshake, not a takeover.
			 */
			d->takeover = false;
			if (frontend_reinitialising(fe) && online)
				write_state(d, XenbusStateInitWait);
		}
		if (!online && !(d->takeover && fe == XenbusStateConnected)) {
			write_state(d, XenbusStateClosed);
			device_remove(d, "online is 0");
		} else if (fe == XenbusStateClosing) {
			d->conn = CONN_CLOSING;
			write_state(d, XenbusStateClosing);
		} else if (fe == XenbusStateClosed) {
			d->conn = CONN_CLOSED;
			write_state(d, XenbusStateClosed);
		} else if (frontend_wants_connection(fe) && backing) {
			start_worker(d);
		}
		return;
	case CONN_STARTING:
	case CONN_CONNECTED:
		if (!frontend_wants_connection(fe)) {
			xbd_log(XBD_INFO, "%s: frontend %s: disconnecting",
				d->name, xenbus_state_name(fe));
			drain_worker(d);
		}
		return;
	case CONN_DRAINING:
		return;
	case CONN_CLOSING:
		if (frontend_reinitialising(fe) && online) {
			d->conn = CONN_IDLE;
			write_state(d, XenbusStateInitWait);
			device_kick(d);
			return;
		}
		if (!frontend_gone(fe) &&
		    (online || fe == XenbusStateConnected ||
		     fe == XenbusStateClosing || fe == XenbusStateInitialised))
			return;
		d->conn = CONN_CLOSED;
		write_state(d, XenbusStateClosed);
		/* fall through */
	case CONN_CLOSED:
		if (!online) {
			/* The toolstack may have written Closing over it. */
			if (device_backend_long(d, "state") != XenbusStateClosed)
				write_state(d, XenbusStateClosed);
			device_remove(d, "online is 0");
		} else if (frontend_reinitialising(fe)) {
			xbd_log(XBD_INFO, "%s: frontend re-initialising",
				d->name);
			d->conn = CONN_IDLE;
			write_state(d, XenbusStateInitWait);
			device_kick(d);
		}
		return;
	}
}

/* ---- Discovery ---------------------------------------------------------- */

/* A canonical decimal number (no sign, no leading zero) up to max. */
static bool parse_id(const char *s, size_t len, unsigned long max,
		     unsigned int *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

#define MAX_DOMID 0x7fef	/* below DOMID_FIRST_RESERVED */

static void kick_or_create(unsigned int served, unsigned int fid,
			   unsigned int devid)
{
	struct xbd_device *d = find_device(served, fid, devid);

	if (!d)
		d = create_device(served, fid, devid);
	if (d)
		device_kick(d);
}

static void scan_domain(unsigned int served, unsigned int fid)
{
	char path[256];
	char **ids;
	unsigned int n, devid;

	snprintf(path, sizeof(path), "%s/%u", bases[served], fid);
	ids = store_directory(path, &n);
	for (unsigned int i = 0; ids && i < n; i++)
		if (parse_id(ids[i], strlen(ids[i]), INT_MAX, &devid))
			kick_or_create(served, fid, devid);
	free(ids);
	/* Devices no longer listed notice their removal in their step. */
	for (struct xbd_device *d = device_list; d; d = d->next)
		if (d->served == served && d->frontend_id == fid)
			device_kick(d);
}

static void scan_class(unsigned int served)
{
	char **doms;
	unsigned int n, fid;

	doms = store_directory(bases[served], &n);
	for (unsigned int i = 0; doms && i < n; i++)
		if (parse_id(doms[i], strlen(doms[i]), MAX_DOMID, &fid))
			scan_domain(served, fid);
	free(doms);
	for (struct xbd_device *d = device_list; d; d = d->next)
		if (d->served == served)
			device_kick(d);
}

/* .../backend/<name>[/<domid>[/<devid>[/node...]]] */
static void backend_event(unsigned int served, const char *path)
{
	size_t len = strlen(bases[served]);
	const char *p = path + len, *slash;
	unsigned int fid, devid;

	if (strncmp(path, bases[served], len) || (*p && *p != '/'))
		return;
	if (!*p || !p[1]) {
		scan_class(served);
		return;
	}
	p++;
	slash = strchr(p, '/');
	if (!parse_id(p, slash ? (size_t)(slash - p) : strlen(p), MAX_DOMID, &fid))
		return;
	if (!slash || !slash[1]) {
		scan_domain(served, fid);
		return;
	}
	p = slash + 1;
	slash = strchr(p, '/');
	if (!parse_id(p, slash ? (size_t)(slash - p) : strlen(p), INT_MAX, &devid))
		return;
	kick_or_create(served, fid, devid);
}

static void watch_event(const char *path, const char *token)
{
	char *end;
	unsigned long n;

	if (shutting_down)
		return;
	if (!strncmp(token, "fe:", 3)) {
		n = strtoul(token + 3, &end, 10);
		for (struct xbd_device *d = device_list; d; d = d->next)
			if (d->seq == n) {
				device_kick(d);
				break;
			}
	} else if (!strncmp(token, "be:", 3)) {
		n = strtoul(token + 3, &end, 10);
		if (n < xbd_config->nr_names)
			backend_event(n, path);
	}
}

/* Lets the classes look, once a second, at what only they can see. */
static void poll_classes(struct ev_loop *l, ev_timer *t, int revents)
{
	struct xbd_device *d, *next;

	for (d = device_list; d; d = next) {
		next = d->next;
		if (d->conn == CONN_CONNECTED && d->class->poll)
			d->class->poll(d);
	}
}

int devices_start(struct ev_loop *l)
{
	char token[16];

	loop = l;
	load_identity();
	ev_timer_init(&flush_timer, flush_dirty, 0, 0);
	bases = calloc(xbd_config->nr_names, sizeof(*bases));
	if (!bases)
		return -1;
	for (unsigned int i = 0; i < xbd_config->nr_names; i++) {
		if (asprintf(&bases[i], "%s/backend/%s", store_home(),
			     xbd_config->names[i].name) < 0) {
			bases[i] = NULL;
			return -1;
		}
	}
	if (store_start_events(loop, watch_event))
		return -1;
	for (unsigned int i = 0; i < xbd_config->nr_names; i++)
		if (xbd_config->names[i].class->poll) {
			ev_timer_init(&poll_timer, poll_classes, 1, 1);
			ev_timer_start(loop, &poll_timer);
			break;
		}
	for (unsigned int i = 0; i < xbd_config->nr_names; i++) {
		/* The watch fires once at once: that is the initial scan. */
		snprintf(token, sizeof(token), "be:%u", i);
		if (store_watch(bases[i], token))
			return -1;
		xbd_log(XBD_INFO, "serving %s (class %s)", bases[i],
			xbd_config->names[i].class->name);
	}
	return 0;
}

void devices_shutdown(void (*done)(void))
{
	shutting_down = true;
	shutdown_done = done;
	ev_timer_stop(loop, &flush_timer);
	ev_timer_stop(loop, &poll_timer);
	for (struct xbd_device *d = device_list; d; d = d->next) {
		if (d->hp_run) {
			/* Not run to its end: a restarted daemon runs it again. */
			hotplug_cancel(d->hp_run);
			d->hp_run = NULL;
		}
		if (d->worker && !d->drain_asked) {
			d->drain_asked = true;
			worker_drain(d->worker, xbd_config->drain_timeout);
		}
	}
	if (!worker_count())
		done();
}

void devices_free_all(void)
{
	while (device_list) {
		struct xbd_device *d = device_list;

		if (d->class_connected)
			class_disconnect(d);
		if (d->setup_called)
			class_release(d);
		free_device(d);
	}
	for (unsigned int i = 0; bases && i < xbd_config->nr_names; i++)
		free(bases[i]);
	free(bases);
	bases = NULL;
}

void devices_unmap_other_stats(const struct stats_area *mine,
			       const void *my_journal)
{
	for (struct xbd_device *d = device_list; d; d = d->next) {
		if (d->stats && d->stats != mine) {
			stats_area_free(d->stats);
			d->stats = NULL;
		}
		if (d->journal && d->journal != my_journal) {
			munmap(d->journal, JOURNAL_BYTES);
			d->journal = NULL;
		}
	}
}

