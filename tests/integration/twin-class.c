/* SPDX-License-Identifier: MIT */
/*
 * A second class named "null", linked with null-class.c into
 * tests/integration/xenbackd-twin: the registration fails, and the
 * daemon must refuse to start, naming the class (test-class-registry).
 */
#include "xenbackd/class.h"

static int twin_frontend_ready(struct xbd_device *d)
{
	return 0;
}

static int twin_worker_start(struct xbd_worker *w)
{
	return 0;
}

static const struct xbd_class twin_class = {
	.name = "null",
	.frontend_ready = twin_frontend_ready,
	.worker_start = twin_worker_start,
};

XBD_CLASS_REGISTER(twin_class);
