/* SPDX-License-Identifier: MIT */
/*
 * xenbackd: userspace backend daemon for Xen paravirtual devices.
 *
 * The main process keeps the privileged parts: xenstore, hotplug scripts,
 * the control socket, and the forking of one worker per connected device.
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classes.h"
#include "config.h"
#include "control.h"
#include "device.h"
#include "kernel-backend.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "owner.h"
#include "store.h"
#include "worker.h"

#define LOCK_NAME "xenbackd.pid"
/* How often we make sure that xenstored still answers. */
#define XENSTORE_PROBE_INTERVAL 1.0
/*
 * Every name we would serve is the kernel's: LSB's "program is not
 * configured" (systemd shows NOTCONFIGURED), which the shipped unit does
 * not restart on (RestartPreventExitStatus=6).
 */
#define EXIT_NOT_CONFIGURED 6

static struct config config;
static int verbose;
static struct ev_loop *loop;
static ev_signal sig_term, sig_int, sig_hup;
static ev_timer xenstore_probe;
static bool stopping;
static int exit_status;
static bool explicit_config;	/* --config given: the file must exist */

static void usage(FILE *f)
{
	fprintf(f,
"usage: xenbackd [options]\n"
"Userspace backend daemon for Xen paravirtual devices.\n"
"\n"
"  -c, --config FILE   configuration file (default %s/xenbackd.conf)\n"
"  -f, --foreground    stay in the foreground, log to stderr\n"
"  -v, --verbose       log more (repeat for debug)\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n"
"      --check-kernel-backends\n"
"                      exit 1, saying why, if loaded kernel modules serve\n"
"                      every name this configuration serves (for systemd's\n"
"                      ExecCondition=); 0 if not, 255 on a bad config\n"
"\n"
"SIGTERM stops after answering in-flight requests; SIGHUP reloads the\n"
"log level. See xenbackd(8) and xenbackd.conf(5).\n", XENDIR);
}

static enum xbd_log_level effective_level(const struct config *c)
{
	int level = c->log_level + verbose;

	return level > XBD_DEBUG ? XBD_DEBUG : level;
}

/*
 * Takes the lock file in the run directory. The fd stays open (and
 * locked) for the life of the daemon; a second instance fails here.
 */
static int take_lock(const char *run_dir, int *lock_fd)
{
	char path[PATH_MAX], pid[32] = "";
	int fd;

	if (mkdir(run_dir, 0755) && errno != EEXIST) {
		xbd_log(XBD_ERROR, "cannot create %s: %s", run_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", run_dir, LOCK_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		xbd_log(XBD_ERROR, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ssize_t n = errno == EWOULDBLOCK ? read(fd, pid, sizeof(pid) - 1) : -1;

		if (n > 0) {
			pid[n] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
		}
		if (errno == EWOULDBLOCK || n >= 0)
			xbd_log(XBD_ERROR, "another xenbackd is already running "
				"(pid %s, lock %s): not starting a second one",
				*pid ? pid : "?", path);
		else
			xbd_log(XBD_ERROR, "cannot lock %s: %s", path,
				strerror(errno));
		close(fd);
		return -1;
	}
	*lock_fd = fd;
	return 0;
}

/*
 * Workers inherit an fd on this lock and keep it to their end. If main
 * died, its workers drain and exit on their own; a new daemon must not
 * start workers on the same rings before they are gone, so it waits here
 * (they give up after drain-timeout).
 */
static int take_workers_lock(const struct config *c, int *lock_fd)
{
	char path[PATH_MAX];
	int fd, waited = 0, limit = (c->drain_timeout + 2) * 10;

	snprintf(path, sizeof(path), "%s/workers.lock", c->run_dir);
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		xbd_log(XBD_ERROR, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK || waited == limit) {
			xbd_log(XBD_ERROR, "%s: %s", path, errno == EWOULDBLOCK ?
				"workers of a previous xenbackd did not end" :
				strerror(errno));
			close(fd);
			return -1;
		}
		if (waited++ == 0)
			xbd_log(XBD_WARN, "workers of a previous xenbackd are "
				"still draining: waiting for them");
		usleep(100000);
	}
	*lock_fd = fd;
	return 0;
}

static void write_pid(int fd)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

	if (ftruncate(fd, 0) || pwrite(fd, pid, n, 0) != n)
		xbd_log(XBD_WARN, "cannot write the pid file: %s", strerror(errno));
}

static int daemonize(void)
{
	pid_t pid = fork();
	int null;

	if (pid < 0) {
		xbd_log(XBD_ERROR, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/"))
		return -1;
	null = open("/dev/null", O_RDWR);
	if (null < 0)
		return -1;
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (null > 2)
		close(null);
	return 0;
}

static void all_drained(void)
{
	xbd_log(XBD_INFO, "every worker has drained: exiting");
	ev_break(loop, EVBREAK_ALL);
}

static void stop(struct ev_loop *l, const char *why)
{
	char status[160];

	if (stopping) {
		xbd_log(XBD_INFO, "already stopping, waiting for workers to drain");
		return;
	}
	stopping = true;
	xbd_log(XBD_INFO, "%s: stopping (devices stay as they are for the "
		"next start)", why);
	/* systemctl status shows why we stop while workers drain. */
	snprintf(status, sizeof(status),
		 "STOPPING=1\nSTATUS=%s: stopping, workers draining", why);
	notify_service_manager(status);
	ev_timer_stop(l, &xenstore_probe);
	control_close(l);
	devices_shutdown(all_drained);
}

static void on_stop(struct ev_loop *l, ev_signal *w, int revents)
{
	stop(l, strsignal(w->signum));
}

/*
 * libxenstore's reader thread sees xenstored go away but tells no one:
 * the watch fd just never becomes readable again. So we ask a question
 * that always has an answer. Without xenstore the daemon can do nothing:
 * it stops as on SIGTERM and exits non-zero for systemd to restart it.
 */
static void probe_xenstore(struct ev_loop *l, ev_timer *t, int revents)
{
	if (!store_ping())
		return;
	xbd_log(XBD_ERROR, "lost the connection to xenstore (%s): exiting, to "
		"be restarted", strerror(errno));
	exit_status = 1;
	stop(l, "no xenstore");
}
static void on_reload(struct ev_loop *l, ev_signal *w, int revents)
{
	struct config fresh;

	/* config_load logs what is wrong; the running config stays. */
	if (config_load(&fresh, config.path, !explicit_config)) {
		xbd_log(XBD_WARN, "SIGHUP: keeping the current configuration");
		return;
	}
	config.log_level = fresh.log_level;
	/* Said before the switch, so that it shows even when quieter. */
	xbd_log(XBD_INFO, "SIGHUP: log level now %s (other settings take "
		"effect on restart)", config_log_level_name(effective_level(&config)));
	log_set_level(effective_level(&config));
	config_free(&fresh);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "check-kernel-backends", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = XENDIR "/xenbackd.conf";
	char sock_path[PATH_MAX], abs_config[PATH_MAX], status[160];
	bool foreground = false, check_kb = false;
	int c, lock_fd = -1, workers_lock_fd = -1, rc = 1;

	while ((c = getopt_long(argc, argv, "c:fvhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			/* Absolute: SIGHUP rereads it after we chdir("/"). */
			config_path = realpath(optarg, abs_config) ? abs_config : optarg;
			explicit_config = true;
			break;
		case 'f':
			foreground = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xenbackd %s\n", XBD_VERSION);
			return 0;
		case 'K':
			check_kb = true;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xenbackd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	/* Would end the daemon by default; they mean nothing to it. */
	signal(SIGALRM, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	/*
	 * With --check-kernel-backends, 255: systemd's ExecCondition= fails
	 * the unit on it (and skips it on 1 to 254).
	 */
	/* The classes registered themselves before main; any refused? */
	if (classes_check())
		return check_kb ? 255 : 1;
	/* A missing default file means defaults; a named one must exist. */
	if (config_load(&config, config_path, !explicit_config))
		return check_kb ? 255 : 1;
	xbd_config = &config;
	if (log_init(false, effective_level(&config)))
		return check_kb ? 255 : 1;
	if (!config.nr_names)
		xbd_log(XBD_WARN, "no device class in this build: nothing to serve");
	else if (leave_kernel_served_names(&config) && !config.nr_names) {
		xbd_log(XBD_ERROR, "nothing left to serve: not starting");
		/* The unit's ExecCondition: skip the start, do not fail it. */
		rc = check_kb ? 1 : EXIT_NOT_CONFIGURED;
		goto out;
	}
	if (check_kb) {
		rc = 0;
		goto out;
	}

	/* Everything that can fail at start does so before we detach. */
	if (take_lock(config.run_dir, &lock_fd) ||
	    take_workers_lock(&config, &workers_lock_fd) || store_open() ||
	    owner_check_home())
		goto out;
	worker_set_lock_fd(workers_lock_fd);
	snprintf(sock_path, sizeof(sock_path), "%s/%s", config.run_dir,
		 CONTROL_SOCKET_NAME);
	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		xbd_log(XBD_ERROR, "cannot create the event loop");
		goto out;
	}
	if (!foreground) {
		if (daemonize())
			goto out;
		ev_loop_fork(loop);
		log_close();
		log_init(true, effective_level(&config));
	}
	write_pid(lock_fd);
	owner_claim_home(config.run_dir);
	if (control_open(loop, sock_path))
		goto out;

	ev_signal_init(&sig_term, on_stop, SIGTERM);
	ev_signal_start(loop, &sig_term);
	ev_signal_init(&sig_int, on_stop, SIGINT);
	ev_signal_start(loop, &sig_int);
	ev_signal_init(&sig_hup, on_reload, SIGHUP);
	ev_signal_start(loop, &sig_hup);

	metrics_init();
	if (devices_start(loop))
		goto out;
	xbd_log(XBD_INFO, "xenbackd %s started (domain %u, hotplug by the %s, "
		"workers as %s)", XBD_VERSION, store_own_domid(),
		config.hotplug == HOTPLUG_DAEMON ? "daemon" : "toolstack",
		config.worker_user);
	snprintf(status, sizeof(status),
		 "READY=1\nSTATUS=serving %u backend path%s, hotplug by the %s",
		 config.nr_names, config.nr_names == 1 ? "" : "s",
		 config.hotplug == HOTPLUG_DAEMON ? "daemon" : "toolstack");
	notify_service_manager(status);
	ev_timer_init(&xenstore_probe, probe_xenstore, XENSTORE_PROBE_INTERVAL,
		      XENSTORE_PROBE_INTERVAL);
	ev_timer_start(loop, &xenstore_probe);

	ev_run(loop, 0);
	rc = exit_status;
out:
	control_close(loop);
	devices_free_all();
	store_close(loop);
	if (loop) {
		ev_timer_stop(loop, &xenstore_probe);
		ev_signal_stop(loop, &sig_term);
		ev_signal_stop(loop, &sig_int);
		ev_signal_stop(loop, &sig_hup);
	}
	if (workers_lock_fd >= 0)
		close(workers_lock_fd);
	if (lock_fd >= 0)
		close(lock_fd);
	xbd_config = NULL;
	config_free(&config);
	log_close();
	return rc;
}
