/* SPDX-License-Identifier: MIT */
/*
 * The frontend's nodes, parsed and range-checked: the rings by the kit's
 * parser, feature-persistent here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vbd/frontend.h"

void vbd_ring_layout(const struct vbd_frontend_limits *lim,
		     struct xbd_ring_layout *lay)
{
	memset(lay, 0, sizeof(*lay));
	lay->ring_ref = "ring-ref";
	lay->event_channel = "event-channel";
	lay->max_ring_order = lim->max_ring_order;
	lay->max_queues = lim->max_queues;
	lay->abi = true;
}

/* feature-persistent: absent is 0; else a plain decimal number. */
static int read_persistent(xbd_node_reader *read, void *ctx, bool *on,
			   char *msg, size_t msglen)
{
	static const char node[] = "feature-persistent";
	uint64_t v;
	char *s;
	int err;

	*on = false;
	errno = 0;
	s = read(ctx, node);
	if (!s) {
		err = errno ? errno : EIO;
		if (err == ENOENT)
			return 0;
		if (msglen)
			snprintf(msg, msglen, "%s: cannot read: %s", node,
				 strerror(err));
		return err;
	}
	err = xbd_parse_uint(s, UINT32_MAX, &v);
	free(s);
	if (err) {
		if (msglen && err == EINVAL)
			snprintf(msg, msglen, "%s: not a decimal number", node);
		else if (msglen)
			snprintf(msg, msglen, "%s: out of range (0..%u)", node,
				 UINT32_MAX);
		return err;
	}
	*on = v != 0;
	return 0;
}

int vbd_frontend_parse(const struct vbd_frontend_limits *lim,
		       xbd_node_reader *read, void *ctx,
		       struct vbd_frontend_config *cfg,
		       char *msg, size_t msglen)
{
	struct xbd_ring_layout lay;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	vbd_ring_layout(lim, &lay);
	err = xbd_parse_ring_nodes(&lay, read, ctx, &cfg->rings, msg, msglen);
	if (err)
		return err;
	return read_persistent(read, ctx, &cfg->persistent, msg, msglen);
}
