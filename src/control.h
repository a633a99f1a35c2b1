/* SPDX-License-Identifier: MIT */
/*
 * The control socket xenbackctl talks to: one request line, one reply,
 * for root only.
 *
 * Request: "list|stats|show DEV" followed by " json" for JSON output.
 * Reply:   "ok\n" and the report, or "error: <message>\n".
 */
#ifndef XBD_CONTROL_H
#define XBD_CONTROL_H

struct ev_loop;

#define CONTROL_SOCKET_NAME "control"

int control_open(struct ev_loop *loop, const char *path);
void control_close(struct ev_loop *loop);

#endif
