/* SPDX-License-Identifier: MIT */
/* Node operations with xenstored's semantics on top of the database
 * access layer: permission checks and the errors they give, implicit
 * creation of parents, recursive removal. */
#ifndef TESTBED_TREE_H
#define TESTBED_TREE_H

#include "store.h"
#include "txn.h"

/* The node at path if the actor has all of perm on it. Otherwise NULL
 * and *err: EINVAL (bad path), EACCES, or ENOENT only if the actor could
 * see that it is absent (xenstored's rule: the nearest existing ancestor
 * grants perm). */
const struct node *tree_get(const struct actor *a, const char *path,
			    unsigned perm, int *err);

/* Creates path with this value, and its missing parents with none; they
 * inherit the nearest existing ancestor's permissions, owned by the actor
 * if it is unprivileged. The caller has checked it may. 0 or an errno. */
int tree_create(const struct actor *a, const char *path, const void *value,
		unsigned len);

/* RM: removes path and everything below, firing watches; no error if path
 * is absent but its parent exists. 0 or an errno. */
int tree_remove(const struct actor *a, const char *path);

/* "<parent>/<name>", malloc'd. */
char *tree_child_path(const char *parent, const char *name);

#endif
