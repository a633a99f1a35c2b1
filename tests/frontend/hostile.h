/* SPDX-License-Identifier: MIT */
/*
 * Hostile mode: the frontend misbehaves on purpose, one case per run, and
 * reports how the backend reacted in one parsable line:
 *
 *   hostile: case=NAME reaction=R [status=S] backend-state=N
 *            error="..." after=ok|failed|skipped expected=R1|R2 verdict=pass|fail
 *
 * Reactions:
 *   error-response  the bad request was answered with BLKIF_RSP_ERROR
 *   eopnotsupp      ... with BLKIF_RSP_EOPNOTSUPP
 *   okay            ... with BLKIF_RSP_OKAY (the backend accepted it)
 *   device-closed   the backend went Closing/Closed or removed its directory
 *   error-node      the backend wrote its `error` node but kept its state
 *   refused         a bad handshake did not connect (Closing/Closed/error)
 *   connected       a bad handshake connected anyway
 *   ignored         changed ring nodes were ignored; I/O went on
 *   survived        the device kept working through the abuse
 *   no-reaction     nothing happened within the timeout
 *
 * Exit status: 0 when the reaction is one of the expected ones (and the
 * device still works where it should), 1 otherwise, 77 when the case does
 * not apply to this backend (e.g. too-many-indirect without indirect).
 */
#ifndef BLKFRONT_HOSTILE_H
#define BLKFRONT_HOSTILE_H

#include "blkdev.h"
#include "workload.h"

/* Prints the list of cases with what each does. */
void hostile_list(void);

/* spec is CASE or CASE:VALUE. Returns -1 for an unknown case. */
int hostile_check(const char *spec);

/* Opens the device, runs the case, closes; returns the exit status. */
int hostile_run(const struct blkdev_opts *bo, const struct workload_opts *wo,
		const char *spec);

#endif
