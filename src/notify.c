/* SPDX-License-Identifier: MIT */
/*
 * Tells systemd (Type=notify) when we are ready and when we stop. With
 * libsystemd we use sd_notify(); without it, the protocol is one datagram
 * to $NOTIFY_SOCKET, so the unit works the same either way.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "notify.h"

void notify_service_manager(const char *state)
{
#if HAVE_SYSTEMD
	if (sd_notify(0, state) < 0)
		xbd_log(XBD_WARN, "sd_notify(%s) failed", state);
#else
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, len) < 0)
		xbd_log(XBD_WARN, "notifying the service manager (%s) failed",
			state);
	close(fd);
#endif
}
