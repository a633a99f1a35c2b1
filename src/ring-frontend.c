/* SPDX-License-Identifier: MIT */
/*
 * The main process's half of ring.h: the frontend's transport nodes read
 * from xenstore, and what the backend offers written there.
 */
#include <errno.h>
#include <string.h>

#include <xenbackd/class.h>
#include <xenbackd/ring.h>

static char *read_frontend_node(void *ctx, const char *node)
{
	return xbd_frontend_read(ctx, node);
}

int xbd_frontend_read_rings(struct xbd_device *d,
			    const struct xbd_ring_layout *lay,
			    struct xbd_ring_nodes *out)
{
	char msg[256];
	int err;

	err = xbd_parse_ring_nodes(lay, read_frontend_node, d, out, msg,
				   sizeof(msg));
	if (err) {
		xbd_device_error(d, err, "frontend %s: %s",
				 xbd_device_frontend_path(d), msg);
		return -1;
	}
	return 0;
}

int xbd_backend_write_ring_limits(struct xbd_device *d,
				  const struct xbd_ring_layout *lay)
{
	unsigned int order = lay->max_ring_order;
	unsigned int queues = lay->max_queues;

	if (order > XBD_MAX_RING_ORDER)
		order = XBD_MAX_RING_ORDER;
	if (queues > XBD_MAX_QUEUES)
		queues = XBD_MAX_QUEUES;
	if ((order > 0 &&
	     xbd_backend_write(d, "max-ring-page-order", "%u", order)) ||
	    (queues > 1 &&
	     xbd_backend_write(d, "multi-queue-max-queues", "%u", queues))) {
		xbd_device_error(d, errno, "writing the ring limits: %s",
				 strerror(errno));
		return -1;
	}
	return 0;
}
