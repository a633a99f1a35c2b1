/* SPDX-License-Identifier: MIT */
/* The test xenstored's state, independent of sockets and the event loop
 * (the fuzzer drives it in-process). */
#ifndef TESTBED_SERVER_H
#define TESTBED_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "perms.h"
#include "store.h"

struct conn;

/* Bounds. The quotas are xenstored's defaults and apply, as there, to
 * unprivileged domains; the queue bounds keep one slow client from
 * costing the daemon unbounded memory. */
struct limits {
	unsigned max_pending_events;	/* unread watch events, per connection */
	size_t max_output_bytes;	/* unsent output, per connection */
	unsigned max_outstanding;	/* unsent replies before we stop reading */
	unsigned watches_per_domain;	/* xenstored -w */
	unsigned watches_privileged;	/* per dom0 connection */
	unsigned transactions;		/* xenstored -t, per connection */
	unsigned transactions_privileged;
	unsigned nodes_per_domain;	/* xenstored -e */
	unsigned entry_size;		/* xenstored -S */
	unsigned perms_per_node;	/* xenstored -A */
	unsigned transaction_nodes;	/* xenstored -Q transaction-nodes */
};

extern const struct limits default_limits;

/* A domain xenstored knows (dom0 always; others once introduced). */
struct domain {
	struct domain *next;
	unsigned domid;
	unsigned target;	/* SET_TARGET, or NO_TARGET */
	unsigned nwatches;	/* over all its connections */
};

struct server_hooks {
	/* A domain was introduced: give it a way in. 0 or an errno. */
	int (*domain_introduced)(void *arg, unsigned domid);
	/* A domain was released; its connections are already dropped. */
	void (*domain_released)(void *arg, unsigned domid);
};

struct server {
	struct store store;
	uint64_t generation;
	struct conn *conns;
	struct domain *domains;
	/* Who may watch @introduceDomain and @releaseDomain. */
	struct perms introduce_perms, release_perms;
	struct limits limits;
	const struct server_hooks *hooks;
	void *hooks_arg;
	FILE *log;		/* NULL: quiet */
	bool verbose;		/* log every request */
	unsigned long next_conn_id;
};

struct server *server_new(const struct limits *limits, FILE *log);
void server_free(struct server *srv);
void server_log(struct server *srv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
