/* SPDX-License-Identifier: MIT */
/*
 * Front ring operations, written against the layout instead of ring.h's
 * macros because the slot type differs per ABI. Index arithmetic is
 * modulo 2^32 like ring.h's RING_IDX, so it stays right across wrap.
 */
#include <string.h>

#include "ring.h"

static uint32_t *sidx(const struct front_ring *r, unsigned which)
{
	return (uint32_t *)r->sring + which;
}

uint32_t fring_shared_get(const struct front_ring *r, unsigned which)
{
	return __atomic_load_n(sidx(r, which), __ATOMIC_ACQUIRE);
}

void fring_shared_set(struct front_ring *r, unsigned which, uint32_t val)
{
	__atomic_store_n(sidx(r, which), val, __ATOMIC_RELEASE);
}

unsigned fring_size(unsigned nr_pages, enum blk_abi abi)
{
	size_t n = ((size_t)nr_pages * XEN_PAGE - SRING_HEADER_SIZE) / abi_slot_size(abi);
	unsigned p = 1;

	/* __RD32 in ring.h: round down to a power of two. */
	while ((size_t)p * 2 <= n)
		p *= 2;
	return p;
}

void fring_attach(struct front_ring *r, void *mem, unsigned nr_pages, enum blk_abi abi)
{
	r->sring = mem;
	r->nr_pages = nr_pages;
	r->abi = abi;
	r->slot_size = abi_slot_size(abi);
	r->nr_ents = fring_size(nr_pages, abi);
	r->req_prod_pvt = 0;
	r->rsp_cons = 0;
}

void fring_init(struct front_ring *r, void *mem, unsigned nr_pages, enum blk_abi abi)
{
	memset(mem, 0, (size_t)nr_pages * XEN_PAGE);
	fring_attach(r, mem, nr_pages, abi);
	fring_shared_set(r, SR_REQ_EVENT, 1);
	fring_shared_set(r, SR_RSP_EVENT, 1);
}

unsigned fring_free(const struct front_ring *r)
{
	return r->nr_ents - (r->req_prod_pvt - r->rsp_cons);
}

void *fring_slot(const struct front_ring *r, uint32_t idx)
{
	return (char *)r->sring + SRING_HEADER_SIZE +
		(size_t)(idx & (r->nr_ents - 1)) * r->slot_size;
}

void fring_put_request(struct front_ring *r, const struct blk_request *req)
{
	abi_encode_request(r->abi, fring_slot(r, r->req_prod_pvt), req);
	r->req_prod_pvt++;
}

bool fring_push(struct front_ring *r)
{
	uint32_t old = fring_shared_get(r, SR_REQ_PROD);
	uint32_t new = r->req_prod_pvt;

	/* The release store orders the slots before the index (xen_wmb). */
	fring_shared_set(r, SR_REQ_PROD, new);
	/* Full barrier: the index is visible before we look at req_event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return (uint32_t)(new - fring_shared_get(r, SR_REQ_EVENT)) <
		(uint32_t)(new - old);
}

int fring_responses(const struct front_ring *r, uint32_t *prod)
{
	uint32_t p = fring_shared_get(r, SR_RSP_PROD);

	*prod = p;
	/* More responses than requests we pushed: the backend is broken. */
	if ((uint32_t)(p - r->rsp_cons) > (uint32_t)(r->req_prod_pvt - r->rsp_cons))
		return -1;
	return (int)(p - r->rsp_cons);
}

void fring_get_response(const struct front_ring *r, uint32_t idx, struct blk_response *rsp)
{
	abi_decode_response(r->abi, fring_slot(r, idx), rsp);
}

bool fring_final_check(struct front_ring *r)
{
	uint32_t prod;

	if (fring_responses(r, &prod) != 0)
		return true;
	fring_shared_set(r, SR_RSP_EVENT, r->rsp_cons + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return fring_responses(r, &prod) != 0;
}
