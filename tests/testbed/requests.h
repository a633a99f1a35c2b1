/* SPDX-License-Identifier: MIT */
/* One handler per xenstore request type (xs_wire.h), with xenstored's
 * argument checks and errors. */
#ifndef TESTBED_REQUESTS_H
#define TESTBED_REQUESTS_H

#include "wire.h"

struct conn;

/* Handles one complete request; body holds hdr->len bytes plus a nul.
 * Queues exactly one reply (or none if the connection gets dropped). */
void request_handle(struct conn *conn, const struct xsd_sockmsg *hdr,
		    const char *body);

#endif
