/* SPDX-License-Identifier: MIT */
/* The test xenstored: the protocol core (server.h) on unix sockets, one
 * listening socket per domain, in a single-threaded epoll loop.
 *
 *   xenstored --socket-dir DIR [--pid-file FILE] [--ready-fd FD]
 *             [--max-pending-events N] [--max-output-bytes N]
 *             [--max-outstanding N] [--verbose]
 *
 * A connection to DIR/<domid> acts as that domain. DIR/0 exists from the
 * start; DIR/<domid> appears when the domain is introduced (XS_INTRODUCE)
 * and goes when it is released. The daemon exits on SIGTERM/SIGINT, or
 * when DIR disappears (its simulation was cleaned up without it). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "domain.h"
#include "server.h"

#define READ_CHUNK 16384

enum kind { LISTENER, CLIENT, SIGNALS };

struct listener {
	enum kind kind;
	struct listener *next;
	int fd;
	unsigned domid;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct client {
	enum kind kind;
	struct client *prev, *next;
	int fd;
	uint32_t events;	/* registered with epoll */
	bool gone;		/* hung up, or a read failed */
	struct conn *conn;
	/* Bytes read but not yet handled (waiting for replies to drain). */
	char *rbuf;
	size_t rstart, rend;
};

struct loop {
	int epfd;
	enum kind signal_kind;
	int sigfd;
	struct server *srv;
	const char *sockdir;
	struct listener *listeners;
	struct client *clients;
	bool stop;
};

static void logmsg(struct loop *loop, const char *fmt, const char *arg,
		   int err)
{
	server_log(loop->srv, fmt, arg, strerror(err));
}

static int listen_domain(void *arg, unsigned domid)
{
	struct loop *loop = arg;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	struct listener *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return ENOMEM;
	l->kind = LISTENER;
	l->domid = domid;
	if (snprintf(l->path, sizeof(l->path), "%s/%u", loop->sockdir,
		     domid) >= (int)sizeof(l->path)) {
		free(l);
		return ENAMETOOLONG;
	}
	memcpy(addr.sun_path, l->path, sizeof(l->path));
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		goto fail;
	unlink(l->path);
	if (bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(l->fd, 128))
		goto fail;
	ev.data.ptr = l;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, l->fd, &ev))
		goto fail;
	l->next = loop->listeners;
	loop->listeners = l;
	return 0;
fail:
	err = errno;
	logmsg(loop, "cannot listen on %s: %s", l->path, err);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	return err;
}

static void close_listener(struct loop *loop, struct listener *l)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
	unlink(l->path);
	free(l);
}

static void unlisten_domain(void *arg, unsigned domid)
{
	struct loop *loop = arg;

	for (struct listener **p = &loop->listeners; *p; p = &(*p)->next) {
		if ((*p)->domid == domid) {
			struct listener *l = *p;

			*p = l->next;
			close_listener(loop, l);
			return;
		}
	}
}

static const struct server_hooks hooks = {
	.domain_introduced = listen_domain,
	.domain_released = unlisten_domain,
};

static void close_client(struct loop *loop, struct client *c)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	conn_free(c->conn);
	free(c->rbuf);
	if (c->prev)
		c->prev->next = c->next;
	else
		loop->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void accept_clients(struct loop *loop, struct listener *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				logmsg(loop, "accept on %s: %s", l->path, errno);
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->rbuf = malloc(READ_CHUNK);
		if (c && c->rbuf)
			c->conn = conn_new(loop->srv, l->domid, c);
		ev.data.ptr = c;
		if (!c || !c->rbuf || !c->conn ||
		    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			if (c && c->conn)
				conn_free(c->conn);
			if (c)
				free(c->rbuf);
			free(c);
			close(fd);
			server_log(loop->srv, "cannot take a connection on %s",
				   l->path);
			continue;
		}
		c->kind = CLIENT;
		c->fd = fd;
		c->events = EPOLLIN;
		c->next = loop->clients;
		if (loop->clients)
			loop->clients->prev = c;
		loop->clients = c;
		if (loop->srv->verbose)
			server_log(loop->srv, "conn %lu (dom%u): connected",
				   c->conn->id, l->domid);
	}
}

/* Reads more requests if the connection takes input and has no unhandled
 * bytes. Returns false if the client is gone. */
static bool read_client(struct client *c)
{
	ssize_t n;

	if (c->rstart < c->rend || !conn_wants_input(c->conn))
		return true;
	n = read(c->fd, c->rbuf, READ_CHUNK);
	if (n == 0)
		return false;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->rstart = 0;
	c->rend = n;
	return true;
}

/* Handles buffered requests and writes output as far as both go. Returns
 * false if the client is gone. */
static bool service_client(struct client *c)
{
	bool progress = true;

	while (progress) {
		progress = false;
		if (c->rstart < c->rend && conn_wants_input(c->conn)) {
			size_t used = conn_input(c->conn, c->rbuf + c->rstart,
						 c->rend - c->rstart);

			c->rstart += used;
			progress = used > 0;
		}
		while (conn_has_output(c->conn)) {
			struct iovec iov[64];
			int n = conn_output_iov(c->conn, iov, 64);
			ssize_t w = writev(c->fd, iov, n);

			if (w < 0) {
				if (errno == EAGAIN)
					break;
				if (errno == EINTR)
					continue;
				return false;
			}
			conn_output_done(c->conn, w);
			progress = true;
		}
		if (c->conn->dropped)
			return false;
	}
	return true;
}

static void update_events(struct loop *loop, struct client *c)
{
	uint32_t want = 0;
	struct epoll_event ev;

	if (c->rstart == c->rend && conn_wants_input(c->conn))
		want |= EPOLLIN;
	if (conn_has_output(c->conn))
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.ptr = c;
	epoll_ctl(loop->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->events = want;
}

/* After any event: a request on one connection can queue watch events on
 * any other, and a drained queue can unblock input. */
static void service_all(struct loop *loop)
{
	struct client *c = loop->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->gone || !service_client(c)) {
			if (loop->srv->verbose)
				server_log(loop->srv, "conn %lu (dom%u): closed",
					   c->conn->id, c->conn->domid);
			close_client(loop, c);
			continue;
		}
		update_events(loop, c);
	}
}

static void handle_signals(struct loop *loop)
{
	struct signalfd_siginfo si;

	while (read(loop->sigfd, &si, sizeof(si)) == sizeof(si)) {
		server_log(loop->srv, "signal %u: exiting", si.ssi_signo);
		loop->stop = true;
	}
}

static void run(struct loop *loop)
{
	struct epoll_event events[64];
	time_t last_check = time(NULL);

	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, events, 64, 1000);
		struct stat st;

		if (n < 0 && errno != EINTR) {
			server_log(loop->srv, "epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			enum kind *kind = events[i].data.ptr;

			if (*kind == SIGNALS) {
				handle_signals(loop);
			} else if (*kind == LISTENER) {
				accept_clients(loop, (struct listener *)kind);
			} else {
				struct client *c = (struct client *)kind;

				if (!read_client(c))
					c->gone = true;
			}
		}
		service_all(loop);
		if (time(NULL) != last_check) {
			last_check = time(NULL);
			if (stat(loop->sockdir, &st)) {
				server_log(loop->srv, "%s is gone: exiting",
					   loop->sockdir);
				return;
			}
		}
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xenstored --socket-dir DIR [--pid-file FILE] "
		"[--ready-fd FD]\n"
		"                 [--max-pending-events N] "
		"[--max-output-bytes N]\n"
		"                 [--max-outstanding N] [--verbose]\n");
}

static bool parse_count(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && end != s && !*end && *out > 0 && *out <= max;
}

static int write_pid_file(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket-dir", required_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "max-pending-events", required_argument, NULL, 'E' },
		{ "max-output-bytes", required_argument, NULL, 'B' },
		{ "max-outstanding", required_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct limits limits = default_limits;
	struct loop loop = { .epfd = -1, .sigfd = -1, .signal_kind = SIGNALS };
	const char *pid_file = NULL;
	struct epoll_event ev = { .events = EPOLLIN };
	bool verbose = false;
	int ready_fd = -1, opt, status = 1;
	unsigned long v;
	sigset_t sigs;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'd': loop.sockdir = optarg; break;
		case 'p': pid_file = optarg; break;
		case 'r':
			if (!parse_count(optarg, INT_MAX, &v))
				goto bad_value;
			ready_fd = v;
			break;
		case 'E':
			if (!parse_count(optarg, UINT_MAX, &v))
				goto bad_value;
			limits.max_pending_events = v;
			break;
		case 'B':
			if (!parse_count(optarg, SIZE_MAX, &v))
				goto bad_value;
			limits.max_output_bytes = v;
			break;
		case 'O':
			if (!parse_count(optarg, UINT_MAX, &v))
				goto bad_value;
			limits.max_outstanding = v;
			break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!loop.sockdir || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* The longest socket name must fit in sun_path. */
	if (strlen(loop.sockdir) + sizeof("/65535") >
	    sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "xenstored: socket directory name too long "
			"for unix sockets: %s\n", loop.sockdir);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	loop.srv = server_new(&limits, stderr);
	if (!loop.srv) {
		fprintf(stderr, "xenstored: out of memory\n");
		return 1;
	}
	loop.srv->verbose = verbose;
	loop.srv->hooks = &hooks;
	loop.srv->hooks_arg = &loop;
	loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	loop.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	ev.data.ptr = &loop.signal_kind;
	if (loop.epfd < 0 || loop.sigfd < 0 ||
	    epoll_ctl(loop.epfd, EPOLL_CTL_ADD, loop.sigfd, &ev)) {
		perror("xenstored: epoll/signalfd");
		goto out;
	}
	if (listen_domain(&loop, 0))
		goto out;
	if (pid_file && write_pid_file(pid_file)) {
		fprintf(stderr, "xenstored: cannot write %s: %s\n", pid_file,
			strerror(errno));
		goto out;
	}
	server_log(loop.srv, "xenstored %ld listening in %s", (long)getpid(),
		   loop.sockdir);
	if (ready_fd >= 0) {
		if (write(ready_fd, "R", 1) != 1)
			goto out;
		close(ready_fd);
	}
	run(&loop);
	status = 0;
out:
	while (loop.clients)
		close_client(&loop, loop.clients);
	while (loop.listeners) {
		struct listener *l = loop.listeners;

		loop.listeners = l->next;
		close_listener(&loop, l);
	}
	if (pid_file && status == 0)
		unlink(pid_file);
	server_free(loop.srv);
	if (loop.sigfd >= 0)
		close(loop.sigfd);
	if (loop.epfd >= 0)
		close(loop.epfd);
	return status;

bad_value:
	fprintf(stderr, "xenstored: bad option value: %s\n", optarg);
	return 2;
}
