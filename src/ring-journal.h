/* SPDX-License-Identifier: MIT */
/*
 * The ring journal: what a worker has taken off its rings and not yet
 * published an answer for, kept in memory that main maps before the fork
 * and keeps over the worker's death, so that the next worker of the same
 * device can answer exactly those requests (device.c restarts a worker
 * that died without the guest being at fault).
 *
 * Why a journal and not the ring itself: a ring slot holds a request only
 * until a response is written over it, and responses go into slots in the
 * order requests complete, not the order they came. With out-of-order
 * completion, the slot of a request still in flight may already hold the
 * response of a later one (published, or written and not pushed yet), and
 * the frontend may even have put a new request there. So the ring's
 * slots between rsp_prod and req_prod are neither all the unanswered
 * requests nor only them. The journal keeps a copy of each request taken
 * (the guest's bytes, re-validated by the class when the new worker
 * re-issues it) until its answer is published.
 *
 * One region of JOURNAL_RING_BYTES per ring index. Layout: a header, then
 * `size` entries of (struct journal_entry + the request, entry_size bytes
 * rounded up to 8). Written by one worker at a time, in an order that
 * survives a SIGKILL between any two stores (ring.c says which):
 *
 *   take     copy into a FREE entry, pos = ring index, state = TAKEN,
 *            then header req_cons = pos + 1, then the class sees it;
 *   answer   response into the ring slot, entry slot = that index,
 *            state = ANSWERED;
 *   push     rsp_prod published, then the entries it answered are FREE.
 *
 * Recovery (the next worker, at ring open) from the published rsp_prod
 * RP: an entry whose pos >= req_cons was never handed over (the ring
 * still holds it); ANSWERED with slot < RP is published; every other
 * entry is in flight and is re-issued, oldest first, before the ring is
 * read on from req_cons. Their count must be req_cons - RP, or nothing
 * is resumed. Main zeroes the headers for a new connection.
 */
#ifndef XBD_RING_JOURNAL_H
#define XBD_RING_JOURNAL_H

#include <stdint.h>

#include <xenbackd/ring.h>

#define JOURNAL_MAGIC 0x4a444258u	/* "XBDJ" */
#define JOURNAL_RING_BYTES (256u * 1024)
/* A device's journal: one region per ring index (XBD_MAX_RINGS). */
#define JOURNAL_BYTES ((size_t)JOURNAL_RING_BYTES * XBD_MAX_RINGS)

enum journal_state {
	JOURNAL_FREE = 0,
	JOURNAL_TAKEN = 1,	/* handed to the class, not answered */
	JOURNAL_ANSWERED = 2,	/* answer written at slot, not published */
};

struct journal_entry {
	uint32_t state;
	uint32_t pos;		/* the ring index it was taken at */
	uint32_t slot;		/* ANSWERED: where its response is */
	uint32_t pad;
	/* the request, entry_size bytes, follows */
};

struct journal_ring {
	uint32_t magic;		/* written last at set-up; 0: unused */
	uint32_t tracked;	/* entries are kept (see ring.c) */
	uint32_t nr_pages;	/* the ring it is for */
	uint32_t entry_size;
	uint32_t size;
	uint32_t evtchn;
	uint32_t refs[XBD_MAX_RING_PAGES];
	uint32_t req_cons;	/* requests handed over, ring index */
	uint32_t pad[9];
	/* entries follow, at sizeof(struct journal_ring) */
};

_Static_assert(sizeof(struct journal_ring) == 128, "journal header");

#endif
