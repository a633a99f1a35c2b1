/* SPDX-License-Identifier: MIT */
/*
 * The daemon's logging for tests (stubs.c): to stderr, everything when
 * XBD_TEST_VERBOSE is set, else up to xbd_test_log_level.
 */
#ifndef TESTS_UNIT_STUBS_H
#define TESTS_UNIT_STUBS_H

/*
 * The most verbose level shown without XBD_TEST_VERBOSE: XBD_WARN by
 * default; -1 shows nothing (a fuzzer that makes the daemon complain on
 * purpose, millions of times).
 */
extern int xbd_test_log_level;

#endif
