/* SPDX-License-Identifier: MIT */
/*
 * Who this daemon is, in xenstore: one xenbackd per xenstore home (the
 * run-dir lock only stops a second one with the same run-dir), and a mark
 * on the devices it serves so that a restart takes over only those.
 */
#ifndef XBD_OWNER_H
#define XBD_OWNER_H

/* This boot's id (/proc/sys/kernel/random/boot_id), or "" if unknown. */
const char *owner_boot_id(void);

/*
 * Refuses (-1, logged) when <home>/xenbackd names a live xenbackd of this
 * boot other than this process; 0 otherwise.
 */
int owner_check_home(void);
/* Writes <home>/xenbackd for this process (after daemonizing). 0 or -1. */
int owner_claim_home(const char *run_dir);

#endif
