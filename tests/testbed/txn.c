/* SPDX-License-Identifier: MIT */
#include "txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "watch.h"

static struct txn_entry *add_entry(const struct actor *a, const char *path,
				   const struct node *committed, bool is_read)
{
	struct txn *txn = a->txn;
	struct txn_entry *e;

	if (txn->nentries >= a->srv->limits.transaction_nodes &&
	    !domid_is_privileged(a->domid)) {
		txn->failed = true;
		errno = ENOSPC;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(path)))
		goto nomem;
	e->generation = committed ? committed->generation : NO_GENERATION;
	e->check_generation = is_read;
	if (committed) {
		if (perms_copy(&e->old_perms, &committed->perms))
			goto nomem;
		if (is_read && !(e->node = node_dup(committed)))
			goto nomem;
	}
	if (strmap_put(&txn->entries, path, e, NULL))
		goto nomem;
	if (txn->last)
		txn->last->next = e;
	else
		txn->first = e;
	txn->last = e;
	txn->nentries++;
	return e;
nomem:
	if (e) {
		node_free(e->node);
		perms_free(&e->old_perms);
		free(e->path);
		free(e);
	}
	txn->failed = true;
	errno = ENOMEM;
	return NULL;
}

static struct txn_entry *entry_for_change(const struct actor *a,
					  const char *path)
{
	struct txn_entry *e = strmap_get(&a->txn->entries, path);

	if (!e)
		e = add_entry(a, path, store_get(&a->srv->store, path), false);
	return e;
}

const struct node *db_read(const struct actor *a, const char *path)
{
	const struct node *node;
	struct txn_entry *e;

	if (!a->txn) {
		node = store_get(&a->srv->store, path);
		if (!node)
			errno = ENOENT;
		return node;
	}
	e = strmap_get(&a->txn->entries, path);
	if (!e) {
		e = add_entry(a, path, store_get(&a->srv->store, path), true);
		if (!e)
			return NULL;
	}
	if (!e->node)
		errno = ENOENT;
	return e->node;
}

int db_write(const struct actor *a, struct node *node, bool quota_check)
{
	struct txn_entry *e;

	if (quota_check && !domid_is_privileged(a->domid) &&
	    node_record_size(node) >= a->srv->limits.entry_size) {
		node_free(node);
		return ENOSPC;
	}
	node->generation = ++a->srv->generation;
	if (!a->txn)
		return store_put(&a->srv->store, node) ? ENOMEM : 0;
	e = entry_for_change(a, node->path);
	if (!e) {
		node_free(node);
		return errno;
	}
	node_free(e->node);
	e->node = node;
	e->modified = true;
	return 0;
}

void db_delete(const struct actor *a, const char *path)
{
	struct txn_entry *e;

	a->srv->generation++;
	if (!a->txn) {
		store_delete(&a->srv->store, path);
		return;
	}
	e = entry_for_change(a, path);
	if (!e)
		return;
	node_free(e->node);
	e->node = NULL;
	e->modified = true;
}

void db_changed(const struct actor *a, const char *path, bool exact,
		const struct node *node, const struct perms *old_perms)
{
	struct txn_entry *e;

	if (!a->txn) {
		watch_fire(a->srv, path, exact, node, old_perms);
		return;
	}
	e = strmap_get(&a->txn->entries, path);
	if (!e) {
		a->txn->failed = true;
		return;
	}
	/* A subtree event replaces an exact one, not the other way round. */
	if (!e->fire_watch) {
		e->fire_watch = true;
		e->fire_exact = exact;
	} else if (!exact) {
		e->fire_exact = false;
	}
}

struct txn *txn_new(uint32_t id)
{
	struct txn *txn = calloc(1, sizeof(*txn));

	if (!txn)
		return NULL;
	txn->id = id;
	strmap_init(&txn->entries);
	return txn;
}

static void free_entry(void *p)
{
	struct txn_entry *e = p;

	node_free(e->node);
	perms_free(&e->old_perms);
	free(e->path);
	free(e);
}

void txn_free(struct txn *txn)
{
	if (!txn)
		return;
	strmap_clear(&txn->entries, free_entry);
	free(txn);
}

int txn_commit(struct server *srv, struct txn *txn)
{
	struct txn_entry *e;

	if (txn->failed)
		return ENOMEM;
	for (e = txn->first; e; e = e->next) {
		const struct node *now;

		if (!e->check_generation)
			continue;
		now = store_get(&srv->store, e->path);
		if ((now ? now->generation : NO_GENERATION) != e->generation)
			return EAGAIN;
	}
	for (e = txn->first; e; e = e->next) {
		if (e->modified) {
			if (e->node) {
				e->node->generation = ++srv->generation;
				if (store_put(&srv->store, e->node))
					server_log(srv, "commit: out of memory "
						   "writing %s", e->path);
				e->node = NULL;
			} else {
				store_delete(&srv->store, e->path);
			}
		}
		if (e->fire_watch)
			watch_fire(srv, e->path, e->fire_exact, NULL,
				   e->old_perms.num ? &e->old_perms : NULL);
	}
	return 0;
}
