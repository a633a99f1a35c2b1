/* SPDX-License-Identifier: MIT */
/*
 * A process that does not say which domain it is, or where the simulation
 * lives, cannot open a handle: the open fails with errno set and a message
 * through the caller's xentoollog logger naming the missing variable.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xentoollog.h>

#include "simtest.h"

/* Opens all three kinds of handle; each must fail with errno e and log. */
static void refused(int e, const char *mention)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	xentoollog_logger_stdiostream *lg =
		xtl_createlogger_stdiostream(f, XTL_DEBUG, 0);
	xentoollog_logger *l = (xentoollog_logger *)lg;

	CHECK(f && lg);
	errno = 0;
	CHECK(xengnttab_open(l, 0) == NULL && errno == e, "gnttab, %s",
	      mention);
	errno = 0;
	CHECK(xengntshr_open(l, 0) == NULL && errno == e, "gntshr, %s",
	      mention);
	errno = 0;
	CHECK(xenevtchn_open(l, 0) == NULL && errno == e, "evtchn, %s",
	      mention);
	xtl_logger_destroy(l);
	fclose(f);
	CHECK(strstr(text, mention), "log does not mention %s: %s", mention,
	      text);
	free(text);
}

int main(int argc, char **argv)
{
	xengnttab_handle *gt;
	xengntshr_handle *gs;
	xenevtchn_handle *xe;
	const char *dir;

	(void)argc;
	simtest_use_simlib(argv);
	dir = simtest_make_dir();

	unsetenv("XENSIM_DOMID");
	refused(ENOENT, "XENSIM_DOMID");
	setenv("XENSIM_DOMID", "dom0", 1);
	refused(EINVAL, "XENSIM_DOMID");
	setenv("XENSIM_DOMID", "32752", 1);	/* DOMID_FIRST_RESERVED */
	refused(EINVAL, "XENSIM_DOMID");

	setenv("XENSIM_DOMID", "0", 1);
	unsetenv("XENSIM_DIR");
	refused(ENOENT, "XENSIM_DIR");
	setenv("XENSIM_DIR", "/nonexistent/xensim", 1);
	refused(ENOENT, "XENSIM_DIR");
	setenv("XENSIM_DIR", "/proc/self/status", 1);
	refused(ENOTDIR, "XENSIM_DIR");

	setenv("XENSIM_DIR", dir, 1);
	gt = xengnttab_open(NULL, 0);
	gs = xengntshr_open(NULL, 0);
	xe = xenevtchn_open(NULL, 0);
	CHECK(gt && gs && xe);
	CHECK(xengnttab_close(gt) == 0 && xengntshr_close(gs) == 0 &&
	      xenevtchn_close(xe) == 0);
	CHECK(xengnttab_close(NULL) == 0 && xengntshr_close(NULL) == 0 &&
	      xenevtchn_close(NULL) == 0);
	printf("environment test passed\n");
	return 0;
}
