/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "evtchn_ports.h"

#define EVS_MAGIC	0x58455631u	/* "XEV1" */
#define EVS_VERSION	1u
#define EVS_NAME_FMT	"xensim-evtchn-%016" PRIx64 "-%" PRIu64

static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;
static struct evs_state *attached;
static char attached_dir[PATH_MAX];

static void state_init(void *p)
{
	struct evs_state *s = p;

	s->magic = EVS_MAGIC;
	s->version = EVS_VERSION;
	if (getrandom(&s->nonce, sizeof(s->nonce), GRND_NONBLOCK) !=
	    sizeof(s->nonce))
		s->nonce = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
	sim_mutex_init_shared(&s->lock);
	s->next_id = 1;
}

struct evs_state *evs_attach(const struct sim_env *env)
{
	char path[PATH_MAX];
	struct evs_state *s = NULL;

	pthread_mutex_lock(&attach_lock);
	if (attached) {
		if (strcmp(attached_dir, env->dir) == 0)
			s = attached;
		else
			errno = EXDEV;	/* one process, one simulated host */
		goto out;
	}
	if (sim_subdir(env, "evtchn", path, sizeof(path)) < 0)
		goto out;
	strcat(path, "/state");
	s = sim_map_shared(path, sizeof(*s), state_init);
	if (!s)
		goto out;
	if (s->magic != EVS_MAGIC || s->version != EVS_VERSION) {
		munmap(s, sizeof(*s));
		errno = EPROTO;
		s = NULL;
		goto out;
	}
	attached = s;
	strcpy(attached_dir, env->dir);
out:
	pthread_mutex_unlock(&attach_lock);
	return s;
}

void evs_lock(struct evs_state *s)
{
	sim_mutex_lock(&s->lock);
}

void evs_unlock(struct evs_state *s)
{
	sim_mutex_unlock(&s->lock);
}

int evs_dom(struct evs_state *s, uint32_t domid, bool create)
{
	for (uint32_t i = 0; i < s->ndoms && i < EVS_MAX_DOMS; i++)
		if (s->domids[i] == domid)
			return (int)i;
	if (!create) {
		errno = ESRCH;
		return -1;
	}
	if (s->ndoms >= EVS_MAX_DOMS) {
		errno = ENOSPC;
		return -1;
	}
	s->domids[s->ndoms] = (uint16_t)domid;
	return (int)s->ndoms++;
}

socklen_t evs_name(const struct evs_state *s, uint64_t id,
		   struct sockaddr_un *a)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* abstract: vanishes with its last fd, so a dead process leaves none */
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, EVS_NAME_FMT,
		     s->nonce, id);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

uint64_t evs_parse_name(const struct evs_state *s, const struct sockaddr_un *a,
			socklen_t len)
{
	struct sockaddr_un want;
	uint64_t nonce, id;
	char tail;

	if (a->sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path) + 1 || a->sun_path[0])
		return 0;
	memcpy(&want, a, len);
	((char *)&want)[len < sizeof(want) ? len : sizeof(want) - 1] = '\0';
	if (sscanf(want.sun_path + 1, EVS_NAME_FMT "%c", &nonce, &id,
		   &tail) != 2 || nonce != s->nonce)
		return 0;
	return id;
}

int evs_handle_find(const struct evs_state *s, uint64_t id)
{
	for (int i = 0; i < EVS_MAX_HANDLES; i++)
		if (s->handles[i].id == id)
			return i;
	return -1;
}

bool evs_handle_alive(const struct evs_state *s, int hslot)
{
	struct sockaddr_un a;
	socklen_t len = evs_name(s, s->handles[hslot].id, &a);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return true;	/* cannot tell: keep it */
	/* connect() sends nothing, and fails only if no one holds the name */
	alive = connect(fd, (struct sockaddr *)&a, len) == 0 ||
		errno != ECONNREFUSED;
	close(fd);
	return alive;
}

int evs_handle_alloc(struct evs_state *s, uint64_t id, uint32_t domid)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < EVS_MAX_HANDLES; i++) {
			struct evs_handle *h = &s->handles[i];

			if (h->id)
				continue;
			memset(h, 0, sizeof(*h));
			h->id = id;
			h->pid = getpid();
			h->domid = (uint16_t)domid;
			h->restrict_domid = EVS_UNRESTRICTED;
			return i;
		}
		/* full: make room by reaping handles whose process died */
		for (int i = 0; i < EVS_MAX_HANDLES; i++)
			if (s->handles[i].id && !evs_handle_alive(s, i))
				evs_handle_release(s, i);
	}
	errno = ENFILE;
	return -1;
}

void evs_handle_release(struct evs_state *s, int hslot)
{
	struct evs_handle *h = &s->handles[hslot];
	int d = evs_dom(s, h->domid, false);

	if (d >= 0)
		for (uint32_t p = 1; p < EVS_NR_PORTS; p++)
			if (s->ports[d][p].owner == hslot + 1)
				evs_port_close(s, d, p);
	memset(h, 0, sizeof(*h));
}

int evs_port_alloc(struct evs_state *s, int dslot)
{
	/* port 0 is never valid, as in Xen */
	for (uint32_t p = 1; p < EVS_NR_PORTS; p++)
		if (s->ports[dslot][p].state == EVS_FREE)
			return (int)p;
	errno = ENOSPC;
	return -1;
}

/* The peer entry of an interdomain port, if it still points back at it. */
static struct evs_port *peer_of(struct evs_state *s, int dslot, uint32_t port)
{
	struct evs_port *p = &s->ports[dslot][port], *rp;
	int rd;

	if (p->state != EVS_INTERDOMAIN || p->remote_port >= EVS_NR_PORTS)
		return NULL;
	rd = evs_dom(s, p->remote_dom, false);
	if (rd < 0)
		return NULL;
	rp = &s->ports[rd][p->remote_port];
	if (rp->state != EVS_INTERDOMAIN || rp->remote_dom != s->domids[dslot] ||
	    rp->remote_port != port)
		return NULL;
	return rp;
}

void evs_port_close(struct evs_state *s, int dslot, uint32_t port)
{
	struct evs_port *rp = peer_of(s, dslot, port);

	if (rp) {
		/* Xen leaves the peer unbound, waiting for our domain again */
		rp->state = EVS_UNBOUND;
		rp->remote_port = 0;
	}
	memset(&s->ports[dslot][port], 0, sizeof(struct evs_port));
}

static int doorbell(const struct evs_state *s, int sock, uint64_t id)
{
	struct sockaddr_un a;
	socklen_t len = evs_name(s, id, &a);
	int fd = sock >= 0 ? sock : socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;
	int e;

	if (fd < 0)
		return -1;
	n = sendto(fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (struct sockaddr *)&a, len);
	e = errno;
	if (sock < 0)
		close(fd);
	else if (n < 0 && e == EAGAIN)
		/*
		 * The sender's socket buffer holds every doorbell not yet taken
		 * by its receivers; a busy sender gets a fresh one rather than
		 * losing a wakeup.
		 */
		return doorbell(s, -1, id);
	errno = e;
	return n == 1 ? 0 : -1;
}

void evs_push(struct evs_state *s, int sock, int hslot, uint32_t port)
{
	struct evs_handle *h = &s->handles[hslot];
	bool was_empty = h->prod == h->cons;

	if (h->prod - h->cons >= EVS_RING_SIZE) {
		h->overflow = 1;	/* the driver's EFBIG */
		return;
	}
	s->rings[hslot][h->prod % EVS_RING_SIZE] = port;
	h->prod++;
	if (was_empty && doorbell(s, sock, h->id) < 0 &&
	    (errno == ECONNREFUSED || errno == ENOENT))
		evs_handle_release(s, hslot);
}

void evs_fire(struct evs_state *s, int sock, int dslot, uint32_t port)
{
	struct evs_port *p = &s->ports[dslot][port];

	if (p->state != EVS_INTERDOMAIN || !p->owner)
		return;
	if (p->masked) {
		p->pending = 1;
		return;
	}
	p->masked = 1;
	p->pending = 0;
	evs_push(s, sock, p->owner - 1, port);
}

void evs_send(struct evs_state *s, int sock, int dslot, uint32_t port)
{
	struct evs_port *p = &s->ports[dslot][port];
	int rd;

	/* an unbound or dangling port drops the event, as Xen's send does */
	if (!peer_of(s, dslot, port))
		return;
	rd = evs_dom(s, p->remote_dom, false);
	evs_fire(s, sock, rd, p->remote_port);
}
