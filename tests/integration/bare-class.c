/* SPDX-License-Identifier: MIT */
/*
 * The smallest class the API allows: only the two required callbacks,
 * frontend_ready and worker_start; every other field is left NULL, so
 * each optional step is the core's default. Linked into
 * tests/integration/xenbackd-null next to the null class, and registered
 * the way every class is, to show that a class needs nothing more.
 */
#include "xenbackd/class.h"

static int bare_frontend_ready(struct xbd_device *d)
{
	return 0;
}

static int bare_worker_start(struct xbd_worker *w)
{
	return 0;
}

static const struct xbd_class bare_class = {
	.name = "bare",
	.frontend_ready = bare_frontend_ready,
	.worker_start = bare_worker_start,
};

XBD_CLASS_REGISTER(bare_class);
