/* SPDX-License-Identifier: MIT */
/*
 * The daemon's logging for unit tests: to stderr when XBD_TEST_VERBOSE
 * is set, else only errors and warnings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <xenbackd/class.h>

void xbd_vlog(enum xbd_log_level level, const char *fmt, va_list ap)
{
	if (level > XBD_WARN && !getenv("XBD_TEST_VERBOSE"))
		return;
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void xbd_log(enum xbd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xbd_vlog(level, fmt, ap);
	va_end(ap);
}

/* Not rate limited here: the tests see every message. */
void xbd_log_guest(enum xbd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xbd_vlog(level, fmt, ap);
	va_end(ap);
}
