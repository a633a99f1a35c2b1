/* SPDX-License-Identifier: MIT */
/*
 * The backing store: open, size, sector sizes, discard capabilities.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#if HAVE_LIBNBD
#include <libnbd.h>
#include <poll.h>
#endif

#include "vbd/backing.h"

const char *vbd_backing_path_from_params(const char *s)
{
	static const char *const prefixes[] = { "file:", "phy:", "raw:",
						"aio:" };
	unsigned int i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (!strncmp(s, prefixes[i], n))
			return s + n;
	}
	return s;
}

static int fail(char *msg, size_t msglen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *msg, size_t msglen, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return err;
}

/* A number from a sysfs attribute of the block device (or its disk). */
static bool sysfs_uint(dev_t dev, const char *attr, uint64_t *v)
{
	static const char *const dirs[] = { "", "../" };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		char path[128];
		unsigned long long n;
		FILE *f;
		int ok;

		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s%s",
			 major(dev), minor(dev), dirs[i], attr);
		f = fopen(path, "re");
		if (!f)
			continue;
		ok = fscanf(f, "%llu", &n) == 1;
		fclose(f);
		if (ok) {
			*v = n;
			return true;
		}
	}
	return false;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int probe_block(struct vbd_backing *b, char *msg, size_t msglen)
{
	uint64_t size, v;
	int lss = 512;
	unsigned int pss = 0;

	if (ioctl(b->fd, BLKGETSIZE64, &size) < 0)
		return fail(msg, msglen, errno, "BLKGETSIZE64: %s",
			    strerror(errno));
	if (ioctl(b->fd, BLKSSZGET, &lss) < 0 || lss < 512 ||
	    !pow2((uint64_t)lss))
		lss = 512;
	if (lss > 4096)
		return fail(msg, msglen, EINVAL,
			    "logical sector size %d not supported", lss);
	if (ioctl(b->fd, BLKPBSZGET, &pss) < 0 || pss < (unsigned int)lss ||
	    !pow2(pss))
		pss = (unsigned int)lss;
	b->sector_size = (unsigned int)lss;
	b->physical_sector_size = pss;
	b->size = size;

	if (!b->readonly && sysfs_uint(b->rdev, "queue/discard_max_bytes", &v) &&
	    v > 0) {
		b->discard = true;
		if (sysfs_uint(b->rdev, "queue/discard_granularity", &v) &&
		    v >= (uint64_t)lss && v <= UINT32_MAX)
			b->discard_granularity = (unsigned int)v;
		else
			b->discard_granularity = (unsigned int)lss;
		if (sysfs_uint(b->rdev, "discard_alignment", &v) &&
		    v <= UINT32_MAX)
			b->discard_alignment = (unsigned int)v;
		/*
		 * Secure erase cannot be probed without erasing (an empty
		 * BLKSECDISCARD drops the device's whole page cache), and
		 * sysfs does not show it: not offered.
		 */
	}
	b->cache = true;
	return 0;
}

static int probe_file(struct vbd_backing *b, const struct stat *st,
		      const struct vbd_options *o)
{
	b->size = (uint64_t)st->st_size;
	b->sector_size = o->file_sector_size;
	b->physical_sector_size = b->sector_size;
	/* The file system block is the unit it rewrites. */
	if (st->st_blksize >= (blksize_t)b->sector_size &&
	    st->st_blksize <= 4096 && pow2((uint64_t)st->st_blksize))
		b->physical_sector_size = (unsigned int)st->st_blksize;
	b->cache = true;
	if (!b->readonly) {
		/* Punching past the end changes nothing, where it works. */
		off_t end = st->st_size > 0 ? st->st_size : 0;

		b->discard = fallocate(b->fd, FALLOC_FL_PUNCH_HOLE |
					      FALLOC_FL_KEEP_SIZE,
				       end, 4096) == 0;
		b->discard_granularity = b->physical_sector_size;
		b->discard_alignment = 0;
	}
	return 0;
}

/* Whether direct I/O on this file takes 512-byte aligned buffers. */
static bool direct_io_fits(int fd, unsigned int sector_size)
{
#ifdef STATX_DIOALIGN
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN)) {
		if (stx.stx_dio_mem_align == 0)
			return false;	/* not supported on this file */
		return stx.stx_dio_mem_align <= 512 &&
		       stx.stx_dio_offset_align <= sector_size;
	}
#endif
	(void)fd;
	(void)sector_size;
	return true;
}

int vbd_backing_open(struct vbd_backing *b, const char *path, bool readonly,
		     const struct vbd_options *o, char *msg, size_t msglen)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int err;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->readonly = readonly;
	if (!path[0] || path[0] != '/')
		return fail(msg, msglen, EINVAL,
			    "backing store \"%s\" is not an absolute path",
			    path);
	if (stat(path, &st) < 0)
		return fail(msg, msglen, errno, "%s: %s", path,
			    strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return fail(msg, msglen, EINVAL,
			    "%s: neither a regular file nor a block device",
			    path);
	b->is_block = S_ISBLK(st.st_mode);
	/* A writable block device is ours alone (fails if mounted). */
	if (b->is_block && !readonly)
		flags |= O_EXCL;

	if (o->direct_io != VBD_DIRECT_OFF) {
		b->fd = open(path, flags | O_DIRECT);
		if (b->fd >= 0)
			b->direct = true;
		else if (errno != EINVAL || o->direct_io == VBD_DIRECT_ON)
			return fail(msg, msglen, errno, "%s: %s%s", path,
				    strerror(errno),
				    errno == EBUSY ? " (mounted or in use)"
						   : "");
	}
	if (b->fd < 0) {
		b->fd = open(path, flags);
		if (b->fd < 0)
			return fail(msg, msglen, errno, "%s: %s%s", path,
				    strerror(errno),
				    errno == EBUSY ? " (mounted or in use)"
						   : "");
	}
	/* The file may have been replaced between stat and open. */
	if (fstat(b->fd, &st) < 0) {
		err = errno;
		vbd_backing_close(b);
		return fail(msg, msglen, err, "%s: %s", path, strerror(err));
	}
	if (S_ISBLK(st.st_mode) != b->is_block || (!S_ISBLK(st.st_mode) &&
						   !S_ISREG(st.st_mode))) {
		vbd_backing_close(b);
		return fail(msg, msglen, EAGAIN, "%s: changed while opening",
			    path);
	}
	if (b->is_block) {
		b->rdev = st.st_rdev;
		err = probe_block(b, msg, msglen);
	} else {
		err = probe_file(b, &st, o);
	}
	if (err) {
		vbd_backing_close(b);
		return err;
	}
	if (b->direct && o->direct_io == VBD_DIRECT_AUTO &&
	    !direct_io_fits(b->fd, b->sector_size)) {
		int fl = fcntl(b->fd, F_GETFL);

		if (fl >= 0 && fcntl(b->fd, F_SETFL, fl & ~O_DIRECT) == 0)
			b->direct = false;
	}
	b->size -= b->size % b->sector_size;
	return 0;
}

bool vbd_backing_is_nbd_uri(const char *s)
{
	static const char *const schemes[] = { "nbd://", "nbd+unix://",
					       "nbds://", "nbds+unix://" };
	unsigned int i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(s, schemes[i], strlen(schemes[i])))
			return true;
	return false;
}

#if HAVE_LIBNBD
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Drives h's connection until it is ready, dead, or the deadline passes:
 * the main process must not wait long for a server that does not answer.
 * 0, -1 (libnbd's error), or -2 (the deadline passed).
 */
static int nbd_wait_ready(struct nbd_handle *h, uint64_t deadline)
{
	while (!nbd_aio_is_ready(h)) {
		struct pollfd p = { .fd = nbd_aio_get_fd(h) };
		unsigned int dir = nbd_aio_get_direction(h);
		uint64_t t = now_ms();
		int n;

		if (nbd_aio_is_dead(h) || nbd_aio_is_closed(h) || p.fd < 0)
			return -1;
		if (t >= deadline)
			return -2;
		if (dir & LIBNBD_AIO_DIRECTION_READ)
			p.events |= POLLIN;
		if (dir & LIBNBD_AIO_DIRECTION_WRITE)
			p.events |= POLLOUT;
		n = poll(&p, 1, (int)(deadline - t));
		if (n <= 0)
			continue;
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    nbd_aio_notify_read(h) < 0)
			return -1;
		if ((p.revents & POLLOUT) && nbd_aio_notify_write(h) < 0)
			return -1;
	}
	return 0;
}

/* libnbd's message for the last error, or errno's. */
static const char *nbd_why(int err)
{
	const char *m = nbd_get_error();

	return m && m[0] ? m : strerror(err);
}

int vbd_backing_probe_nbd(struct vbd_backing *b, const char *uri,
			  bool readonly, unsigned int timeout_ms,
			  char *msg, size_t msglen)
{
	struct nbd_handle *h;
	int64_t size;
	int err, ro, ret;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	h = nbd_create();
	if (!h)
		return fail(msg, msglen, ENOMEM, "NBD: %s", nbd_why(ENOMEM));
	nbd_set_handle_name(h, "xenbackd-probe");
	ret = nbd_aio_connect_uri(h, uri);
	if (ret == 0)
		ret = nbd_wait_ready(h, now_ms() + timeout_ms);
	if (ret == -2) {
		fail(msg, msglen, ETIMEDOUT, "NBD server %s: no answer in "
		     "%u ms", uri, timeout_ms);
		nbd_close(h);
		return ETIMEDOUT;
	}
	if (ret < 0) {
		err = nbd_get_errno() ? nbd_get_errno() : EIO;
		fail(msg, msglen, err, "NBD server %s: %s", uri, nbd_why(err));
		nbd_close(h);
		return err;
	}
	size = nbd_get_size(h);
	ro = nbd_is_read_only(h);
	if (size < 0 || ro < 0) {
		err = nbd_get_errno() ? nbd_get_errno() : EIO;
		fail(msg, msglen, err, "NBD server %s: %s", uri, nbd_why(err));
		nbd_close(h);
		return err;
	}
	b->nbd_uri = strdup(uri);
	if (!b->nbd_uri) {
		nbd_close(h);
		return fail(msg, msglen, ENOMEM, "out of memory");
	}
	b->readonly = readonly || ro == 1;
	b->sector_size = 512;
	b->physical_sector_size = 512;
	{
		int64_t pref = nbd_get_block_size(h, LIBNBD_SIZE_PREFERRED);

		if (pref >= 512 && pref <= 4096 && pow2((uint64_t)pref))
			b->physical_sector_size = (unsigned int)pref;
	}
	b->size = (uint64_t)size - (uint64_t)size % b->sector_size;
	b->cache = nbd_can_flush(h) == 1;
	b->discard = !b->readonly && nbd_can_trim(h) == 1;
	b->discard_granularity = b->physical_sector_size;
	b->discard_alignment = 0;
	nbd_close(h);
	return 0;
}
#else
int vbd_backing_probe_nbd(struct vbd_backing *b, const char *uri,
			  bool readonly, unsigned int timeout_ms,
			  char *msg, size_t msglen)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	return fail(msg, msglen, EPROTONOSUPPORT, "%s: this xenbackd is "
		    "built without NBD support (libnbd)", uri);
}
#endif

int vbd_backing_current_size(const struct vbd_backing *b, uint64_t *size)
{
	uint64_t s;
	struct stat st;

	if (b->nbd_uri) {
		/* Fixed while connected: a resize is not followed. */
		*size = b->size;
		return 0;
	}
	if (b->is_block) {
		if (ioctl(b->fd, BLKGETSIZE64, &s) < 0)
			return -1;
	} else {
		if (fstat(b->fd, &st) < 0)
			return -1;
		s = (uint64_t)st.st_size;
	}
	*size = s - s % b->sector_size;
	return 0;
}

void vbd_backing_close(struct vbd_backing *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	free(b->nbd_uri);
	b->nbd_uri = NULL;
}
