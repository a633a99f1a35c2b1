/* SPDX-License-Identifier: MIT */
/*
 * Registration with the real libxentoolcore, so that
 * xentoolcore_restrict_all() reaches the simulated handles exactly as it
 * reaches real ones. libxentoolcore does not install its internal header;
 * the layout below is its ABI: the restrict callback, then the list links
 * (next pointer, pointer to the previous element's next pointer).
 */
#ifndef SIM_TOOLCORE_H
#define SIM_TOOLCORE_H

#include <stddef.h>
#include <stdint.h>

struct sim_tc_handle;
typedef int sim_tc_restrict_cb(struct sim_tc_handle *ah, uint32_t domid);

struct sim_tc_handle {
	sim_tc_restrict_cb *restrict_callback;
	struct sim_tc_handle *next;
	struct sim_tc_handle **prev;
};

/* Exported by libxentoolcore.so.1 (VERS_1.0). */
void xentoolcore__register_active_handle(struct sim_tc_handle *ah);
void xentoolcore__deregister_active_handle(struct sim_tc_handle *ah);
int xentoolcore__restrict_by_dup2_null(int fd);

#define SIM_CONTAINER_OF(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
