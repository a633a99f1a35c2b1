/* SPDX-License-Identifier: MIT */
/*
 * The control socket xenbackctl talks to: one request line, one reply,
 * for root only.
 *
 * Request: "list|stats|show DEV" followed by " json" for JSON output.
 * Reply:   "ok\n" and the report, or "error: <message>\n" (also for
 *          a request with a NUL byte or of more than 511 bytes, and to a
 *          client refused for want of a slot or of root).
 */
#ifndef XBD_CONTROL_H
#define XBD_CONTROL_H

struct ev_loop;

#define CONTROL_SOCKET_NAME "control"

int control_open(struct ev_loop *loop, const char *path);
void control_close(struct ev_loop *loop);

#endif
