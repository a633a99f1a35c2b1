/* SPDX-License-Identifier: MIT */
/*
 * Unmapping leaves no guest page mapped: checked in /proc/self/maps, where
 * guest pages are the lines naming realpath($XENSIM_DIR)/grant/mem-<domid>.
 * Covers single and multi-page maps (one or several runs), failed maps,
 * a forked child (gntdev mappings are not inherited), many cycles, the
 * granting side, and close() leaving live mappings as gntdev does.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>

#include "simtest.h"

enum { DONE = 1, FINISH };

struct offer {
	uint32_t one, four[4];
};

static void expect(int fd, uint32_t what)
{
	uint32_t got = simtest_recv_u32(fd);

	CHECK(got == what, "expected message %u, got %u", what, got);
}

/* Address-range reservations are only countable without ASan's own. */
static int reservations(void)
{
#ifdef __SANITIZE_ADDRESS__
	return 0;
#else
	return simtest_reservations(0);
#endif
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int granter(int fd)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	uint8_t *one, *four, *again;
	uint32_t refs[6];
	struct offer o;

	CHECK(gs);
	CHECK(simtest_guest_maps(0) == 0);
	one = xengntshr_share_pages(gs, 0, 1, &o.one, 1);
	four = xengntshr_share_pages(gs, 0, 4, o.four, 1);
	CHECK(one && four);
	memset(one, 1, PAGE);
	memset(four, 4, 4 * PAGE);
	/* the granter's own pages are guest pages too */
	CHECK(simtest_guest_maps(0) >= 2);
	simtest_send(fd, &o, sizeof(o));
	expect(fd, DONE);
	CHECK(xengntshr_unshare(gs, one, 1) == 0);
	CHECK(xengntshr_unshare(gs, four, 4) == 0);
	CHECK(simtest_guest_maps(0) == 0);
	/* everything domain 0 unmapped was freed: fresh pages are zero */
	again = xengntshr_share_pages(gs, 0, 6, refs, 1);
	CHECK(again && zero(again, 6 * PAGE));
	CHECK(xengntshr_unshare(gs, again, 6) == 0);
	simtest_send_u32(fd, DONE);
	expect(fd, FINISH);
	CHECK(xengntshr_close(gs) == 0);
	return 0;
}

static void check_line_names_domain(void)
{
	char real[PATH_MAX], want[PATH_MAX + 32], line[PATH_MAX + 256];
	FILE *f = fopen("/proc/self/maps", "r");
	bool found = false;

	CHECK(f && realpath(getenv("XENSIM_DIR"), real));
	snprintf(want, sizeof(want), " %s/grant/mem-5\n", real);
	while (fgets(line, sizeof(line), f))
		if (strlen(line) > strlen(want) &&
		    strcmp(line + strlen(line) - strlen(want), want) == 0)
			found = true;
	fclose(f);
	CHECK(found, "no line ends with '%s'", want);
}

static int mapper(int fd)
{
	xengnttab_handle *gt = xengnttab_open(NULL, 0), *gt3;
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	uint32_t rev[4], bad[3];
	uint8_t *x, *y, *z;
	struct offer o;
	int res0, fd2;
	pid_t pid;

	CHECK(gt && xe);
	simtest_recv(fd, &o, sizeof(o));
	for (int i = 0; i < 4; i++)
		rev[i] = o.four[3 - i];
	CHECK(simtest_guest_maps(0) == 0);
	res0 = reservations();

	x = xengnttab_map_grant_ref(gt, 5, o.one, PROT_READ | PROT_WRITE);
	CHECK(x && x[0] == 1);
	CHECK(simtest_guest_maps(0) == 1);
	check_line_names_domain();
	CHECK(xengnttab_unmap(gt, x, 1) == 0);
	CHECK(simtest_guest_maps(0) == 0);

	/* four runs in one range, then one run */
	y = xengnttab_map_domain_grant_refs(gt, 4, 5, rev, PROT_READ);
	CHECK(y && y[0] == 4 && y[4 * PAGE - 1] == 4);
	CHECK(simtest_guest_maps(0) == 4);
	CHECK(xengnttab_unmap(gt, y, 4) == 0);
	CHECK(simtest_guest_maps(0) == 0);
	CHECK(reservations() == res0, "address range reservation left");
	z = xengnttab_map_domain_grant_refs(gt, 4, 5, o.four,
					    PROT_READ | PROT_WRITE);
	CHECK(z);
	CHECK(simtest_guest_maps(0) == 1);

	/* a forked child does not inherit grant mappings */
	pid = simtest_fork_domain(0, &fd2);
	if (pid == 0)
		_exit(simtest_guest_maps(0) == 0 ? 0 : 1);
	CHECK(simtest_wait(pid) == 0, "a forked child still maps guest pages");
	close(fd2);
	CHECK(xengnttab_unmap(gt, z, 4) == 0);
	CHECK(simtest_guest_maps(0) == 0);

	/* failed maps leave nothing behind */
	bad[0] = o.four[0];
	bad[1] = o.four[2];
	bad[2] = 99999;
	CHECK(xengnttab_map_domain_grant_refs(gt, 3, 5, bad, PROT_READ) == NULL);
	CHECK(xengnttab_map_grant_ref_notify(gt, 5, o.one,
					     PROT_READ | PROT_WRITE, 0, 4000) ==
	      NULL && errno == EINVAL);
	CHECK(simtest_guest_maps(0) == 0);
	CHECK(reservations() == res0, "address range reservation left");

	for (int i = 0; i < 2000; i++) {
		y = xengnttab_map_domain_grant_refs(gt, 4, 5,
						    i % 2 ? rev : o.four,
						    PROT_READ | PROT_WRITE);
		CHECK(y, "cycle %d", i);
		y[i % (4 * PAGE)] ^= 0;
		CHECK(xengnttab_unmap(gt, y, 4) == 0, "cycle %d", i);
	}
	CHECK(simtest_guest_maps(0) == 0);
	CHECK(reservations() == res0, "address range reservation left");

	CHECK(xengnttab_close(gt) == 0);
	CHECK(xenevtchn_close(xe) == 0);

	/*
	 * As with gntdev, where a mapping holds the device open, closing the
	 * handle does not unmap: the mapping is still there afterwards.
	 */
	gt3 = xengnttab_open(NULL, 0);
	CHECK(gt3);
	x = xengnttab_map_grant_ref(gt3, 5, o.one, PROT_READ);
	CHECK(x);
	CHECK(xengnttab_close(gt3) == 0);
	CHECK(simtest_guest_maps(0) == 1 && x[0] == 1);
	munmap(x, PAGE);
	CHECK(simtest_guest_maps(0) == 0);

	simtest_send_u32(fd, DONE);
	expect(fd, DONE);
	simtest_send_u32(fd, FINISH);
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	return simtest_run_pair(argv, granter, mapper, "mapping");
}
