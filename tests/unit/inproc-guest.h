/* SPDX-License-Identifier: MIT */
/*
 * An in-process guest for tests of the worker side of the kit's rings
 * (src/ring.c): its memory is a memfd, its grant table an array, its
 * event channel a pipe. libxengnttab / libxenevtchn and the worker
 * process of src/worker.c (xbd_worker_*) are replaced at link time by
 * inproc-guest.c, so the rings, their event routing and the core's drain
 * are the daemon's own.
 *
 * Used by tests/unit/test-ring.c and the echo-ring and vbd-ring fuzzers. Nothing here
 * counts checks: what a test checks, it checks itself; a misuse that no
 * backend may commit (unmapping what was not mapped) aborts.
 */
#ifndef XBD_TEST_INPROC_GUEST_H
#define XBD_TEST_INPROC_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>
#include <xenbackd/class.h>

#include "worker-rings.h"
#include "worker.h"

#define GUEST_DOMID 7
#define GUEST_PAGES 64
#define GUEST_PAGE_SIZE 4096u
/* The backend's local port for the frontend's port p. */
#define GUEST_LOCAL_PORT(p) ((p) + 100)
/* A frontend port that cannot be bound. */
#define GUEST_BAD_PORT 666

/* What the guest granted each page as. */
enum guest_grant { GUEST_NOT_GRANTED, GUEST_GRANT_RW, GUEST_GRANT_RO };

extern unsigned char *guest_mem;	/* the guest's own view, all pages */
extern enum guest_grant guest_grants[GUEST_PAGES];
/* Pages the backend has mapped now; bound ports; backend -> frontend. */
extern int guest_maps_out, guest_bound, guest_notifies, guest_unmasks;
/* Segments grant-copied (xengnttab_grant_copy), either way. */
extern unsigned long guest_copies;

/*
 * Optional, called from the backend's calls: a map (addr NULL: refused)
 * after it was done, an unmap before it is done. A fuzzer plays the guest
 * acting in the middle of a request with them.
 */
struct guest_hooks {
	void (*mapped)(const uint32_t *refs, uint32_t count, int prot,
		       void *addr);
	void (*unmapping)(void *addr, uint32_t count);
	/* A grant-copy segment into (to_guest) or out of page ref. */
	void (*copied)(uint32_t ref, bool to_guest);
	/*
	 * A test that keeps the monotonic clock itself: called before each
	 * round of guest_worker_drain()'s loop, to let time pass (the loop
	 * then does not wait for it).
	 */
	void (*tick)(void);
};
extern struct guest_hooks guest_hooks;

/* Memory and event channel; 0, or -1 (then skip the test). */
int guest_init(void);
void *guest_page(uint32_t ref);
/* The frontend notifies its port remote. */
void guest_kick(uint32_t remote);

/* ---- The worker process ------------------------------------------------ */

struct xbd_worker {
	struct ev_loop *loop;
	struct stats_area area;
	struct worker_rings rings;
	void *priv;			/* xbd_worker_priv() */
	bool failed, stopped;
	int fail_err;
	char fail_text[256];		/* the first xbd_worker_fail() */
};

extern struct xbd_worker guest_worker;

/*
 * A new worker on the same loop: statistics zeroed, no failure, no rings,
 * events no watcher read dropped.
 */
void guest_worker_reset(void (*worker_stop)(struct xbd_worker *w),
			void *priv);
/*
 * The core's drain to its end (a failure forgotten first: the rings are
 * closed as the worker's exit would). True once the worker stopped,
 * within 5 s; the caller checks what is left open, mapped or bound.
 * Every grant is withdrawn.
 */
bool guest_worker_drain(void);

#endif
