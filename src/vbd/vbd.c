/* SPDX-License-Identifier: MIT */
/*
 * The block class in the main process: features, backing store, the
 * frontend's transport nodes, and what the frontend reads on Connected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "vbd/device.h"
#include "vbd/vbd.h"

/*
 * Flush is offered where the store keeps a volatile cache: files and block
 * devices always (the page cache), an NBD export when its server takes
 * NBD_CMD_FLUSH. Before the store is open (setup), the option alone.
 */
static bool vbd_offers_flush(const struct vbd_device *v)
{
	return v->opt.flush && (!v->backing_open || v->backing.cache);
}

void vbd_device_limits(const struct vbd_device *v, struct vbd_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->nr_sectors = v->backing.size >> VBD_SECTOR_SHIFT;
	lim->sector_size = v->backing.sector_size;
	lim->readonly = v->backing.readonly;
	lim->flush = vbd_offers_flush(v);
	lim->barrier = v->opt.barrier;
	lim->discard = v->discard;
	lim->discard_secure = v->discard && v->backing.discard_secure;
	lim->max_indirect_segments = v->max_indirect_segments;
}

static const char *option(const char *key)
{
	return xbd_class_option(&vbd_class, key);
}

/* Not expected: check_option refused a bad value at start. */
static void option_warning(const char *key, const char *value, const char *why)
{
	xbd_log(XBD_WARN, "vbd.%s = %s: %s; using the default", key,
		value ? value : "", why);
}

static int vbd_setup(struct xbd_device *d)
{
	struct vbd_device *v = xbd_device_priv(d);

	v->backing.fd = -1;
	vbd_options_load(&v->opt, option, option_warning);
	v->max_ring_order = v->opt.max_ring_order;
	v->max_queues = v->opt.max_queues;
	v->max_indirect_segments = v->opt.max_indirect_segments;
	/* Persistent grants are kept mappings: not with grant copy. */
	v->offer_persistent = v->opt.persistent &&
			      v->opt.grant_mode == VBD_GRANT_MAP;

	/* What blkfront reads after InitWait; the rest comes on connect. */
	if (xbd_backend_write(d, "feature-flush-cache", "%d", v->opt.flush) ||
	    xbd_backend_write(d, "feature-barrier", "%d", v->opt.barrier) ||
	    xbd_backend_write(d, "feature-persistent", "%d",
			      v->offer_persistent) ||
	    xbd_backend_write(d, "max-ring-page-order", "%u",
			      v->max_ring_order) ||
	    xbd_backend_write(d, "multi-queue-max-queues", "%u",
			      v->max_queues) ||
	    (v->max_indirect_segments &&
	     xbd_backend_write(d, "feature-max-indirect-segments", "%u",
			       v->max_indirect_segments))) {
		xbd_device_error(d, errno, "writing features: %s",
				 strerror(errno));
		return -1;
	}
	return 0;
}

static void close_backing(struct xbd_device *d, struct vbd_device *v)
{
	if (v->backing.fd >= 0)
		xbd_device_forget_fd(d, v->backing.fd);
	vbd_backing_close(&v->backing);
	v->backing_open = false;
}

/* A backend node read as a boolean; absent or unreadable: dflt. */
static bool backend_bool(struct xbd_device *d, const char *node, bool dflt)
{
	unsigned long v;

	if (xbd_backend_read_uint(d, node, ~0UL, &v))
		return dflt;
	return v != 0;
}

static int vbd_backing_ready(struct xbd_device *d)
{
	struct vbd_device *v = xbd_device_priv(d);
	char *path, *mode, *dtype, msg[320];
	const char *p;
	bool readonly, nbd;
	int err;

	close_backing(d, v);
	path = xbd_backend_read(d, "physical-device-path");
	if (!path)
		path = xbd_backend_read(d, "params");
	if (!path || !path[0]) {
		xbd_device_error(d, ENOENT, "no backing store: neither "
				 "physical-device-path nor params is set");
		free(path);
		return -1;
	}
	p = vbd_backing_path_from_params(path);

	/* blkback: writable only when mode says "w". */
	mode = xbd_backend_read(d, "mode");
	readonly = !mode || !strchr(mode, 'w');
	free(mode);

	nbd = vbd_backing_is_nbd_uri(p);
	if (nbd)
		err = vbd_backing_probe_nbd(&v->backing, p, readonly,
					    v->opt.nbd_timeout * 1000, msg,
					    sizeof(msg));
	else
		err = vbd_backing_open(&v->backing, p, readonly, &v->opt, msg,
				       sizeof(msg));
	if (err) {
		xbd_device_error(d, err, "opening the backing store: %s", msg);
		free(path);
		return -1;
	}
	if (v->backing.fd >= 0)
		xbd_device_keep_fd(d, v->backing.fd);
	v->backing_open = true;
	/* An export the server offers read-only makes a read-only disk. */
	if (nbd && v->backing.readonly && !readonly) {
		xbd_log(XBD_WARN, "%s: the NBD server offers %s read-only: "
			"the disk is read-only", xbd_device_name(d), p);
		readonly = true;
	}

	v->info = readonly ? VDISK_READONLY : 0;
	dtype = xbd_backend_read(d, "device-type");
	if (dtype && !strcmp(dtype, "cdrom"))
		v->info |= VDISK_CDROM;
	free(dtype);
	if (backend_bool(d, "removable", false))
		v->info |= VDISK_REMOVABLE;
	v->discard = v->opt.discard && v->backing.discard && !readonly &&
		     backend_bool(d, "discard-enable", true);

	xbd_log(XBD_INFO, "%s: %s %s%s, %llu bytes, sectors %u/%u%s%s",
		xbd_device_name(d), nbd ? "NBD export" :
				    v->backing.is_block ? "block device" : "file",
		p, readonly ? " (read-only)" : "",
		(unsigned long long)v->backing.size, v->backing.sector_size,
		v->backing.physical_sector_size,
		v->backing.direct ? ", direct I/O" : "",
		v->discard ? ", discard" : "");
	free(path);
	return 0;
}

static char *read_frontend_node(void *ctx, const char *node)
{
	return xbd_frontend_read(ctx, node);
}

static int vbd_frontend_ready(struct xbd_device *d)
{
	struct vbd_device *v = xbd_device_priv(d);
	struct vbd_frontend_limits lim = {
		.max_ring_order = v->max_ring_order,
		.max_queues = v->max_queues,
	};
	char msg[256];
	uint64_t size;
	int err;

	if (!v->backing_open) {
		xbd_device_error(d, ENODEV, "the backing store is not open");
		return -1;
	}
	/*
	 * The store may have been resized since it was opened (at InitWait,
	 * maybe long ago): as blkback does, the size the frontend is told on
	 * connect, and the worker's limits, are taken now.
	 */
	if (vbd_backing_current_size(&v->backing, &size) == 0 &&
	    size != v->backing.size) {
		xbd_log(XBD_INFO, "%s: backing store resized before connect: "
			"%llu -> %llu bytes", xbd_device_name(d),
			(unsigned long long)v->backing.size,
			(unsigned long long)size);
		v->backing.size = size;
	}
	err = vbd_frontend_parse(&lim, read_frontend_node, d, &v->fe, msg,
				 sizeof(msg));
	if (err) {
		xbd_device_error(d, err, "frontend %s: %s",
				 xbd_device_frontend_path(d), msg);
		return -1;
	}
	v->persistent = v->offer_persistent && v->fe.persistent;
	vbd_device_limits(v, &v->lim);
	xbd_log(XBD_DEBUG, "%s: frontend: %s ABI, %u queue(s), ring order %u%s",
		xbd_device_name(d), xbd_abi_name(v->fe.rings.abi),
		v->fe.rings.nr_queues, v->fe.rings.ring_order,
		v->fe.persistent ? ", persistent grants" : "");
	return 0;
}

/* What the frontend reads on Connected, and the store-dependent features. */
static int write_properties(struct xbd_device *d, struct vbd_device *v)
{
	const struct vbd_backing *b = &v->backing;

	/* "sectors" is always in 512-byte units, whatever sector-size says. */
	if (xbd_backend_write(d, "sectors", "%llu",
			      (unsigned long long)(b->size >> VBD_SECTOR_SHIFT)) ||
	    xbd_backend_write(d, "sector-size", "%u", b->sector_size) ||
	    xbd_backend_write(d, "physical-sector-size", "%u",
			      b->physical_sector_size) ||
	    xbd_backend_write(d, "info", "%u", v->info))
		return -1;
	if (v->discard &&
	    (xbd_backend_write(d, "discard-granularity", "%u",
			       b->discard_granularity) ||
	     xbd_backend_write(d, "discard-alignment", "%u",
			       b->discard_alignment) ||
	     xbd_backend_write(d, "discard-secure", "%d",
			       b->discard_secure)))
		return -1;
	if (xbd_backend_write(d, "feature-discard", "%d", v->discard) ||
	    xbd_backend_write(d, "feature-flush-cache", "%d",
			      vbd_offers_flush(v)) ||
	    xbd_backend_write(d, "feature-barrier", "%d", v->opt.barrier))
		return -1;
	return 0;
}

static int vbd_connect(struct xbd_device *d)
{
	struct vbd_device *v = xbd_device_priv(d);

	if (write_properties(d, v)) {
		xbd_device_error(d, errno, "writing the disk's properties: %s",
				 strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Online resize, as blkback does it: the store grew (or shrank), so
 * "sectors" is rewritten and the state written again for the frontend's
 * watch to fire. The worker learns the size by itself when a request
 * reaches past the end it knew.
 */
static void vbd_poll(struct xbd_device *d)
{
	struct vbd_device *v = xbd_device_priv(d);
	uint64_t size;

	if (!v->backing_open || !v->opt.online_resize ||
	    vbd_backing_current_size(&v->backing, &size) ||
	    size == v->backing.size)
		return;
	xbd_log(XBD_INFO, "%s: backing store resized: %llu -> %llu bytes",
		xbd_device_name(d), (unsigned long long)v->backing.size,
		(unsigned long long)size);
	v->backing.size = size;
	if (xbd_backend_write(d, "sectors", "%llu",
			      (unsigned long long)(size >> VBD_SECTOR_SHIFT)) ||
	    xbd_backend_write(d, "state", "%d", XenbusStateConnected))
		xbd_device_error(d, errno, "writing the new size: %s",
				 strerror(errno));
}

static void vbd_release(struct xbd_device *d)
{
	struct vbd_device *v = xbd_device_priv(d);

	close_backing(d, v);
}

/* xenbackctl show: the backing store as the toolstack gave it. */
static void vbd_show(struct xbd_device *d, struct xbd_show *s)
{
	char *params = xbd_backend_read(d, "params");
	char *mode = xbd_backend_read(d, "mode");

	xbd_show_field(s, "params", "%s", params ? params : "");
	xbd_show_field(s, "mode", "%s", mode ? mode : "");
	free(params);
	free(mode);
}

/* What backing_ready reads (and the hotplug script's result). */
static const char *const vbd_backing_nodes[] = {
	"params", "physical-device-path", "physical-device", "mode",
	"type", "hotplug-status", NULL,
};

/* Per ring, after requests, errors and in-flight (VBD_COUNT_*). */
static const char *const vbd_counters[] = {
	"read-bytes", "write-bytes", NULL,
};

/* Per ring and operation, in xenbackctl metrics (VBD_OP_*). */
static const char *const vbd_ops[] = {
	"read", "write", "flush", "barrier", "discard", "other", NULL,
};

const struct xbd_class vbd_class = {
	.name = "vbd",
	.kernel_backend = "xen_blkback",
	.priv_size = sizeof(struct vbd_device),
	.setup = vbd_setup,
	.backing_ready = vbd_backing_ready,
	.backing_nodes = vbd_backing_nodes,
	.frontend_ready = vbd_frontend_ready,
	.connect = vbd_connect,
	.release = vbd_release,
	.worker_start = vbd_worker_start,
	.worker_stop = vbd_worker_stop,
	.poll = vbd_poll,
	.check_option = vbd_option_check,
	.show = vbd_show,
	.counters = vbd_counters,
	.ops = vbd_ops,
};

XBD_CLASS_REGISTER(vbd_class);
