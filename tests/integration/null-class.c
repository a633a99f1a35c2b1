/* SPDX-License-Identifier: MIT */
/*
 * A device class that serves nothing, for testing the daemon's core on
 * its own: the xenbus lifecycle, hotplug, workers, the control socket.
 * Linked into tests/integration/xenbackd-null (the core without the
 * classes of src/), where it registers itself as every class does;
 * never installed.
 *
 * The frontend picks a misbehaviour by writing "null-mode" in its
 * directory before Initialised: fail-start (worker_start fails),
 * fail-connect (connect fails), hang-drain (the worker never drains).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xenbackd/class.h"

struct null_dev {
	int fd;			/* the backing file, to test fd handling */
	char mode[32];
	int draining;
};

static int null_setup(struct xbd_device *d)
{
	struct null_dev *n = xbd_device_priv(d);

	n->fd = -1;
	return xbd_backend_write(d, "feature-null", "1");
}

static int null_backing_ready(struct xbd_device *d)
{
	struct null_dev *n = xbd_device_priv(d);
	char *params = xbd_backend_read(d, "params");

	if (params && *params) {
		n->fd = open(params, O_RDONLY | O_CLOEXEC);
		if (n->fd < 0) {
			xbd_device_error(d, errno, "cannot open %s: %s", params,
					 strerror(errno));
			free(params);
			return -1;
		}
		xbd_device_keep_fd(d, n->fd);
	}
	free(params);
	return 0;
}

static int null_frontend_ready(struct xbd_device *d)
{
	struct null_dev *n = xbd_device_priv(d);
	char *mode = xbd_frontend_read(d, "null-mode");

	n->mode[0] = '\0';
	if (mode && strlen(mode) < sizeof(n->mode))
		strcpy(n->mode, mode);
	free(mode);
	if (!strcmp(n->mode, "bad-frontend")) {
		xbd_device_error(d, EINVAL, "frontend asked to be refused");
		return -1;
	}
	return 0;
}

static int null_connect(struct xbd_device *d)
{
	struct null_dev *n = xbd_device_priv(d);

	if (!strcmp(n->mode, "fail-connect")) {
		xbd_device_error(d, EIO, "connect refused on request");
		return -1;
	}
	return xbd_backend_write(d, "null-connected", "1");
}

static void null_disconnect(struct xbd_device *d)
{
}

static void null_release(struct xbd_device *d)
{
	struct null_dev *n = xbd_device_priv(d);

	if (n->fd >= 0) {
		xbd_device_forget_fd(d, n->fd);
		close(n->fd);
		n->fd = -1;
	}
}

static int null_worker_start(struct xbd_worker *w)
{
	struct null_dev *n = xbd_worker_priv(w);

	if (!strcmp(n->mode, "fail-start")) {
		xbd_worker_fail(w, EINVAL, "worker start refused on request");
		return -1;
	}
	/* The kept fd must have survived the fd clean-up. */
	if (n->fd >= 0 && fcntl(n->fd, F_GETFD) < 0) {
		xbd_worker_fail(w, EBADF, "backing fd lost");
		return -1;
	}
	return 0;
}

static void null_worker_drain(struct xbd_worker *w)
{
	struct null_dev *n = xbd_worker_priv(w);

	if (strcmp(n->mode, "hang-drain"))
		xbd_worker_stopped(w);
}

/* xenbackctl show: the class's own fields, and one the core refuses. */
static void null_show(struct xbd_device *d, struct xbd_show *s)
{
	struct null_dev *n = xbd_device_priv(d);

	xbd_show_field(s, "null-mode", "%s", *n->mode ? n->mode : "normal");
	xbd_show_field(s, "backing-fd", "%s", n->fd >= 0 ? "open" : "none");
	/* A core key: left out, never a second "phase". */
	xbd_show_field(s, "phase", "%s", "from the class");
}

const struct xbd_class null_class = {
	.name = "null",
	.priv_size = sizeof(struct null_dev),
	.setup = null_setup,
	.backing_ready = null_backing_ready,
	.frontend_ready = null_frontend_ready,
	.connect = null_connect,
	.disconnect = null_disconnect,
	.release = null_release,
	.worker_start = null_worker_start,
	.worker_drain = null_worker_drain,
	.show = null_show,
};

XBD_CLASS_REGISTER(null_class);
