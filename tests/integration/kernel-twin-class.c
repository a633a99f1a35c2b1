/* SPDX-License-Identifier: MIT */
/*
 * A class named "ktwin" whose kernel counterpart is "printk": a module
 * every Linux kernel lists in /sys/module, so that on any test machine
 * the kernel "serves" it as xen-blkback serves vbd on a Xen host. Linked
 * with null-class.c into tests/integration/xenbackd-ktwin (never
 * installed) for test-kernel-backend.
 */
#include "xenbackd/class.h"

static int ktwin_frontend_ready(struct xbd_device *d)
{
	return 0;
}

static int ktwin_worker_start(struct xbd_worker *w)
{
	return 0;
}

static const struct xbd_class ktwin_class = {
	.name = "ktwin",
	.kernel_backend = "printk",
	.frontend_ready = ktwin_frontend_ready,
	.worker_start = ktwin_worker_start,
};

XBD_CLASS_REGISTER(ktwin_class);
