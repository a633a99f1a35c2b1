/* SPDX-License-Identifier: MIT */
/*
 * A CPU-time watchdog for the fuzz targets that run a loop per input: an
 * input that keeps the code under test busy for FUZZ_WATCHDOG_SECONDS of
 * CPU time (user and system, so that load does not trip it) aborts with
 * a line that says so. SIGPROF, because libFuzzer's own -timeout is
 * SIGALRM on wall-clock time.
 */
#ifndef FUZZ_WATCHDOG_H
#define FUZZ_WATCHDOG_H

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define FUZZ_WATCHDOG_SECONDS 5

static const char *fuzz_watchdog_name = "fuzzer";

static void fuzz_watchdog_fired(int sig)
{
	static const char msg[] = ": an input ran for 5 s of CPU time: the "
				  "code under test loops\n";

	(void)sig;
	(void)!write(2, fuzz_watchdog_name, strlen(fuzz_watchdog_name));
	(void)!write(2, msg, sizeof(msg) - 1);
	abort();
}

/* Once, from LLVMFuzzerInitialize. */
static inline void fuzz_watchdog_install(const char *target)
{
	fuzz_watchdog_name = target;
	signal(SIGPROF, fuzz_watchdog_fired);
}

/* Around each input: on, then off. */
static inline void fuzz_watchdog_arm(bool on)
{
	struct itimerval t = {
		.it_value = { .tv_sec = on ? FUZZ_WATCHDOG_SECONDS : 0 },
	};

	setitimer(ITIMER_PROF, &t, NULL);
}

#endif
