/* SPDX-License-Identifier: MIT */
/*
 * The block class's options, "vbd.<key> = value" in xenbackd.conf.
 * Checked line by line when the daemon reads its config; read into each
 * device in the main process (setup); the worker inherits the parsed copy.
 */
#ifndef VBD_OPTIONS_H
#define VBD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

enum vbd_io_engine_kind {
	VBD_ENGINE_AUTO,	/* io_uring, else threads */
	VBD_ENGINE_IO_URING,
	VBD_ENGINE_THREADS,
};

enum vbd_direct_io {
	VBD_DIRECT_AUTO,	/* O_DIRECT where the store takes it */
	VBD_DIRECT_ON,		/* O_DIRECT or fail */
	VBD_DIRECT_OFF,
};

enum vbd_grant_mode {
	VBD_GRANT_MAP,		/* map each request's grants (default) */
	VBD_GRANT_COPY,		/* grant copy through bounce buffers */
};

struct vbd_options {
	enum vbd_io_engine_kind io_engine;	/* io-engine */
	unsigned int io_threads;		/* io-threads */
	unsigned int io_depth;			/* io-depth: io_uring entries */
	enum vbd_direct_io direct_io;		/* direct-io */
	enum vbd_grant_mode grant_mode;		/* grant-mode */
	unsigned int max_ring_order;		/* max-ring-page-order */
	unsigned int max_queues;		/* max-queues */
	unsigned int max_indirect_segments;	/* max-indirect-segments */
	unsigned int max_persistent_grants;	/* max-persistent-grants */
	bool flush;				/* flush-cache */
	bool barrier;				/* barrier */
	bool discard;				/* discard */
	bool persistent;			/* persistent */
	unsigned int file_sector_size;		/* file-sector-size */
	unsigned int batch;			/* batch: requests per ring pass */
	bool online_resize;			/* online-resize */
	unsigned int nbd_timeout;		/* nbd-connect-timeout, s */
	unsigned int nbd_retry;			/* nbd-reconnect-delay, ms */
	unsigned int nbd_request_timeout;	/* nbd-request-timeout, s; 0 off */
};

/* Returns the value of option key, or NULL when unset. */
typedef const char *vbd_option_getter(const char *key);

/*
 * Fills *o with defaults overridden by the options found; a bad value is
 * reported through warn (once per option) and the default kept. get NULL:
 * the defaults. The daemon checked every option at start
 * (vbd_option_check), so a device's load has nothing left to warn about.
 */
void vbd_options_load(struct vbd_options *o, vbd_option_getter *get,
		      void (*warn)(const char *key, const char *value,
				   const char *why));

/*
 * Checks one "vbd.<key> = value" setting as vbd_options_load would read
 * it: 0 if taken, else -1 with why (of why_size bytes) saying why not,
 * "unknown key" or what the value should be. The class's check_option.
 */
int vbd_option_check(const char *key, const char *value, char *why,
		     size_t why_size);

#endif
