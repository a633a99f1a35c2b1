/* SPDX-License-Identifier: MIT */
/*
 * A simulated domain's grant table and the guest memory it grants.
 *
 * DIR/grant/table-<domid>  the grant entries, shared by every process
 * DIR/grant/mem-<domid>    the domain's grantable pages: page N of the file
 *                          is the page behind grant ref N
 *
 * Tying the page to the ref means a multi-page share or map of consecutive
 * refs is one mmap(), and a page is free exactly when its ref is. A test
 * finds guest pages in /proc/PID/maps as ".../grant/mem-<domid>" lines.
 *
 * Each entry is one 64-bit word changed only by compare-and-swap, so the
 * map/unmap hot path takes no lock:
 *   0                      free
 *   BUSY                   being allocated or freed by its granter
 *   ACTIVE [RO] domid pins granted to domid, pins = mappings and copies
 *                          in progress by that domain
 *   REVOKED domid pins     unshared while still mapped: no new mapping;
 *                          the last unpin frees it (Linux gntalloc defers
 *                          the end of foreign access the same way)
 */
#ifndef SIM_GRANT_TABLE_H
#define SIM_GRANT_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sim_common.h"

/* Xen's default max_grant_frames (64) of 512 v1 entries */
#define GT_MAX_ENTRIES		32768u
#define GT_ENTRIES_PER_FRAME	512u
/* refs below GNTTAB_NR_RESERVED_ENTRIES are never handed out, as in Linux */
#define GT_FIRST_REF		8u

#define GTW_DOMID_MASK	0xFFFFull
#define GTW_ACTIVE	(1ull << 16)
#define GTW_RO		(1ull << 17)
#define GTW_REVOKED	(1ull << 18)
#define GTW_BUSY	(1ull << 19)
#define GTW_PIN_SHIFT	24
#define GTW_PIN_ONE	(1ull << GTW_PIN_SHIFT)
#define GTW_PIN_MAX	0xFFFFFFull

struct gt_entry {
	_Atomic uint64_t word;
	_Atomic int32_t owner_pid;	/* the granting process, for reaping */
	uint32_t pad;
};

struct gt_table {
	uint32_t magic, version;
	/* refs at or above this are GNTST_bad_gntref; grows by frames */
	_Atomic uint32_t nr_entries;
	_Atomic uint32_t hint;		/* where the next allocation looks */
	uint8_t pad[48];
	struct gt_entry e[GT_MAX_ENTRIES];
};

/* One process's view of one domain's grant table and memory. */
struct gt_dom {
	uint32_t domid;
	struct gt_table *t;
	int mem_rw, mem_ro;	/* read-only maps use mem_ro: no mprotect up */
	dev_t dev;
	ino_t ino;		/* of mem_rw, to notice it was closed under us */
};

/*
 * Opens domain domid's table and memory under griddir (DIR/grant). With
 * create, makes them (the granting side); without, a domain that never
 * granted anything fails with ESRCH.
 */
int gt_dom_open(const char *griddir, uint32_t domid, bool create,
		struct gt_dom *d);
void gt_dom_close(struct gt_dom *d);
/* Reopens the fds if a daemon closed them behind the library's back. */
int gt_dom_revalidate(const char *griddir, struct gt_dom *d);

/*
 * Takes a reference on ref for domain `mapper` reading (or writing) it.
 * Returns GNTST_okay or the status Xen gives: GNTST_bad_gntref beyond the
 * table, GNTST_general_error if not granted to mapper or read-only.
 */
int gt_pin(struct gt_dom *d, uint32_t ref, uint32_t mapper, bool write);
void gt_unpin(struct gt_dom *d, uint32_t ref);

/*
 * Claims count free refs, consecutive when possible, marked BUSY. Returns 0,
 * or -1 with ENOSPC when the table is full.
 */
int gt_alloc(struct gt_dom *d, uint32_t count, uint32_t *refs);
/* Makes claimed refs mappable by domid. */
void gt_publish(struct gt_dom *d, uint32_t ref, uint32_t domid,
		bool writable);
/* Returns claimed, never-published refs. */
void gt_unclaim(struct gt_dom *d, uint32_t ref);
/* Ends access to a published ref: freed now, or by its last unpin. */
void gt_revoke(struct gt_dom *d, uint32_t ref);
/* Revokes refs whose granting process is gone (no gntalloc to clean up). */
void gt_reap_dead_granters(struct gt_dom *d);

#endif
