/* SPDX-License-Identifier: MIT */
/*
 * The frontend's transport nodes: protocol, ring-page-order, ring-ref*,
 * multi-queue-num-queues, queue-N/..., event-channel, feature-persistent.
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

#include "vbd/blkif-abi.h"

/* Largest event channel port of the FIFO ABI (2^17 ports; 0 is invalid). */
#define VBD_MAX_EVTCHN_PORT ((1u << 17) - 1)

/* What this backend offered the frontend. */
struct vbd_frontend_limits {
	unsigned int max_ring_order;	/* max-ring-page-order, <= 4 */
	unsigned int max_queues;	/* multi-queue-max-queues, 1..16 */
};

struct vbd_queue_config {
	uint32_t evtchn;
	uint32_t ring_ref[VBD_MAX_RING_PAGES];
};

struct vbd_frontend_config {
	enum vbd_abi abi;
	unsigned int ring_order;	/* every queue's ring: 2^order pages */
	unsigned int nr_queues;
	bool persistent;		/* frontend's feature-persistent */
	struct vbd_queue_config queue[VBD_MAX_QUEUES];
};

/*
 * Reads node (relative to the frontend directory, e.g. "queue-1/ring-ref")
 * and returns its value, malloc'd, or NULL with errno set (ENOENT: absent).
 */
typedef char *vbd_node_reader(void *ctx, const char *node);

/*
 * Parses the frontend's nodes into *cfg. Returns 0, or an errno value with
 * a message in msg (e.g. "ring-ref3: not a decimal number").
 */
int vbd_frontend_parse(const struct vbd_frontend_limits *lim,
		       vbd_node_reader *read, void *ctx,
		       struct vbd_frontend_config *cfg,
		       char *msg, size_t msglen);

/*
 * Parses a plain unsigned decimal number (digits only, at most 20) up to
 * max. Returns 0, or EINVAL / ERANGE.
 */
int vbd_parse_uint(const char *s, uint64_t max, uint64_t *value);

#endif
