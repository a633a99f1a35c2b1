/* SPDX-License-Identifier: MIT */
/* Watches: a connection asks for an event whenever a node at or below a
 * path changes (or for the special @introduceDomain/@releaseDomain). */
#ifndef TESTBED_WATCH_H
#define TESTBED_WATCH_H

#include <stdbool.h>

#include "perms.h"
#include "store.h"

struct conn;
struct server;

struct watch {
	struct watch *next;
	char *path;		/* absolute, or "@..." */
	char *token;
	bool relative;		/* events carry paths relative to home */
};

/* Adds a watch for the path as the client gave it. Returns 0 and sends
 * nothing (the caller acks, then calls watch_fire_initial), or an errno. */
int watch_add(struct conn *conn, const char *path, const char *token,
	      struct watch **added);
void watch_fire_initial(struct conn *conn, const struct watch *watch);
int watch_remove(struct conn *conn, const char *path, const char *token);
void watch_remove_all(struct conn *conn);

/* path changed: queue an event to each connection with a matching watch
 * that may see it. exact: only watches on path itself (a node removed
 * because an ancestor was). node: the node, if it is not (or no longer)
 * in the store; old_perms: its permissions before the change. */
void watch_fire(struct server *srv, const char *path, bool exact,
		const struct node *node, const struct perms *old_perms);

#endif
