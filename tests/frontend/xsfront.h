/* SPDX-License-Identifier: MIT */
/*
 * The frontend's xenstore side: finding its directories, reading the
 * backend's nodes, switching and waiting on xenbus states, and publishing
 * the ring parameters in one transaction.
 */
#ifndef BLKFRONT_XSFRONT_H
#define BLKFRONT_XSFRONT_H

#include <stdbool.h>

#include <xenstore.h>

struct xsfront {
	struct xs_handle *xs;
	unsigned domid;		/* this domain */
	char *fe;		/* /local/domain/<domid>/device/<class>/<devid> */
	char *be;		/* the frontend's `backend` node */
	unsigned be_id;		/* `backend-id` */
	int be_state;		/* last backend state read; -1: node gone */
	unsigned error_writes;	/* watch events on <backend>/error seen */
};

/* A node to write during the handshake, relative to the frontend dir. */
struct xs_node {
	char *name;
	char *value;
};

struct xs_nodes {
	struct xs_node *v;
	unsigned n, cap;
};

/* Finds out which domain this process is (see main.c for the order). */
int xsf_own_domid(struct xs_handle *xs, unsigned *domid);

/*
 * Reads `backend` and `backend-id` of the frontend dir fe and starts
 * watching the backend directory. Returns 0 or -1 (message printed).
 */
int xsf_open(struct xsfront *f, struct xs_handle *xs, unsigned domid, const char *fe);
void xsf_close(struct xsfront *f);

/* Reads dir/node (dir NULL: node is a full path). Malloc'd, or NULL. */
char *xsf_read(const struct xsfront *f, const char *dir, const char *node);

/*
 * Reads an unsigned decimal. 0: read; 1: absent (*v = dflt); -1: present
 * but not a number (*v = dflt).
 */
int xsf_read_u64(const struct xsfront *f, const char *dir, const char *node,
		 unsigned long long dflt, unsigned long long *v);

int xsf_write(const struct xsfront *f, const char *dir, const char *node,
	      const char *value);
int xsf_switch_state(struct xsfront *f, int state);
int xsf_frontend_state(const struct xsfront *f);
/* Re-reads the backend's state into f->be_state and returns it. */
int xsf_backend_state(struct xsfront *f);

int xsf_fd(const struct xsfront *f);
/* Consumes queued watch events; true when any fired. Never blocks. */
bool xsf_drain_watches(struct xsfront *f);

/*
 * Waits until the backend state is one of mask (bit per state) or its
 * directory disappears. Returns the state, -1 on timeout (errno
 * ETIMEDOUT) or when interrupted by a signal (errno EINTR), -2 when the
 * backend is gone. timeout_ms < 0: forever.
 */
int xsf_wait_backend(struct xsfront *f, unsigned mask, int timeout_ms);

/*
 * The backend's `error` node (as xenbus_dev_error writes it under
 * /local/domain/<backend>/error/<backend path>/error, or as some backends
 * write it in their own directory). Malloc'd, or NULL.
 */
char *xsf_backend_error(const struct xsfront *f);

void xs_nodes_add(struct xs_nodes *l, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets (replacing) or, with value NULL, drops a node from the list. */
void xs_nodes_set(struct xs_nodes *l, const char *name, const char *value);
void xs_nodes_free(struct xs_nodes *l);

/*
 * In one transaction (retried on EAGAIN): removes the frontend's ring
 * nodes left by an earlier connection, writes the list, and switches the
 * frontend state to `state` (or leaves it when state < 0).
 */
int xsf_publish(struct xsfront *f, const struct xs_nodes *l, int state);

const char *xenbus_state_name(int state);

#endif
