/* SPDX-License-Identifier: MIT */
/*
 * Node lists and the handshake transaction: the ring nodes and the class's
 * nodes appear in xenstore together with the state that announces them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "front-private.h"

/* Conflicting transactions are retried; this many means something is wrong. */
#define PUBLISH_TRIES 100

static struct xbf_node *find(const struct xbf_nodes *l, const char *name)
{
	for (unsigned int i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

/* Sets name to value (owned by the list from now on; NULL: removal). */
static void put(struct xbf_nodes *l, const char *name, char *value, bool removal)
{
	struct xbf_node *e = find(l, name);

	if (!value && !removal) {
		l->nomem = true;
		return;
	}
	if (e) {
		free(e->value);
		e->value = value;
		return;
	}
	if (l->n == l->cap) {
		unsigned int cap = l->cap ? l->cap * 2 : 16;
		struct xbf_node *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			free(value);
			l->nomem = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].name = strdup(name);
	if (!l->v[l->n].name) {
		free(value);
		l->nomem = true;
		return;
	}
	l->v[l->n++].value = value;
}

void xbf_nodes_set(struct xbf_nodes *l, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	put(l, name, v, false);
}

void xbf_nodes_rm(struct xbf_nodes *l, const char *name)
{
	put(l, name, NULL, true);
}

const char *xbf_nodes_get(const struct xbf_nodes *l, const char *name)
{
	const struct xbf_node *e = find(l, name);

	return e ? e->value : NULL;
}

void xbf_nodes_free(struct xbf_nodes *l)
{
	for (unsigned int i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The ring nodes of queue q, under prefix ("" or "queue-N/"). */
static void queue_nodes(const struct xbf_dev *d, const struct xbf_queue *q,
			const char *prefix, struct xbf_nodes *l)
{
	char name[128];

	if (d->ring_order == 0) {
		snprintf(name, sizeof(name), "%s%s", prefix, d->ring_ref_name);
		xbf_nodes_set(l, name, "%u", q->ref[0]);
	} else {
		for (unsigned int i = 0; i < q->nr_pages; i++) {
			snprintf(name, sizeof(name), "%s%s%u", prefix, d->ring_ref_name, i);
			xbf_nodes_set(l, name, "%u", q->ref[i]);
		}
	}
	snprintf(name, sizeof(name), "%s%s", prefix, d->event_channel_name);
	xbf_nodes_set(l, name, "%u", (unsigned int)q->port);
}

void xbf_ring_nodes(const struct xbf_dev *d, struct xbf_nodes *l)
{
	if (d->ring_order > 0)
		xbf_nodes_set(l, "ring-page-order", "%u", d->ring_order);
	if (d->nr_queues == 1) {
		queue_nodes(d, &d->q[0], "", l);
		return;
	}
	xbf_nodes_set(l, "multi-queue-num-queues", "%u", d->nr_queues);
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "queue-%u/", i);
		queue_nodes(d, &d->q[i], prefix, l);
	}
}

/* Ring nodes a previous connection (of any shape) may have left. */
static bool stale_ring_node(const struct xbf_dev *d, const char *name)
{
	static const char *const exact[] = {
		"ring-page-order", "num-ring-pages", "multi-queue-num-queues", NULL,
	};

	for (unsigned int i = 0; exact[i]; i++)
		if (!strcmp(name, exact[i]))
			return true;
	return !strncmp(name, "ring-ref", 8) || !strncmp(name, "queue-", 6) ||
		!strncmp(name, "event-channel", 13) ||
		!strncmp(name, d->ring_ref_name, strlen(d->ring_ref_name)) ||
		!strncmp(name, d->event_channel_name, strlen(d->event_channel_name));
}

/* xs_rm of a node that is not there is not a failure. */
static bool rm_node(struct xbf_dev *d, xs_transaction_t t, const char *name)
{
	char *p = xbf_path(d->fe, name);
	bool ok;

	if (!p) {
		errno = ENOMEM;
		return false;
	}
	ok = xs_rm(d->xs, t, p) || errno == ENOENT;
	free(p);
	return ok;
}

/* One attempt: true when every operation of the transaction succeeded. */
static bool write_all(struct xbf_dev *d, xs_transaction_t t,
		      const struct xbf_nodes *l, int state)
{
	unsigned int n = 0;
	char **dir = xs_directory(d->xs, t, d->fe, &n);
	bool ok = true;

	for (unsigned int i = 0; ok && dir && i < n; i++)
		if (stale_ring_node(d, dir[i]))
			ok = rm_node(d, t, dir[i]);
	free(dir);
	for (unsigned int i = 0; ok && i < l->n; i++) {
		const struct xbf_node *e = &l->v[i];
		char *p;

		if (!e->value) {
			ok = rm_node(d, t, e->name);
			continue;
		}
		p = xbf_path(d->fe, e->name);
		ok = p && xs_write(d->xs, t, p, e->value, strlen(e->value));
		if (!p)
			errno = ENOMEM;
		free(p);
	}
	if (ok && state >= 0) {
		char v[16], *p = xbf_path(d->fe, "state");

		snprintf(v, sizeof(v), "%d", state);
		ok = p && xs_write(d->xs, t, p, v, strlen(v));
		if (!p)
			errno = ENOMEM;
		free(p);
	}
	return ok;
}

int xbf_write_nodes(struct xbf_dev *d, const struct xbf_nodes *l, int state)
{
	if (l->nomem) {
		xbf_fail(d, ENOMEM, "out of memory building the nodes for %s", d->fe);
		return -1;
	}
	for (unsigned int attempt = 0; attempt < PUBLISH_TRIES; attempt++) {
		xs_transaction_t t = xs_transaction_start(d->xs);

		if (t == XBT_NULL) {
			xbf_fail(d, errno, "xenstore transaction: %s", strerror(errno));
			return -1;
		}
		if (!write_all(d, t, l, state)) {
			int e = errno;

			xs_transaction_end(d->xs, t, true);
			xbf_fail(d, e, "writing ring nodes under %s: %s", d->fe, strerror(e));
			return -1;
		}
		if (xs_transaction_end(d->xs, t, false))
			return 0;
		if (errno != EAGAIN) {
			xbf_fail(d, errno, "committing ring nodes under %s: %s", d->fe,
				 strerror(errno));
			return -1;
		}
	}
	xbf_fail(d, EAGAIN, "xenstore transaction under %s kept conflicting (EAGAIN)",
		 d->fe);
	return -1;
}

int xbf_publish(struct xbf_dev *d, const struct xbf_nodes *class_nodes)
{
	struct xbf_nodes l = { 0 };
	int rc;

	if (!d->nr_queues) {
		xbf_fail(d, EINVAL, "publishing %s without shared rings", d->fe);
		return -1;
	}
	xbf_ring_nodes(d, &l);
	for (unsigned int i = 0; class_nodes && i < class_nodes->n; i++) {
		const struct xbf_node *e = &class_nodes->v[i];

		if (e->value)
			xbf_nodes_set(&l, e->name, "%s", e->value);
		else
			xbf_nodes_rm(&l, e->name);
	}
	if (class_nodes && class_nodes->nomem)
		l.nomem = true;
	rc = xbf_write_nodes(d, &l, XenbusStateInitialised);
	xbf_nodes_free(&l);
	return rc;
}
