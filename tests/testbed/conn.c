/* SPDX-License-Identifier: MIT */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "requests.h"
#include "server.h"
#include "txn.h"
#include "watch.h"

struct outmsg {
	struct outmsg *next;
	bool is_event;
	size_t len;		/* header and payload */
	char data[];
};

struct conn *conn_new(struct server *srv, unsigned domid, void *owner)
{
	struct conn *conn = calloc(1, sizeof(*conn));

	if (!conn)
		return NULL;
	conn->srv = srv;
	conn->id = srv->next_conn_id++;
	conn->domid = domid;
	conn->owner = owner;
	conn->next_txn_id = 1;
	conn->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = conn;
	srv->conns = conn;
	return conn;
}

static void free_output(struct conn *conn)
{
	while (conn->out_head) {
		struct outmsg *m = conn->out_head;

		conn->out_head = m->next;
		free(m);
	}
	conn->out_tail = NULL;
	conn->out_head_sent = 0;
	conn->out_bytes = 0;
	conn->out_events = conn->out_replies = 0;
}

void conn_free(struct conn *conn)
{
	struct server *srv = conn->srv;

	watch_remove_all(conn);
	while (conn->txns) {
		struct txn *t = conn->txns;

		conn->txns = t->next;
		txn_free(t);
	}
	free_output(conn);
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		srv->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	free(conn);
}

void conn_drop(struct conn *conn, const char *reason)
{
	if (conn->dropped)
		return;
	conn->dropped = reason;
	server_log(conn->srv, "conn %lu (dom%u): dropped: %s", conn->id,
		   conn->domid, reason);
	free_output(conn);
}

bool conn_wants_input(const struct conn *conn)
{
	return !conn->dropped &&
	       conn->out_replies < conn->srv->limits.max_outstanding;
}

size_t conn_input(struct conn *conn, const void *data, size_t len)
{
	const char *p = data;
	size_t used = 0;

	while (conn_wants_input(conn)) {
		size_t n;

		if (!conn->in_body) {
			if (used == len)
				break;
			n = sizeof(conn->in_hdr) - conn->in_hdr_used;
			if (n > len - used)
				n = len - used;
			memcpy((char *)&conn->in_hdr + conn->in_hdr_used,
			       p + used, n);
			conn->in_hdr_used += n;
			used += n;
			if (conn->in_hdr_used < sizeof(conn->in_hdr))
				break;
			/* xenstored kills a connection that claims a bigger
			 * payload: it can no longer find message bounds. */
			if (conn->in_hdr.len > XENSTORE_PAYLOAD_MAX) {
				conn_drop(conn, "request payload too long");
				break;
			}
			conn->in_body = true;
			conn->in_used = 0;
		}
		n = conn->in_hdr.len - conn->in_used;
		if (n > len - used)
			n = len - used;
		if (n)
			memcpy(conn->in_buf + conn->in_used, p + used, n);
		conn->in_used += n;
		used += n;
		if (conn->in_used < conn->in_hdr.len)
			break;
		conn->in_buf[conn->in_used] = '\0';
		conn->in_body = false;
		conn->in_hdr_used = 0;
		request_handle(conn, &conn->in_hdr, conn->in_buf);
	}
	return used;
}

bool conn_has_output(const struct conn *conn)
{
	return conn->out_head != NULL;
}

int conn_output_iov(const struct conn *conn, struct iovec *iov, int max)
{
	const struct outmsg *m = conn->out_head;
	size_t skip = conn->out_head_sent;
	int n = 0;

	for (; m && n < max; m = m->next, skip = 0, n++) {
		iov[n].iov_base = (char *)m->data + skip;
		iov[n].iov_len = m->len - skip;
	}
	return n;
}

void conn_output_done(struct conn *conn, size_t len)
{
	while (len && conn->out_head) {
		struct outmsg *m = conn->out_head;
		size_t left = m->len - conn->out_head_sent;

		if (len < left) {
			conn->out_head_sent += len;
			return;
		}
		len -= left;
		conn->out_head = m->next;
		if (!conn->out_head)
			conn->out_tail = NULL;
		conn->out_head_sent = 0;
		conn->out_bytes -= m->len;
		if (m->is_event)
			conn->out_events--;
		else
			conn->out_replies--;
		free(m);
	}
}

static void queue(struct conn *conn, uint32_t type, uint32_t req_id,
		  uint32_t tx_id, const void *data, size_t len, bool is_event)
{
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = req_id, .tx_id = tx_id, .len = len,
	};
	struct outmsg *m;

	if (conn->dropped)
		return;
	if (conn->out_bytes + sizeof(hdr) + len >
	    conn->srv->limits.max_output_bytes) {
		conn_drop(conn, "too much unread output");
		return;
	}
	m = malloc(sizeof(*m) + sizeof(hdr) + len);
	if (!m) {
		conn_drop(conn, "out of memory queueing output");
		return;
	}
	m->next = NULL;
	m->is_event = is_event;
	m->len = sizeof(hdr) + len;
	memcpy(m->data, &hdr, sizeof(hdr));
	if (len)
		memcpy(m->data + sizeof(hdr), data, len);
	if (conn->out_tail)
		conn->out_tail->next = m;
	else
		conn->out_head = m;
	conn->out_tail = m;
	conn->out_bytes += m->len;
	if (is_event)
		conn->out_events++;
	else
		conn->out_replies++;
}

void conn_error(struct conn *conn, const struct xsd_sockmsg *req, int err)
{
	const char *name = "EINVAL";

	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
		if (xsd_errors[i].errnum == err) {
			name = xsd_errors[i].errstring;
			break;
		}
	}
	queue(conn, XS_ERROR, req->req_id, req->tx_id, name, strlen(name) + 1,
	      false);
}

void conn_reply(struct conn *conn, const struct xsd_sockmsg *req,
		uint32_t type, const void *data, size_t len)
{
	if (len > XENSTORE_PAYLOAD_MAX) {
		conn_error(conn, req, E2BIG);
		return;
	}
	queue(conn, type, req->req_id, req->tx_id, data, len, false);
}

void conn_ack(struct conn *conn, const struct xsd_sockmsg *req)
{
	conn_reply(conn, req, req->type, "OK", sizeof("OK"));
}

/* Is the same event already waiting (and not partly written)? */
static bool event_pending(const struct conn *conn, const char *payload,
			  size_t len)
{
	const struct outmsg *m = conn->out_head;

	if (m && conn->out_head_sent)
		m = m->next;
	for (; m; m = m->next) {
		if (m->is_event && m->len == sizeof(struct xsd_sockmsg) + len &&
		    !memcmp(m->data + sizeof(struct xsd_sockmsg), payload, len))
			return true;
	}
	return false;
}

void conn_event(struct conn *conn, const char *path, const char *token)
{
	size_t plen = strlen(path) + 1, tlen = strlen(token) + 1;
	char payload[XENSTORE_PAYLOAD_MAX];

	if (conn->dropped)
		return;
	/* xenstored silently skips events too long to send. */
	if (plen + tlen > XENSTORE_PAYLOAD_MAX)
		return;
	memcpy(payload, path, plen);
	memcpy(payload + plen, token, tlen);
	/* Like xenstored, don't queue a duplicate of a pending event: the
	 * watcher will look at the node anyway. */
	if (path[0] != '@' && event_pending(conn, payload, plen + tlen))
		return;
	if (conn->out_events >= conn->srv->limits.max_pending_events) {
		conn_drop(conn, "too many unread watch events");
		return;
	}
	queue(conn, XS_WATCH_EVENT, 0, 0, payload, plen + tlen, true);
}
