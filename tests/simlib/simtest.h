/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the simulation library tests: running on the simulated
 * libraries, simulated domains as forked processes, messages between them,
 * events with timeouts, and counting guest-page mappings.
 */
#ifndef SIMTEST_H
#define SIMTEST_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <xenevtchn.h>

#define PAGE 4096u

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			int e_ = errno;                                      \
			fprintf(stderr, "%s:%d: [dom %s] check failed: %s "  \
				"(errno %d %s)", __FILE__, __LINE__,         \
				simtest_domid(), #cond, e_, strerror(e_));   \
			fprintf(stderr, " " __VA_ARGS__);                    \
			fputc('\n', stderr);                                 \
			simtest_fail();                                      \
		}                                                            \
	} while (0)

/*
 * Re-executes the program with LD_LIBRARY_PATH pointing at the directory it
 * lives in (where the simulated libraries are built), then checks that they
 * are the ones loaded. Call first in main.
 */
void simtest_use_simlib(char **argv);

/* Makes a fresh XENSIM_DIR, removed when this process exits. */
const char *simtest_make_dir(void);

/* Sets XENSIM_DOMID for the handles this process opens from now on. */
void simtest_be_domain(uint32_t domid);
const char *simtest_domid(void);

/*
 * Forks a process that will act as domid; *fd is this side's end of a
 * socket pair to it. Returns 0 in the child (its *fd is its end).
 */
pid_t simtest_fork_domain(uint32_t domid, int *fd);
/* Exit status of pid (128 + signal if killed). */
int simtest_wait(pid_t pid);
/*
 * The two-domain test: re-executes on the drop-in libraries, makes the
 * simulation directory, runs guest(fd) as domain 5 and host(fd) as domain
 * 0 over a socket pair, and returns host's result once domain 5 succeeded.
 */
int simtest_run_pair(char **argv, int (*guest)(int fd), int (*host)(int fd),
		     const char *name);
/* Exits a forked child (or the test) with a failure. */
_Noreturn void simtest_fail(void);

void simtest_send(int fd, const void *buf, size_t len);
void simtest_recv(int fd, void *buf, size_t len);
void simtest_send_u32(int fd, uint32_t v);
uint32_t simtest_recv_u32(int fd);

/* Waits up to timeout_ms for an event: its port, or -1 on timeout. */
int simtest_event(xenevtchn_handle *x, int timeout_ms);

/*
 * Lines of /proc/PID/maps that map guest pages: those naming a file under
 * realpath($XENSIM_DIR)/grant/mem- (pid 0: this process).
 */
int simtest_guest_maps(pid_t pid);
/* Anonymous PROT_NONE regions, e.g. leftover address-range reservations. */
int simtest_reservations(pid_t pid);

#endif
