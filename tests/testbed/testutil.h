/* SPDX-License-Identifier: MIT */
/* Helpers for the test bed's C tests: a simulation per test, raw
 * protocol clients, and checks that count failures. */
#ifndef TESTBED_TESTUTIL_H
#define TESTBED_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

extern int test_failures;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			test_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
		}                                                          \
	} while (0)

void test_fail(const char *file, int line, const char *cond,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Prints a verdict and exits: 0 if no check failed. Stops the simulation
 * first (which fails too if xenstored reported sanitizer errors). */
void test_finish(void) __attribute__((noreturn));
void test_skip(const char *why) __attribute__((noreturn));

/* Starts a simulation in a fresh temporary directory, with extra
 * xenstored options (NULL-terminated, may be NULL). It is stopped at
 * test_finish, on exit or on SIGTERM/SIGINT. */
void sim_start(const char *const *options);
const char *sim_dir(void);
/* The value testbed env gives for name, for domain domid. malloc'd. */
char *sim_env(unsigned domid, const char *name);
/* Sets XENSTORED_PATH so the next xs_open() acts as domid. */
void sim_act_as(unsigned domid);
/* xenstored's pid. */
long sim_xenstored_pid(void);

/* A raw protocol client of domain domid; -1 on failure. */
int raw_connect(unsigned domid);
/* Sends a whole message; false if the connection broke. */
bool raw_send(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id,
	      const void *payload, size_t len);
/* Receives one message, if one starts within timeout_ms, into hdr and
 * body (at least XENSTORE_PAYLOAD_MAX + 1 bytes, nul-terminated). 1: got
 * one, 0: the server closed, -1: timeout or error. */
int raw_recv(int fd, struct xsd_sockmsg *hdr, char *body, int timeout_ms);

long now_ms(void);

#endif
