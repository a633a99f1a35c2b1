/* SPDX-License-Identifier: MIT */
/* testbed: runs simulated Xen hosts for tests (see README.md here).
 *
 *   testbed start DIR [XENSTORED-OPTION...]
 *   testbed env DIR DOMID
 *   testbed destroy DIR DOMID
 *   testbed stop DIR
 *
 * A simulation's state lives in DIR: the test xenstored's sockets (DIR/xs),
 * its pid file and log, and whatever the drop-in grant table and event
 * channel libraries keep there (DIR/grant, DIR/evtchn). */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#define MARKER ".testbed"
#define SOCKDIR "xs"
#define PID_FILE "xenstored.pid"
#define LOG_FILE "xenstored.log"
#define DOMID_FIRST_RESERVED 0x7FF0U
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("testbed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("out of memory");
	return s;
}

static void usage(FILE *out)
{
	fputs("usage: testbed start DIR [XENSTORED-OPTION...]\n"
	      "       testbed env DIR DOMID\n"
	      "       testbed destroy DIR DOMID\n"
	      "       testbed stop DIR\n", out);
}

/* The directory this executable is in. */
static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n < 0)
		die("cannot find my own executable: %s", strerror(errno));
	buf[n] = '\0';
	*strrchr(buf, '/') = '\0';
	return xasprintf("%s", buf);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (!d)
		die("cannot open %s: %s", path, strerror(errno));
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

/* mkdir -p */
static void make_dirs(const char *path)
{
	char *p = xasprintf("%s", path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			die("cannot create %s: %s", p, strerror(errno));
		*s = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST)
		die("cannot create %s: %s", p, strerror(errno));
	free(p);
}

/* A simulation directory, made absolute. */
struct sim {
	char *dir;
	char *sockdir;
	char *pid_file;
	char *log_file;
};

static void sim_init(struct sim *sim, const char *dir)
{
	char *abs = realpath(dir, NULL);

	if (!abs)
		die("no simulation in %s: %s", dir, strerror(errno));
	sim->dir = abs;
	sim->sockdir = xasprintf("%s/" SOCKDIR, abs);
	sim->pid_file = xasprintf("%s/" PID_FILE, abs);
	sim->log_file = xasprintf("%s/" LOG_FILE, abs);
}

static void sim_fini(struct sim *sim)
{
	free(sim->dir);
	free(sim->sockdir);
	free(sim->pid_file);
	free(sim->log_file);
}

static bool sim_has_marker(const struct sim *sim)
{
	char *marker = xasprintf("%s/" MARKER, sim->dir);
	bool ok = exists(marker);

	free(marker);
	return ok;
}

static char *socket_path(const struct sim *sim, unsigned domid)
{
	return xasprintf("%s/%u", sim->sockdir, domid);
}

/* Is pid a live (not zombie) xenstored? Checked through /proc so a
 * recycled pid or an unreaped orphan is not mistaken for it. */
static bool xenstored_alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, '/');
	return !strcmp(p ? p + 1 : buf, "xenstored");
}

/* The running xenstored's pid, or 0. */
static pid_t sim_pid(const struct sim *sim)
{
	FILE *f = fopen(sim->pid_file, "r");
	long pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 && xenstored_alive(pid) ? (pid_t)pid : 0;
}

static void sim_require_running(const struct sim *sim, const char *dir)
{
	if (!sim_has_marker(sim) || !sim_pid(sim))
		die("no simulation running in %s (start one with: testbed start "
		    "%s)", dir, dir);
}

static struct xs_handle *open_as(const struct sim *sim, unsigned domid)
{
	char *path = socket_path(sim, domid);
	struct xs_handle *xs;

	/* libxenstore connects to $XENSTORED_PATH, read at xs_open. */
	setenv("XENSTORED_PATH", path, 1);
	xs = xs_open(0);
	if (!xs)
		die("cannot connect to %s: %s", path, strerror(errno));
	free(path);
	return xs;
}

static void print_log_tail(const struct sim *sim)
{
	FILE *f = fopen(sim->log_file, "r");
	char line[512];

	if (!f)
		return;
	fprintf(stderr, "--- %s\n", sim->log_file);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT)
		fprintf(stderr, "testbed: cannot remove %s: %s\n", path,
			strerror(errno));
	return 0;
}

static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Empties a directory of a dead simulation, keeping the directory. */
static void clear_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		remove_tree(p);
		free(p);
	}
	closedir(d);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Runs xenstored detached from us (own session, reparented to init),
 * logging to the simulation's log, and waits until it listens. */
static void spawn_xenstored(const struct sim *sim, char **extra, int nextra)
{
	char *dir = self_dir();
	char *exe = xasprintf("%s/xenstored", dir);
	char ready_arg[16];
	char **argv = calloc(nextra + 9, sizeof(*argv));
	int ready[2], status, argc = 0;
	pid_t child;
	char c;

	if (!argv || pipe2(ready, O_CLOEXEC))
		die("out of resources: %s", strerror(errno));
	/* xenstored gets the pipe as fd 3 and no other inherited fds: one
	 * left open (a caller's pipe, say) would outlive the caller. */
	snprintf(ready_arg, sizeof(ready_arg), "3");
	argv[argc++] = exe;
	argv[argc++] = "--socket-dir";
	argv[argc++] = sim->sockdir;
	argv[argc++] = "--pid-file";
	argv[argc++] = sim->pid_file;
	argv[argc++] = "--ready-fd";
	argv[argc++] = ready_arg;
	for (int i = 0; i < nextra; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int log = open(sim->log_file,
			       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (null < 0 || log < 0 || setsid() < 0)
			_exit(127);
		if (fork() != 0)
			_exit(0);
		if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
		    dup2(ready[1], 3) < 0)
			_exit(127);
		close_range(4, ~0U, 0);
		execv(exe, argv);
		fprintf(stderr, "testbed: cannot run %s: %s\n", exe,
			strerror(errno));
		_exit(127);
	}
	close(ready[1]);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("cannot start xenstored");

	struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
	long deadline = now_ms() + START_TIMEOUT_MS;
	int n;
	do {
		n = poll(&pfd, 1, deadline - now_ms() > 0 ? deadline - now_ms()
							   : 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0 || read(ready[0], &c, 1) != 1 || c != 'R') {
		print_log_tail(sim);
		die("xenstored did not start (log above)");
	}
	close(ready[0]);
	free(argv);
	free(exe);
	free(dir);
}

static void write_node(struct xs_handle *xs, xs_transaction_t t,
		       const char *path, const char *value)
{
	if (!xs_write(xs, t, path, value, strlen(value)))
		die("cannot write %s: %s", path, strerror(errno));
}

static int cmd_start(const char *dir, char **extra, int nextra)
{
	struct sockaddr_un addr;
	bool existed = exists(dir);
	struct sim sim;
	char *marker;
	pid_t pid;
	int fd;

	make_dirs(dir);
	sim_init(&sim, dir);
	/* The longest socket path is DIR/xs/65535. */
	if (strlen(sim.sockdir) + sizeof("/65535") > sizeof(addr.sun_path)) {
		if (!existed)
			rmdir(sim.dir);
		die("%s: name too long (%zu bytes): a simulation directory's "
		    "absolute name can have at most %zu bytes so that unix "
		    "socket names in it fit in %zu", dir, strlen(sim.dir),
		    sizeof(addr.sun_path) - sizeof("/" SOCKDIR "/65535"),
		    sizeof(addr.sun_path));
	}
	if (sim_has_marker(&sim)) {
		pid = sim_pid(&sim);
		if (pid)
			die("a simulation is already running in %s (xenstored "
			    "pid %ld)", dir, (long)pid);
		/* What a dead simulation left behind is of no use. */
		clear_dir(sim.dir);
	} else if (!dir_is_empty(sim.dir)) {
		die("%s is not empty and not a simulation directory", dir);
	}
	marker = xasprintf("%s/" MARKER, sim.dir);
	fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd))
		die("cannot create %s: %s", marker, strerror(errno));
	free(marker);
	if (mkdir(sim.sockdir, 0755))
		die("cannot create %s: %s", sim.sockdir, strerror(errno));

	spawn_xenstored(&sim, extra, nextra);

	/* What xen-init-dom0 writes at boot. */
	struct xs_handle *xs = open_as(&sim, 0);
	write_node(xs, XBT_NULL, "/local/domain/0/domid", "0");
	write_node(xs, XBT_NULL, "/local/domain/0/name", "Domain-0");
	xs_close(xs);
	sim_fini(&sim);
	return 0;
}

static unsigned parse_domid(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' ||
	    v >= DOMID_FIRST_RESERVED)
		die("bad domain id %s (want 0 to %u)", s,
		    DOMID_FIRST_RESERVED - 1);
	return v;
}

static void make_node(struct xs_handle *xs, xs_transaction_t t,
		      const char *path, struct xs_permissions *perms,
		      unsigned nperms)
{
	if (!xs_mkdir(xs, t, path) ||
	    !xs_set_permissions(xs, t, path, perms, nperms))
		die("cannot create %s: %s", path, strerror(errno));
}

/* Creates the domain the way libxl does (libxl__domain_make, trimmed):
 * its home is the toolstack's and readable by the domain, the
 * directories the guest writes in are its own; then introduces it. */
static void create_domain(const struct sim *sim, unsigned domid)
{
	struct xs_handle *xs = open_as(sim, 0);
	struct xs_permissions roperm[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = XS_PERM_READ },
	};
	struct xs_permissions rwperm[1] = {
		{ .id = domid, .perms = XS_PERM_NONE },
	};
	static const char *const guest_dirs[] = {
		"device", "control/shutdown", "data", "drivers", "feature",
		"attr", "error",
	};
	char *home = xs_get_domain_path(xs, domid);

	if (!home)
		die("cannot get the home of domain %u: %s", domid,
		    strerror(errno));
	if (!xs_is_domain_introduced(xs, domid)) {
		for (;;) {
			xs_transaction_t t = xs_transaction_start(xs);
			char *p, value[16];

			if (t == XBT_NULL)
				die("cannot start a transaction: %s",
				    strerror(errno));
			make_node(xs, t, home, roperm, 2);
			snprintf(value, sizeof(value), "%u", domid);
			p = xasprintf("%s/domid", home);
			write_node(xs, t, p, value);
			free(p);
			snprintf(value, sizeof(value), "dom%u", domid);
			p = xasprintf("%s/name", home);
			write_node(xs, t, p, value);
			free(p);
			p = xasprintf("%s/control", home);
			make_node(xs, t, p, roperm, 2);
			free(p);
			for (size_t i = 0; i < sizeof(guest_dirs) /
					       sizeof(guest_dirs[0]); i++) {
				p = xasprintf("%s/%s", home, guest_dirs[i]);
				make_node(xs, t, p, rwperm, 1);
				free(p);
			}
			if (xs_transaction_end(xs, t, false))
				break;
			if (errno != EAGAIN)
				die("cannot create domain %u: %s", domid,
				    strerror(errno));
		}
		/* The ring page and event channel are not used here. */
		if (!xs_introduce_domain(xs, domid, 0, 1))
			die("cannot introduce domain %u: %s", domid,
			    strerror(errno));
	}
	free(home);
	xs_close(xs);
}

/* Single-quoted for any POSIX shell. */
static void print_export(const char *name, const char *value)
{
	printf("export %s='", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	fputs("'\n", stdout);
}

static int cmd_env(const char *dir, const char *domid_arg)
{
	unsigned domid = parse_domid(domid_arg);
	char *sock, *simlib, *ldpath, *self, domid_str[16];
	const char *old;
	struct sim sim;
	size_t n;

	sim_init(&sim, dir);
	sim_require_running(&sim, dir);
	sock = socket_path(&sim, domid);
	if (!exists(sock))
		create_domain(&sim, domid);
	if (!exists(sock))
		die("domain %u has no socket %s", domid, sock);

	/* The drop-in grant table and event channel libraries are built
	 * next to us, in <build>/tests/simlib. */
	self = self_dir();
	*strrchr(self, '/') = '\0';
	simlib = xasprintf("%s/simlib", self);
	old = getenv("LD_LIBRARY_PATH");
	n = strlen(simlib);
	if (!old || !*old)
		ldpath = xasprintf("%s", simlib);
	else if (!strncmp(old, simlib, n) && (old[n] == ':' || !old[n]))
		ldpath = xasprintf("%s", old);	/* already first */
	else
		ldpath = xasprintf("%s:%s", simlib, old);

	snprintf(domid_str, sizeof(domid_str), "%u", domid);
	print_export("XENSTORED_PATH", sock);
	print_export("XENSIM_DIR", sim.dir);
	print_export("XENSIM_DOMID", domid_str);
	print_export("LD_LIBRARY_PATH", ldpath);
	if (fflush(stdout))
		die("cannot write: %s", strerror(errno));
	free(ldpath);
	free(simlib);
	free(self);
	free(sock);
	sim_fini(&sim);
	return 0;
}

/* Like xl destroy: the toolstack removes the home, xenstored drops the
 * domain (and what it still owns) and fires @releaseDomain. */
static int cmd_destroy(const char *dir, const char *domid_arg)
{
	unsigned domid = parse_domid(domid_arg);
	struct xs_handle *xs;
	struct sim sim;
	char *home;

	if (domid == 0)
		die("domain 0 cannot be destroyed");
	sim_init(&sim, dir);
	sim_require_running(&sim, dir);
	xs = open_as(&sim, 0);
	home = xs_get_domain_path(xs, domid);
	if (!home || !xs_rm(xs, XBT_NULL, home))
		die("cannot remove the home of domain %u: %s", domid,
		    strerror(errno));
	if (!xs_release_domain(xs, domid) && errno != ENOENT)
		die("cannot release domain %u: %s", domid, strerror(errno));
	free(home);
	xs_close(xs);
	sim_fini(&sim);
	return 0;
}

/* Sanitizer builds: a report in the log means xenstored misbehaved. */
static bool log_has_sanitizer_report(const struct sim *sim)
{
	FILE *f = fopen(sim->log_file, "r");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "Sanitizer") ||
			strstr(line, "runtime error:");
	fclose(f);
	return found;
}

static int cmd_stop(const char *dir)
{
	struct sim sim;
	pid_t pid;
	int status = 0;

	if (!exists(dir))
		return 0;	/* nothing to stop: fine for cleanup traps */
	sim_init(&sim, dir);
	if (!sim_has_marker(&sim))
		die("%s is not a simulation directory: not removing it", dir);
	pid = sim_pid(&sim);
	if (pid) {
		long deadline = now_ms() + STOP_TIMEOUT_MS;

		kill(pid, SIGTERM);
		while (xenstored_alive(pid) && now_ms() < deadline)
			usleep(10000);
		if (xenstored_alive(pid)) {
			fprintf(stderr, "testbed: xenstored %ld ignored SIGTERM; "
				"killing it\n", (long)pid);
			kill(pid, SIGKILL);
			while (xenstored_alive(pid))
				usleep(10000);
			status = 1;
		}
	}
	if (log_has_sanitizer_report(&sim)) {
		print_log_tail(&sim);
		fprintf(stderr, "testbed: xenstored reported errors (log "
			"above)\n");
		status = 1;
	}
	remove_tree(sim.dir);
	sim_fini(&sim);
	return status;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !argv[2][0]) {
		fputs("testbed: empty directory name\n", stderr);
		return 2;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "start"))
		return cmd_start(argv[2], argv + 3, argc - 3);
	if (argc == 4 && !strcmp(argv[1], "env"))
		return cmd_env(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "destroy"))
		return cmd_destroy(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "stop"))
		return cmd_stop(argv[2]);
	usage(stderr);
	return 2;
}
