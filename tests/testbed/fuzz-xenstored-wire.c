/* SPDX-License-Identifier: MIT */
/* libFuzzer target: raw bytes as the streams of two clients (dom0 and an
 * unprivileged domain) into the test xenstored's request handling.
 *
 * The input is a series of chunks, each a control byte then up to
 * ((control >> 2) * 8 + 1) bytes of stream: bit 0 picks the client, bit 1
 * says to throw away (as if read) everything both have queued afterwards.
 * A client that gets dropped is replaced by a new connection.
 * XENSTORED_FUZZ_LOG=1 logs every request (to check what seeds do). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "conn.h"
#include "domain.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(struct conn *conn)
{
	struct iovec iov[16];
	int n;

	while ((n = conn_output_iov(conn, iov, 16)) > 0) {
		size_t len = 0;

		for (int i = 0; i < n; i++)
			len += iov[i].iov_len;
		conn_output_done(conn, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct limits limits = default_limits;
	struct server *srv;
	struct conn *conns[2];
	static const unsigned domids[2] = { 0, 5 };
	size_t pos = 0;

	/* Small bounds so the fuzzer reaches them. */
	limits.max_pending_events = 64;
	limits.max_output_bytes = 64 * 1024;
	srv = server_new(&limits, getenv("XENSTORED_FUZZ_LOG") ? stderr : NULL);
	if (!srv)
		return 0;
	srv->verbose = srv->log != NULL;
	if (domain_introduce(srv, 5)) {
		server_free(srv);
		return 0;
	}
	conns[0] = conn_new(srv, domids[0], NULL);
	conns[1] = conn_new(srv, domids[1], NULL);

	while (pos < size && conns[0] && conns[1]) {
		uint8_t control = data[pos++];
		size_t want = (size_t)(control >> 2) * 8 + 1;
		int which = control & 1;
		struct conn *c = conns[which];

		if (want > size - pos)
			want = size - pos;
		while (want) {
			size_t used = conn_input(c, data + pos, want);

			pos += used;
			want -= used;
			if (c->dropped) {
				conn_free(c);
				c = conns[which] = conn_new(srv, domids[which],
							    NULL);
				if (!c)
					break;
			} else if (!used) {
				drain(c);	/* waiting for replies read */
			}
		}
		if (control & 2) {
			for (int i = 0; i < 2; i++)
				if (conns[i])
					drain(conns[i]);
		}
	}
	server_free(srv);
	return 0;
}
