/* SPDX-License-Identifier: MIT */
/*
 * The frontend's half of a blkif shared ring.
 *
 * The shared page(s) hold four 32-bit indexes (req_prod, req_event,
 * rsp_prod, rsp_event), padding up to 64 bytes, then a power-of-two number
 * of slots whose size depends on the ABI. The frontend owns req_prod and
 * rsp_event; the backend writes rsp_prod and req_event, and may be
 * hostile, so what it writes is read once and checked.
 */
#ifndef BLKFRONT_RING_H
#define BLKFRONT_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "abi.h"

struct front_ring {
	void *sring;		/* the shared pages */
	unsigned nr_pages;
	unsigned nr_ents;	/* slots, a power of two */
	enum blk_abi abi;
	size_t slot_size;
	uint32_t req_prod_pvt;	/* next request slot to fill */
	uint32_t rsp_cons;	/* next response to read */
};

/* Slots in a ring of nr_pages pages for this ABI (power of two). */
unsigned fring_size(unsigned nr_pages, enum blk_abi abi);

/*
 * FRONT_RING_INIT on pages whose shared header is initialised already
 * (libxbdfront's xbf_share_rings does SHARED_RING_INIT).
 */
void fring_attach(struct front_ring *r, void *mem, unsigned nr_pages, enum blk_abi abi);

/* SHARED_RING_INIT and FRONT_RING_INIT: zeroes the pages, events at 1. */
void fring_init(struct front_ring *r, void *mem, unsigned nr_pages, enum blk_abi abi);

/* Free request slots, counting responses not yet consumed as taken. */
unsigned fring_free(const struct front_ring *r);

void *fring_slot(const struct front_ring *r, uint32_t idx);

/* Encodes req into the next free slot (caller checked fring_free). */
void fring_put_request(struct front_ring *r, const struct blk_request *req);

/*
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publishes req_prod_pvt; returns
 * true when the backend asked (through req_event) to be notified.
 */
bool fring_push(struct front_ring *r);

/*
 * Reads the backend's rsp_prod once. Returns how many responses are
 * ready from rsp_cons, or -1 when the backend claims more responses than
 * requests outstanding (a broken or hostile backend). *prod gets rsp_prod.
 */
int fring_responses(const struct front_ring *r, uint32_t *prod);

/* Copies response idx out of the ring (once). */
void fring_get_response(const struct front_ring *r, uint32_t idx, struct blk_response *rsp);

/*
 * RING_FINAL_CHECK_FOR_RESPONSES: asks for an event on the next response;
 * returns true when responses arrived meanwhile.
 */
bool fring_final_check(struct front_ring *r);

/* Raw access to the shared indexes, for hostile mode and the self-test. */
uint32_t fring_shared_get(const struct front_ring *r, unsigned which);
void fring_shared_set(struct front_ring *r, unsigned which, uint32_t val);
enum { SR_REQ_PROD, SR_REQ_EVENT, SR_RSP_PROD, SR_RSP_EVENT };

#endif
