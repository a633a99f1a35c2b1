/* SPDX-License-Identifier: MIT */
#include "tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "server.h"

char *tree_child_path(const char *parent, const char *name)
{
	char *out;

	if (asprintf(&out, "%s/%s", strcmp(parent, "/") ? parent : "",
		     name) < 0)
		return NULL;
	return out;
}

static bool is_resource_error(int err)
{
	return err == ENOMEM || err == ENOSPC;
}

static unsigned access_of(const struct actor *a, const struct node *node)
{
	return perms_access(&node->perms, a->domid, a->target);
}

/* What the actor may learn about a node it cannot get: the real error if
 * the nearest existing ancestor grants perm, else EACCES. */
static int error_seen_through_parents(const struct actor *a, const char *path,
				      int err, unsigned perm)
{
	const struct node *node = NULL;
	char *name = strdup(path);

	if (err == ENOMEM || !name) {
		free(name);
		return ENOMEM;
	}
	do {
		char *parent = path_parent(name);

		free(name);
		name = parent;
		if (!name)
			return ENOMEM;
		node = db_read(a, name);
		if (!node && is_resource_error(errno)) {
			free(name);
			return errno;
		}
	} while (!node && strcmp(name, "/"));
	free(name);
	if (!node)	/* the root always exists */
		return EACCES;
	return (access_of(a, node) & perm) ? err : EACCES;
}

const struct node *tree_get(const struct actor *a, const char *path,
			    unsigned perm, int *err)
{
	const struct node *node;

	if (!path || !path_is_valid(path)) {
		*err = EINVAL;
		return NULL;
	}
	node = db_read(a, path);
	if (node) {
		if ((access_of(a, node) & perm) == perm)
			return node;
		*err = EACCES;
	} else {
		*err = errno;
		if (is_resource_error(*err))
			return NULL;
	}
	*err = error_seen_through_parents(a, path, *err, perm);
	return NULL;
}

int tree_create(const struct actor *a, const char *path, const void *value,
		unsigned len)
{
	struct server *srv = a->srv;
	bool unprivileged = !domid_is_privileged(a->domid);
	const struct node *parent = NULL;
	char **missing = NULL;		/* path, its parent, ... */
	struct node **created = NULL;	/* same order */
	struct node *parent_copy = NULL;
	unsigned n = 0, i;
	int err = 0;

	/* Walk up to the nearest existing node. */
	char *name = strdup(path);
	while (name) {
		char **m = realloc(missing, (n + 1) * sizeof(*missing));
		char *up;

		if (!m) {
			free(name);
			break;
		}
		missing = m;
		missing[n++] = name;
		up = path_parent(name);
		name = NULL;
		if (!up)
			break;
		parent = db_read(a, up);
		if (parent) {
			parent_copy = node_dup(parent);
			free(up);
			break;
		}
		if (errno != ENOENT || !strcmp(up, "/")) {
			err = errno;
			free(up);
			goto out;
		}
		name = up;
	}
	if (!parent_copy) {
		err = ENOMEM;
		goto out;
	}
	if (unprivileged &&
	    store_owned_by(&srv->store, a->domid) +
	    (a->txn ? a->txn->created : 0) + n > srv->limits.nodes_per_domain) {
		err = ENOSPC;
		goto out;
	}

	/* Build the missing nodes top down: each inherits its parent's
	 * permissions, and unprivileged domains own what they create. */
	created = calloc(n, sizeof(*created));
	if (!created || node_add_child(parent_copy,
				       path_basename(missing[n - 1]))) {
		err = ENOMEM;
		goto out;
	}
	for (i = n; i-- > 0;) {
		const struct perms *inherit = i == n - 1 ? &parent_copy->perms
							 : &created[i + 1]->perms;

		created[i] = node_new(missing[i], inherit);
		if (!created[i] ||
		    (i > 0 && node_add_child(created[i],
					     path_basename(missing[i - 1])))) {
			err = ENOMEM;
			goto out;
		}
		if (unprivileged)
			created[i]->perms.p[0].id = a->domid;
	}
	if (node_set_value(created[0], value, len)) {
		err = ENOMEM;
		goto out;
	}
	/* Check every quota before writing anything, so a failure leaves
	 * the tree as it was. */
	if (unprivileged) {
		for (i = 0; i < n; i++)
			if (node_record_size(created[i]) >= srv->limits.entry_size)
				err = ENOSPC;
		if (node_record_size(parent_copy) >= srv->limits.entry_size)
			err = ENOSPC;
		if (err)
			goto out;
	}
	/* Bottom up, like xenstored: a transaction's commit applies them
	 * in this order. */
	for (i = 0; i < n && !err; i++) {
		err = db_write(a, created[i], false);
		created[i] = NULL;
	}
	if (!err) {
		err = db_write(a, parent_copy, false);
		parent_copy = NULL;
	}
	if (!err && a->txn)
		a->txn->created += n;
out:
	for (i = 0; i < n; i++) {
		free(missing[i]);
		if (created)
			node_free(created[i]);
	}
	free(missing);
	free(created);
	node_free(parent_copy);
	return err;
}

/* Deletes path and its descendants, deepest first. Events for the
 * descendants go only to watches on exactly them: their watchers need
 * to know, watchers above get the event for the removed root. */
static int remove_subtree(const struct actor *a, const char *path,
			  const char *root)
{
	const struct node *node = db_read(a, path);
	unsigned childlen, off;
	char *children;
	int err = 0;

	if (!node)
		return errno == ENOENT ? 0 : errno;
	childlen = node->childlen;
	children = malloc(childlen ? childlen : 1);
	if (!children)
		return ENOMEM;
	if (childlen)
		memcpy(children, node->children, childlen);
	for (off = 0; off < childlen && !err; off += strlen(children + off) + 1) {
		char *child = tree_child_path(path, children + off);

		err = child ? remove_subtree(a, child, root) : ENOMEM;
		free(child);
	}
	free(children);
	if (err)
		return err;
	node = db_read(a, path);
	if (!node)
		return errno == ENOENT ? 0 : errno;
	/* Fire while the node is still there to check permissions on. */
	db_changed(a, path, strcmp(path, root) != 0, node, NULL);
	db_delete(a, path);
	return 0;
}

int tree_remove(const struct actor *a, const char *path)
{
	const struct node *node, *parent;
	struct node *parent_copy;
	char *parent_path;
	int err;

	node = tree_get(a, path, PERM_WRITE, &err);
	parent_path = path && path_is_valid(path) ? path_parent(path) : NULL;
	if (!node) {
		if (err == ENOENT && parent_path) {
			/* Already gone is fine, if the parent exists. */
			if (db_read(a, parent_path))
				err = 0;
			else if (is_resource_error(errno))
				err = errno;
		}
		free(parent_path);
		return err;
	}
	if (!parent_path) {
		return ENOMEM;
	}
	if (!strcmp(path, "/")) {
		free(parent_path);
		return EINVAL;
	}
	parent = db_read(a, parent_path);
	if (!parent) {
		err = is_resource_error(errno) ? errno : EINVAL;
		free(parent_path);
		return err;
	}
	err = remove_subtree(a, path, path);
	if (!err) {
		parent = db_read(a, parent_path);
		parent_copy = parent ? node_dup(parent) : NULL;
		if (parent_copy) {
			node_remove_child(parent_copy, path_basename(path));
			err = db_write(a, parent_copy, false);
		} else {
			err = parent ? ENOMEM : EINVAL;
		}
	}
	free(parent_path);
	return err;
}
