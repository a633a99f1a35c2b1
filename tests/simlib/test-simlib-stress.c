/* SPDX-License-Identifier: MIT */
/*
 * Several processes of the same two domains at once: three granters of
 * domain 5 share and unshare pages from one grant table while three mappers
 * of domain 0 map, copy and unmap them (some just as they are unshared),
 * and every pair exchanges events all along. Afterwards every grant entry
 * must be free again: no pin lost, no page leaked, nothing double-freed.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xen/grant_table.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xentoollog.h>

#include "grant_table.h"
#include "simtest.h"

#define PAIRS	3
#define PERSIST	8
#define SECONDS	2.0

struct offer {
	uint32_t refs[PERSIST], port;
};

/* Refs of a short-lived share, for the mapper to race against. */
struct fleeting {
	uint32_t n, refs[4];
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint8_t pattern(int pair, int page)
{
	return (uint8_t)(1 + pair * PERSIST + page);
}

/* Answers pending events with one back; returns how many came. */
static unsigned ping(xenevtchn_handle *xe, uint32_t port)
{
	struct pollfd p = { .fd = xenevtchn_fd(xe), .events = POLLIN };
	unsigned n = 0;

	while (poll(&p, 1, 0) == 1) {
		int got = xenevtchn_pending(xe);

		CHECK(got == (int)port);
		CHECK(xenevtchn_unmask(xe, port) == 0);
		n++;
	}
	CHECK(xenevtchn_notify(xe, port) == 0);
	return n;
}

static int granter(int pair, int fd, int dgram)
{
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	unsigned seed = (unsigned)pair * 7919u, events = 0;
	struct offer o;
	uint8_t *keep;
	double end;

	CHECK(gs && xe);
	keep = xengntshr_share_pages(gs, 0, PERSIST, o.refs, 1);
	CHECK(keep);
	for (int i = 0; i < PERSIST; i++)
		memset(keep + i * PAGE, pattern(pair, i), PAGE);
	o.port = (uint32_t)xenevtchn_bind_unbound_port(xe, 0);
	CHECK((int)o.port > 0);
	simtest_send(fd, &o, sizeof(o));
	CHECK(simtest_recv_u32(fd) == 1);	/* bound */

	end = now() + SECONDS;
	while (now() < end) {
		struct fleeting f = { .n = 1 + rand_r(&seed) % 4 };
		uint8_t *p = xengntshr_share_pages(gs, 0, (int)f.n, f.refs, 1);

		CHECK(p);
		for (uint32_t i = 0; i < f.n * PAGE; i++)
			CHECK(p[i] == 0, "a fresh page is not zero");
		memset(p, 0xEE, f.n * PAGE);
		(void)send(dgram, &f, sizeof(f), MSG_DONTWAIT);
		if (rand_r(&seed) % 2)
			usleep(50);
		CHECK(xengntshr_unshare(gs, p, f.n) == 0);
		events += ping(xe, o.port);
	}
	simtest_send_u32(fd, 2);		/* done sharing */
	CHECK(simtest_recv_u32(fd) == 3);	/* mapper done */
	CHECK(xengntshr_unshare(gs, keep, PERSIST) == 0);
	CHECK(xengntshr_close(gs) == 0);
	CHECK(xenevtchn_close(xe) == 0);
	CHECK(events > 0, "no event in %g s", SECONDS);
	return 0;
}

static int mapper(int pair, int fd, int dgram)
{
	/* maps of unshared pages fail by design here: keep the log quiet */
	xentoollog_logger *quiet = (xentoollog_logger *)
		xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);
	xengnttab_handle *gt = xengnttab_open(quiet, 0);
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	unsigned events = 0, raced = 0, tried = 0;
	struct offer o;
	int port;

	CHECK(gt && xe);
	simtest_recv(fd, &o, sizeof(o));
	port = xenevtchn_bind_interdomain(xe, 5, o.port);
	CHECK(port > 0);
	simtest_send_u32(fd, 1);
	for (;;) {
		struct pollfd done = { .fd = fd, .events = POLLIN };
		xengnttab_grant_copy_segment_t seg;
		struct fleeting f;
		uint8_t *m, buf[64];
		int page = (int)(events % PERSIST);

		m = xengnttab_map_domain_grant_refs(gt, PERSIST, 5, o.refs,
						    PROT_READ | PROT_WRITE);
		CHECK(m);
		for (int i = 0; i < PERSIST; i++)
			CHECK(m[i * PAGE] == pattern(pair, i) &&
			      m[i * PAGE + PAGE - 1] == pattern(pair, i));
		CHECK(xengnttab_unmap(gt, m, PERSIST) == 0);

		memset(&seg, 0, sizeof(seg));
		seg.source.foreign.ref = o.refs[page];
		seg.source.foreign.domid = 5;
		seg.source.foreign.offset = 100;
		seg.dest.virt = buf;
		seg.len = sizeof(buf);
		seg.flags = GNTCOPY_source_gref;
		CHECK(xengnttab_grant_copy(gt, 1, &seg) == 0 &&
		      seg.status == GNTST_okay && buf[0] == pattern(pair, page));

		/* pages their granter may be unsharing right now */
		while (recv(dgram, &f, sizeof(f), MSG_DONTWAIT) == sizeof(f)) {
			tried++;
			m = xengnttab_map_domain_grant_refs(gt, f.n, 5, f.refs,
							    PROT_READ);
			if (m) {
				raced++;
				CHECK(xengnttab_unmap(gt, m, f.n) == 0);
			}
		}
		events += ping(xe, (uint32_t)port);
		if (poll(&done, 1, 0) == 1)
			break;
	}
	CHECK(simtest_recv_u32(fd) == 2);
	CHECK(xengnttab_close(gt) == 0);
	CHECK(xenevtchn_close(xe) == 0);
	xtl_logger_destroy(quiet);
	simtest_send_u32(fd, 3);
	printf("pair %d: %u events, %u of %u maps of unsharing pages made\n",
	       pair, events, raced, tried);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	char griddir[PATH_MAX];
	pid_t pids[2 * PAIRS];
	struct gt_dom d;
	int n = 0;

	(void)argc;
	simtest_use_simlib(argv);
	simtest_make_dir();
	for (int i = 0; i < PAIRS; i++) {
		int fd0, fd5, dg[2];
		pid_t g;

		CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dg) == 0);
		g = simtest_fork_domain(5, &fd5);
		if (g == 0) {
			close(dg[1]);
			_exit(granter(i, fd5, dg[0]));
		}
		pids[n++] = g;
		/* the mapper talks to the granter through the parent's end */
		pids[n] = fork();
		CHECK(pids[n] >= 0);
		if (pids[n] == 0) {
			simtest_be_domain(0);
			close(dg[0]);
			fd0 = fd5;
			_exit(mapper(i, fd0, dg[1]));
		}
		n++;
		close(fd5);
		close(dg[0]);
		close(dg[1]);
	}
	for (int i = 0; i < n; i++)
		CHECK(simtest_wait(pids[i]) == 0, "process %d failed", i);

	/* every entry of domain 5's table is free again */
	snprintf(griddir, sizeof(griddir), "%s/grant", getenv("XENSIM_DIR"));
	CHECK(gt_dom_open(griddir, 5, false, &d) == 0);
	for (uint32_t r = 0; r < GT_MAX_ENTRIES; r++)
		CHECK(atomic_load(&d.t->e[r].word) == 0, "ref %u left as %#llx",
		      r, (unsigned long long)atomic_load(&d.t->e[r].word));
	gt_dom_close(&d);
	printf("stress test passed\n");
	return 0;
}
