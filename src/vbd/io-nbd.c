/* SPDX-License-Identifier: MIT */
/*
 * I/O engine: an export of an NBD server, through libnbd's asynchronous
 * API on the worker's libev loop. One connection; every operation is one
 * NBD command (read, write, flush, trim) in flight on it, as many at once
 * as the frontend sends. No threads: one ev_io follows the socket in the
 * direction libnbd asks for (nbd_aio_get_direction) and calls
 * nbd_aio_notify_read/write.
 *
 * libnbd calls a command's completion callback at most once: when the
 * server answers, or with an error when the connection dies, but not when
 * nbd_close() drops a live connection; its free callback comes exactly
 * once, after the completion if there was one. So the completion records
 * the result, and the free callback fails a command that got none. Neither
 * may call nbd_*: results are handed to io.c from the loop, never from
 * inside vbd_io_submit/kick, so that each request is answered once.
 *
 * A lost connection (the server went away, or answered garbage) fails the
 * commands in flight (libnbd completes them with an error) and whatever
 * waits; while it is down, new operations fail at once (BLKIF_RSP_ERROR)
 * and a new connection is tried every nbd-reconnect-delay, each attempt
 * given nbd-connect-timeout. Nothing is retried on the new connection: an
 * error the frontend saw is not undone behind its back. A server that
 * keeps its socket open but answers nothing for nbd-request-timeout
 * (when set) is treated as lost, so that its requests fail instead of
 * hanging the guest's disk.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <xenbackd/class.h>

#include "vbd/io.h"

#if HAVE_LIBNBD
#include <libnbd.h>

/* op->res while libnbd owns the command. */
#define NBD_ISSUED LONG_MIN

enum nbd_state {
	NBD_CONNECTING,		/* ops wait on pending */
	NBD_READY,		/* ops are issued at kick */
	NBD_DOWN,		/* ops fail; retry_timer runs */
};

struct nbd_engine {
	struct vbd_io_engine base;
	struct ev_loop *loop;
	char *uri;
	uint64_t size;			/* the disk's, as the frontend knows */
	double timeout, retry;		/* seconds */
	double stall;			/* no answer this long: lost; 0 off */

	struct nbd_handle *h;		/* NULL while down */
	enum nbd_state state;
	bool can_flush, can_trim, readonly;
	bool was_ready;			/* connected once: say "reconnected" */
	bool outage_logged;		/* one warning per outage */
	char why[200];			/* what libnbd said when it failed */

	ev_io sock;
	int sock_fd, sock_events;	/* what sock watches */
	ev_timer connect_timer;		/* an attempt's deadline */
	ev_timer retry_timer;		/* the next attempt */
	ev_timer deliver_timer;		/* completions found outside on_sock */
	ev_timer stall_timer;		/* commands out, no answer */

	struct vbd_io_op *pending_head, **pending_tail;	/* not issued */
	struct vbd_io_op *done_head, **done_tail;	/* res set */
	unsigned int issued;		/* in libnbd's hands */
};

static void append(struct vbd_io_op ***tail, struct vbd_io_op *op)
{
	op->next = NULL;
	**tail = op;
	*tail = &op->next;
}

/* Records op's result; io.c hears of it at the next deliver(). */
static void finish(struct nbd_engine *n, struct vbd_io_op *op, long res)
{
	op->res = res;
	append(&n->done_tail, op);
}

/* Completions to hand over, found where io.c must not be called. */
static void deliver_later(struct nbd_engine *n)
{
	if (n->done_head && !ev_is_active(&n->deliver_timer)) {
		ev_timer_set(&n->deliver_timer, 0., 0.);
		ev_timer_start(n->loop, &n->deliver_timer);
	}
}

static bool is_rw(const struct vbd_io_op *op)
{
	return op->kind == VBD_IO_READ || op->kind == VBD_IO_WRITE;
}

/* A read's data from its bounce buffer into the frontend's pages. */
static void scatter(struct vbd_io_op *op)
{
	const char *p = op->bounce;
	unsigned int i;

	for (i = 0; i < op->iovcnt; i++) {
		memcpy(op->iov[i].iov_base, p, op->iov[i].iov_len);
		p += op->iov[i].iov_len;
	}
}

/*
 * The stall timer runs while commands are out on a ready connection, and
 * starts again at each answer.
 */
static void watch_stall(struct nbd_engine *n, bool answered)
{
	if (n->stall <= 0 || n->state != NBD_READY || !n->issued) {
		ev_timer_stop(n->loop, &n->stall_timer);
		return;
	}
	if (answered || !ev_is_active(&n->stall_timer)) {
		n->stall_timer.repeat = n->stall;
		ev_timer_again(n->loop, &n->stall_timer);
	}
}

static void deliver(struct nbd_engine *n)
{
	struct vbd_io_op *op = n->done_head, *next;

	ev_timer_stop(n->loop, &n->deliver_timer);
	if (!op)
		return;
	watch_stall(n, true);
	n->done_head = NULL;
	n->done_tail = &n->done_head;
	for (; op; op = next) {
		next = op->next;
		if (op->bounce) {
			if (op->kind == VBD_IO_READ && op->res > 0)
				scatter(op);
			free(op->bounce);
			op->bounce = NULL;
		}
		n->base.complete(n->base.io, op, (int)op->res);
	}
	n->base.batch_end(n->base.io);
}

static void on_deliver_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	deliver(t->data);
}

/* libnbd: the command ended (or the connection did). No nbd_* here. */
static int on_command(void *user_data, int *error)
{
	struct vbd_io_op *op = user_data;
	struct nbd_engine *n = op->owner;

	if (op->res != NBD_ISSUED)
		return 1;	/* not ours any more: answered once only */
	n->issued--;
	if (*error)
		finish(n, op, -*error);
	else
		finish(n, op, is_rw(op) ? (long)op->length : 0);
	return 1;
}

/*
 * libnbd is done with the command: right after on_command, or when
 * nbd_close dropped it unanswered, or when it could not be issued.
 */
static void on_command_free(void *user_data)
{
	struct vbd_io_op *op = user_data;
	struct nbd_engine *n = op->owner;

	if (op->res != NBD_ISSUED)
		return;
	n->issued--;
	finish(n, op, -ENOTCONN);
}

/* Keeps libnbd's message of the failure that just happened. */
static void note_error(struct nbd_engine *n)
{
	const char *m = nbd_get_error();

	snprintf(n->why, sizeof(n->why), "%s", m && m[0] ? m : "failed");
}

/* Follows the socket in the direction libnbd wants. */
static void watch_socket(struct nbd_engine *n)
{
	int fd = -1, events = 0;

	if (n->h) {
		unsigned int dir = nbd_aio_get_direction(n->h);

		fd = nbd_aio_get_fd(n->h);
		if (dir & LIBNBD_AIO_DIRECTION_READ)
			events |= EV_READ;
		if (dir & LIBNBD_AIO_DIRECTION_WRITE)
			events |= EV_WRITE;
	}
	if (fd < 0)
		events = 0;
	if (fd == n->sock_fd && events == n->sock_events)
		return;
	ev_io_stop(n->loop, &n->sock);
	n->sock_fd = fd;
	n->sock_events = events;
	if (events) {
		ev_io_set(&n->sock, fd, events);
		ev_io_start(n->loop, &n->sock);
	}
}

static void fail_pending(struct nbd_engine *n, long res)
{
	struct vbd_io_op *op = n->pending_head, *next;

	n->pending_head = NULL;
	n->pending_tail = &n->pending_head;
	for (; op; op = next) {
		next = op->next;
		finish(n, op, res);
	}
}

/*
 * The connection is gone (or never came): close it, which completes the
 * commands in flight with an error; fail what waits; try again later.
 */
static void lost(struct nbd_engine *n)
{
	if (!n->outage_logged) {
		xbd_log(XBD_WARN, "NBD %s: %s: %s; requests fail until it is "
			"back (retrying every %.1f s)", n->uri,
			n->state == NBD_READY ? "connection lost"
					      : "cannot connect",
			n->why[0] ? n->why : "closed by the server", n->retry);
		n->outage_logged = true;
	}
	n->why[0] = 0;
	ev_timer_stop(n->loop, &n->connect_timer);
	ev_timer_stop(n->loop, &n->stall_timer);
	ev_io_stop(n->loop, &n->sock);
	n->sock_fd = -1;
	n->sock_events = 0;
	if (n->h) {
		nbd_close(n->h);
		n->h = NULL;
	}
	if (n->issued) {
		/* Not expected: libnbd frees every command at close. */
		xbd_log(XBD_ERROR, "NBD %s: %u commands not completed by libnbd",
			n->uri, n->issued);
		n->issued = 0;
	}
	fail_pending(n, -EIO);
	n->state = NBD_DOWN;
	ev_timer_set(&n->retry_timer, n->retry, 0.);
	ev_timer_start(n->loop, &n->retry_timer);
}

static void issue(struct nbd_engine *n, struct vbd_io_op *op)
{
	nbd_completion_callback cb = { .callback = on_command,
				       .user_data = op,
				       .free = on_command_free };
	void *buf = NULL;
	int64_t r = 0;
	unsigned int i;

	op->owner = n;
	op->bounce = NULL;
	if (is_rw(op)) {
		if (op->length == 0 || op->iovcnt == 0) {
			finish(n, op, 0);
			return;
		}
		if (op->iovcnt == 1) {
			buf = op->iov[0].iov_base;
		} else {
			/* libnbd takes one buffer: gather the segments. */
			char *p = op->bounce = malloc(op->length);

			if (!p) {
				finish(n, op, -ENOMEM);
				return;
			}
			buf = p;
			if (op->kind == VBD_IO_WRITE)
				for (i = 0; i < op->iovcnt; p += op->iov[i].iov_len,
							    i++)
					memcpy(p, op->iov[i].iov_base,
					       op->iov[i].iov_len);
		}
	}
	switch (op->kind) {
	case VBD_IO_FLUSH:
		if (!n->can_flush) {
			/* No NBD_FLAG_SEND_FLUSH: writes are stable. */
			finish(n, op, 0);
			return;
		}
		break;
	case VBD_IO_DISCARD:
		if (!n->can_trim || n->readonly) {
			finish(n, op, -EOPNOTSUPP);
			return;
		}
		break;
	case VBD_IO_SECURE_DISCARD:
		finish(n, op, -EOPNOTSUPP);
		return;
	case VBD_IO_WRITE:
		if (n->readonly) {
			free(op->bounce);
			op->bounce = NULL;
			finish(n, op, -EROFS);
			return;
		}
		break;
	default:
		break;
	}

	op->res = NBD_ISSUED;
	n->issued++;
	switch (op->kind) {
	case VBD_IO_READ:
		r = nbd_aio_pread(n->h, buf, op->length, op->offset, cb, 0);
		break;
	case VBD_IO_WRITE:
		r = nbd_aio_pwrite(n->h, buf, op->length, op->offset, cb, 0);
		break;
	case VBD_IO_FLUSH:
		r = nbd_aio_flush(n->h, cb, 0);
		break;
	case VBD_IO_DISCARD:
		r = nbd_aio_trim(n->h, op->length, op->offset, cb, 0);
		break;
	default:
		break;
	}
	if (r < 0) {
		note_error(n);
		if (op->res == NBD_ISSUED) {
			/* Refused before it was sent, not yet freed. */
			int err = nbd_get_errno();

			n->issued--;
			finish(n, op, -(err ? err : EIO));
		}
	}
}

/* After any call into libnbd: did the connection come or go? */
static void progress(struct nbd_engine *n);

static void connected(struct nbd_engine *n)
{
	int64_t size = nbd_get_size(n->h);
	struct vbd_io_op *op, *next;

	if (size < 0 || (uint64_t)size < n->size) {
		snprintf(n->why, sizeof(n->why), "the export has %lld bytes, "
			 "the disk %llu", (long long)size,
			 (unsigned long long)n->size);
		lost(n);
		return;
	}
	ev_timer_stop(n->loop, &n->connect_timer);
	n->can_flush = nbd_can_flush(n->h) == 1;
	n->can_trim = nbd_can_trim(n->h) == 1;
	n->readonly = nbd_is_read_only(n->h) == 1;
	n->state = NBD_READY;
	if (n->was_ready || n->outage_logged)
		xbd_log(XBD_INFO, "NBD %s: connected again", n->uri);
	else
		xbd_log(XBD_DEBUG, "NBD %s: connected%s%s%s", n->uri,
			n->can_flush ? ", flush" : "",
			n->can_trim ? ", trim" : "",
			n->readonly ? ", read-only" : "");
	n->was_ready = true;
	n->outage_logged = false;
	op = n->pending_head;
	n->pending_head = NULL;
	n->pending_tail = &n->pending_head;
	for (; op && n->state == NBD_READY; op = next) {
		next = op->next;
		issue(n, op);
		if (n->h && (nbd_aio_is_dead(n->h) || nbd_aio_is_closed(n->h))) {
			/* The rest wait for lost() to fail them. */
			for (op = next; op; op = next) {
				next = op->next;
				append(&n->pending_tail, op);
			}
			break;
		}
	}
}

static void progress(struct nbd_engine *n)
{
	if (!n->h)
		return;
	if (nbd_aio_is_dead(n->h) || nbd_aio_is_closed(n->h))
		lost(n);
	else if (n->state == NBD_CONNECTING && nbd_aio_is_ready(n->h))
		connected(n);
	if (n->h && (nbd_aio_is_dead(n->h) || nbd_aio_is_closed(n->h)))
		lost(n);
	watch_socket(n);
	watch_stall(n, false);
}

static void on_sock(struct ev_loop *loop, ev_io *w, int revents)
{
	struct nbd_engine *n = w->data;

	if (n->h && (revents & EV_READ) && nbd_aio_notify_read(n->h) < 0)
		note_error(n);
	if (n->h && (revents & EV_WRITE) && !nbd_aio_is_dead(n->h) &&
	    nbd_aio_notify_write(n->h) < 0)
		note_error(n);
	progress(n);
	deliver(n);
}

static void connect_start(struct nbd_engine *n)
{
	n->state = NBD_CONNECTING;
	n->h = nbd_create();
	if (!n->h) {
		note_error(n);
		lost(n);
		deliver_later(n);
		return;
	}
	nbd_set_handle_name(n->h, "xenbackd");
	ev_timer_set(&n->connect_timer, n->timeout, 0.);
	ev_timer_start(n->loop, &n->connect_timer);
	if (nbd_aio_connect_uri(n->h, n->uri) < 0) {
		note_error(n);
		lost(n);
	}
	else
		progress(n);
	deliver_later(n);
}

static void on_connect_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct nbd_engine *n = t->data;

	if (n->state != NBD_CONNECTING)
		return;
	snprintf(n->why, sizeof(n->why), "no connection in %.1f s",
		 n->timeout);
	lost(n);
	deliver(n);
}

static void on_stall_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct nbd_engine *n = t->data;

	if (n->state != NBD_READY || !n->issued)
		return;
	snprintf(n->why, sizeof(n->why), "no answer in %.1f s to %u "
		 "command(s)", n->stall, n->issued);
	lost(n);
	deliver(n);
}

static void on_retry_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct nbd_engine *n = t->data;

	if (n->state == NBD_DOWN)
		connect_start(n);
}

static bool nbd_supports(struct vbd_io_engine *e, enum vbd_io_kind kind)
{
	return true;	/* what the server lacks is answered in issue() */
}

static void nbd_submit(struct vbd_io_engine *e, struct vbd_io_op *op)
{
	struct nbd_engine *n = (struct nbd_engine *)e;

	/* Whatever path it takes, deliver() sees no stale buffer. */
	op->bounce = NULL;
	op->owner = n;
	append(&n->pending_tail, op);
}

static void nbd_kick(struct vbd_io_engine *e)
{
	struct nbd_engine *n = (struct nbd_engine *)e;
	struct vbd_io_op *op, *next;

	switch (n->state) {
	case NBD_CONNECTING:
		return;		/* issued once connected */
	case NBD_DOWN:
		fail_pending(n, -EIO);
		break;
	case NBD_READY:
		op = n->pending_head;
		n->pending_head = NULL;
		n->pending_tail = &n->pending_head;
		for (; op; op = next) {
			next = op->next;
			if (n->state != NBD_READY) {
				finish(n, op, -EIO);
				continue;
			}
			issue(n, op);
			if (nbd_aio_is_dead(n->h) || nbd_aio_is_closed(n->h))
				lost(n);
		}
		progress(n);
		break;
	}
	deliver_later(n);
}

static void nbd_destroy(struct vbd_io_engine *e)
{
	struct nbd_engine *n = (struct nbd_engine *)e;

	ev_io_stop(n->loop, &n->sock);
	ev_timer_stop(n->loop, &n->connect_timer);
	ev_timer_stop(n->loop, &n->retry_timer);
	ev_timer_stop(n->loop, &n->deliver_timer);
	ev_timer_stop(n->loop, &n->stall_timer);
	if (n->h)
		nbd_close(n->h);
	free(n->uri);
	free(n);
}

static const struct vbd_io_engine_ops nbd_ops = {
	.name = "nbd",
	.supports = nbd_supports,
	.submit = nbd_submit,
	.kick = nbd_kick,
	.destroy = nbd_destroy,
};

struct vbd_io_engine *vbd_io_nbd_create(struct ev_loop *loop,
					const struct vbd_io_config *cfg)
{
	struct nbd_engine *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->uri = strdup(cfg->nbd_uri);
	if (!n->uri) {
		free(n);
		errno = ENOMEM;
		return NULL;
	}
	n->base.ops = &nbd_ops;
	n->loop = loop;
	n->size = cfg->nbd_size;
	n->timeout = (cfg->nbd_timeout_ms ? cfg->nbd_timeout_ms : 3000) / 1e3;
	n->retry = (cfg->nbd_retry_ms ? cfg->nbd_retry_ms : 1000) / 1e3;
	n->stall = cfg->nbd_request_timeout_ms / 1e3;
	n->pending_tail = &n->pending_head;
	n->done_tail = &n->done_head;
	n->sock_fd = -1;
	ev_init(&n->sock, on_sock);
	n->sock.data = n;
	ev_init(&n->connect_timer, on_connect_timer);
	n->connect_timer.data = n;
	ev_init(&n->retry_timer, on_retry_timer);
	n->retry_timer.data = n;
	ev_init(&n->deliver_timer, on_deliver_timer);
	n->deliver_timer.data = n;
	ev_init(&n->stall_timer, on_stall_timer);
	n->stall_timer.data = n;
	/* Operations queue until the connection is up. */
	connect_start(n);
	return &n->base;
}

#else

struct vbd_io_engine *vbd_io_nbd_create(struct ev_loop *loop,
					const struct vbd_io_config *cfg)
{
	errno = EPROTONOSUPPORT;
	return NULL;
}

#endif
