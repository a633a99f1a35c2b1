/* SPDX-License-Identifier: MIT */
/*
 * The daemon's logging for tests (stubs.h): to stderr, everything when
 * XBD_TEST_VERBOSE is set, else only errors and warnings unless the test
 * says otherwise.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <xenbackd/class.h>

#include "stubs.h"

int xbd_test_log_level = XBD_WARN;

void xbd_vlog(enum xbd_log_level level, const char *fmt, va_list ap)
{
	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("XBD_TEST_VERBOSE") != NULL;
	if ((int)level > xbd_test_log_level && !verbose)
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
