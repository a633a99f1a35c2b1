/* SPDX-License-Identifier: MIT */
/*
 * A tiny assertion kit for the unit tests: CHECK(cond) reports the
 * failing line and counts; test_exit() exits 1 if anything failed.
 */
#ifndef XBD_TEST_CHECK_H
#define XBD_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                          \
	do {                                                                 \
		check_count++;                                               \
		if (!(cond)) {                                               \
			check_failures++;                                    \
			fprintf(stderr, "%s:%d: check failed: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
		}                                                            \
	} while (0)

#define CHECK_EQ(a, b)                                                       \
	do {                                                                 \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
		check_count++;                                               \
		if (check_a_ != check_b_) {                                  \
			check_failures++;                                    \
			fprintf(stderr, "%s:%d: %s == %s: %lld != %lld\n",   \
				__FILE__, __LINE__, #a, #b, check_a_,        \
				check_b_);                                   \
		}                                                            \
	} while (0)

static inline int test_exit(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count,
	       check_failures);
	return check_failures ? 1 : 0;
}

#endif
