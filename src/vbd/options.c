/*
 * The block class's options.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "vbd/blkif-abi.h"
#include "vbd/frontend.h"
#include "vbd/options.h"

static bool parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "1", "yes", "on", "true" };
	static const char *const no[] = { "0", "no", "off", "false" };
	unsigned int i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*v = true;
			return true;
		}
		if (!strcasecmp(s, no[i])) {
			*v = false;
			return true;
		}
	}
	return false;
}

struct loader {
	vbd_option_getter *get;
	void (*warn)(const char *key, const char *value, const char *why);
};

static void opt_bool(struct loader *l, const char *key, bool *v)
{
	const char *s = l->get(key);

	if (s && !parse_bool(s, v) && l->warn)
		l->warn(key, s, "not a boolean (1/0, yes/no, on/off)");
}

static void opt_uint(struct loader *l, const char *key, unsigned int min,
		     unsigned int max, unsigned int *v)
{
	const char *s = l->get(key);
	uint64_t n;

	if (!s)
		return;
	if (vbd_parse_uint(s, max, &n) || n < min) {
		if (l->warn)
			l->warn(key, s, "not a number in range");
		return;
	}
	*v = (unsigned int)n;
}

static void opt_enum(struct loader *l, const char *key,
		     const char *const *names, unsigned int n, int *v)
{
	const char *s = l->get(key);
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < n; i++) {
		if (!strcmp(s, names[i])) {
			*v = (int)i;
			return;
		}
	}
	if (l->warn)
		l->warn(key, s, "unknown value");
}

void vbd_options_load(struct vbd_options *o, vbd_option_getter *get,
		      void (*warn)(const char *key, const char *value,
				   const char *why))
{
	static const char *const engines[] = { "auto", "io_uring", "threads" };
	static const char *const direct[] = { "auto", "on", "off" };
	static const char *const grants[] = { "map", "copy" };
	struct loader l = { get, warn };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int e;

	memset(o, 0, sizeof(*o));
	o->io_engine = VBD_ENGINE_AUTO;
	o->io_threads = 8;
	o->io_depth = 256;
	o->direct_io = VBD_DIRECT_AUTO;
	o->grant_mode = VBD_GRANT_MAP;
	o->max_ring_order = VBD_MAX_RING_ORDER;
	o->max_queues = cpus < 4 ? 4 : cpus > VBD_MAX_QUEUES ? VBD_MAX_QUEUES
							    : (unsigned int)cpus;
	o->max_indirect_segments = 256;
	o->max_persistent_grants = 1056;
	o->flush = true;
	o->barrier = true;
	o->discard = true;
	o->persistent = true;
	o->file_sector_size = 512;
	o->batch = 64;
	o->online_resize = true;

	if (!get)
		return;
	e = o->io_engine;
	opt_enum(&l, "io-engine", engines, 3, &e);
	o->io_engine = e;
	e = o->direct_io;
	opt_enum(&l, "direct-io", direct, 3, &e);
	o->direct_io = e;
	e = o->grant_mode;
	opt_enum(&l, "grant-mode", grants, 2, &e);
	o->grant_mode = e;
	opt_uint(&l, "io-threads", 1, 256, &o->io_threads);
	opt_uint(&l, "io-depth", 8, 4096, &o->io_depth);
	opt_uint(&l, "max-ring-page-order", 0, VBD_MAX_RING_ORDER,
		 &o->max_ring_order);
	opt_uint(&l, "max-queues", 1, VBD_MAX_QUEUES, &o->max_queues);
	opt_uint(&l, "max-indirect-segments", 0, 4096,
		 &o->max_indirect_segments);
	opt_uint(&l, "max-persistent-grants", 0, 65536,
		 &o->max_persistent_grants);
	opt_bool(&l, "flush-cache", &o->flush);
	opt_bool(&l, "barrier", &o->barrier);
	opt_bool(&l, "discard", &o->discard);
	opt_bool(&l, "persistent", &o->persistent);
	opt_uint(&l, "batch", 1, 4096, &o->batch);
	opt_bool(&l, "online-resize", &o->online_resize);

	{
		unsigned int ss = o->file_sector_size;

		opt_uint(&l, "file-sector-size", 512, 4096, &ss);
		if (ss == 512 || ss == 4096)
			o->file_sector_size = ss;
		else if (warn)
			warn("file-sector-size", get("file-sector-size"),
			     "must be 512 or 4096");
	}
	/* Indirect requests: at least what a direct request carries. */
	if (o->max_indirect_segments &&
	    o->max_indirect_segments <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
		o->max_indirect_segments = 0;
}
