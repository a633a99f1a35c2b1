/* SPDX-License-Identifier: MIT */
/*
 * The frontend's nodes: the kit's transport nodes (ring.h: protocol,
 * ring-page-order, ring-ref*, multi-queue-num-queues, queue-N/...,
 * event-channel), and what is blkif's own: feature-persistent.
 *
 * A pure parser: it reads nodes through a callback, so the daemon feeds it
 * from xenstore and the fuzzer from a buffer. Every value is written by a
 * guest: each must be a plain decimal number (or a known protocol name)
 * within its range, or the whole parse fails with a message.
 */
#ifndef VBD_FRONTEND_H
#define VBD_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenbackd/ring.h>

/* What this backend offered the frontend. */
struct vbd_frontend_limits {
	unsigned int max_ring_order;	/* max-ring-page-order, <= 4 */
	unsigned int max_queues;	/* multi-queue-max-queues, 1..16 */
};

struct vbd_frontend_config {
	struct xbd_ring_nodes rings;	/* every queue: 2^ring_order pages */
	bool persistent;		/* frontend's feature-persistent */
};

/* The blkif rings as the kit describes them, for what was offered. */
void vbd_ring_layout(const struct vbd_frontend_limits *lim,
		     struct xbd_ring_layout *lay);

/*
 * Parses the frontend's nodes into *cfg. Returns 0, or an errno value with
 * a message in msg (e.g. "ring-ref3: not a decimal number").
 */
int vbd_frontend_parse(const struct vbd_frontend_limits *lim,
		       xbd_node_reader *read, void *ctx,
		       struct vbd_frontend_config *cfg,
		       char *msg, size_t msglen);

#endif
