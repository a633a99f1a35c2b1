/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * echoif: the example protocol of the xenbackd kit.
 *
 * A frontend asks its backend to look at (and optionally change) bytes in
 * pages it grants: the smallest protocol that still has every part of a
 * real one -- a shared ring of requests and responses, grant references
 * the backend must map and unmap, a feature the backend advertises, and
 * values from the guest that the backend must check.
 *
 * xenstore (class name "echo"):
 *   backend/echo/<domid>/<devid>/   feature-reverse = 1      before InitWait
 *   device/echo/<devid>/            ring-ref, event-channel  with Initialised
 * One ring of one page; no "protocol" node: the layout below is the same
 * for x86_32 and x86_64 guests (every field at its natural offset, the
 * padding explicit, sizes multiples of 8), so a backend needs no ABI code.
 *
 * Operations (each on `length` bytes at `offset` of the page `gref`, with
 * offset + length <= 4096; PING uses no page):
 *   ECHO_OP_PING     answered at once, sum = 0
 *   ECHO_OP_SUM      the backend reads the bytes: sum = their FNV-1a 32
 *   ECHO_OP_REVERSE  the backend reverses the bytes in place (the grant
 *                    must be writable): sum = FNV-1a 32 of the bytes as
 *                    they were before; only if feature-reverse = 1
 * A response carries the request's id and op and a status: ECHO_RSP_OKAY,
 * ECHO_RSP_ERROR (bad offset/length, a grant that does not map) or
 * ECHO_RSP_EOPNOTSUPP (an unknown op).
 *
 * This header is shared by the backend class (userspace), the userspace
 * frontend and the Linux kernel frontend module.
 */
#ifndef ECHOIF_H
#define ECHOIF_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <xen/interface/io/ring.h>
#else
#include <stdint.h>
#include <xenbackd/io-ring.h>	/* <xen/io/ring.h> with userspace barriers */
#endif

#define ECHO_OP_PING 0
#define ECHO_OP_SUM 1
#define ECHO_OP_REVERSE 2

#define ECHO_RSP_OKAY 0
#define ECHO_RSP_ERROR (-1)
#define ECHO_RSP_EOPNOTSUPP (-2)

#define ECHO_PAGE_SIZE 4096

struct echo_request {
	uint64_t id;		/* echoed in the response */
	uint8_t op;		/* ECHO_OP_* */
	uint8_t _pad1[3];
	uint32_t gref;		/* the frontend's page */
	uint16_t offset;	/* first byte in the page */
	uint16_t length;	/* bytes, offset + length <= ECHO_PAGE_SIZE */
	uint32_t _pad2;
};				/* 24 bytes on every ABI */

struct echo_response {
	uint64_t id;
	uint8_t op;
	uint8_t _pad1;
	int16_t status;		/* ECHO_RSP_* */
	uint32_t sum;		/* FNV-1a 32 of the bytes, before any change */
};				/* 16 bytes on every ABI */

/* echo_sring, echo_front_ring, echo_back_ring: 128 entries in one page. */
DEFINE_RING_TYPES(echo, struct echo_request, struct echo_response);

/* FNV-1a, 32 bits: the checksum both sides compute. */
#define ECHO_FNV_OFFSET 2166136261u
#define ECHO_FNV_PRIME 16777619u

static inline uint32_t echo_fnv1a(const void *data, unsigned int len)
{
	const uint8_t *p = (const uint8_t *)data;
	uint32_t h = ECHO_FNV_OFFSET;

	while (len--) {
		h ^= *p++;
		h *= ECHO_FNV_PRIME;
	}
	return h;
}

#endif
