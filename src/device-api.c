/* SPDX-License-Identifier: MIT */
/*
 * The device half of the class API (class.h): what a class may ask of and
 * tell about its device in the main process.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-private.h"
#include "log.h"
#include "store.h"

void *xbd_device_priv(struct xbd_device *d)
{
	return d->priv;
}

const char *xbd_device_name(const struct xbd_device *d)
{
	return d->name;
}

unsigned int xbd_device_frontend_id(const struct xbd_device *d)
{
	return d->frontend_id;
}

unsigned int xbd_device_devid(const struct xbd_device *d)
{
	return d->devid;
}

const char *xbd_device_backend_path(const struct xbd_device *d)
{
	return d->bpath;
}

const char *xbd_device_frontend_path(const struct xbd_device *d)
{
	return d->fpath;
}

static char *read_below(const char *dir, const char *node)
{
	char *path, *v;

	if (!*dir) {
		errno = ENOENT;
		return NULL;
	}
	if (asprintf(&path, "%s/%s", dir, node) < 0)
		return NULL;
	v = store_read(path);
	free(path);
	return v;
}

char *xbd_backend_read(struct xbd_device *d, const char *node)
{
	return read_below(d->bpath, node);
}

char *xbd_frontend_read(struct xbd_device *d, const char *node)
{
	return read_below(d->fpath, node);
}

static int parse_uint(char *v, unsigned long max, unsigned long *value)
{
	unsigned long n = 0;
	int rc = 0;

	if (!v)
		return -1;	/* errno from the read */
	if (!*v || strlen(v) > 20)
		rc = EINVAL;
	for (char *c = v; !rc && *c; c++) {
		if (!isdigit((unsigned char)*c))
			rc = EINVAL;
		else if (n > (ULONG_MAX - (*c - '0')) / 10)
			rc = ERANGE;
		else
			n = n * 10 + (*c - '0');
	}
	free(v);
	if (!rc && n > max)
		rc = ERANGE;
	if (rc) {
		errno = rc;
		return -1;
	}
	*value = n;
	return 0;
}

int xbd_frontend_read_uint(struct xbd_device *d, const char *node,
			   unsigned long max, unsigned long *value)
{
	return parse_uint(xbd_frontend_read(d, node), max, value);
}

int xbd_backend_read_uint(struct xbd_device *d, const char *node,
			  unsigned long max, unsigned long *value)
{
	return parse_uint(xbd_backend_read(d, node), max, value);
}

int xbd_backend_write(struct xbd_device *d, const char *node,
		      const char *fmt, ...)
{
	char *path, *value;
	va_list ap;
	int rc, err;

	va_start(ap, fmt);
	rc = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	if (asprintf(&path, "%s/%s", d->bpath, node) < 0) {
		free(value);
		return -1;
	}
	rc = store_write_in(d->bpath, path, value);
	err = errno;
	if (rc && err == ENOENT)
		device_backend_gone(d);
	free(path);
	free(value);
	errno = err;
	return rc;
}

void xbd_device_error(struct xbd_device *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	device_verror(d, err, fmt, ap);
	va_end(ap);
}

void xbd_device_keep_fd(struct xbd_device *d, int fd)
{
	for (unsigned int i = 0; i < d->nr_kept; i++)
		if (d->kept[i] == fd)
			return;
	if (d->nr_kept == MAX_KEPT_FDS) {
		xbd_log(XBD_ERROR, "%s: more than %d fds to keep", d->name,
			MAX_KEPT_FDS);
		return;
	}
	d->kept[d->nr_kept++] = fd;
}

void xbd_device_forget_fd(struct xbd_device *d, int fd)
{
	for (unsigned int i = 0; i < d->nr_kept; i++)
		if (d->kept[i] == fd) {
			d->kept[i] = d->kept[--d->nr_kept];
			return;
		}
}
