/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int test_failures;
static char *tmpdir, *simdir, *testbed;

void test_fail(const char *file, int line, const char *cond,
	       const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s:%d: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	test_failures++;
}

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Runs testbed with these arguments; its stdout into out (if not NULL,
 * malloc'd). Returns its exit status, or -1. */
static int run_testbed(const char *const *args, char **out)
{
	const char *argv[8] = { testbed };
	int pipefd[2] = { -1, -1 }, status, i;
	posix_spawn_file_actions_t fa;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	pid_t pid;

	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	posix_spawn_file_actions_init(&fa);
	if (out) {
		if (pipe(pipefd))
			return -1;
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
		posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	}
	if (posix_spawn(&pid, testbed, &fa, NULL, (char **)argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (out) {
		ssize_t n;

		close(pipefd[1]);
		do {
			if (len + 256 > cap) {
				cap = cap * 2 + 256;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			n = read(pipefd[0], buf + len, cap - len - 1);
			if (n > 0)
				len += n;
		} while (n > 0 || (n < 0 && errno == EINTR));
		close(pipefd[0]);
		buf[len] = '\0';
		*out = buf;
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int sim_stop(void)
{
	const char *args[] = { "stop", simdir, NULL };
	int rc;

	if (!simdir)
		return 0;
	rc = run_testbed(args, NULL);
	free(simdir);
	simdir = NULL;
	rmdir(tmpdir);
	return rc;
}

static void stop_at_exit(void)
{
	sim_stop();
}

static void stop_on_signal(int sig)
{
	sim_stop();
	signal(sig, SIG_DFL);
	raise(sig);
}

void sim_start(const char *const *options)
{
	const char *build = getenv("XBD_BUILD");
	const char *args[8] = { "start" };
	char tmpl[] = "/tmp/xbd-tb-XXXXXX";
	int n = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!build) {
		fprintf(stderr, "XBD_BUILD is not set\n");
		exit(2);
	}
	if (asprintf(&testbed, "%s/tests/testbed/testbed", build) < 0 ||
	    !(tmpdir = mkdtemp(tmpl)) || !(tmpdir = strdup(tmpdir)) ||
	    asprintf(&simdir, "%s/sim", tmpdir) < 0)
		abort();
	args[1] = simdir;
	for (int i = 0; options && options[i] && n < 7; i++)
		args[n++] = options[i];
	args[n] = NULL;
	atexit(stop_at_exit);
	signal(SIGTERM, stop_on_signal);
	signal(SIGINT, stop_on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (run_testbed(args, NULL)) {
		fprintf(stderr, "testbed start failed\n");
		exit(1);
	}
}

const char *sim_dir(void)
{
	return simdir;
}

char *sim_env(unsigned domid, const char *name)
{
	char domid_str[16], *out, *line, *value = NULL;
	const char *args[] = { "env", simdir, domid_str, NULL };
	size_t nlen = strlen(name);

	snprintf(domid_str, sizeof(domid_str), "%u", domid);
	if (run_testbed(args, &out)) {
		fprintf(stderr, "testbed env %u failed\n", domid);
		exit(1);
	}
	/* Lines are export NAME='VALUE' (no quotes inside our values). */
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "export ", 7) &&
		    !strncmp(line + 7, name, nlen) && line[7 + nlen] == '=') {
			char *v = line + 8 + nlen;

			if (*v == '\'')
				v++;
			value = strdup(v);
			if (value && *value && value[strlen(value) - 1] == '\'')
				value[strlen(value) - 1] = '\0';
		}
	}
	free(out);
	if (!value) {
		fprintf(stderr, "testbed env gave no %s\n", name);
		exit(1);
	}
	return value;
}

void sim_act_as(unsigned domid)
{
	char *path = sim_env(domid, "XENSTORED_PATH");

	setenv("XENSTORED_PATH", path, 1);
	free(path);
}

long sim_xenstored_pid(void)
{
	char *path;
	long pid = 0;
	FILE *f;

	if (asprintf(&path, "%s/xenstored.pid", simdir) < 0)
		abort();
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	free(path);
	return pid;
}

void test_finish(void)
{
	int rc = sim_stop();

	CHECK(rc == 0, "testbed stop exited %d", rc);
	if (test_failures) {
		printf("%d check(s) failed\n", test_failures);
		exit(1);
	}
	printf("all checks passed\n");
	exit(0);
}

void test_skip(const char *why)
{
	sim_stop();
	printf("skipped: %s\n", why);
	exit(77);
}

int raw_connect(unsigned domid)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char *path = sim_env(domid, "XENSTORED_PATH");
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	free(path);
	if (fd < 0)
		return -1;
	/* A listener with a full backlog (hundreds of clients at once on a
	 * loaded machine) says EAGAIN: wait a little, as a client would. */
	for (int tries = 0;; tries++) {
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		if ((errno != EAGAIN && errno != EINTR) || tries == 200)
			break;
		usleep(10000);
	}
	fprintf(stderr, "connect to %s: %s\n", addr.sun_path, strerror(errno));
	close(fd);
	return -1;
}

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, 1000);
			continue;
		}
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

bool raw_send(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id,
	      const void *payload, size_t len)
{
	struct xsd_sockmsg hdr = { type, req_id, tx_id, (uint32_t)len };

	return write_all(fd, &hdr, sizeof(hdr)) &&
	       write_all(fd, payload, len);
}

/* 1: read all, 0: EOF, -1: timeout or error. */
static int read_all(int fd, void *data, size_t len, long deadline)
{
	char *p = data;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;

		if (left < 0 || poll(&pfd, 1, left) <= 0)
			return -1;
		n = recv(fd, p, len, MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return errno == ECONNRESET ? 0 : -1;
		}
		p += n;
		len -= n;
	}
	return 1;
}

int raw_recv(int fd, struct xsd_sockmsg *hdr, char *body, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long deadline;
	int rc;

	/* The timeout is for a message to start: once it has, the rest
	 * must be read, or the stream would lose its framing. */
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	deadline = now_ms() + 10000;
	rc = read_all(fd, hdr, sizeof(*hdr), deadline);

	if (rc <= 0)
		return rc;
	if (hdr->len > XENSTORE_PAYLOAD_MAX)
		return -1;
	rc = read_all(fd, body, hdr->len, deadline);
	if (rc > 0)
		body[hdr->len] = '\0';
	return rc;
}
