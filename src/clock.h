/* SPDX-License-Identifier: MIT */
/* The monotonic clock, for deadlines and rate limits. */
#ifndef XBD_CLOCK_H
#define XBD_CLOCK_H

/* Seconds since an arbitrary point; a change of the wall clock does not
 * move it. */
double monotonic_seconds(void);

#endif
