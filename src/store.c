/* SPDX-License-Identifier: MIT */
/*
 * xenstore access for the main process. libxenstore runs a reader thread
 * once a watch is set; its fd becomes readable when events are queued and
 * we drain them all at once, so a guest that makes its nodes fire in a
 * loop costs a lookup per event and never a queue of work (XSA-349): the
 * device layer only marks the device for one re-evaluation.
 */
#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "log.h"
#include "store.h"

static struct xs_handle *xsh;
static unsigned int own_domid;
static char home[64];
static ev_io watch_io;
static store_watch_fn *watch_fn;

long store_read_long(const char *path)
{
	char *v = store_read(path), *end;
	long n;

	if (!v)
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 0)
		n = -1;
	free(v);
	return n;
}

int store_open(void)
{
	char *path;
	long id;

	xsh = xs_open(0);
	if (!xsh) {
		xbd_log(XBD_ERROR, "cannot connect to xenstore: %s "
			"(is xenstored running?)", strerror(errno));
		return -1;
	}
	/*
	 * A relative path is resolved in our own home by xenstored, so
	 * "domid" tells who we are in dom0 and in a driver domain alike.
	 */
	id = store_read_long("domid");
	if (id < 0) {
		xbd_log(XBD_WARN, "no readable 'domid' node in our xenstore "
			"home: assuming domain 0");
		id = 0;
	}
	own_domid = id;
	path = xs_get_domain_path(xsh, own_domid);
	if (!path) {
		xbd_log(XBD_ERROR, "xenstore GET_DOMAIN_PATH(%u): %s",
			own_domid, strerror(errno));
		xs_close(xsh);
		xsh = NULL;
		return -1;
	}
	snprintf(home, sizeof(home), "%s", path);
	free(path);
	xbd_log(XBD_DEBUG, "xenstore home %s (domain %u)", home, own_domid);
	return 0;
}

static void watch_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	char **ev;

	while ((ev = xs_check_watch(xsh))) {
		watch_fn(ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
		free(ev);
	}
	if (errno != EAGAIN)
		xbd_log(XBD_ERROR, "reading xenstore watch events: %s",
			strerror(errno));
}

int store_start_events(struct ev_loop *loop, store_watch_fn *fn)
{
	int fd = xs_fileno(xsh);

	if (fd < 0) {
		xbd_log(XBD_ERROR, "xenstore event fd: %s", strerror(errno));
		return -1;
	}
	watch_fn = fn;
	ev_io_init(&watch_io, watch_ready, fd, EV_READ);
	ev_io_start(loop, &watch_io);
	return 0;
}

void store_close(struct ev_loop *loop)
{
	if (watch_fn)
		ev_io_stop(loop, &watch_io);
	watch_fn = NULL;
	if (xsh)
		xs_close(xsh);
	xsh = NULL;
}

int store_ping(void)
{
	char *path = xs_get_domain_path(xsh, own_domid);

	free(path);
	return path ? 0 : -1;
}

unsigned int store_own_domid(void)
{
	return own_domid;
}

const char *store_home(void)
{
	return home;
}

char *store_read(const char *path)
{
	unsigned int len;

	/* libxenstore NUL-terminates what it returns. */
	return xs_read(xsh, XBT_NULL, path, &len);
}

bool store_exists(const char *path)
{
	char *v = store_read(path);

	free(v);
	return v != NULL;
}

int store_write_in(const char *dir, const char *path, const char *value)
{
	for (int tries = 0; tries < 32; tries++) {
		xs_transaction_t t = xs_transaction_start(xsh);
		unsigned int len;
		char *v;
		int err;

		if (t == XBT_NULL)
			break;
		v = xs_read(xsh, t, dir, &len);
		if (!v) {
			err = errno;
			xs_transaction_end(xsh, t, true);
			if (err == ENOENT) {
				xbd_log(XBD_DEBUG, "not writing %s: %s is gone",
					path, dir);
				errno = ENOENT;
				return -1;
			}
			errno = err;
			break;
		}
		free(v);
		if (!xs_write(xsh, t, path, value, strlen(value))) {
			err = errno;
			xs_transaction_end(xsh, t, true);
			errno = err;
			break;
		}
		if (xs_transaction_end(xsh, t, false))
			return 0;
		if (errno != EAGAIN)
			break;
	}
	xbd_log(XBD_WARN, "xenstore write %s: %s", path, strerror(errno));
	return -1;
}

int store_rm(const char *path)
{
	return xs_rm(xsh, XBT_NULL, path) ? 0 : -1;
}

char **store_directory(const char *path, unsigned int *num)
{
	return xs_directory(xsh, XBT_NULL, path, num);
}

int store_watch(const char *path, const char *token)
{
	if (!xs_watch(xsh, path, token)) {
		xbd_log(XBD_ERROR, "xenstore watch %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int store_unwatch(const char *path, const char *token)
{
	return xs_unwatch(xsh, path, token) ? 0 : -1;
}
