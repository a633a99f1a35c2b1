/* SPDX-License-Identifier: MIT */
/*
 * I/O engine: a small pool of threads doing synchronous preadv/pwritev,
 * fdatasync and discards. Completions are handed back to the loop thread
 * through an eventfd; op->done never runs on a pool thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <ev.h>

#include "vbd/io.h"

struct threads_engine {
	struct vbd_io_engine base;
	struct ev_loop *loop;
	int fd;
	bool is_block;
	int efd;
	ev_io efd_watcher;

	/* Loop thread only: submitted, not yet kicked. */
	struct vbd_io_op *batch_head, **batch_tail;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vbd_io_op *queue_head, **queue_tail;	/* to do */
	struct vbd_io_op *done_head, **done_tail;	/* done, res set */
	bool stop;
	unsigned int nthreads;
	pthread_t *threads;
};

static void *pool_thread(void *arg)
{
	struct threads_engine *t = arg;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		struct vbd_io_op *op;
		bool wake;

		while (!t->queue_head && !t->stop)
			pthread_cond_wait(&t->cond, &t->lock);
		if (!t->queue_head)
			break;
		op = t->queue_head;
		t->queue_head = op->next;
		if (!t->queue_head)
			t->queue_tail = &t->queue_head;
		pthread_mutex_unlock(&t->lock);

		op->res = vbd_io_sync(t->fd, t->is_block, op);

		pthread_mutex_lock(&t->lock);
		op->next = NULL;
		wake = !t->done_head;
		*t->done_tail = op;
		t->done_tail = &op->next;
		if (wake) {
			uint64_t one = 1;
			ssize_t n = write(t->efd, &one, sizeof(one));

			(void)n;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void on_eventfd(struct ev_loop *loop, ev_io *w, int revents)
{
	struct threads_engine *t = w->data;
	struct vbd_io_op *op, *next;
	uint64_t v;
	ssize_t n = read(t->efd, &v, sizeof(v));

	(void)n;
	pthread_mutex_lock(&t->lock);
	op = t->done_head;
	t->done_head = NULL;
	t->done_tail = &t->done_head;
	pthread_mutex_unlock(&t->lock);
	for (; op; op = next) {
		next = op->next;
		t->base.complete(t->base.io, op, (int)op->res);
	}
	t->base.batch_end(t->base.io);
}

static bool threads_supports(struct vbd_io_engine *e, enum vbd_io_kind kind)
{
	return true;
}

static void threads_submit(struct vbd_io_engine *e, struct vbd_io_op *op)
{
	struct threads_engine *t = (struct threads_engine *)e;

	op->next = NULL;
	*t->batch_tail = op;
	t->batch_tail = &op->next;
}

static void threads_kick(struct vbd_io_engine *e)
{
	struct threads_engine *t = (struct threads_engine *)e;

	if (!t->batch_head)
		return;
	pthread_mutex_lock(&t->lock);
	*t->queue_tail = t->batch_head;
	t->queue_tail = t->batch_tail;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	t->batch_head = NULL;
	t->batch_tail = &t->batch_head;
}

static void threads_destroy(struct vbd_io_engine *e)
{
	struct threads_engine *t = (struct threads_engine *)e;
	unsigned int i;

	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	for (i = 0; i < t->nthreads; i++)
		pthread_join(t->threads[i], NULL);
	ev_io_stop(t->loop, &t->efd_watcher);
	close(t->efd);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	free(t->threads);
	free(t);
}

static const struct vbd_io_engine_ops threads_ops = {
	.name = "threads",
	.supports = threads_supports,
	.submit = threads_submit,
	.kick = threads_kick,
	.destroy = threads_destroy,
};

struct vbd_io_engine *vbd_io_threads_create(struct ev_loop *loop,
					    const struct vbd_io_config *cfg)
{
	struct threads_engine *t = calloc(1, sizeof(*t));
	sigset_t all, old;
	int err = 0;

	if (!t)
		return NULL;
	t->base.ops = &threads_ops;
	t->loop = loop;
	t->fd = cfg->fd;
	t->is_block = cfg->is_block;
	t->batch_tail = &t->batch_head;
	t->queue_tail = &t->queue_head;
	t->done_tail = &t->done_head;
	t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->efd < 0) {
		err = errno;
		free(t);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->threads = calloc(cfg->threads ? cfg->threads : 1,
			    sizeof(*t->threads));
	if (!t->threads) {
		err = ENOMEM;
		goto fail;
	}
	/* Signals are the loop thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; t->nthreads < (cfg->threads ? cfg->threads : 1); t->nthreads++) {
		err = pthread_create(&t->threads[t->nthreads], NULL,
				     pool_thread, t);
		if (err)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err && t->nthreads == 0)
		goto fail;
	ev_io_init(&t->efd_watcher, on_eventfd, t->efd, EV_READ);
	t->efd_watcher.data = t;
	ev_io_start(loop, &t->efd_watcher);
	return &t->base;

fail:
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	free(t->threads);
	close(t->efd);
	free(t);
	errno = err;
	return NULL;
}
