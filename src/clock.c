/* SPDX-License-Identifier: MIT */
#include <time.h>

#include "clock.h"

double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
