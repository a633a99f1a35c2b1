/* SPDX-License-Identifier: MIT */
/*
 * The device handle: finding the device, its identity, messages, and the
 * ends of a connection (reset, close, reconnect).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xen/io/xenbus.h>

#include "front-private.h"

/* Above the last domain id a guest can have (DOMID_FIRST_RESERVED). */
#define XBF_MAX_DOMID 0x7fef

static void default_log(void *ctx, const char *msg)
{
	fprintf(stderr, "%s: %s\n", (const char *)ctx, msg);
}

static void set_verror(struct xbf_dev *d, const char *fmt, va_list ap)
{
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
}

void xbf_set_error(struct xbf_dev *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_verror(d, fmt, ap);
	va_end(ap);
	errno = err;
}

void xbf_fail(struct xbf_dev *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_verror(d, fmt, ap);
	va_end(ap);
	if (d->log)
		d->log(d->log_ctx, d->err);
	else
		default_log(d->name ? d->name : "xbf", d->err);
	errno = err;
}

const char *xbf_error(const struct xbf_dev *d)
{
	return d->err;
}

char *xbf_path(const char *dir, const char *node)
{
	char *p;

	if (!dir)
		return strdup(node);
	if (asprintf(&p, "%s/%s", dir, node) < 0)
		return NULL;
	return p;
}

int64_t xbf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool xbf_parse_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return true;
}

int xbf_own_domid(struct xs_handle *xs, unsigned int *domid)
{
	const char *env;
	uint64_t v;
	char *s;

	/* xenstored resolves a relative path against the caller's home. */
	s = xs_read(xs, XBT_NULL, "domid", NULL);
	if (s && xbf_parse_u64(s, &v) && v <= XBF_MAX_DOMID) {
		free(s);
		*domid = (unsigned int)v;
		return 0;
	}
	free(s);
	/* The test bed names the simulated domain in the environment. */
	env = getenv("XENSIM_DOMID");
	if (env && xbf_parse_u64(env, &v) && v <= XBF_MAX_DOMID) {
		*domid = (unsigned int)v;
		return 0;
	}
	errno = ENOENT;
	return -1;
}

/* The frontend path and this domain's id, from the parameters. */
static int find_frontend(struct xbf_dev *d, const struct xbf_params *p)
{
	unsigned int dom;

	if (p->path) {
		if (p->path[0] != '/') {
			xbf_fail(d, EINVAL, "%s: not an absolute xenstore path", p->path);
			return -1;
		}
		d->fe = strdup(p->path);
		if (!d->fe)
			goto nomem;
		if (p->have_domid)
			d->domid = p->domid;
		else if (sscanf(p->path, "/local/domain/%u/", &dom) == 1 && dom <= XBF_MAX_DOMID)
			d->domid = dom;
		else if (xbf_own_domid(d->xs, &d->domid))
			goto no_domid;
	} else {
		if (!p->class || !*p->class || strchr(p->class, '/')) {
			xbf_fail(d, EINVAL, "no frontend path and no device class");
			return -1;
		}
		if (p->have_domid)
			d->domid = p->domid;
		else if (xbf_own_domid(d->xs, &d->domid))
			goto no_domid;
		if (asprintf(&d->fe, "/local/domain/%u/device/%s/%u", d->domid,
			     p->class, p->devid) < 0) {
			d->fe = NULL;
			goto nomem;
		}
	}
	{
		const char *slash = strrchr(d->fe, '/');
		uint64_t id;

		d->devid = xbf_parse_u64(slash + 1, &id) && id <= UINT32_MAX ?
			(unsigned int)id : 0;
	}
	return 0;
nomem:
	xbf_fail(d, ENOMEM, "out of memory");
	return -1;
no_domid:
	xbf_fail(d, ENOENT, "cannot tell which domain this is: no `domid` in "
		 "xenstore and no $XENSIM_DOMID");
	return -1;
}

static int find_backend(struct xbf_dev *d)
{
	char *s = xbf_read_frontend(d, "backend");
	uint64_t id;

	if (!s || s[0] != '/') {
		xbf_fail(d, ENOENT, "%s/backend: %s", d->fe,
			 s ? "not an absolute path" : "missing (no such device?)");
		free(s);
		return -1;
	}
	d->be = s;
	s = xbf_read_frontend(d, "backend-id");
	if (!s || !xbf_parse_u64(s, &id) || id > XBF_MAX_DOMID) {
		xbf_fail(d, EINVAL, "%s/backend-id: missing or not a domain id", d->fe);
		free(s);
		return -1;
	}
	free(s);
	d->be_id = (unsigned int)id;
	return 0;
}

struct xbf_dev *xbf_open(const struct xbf_params *p)
{
	struct xbf_dev *d = calloc(1, sizeof(*d));

	if (!d) {
		fprintf(stderr, "%s: out of memory\n", p->name ? p->name : "xbf");
		return NULL;
	}
	d->name = strdup(p->name ? p->name : "xbf");
	d->ring_ref_name = strdup(p->ring_ref_name ? p->ring_ref_name : "ring-ref");
	d->event_channel_name = strdup(p->event_channel_name ? p->event_channel_name :
				       "event-channel");
	d->log = p->log;
	d->log_ctx = p->log_ctx;
	if (!d->name || !d->ring_ref_name || !d->event_channel_name) {
		xbf_fail(d, ENOMEM, "out of memory");
		goto fail;
	}
	d->xs = xs_open(0);
	if (!d->xs) {
		xbf_fail(d, errno, "cannot connect to xenstore: %s", strerror(errno));
		goto fail;
	}
	d->xce = xenevtchn_open(NULL, 0);
	if (!d->xce) {
		xbf_fail(d, errno, "cannot open event channels: %s", strerror(errno));
		goto fail;
	}
	d->xgs = xengntshr_open(NULL, 0);
	if (!d->xgs) {
		xbf_fail(d, errno, "cannot open grant sharing (gntalloc): %s",
			 strerror(errno));
		goto fail;
	}
	if (find_frontend(d, p) || find_backend(d))
		goto fail;
	/* One watch per directory: state, error, removal. */
	if (!xs_watch(d->xs, d->be, XBF_BE_TOKEN)) {
		xbf_fail(d, errno, "cannot watch %s: %s", d->be, strerror(errno));
		goto fail;
	}
	d->be_watched = true;
	if (!xs_watch(d->xs, d->fe, XBF_FE_TOKEN)) {
		xbf_fail(d, errno, "cannot watch %s: %s", d->fe, strerror(errno));
		goto fail;
	}
	d->fe_watched = true;
	return d;
fail:
	{
		int e = errno;

		xbf_free(d);
		errno = e;
	}
	return NULL;
}

void xbf_free(struct xbf_dev *d)
{
	if (!d)
		return;
	xbf_release_rings(d);
	if (d->xs && d->be_watched)
		xs_unwatch(d->xs, d->be, XBF_BE_TOKEN);
	if (d->xs && d->fe_watched)
		xs_unwatch(d->xs, d->fe, XBF_FE_TOKEN);
	if (d->xgs)
		xengntshr_close(d->xgs);
	if (d->xce)
		xenevtchn_close(d->xce);
	if (d->xs)
		xs_close(d->xs);
	free(d->fe);
	free(d->be);
	free(d->ring_ref_name);
	free(d->event_channel_name);
	free(d->name);
	free(d);
}

const char *xbf_frontend_path(const struct xbf_dev *d) { return d->fe; }
const char *xbf_backend_path(const struct xbf_dev *d) { return d->be; }
unsigned int xbf_backend_id(const struct xbf_dev *d) { return d->be_id; }
unsigned int xbf_domid(const struct xbf_dev *d) { return d->domid; }
unsigned int xbf_devid(const struct xbf_dev *d) { return d->devid; }
struct xs_handle *xbf_xs(const struct xbf_dev *d) { return d->xs; }
xenevtchn_handle *xbf_evtchn(const struct xbf_dev *d) { return d->xce; }
xengntshr_handle *xbf_gntshr(const struct xbf_dev *d) { return d->xgs; }

int xbf_reset(struct xbf_dev *d)
{
	xbf_release_rings(d);
	if (xbf_frontend_state(d) == XenbusStateInitialising)
		return 0;
	return xbf_switch_state(d, XenbusStateInitialising);
}

/* The backend state and error node, for a message about a wait. */
static void note_backend(struct xbf_dev *d, int err, const char *what)
{
	char *e = xbf_backend_error(d);
	int st = xbf_backend_state(d);

	xbf_set_error(d, err, "%s (backend %s state %d %s%s%s)", what, d->be, st,
		      xbf_state_name(st), e ? ", error: " : "", e ? e : "");
	free(e);
}

static const char *wait_failure(int err)
{
	return err == ENOENT ? "backend directory vanished" :
		err == EINTR ? "interrupted" : "timed out";
}

int xbf_wait_connected(struct xbf_dev *d, int timeout_ms)
{
	int st = xbf_wait_backend(d, XBF_STATE(XenbusStateConnected) |
				  XBF_STATE(XenbusStateClosing) |
				  XBF_STATE(XenbusStateClosed), timeout_ms);
	int err = errno;
	char what[64];

	if (st == XenbusStateConnected)
		return 0;
	if (st >= 0) {
		note_backend(d, ECONNREFUSED, "backend refused the connection");
		return -1;
	}
	snprintf(what, sizeof(what), "%s waiting for backend Connected",
		 wait_failure(err));
	note_backend(d, err, what);
	return -1;
}

int xbf_close(struct xbf_dev *d, int timeout_ms)
{
	int rc = 0, st;

	/* A toolstack that removed our directory wants nothing more from us. */
	if (xbf_frontend_state(d) < 0) {
		xbf_release_rings(d);
		return 0;
	}
	if (xbf_switch_state(d, XenbusStateClosing))
		rc = -1;
	st = xbf_wait_backend(d, XBF_STATE(XenbusStateClosing) |
			      XBF_STATE(XenbusStateClosed) |
			      XBF_STATE(XenbusStateInitWait) |
			      XBF_STATE(XenbusStateInitialising), timeout_ms);
	if (st < 0 && errno != ENOENT) {
		note_backend(d, errno, "backend did not follow to Closing");
		rc = -1;
	}
	if (xbf_switch_state(d, XenbusStateClosed))
		rc = -1;
	/* The backend unmaps on our Closed: unshare only after that. */
	st = xbf_wait_backend(d, XBF_STATE(XenbusStateClosed) |
			      XBF_STATE(XenbusStateInitWait) |
			      XBF_STATE(XenbusStateInitialising), timeout_ms);
	if (st < 0 && errno != ENOENT) {
		note_backend(d, errno, "backend did not reach Closed");
		rc = -1;
	}
	xbf_release_rings(d);
	return rc;
}

int xbf_reconnect(struct xbf_dev *d, int timeout_ms)
{
	int st = xbf_backend_state(d);
	char what[64];

	if (st < 0) {
		note_backend(d, ENOENT, "backend directory vanished");
		return -1;
	}
	/*
	 * A backend in Closing waits for our Closed before it will start over
	 * (Linux's backends do; xenbackd takes Initialising too).
	 */
	if (st == XenbusStateClosing) {
		if (xbf_switch_state(d, XenbusStateClosed))
			return -1;
		st = xbf_wait_backend(d, XBF_STATE(XenbusStateClosed) |
				      XBF_STATE(XenbusStateInitWait) |
				      XBF_STATE(XenbusStateInitialising), timeout_ms);
		if (st < 0) {
			snprintf(what, sizeof(what), "%s waiting for backend Closed",
				 wait_failure(errno));
			note_backend(d, errno, what);
			return -1;
		}
	}
	xbf_release_rings(d);
	if (xbf_switch_state(d, XenbusStateInitialising))
		return -1;
	st = xbf_wait_backend(d, XBF_STATE(XenbusStateInitWait), timeout_ms);
	if (st < 0) {
		snprintf(what, sizeof(what), "%s waiting for backend InitWait",
			 wait_failure(errno));
		note_backend(d, errno, what);
		return -1;
	}
	return 0;
}
