/* SPDX-License-Identifier: MIT */
/* Service manager readiness notification (sd_notify protocol). */
#ifndef XBD_NOTIFY_H
#define XBD_NOTIFY_H

/* "READY=1", "STOPPING=1"...; does nothing without NOTIFY_SOCKET. */
void notify_service_manager(const char *state);

#endif
