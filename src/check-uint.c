/* SPDX-License-Identifier: MIT */
/*
 * xbd_check_uint (class.h): a class's check_option for numbers. Pure, so
 * that a class's option parser can be unit tested on its own.
 */
#include <stdio.h>

#include <xenbackd/class.h>
#include <xenbackd/ring.h>

int xbd_check_uint(const char *value, unsigned long min, unsigned long max,
		   char *why, size_t why_size)
{
	uint64_t n;

	if (value && !xbd_parse_uint(value, max, &n) && n >= min)
		return 0;
	if (why_size)
		snprintf(why, why_size, "not a number from %lu to %lu", min,
			 max);
	return -1;
}
