/* SPDX-License-Identifier: MIT */
/*
 * Worker processes, both sides.
 *
 * Main side: fork, watch the channel and the child, bound start-up and
 * drain with a timer, tell the device layer how the worker ended. The
 * worker is less trusted than main (it handles guest data), so what it
 * sends is checked and its counters are only read.
 *
 * Worker side: confine the process in the order libxengnttab needs (see
 * class.h), then run the class on a loop of its own.
 */
#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xentoolcore.h>

#include "classes.h"
#include "config.h"
#include "device.h"
#include "log.h"
#include "worker-rings.h"
#include "worker.h"

/* A worker has this long to map its rings and say it serves. */
#define START_TIMEOUT 10

enum chan_type { CHAN_STARTED = 1, CHAN_FAILED, CHAN_STOPPED, CHAN_DRAIN };

struct chan_msg {
	uint32_t type;
	int32_t err;
	char text[240];
};

/* ---- Shared counters --------------------------------------------------- */

struct stats_area *stats_area_new(void)
{
	void *p = mmap(NULL, sizeof(struct stats_area), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void stats_area_free(struct stats_area *s)
{
	if (s)
		munmap(s, sizeof(*s));
}

/* ---- Main side --------------------------------------------------------- */

struct worker {
	struct ev_loop *loop;
	struct xbd_device *dev;
	char name[64];
	pid_t pid;
	int chan;
	ev_io chan_w;
	ev_child child_w;
	ev_timer timer;
	bool started, stopped, failed, drain_asked, killed;
	int fail_err;
	char fail_text[sizeof(((struct chan_msg *)0)->text)];
};

static unsigned int nr_workers;
static int workers_lock_fd = -1;

void worker_set_lock_fd(int fd)
{
	workers_lock_fd = fd;
}

unsigned int worker_count(void)
{
	return nr_workers;
}

pid_t worker_pid(const struct worker *w)
{
	return w->pid;
}

/* A worker's text goes into xenstore and logs: keep it printable. */
static void sanitize(char *s, size_t size)
{
	s[size - 1] = '\0';
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static void handle_msg(struct worker *w, struct chan_msg *m)
{
	switch (m->type) {
	case CHAN_STARTED:
		if (w->started || w->failed)
			break;
		w->started = true;
		if (!w->drain_asked)
			ev_timer_stop(w->loop, &w->timer);
		device_worker_started(w->dev);
		break;
	case CHAN_FAILED:
		if (w->failed)
			break;
		w->failed = true;
		w->fail_err = m->err > 0 && m->err < 4096 ? m->err : EIO;
		memcpy(w->fail_text, m->text, sizeof(w->fail_text));
		sanitize(w->fail_text, sizeof(w->fail_text));
		break;
	case CHAN_STOPPED:
		w->stopped = true;
		break;
	default:
		xbd_log(XBD_WARN, "%s: worker sent an unknown message %u",
			w->name, m->type);
	}
}

/* Reads what the worker sent; false at EOF or on error. */
static bool read_channel(struct worker *w)
{
	struct chan_msg m;
	ssize_t n;

	for (;;) {
		memset(&m, 0, sizeof(m));
		n = recv(w->chan, &m, sizeof(m), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		if ((size_t)n == sizeof(m))
			handle_msg(w, &m);
	}
}

static void channel_ready(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;

	if (!read_channel(w))
		ev_io_stop(loop, io);	/* the exit is seen by child_w */
}

static void worker_exited(struct ev_loop *loop, ev_child *c, int revents)
{
	struct worker *w = c->data;
	int status = c->rstatus;
	enum worker_end end;
	char text[sizeof(w->fail_text) + 64];

	read_channel(w);
	ev_child_stop(loop, &w->child_w);
	ev_io_stop(loop, &w->chan_w);
	ev_timer_stop(loop, &w->timer);
	close(w->chan);
	nr_workers--;

	if (w->failed) {
		end = WORKER_FAILED;
		snprintf(text, sizeof(text), "%s", w->fail_text);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FAULT) {
		end = WORKER_FAILED;
		snprintf(text, sizeof(text), "worker process %d stopped on a "
			 "fault it did not describe", (int)w->pid);
	} else if (w->stopped && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		end = WORKER_STOPPED;
		text[0] = '\0';
	} else {
		end = WORKER_DIED;
		if (WIFSIGNALED(status))
			snprintf(text, sizeof(text), "worker process %d %s by signal %d",
				 (int)w->pid, w->killed ? "killed (did not drain in time)"
							: "killed", WTERMSIG(status));
		else
			snprintf(text, sizeof(text), "worker process %d exited with "
				 "status %d", (int)w->pid, WEXITSTATUS(status));
	}
	xbd_log(end == WORKER_STOPPED ? XBD_DEBUG : XBD_WARN,
		"%s: worker %d ended%s%s", w->name, (int)w->pid,
		*text ? ": " : "", text);
	struct xbd_device *dev = w->dev;
	int err = w->fail_err ? w->fail_err : EIO;
	free(w);
	device_worker_exited(dev, end, err, text);
}

static void worker_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	xbd_log(XBD_WARN, "%s: worker %d did not %s in time, killing it",
		w->name, (int)w->pid, w->drain_asked ? "drain" : "start");
	worker_kill(w);
}

void worker_kill(struct worker *w)
{
	w->killed = true;
	kill(w->pid, SIGKILL);
}

void worker_drain(struct worker *w, unsigned int timeout)
{
	struct chan_msg m = { .type = CHAN_DRAIN };

	if (w->drain_asked)
		return;
	w->drain_asked = true;
	/* The worker may already be gone: its exit is reported anyway. */
	if (send(w->chan, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		xbd_log(XBD_DEBUG, "%s: drain request: %s", w->name,
			strerror(errno));
	ev_timer_stop(w->loop, &w->timer);
	ev_timer_set(&w->timer, timeout, 0);
	ev_timer_start(w->loop, &w->timer);
}

static void worker_main(const struct worker_spawn_args *a, int chan)
	__attribute__((noreturn));

struct worker *worker_spawn(struct ev_loop *loop,
			    const struct worker_spawn_args *a)
{
	struct worker *w = calloc(1, sizeof(*w));
	int sv[2], err;

	if (!w)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		err = errno;
		xbd_log(XBD_ERROR, "%s: socketpair: %s", a->name, strerror(err));
		free(w);
		errno = err;
		return NULL;
	}
	w->pid = fork();
	if (w->pid < 0) {
		err = errno;
		xbd_log(XBD_ERROR, "%s: fork: %s", a->name, strerror(err));
		close(sv[0]);
		close(sv[1]);
		free(w);
		errno = err;	/* the caller reports it */
		return NULL;
	}
	if (w->pid == 0) {
		close(sv[0]);
		worker_main(a, sv[1]);
	}
	close(sv[1]);
	w->loop = loop;
	w->dev = a->dev;
	w->chan = sv[0];
	snprintf(w->name, sizeof(w->name), "%s", a->name);
	nr_workers++;
	ev_io_init(&w->chan_w, channel_ready, w->chan, EV_READ);
	w->chan_w.data = w;
	ev_io_start(loop, &w->chan_w);
	ev_child_init(&w->child_w, worker_exited, w->pid, 0);
	w->child_w.data = w;
	ev_child_start(loop, &w->child_w);
	ev_timer_init(&w->timer, worker_timeout, START_TIMEOUT, 0);
	w->timer.data = w;
	ev_timer_start(loop, &w->timer);
	xbd_log(XBD_DEBUG, "%s: worker %d forked", w->name, (int)w->pid);
	return w;
}

/* ---- Worker side ------------------------------------------------------- */

struct xbd_worker {
	const struct xbd_class *class;
	const char *name;
	unsigned int frontend_id;
	void *priv;
	struct ev_loop *loop;
	xengnttab_handle *gnttab;
	xenevtchn_handle *evtchn;
	struct stats_area *stats;
	void *journal;
	int chan;
	ev_io chan_w;
	int sig_fd;
	ev_io sig_w;
	ev_timer orphan_timer;
	ev_prepare log_prepare;
	ev_timer log_timer;
	struct worker_rings rings;	/* ring.c */
	bool draining, done, failed;
};

static void send_msg(struct xbd_worker *w, enum chan_type type, int err,
		     const char *text)
{
	struct chan_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.err = err;
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	/* Main may be gone; then there is nobody to tell. */
	if (send(w->chan, &m, sizeof(m), MSG_NOSIGNAL) < 0 && errno != EPIPE)
		xbd_log(XBD_DEBUG, "channel to main: %s", strerror(errno));
}

static void start_drain(struct xbd_worker *w)
{
	if (w->draining || w->done)
		return;
	w->draining = true;
	xbd_log(XBD_DEBUG, "draining");
	worker_rings_stop_passes(&w->rings);
	if (w->class->worker_drain)
		w->class->worker_drain(w);
	else
		worker_rings_drain(&w->rings);
}

static void worker_channel_ready(struct ev_loop *loop, ev_io *io, int revents)
{
	struct xbd_worker *w = io->data;
	struct chan_msg m;
	ssize_t n = recv(w->chan, &m, sizeof(m), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/*
		 * Main is gone. A restarted daemon will take the device over
		 * with a worker of its own; two on one ring would corrupt
		 * it, so this one drains and leaves.
		 */
		ev_io_stop(loop, io);
		start_drain(w);
		/* Nobody will kill us if the drain hangs: bound it here. */
		ev_timer_start(loop, &w->orphan_timer);
		return;
	}
	if ((size_t)n == sizeof(m) && m.type == CHAN_DRAIN)
		start_drain(w);
}

static void orphan_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct xbd_worker *w = t->data;

	xbd_log(XBD_WARN, "main is gone and the drain did not end: exiting");
	w->failed = true;
	ev_break(loop, EVBREAK_ALL);
}

static void worker_signal(struct ev_loop *loop, ev_io *io, int revents)
{
	struct xbd_worker *w = io->data;
	struct signalfd_siginfo si;

	/* SIGTERM (e.g. systemd stopping the whole unit): drain like main. */
	if (read(w->sig_fd, &si, sizeof(si)) == sizeof(si))
		start_drain(w);
}

/*
 * The summary of guest-caused messages that were suppressed
 * (xbd_log_guest) is written once the budget allows, even when the guest
 * has stopped by then: a timer is armed before the loop sleeps.
 */
static void log_summary_due(struct ev_loop *loop, ev_timer *t, int revents)
{
	log_guest_flush(false);
}

static void log_before_sleep(struct ev_loop *loop, ev_prepare *p, int revents)
{
	struct xbd_worker *w = p->data;
	double due;

	if (ev_is_active(&w->log_timer))
		return;
	due = log_guest_summary_due();
	if (due < 0)
		return;
	ev_timer_set(&w->log_timer, due + 0.01, 0);
	ev_timer_start(loop, &w->log_timer);
}

static bool is_kept(int fd, const int *keep, unsigned int n, int chan)
{
	/* The workers' lock tells a restarted daemon that we still run. */
	if (fd == chan || fd == workers_lock_fd)
		return true;
	for (unsigned int i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/*
 * The fds open in this process above stdio, in a malloc'd array (NULL
 * when it cannot be had). From /proc/self/fd; without /proc, by asking
 * each number below the fd limit.
 */
static int *open_fds(unsigned int *count)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned int n = 0, cap = 64;
	int *fds = malloc(cap * sizeof(*fds));
	struct dirent *e;
	long max;

	*count = 0;
	if (!fds) {
		if (dir)
			closedir(dir);
		return NULL;
	}
	if (dir) {
		while ((e = readdir(dir))) {
			int fd = atoi(e->d_name);

			if (fd <= 2 || fd == dirfd(dir))
				continue;
			if (n == cap) {
				int *more = realloc(fds, 2 * cap * sizeof(*fds));

				if (!more) {
					closedir(dir);
					free(fds);
					return NULL;
				}
				fds = more;
				cap *= 2;
			}
			fds[n++] = fd;
		}
		closedir(dir);
		*count = n;
		return fds;
	}
	max = sysconf(_SC_OPEN_MAX);
	for (long fd = 3; fd < (max > 0 ? max : 1024); fd++) {
		if (fcntl((int)fd, F_GETFD) < 0)
			continue;
		if (n == cap) {
			int *more = realloc(fds, 2 * cap * sizeof(*fds));

			if (!more) {
				free(fds);
				return NULL;
			}
			fds = more;
			cap *= 2;
		}
		fds[n++] = (int)fd;
	}
	*count = n;
	return fds;
}

/*
 * Drops what the worker inherited from main but stdio, the channel and
 * the class's kept fds. Returns, in a malloc'd array, the fds it only
 * neutered: close_inherited_fds() closes them once the worker's handles
 * are open and restricted.
 *
 * Why not close them all at once: libxenstore registered main's xenstore
 * handle with libxentoolcore, and xentoolcore_restrict_all() answers by
 * dup2()ing /dev/null onto that handle's fd number. Had the number been
 * closed and reused by the event channel handle, the restriction would
 * destroy it. So every inherited socket and character device (what a Xen
 * library's handle is: the xenstore socket, /dev/xen/xenbus and the like)
 * stays occupied, by /dev/null, until then; files, pipes and the rest are
 * closed at once.
 *
 * Only the fds that are open are looked at: the worker's own fds take the
 * holes of main's table, so it needs no more room than main had, however
 * high main's fd numbers went (numbers up to main's highest used to be
 * filled with /dev/null, and a worker of a main with a high fd and a low
 * fd limit could then open nothing).
 */
static int *neuter_inherited_fds(const int *keep, unsigned int n, int chan,
				 unsigned int *nr_neutered)
{
	unsigned int count, k = 0;
	int *fds = open_fds(&count);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct stat st;

	*nr_neutered = 0;
	if (!fds || null < 0) {
		int err = errno;

		if (null >= 0)
			close(null);
		free(fds);
		errno = err;
		return NULL;
	}
	for (unsigned int i = 0; i < count; i++) {
		int fd = fds[i];

		if (fd == null || is_kept(fd, keep, n, chan))
			continue;
		if (fstat(fd, &st) == 0 &&
		    (S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode)) &&
		    dup2(null, fd) == fd)
			fds[k++] = fd;
		else
			close(fd);
	}
	close(null);
	*nr_neutered = k;
	return fds;
}

static void close_inherited_fds(int *neutered, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(neutered[i]);
	free(neutered);
}

static int drop_root(struct xbd_worker *w)
{
	uid_t uid = xbd_config->worker_uid;
	gid_t gid = xbd_config->worker_gid;

	if (geteuid() != 0) {
		xbd_log(XBD_WARN, "not running as root: the worker keeps uid %u",
			(unsigned int)geteuid());
		return 0;
	}
	if (uid == 0) {
		xbd_log(XBD_WARN, "worker-user %s is root: the worker keeps root",
			xbd_config->worker_user);
		return 0;
	}
	if (setgroups(0, NULL) || setgid(gid) || setuid(uid)) {
		xbd_worker_fail(w, errno, "cannot drop root to %s: %s",
				xbd_config->worker_user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		xbd_worker_fail(w, EPERM, "still root after dropping privileges");
		return -1;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

static int confine(struct xbd_worker *w, const struct worker_spawn_args *a)
{
	unsigned int nr_neutered;
	int *neutered = neuter_inherited_fds(a->keep_fds, a->nr_keep_fds,
					     w->chan, &nr_neutered);

	if (!neutered) {
		xbd_worker_fail(w, errno, "cannot close the fds inherited from "
				"main: %s", strerror(errno));
		return -1;
	}
	w->evtchn = xenevtchn_open(log_logger(), 0);
	if (!w->evtchn) {
		xbd_worker_fail(w, errno, "cannot open the event channel device: %s",
				strerror(errno));
		return -1;
	}
	if (xentoolcore_restrict_all(w->frontend_id)) {
		xbd_worker_fail(w, errno, "cannot restrict to domain %u: %s",
				w->frontend_id, strerror(errno));
		return -1;
	}
	/* After the restriction: it would disable an open gnttab handle. */
	w->gnttab = xengnttab_open(log_logger(), 0);
	if (!w->gnttab) {
		xbd_worker_fail(w, errno, "cannot open the grant table device: %s",
				strerror(errno));
		return -1;
	}
	close_inherited_fds(neutered, nr_neutered);
	return drop_root(w);
}

static void worker_main(const struct worker_spawn_args *a, int chan)
{
	struct xbd_worker w = {
		.class = a->class, .name = a->name, .frontend_id = a->frontend_id,
		.priv = a->priv, .stats = a->stats, .chan = chan, .sig_fd = -1,
		.journal = a->journal,
	};
	char prefix[96], comm[16];
	sigset_t set;
	char *c;

	/* Main's handlers (libev's) belong to a loop this process drops. */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_IGN);	/* ^C on a foreground daemon: main decides */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_SETMASK, &set, NULL);

	devices_unmap_other_stats(a->stats, a->journal);
	snprintf(prefix, sizeof(prefix), "%s: ", a->name);
	log_set_prefix(prefix);
	log_forget_syslog_fd();
	/*
	 * "xbd echo.3.0": Linux's event channel driver names the IRQ of a
	 * bound port after the process, and a '/' in it makes the kernel
	 * WARN (proc_mkdir of the IRQ's name). PR_SET_NAME keeps 15 chars.
	 */
	snprintf(comm, sizeof(comm), "xbd %s", a->name);
	for (c = comm; *c; c++)
		if (*c == '/')
			*c = '.';
	prctl(PR_SET_NAME, comm, 0, 0, 0);

	if (confine(&w, a))
		_exit(WORKER_EXIT_FAULT);

	w.loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	w.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!w.loop || w.sig_fd < 0) {
		xbd_worker_fail(&w, errno, "cannot set up the worker loop");
		_exit(WORKER_EXIT_FAULT);
	}
	ev_io_init(&w.chan_w, worker_channel_ready, chan, EV_READ);
	w.chan_w.data = &w;
	ev_io_start(w.loop, &w.chan_w);
	ev_timer_init(&w.orphan_timer, orphan_timeout,
		      xbd_config->drain_timeout, 0);
	w.orphan_timer.data = &w;
	worker_rings_init(&w.rings, &w, a->stats, w.class->worker_stop);
	w.rings.journal = w.journal;
	w.rings.nr_ops = class_nr_ops(w.class);
	ev_timer_init(&w.log_timer, log_summary_due, 0, 0);
	ev_prepare_init(&w.log_prepare, log_before_sleep);
	w.log_prepare.data = &w;
	ev_prepare_start(w.loop, &w.log_prepare);
	ev_io_init(&w.sig_w, worker_signal, w.sig_fd, EV_READ);
	w.sig_w.data = &w;
	ev_io_start(w.loop, &w.sig_w);

	if (w.class->worker_start(&w) || w.failed) {
		if (!w.failed)
			xbd_worker_fail(&w, EIO, "the class could not start");
		_exit(WORKER_EXIT_FAULT);
	}
	if (!w.done) {
		send_msg(&w, CHAN_STARTED, 0, NULL);
		xbd_log(XBD_DEBUG, "serving");
		ev_run(w.loop, 0);
	}
	/*
	 * _exit, not exit: the atexit handlers and stdio buffers belong to
	 * main. The kernel unmaps the grants and unbinds the channels of a
	 * worker that failed mid-way.
	 */
	log_guest_flush(true);
	if (w.gnttab)
		xengnttab_close(w.gnttab);
	if (w.evtchn)
		xenevtchn_close(w.evtchn);
	_exit(w.failed ? WORKER_EXIT_FAULT : 0);
}

/* ---- The worker API of class.h ------------------------------------------ */

void *xbd_worker_priv(struct xbd_worker *w)
{
	return w->priv;
}

const char *xbd_worker_name(const struct xbd_worker *w)
{
	return w->name;
}

unsigned int xbd_worker_frontend_id(const struct xbd_worker *w)
{
	return w->frontend_id;
}

struct ev_loop *xbd_worker_loop(struct xbd_worker *w)
{
	return w->loop;
}

xengnttab_handle *xbd_worker_gnttab(struct xbd_worker *w)
{
	return w->gnttab;
}

xenevtchn_handle *xbd_worker_evtchn(struct xbd_worker *w)
{
	return w->evtchn;
}

bool xbd_worker_failed(const struct xbd_worker *w)
{
	return w->failed;
}

struct worker_rings *worker_rings(struct xbd_worker *w)
{
	return &w->rings;
}

void xbd_worker_fail(struct xbd_worker *w, int err, const char *fmt, ...)
{
	char text[sizeof(((struct chan_msg *)0)->text)];
	va_list ap;

	if (w->failed || w->done)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	xbd_log(XBD_ERROR, "%s", text);
	w->failed = true;
	w->done = true;
	send_msg(w, CHAN_FAILED, err, text);
	if (w->loop)
		ev_break(w->loop, EVBREAK_ALL);
}

void xbd_worker_stopped(struct xbd_worker *w)
{
	if (w->done)
		return;
	w->done = true;
	send_msg(w, CHAN_STOPPED, 0, NULL);
	if (w->loop)
		ev_break(w->loop, EVBREAK_ALL);
}
