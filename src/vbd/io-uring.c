/* SPDX-License-Identifier: MIT */
/*
 * I/O engine: io_uring (liburing). Reads and writes as readv/writev,
 * flushes as fdatasync, file discards as fallocate(PUNCH_HOLE); block
 * device discards have no opcode here and go to io.c's helper pool.
 * Completions wake the loop through a registered eventfd.
 */
#include <errno.h>
#include <stdlib.h>

#include "vbd/io.h"

#if HAVE_LIBURING

#include <limits.h>
#include <linux/falloc.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ev.h>
#include <liburing.h>

struct uring_engine {
	struct vbd_io_engine base;
	struct ev_loop *loop;
	struct io_uring ring;
	int fd;
	bool is_block;
	int efd;
	ev_io efd_watcher;
	unsigned int depth;	/* at most this many in the kernel */
	unsigned int in_ring;
	bool unsubmitted;	/* sqes prepared, io_uring_submit not called */
	/* Waiting for a place in the ring. */
	struct vbd_io_op *backlog_head, **backlog_tail;
};

static bool uring_supports(struct vbd_io_engine *e, enum vbd_io_kind kind)
{
	struct uring_engine *u = (struct uring_engine *)e;

	switch (kind) {
	case VBD_IO_READ:
	case VBD_IO_WRITE:
	case VBD_IO_FLUSH:
		return true;
	case VBD_IO_DISCARD:
		return !u->is_block;
	default:
		return false;
	}
}

static void uring_submit(struct vbd_io_engine *e, struct vbd_io_op *op)
{
	struct uring_engine *u = (struct uring_engine *)e;

	op->next = NULL;
	*u->backlog_tail = op;
	u->backlog_tail = &op->next;
}

static bool prep(struct uring_engine *u, struct io_uring_sqe *sqe,
		 struct vbd_io_op *op)
{
	unsigned int cnt = op->iovcnt > IOV_MAX ? IOV_MAX : op->iovcnt;
	uint64_t off = op->offset + op->done_bytes;

	switch (op->kind) {
	case VBD_IO_READ:
		io_uring_prep_readv(sqe, u->fd, op->iov, cnt, off);
		break;
	case VBD_IO_WRITE:
		io_uring_prep_writev(sqe, u->fd, op->iov, cnt, off);
		break;
	case VBD_IO_FLUSH:
		io_uring_prep_fsync(sqe, u->fd, IORING_FSYNC_DATASYNC);
		break;
	case VBD_IO_DISCARD:
		if (u->is_block)
			return false;
		io_uring_prep_fallocate(sqe, u->fd, FALLOC_FL_PUNCH_HOLE |
					FALLOC_FL_KEEP_SIZE, op->offset,
					op->length);
		break;
	default:
		return false;
	}
	io_uring_sqe_set_data(sqe, op);
	return true;
}

static void uring_kick(struct vbd_io_engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;

	while (u->backlog_head && u->in_ring < u->depth) {
		struct vbd_io_op *op = u->backlog_head;
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

		if (!sqe) {
			io_uring_submit(&u->ring);
			sqe = io_uring_get_sqe(&u->ring);
			if (!sqe)
				break;
		}
		u->backlog_head = op->next;
		if (!u->backlog_head)
			u->backlog_tail = &u->backlog_head;
		if (!prep(u, sqe, op)) {
			/* Should not happen (io.c routes by supports()). */
			io_uring_prep_nop(sqe);
			op->res = -EOPNOTSUPP;
			/* Tagged: the result is in op->res. */
			io_uring_sqe_set_data(sqe, (char *)op + 1);
		}
		u->in_ring++;
		u->unsubmitted = true;
	}
	if (u->unsubmitted) {
		int r;

		do
			r = io_uring_submit(&u->ring);
		while (r == -EINTR);
		u->unsubmitted = false;
	}
}

static void on_eventfd(struct ev_loop *loop, ev_io *w, int revents)
{
	struct uring_engine *u = w->data;
	struct io_uring_cqe *cqe;
	uint64_t v;
	ssize_t n = read(u->efd, &v, sizeof(v));

	(void)n;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		uintptr_t data = (uintptr_t)io_uring_cqe_get_data(cqe);
		struct vbd_io_op *op = (struct vbd_io_op *)(data & ~(uintptr_t)1);
		int res = (data & 1) ? (int)op->res : cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		u->in_ring--;
		u->base.complete(u->base.io, op, res);
	}
	/* Places freed in the ring: start what waited for them. */
	uring_kick(&u->base);
	u->base.batch_end(u->base.io);
}

static void uring_destroy(struct vbd_io_engine *e)
{
	struct uring_engine *u = (struct uring_engine *)e;

	ev_io_stop(u->loop, &u->efd_watcher);
	io_uring_queue_exit(&u->ring);
	close(u->efd);
	free(u);
}

static const struct vbd_io_engine_ops uring_ops = {
	.name = "io_uring",
	.supports = uring_supports,
	.submit = uring_submit,
	.kick = uring_kick,
	.destroy = uring_destroy,
};

struct vbd_io_engine *vbd_io_uring_create(struct ev_loop *loop,
					  const struct vbd_io_config *cfg)
{
	struct uring_engine *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return NULL;
	u->base.ops = &uring_ops;
	u->loop = loop;
	u->fd = cfg->fd;
	u->is_block = cfg->is_block;
	u->depth = cfg->depth ? cfg->depth : 256;
	u->backlog_tail = &u->backlog_head;
	r = io_uring_queue_init(u->depth, &u->ring, 0);
	if (r < 0) {
		free(u);
		errno = -r;
		return NULL;
	}
	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = io_uring_register_eventfd(&u->ring, u->efd);
	if (r < 0) {
		close(u->efd);
		goto fail;
	}
	ev_io_init(&u->efd_watcher, on_eventfd, u->efd, EV_READ);
	u->efd_watcher.data = u;
	ev_io_start(loop, &u->efd_watcher);
	return &u->base;

fail:
	io_uring_queue_exit(&u->ring);
	free(u);
	errno = -r;
	return NULL;
}

#else

struct vbd_io_engine *vbd_io_uring_create(struct ev_loop *loop,
					  const struct vbd_io_config *cfg)
{
	errno = ENOSYS;
	return NULL;
}

#endif
