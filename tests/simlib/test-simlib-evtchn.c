/* SPDX-License-Identifier: MIT */
/*
 * Event channels between simulated domains 5 and 0: interdomain binding and
 * its errors, events both ways through the pollable fd, masking as the
 * Linux driver does it, unbind/close/SIGKILL leaving the peer port bindable
 * again, VIRQs, loopback, and xenevtchn_fdopen after exec.
 */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xenevtchn.h>

#include "simtest.h"

enum { GO = 1, MASKED, SENT_TWO, NOTIFIED, CHECK_EVENT, NOTIFY_B, FINISH };

struct ports {
	uint32_t a, b, for9;
};

static void expect(int fd, uint32_t what)
{
	uint32_t got = simtest_recv_u32(fd);

	CHECK(got == what, "expected message %u, got %u", what, got);
}

/* Domain 5: offers ports to domain 0, as a frontend does. */
static int frontend(int fd)
{
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
	struct ports p;
	int flags, efd;

	CHECK(xe);
	p.a = (uint32_t)xenevtchn_bind_unbound_port(xe, 0);
	p.b = (uint32_t)xenevtchn_bind_unbound_port(xe, 0);
	p.for9 = (uint32_t)xenevtchn_bind_unbound_port(xe, 9);
	CHECK((int)p.a > 0 && (int)p.b > 0 && (int)p.for9 > 0);
	CHECK(p.a != p.b && p.b != p.for9);
	simtest_send(fd, &p, sizeof(p));

	expect(fd, GO);
	CHECK(simtest_event(xe, 5000) == (int)p.a);
	/* delivered: masked until we unmask */
	simtest_send_u32(fd, MASKED);
	expect(fd, SENT_TWO);
	CHECK(simtest_event(xe, 300) == -1, "a masked port signalled the fd");
	CHECK(xenevtchn_unmask(xe, p.a) == 0);
	CHECK(simtest_event(xe, 5000) == (int)p.a, "pending event not "
	      "re-delivered on unmask");
	CHECK(xenevtchn_unmask(xe, p.a) == 0);
	CHECK(simtest_event(xe, 300) == -1, "two notifies made two events");

	/* pending() reads the fd: non-blocking fd, no event, EAGAIN */
	efd = xenevtchn_fd(xe);
	flags = fcntl(efd, F_GETFL);
	CHECK(fcntl(efd, F_SETFL, flags | O_NONBLOCK) == 0);
	CHECK(xenevtchn_pending(xe) == -1 && errno == EAGAIN);
	CHECK(fcntl(efd, F_SETFL, flags) == 0);

	CHECK(xenevtchn_notify(xe, p.a) == 0);
	simtest_send_u32(fd, NOTIFIED);

	/* bound again by another dom0 handle after an unbind */
	expect(fd, CHECK_EVENT);
	CHECK(simtest_event(xe, 5000) == (int)p.a);
	CHECK(xenevtchn_unmask(xe, p.a) == 0);
	simtest_send_u32(fd, CHECK_EVENT);

	/* port b: its first binder was SIGKILLed, a new one bound it */
	expect(fd, NOTIFY_B);
	CHECK(xenevtchn_notify(xe, p.b) == 0);

	expect(fd, FINISH);
	CHECK(xenevtchn_close(xe) == 0);
	return 0;
}

/* Binds port b as domain 0 and waits to be killed. */
static void doomed_backend(uint32_t port, int fd)
{
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0);

	CHECK(xe);
	CHECK(xenevtchn_bind_interdomain(xe, 5, port) > 0);
	simtest_send_u32(fd, 1);
	for (;;)
		pause();
}

static int kill_and_rebind(xenevtchn_handle *xe, uint32_t port)
{
	pid_t pid;
	int fd, p;

	pid = simtest_fork_domain(0, &fd);
	if (pid == 0)
		doomed_backend(port, fd);
	CHECK(simtest_recv_u32(fd) == 1);
	CHECK(xenevtchn_bind_interdomain(xe, 5, port) == -1 && errno == EINVAL,
	      "bound to a port another live process holds");
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(simtest_wait(pid) == 128 + SIGKILL);
	close(fd);
	p = xenevtchn_bind_interdomain(xe, 5, port);
	CHECK(p > 0, "the SIGKILLed binder's port was not released");
	return p;
}

static void loopback_and_virq(xenevtchn_handle *xe)
{
	xenevtchn_handle *xe2 = xenevtchn_open(NULL, 0);
	int q, r, v;

	CHECK(xe2);
	q = xenevtchn_bind_unbound_port(xe, DOMID_SELF);
	CHECK(q > 0);
	r = xenevtchn_bind_interdomain(xe2, 0, (uint32_t)q);
	CHECK(r > 0 && r != q);
	CHECK(simtest_event(xe2, 5000) == r);
	CHECK(xenevtchn_notify(xe2, (uint32_t)r) == 0);
	CHECK(simtest_event(xe, 5000) == q);
	CHECK(xenevtchn_unmask(xe, (uint32_t)q) == 0);
	CHECK(xenevtchn_close(xe2) == 0);
	/* its peer closed: the port is unbound again, a notify goes nowhere */
	CHECK(xenevtchn_notify(xe, (uint32_t)q) == 0);
	CHECK(xenevtchn_unbind(xe, (uint32_t)q) == 0);

	v = xenevtchn_bind_virq(xe, VIRQ_DOM_EXC);
	CHECK(v > 0);
	CHECK(xenevtchn_bind_virq(xe, VIRQ_DOM_EXC) == -1 && errno == EEXIST);
	CHECK(xenevtchn_bind_virq(xe, NR_VIRQS) == -1 && errno == EINVAL);
	CHECK(xenevtchn_notify(xe, (uint32_t)v) == 0);
	CHECK(xenevtchn_unbind(xe, (uint32_t)v) == 0);
}

/* After exec: rebuild the handle from the inherited fd and notify. */
static int fdopen_child(int fd, uint32_t port)
{
	xenevtchn_handle *xe;

	CHECK(xenevtchn_fdopen(NULL, fd, XENEVTCHN_NO_CLOEXEC) == NULL &&
	      errno == EINVAL);
	CHECK(xenevtchn_fdopen(NULL, 1, 0) == NULL, "stdout is no handle");
	xe = xenevtchn_fdopen(NULL, fd, 0);
	CHECK(xe && xenevtchn_fd(xe) == fd);
	CHECK(xenevtchn_notify(xe, port) == 0);
	CHECK(xenevtchn_close(xe) == 0);
	return 0;
}

static void fdopen_after_exec(xenevtchn_handle *xe, char *self)
{
	xenevtchn_handle *keep = xenevtchn_open(NULL, XENEVTCHN_NO_CLOEXEC);
	char fdarg[16], portarg[16];
	int w, u, kfd, sfd;
	pid_t pid;

	CHECK(keep);
	w = xenevtchn_bind_unbound_port(xe, 0);
	u = xenevtchn_bind_interdomain(keep, 0, (uint32_t)w);
	CHECK(w > 0 && u > 0);
	CHECK(simtest_event(keep, 5000) == u);
	kfd = xenevtchn_fd(keep);
	CHECK(!(fcntl(kfd, F_GETFD) & FD_CLOEXEC));
	snprintf(fdarg, sizeof(fdarg), "%d", kfd);
	snprintf(portarg, sizeof(portarg), "%d", u);
	pid = simtest_fork_domain(0, &sfd);
	if (pid == 0) {
		execl(self, self, "--fdopen", fdarg, portarg, (char *)NULL);
		_exit(99);
	}
	CHECK(simtest_wait(pid) == 0, "fdopen child failed");
	close(sfd);
	CHECK(simtest_event(xe, 5000) == w);
	CHECK(xenevtchn_unmask(xe, (uint32_t)w) == 0);
	/* the exec'd process took the ports over: this copy just closes */
	CHECK(xenevtchn_close(keep) == 0);
	CHECK(xenevtchn_unbind(xe, (uint32_t)w) == 0);
}

/* Domain 0: binds to domain 5's ports, as a backend does. */
static int backend(int fd, char *self)
{
	xenevtchn_handle *xe = xenevtchn_open(NULL, 0), *xe2;
	struct ports p;
	int p0, p0b, pb;

	CHECK(xe);
	CHECK(xenevtchn_fd(xe) >= 0);
	simtest_recv(fd, &p, sizeof(p));

	CHECK(xenevtchn_bind_interdomain(xe, 5, p.for9) == -1 &&
	      errno == EINVAL, "port offered to domain 9");
	CHECK(xenevtchn_bind_interdomain(xe, 5, 4000) == -1 && errno == EINVAL);
	CHECK(xenevtchn_bind_interdomain(xe, 5, 0) == -1 && errno == EINVAL);
	CHECK(xenevtchn_bind_interdomain(xe, 5, 1u << 20) == -1 &&
	      errno == EINVAL);
	CHECK(xenevtchn_bind_interdomain(xe, 77, 1) == -1 && errno == ESRCH);
	p0 = xenevtchn_bind_interdomain(xe, 5, p.a);
	CHECK(p0 > 0);
	CHECK(xenevtchn_bind_interdomain(xe, 5, p.a) == -1 && errno == EINVAL,
	      "bound twice");
	/* Xen sets a new interdomain port pending: one event at once */
	CHECK(simtest_event(xe, 5000) == p0);
	CHECK(simtest_event(xe, 200) == -1);
	CHECK(xenevtchn_unmask(xe, (uint32_t)p0) == 0);

	CHECK(xenevtchn_notify(xe, (uint32_t)p0) == 0);
	simtest_send_u32(fd, GO);
	expect(fd, MASKED);
	CHECK(xenevtchn_notify(xe, (uint32_t)p0) == 0);
	CHECK(xenevtchn_notify(xe, (uint32_t)p0) == 0);
	simtest_send_u32(fd, SENT_TWO);
	expect(fd, NOTIFIED);
	CHECK(simtest_event(xe, 5000) == p0);
	CHECK(xenevtchn_unmask(xe, (uint32_t)p0) == 0);

	/* errors of ports we do not hold */
	CHECK(xenevtchn_notify(xe, 4095) == -1 && errno == ENOTCONN);
	CHECK(xenevtchn_notify(xe, 5000) == -1 && errno == EINVAL);
	CHECK(xenevtchn_unbind(xe, 4095) == -1 && errno == ENOTCONN);
	CHECK(xenevtchn_unbind(xe, 99999) == -1 && errno == EINVAL);
	CHECK(xenevtchn_unmask(xe, 4095) == 0);
	xe2 = xenevtchn_open(NULL, 0);
	CHECK(xe2);
	CHECK(xenevtchn_notify(xe2, (uint32_t)p0) == -1 && errno == ENOTCONN);
	CHECK(xenevtchn_unbind(xe2, (uint32_t)p0) == -1 && errno == ENOTCONN);

	/* unbind leaves domain 5's port unbound: another handle binds it */
	CHECK(xenevtchn_unbind(xe, (uint32_t)p0) == 0);
	CHECK(xenevtchn_unbind(xe, (uint32_t)p0) == -1 && errno == ENOTCONN);
	p0b = xenevtchn_bind_interdomain(xe2, 5, p.a);
	CHECK(p0b > 0, "unbind did not free the peer port");
	CHECK(simtest_event(xe2, 5000) == p0b);
	CHECK(xenevtchn_unmask(xe2, (uint32_t)p0b) == 0);
	CHECK(xenevtchn_notify(xe2, (uint32_t)p0b) == 0);
	simtest_send_u32(fd, CHECK_EVENT);
	expect(fd, CHECK_EVENT);

	/* close does the same */
	CHECK(xenevtchn_close(xe2) == 0);
	p0 = xenevtchn_bind_interdomain(xe, 5, p.a);
	CHECK(p0 > 0, "close did not free the peer port");
	CHECK(simtest_event(xe, 5000) == p0);
	CHECK(xenevtchn_unmask(xe, (uint32_t)p0) == 0);

	/* and so does a SIGKILL, noticed lazily */
	pb = kill_and_rebind(xe, p.b);
	CHECK(xenevtchn_bind_interdomain(xe, 5, p.b) == -1 && errno == EINVAL);
	CHECK(simtest_event(xe, 5000) == pb);
	/* masked since the bind-time event: domain 5's notify waits */
	simtest_send_u32(fd, NOTIFY_B);
	CHECK(simtest_event(xe, 300) == -1);
	CHECK(xenevtchn_unmask(xe, (uint32_t)pb) == 0);
	CHECK(simtest_event(xe, 5000) == pb, "domain 5's notify was lost");
	CHECK(xenevtchn_unmask(xe, (uint32_t)pb) == 0);

	loopback_and_virq(xe);
	fdopen_after_exec(xe, self);

	simtest_send_u32(fd, FINISH);
	CHECK(xenevtchn_close(xe) == 0);
	return 0;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t n;
	pid_t pid;
	int fd, rc;

	simtest_use_simlib(argv);
	if (argc == 4 && strcmp(argv[1], "--fdopen") == 0)
		return fdopen_child(atoi(argv[2]), (uint32_t)atoi(argv[3]));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	simtest_make_dir();
	pid = simtest_fork_domain(5, &fd);
	if (pid == 0)
		_exit(frontend(fd));
	simtest_be_domain(0);
	rc = backend(fd, self);
	close(fd);
	CHECK(simtest_wait(pid) == 0, "domain 5 failed");
	printf("event channel test passed\n");
	return rc;
}
