/* SPDX-License-Identifier: MIT */
/*
 * A block device's private data (the class's priv). Filled in the main
 * process; the worker is forked with a copy of it.
 */
#ifndef VBD_DEVICE_H
#define VBD_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "vbd/backing.h"
#include "vbd/frontend.h"
#include "vbd/options.h"
#include "vbd/request.h"

struct vbd_worker_dev;

struct vbd_device {
	struct vbd_options opt;
	struct vbd_backing backing;
	bool backing_open;
	unsigned int info;		/* VDISK_* bits */
	bool discard;			/* offered: options, store, toolstack */
	/* Offered in xenstore. */
	unsigned int max_ring_order;
	unsigned int max_queues;
	unsigned int max_indirect_segments;
	bool offer_persistent;
	/* Negotiated with the frontend. */
	struct vbd_frontend_config fe;
	bool persistent;
	struct vbd_limits lim;
	/* Worker only. */
	struct vbd_worker_dev *wd;
};

/* Request limits for the device as the frontend sees it. */
void vbd_device_limits(const struct vbd_device *v, struct vbd_limits *lim);

#endif
