/* SPDX-License-Identifier: MIT */
#include "watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"

#include "conn.h"
#include "domain.h"
#include "paths.h"
#include "server.h"

static unsigned conn_target(const struct conn *conn)
{
	const struct domain *d = domain_find(conn->srv, conn->domid);

	return d ? d->target : NO_TARGET;
}

int watch_add(struct conn *conn, const char *path, const char *token,
	      struct watch **added)
{
	struct server *srv = conn->srv;
	struct domain *dom = domain_find(srv, conn->domid);
	bool relative = false;
	struct watch *w;
	char *canon;

	if (path[0] == '@') {
		if (strlen(path) > XENSTORE_REL_PATH_MAX)
			return EINVAL;
		canon = strdup(path);
	} else {
		relative = path[0] != '/';
		canon = path_canonical(path, conn->domid);
	}
	if (!canon)
		return ENOMEM;
	if (path[0] != '@' && !path_is_valid(canon)) {
		free(canon);
		return EINVAL;
	}
	for (w = conn->watches; w; w = w->next) {
		if (!strcmp(w->path, canon) && !strcmp(w->token, token)) {
			free(canon);
			return EEXIST;
		}
	}
	if (domid_is_privileged(conn->domid)
	    ? conn->nwatches >= srv->limits.watches_privileged
	    : dom && dom->nwatches >= srv->limits.watches_per_domain) {
		free(canon);
		return E2BIG;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->token = strdup(token))) {
		free(w);
		free(canon);
		return ENOMEM;
	}
	w->path = canon;
	w->relative = relative;
	/* Appended: events for one change go out in the order watches were
	 * set, as xenstored does. */
	struct watch **tail = &conn->watches;
	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
	conn->nwatches++;
	if (dom)
		dom->nwatches++;
	*added = w;
	return 0;
}

/* The event path a watcher sees: relative to its home if it set the
 * watch with a relative path. */
static const char *event_path(const struct conn *conn, const struct watch *w,
			      const char *path)
{
	char home[32];
	size_t n;

	if (!w->relative)
		return path;
	n = snprintf(home, sizeof(home), "/local/domain/%u", conn->domid);
	path += n;
	return *path == '/' ? path + 1 : path;
}

void watch_fire_initial(struct conn *conn, const struct watch *watch)
{
	conn_event(conn, event_path(conn, watch, watch->path), watch->token);
}

static void free_watch(struct conn *conn, struct watch *w)
{
	struct domain *dom = domain_find(conn->srv, conn->domid);

	if (dom && dom->nwatches)
		dom->nwatches--;
	conn->nwatches--;
	free(w->path);
	free(w->token);
	free(w);
}

int watch_remove(struct conn *conn, const char *path, const char *token)
{
	char *canon = path_canonical(path, conn->domid);
	struct watch **p;

	if (!canon)
		return ENOMEM;
	for (p = &conn->watches; *p; p = &(*p)->next) {
		struct watch *w = *p;

		if (!strcmp(w->path, canon) && !strcmp(w->token, token)) {
			*p = w->next;
			free_watch(conn, w);
			free(canon);
			return 0;
		}
	}
	free(canon);
	return ENOENT;
}

void watch_remove_all(struct conn *conn)
{
	while (conn->watches) {
		struct watch *w = conn->watches;

		conn->watches = w->next;
		free_watch(conn, w);
	}
}

/* xenstored sends an event if the watcher could read the node before the
 * change, or can read it or its parent now. */
static bool may_see(const struct conn *conn, const char *path,
		    const struct node *node, const struct perms *old_perms)
{
	const struct store *store = &conn->srv->store;
	unsigned target = conn_target(conn);
	const struct node *parent;
	char *parent_path;

	if (old_perms &&
	    (perms_access(old_perms, conn->domid, target) & PERM_READ))
		return true;
	if (!node)
		node = store_get(store, path);
	if (!node)
		return false;
	if (perms_access(&node->perms, conn->domid, target) & PERM_READ)
		return true;
	parent_path = path_parent(node->path);
	if (!parent_path)
		return false;
	parent = store_get(store, parent_path);
	free(parent_path);
	return parent &&
	       (perms_access(&parent->perms, conn->domid, target) & PERM_READ);
}

void watch_fire(struct server *srv, const char *path, bool exact,
		const struct node *node, const struct perms *old_perms)
{
	bool special = path[0] == '@';

	for (struct conn *c = srv->conns; c; c = c->next) {
		if (c->dropped || !c->watches)
			continue;
		if (special) {
			const struct perms *p = domain_special_perms(srv, path);

			if (!p || !(perms_access(p, c->domid, conn_target(c)) &
				    PERM_READ))
				continue;
		} else if (!may_see(c, path, node, old_perms)) {
			continue;
		}
		for (struct watch *w = c->watches; w && !c->dropped;
		     w = w->next) {
			if (exact ? !strcmp(path, w->path)
				  : path_is_below(path, w->path))
				conn_event(c, event_path(c, w, path), w->token);
		}
	}
}
