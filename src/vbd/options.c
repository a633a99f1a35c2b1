/* SPDX-License-Identifier: MIT */
/*
 * The block class's options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <xenbackd/class.h>

#include "vbd/blkif-abi.h"
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

/*
 * The getter and the warning of one load, with a context: the same loader
 * fills a device's options (vbd_options_load) and checks one config line
 * at start (vbd_option_check), so what is checked is what is used.
 */
struct loader {
	const char *(*get)(void *ctx, const char *key);
	void (*warn)(void *ctx, const char *key, const char *value,
		     const char *why);
	void *ctx;
};

static const char *loader_get(struct loader *l, const char *key)
{
	return l->get(l->ctx, key);
}

static void loader_warn(struct loader *l, const char *key,
			const char *value, const char *why)
{
	if (l->warn)
		l->warn(l->ctx, key, value, why);
}

static void opt_bool(struct loader *l, const char *key, bool *v)
{
	const char *s = loader_get(l, key);

	if (s && !parse_bool(s, v))
		loader_warn(l, key, s,
			    "not a boolean (1/0, yes/no, on/off, true/false)");
}

static void opt_uint(struct loader *l, const char *key, unsigned int min,
		     unsigned int max, unsigned int *v)
{
	const char *s = loader_get(l, key);
	char why[64];

	if (!s)
		return;
	if (xbd_check_uint(s, min, max, why, sizeof(why))) {
		loader_warn(l, key, s, why);
		return;
	}
	*v = (unsigned int)strtoul(s, NULL, 10);
}

static void opt_enum(struct loader *l, const char *key,
		     const char *const *names, unsigned int n, int *v)
{
	const char *s = loader_get(l, key);
	char why[96];
	size_t len;
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < n; i++) {
		if (!strcmp(s, names[i])) {
			*v = (int)i;
			return;
		}
	}
	len = (size_t)snprintf(why, sizeof(why), "not one of");
	for (i = 0; i < n && len < sizeof(why); i++)
		len += (size_t)snprintf(why + len, sizeof(why) - len, "%s %s",
					i ? "," : "", names[i]);
	loader_warn(l, key, s, why);
}

/* Fills *o with the defaults, then what l gives (l NULL: defaults only). */
static void load(struct vbd_options *o, struct loader *l)
{
	static const char *const engines[] = { "auto", "io_uring", "threads" };
	static const char *const direct[] = { "auto", "on", "off" };
	static const char *const grants[] = { "map", "copy" };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int e;

	memset(o, 0, sizeof(*o));
	o->io_engine = VBD_ENGINE_AUTO;
	o->io_threads = 8;
	o->io_depth = 256;
	o->direct_io = VBD_DIRECT_AUTO;
	o->grant_mode = VBD_GRANT_MAP;
	o->max_ring_order = XBD_MAX_RING_ORDER;
	o->max_queues = cpus < 4 ? 4 : cpus > XBD_MAX_QUEUES ? XBD_MAX_QUEUES
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
	o->nbd_timeout = 3;
	o->nbd_retry = 1000;

	if (!l)
		return;
	e = o->io_engine;
	opt_enum(l, "io-engine", engines, 3, &e);
	o->io_engine = e;
	e = o->direct_io;
	opt_enum(l, "direct-io", direct, 3, &e);
	o->direct_io = e;
	e = o->grant_mode;
	opt_enum(l, "grant-mode", grants, 2, &e);
	o->grant_mode = e;
	opt_uint(l, "io-threads", 1, 256, &o->io_threads);
	opt_uint(l, "io-depth", 8, 4096, &o->io_depth);
	opt_uint(l, "max-ring-page-order", 0, XBD_MAX_RING_ORDER,
		 &o->max_ring_order);
	opt_uint(l, "max-queues", 1, XBD_MAX_QUEUES, &o->max_queues);
	opt_uint(l, "max-indirect-segments", 0, 4096,
		 &o->max_indirect_segments);
	opt_uint(l, "max-persistent-grants", 0, 65536,
		 &o->max_persistent_grants);
	opt_bool(l, "flush-cache", &o->flush);
	opt_bool(l, "barrier", &o->barrier);
	opt_bool(l, "discard", &o->discard);
	opt_bool(l, "persistent", &o->persistent);
	opt_uint(l, "batch", 1, 4096, &o->batch);
	opt_bool(l, "online-resize", &o->online_resize);
	opt_uint(l, "nbd-connect-timeout", 1, 60, &o->nbd_timeout);
	opt_uint(l, "nbd-reconnect-delay", 100, 60000, &o->nbd_retry);
	opt_uint(l, "nbd-request-timeout", 0, 3600, &o->nbd_request_timeout);

	{
		unsigned int ss = o->file_sector_size;

		opt_uint(l, "file-sector-size", 512, 4096, &ss);
		if (ss == 512 || ss == 4096)
			o->file_sector_size = ss;
		else
			loader_warn(l, "file-sector-size",
				    loader_get(l, "file-sector-size"),
				    "not 512 or 4096");
	}
	/* Indirect requests: at least what a direct request carries. */
	if (o->max_indirect_segments &&
	    o->max_indirect_segments <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
		o->max_indirect_segments = 0;
}

/* vbd_options_load: the caller's getter and warning, without a context. */
struct plain {
	vbd_option_getter *get;
	void (*warn)(const char *key, const char *value, const char *why);
};

static const char *plain_get(void *ctx, const char *key)
{
	return ((struct plain *)ctx)->get(key);
}

static void plain_warn(void *ctx, const char *key, const char *value,
		       const char *why)
{
	struct plain *p = ctx;

	if (p->warn)
		p->warn(key, value, why);
}

void vbd_options_load(struct vbd_options *o, vbd_option_getter *get,
		      void (*warn)(const char *key, const char *value,
				   const char *why))
{
	struct plain p = { get, warn };
	struct loader l = { plain_get, plain_warn, &p };

	load(o, get ? &l : NULL);
}

/*
 * vbd_option_check: a load in which only the key checked is set. The
 * loader asks for every key it knows, so a key it never asked for is
 * unknown; the first warning is why the value is bad.
 */
struct one {
	const char *key, *value;
	bool known, bad;
	char *why;
	size_t why_size;
};

static const char *one_get(void *ctx, const char *key)
{
	struct one *c = ctx;

	if (strcmp(key, c->key))
		return NULL;
	c->known = true;
	return c->value;
}

static void one_warn(void *ctx, const char *key, const char *value,
		     const char *why)
{
	struct one *c = ctx;

	(void)key;
	(void)value;
	if (!c->bad && c->why_size)
		snprintf(c->why, c->why_size, "%s", why);
	c->bad = true;
}

int vbd_option_check(const char *key, const char *value, char *why,
		     size_t why_size)
{
	struct one c = { key, value, false, false, why, why_size };
	struct loader l = { one_get, one_warn, &c };
	struct vbd_options o;

	load(&o, &l);
	if (!c.known && why_size)
		snprintf(why, why_size, "unknown key");
	return c.known && !c.bad ? 0 : -1;
}
