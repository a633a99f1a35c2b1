/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous I/O: the engine-independent part (completion handling,
 * short transfers, the direct-I/O fallback, engine choice).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <xenbackd/class.h>

#include "vbd/io.h"

struct vbd_io {
	struct ev_loop *loop;
	struct vbd_io_config cfg;
	struct vbd_io_engine *primary;
	struct vbd_io_engine *helper;	/* thread pool for what primary lacks */
	unsigned int in_flight;
	unsigned int capacity;		/* in flight at once without waiting */
	bool primary_pending, helper_pending;	/* resubmitted, to kick */
};

void vbd_io_advance(struct vbd_io_op *op, uint64_t n)
{
	while (n && op->iovcnt) {
		if (n >= op->iov->iov_len) {
			n -= op->iov->iov_len;
			op->iov++;
			op->iovcnt--;
		} else {
			op->iov->iov_base = (char *)op->iov->iov_base + n;
			op->iov->iov_len -= n;
			n = 0;
		}
	}
	/* Skip empty iovecs so that engines never see a zero-length start. */
	while (op->iovcnt && op->iov->iov_len == 0) {
		op->iov++;
		op->iovcnt--;
	}
}

long vbd_io_sync(int fd, bool is_block, struct vbd_io_op *op)
{
	off_t off = (off_t)(op->offset + op->done_bytes);
	int cnt = op->iovcnt > IOV_MAX ? IOV_MAX : (int)op->iovcnt;
	uint64_t range[2] = { op->offset, op->length };
	ssize_t n;

	for (;;) {
		switch (op->kind) {
		case VBD_IO_READ:
			n = preadv(fd, op->iov, cnt, off);
			break;
		case VBD_IO_WRITE:
			n = pwritev(fd, op->iov, cnt, off);
			break;
		case VBD_IO_FLUSH:
			n = fdatasync(fd);
			break;
		case VBD_IO_DISCARD:
			if (is_block)
				n = ioctl(fd, BLKDISCARD, range);
			else
				n = fallocate(fd, FALLOC_FL_PUNCH_HOLE |
						  FALLOC_FL_KEEP_SIZE,
					      (off_t)op->offset,
					      (off_t)op->length);
			break;
		case VBD_IO_SECURE_DISCARD:
			n = is_block ? ioctl(fd, BLKSECDISCARD, range)
				     : (errno = EOPNOTSUPP, -1);
			break;
		default:
			errno = EINVAL;
			n = -1;
		}
		if (n >= 0)
			return (long)n;
		if (errno != EINTR)
			return -errno;
	}
}

static bool is_rw(const struct vbd_io_op *op)
{
	return op->kind == VBD_IO_READ || op->kind == VBD_IO_WRITE;
}

static void engine_submit(struct vbd_io *io, struct vbd_io_op *op)
{
	struct vbd_io_engine *e = io->primary;

	if (!e->ops->supports(e, op->kind) && io->helper) {
		e = io->helper;
		io->helper_pending = true;
	} else {
		io->primary_pending = true;
	}
	e->ops->submit(e, op);
}

/* O_DIRECT refused this access: go buffered for good (once per fd). */
static bool drop_direct(struct vbd_io *io)
{
	int fl = fcntl(io->cfg.fd, F_GETFL);

	if (fl < 0 || !(fl & O_DIRECT))
		return false;
	if (fcntl(io->cfg.fd, F_SETFL, fl & ~O_DIRECT) < 0)
		return false;
	xbd_log(XBD_WARN, "vbd: the backing store refused direct I/O "
		"(EINVAL); continuing with buffered I/O");
	return true;
}

static void on_complete(struct vbd_io *io, struct vbd_io_op *op, int res)
{
	if (is_rw(op)) {
		if (res == -EINVAL && !op->retried && drop_direct(io)) {
			op->retried = true;
			engine_submit(io, op);
			return;
		}
		if (res == 0 && op->done_bytes < op->length)
			res = -EIO;	/* end of file inside the range */
		if (res > 0) {
			op->done_bytes += (uint64_t)res;
			vbd_io_advance(op, (uint64_t)res);
			if (op->done_bytes < op->length && op->iovcnt) {
				engine_submit(io, op);
				return;
			}
			res = op->done_bytes == op->length ? 0 : -EIO;
		}
	} else if (res > 0) {
		res = 0;
	}
	io->in_flight--;
	op->done(op, res);
}

static void on_batch_end(struct vbd_io *io)
{
	vbd_io_kick(io);
	if (io->cfg.batch_done)
		io->cfg.batch_done(io->cfg.ctx);
}

struct vbd_io *vbd_io_create(struct ev_loop *loop,
			     const struct vbd_io_config *cfg)
{
	struct vbd_io *io = calloc(1, sizeof(*io));
	int err = 0;

	if (!io)
		return NULL;
	io->loop = loop;
	io->cfg = *cfg;
	if (cfg->nbd_uri) {
		/* An NBD export: its engine or nothing. */
		io->primary = vbd_io_nbd_create(loop, cfg);
		if (!io->primary) {
			err = errno;
			free(io);
			errno = err;
			return NULL;
		}
	} else if (cfg->engine != VBD_ENGINE_THREADS) {
		io->primary = vbd_io_uring_create(loop, cfg);
		if (!io->primary) {
			err = errno;
			xbd_log(cfg->engine == VBD_ENGINE_IO_URING ? XBD_WARN
								    : XBD_INFO,
				"vbd: io_uring unavailable (%s), using the "
				"thread pool", strerror(err));
		}
	}
	if (!io->primary)
		io->primary = vbd_io_threads_create(loop, cfg);
	if (!io->primary) {
		err = errno;
		free(io);
		errno = err;
		return NULL;
	}
	io->capacity = strcmp(io->primary->ops->name, "threads") ?
		       cfg->depth : cfg->threads;
	io->primary->io = io;
	io->primary->complete = on_complete;
	io->primary->batch_end = on_batch_end;
	/* A small pool for what the primary engine has no operation for. */
	if (cfg->is_block && !cfg->nbd_uri &&
	    (!io->primary->ops->supports(io->primary, VBD_IO_DISCARD) ||
	     !io->primary->ops->supports(io->primary,
					 VBD_IO_SECURE_DISCARD))) {
		struct vbd_io_config c = *cfg;

		c.threads = 1;
		io->helper = vbd_io_threads_create(loop, &c);
		if (!io->helper) {
			err = errno;
			io->primary->ops->destroy(io->primary);
			free(io);
			errno = err;
			return NULL;
		}
		io->helper->io = io;
		io->helper->complete = on_complete;
		io->helper->batch_end = on_batch_end;
	}
	return io;
}

const char *vbd_io_engine_name(const struct vbd_io *io)
{
	return io->primary->ops->name;
}

void vbd_io_submit(struct vbd_io *io, struct vbd_io_op *op)
{
	uint64_t len = 0;
	unsigned int i;

	op->next = NULL;
	op->done_bytes = 0;
	op->retried = false;
	if (is_rw(op)) {
		for (i = 0; i < op->iovcnt; i++)
			len += op->iov[i].iov_len;
		op->length = len;
	}
	io->in_flight++;
	if (is_rw(op) && len == 0) {
		/* Nothing to transfer: complete at the next batch end. */
		vbd_io_advance(op, 0);
	}
	engine_submit(io, op);
}

void vbd_io_kick(struct vbd_io *io)
{
	if (io->primary_pending) {
		io->primary_pending = false;
		io->primary->ops->kick(io->primary);
	}
	if (io->helper && io->helper_pending) {
		io->helper_pending = false;
		io->helper->ops->kick(io->helper);
	}
}

unsigned int vbd_io_in_flight(const struct vbd_io *io)
{
	return io->in_flight;
}

bool vbd_io_full(const struct vbd_io *io)
{
	return io->in_flight >= io->capacity;
}

void vbd_io_destroy(struct vbd_io *io)
{
	if (!io)
		return;
	if (io->helper)
		io->helper->ops->destroy(io->helper);
	io->primary->ops->destroy(io->primary);
	free(io);
}
