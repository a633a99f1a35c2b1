/* SPDX-License-Identifier: MIT */
/*
 * The main process's side of an NBD backing store: which params values
 * name an export, and the check of one (vbd_backing_probe_nbd): a bad
 * URI, an absent socket, a server that never answers (given up at the
 * timeout), and, where nbdkit is installed, a real export's size and
 * flags, read-write and read-only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "vbd/backing.h"

static bool is_nbd(const char *params)
{
	return vbd_backing_is_nbd_uri(vbd_backing_path_from_params(params));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A unix socket that is listened on and never accepted: a silent server. */
static int silent_listener(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 4)) {
		perror("silent listener");
		return -1;
	}
	return fd;
}

/* Starts nbdkit in the background on sock (it forks once it listens). */
static bool nbdkit(const char *dir, const char *name, const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "nbdkit -U %s/%s.sock -P %s/%s.pid %s "
		 "2>/dev/null", dir, name, dir, name, args);
	return system(cmd) == 0;
}

static void nbdkit_stop(const char *dir, const char *name)
{
	char path[256];
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/%s.pid", dir, name);
	f = fopen(path, "re");
	if (f && fscanf(f, "%d", &pid) == 1 && pid > 1)
		kill(pid, SIGTERM);
	if (f)
		fclose(f);
}

int main(void)
{
	struct vbd_backing b;
	char msg[320], dir[] = "/tmp/xbd-nbd-unit.XXXXXX", uri[300];
	int err, fd;
	double t0;

	/* Which params name an export: after the prefix, the scheme. */
	CHECK(is_nbd("nbd://host/export"));
	CHECK(is_nbd("nbd://host:10809/export"));
	CHECK(is_nbd("nbd+unix:///export?socket=/run/s"));
	CHECK(is_nbd("nbds://host/export"));
	CHECK(is_nbd("nbds+unix:///?socket=/run/s"));
	CHECK(is_nbd("raw:nbd://host/export"));
	CHECK(is_nbd("aio:nbd+unix:///?socket=/s"));
	CHECK(!is_nbd("/srv/disk.img"));
	CHECK(!is_nbd("phy:/dev/vg/lv"));
	CHECK(!is_nbd("nbd:host:10809"));	/* xl's old script prefix */
	CHECK(!is_nbd("NBD://host/export"));
	CHECK(!is_nbd("nbd+vsock:///"));
	CHECK(!is_nbd(""));

	CHECK(mkdtemp(dir) != NULL);

#if HAVE_LIBNBD
	/* A URI libnbd cannot parse. */
	err = vbd_backing_probe_nbd(&b, "nbd://[::1", false, 1000, msg,
				    sizeof(msg));
	CHECK(err != 0);
	CHECK(strstr(msg, "nbd://[::1") != NULL);
	CHECK_EQ(b.fd, -1);
	CHECK(b.nbd_uri == NULL);

	/* No server on the socket. */
	snprintf(uri, sizeof(uri), "nbd+unix:///?socket=%s/none.sock", dir);
	err = vbd_backing_probe_nbd(&b, uri, false, 1000, msg, sizeof(msg));
	CHECK_EQ(err, ENOENT);
	CHECK(strstr(msg, "none.sock") != NULL);

	/* A server that never answers: given up at the timeout, no later. */
	snprintf(uri, sizeof(uri), "%s/silent.sock", dir);
	fd = silent_listener(uri);
	CHECK(fd >= 0);
	snprintf(uri, sizeof(uri), "nbd+unix:///?socket=%s/silent.sock", dir);
	t0 = now();
	err = vbd_backing_probe_nbd(&b, uri, false, 300, msg, sizeof(msg));
	t0 = now() - t0;
	CHECK_EQ(err, ETIMEDOUT);
	CHECK(strstr(msg, "no answer in 300 ms") != NULL);
	CHECK(t0 >= 0.29 && t0 < 1.5);
	close(fd);

	/* A real export, where nbdkit is installed (the suite installs it). */
	if (system("command -v nbdkit >/dev/null") == 0) {
		CHECK(nbdkit(dir, "rw", "memory 3M"));
		snprintf(uri, sizeof(uri), "nbd+unix:///?socket=%s/rw.sock",
			 dir);
		err = vbd_backing_probe_nbd(&b, uri, false, 3000, msg,
					    sizeof(msg));
		CHECK_EQ(err, 0);
		if (err)
			fprintf(stderr, "probe: %s\n", msg);
		CHECK_EQ(b.size, 3 << 20);
		CHECK(!b.readonly);
		CHECK(b.discard);	/* memory plugin: trim */
		CHECK(b.cache);		/* and flush */
		CHECK_EQ(b.sector_size, 512);
		CHECK_EQ(b.fd, -1);
		CHECK(b.nbd_uri && !strcmp(b.nbd_uri, uri));
		vbd_backing_current_size(&b, &b.size);
		CHECK_EQ(b.size, 3 << 20);
		vbd_backing_close(&b);
		CHECK(b.nbd_uri == NULL);
		/* mode without w: read-only, no discard. */
		err = vbd_backing_probe_nbd(&b, uri, true, 3000, msg,
					    sizeof(msg));
		CHECK_EQ(err, 0);
		CHECK(b.readonly && !b.discard);
		vbd_backing_close(&b);
		nbdkit_stop(dir, "rw");

		/* A read-only export: a read-only disk whatever mode says. */
		CHECK(nbdkit(dir, "ro", "-r memory 1M"));
		snprintf(uri, sizeof(uri), "nbd+unix:///?socket=%s/ro.sock",
			 dir);
		err = vbd_backing_probe_nbd(&b, uri, false, 3000, msg,
					    sizeof(msg));
		CHECK_EQ(err, 0);
		CHECK(b.readonly && !b.discard);
		CHECK_EQ(b.size, 1 << 20);
		vbd_backing_close(&b);
		nbdkit_stop(dir, "ro");
	} else {
		printf("nbdkit not installed: real exports not checked\n");
	}
#else
	err = vbd_backing_probe_nbd(&b, "nbd://host/x", false, 1000, msg,
				    sizeof(msg));
	CHECK_EQ(err, EPROTONOSUPPORT);
	CHECK(strstr(msg, "without NBD support") != NULL);
	(void)fd;
	(void)t0;
	(void)uri;
#endif
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK(system(cmd) == 0);
	}
	return test_exit("test-vbd-nbd-backing");
}
