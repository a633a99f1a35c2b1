/* SPDX-License-Identifier: MIT */
/*
 * The block device class (blkif): what Linux xen-blkfront talks to.
 */
#ifndef VBD_VBD_H
#define VBD_VBD_H

#include <xenbackd/class.h>

extern const struct xbd_class vbd_class;

/* Worker side (worker.c). */
int vbd_worker_start(struct xbd_worker *w);
void vbd_worker_stop(struct xbd_worker *w);

#endif
