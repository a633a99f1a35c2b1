/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_common.h"

int sim_env_read(xentoollog_logger *lg, const char *ctx, struct sim_env *env)
{
	const char *id = getenv("XENSIM_DOMID");
	const char *dir = getenv("XENSIM_DIR");
	struct stat st;
	char *end;
	unsigned long v;

	if (!id || !*id) {
		errno = ENOENT;
		SIM_ERR(lg, ctx, "XENSIM_DOMID is not set: this is the xenbackd "
			"simulation library, which needs XENSIM_DOMID=<domid> "
			"and XENSIM_DIR=<directory>");
		return -1;
	}
	errno = 0;
	v = strtoul(id, &end, 10);
	if (errno || *end || v >= SIM_DOMID_FIRST_RESERVED) {
		errno = EINVAL;
		SIM_ERR(lg, ctx, "XENSIM_DOMID='%s' is not a domain id "
			"(0 to %u)", id, SIM_DOMID_FIRST_RESERVED - 1);
		return -1;
	}
	if (!dir || !*dir) {
		errno = ENOENT;
		SIM_ERR(lg, ctx, "XENSIM_DIR is not set: this is the xenbackd "
			"simulation library, which needs XENSIM_DIR=<directory> "
			"shared by all simulated domains");
		return -1;
	}
	if (stat(dir, &st) < 0) {
		SIM_ERR(lg, ctx, "XENSIM_DIR='%s' cannot be used", dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		SIM_ERR(lg, ctx, "XENSIM_DIR='%s' is not a directory", dir);
		return -1;
	}
	env->domid = (uint32_t)v;
	/* absolute, so processes started elsewhere agree on every path */
	if (!realpath(dir, env->dir)) {
		SIM_ERR(lg, ctx, "XENSIM_DIR='%s' cannot be resolved", dir);
		return -1;
	}
	if (strlen(env->dir) >= sizeof(env->dir) - 32) {
		errno = ENAMETOOLONG;
		SIM_ERR(lg, ctx, "XENSIM_DIR='%s' is too long", dir);
		return -1;
	}
	return 0;
}

int sim_subdir(const struct sim_env *env, const char *sub, char *out,
	       size_t len)
{
	if ((size_t)snprintf(out, len, "%s/%s", env->dir, sub) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(out, SIM_DIR_MODE) == 0)
		return chmod(out, SIM_DIR_MODE);	/* past the umask */
	return errno == EEXIST ? 0 : -1;
}

int sim_open_shared(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, SIM_FILE_MODE);

	if (fd >= 0 && (flags & O_CREAT))
		(void)fchmod(fd, SIM_FILE_MODE);
	return fd;
}

static int create_initialised(const char *path, size_t size,
			      void (*init)(void *))
{
	static atomic_uint seq;
	char tmp[PATH_MAX + 64];
	void *p;
	int fd, rc = -1, e;

	snprintf(tmp, sizeof(tmp), "%s.new.%d.%u", path, (int)getpid(),
		 atomic_fetch_add(&seq, 1));
	fd = sim_open_shared(tmp, O_RDWR | O_CREAT | O_EXCL);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0)
		goto out;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out;
	init(p);
	munmap(p, size);
	/* link() publishes it whole; losing the race to another creator is fine */
	if (link(tmp, path) < 0 && errno != EEXIST)
		goto out;
	rc = 0;
out:
	e = errno;
	unlink(tmp);
	close(fd);
	errno = e;
	return rc;
}

void *sim_map_shared(const char *path, size_t size, void (*init)(void *))
{
	struct stat st;
	void *p;
	int fd = sim_open_shared(path, O_RDWR);

	if (fd < 0 && errno == ENOENT && init) {
		if (create_initialised(path, size, init) < 0)
			return NULL;
		fd = sim_open_shared(path, O_RDWR);
	}
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || (size_t)st.st_size != size) {
		close(fd);
		errno = EPROTO;	/* made by another version of this library */
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	/* the mapping is all we need: a daemon closing stray fds cannot hurt it */
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

void sim_mutex_init_shared(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	/* a SIGKILLed holder must not wedge every other simulated domain */
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

void sim_mutex_lock(pthread_mutex_t *m)
{
	int rc = pthread_mutex_lock(m);

	/*
	 * The dead holder's edits are single-field stores, so the state is
	 * usable as it stands.
	 */
	if (rc == EOWNERDEAD)
		rc = pthread_mutex_consistent(m);
	if (rc)
		abort();
}

void sim_mutex_unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
}

xentoollog_logger *sim_logger(xentoollog_logger *given,
			      xentoollog_logger **tofree)
{
	*tofree = NULL;
	if (given)
		return given;
	*tofree = (xentoollog_logger *)
		xtl_createlogger_stdiostream(stderr, XTL_PROGRESS, 0);
	return *tofree;
}
