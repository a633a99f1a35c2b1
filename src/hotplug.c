/* SPDX-License-Identifier: MIT */
/*
 * Hotplug script runner. A script may hang (a stuck losetup, a dead NFS
 * server); other devices must go on being served meanwhile, so the script
 * is a child watched by the loop, bounded by a timer, and killed with its
 * whole process group when the time is up.
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hotplug.h"
#include "log.h"

#define OUTPUT_TAIL 2048

struct hotplug_run {
	struct ev_loop *loop;
	pid_t pid;
	int out_fd;
	ev_io out_w;
	ev_child child_w;
	ev_timer timer;
	unsigned int timeout;
	bool timed_out;
	char label[160];	/* "SCRIPT add backend/CLASS/DOMID/DEVID" */
	char tail[OUTPUT_TAIL];	/* the last bytes the script printed */
	size_t tail_len;
	hotplug_done_fn *done;
	void *arg;
};

static unsigned int nr_running;

static void keep_tail(struct hotplug_run *r, const char *data, size_t n)
{
	if (n >= OUTPUT_TAIL) {
		data += n - OUTPUT_TAIL;
		n = OUTPUT_TAIL;
	}
	if (r->tail_len + n > OUTPUT_TAIL) {
		size_t drop = r->tail_len + n - OUTPUT_TAIL;

		memmove(r->tail, r->tail + drop, r->tail_len - drop);
		r->tail_len -= drop;
	}
	memcpy(r->tail + r->tail_len, data, n);
	r->tail_len += n;
}

static void drain_output(struct hotplug_run *r)
{
	char data[512];
	ssize_t n;

	if (r->out_fd < 0)
		return;
	while ((n = read(r->out_fd, data, sizeof(data))) > 0)
		keep_tail(r, data, n);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		ev_io_stop(r->loop, &r->out_w);
		close(r->out_fd);
		r->out_fd = -1;
	}
}

static void output_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	drain_output(w->data);
}

/* The last non-empty line of output, made printable, into msg. */
static void last_line(const struct hotplug_run *r, char *msg, size_t size)
{
	size_t end = r->tail_len, start;

	while (end > 0 && (r->tail[end - 1] == '\n' || r->tail[end - 1] == ' ' ||
			   r->tail[end - 1] == '\r' || r->tail[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && r->tail[start - 1] != '\n')
		start--;
	if (end - start >= size)
		start = end - (size - 1);
	for (size_t i = start; i < end; i++) {
		unsigned char c = r->tail[i];

		*msg++ = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	*msg = '\0';
}

static void free_run(struct hotplug_run *r)
{
	ev_timer_stop(r->loop, &r->timer);
	ev_child_stop(r->loop, &r->child_w);
	if (r->out_fd >= 0) {
		ev_io_stop(r->loop, &r->out_w);
		close(r->out_fd);
	}
	nr_running--;
	free(r);
}

static void script_exited(struct ev_loop *loop, ev_child *w, int revents)
{
	struct hotplug_run *r = w->data;
	int status = w->rstatus;
	char line[512], msg[700];
	bool ok;

	/*
	 * The script is gone; a daemon it started may still hold the pipe,
	 * so take what is there and do not wait for EOF.
	 */
	drain_output(r);
	last_line(r, line, sizeof(line));
	ok = !r->timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (r->timed_out)
		snprintf(msg, sizeof(msg), "hotplug script timed out after %u s%s%s",
			 r->timeout, *line ? ": " : "", line);
	else if (WIFSIGNALED(status))
		snprintf(msg, sizeof(msg), "hotplug script killed by signal %d%s%s",
			 WTERMSIG(status), *line ? ": " : "", line);
	else if (!ok && *line)
		snprintf(msg, sizeof(msg), "%s", line);
	else if (!ok)
		snprintf(msg, sizeof(msg), "hotplug script exited with status %d",
			 WEXITSTATUS(status));
	else
		snprintf(msg, sizeof(msg), "%s", line);
	xbd_log(ok ? XBD_DEBUG : XBD_WARN, "%s: %s%s", r->label,
		ok ? "done" : "failed: ", ok ? "" : msg);
	hotplug_done_fn *done = r->done;
	void *arg = r->arg;
	free_run(r);
	if (done)
		done(arg, ok, msg);
}

static void script_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hotplug_run *r = w->data;

	xbd_log(XBD_WARN, "%s: no result after %u s, killing it", r->label,
		r->timeout);
	r->timed_out = true;
	/* The script leads its own group: take its children down too. */
	kill(-r->pid, SIGKILL);
}

static void run_script(const char *path, const char *action,
		       const char *type, const char *xenbus_path, int out)
{
	int null = open("/dev/null", O_RDONLY);

	/* Its own process group, so that one kill takes all of it. */
	setpgid(0, 0);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setenv("script", path, 1);
	setenv("XENBUS_TYPE", type, 1);
	setenv("XENBUS_PATH", xenbus_path, 1);
	setenv("XENBUS_BASE_PATH", "backend", 1);
	if (!getenv("PATH"))
		setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	execl(path, path, action, (char *)NULL);
	dprintf(2, "cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

struct hotplug_run *hotplug_start(struct ev_loop *loop, const char *script,
				  const char *action, const char *type,
				  const char *xenbus_path, unsigned int timeout,
				  hotplug_done_fn *done, void *arg,
				  const char **why)
{
	struct hotplug_run *r;
	char path[PATH_MAX];
	int pipefd[2];

	if (strstr(script, "..") || !*script) {
		*why = "hotplug script path must not contain '..'";
		xbd_log(XBD_ERROR, "%s: %s", xenbus_path, *why);
		return NULL;
	}
	if (script[0] == '/')
		snprintf(path, sizeof(path), "%s", script);
	else
		snprintf(path, sizeof(path), "%s/scripts/%s", XENDIR, script);
	if (access(path, X_OK)) {
		*why = "hotplug script is missing or not executable";
		xbd_log(XBD_ERROR, "%s: %s: %s", xenbus_path, path, strerror(errno));
		return NULL;
	}

	r = calloc(1, sizeof(*r));
	if (!r || pipe2(pipefd, O_CLOEXEC)) {
		free(r);
		*why = "out of resources to run the hotplug script";
		return NULL;
	}
	r->loop = loop;
	r->timeout = timeout;
	r->done = done;
	r->arg = arg;
	snprintf(r->label, sizeof(r->label), "%s %s %s",
		 strrchr(path, '/') + 1, action, xenbus_path);

	r->pid = fork();
	if (r->pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		free(r);
		*why = "cannot fork the hotplug script";
		xbd_log(XBD_ERROR, "%s: fork: %s", xenbus_path, strerror(errno));
		return NULL;
	}
	if (r->pid == 0)
		run_script(path, action, type, xenbus_path, pipefd[1]);
	/* Also here: the group must exist before a kill can aim at it. */
	setpgid(r->pid, r->pid);
	close(pipefd[1]);
	r->out_fd = pipefd[0];
	fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
	nr_running++;

	ev_io_init(&r->out_w, output_ready, r->out_fd, EV_READ);
	r->out_w.data = r;
	ev_io_start(loop, &r->out_w);
	ev_child_init(&r->child_w, script_exited, r->pid, 0);
	r->child_w.data = r;
	ev_child_start(loop, &r->child_w);
	ev_timer_init(&r->timer, script_timeout, timeout, 0);
	r->timer.data = r;
	ev_timer_start(loop, &r->timer);
	xbd_log(XBD_INFO, "running %s (pid %d)", r->label, (int)r->pid);
	return r;
}

void hotplug_cancel(struct hotplug_run *r)
{
	if (!r)
		return;
	kill(-r->pid, SIGKILL);
	/*
	 * Reap it here: nothing will watch for it once the run is freed.
	 * SIGKILL cannot be caught, so this does not wait for long.
	 */
	waitpid(r->pid, NULL, 0);
	free_run(r);
}

unsigned int hotplug_running(void)
{
	return nr_running;
}
