/* SPDX-License-Identifier: MIT */
/*
 * The backing store: a raw file or a block device, opened in the main
 * process (as root) and handed to the worker as an fd; or an export of an
 * NBD server, which the main process probes (size, flags) and the worker
 * connects to itself (io-nbd.c).
 */
#ifndef VBD_BACKING_H
#define VBD_BACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vbd/options.h"

struct vbd_backing {
	int fd;				/* -1 when closed */
	bool is_block;
	bool readonly;
	bool direct;			/* opened with O_DIRECT */
	dev_t rdev;			/* block devices */
	uint64_t size;			/* bytes, rounded to sector_size */
	unsigned int sector_size;	/* logical: 512 or 4096 */
	unsigned int physical_sector_size;
	bool discard;			/* holes can be punched / BLKDISCARD */
	bool discard_secure;		/* BLKSECDISCARD */
	unsigned int discard_granularity;	/* bytes */
	unsigned int discard_alignment;		/* bytes */
	bool cache;			/* has a volatile cache (flush useful) */
	char *nbd_uri;			/* NBD: the server's URI (fd is -1) */
};

/*
 * Strips a "file:", "phy:", "raw:" or "aio:" prefix from a params value.
 * Returns a pointer into s.
 */
const char *vbd_backing_path_from_params(const char *s);

/*
 * Opens path read-only or read-write, with O_DIRECT as options say, and
 * learns its size and properties. Returns 0, or an errno value with a
 * message in msg.
 */
int vbd_backing_open(struct vbd_backing *b, const char *path, bool readonly,
		     const struct vbd_options *o, char *msg, size_t msglen);

/* Whether a params value (after its prefix) names an NBD export. */
bool vbd_backing_is_nbd_uri(const char *s);

/*
 * Connects to the NBD server at uri, at most timeout_ms, to learn the
 * export's size and flags (read-only, flush, trim), and disconnects: the
 * worker connects again. readonly: the toolstack's mode lacks "w" (a
 * read-only export makes the device read-only too). 0, or an errno value
 * with a message in msg. Without libnbd in the build: EPROTONOSUPPORT.
 */
int vbd_backing_probe_nbd(struct vbd_backing *b, const char *uri,
			  bool readonly, unsigned int timeout_ms,
			  char *msg, size_t msglen);

/* The store's current size in bytes, rounded down to the sector size. */
int vbd_backing_current_size(const struct vbd_backing *b, uint64_t *size);

void vbd_backing_close(struct vbd_backing *b);

#endif
