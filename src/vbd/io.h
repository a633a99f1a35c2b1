/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous I/O on the backing store.
 *
 * One struct vbd_io per worker. Operations are queued with vbd_io_submit()
 * and started together by vbd_io_kick(); their completions are delivered
 * on the worker's libev loop (an eventfd), each through op->done, and after
 * each batch of completions through the batch_done hook, so that the
 * caller pushes responses and notifies once per batch.
 *
 * Engines: io_uring (liburing) and a small thread pool; the pool also
 * serves the operations io_uring has no opcode for (block-device discard).
 * An NBD export has its own engine (io-nbd.c, libnbd's asynchronous API on
 * the same loop): its discard is NBD_CMD_TRIM.
 * Short transfers are continued; a direct-I/O fd that refuses an access
 * pattern (EINVAL) is switched to buffered I/O once and the op retried.
 */
#ifndef VBD_IO_H
#define VBD_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vbd/options.h"

struct ev_loop;
struct vbd_io;

enum vbd_io_kind {
	VBD_IO_READ,
	VBD_IO_WRITE,
	VBD_IO_FLUSH,		/* fdatasync */
	VBD_IO_DISCARD,		/* punch a hole / BLKDISCARD */
	VBD_IO_SECURE_DISCARD,	/* BLKSECDISCARD */
};

struct vbd_io_op {
	enum vbd_io_kind kind;
	/* READ/WRITE: the buffers; the engine may advance them in place. */
	struct iovec *iov;
	unsigned int iovcnt;
	uint64_t offset;	/* bytes */
	uint64_t length;	/* DISCARD: bytes; READ/WRITE: set by submit */
	/* Called on the loop with result 0 or -errno. */
	void (*done)(struct vbd_io_op *op, int result);

	/* Engine-private. */
	struct vbd_io_op *next;
	uint64_t done_bytes;
	long res;
	bool retried;
	void *bounce;		/* NBD: the data of a scattered transfer */
	void *owner;		/* NBD: the engine, for libnbd's callback */
};

struct vbd_io_config {
	enum vbd_io_engine_kind engine;
	unsigned int threads;		/* thread pool size */
	unsigned int depth;		/* io_uring queue entries */
	int fd;				/* the backing store */
	bool is_block;			/* discard: BLKDISCARD, not fallocate */
	/* NBD (fd -1): the export, its size, the connection's timings. */
	const char *nbd_uri;
	uint64_t nbd_size;
	unsigned int nbd_timeout_ms;	/* a connection attempt, at most */
	unsigned int nbd_retry_ms;	/* between attempts */
	unsigned int nbd_request_timeout_ms;	/* no answer: lost; 0 off */
	/* After each batch of completions (responses to push). */
	void (*batch_done)(void *ctx);
	void *ctx;
};

/*
 * Creates the I/O context on loop. With VBD_ENGINE_AUTO, io_uring is tried
 * first and the thread pool used when it cannot be set up. NULL on error
 * (errno set).
 */
struct vbd_io *vbd_io_create(struct ev_loop *loop,
			     const struct vbd_io_config *cfg);
/* The engine in use: "io_uring", "threads" or "nbd". */
const char *vbd_io_engine_name(const struct vbd_io *io);
/* Queues op; it starts no later than the next vbd_io_kick(). */
void vbd_io_submit(struct vbd_io *io, struct vbd_io_op *op);
/* Starts everything queued. */
void vbd_io_kick(struct vbd_io *io);
/* Operations submitted and not completed. */
unsigned int vbd_io_in_flight(const struct vbd_io *io);
/*
 * Whether an operation submitted now waits for an earlier one to end:
 * as many in flight as io_uring's queue entries (or pool threads).
 */
bool vbd_io_full(const struct vbd_io *io);
/* Frees the context; nothing may be in flight. */
void vbd_io_destroy(struct vbd_io *io);

/* ---- Engines (internal to io*.c) ----------------------------------- */

struct vbd_io_engine;

struct vbd_io_engine_ops {
	const char *name;
	bool (*supports)(struct vbd_io_engine *e, enum vbd_io_kind kind);
	void (*submit)(struct vbd_io_engine *e, struct vbd_io_op *op);
	void (*kick)(struct vbd_io_engine *e);
	void (*destroy)(struct vbd_io_engine *e);
};

struct vbd_io_engine {
	const struct vbd_io_engine_ops *ops;
	/* Set by io.c: completions go here, on the loop thread. */
	void (*complete)(struct vbd_io *io, struct vbd_io_op *op, int res);
	void (*batch_end)(struct vbd_io *io);
	struct vbd_io *io;
};

/* Create an engine; NULL with errno on failure. */
struct vbd_io_engine *vbd_io_uring_create(struct ev_loop *loop,
					  const struct vbd_io_config *cfg);
struct vbd_io_engine *vbd_io_threads_create(struct ev_loop *loop,
					    const struct vbd_io_config *cfg);
/* Without libnbd in the build: NULL, errno EPROTONOSUPPORT. */
struct vbd_io_engine *vbd_io_nbd_create(struct ev_loop *loop,
					const struct vbd_io_config *cfg);

/* Runs op synchronously (thread pool): returns bytes done or -errno. */
long vbd_io_sync(int fd, bool is_block, struct vbd_io_op *op);

/* Advances op's iovecs past n transferred bytes. */
void vbd_io_advance(struct vbd_io_op *op, uint64_t n);

#endif
