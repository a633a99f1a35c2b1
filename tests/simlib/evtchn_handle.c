/* SPDX-License-Identifier: MIT */
/*
 * libxenevtchn's API on the simulated event channels (evtchn_ports.h).
 * Errors are the ones Linux's /dev/xen/evtchn and Xen give: EINVAL for a
 * port out of range or a remote port not unbound for us, ENOTCONN for a
 * port this handle did not bind, ESRCH for a domain that does not exist,
 * EACCES for a bind a restriction forbids.
 */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xenevtchn.h>

#include "evtchn_ports.h"
#include "sim_toolcore.h"

struct xenevtchn_handle {
	xentoollog_logger *logger, *logger_tofree;
	int fd;			/* the handle's socket */
	struct sim_tc_handle tc_ah;
	struct evs_state *s;
	uint64_t id;
	int slot;		/* cached index of id in s->handles */
	uint32_t domid;
	/* a forked child closing its copy must not close the parent's ports */
	pid_t pid;
};

/* Under the lock: the handle's slot, or -1 (EBADF) if it was reaped. */
static int my_slot(xenevtchn_handle *h)
{
	if (h->slot < 0 || h->s->handles[h->slot].id != h->id)
		h->slot = evs_handle_find(h->s, h->id);
	if (h->slot < 0)
		errno = EBADF;
	return h->slot;
}

static int my_dom(xenevtchn_handle *h)
{
	return evs_dom(h->s, h->domid, false);
}

/* libxentoolcore's restrict_all: what the real library's callback does */
static int restrict_cb(struct sim_tc_handle *ah, uint32_t domid)
{
	xenevtchn_handle *h = SIM_CONTAINER_OF(ah, xenevtchn_handle, tc_ah);

	if (h->fd < 0)
		return 0;
	return xenevtchn_restrict(h, (domid_t)domid);
}

static void free_handle(xenevtchn_handle *h)
{
	int e = errno;

	if (h->fd >= 0)
		close(h->fd);
	xentoolcore__deregister_active_handle(&h->tc_ah);
	xtl_logger_destroy(h->logger_tofree);
	free(h);
	errno = e;
}

static xenevtchn_handle *alloc_handle(xentoollog_logger *logger,
				      struct sim_env *env)
{
	xenevtchn_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fd = -1;
	h->slot = -1;
	h->pid = getpid();
	h->tc_ah.restrict_callback = restrict_cb;
	xentoolcore__register_active_handle(&h->tc_ah);
	h->logger = sim_logger(logger, &h->logger_tofree);
	if (!h->logger || sim_env_read(h->logger, "evtchn", env) < 0)
		goto fail;
	h->s = evs_attach(env);
	if (!h->s) {
		SIM_ERR(h->logger, "evtchn", "cannot open the simulated event "
			"channels in %s/evtchn", env->dir);
		goto fail;
	}
	h->domid = env->domid;
	return h;
fail:
	free_handle(h);
	return NULL;
}

xenevtchn_handle *xenevtchn_open(xentoollog_logger *logger, unsigned flags)
{
	struct sim_env env;
	struct sockaddr_un a;
	socklen_t len;
	xenevtchn_handle *h = alloc_handle(logger, &env);

	if (!h)
		return NULL;
	h->fd = socket(AF_UNIX, SOCK_DGRAM |
		       (flags & XENEVTCHN_NO_CLOEXEC ? 0 : SOCK_CLOEXEC), 0);
	if (h->fd < 0)
		goto fail;
	evs_lock(h->s);
	h->id = h->s->next_id++;
	evs_unlock(h->s);
	/* bound before it has a slot, so no one can find it and see it dead */
	len = evs_name(h->s, h->id, &a);
	if (bind(h->fd, (struct sockaddr *)&a, len) < 0)
		goto fail;
	evs_lock(h->s);
	if (evs_dom(h->s, h->domid, true) >= 0)
		h->slot = evs_handle_alloc(h->s, h->id, h->domid);
	evs_unlock(h->s);
	if (h->slot < 0) {
		SIM_ERR(h->logger, "evtchn", "no room for domain %u's handle in "
			"the simulated event channels", h->domid);
		goto fail;
	}
	return h;
fail:
	free_handle(h);
	return NULL;
}

xenevtchn_handle *xenevtchn_fdopen(xentoollog_logger *logger, int fd,
				   unsigned open_flags)
{
	struct sim_env env;
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	xenevtchn_handle *h;

	if (open_flags & XENEVTCHN_NO_CLOEXEC) {
		errno = EINVAL;
		return NULL;
	}
	h = alloc_handle(logger, &env);
	if (!h)
		return NULL;
	memset(&a, 0, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		goto fail;
	h->id = evs_parse_name(h->s, &a, len);
	evs_lock(h->s);
	if (h->id && my_slot(h) >= 0) {
		/* the ports follow the fd into this process (e.g. after exec) */
		h->s->handles[h->slot].pid = getpid();
		h->domid = h->s->handles[h->slot].domid;
	}
	evs_unlock(h->s);
	if (!h->id || h->slot < 0) {
		errno = EBADF;
		goto fail;
	}
	h->fd = fd;
	return h;
fail:
	free_handle(h);
	return NULL;
}

int xenevtchn_close(xenevtchn_handle *h)
{
	int rc = 0;

	if (!h)
		return 0;
	if (h->fd >= 0 && h->pid == getpid()) {
		/* as the driver's release: every port of the handle closes */
		evs_lock(h->s);
		if (my_slot(h) >= 0)
			evs_handle_release(h->s, h->slot);
		evs_unlock(h->s);
	}
	if (h->fd >= 0)
		rc = close(h->fd);
	xentoolcore__deregister_active_handle(&h->tc_ah);
	xtl_logger_destroy(h->logger_tofree);
	free(h);
	return rc;
}

int xenevtchn_fd(xenevtchn_handle *h)
{
	return h->fd;
}

/* Under the lock: the port's entry if this handle bound it, else NULL. */
static struct evs_port *owned_port(xenevtchn_handle *h, evtchn_port_t port,
				   int *dslot)
{
	int slot = my_slot(h), d = my_dom(h);
	struct evs_port *p;

	if (slot < 0 || d < 0)
		return NULL;
	p = &h->s->ports[d][port];
	if (p->state == EVS_FREE || p->owner != slot + 1) {
		errno = ENOTCONN;
		return NULL;
	}
	*dslot = d;
	return p;
}

int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	int d, rc = -1;

	if (port >= EVS_NR_PORTS) {
		errno = EINVAL;
		return -1;
	}
	evs_lock(h->s);
	if (owned_port(h, port, &d)) {
		evs_send(h->s, h->fd, d, port);
		rc = 0;
	}
	evs_unlock(h->s);
	return rc;
}

/* Under the lock: EACCES unless the handle may bind to domid. */
static int bind_allowed(xenevtchn_handle *h, int slot, long domid)
{
	uint16_t r = h->s->handles[slot].restrict_domid;

	if (r == EVS_UNRESTRICTED || (domid >= 0 && r == domid))
		return 0;
	errno = EACCES;
	return -1;
}

/* Under the lock: a new port of this handle, or -1. */
static int new_port(xenevtchn_handle *h, int slot, int d, uint8_t state,
		    uint16_t remote_dom, uint32_t remote_port)
{
	int port = evs_port_alloc(h->s, d);
	struct evs_port *p;

	if (port < 0)
		return -1;
	p = &h->s->ports[d][port];
	memset(p, 0, sizeof(*p));
	p->state = state;
	p->remote_dom = remote_dom;
	p->remote_port = remote_port;
	p->owner = (uint16_t)(slot + 1);
	return port;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *h,
						      uint32_t domid)
{
	int slot, d, port = -1;

	evs_lock(h->s);
	slot = my_slot(h);
	d = my_dom(h);
	if (slot < 0 || d < 0 || bind_allowed(h, slot, -1) < 0)
		goto out;
	if (domid == DOMID_SELF)
		domid = h->domid;
	port = new_port(h, slot, d, EVS_UNBOUND, (uint16_t)domid, 0);
out:
	evs_unlock(h->s);
	return port;
}

/*
 * Under the lock: if the remote port's holder, or the holder of the port it
 * is connected to, died without closing, close their ports now, as Xen did
 * when their evtchn fd was released. Lets a restarted backend bind again.
 */
static void reap_dead_around(struct evs_state *s, int rd, uint32_t rport)
{
	struct evs_port *rp = &s->ports[rd][rport], *pp;
	int pd;

	if (rp->owner && !evs_handle_alive(s, rp->owner - 1)) {
		evs_handle_release(s, rp->owner - 1);
		return;
	}
	if (rp->state != EVS_INTERDOMAIN || rp->remote_port >= EVS_NR_PORTS)
		return;
	pd = evs_dom(s, rp->remote_dom, false);
	if (pd < 0)
		return;
	pp = &s->ports[pd][rp->remote_port];
	if (pp->owner && !evs_handle_alive(s, pp->owner - 1))
		evs_handle_release(s, pp->owner - 1);
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h,
						     uint32_t domid,
						     evtchn_port_t remote_port)
{
	struct evs_state *s = h->s;
	struct evs_port *rp;
	int slot, d, rd, port = -1;

	evs_lock(s);
	slot = my_slot(h);
	d = my_dom(h);
	if (slot < 0 || d < 0 || bind_allowed(h, slot, domid) < 0)
		goto out;
	if (domid == DOMID_SELF)
		domid = h->domid;
	rd = evs_dom(s, domid, false);
	if (rd < 0)
		goto out;	/* ESRCH */
	if (remote_port == 0 || remote_port >= EVS_NR_PORTS) {
		errno = EINVAL;
		goto out;
	}
	reap_dead_around(s, rd, remote_port);
	rp = &s->ports[rd][remote_port];
	if (rp->state != EVS_UNBOUND || rp->remote_dom != h->domid) {
		errno = EINVAL;
		goto out;
	}
	port = new_port(h, slot, d, EVS_INTERDOMAIN, (uint16_t)domid,
			remote_port);
	if (port < 0)
		goto out;
	rp->state = EVS_INTERDOMAIN;
	rp->remote_port = (uint32_t)port;
	/*
	 * Xen marks the new local port pending, since the remote may have
	 * signalled before the bind: the binder sees one event at once.
	 */
	evs_fire(s, h->fd, d, (uint32_t)port);
out:
	evs_unlock(s);
	return port;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *h,
					      unsigned int virq)
{
	struct evs_state *s = h->s;
	int slot, d, port = -1;

	evs_lock(s);
	slot = my_slot(h);
	d = my_dom(h);
	if (slot < 0 || d < 0 || bind_allowed(h, slot, -1) < 0)
		goto out;
	if (virq >= NR_VIRQS) {
		errno = EINVAL;
		goto out;
	}
	for (uint32_t p = 1; p < EVS_NR_PORTS; p++)
		if (s->ports[d][p].state == EVS_VIRQ &&
		    s->ports[d][p].remote_port == virq) {
			errno = EEXIST;
			goto out;
		}
	/* nothing raises VIRQs in the simulation: the port never fires */
	port = new_port(h, slot, d, EVS_VIRQ, 0, virq);
out:
	evs_unlock(s);
	return port;
}

int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	int d, rc = -1;

	if (port >= EVS_NR_PORTS) {
		errno = EINVAL;
		return -1;
	}
	evs_lock(h->s);
	if (owned_port(h, port, &d)) {
		evs_port_close(h->s, d, port);
		rc = 0;
	}
	evs_unlock(h->s);
	return rc;
}

/* Under the lock: takes back the doorbell that made the fd readable. */
static void take_doorbell(int fd)
{
	char c;

	(void)!recv(fd, &c, 1, MSG_DONTWAIT);
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	struct evs_state *s = h->s;
	struct evs_handle *hs;
	uint32_t port;
	char c;

	for (;;) {
		evs_lock(s);
		if (my_slot(h) < 0) {
			evs_unlock(s);
			return -1;
		}
		hs = &s->handles[h->slot];
		if (hs->overflow) {
			evs_unlock(s);
			errno = EFBIG;
			return -1;
		}
		if (hs->cons != hs->prod) {
			port = s->rings[h->slot][hs->cons % EVS_RING_SIZE];
			hs->cons++;
			if (hs->cons == hs->prod)
				take_doorbell(h->fd);
			evs_unlock(s);
			return (xenevtchn_port_or_error_t)port;
		}
		take_doorbell(h->fd);	/* none should be there; never spin */
		evs_unlock(s);
		/*
		 * Block like the driver's read(), or fail with EAGAIN if the
		 * caller made the fd non-blocking.
		 */
		if (recv(h->fd, &c, 1, MSG_PEEK) < 0)
			return -1;
	}
}

int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	struct evs_port *p;
	int d;

	/* the driver ignores ports that are not this handle's */
	if (port >= EVS_NR_PORTS)
		return 0;
	evs_lock(h->s);
	p = owned_port(h, port, &d);
	if (p && p->masked) {
		p->masked = 0;
		if (p->pending) {
			p->pending = 0;
			p->masked = 1;
			evs_push(h->s, h->fd, h->slot, port);
		}
	}
	evs_unlock(h->s);
	return 0;
}

int xenevtchn_restrict(xenevtchn_handle *h, domid_t domid)
{
	int rc = -1;

	evs_lock(h->s);
	if (my_slot(h) < 0)
		goto out;
	/* the IOCTL_EVTCHN_RESTRICT_DOMID checks, in their order */
	if (h->s->handles[h->slot].restrict_domid != EVS_UNRESTRICTED) {
		errno = EACCES;
		goto out;
	}
	if (domid == 0 || domid >= DOMID_FIRST_RESERVED) {
		errno = EINVAL;
		goto out;
	}
	h->s->handles[h->slot].restrict_domid = domid;
	rc = 0;
out:
	evs_unlock(h->s);
	return rc;
}
