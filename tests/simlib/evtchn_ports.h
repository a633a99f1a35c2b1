/* SPDX-License-Identifier: MIT */
/*
 * The simulated hypervisor's event channels: every domain's port table and
 * every open handle's queue of fired ports, in one shared file
 * (DIR/evtchn/state) under one process-shared robust mutex.
 *
 * A handle's fd is a unix datagram socket bound to an abstract name derived
 * from the handle id. Fired ports go into the handle's ring in the shared
 * file, like the Linux evtchn driver's ring; the socket only carries a
 * one-byte doorbell, sent when the ring goes from empty to non-empty and
 * taken back when it is emptied, so the fd polls readable exactly while
 * ports are queued (a unix datagram queue holds only ~10 messages, too few
 * to carry the ports themselves). A doorbell refused with ECONNREFUSED
 * means the handle's process died without closing it: its ports are then
 * closed as Xen closes them when /dev/xen/evtchn is released.
 *
 * Masking follows Linux's evtchn driver: delivering a port masks it, a port
 * signalled while masked only becomes pending, and unmasking a pending port
 * delivers it again.
 */
#ifndef SIM_EVTCHN_PORTS_H
#define SIM_EVTCHN_PORTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "sim_common.h"

#define EVS_MAX_DOMS		256
#define EVS_NR_PORTS		4096	/* 2-level ABI, 64-bit guest */
#define EVS_MAX_HANDLES		1024
#define EVS_RING_SIZE		1024	/* one page of ports, as the driver */
#define EVS_UNRESTRICTED	0xFFFFu

enum evs_port_state { EVS_FREE, EVS_UNBOUND, EVS_INTERDOMAIN, EVS_VIRQ };

struct evs_port {
	uint8_t state;
	uint8_t pending;	/* signalled while masked */
	uint8_t masked;		/* delivered, not unmasked since */
	uint8_t pad;
	uint16_t remote_dom;	/* unbound: who may bind; interdomain: peer */
	uint16_t owner;		/* handle slot + 1, 0 for none */
	uint32_t remote_port;	/* interdomain peer port, or the VIRQ */
	uint32_t pad2;
};

struct evs_handle {
	uint64_t id;		/* 0: slot free */
	int32_t pid;
	uint16_t domid;
	uint16_t restrict_domid;
	uint32_t prod, cons;	/* ring indexes */
	uint32_t overflow;
	uint32_t pad;
};

struct evs_state {
	uint32_t magic, version;
	uint64_t nonce;		/* makes socket names unique to this DIR */
	pthread_mutex_t lock;
	uint64_t next_id;
	uint32_t ndoms;
	uint16_t domids[EVS_MAX_DOMS];
	struct evs_handle handles[EVS_MAX_HANDLES];
	uint32_t rings[EVS_MAX_HANDLES][EVS_RING_SIZE];
	struct evs_port ports[EVS_MAX_DOMS][EVS_NR_PORTS];
};

/* Maps this DIR's state, once per process; NULL with errno on failure. */
struct evs_state *evs_attach(const struct sim_env *env);

void evs_lock(struct evs_state *s);
void evs_unlock(struct evs_state *s);

/*
 * The slot of domid's port table. A domain exists once one of its
 * processes opened an event channel handle (create); otherwise ESRCH.
 */
int evs_dom(struct evs_state *s, uint32_t domid, bool create);

/* The abstract socket address of handle id. */
socklen_t evs_name(const struct evs_state *s, uint64_t id,
		   struct sockaddr_un *a);
/* The handle id an address names, or 0 if it is not one of ours. */
uint64_t evs_parse_name(const struct evs_state *s, const struct sockaddr_un *a,
			socklen_t len);

/* Under the lock: a slot for handle id of domid, or -1 (ENFILE). */
int evs_handle_alloc(struct evs_state *s, uint64_t id, uint32_t domid);
int evs_handle_find(const struct evs_state *s, uint64_t id);
/* Under the lock: closes every port of the handle and frees its slot. */
void evs_handle_release(struct evs_state *s, int hslot);
/* Whether the handle's socket still exists (its process holds it). */
bool evs_handle_alive(const struct evs_state *s, int hslot);

/* Under the lock: the lowest free port of a domain, or -1 (ENOSPC). */
int evs_port_alloc(struct evs_state *s, int dslot);
/* Under the lock: EVTCHNOP_close; an interdomain peer becomes unbound. */
void evs_port_close(struct evs_state *s, int dslot, uint32_t port);

/*
 * Under the lock. sock sends doorbells (-1: a temporary socket).
 * evs_send: EVTCHNOP_send on (dslot, port), i.e. fire its peer.
 * evs_fire: fire (dslot, port) itself.
 * evs_push: queue port on a handle's ring.
 */
void evs_send(struct evs_state *s, int sock, int dslot, uint32_t port);
void evs_fire(struct evs_state *s, int sock, int dslot, uint32_t port);
void evs_push(struct evs_state *s, int sock, int hslot, uint32_t port);

#endif
