/* SPDX-License-Identifier: MIT */
/*
 * xentoolcore_restrict_all() on the simulated handles does what it does on
 * real Xen: the gnttab handle is neutered (its fd becomes /dev/null, every
 * call then fails with ENOTTY, existing mappings stay), the evtchn handle
 * may only bind to the given domain, gntshr handles are untouched, and
 * handles opened afterwards are not restricted.
 */
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <xen/grant_table.h>
#include <xen/xen.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xentoolcore.h>

#include "simtest.h"

enum { NOTIFIED = 1, FINISH };

struct offer {
	uint32_t ref, a, b;
};

static void expect(int fd, uint32_t what)
{
	uint32_t got = simtest_recv_u32(fd);

	CHECK(got == what, "expected message %u, got %u", what, got);
}

static int frontend(int fd)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	struct offer o;
	uint8_t *page;

	CHECK(gs && xe);
	page = xengntshr_share_pages(gs, 0, 1, &o.ref, 1);
	CHECK(page);
	memset(page, 'R', PAGE);
	o.a = (uint32_t)xenevtchn_bind_unbound_port(xe, 0);
	o.b = (uint32_t)xenevtchn_bind_unbound_port(xe, 0);
	CHECK((int)o.a > 0 && (int)o.b > 0);
	simtest_send(fd, &o, sizeof(o));
	CHECK(simtest_event(xe, 5000) == (int)o.a,
	      "a restricted handle's bound port no longer notifies");
	CHECK(xenevtchn_unmask(xe, o.a) == 0);
	simtest_send_u32(fd, NOTIFIED);
	expect(fd, FINISH);
	xengntshr_unshare(gs, page, 1);
	xengntshr_close(gs);
	xenevtchn_close(xe);
	return 0;
}

static int backend(int fd)
{
	xengnttab_handle *gt = xengnttab_open(NULL, 0), *gt2;
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0), *xe2;
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_grant_copy_segment_t seg;
	uint8_t buf[16], *m, *m2, *shared;
	struct offer o;
	struct stat st;
	uint32_t ref;
	int a, b;

	CHECK(gt && xe && gs);
	simtest_recv(fd, &o, sizeof(o));
	m = xengnttab_map_grant_ref(gt, 5, o.ref, PROT_READ | PROT_WRITE);
	CHECK(m && m[0] == 'R');
	a = xenevtchn_bind_interdomain(xe, 5, o.a);
	CHECK(a > 0);
	CHECK(simtest_event(xe, 5000) == a);
	CHECK(xenevtchn_unmask(xe, (uint32_t)a) == 0);

	CHECK(xentoolcore_restrict_all(7) == 0);

	/* the gnttab fd is now /dev/null, as libxengnttab's callback makes it */
	CHECK(fstat(xengnttab_fd(gt), &st) == 0 && S_ISCHR(st.st_mode) &&
	      major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
	CHECK(xengnttab_map_grant_ref(gt, 5, o.ref, PROT_READ) == NULL &&
	      errno == ENOTTY);
	memset(&seg, 0, sizeof(seg));
	seg.source.foreign.ref = o.ref;
	seg.source.foreign.domid = 5;
	seg.dest.virt = buf;
	seg.len = sizeof(buf);
	seg.flags = GNTCOPY_source_gref;
	CHECK(xengnttab_grant_copy(gt, 1, &seg) == -1 && errno == ENOTTY);
	CHECK(xengnttab_unmap(gt, m, 1) == -1 && errno == ENOTTY);
	CHECK(m[0] == 'R', "the mapping made before went away");
	CHECK(xengnttab_set_max_grants(gt, 1) == 0);

	/* the evtchn handle binds only to domain 7 now */
	CHECK(xenevtchn_bind_interdomain(xe, 5, o.b) == -1 && errno == EACCES);
	CHECK(xenevtchn_bind_unbound_port(xe, 5) == -1 && errno == EACCES);
	CHECK(xenevtchn_bind_virq(xe, VIRQ_DOM_EXC) == -1 && errno == EACCES);
	CHECK(xenevtchn_bind_interdomain(xe, 7, 1) == -1 && errno == ESRCH,
	      "domain 7 is allowed, and does not exist");
	CHECK(xenevtchn_restrict(xe, 5) == -1 && errno == EACCES);
	CHECK(xentoolcore_restrict_all(7) == -1 && errno == EACCES);
	/* ports bound before keep working */
	CHECK(xenevtchn_notify(xe, (uint32_t)a) == 0);
	expect(fd, NOTIFIED);

	/* gntshr handles are not registered with libxentoolcore */
	shared = xengntshr_share_pages(gs, 5, 1, &ref, 1);
	CHECK(shared);
	CHECK(xengntshr_unshare(gs, shared, 1) == 0);

	/* handles opened afterwards are not restricted */
	gt2 = xengnttab_open(NULL, 0);
	CHECK(gt2);
	m2 = xengnttab_map_grant_ref(gt2, 5, o.ref, PROT_READ);
	CHECK(m2 && m2[1] == 'R');
	CHECK(xengnttab_unmap(gt2, m2, 1) == 0);
	CHECK(xengnttab_close(gt2) == 0);
	xe2 = xenevtchn_open(NULL, 0);
	CHECK(xe2);
	CHECK(xenevtchn_restrict(xe2, 0) == -1 && errno == EINVAL);
	CHECK(xenevtchn_restrict(xe2, DOMID_FIRST_RESERVED) == -1 &&
	      errno == EINVAL);
	CHECK(xenevtchn_restrict(xe2, 5) == 0);
	b = xenevtchn_bind_interdomain(xe2, 5, o.b);
	CHECK(b > 0, "restricted to 5, binding to 5");
	CHECK(xenevtchn_bind_interdomain(xe2, 77, 1) == -1 && errno == EACCES);
	CHECK(xenevtchn_close(xe2) == 0);

	simtest_send_u32(fd, FINISH);
	CHECK(xengnttab_close(gt) == 0);
	munmap(m, PAGE);	/* the neutered handle could not */
	CHECK(xenevtchn_close(xe) == 0);
	CHECK(xengntshr_close(gs) == 0);
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	return simtest_run_pair(argv, frontend, backend, "restriction");
}
