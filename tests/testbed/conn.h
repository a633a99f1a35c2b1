/* SPDX-License-Identifier: MIT */
/* A client connection: splits its byte stream into requests, queues its
 * replies and watch events, and bounds what it may make us hold. */
#ifndef TESTBED_CONN_H
#define TESTBED_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "wire.h"

struct server;
struct watch;
struct txn;
struct outmsg;

struct conn {
	struct server *srv;
	struct conn *prev, *next;
	unsigned long id;
	unsigned domid;		/* the domain this connection acts as */
	void *owner;		/* the event loop's data */

	/* The request being received. */
	struct xsd_sockmsg in_hdr;
	unsigned in_hdr_used;
	bool in_body;
	unsigned in_used;
	char in_buf[XENSTORE_PAYLOAD_MAX + 1];

	/* Output not yet written, oldest first. */
	struct outmsg *out_head, *out_tail;
	size_t out_head_sent;
	size_t out_bytes;
	unsigned out_events, out_replies;

	struct watch *watches;
	unsigned nwatches;
	struct txn *txns;
	unsigned ntxns;
	uint32_t next_txn_id;
	struct txn *txn;	/* that of the request being handled */

	/* Why the connection is to be closed, or NULL. */
	const char *dropped;
};

struct conn *conn_new(struct server *srv, unsigned domid, void *owner);
/* Forgets the connection: its watches, transactions and output. */
void conn_free(struct conn *conn);

/* Handles the requests in these bytes. Stops early when the connection
 * should not take more input (see conn_wants_input) or was dropped, and
 * returns how many bytes it used. */
size_t conn_input(struct conn *conn, const void *data, size_t len);
/* False while too many replies wait to be read, or once dropped. */
bool conn_wants_input(const struct conn *conn);

bool conn_has_output(const struct conn *conn);
/* Fills up to max iovecs with unsent output; returns how many. */
int conn_output_iov(const struct conn *conn, struct iovec *iov, int max);
/* Marks len bytes of output as written. */
void conn_output_done(struct conn *conn, size_t len);

/* Marks the connection to be closed (by the event loop) and discards
 * what it queued. */
void conn_drop(struct conn *conn, const char *reason);

void conn_reply(struct conn *conn, const struct xsd_sockmsg *req,
		uint32_t type, const void *data, size_t len);
void conn_error(struct conn *conn, const struct xsd_sockmsg *req, int err);
void conn_ack(struct conn *conn, const struct xsd_sockmsg *req);
void conn_event(struct conn *conn, const char *path, const char *token);

#endif
