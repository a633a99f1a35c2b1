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
#include <unistd.h>

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

int vbd_backing_current_size(const struct vbd_backing *b, uint64_t *size)
{
	uint64_t s;
	struct stat st;

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
}
