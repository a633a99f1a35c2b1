/* SPDX-License-Identifier: MIT */
/*
 * Throughput of the simulation libraries, between two processes acting as
 * domains 5 (granting, answering events) and 0 (mapping, notifying).
 * A measuring program, not a test.
 *
 * usage: bench-simlib [seconds per figure, default 1]
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xen/grant_table.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "simtest.h"

struct offer {
	uint32_t one, eleven[11], port;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Domain 5: grants pages, and answers every event with one back. */
static int granter(int fd)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	struct offer o;
	void *one, *eleven;

	CHECK(gs && xe);
	one = xengntshr_share_pages(gs, 0, 1, &o.one, 1);
	eleven = xengntshr_share_pages(gs, 0, 11, o.eleven, 1);
	CHECK(one && eleven);
	o.port = (uint32_t)xenevtchn_bind_unbound_port(xe, 0);
	simtest_send(fd, &o, sizeof(o));
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = xenevtchn_fd(xe), .events = POLLIN },
			{ .fd = fd, .events = POLLIN },
		};
		int port;

		CHECK(poll(p, 2, -1) > 0 || errno == EINTR);
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		port = xenevtchn_pending(xe);
		CHECK(port >= 0);
		CHECK(xenevtchn_unmask(xe, (uint32_t)port) == 0);
		CHECK(xenevtchn_notify(xe, (uint32_t)port) == 0);
	}
	xengntshr_unshare(gs, one, 1);
	xengntshr_unshare(gs, eleven, 11);
	xengntshr_close(gs);
	xenevtchn_close(xe);
	return 0;
}

#define MEASURE(label, secs, body)                                          \
	do {                                                                \
		double t0_ = now(), t_;                                     \
		unsigned long n_ = 0;                                       \
		do {                                                        \
			for (int i_ = 0; i_ < 64; i_++, n_++) {             \
				body;                                       \
			}                                                   \
			t_ = now() - t0_;                                   \
		} while (t_ < (secs));                                      \
		printf("%-48s %10.0f /s\n", label, (double)n_ / t_);        \
		fflush(stdout);                                             \
	} while (0)

static int mapper(int fd, double secs)
{
	xengnttab_handle *gt = xengnttab_open(NULL, 0);
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xengnttab_grant_copy_segment_t seg;
	static uint8_t buf[PAGE];
	uint32_t scattered[11];
	struct offer o;
	int port;

	CHECK(gt && xe && gs);
	simtest_recv(fd, &o, sizeof(o));

	MEASURE("grant map+unmap, 1 page", secs, {
		void *p = xengnttab_map_grant_ref(gt, 5, o.one,
						  PROT_READ | PROT_WRITE);
		CHECK(p && xengnttab_unmap(gt, p, 1) == 0);
	});
	MEASURE("grant map+unmap, 11 consecutive pages", secs, {
		void *p = xengnttab_map_domain_grant_refs(gt, 11, 5, o.eleven,
							  PROT_READ |
							  PROT_WRITE);
		CHECK(p && xengnttab_unmap(gt, p, 11) == 0);
	});
	for (int i = 0; i < 11; i++)
		scattered[i] = o.eleven[10 - i];
	MEASURE("grant map+unmap, 11 pages in 11 runs", secs, {
		void *p = xengnttab_map_domain_grant_refs(gt, 11, 5, scattered,
							  PROT_READ |
							  PROT_WRITE);
		CHECK(p && xengnttab_unmap(gt, p, 11) == 0);
	});
	memset(&seg, 0, sizeof(seg));
	seg.source.foreign.ref = o.one;
	seg.source.foreign.domid = 5;
	seg.dest.virt = buf;
	seg.len = PAGE;
	seg.flags = GNTCOPY_source_gref;
	MEASURE("grant copy, 4 KiB foreign to local", secs, {
		CHECK(xengnttab_grant_copy(gt, 1, &seg) == 0 &&
		      seg.status == GNTST_okay);
	});
	MEASURE("grant share+unshare, 1 page (gntshr)", secs, {
		uint32_t ref;
		void *p = xengntshr_share_pages(gs, 5, 1, &ref, 1);
		CHECK(p && xengntshr_unshare(gs, p, 1) == 0);
	});

	port = xenevtchn_bind_interdomain(xe, 5, o.port);
	CHECK(port > 0);
	CHECK(simtest_event(xe, 5000) == port);
	CHECK(xenevtchn_unmask(xe, (uint32_t)port) == 0);
	MEASURE("event channel notify round trips", secs, {
		CHECK(xenevtchn_notify(xe, (uint32_t)port) == 0);
		CHECK(simtest_event(xe, 5000) == port);
		CHECK(xenevtchn_unmask(xe, (uint32_t)port) == 0);
	});

	simtest_send_u32(fd, 0);
	xengnttab_close(gt);
	xenevtchn_close(xe);
	xengntshr_close(gs);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	pid_t pid;
	int fd, rc;

	simtest_use_simlib(argv);
	simtest_make_dir();
	alarm(0);
	pid = simtest_fork_domain(5, &fd);
	if (pid == 0) {
		alarm(0);
		_exit(granter(fd));
	}
	simtest_be_domain(0);
	rc = mapper(fd, secs > 0 ? secs : 1.0);
	close(fd);
	CHECK(simtest_wait(pid) == 0, "domain 5 failed");
	return rc;
}
