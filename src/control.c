/* SPDX-License-Identifier: MIT */
/*
 * Control socket server. The socket is 0600 in the run directory and
 * every peer's credentials are checked too, so a mode mistake in a
 * custom run-dir does not open it to other users.
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "control.h"
#include "device.h"
#include "log.h"
#include "metrics.h"

#define MAX_CLIENTS 16
#define MAX_REQUEST 512
#define CLIENT_TIMEOUT 5.0
/* Out of fds: how long the listener rests, how often that is logged. */
#define ACCEPT_BACKOFF 0.5
#define ACCEPT_LOG_INTERVAL 60.0

struct client {
	int fd;
	ev_io io;
	ev_timer timer;
	char in[MAX_REQUEST];
	size_t in_len;
	struct buf out;
	size_t out_off;
};

static int listen_fd = -1;
static ev_io listen_w;
static ev_timer backoff_w;
static ev_tstamp last_accept_log = -ACCEPT_LOG_INTERVAL;
static bool accept_failing;
static char *socket_path;
static struct client *clients[MAX_CLIENTS];
static struct ev_loop *loop;

static void client_free(struct client *c)
{
	for (unsigned int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i] == c)
			clients[i] = NULL;
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->fd);
	buf_free(&c->out);
	free(c);
}

static void handle_request(struct client *c, char *line)
{
	char *words[4], *save = NULL, *w;
	unsigned int n = 0;
	bool json = false;
	struct buf *out = &c->out, body = { 0 };
	int rc = 0;

	for (w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (!strcmp(w, "json"))
			json = true;
		else if (n < 4)
			words[n++] = w;
	}
	if (n == 1 && !strcmp(words[0], "list"))
		rc = devices_report(&body, REPORT_LIST, NULL, json);
	else if (n == 1 && !strcmp(words[0], "stats"))
		rc = devices_report(&body, REPORT_STATS, NULL, json);
	else if (n == 1 && !strcmp(words[0], "metrics"))
		metrics_report(&body, json);
	else if (n == 2 && !strcmp(words[0], "show")) {
		if (devices_report(&body, REPORT_SHOW, words[1], json)) {
			buf_printf(out, "error: no device %s\n", words[1]);
			buf_free(&body);
			return;
		}
	} else {
		buf_printf(out, "error: unknown request\n");
		return;
	}
	if (rc || body.failed)
		buf_printf(out, "error: out of memory\n");
	else
		buf_printf(out, "ok\n%.*s", (int)body.len, body.data ? body.data : "");
	buf_free(&body);
}

static void client_write(struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = write(c->fd, c->out.data + c->out_off,
				  c->out.len - c->out_off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->out_off += n;
	}
	client_free(c);
}

static void client_ready(struct ev_loop *l, ev_io *io, int revents)
{
	struct client *c = io->data;
	char *nl;
	ssize_t n;

	if (c->out.len || c->out.failed) {
		client_write(c);
		return;
	}
	n = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->in_len += n;
	c->in[c->in_len] = '\0';
	nl = memchr(c->in, '\n', c->in_len);
	/* strchr and strtok would stop at a NUL and wait for more. */
	if (memchr(c->in, '\0', nl ? (size_t)(nl - c->in) : c->in_len)) {
		buf_printf(&c->out, "error: NUL byte in the request\n");
		goto reply;
	}
	if (!nl) {
		if (c->in_len == sizeof(c->in) - 1) {
			buf_printf(&c->out, "error: request too long\n");
			goto reply;
		}
		return;
	}
	*nl = '\0';
	handle_request(c, c->in);
reply:
	if (c->out.failed) {
		client_free(c);
		return;
	}
	ev_io_stop(l, io);
	ev_io_set(io, c->fd, EV_WRITE);
	ev_io_start(l, io);
	client_write(c);
}

static void client_timeout(struct ev_loop *l, ev_timer *t, int revents)
{
	client_free(t->data);
}

/* A refused client learns why; best effort, it may be gone already. */
static void refuse(int fd, const char *why)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "error: %s\n", why);

	if (send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		xbd_log(XBD_DEBUG, "control: refusal not sent: %s", strerror(errno));
	close(fd);
}

static void resume_accepting(struct ev_loop *l, ev_timer *t, int revents)
{
	ev_io_start(l, &listen_w);
}

/*
 * accept failed for want of fds or memory: the client stays queued and
 * the listener readable, so retrying at once would spin. Rest a while;
 * say so once a minute at most.
 */
static void back_off(struct ev_loop *l, int err)
{
	if (ev_now(l) - last_accept_log >= ACCEPT_LOG_INTERVAL) {
		xbd_log(XBD_ERROR, "control: cannot accept a client: %s "
			"(retrying every %g s; said at most once a minute)",
			strerror(err), ACCEPT_BACKOFF);
		last_accept_log = ev_now(l);
	}
	accept_failing = true;
	ev_io_stop(l, &listen_w);
	ev_timer_set(&backoff_w, ACCEPT_BACKOFF, 0);
	ev_timer_start(l, &backoff_w);
}

static void accept_client(struct ev_loop *l, ev_io *io, int revents)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *c;
	unsigned int slot;
	int fd;

	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		/* Nothing queued, or a client that left: nothing to do. */
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return;
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM, or worse: never spin. */
		back_off(l, errno);
		return;
	}
	if (accept_failing) {
		xbd_log(XBD_INFO, "control: accepting clients again");
		accept_failing = false;
	}
	/*
	 * Root, or the daemon's own user: a daemon run by a user (the test
	 * suite on a package build daemon, a driver domain without root) is
	 * that user's to control, and nobody else's.
	 */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		xbd_log(XBD_WARN, "control: refused a client with uid %d",
			(int)cred.uid);
		refuse(fd, "permission denied: the control socket is for root");
		return;
	}
	for (slot = 0; slot < MAX_CLIENTS && clients[slot]; slot++)
		;
	c = slot < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		refuse(fd, slot < MAX_CLIENTS ? "out of memory" :
		       "too many control clients, try again");
		return;
	}
	clients[slot] = c;
	c->fd = fd;
	ev_io_init(&c->io, client_ready, fd, EV_READ);
	c->io.data = c;
	ev_io_start(l, &c->io);
	ev_timer_init(&c->timer, client_timeout, CLIENT_TIMEOUT, 0);
	c->timer.data = c;
	ev_timer_start(l, &c->timer);
}

int control_open(struct ev_loop *l, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	loop = l;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		xbd_log(XBD_ERROR, "control socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0)
		goto fail;
	/* We hold the lock file: a socket left here is a dead daemon's. */
	unlink(path);
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0600) || listen(listen_fd, 8))
		goto fail;
	socket_path = strdup(path);
	ev_io_init(&listen_w, accept_client, listen_fd, EV_READ);
	ev_io_start(loop, &listen_w);
	ev_timer_init(&backoff_w, resume_accepting, ACCEPT_BACKOFF, 0);
	return 0;
fail:
	xbd_log(XBD_ERROR, "control socket %s: %s", path, strerror(errno));
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	return -1;
}

void control_close(struct ev_loop *l)
{
	for (unsigned int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i])
			client_free(clients[i]);
	if (listen_fd >= 0) {
		ev_io_stop(l, &listen_w);
		ev_timer_stop(l, &backoff_w);
		close(listen_fd);
		listen_fd = -1;
	}
	if (socket_path)
		unlink(socket_path);
	free(socket_path);
	socket_path = NULL;
}
