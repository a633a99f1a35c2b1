/* SPDX-License-Identifier: MIT */
/*
 * The frontend's xenstore side: reading both directories, switching and
 * waiting on xenbus states, and the watches that wake the waits.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "front-private.h"

static char *read_in(const struct xbf_dev *d, const char *dir, const char *node)
{
	char *p = xbf_path(dir, node), *v;

	if (!p)
		return NULL;
	v = xs_read(d->xs, XBT_NULL, p, NULL);
	free(p);
	return v;
}

char *xbf_read_frontend(const struct xbf_dev *d, const char *node)
{
	return read_in(d, d->fe, node);
}

char *xbf_read_backend(const struct xbf_dev *d, const char *node)
{
	return read_in(d, d->be, node);
}

int xbf_backend_uint(struct xbf_dev *d, const char *node, uint64_t dflt,
		     uint64_t max, uint64_t *v)
{
	char *s = xbf_read_backend(d, node);
	int rc = 0;

	*v = dflt;
	if (!s)
		return 1;
	if (!xbf_parse_u64(s, v) || *v > max) {
		*v = dflt;
		xbf_fail(d, EINVAL, "%s/%s: \"%.32s\" is not a number up to %" PRIu64
			 "; using %" PRIu64, d->be, node, s, max, dflt);
		rc = -1;
	}
	free(s);
	return rc;
}

int xbf_write_frontend(struct xbf_dev *d, const char *node, const char *value)
{
	char *p = xbf_path(d->fe, node);

	if (!p || !xs_write(d->xs, XBT_NULL, p, value, strlen(value))) {
		xbf_fail(d, p ? errno : ENOMEM, "cannot write %s/%s: %s", d->fe, node,
			 strerror(p ? errno : ENOMEM));
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

char *xbf_backend_error(const struct xbf_dev *d)
{
	char *p, *v = xbf_read_backend(d, "error");

	if (v)
		return v;
	if (asprintf(&p, "/local/domain/%u/error%s/error", d->be_id, d->be) < 0)
		return NULL;
	v = xs_read(d->xs, XBT_NULL, p, NULL);
	free(p);
	return v;
}

unsigned int xbf_error_writes(const struct xbf_dev *d)
{
	return d->error_writes;
}

const char *xbf_state_name(int state)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured",
	};

	if (state < 0)
		return "gone";
	if (state < (int)(sizeof(names) / sizeof(names[0])))
		return names[state];
	return "invalid";
}

/* Our own node unreadable: the directory is gone (xenstored may say EACCES). */
static bool removed(int err)
{
	return err == ENOENT || err == EACCES;
}

/*
 * As Linux's xenbus_switch_state: the transaction first reads the node,
 * so nothing is written once the toolstack removed the directory (a plain
 * write would re-create it, or fail for want of permission on the parent).
 */
int xbf_switch_state(struct xbf_dev *d, int state)
{
	char v[16], *p = xbf_path(d->fe, "state"), *cur;
	int err = EAGAIN;

	if (!p) {
		xbf_fail(d, ENOMEM, "out of memory");
		return -1;
	}
	snprintf(v, sizeof(v), "%d", state);
	for (int tries = 0; tries < 32 && err == EAGAIN; tries++) {
		xs_transaction_t t = xs_transaction_start(d->xs);

		if (t == XBT_NULL) {
			err = errno;
			break;
		}
		cur = xs_read(d->xs, t, p, NULL);
		if (!cur) {
			err = errno;
			xs_transaction_end(d->xs, t, true);
			if (removed(err))
				err = 0;
			break;
		}
		free(cur);
		if (!xs_write(d->xs, t, p, v, strlen(v))) {
			err = errno;
			xs_transaction_end(d->xs, t, true);
			/* Removed between our read and write: nothing to do. */
			cur = xs_read(d->xs, XBT_NULL, p, NULL);
			if (!cur && removed(errno))
				err = 0;
			free(cur);
			break;
		}
		err = xs_transaction_end(d->xs, t, false) ? 0 : errno;
	}
	free(p);
	if (err) {
		xbf_fail(d, err, "cannot write %s/state %s: %s", d->fe,
			 xbf_state_name(state), strerror(err));
		return -1;
	}
	return 0;
}

static int read_state(const struct xbf_dev *d, const char *dir, int garbage)
{
	char *s = read_in(d, dir, "state");
	uint64_t v;
	int st;

	if (!s)
		return -1;
	st = xbf_parse_u64(s, &v) && v <= 255 ? (int)v : garbage;
	free(s);
	return st;
}

int xbf_frontend_state(const struct xbf_dev *d)
{
	return read_state(d, d->fe, -1);
}

int xbf_backend_state(struct xbf_dev *d)
{
	return read_state(d, d->be, XenbusStateUnknown);
}

bool xbf_drain_watches(struct xbf_dev *d, struct xbf_events *ev)
{
	size_t n = strlen(d->be);
	bool any = false;
	char **w;

	while ((w = xs_check_watch(d->xs))) {
		const char *path = w[XS_WATCH_PATH], *token = w[XS_WATCH_TOKEN];

		if (!strcmp(token, XBF_BE_TOKEN)) {
			/* Counted so that a fresh error is told from an old one. */
			if (!strncmp(path, d->be, n) && !strcmp(path + n, "/error"))
				d->error_writes++;
			if (ev)
				ev->backend = true;
		} else if (!strcmp(token, XBF_FE_TOKEN) && ev) {
			ev->frontend = true;
		}
		free(w);
		any = true;
	}
	return any;
}

int xbf_wait_backend(struct xbf_dev *d, unsigned int mask, int timeout_ms)
{
	int64_t deadline = xbf_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = xs_fileno(d->xs), .events = POLLIN };
		int state, left, rc;

		xbf_drain_watches(d, NULL);
		state = xbf_backend_state(d);
		if (state < 0) {
			xbf_set_error(d, ENOENT, "%s/state is gone", d->be);
			return -1;
		}
		if (state < 32 && (mask & (1u << state)))
			return state;
		left = timeout_ms < 0 ? -1 : (int)(deadline - xbf_now_ms());
		if (timeout_ms >= 0 && left <= 0) {
			xbf_set_error(d, ETIMEDOUT, "%s/state stayed %s for %d ms", d->be,
				      xbf_state_name(state), timeout_ms);
			return -1;
		}
		/* Wake at least every second: a watch event could be lost. */
		rc = poll(&pfd, 1, left < 0 || left > 1000 ? 1000 : left);
		if (rc < 0 && errno == EINTR) {
			xbf_set_error(d, EINTR, "interrupted");
			return -1;
		}
	}
}
