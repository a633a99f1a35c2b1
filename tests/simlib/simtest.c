/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "simtest.h"

static char sim_dir[PATH_MAX];
static pid_t dir_owner;

_Noreturn void simtest_fail(void)
{
	/* children leave through _exit: the parent owns the cleanup */
	if (getpid() != dir_owner)
		_exit(1);
	exit(1);
}

const char *simtest_domid(void)
{
	const char *d = getenv("XENSIM_DOMID");

	return d ? d : "-";
}

static void exe_dir(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0) {
		perror("readlink /proc/self/exe");
		exit(99);
	}
	exe[n] = '\0';
	snprintf(out, len, "%s", dirname(exe));
}

void simtest_use_simlib(char **argv)
{
	char dir[PATH_MAX], want[2][PATH_MAX + 32], line[PATH_MAX + 256];
	const char *old = getenv("LD_LIBRARY_PATH");
	int found = 0, foreign = 0;
	FILE *f;

	exe_dir(dir, sizeof(dir));
	if (!getenv("SIMTEST_ON_SIMLIB")) {
		char *path;

		if (asprintf(&path, "%s%s%s", dir, old ? ":" : "",
			     old ? old : "") < 0)
			exit(99);
		setenv("LD_LIBRARY_PATH", path, 1);
		setenv("SIMTEST_ON_SIMLIB", "1", 1);
		execv("/proc/self/exe", argv);
		perror("re-exec");
		exit(99);
	}
	/* each library the program loaded must be ours */
	snprintf(want[0], sizeof(want[0]), " %s/libxengnttab.so.1\n", dir);
	snprintf(want[1], sizeof(want[1]), " %s/libxenevtchn.so.1\n", dir);
	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		for (int i = 0; i < 2; i++) {
			const char *name = strrchr(want[i], '/');
			size_t w = strlen(want[i]), nl = strlen(name);

			if (n >= w && strcmp(line + n - w, want[i]) == 0)
				found |= 1 << i;
			else if (n >= nl && strcmp(line + n - nl, name) == 0)
				foreign |= 1 << i;
		}
	}
	if (f)
		fclose(f);
	if (!found || foreign) {
		fprintf(stderr, "not running on the simulation libraries in "
			"%s (LD_LIBRARY_PATH=%s)\n", dir,
			getenv("LD_LIBRARY_PATH"));
		exit(99);
	}
	dir_owner = getpid();
}

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	remove(path);
	return 0;
}

static void remove_dir(void)
{
	if (getpid() == dir_owner && sim_dir[0])
		nftw(sim_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *simtest_make_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(sim_dir, sizeof(sim_dir), "%s/xensim.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(sim_dir)) {
		perror("mkdtemp");
		exit(99);
	}
	setenv("XENSIM_DIR", sim_dir, 1);
	dir_owner = getpid();
	atexit(remove_dir);
	/* a hang is a failure, not a 10-minute wait */
	alarm(120);
	return sim_dir;
}

void simtest_be_domain(uint32_t domid)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", domid);
	setenv("XENSIM_DOMID", v, 1);
}

pid_t simtest_fork_domain(uint32_t domid, int *fd)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		perror("socketpair");
		exit(99);
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(99);
	}
	if (pid == 0) {
		close(sp[0]);
		*fd = sp[1];
		simtest_be_domain(domid);
		alarm(120);
		return 0;
	}
	close(sp[1]);
	*fd = sp[0];
	return pid;
}

int simtest_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void simtest_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		CHECK(n > 0, "peer gone");
		p += n;
		len -= (size_t)n;
	}
}

void simtest_recv(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		CHECK(n > 0, "peer gone");
		p += n;
		len -= (size_t)n;
	}
}

void simtest_send_u32(int fd, uint32_t v)
{
	simtest_send(fd, &v, sizeof(v));
}

uint32_t simtest_recv_u32(int fd)
{
	uint32_t v;

	simtest_recv(fd, &v, sizeof(v));
	return v;
}

int simtest_event(xenevtchn_handle *x, int timeout_ms)
{
	struct pollfd p = { .fd = xenevtchn_fd(x), .events = POLLIN };
	int n, port;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -1;
	CHECK(n == 1 && (p.revents & POLLIN));
	port = xenevtchn_pending(x);
	CHECK(port >= 0);
	return port;
}

static int count_maps(pid_t pid, int (*match)(const char *line,
					       const char *arg),
		      const char *arg)
{
	char path[64], line[PATH_MAX + 256];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps",
		 pid ? (int)pid : (int)getpid());
	f = fopen(path, "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f))
		n += match(line, arg);
	fclose(f);
	return n;
}

static int names_guest_page(const char *line, const char *prefix)
{
	return strstr(line, prefix) != NULL;
}

int simtest_guest_maps(pid_t pid)
{
	char real[PATH_MAX], prefix[PATH_MAX + 32];

	CHECK(realpath(getenv("XENSIM_DIR"), real));
	snprintf(prefix, sizeof(prefix), " %s/grant/mem-", real);
	return count_maps(pid, names_guest_page, prefix);
}

static int is_reservation(const char *line, const char *unused)
{
	char perms[8] = "";
	unsigned long inode = 1;
	char name[8] = "";

	(void)unused;
	/* "start-end perms offset dev inode [name]" */
	if (sscanf(line, "%*s %7s %*s %*s %lu %7s", perms, &inode, name) < 2)
		return 0;
	return strcmp(perms, "---p") == 0 && inode == 0 && name[0] == '\0';
}

int simtest_reservations(pid_t pid)
{
	return count_maps(pid, is_reservation, NULL);
}

int simtest_run_pair(char **argv, int (*guest)(int fd), int (*host)(int fd),
		     const char *name)
{
	pid_t pid;
	int fd, rc;

	simtest_use_simlib(argv);
	simtest_make_dir();
	pid = simtest_fork_domain(5, &fd);
	if (pid == 0)
		_exit(guest(fd));
	simtest_be_domain(0);
	rc = host(fd);
	close(fd);
	CHECK(simtest_wait(pid) == 0, "domain 5 failed");
	printf("%s test passed\n", name);
	return rc;
}
