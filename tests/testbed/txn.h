/* SPDX-License-Identifier: MIT */
/* Database access, directly or inside a transaction.
 *
 * A transaction is an overlay: each node it touches is copied in on first
 * access, with the committed generation it had then. Commit fails with
 * EAGAIN if any node it read has a different generation by then (the way
 * xenstored detects conflicts), else its changes are applied and their
 * watch events fire. */
#ifndef TESTBED_TXN_H
#define TESTBED_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "perms.h"
#include "store.h"
#include "strmap.h"

struct server;

struct txn_entry {
	struct txn_entry *next;		/* in order of first access */
	char *path;
	uint64_t generation;		/* committed generation when first read */
	bool check_generation;		/* read before written: check at commit */
	bool modified;
	struct node *node;		/* this transaction's view; NULL: absent */
	struct perms old_perms;		/* committed perms at first access */
	bool fire_watch, fire_exact;
};

struct txn {
	struct txn *next;
	uint32_t id;
	struct strmap entries;
	struct txn_entry *first, *last;
	unsigned nentries;
	unsigned created;		/* nodes created, for the node quota */
	bool failed;
};

/* Who reads or writes, and in which transaction (NULL: none). */
struct actor {
	struct server *srv;
	unsigned domid;
	unsigned target;
	struct txn *txn;
};

/* The node at path as the actor sees it, or NULL with errno ENOENT (or
 * ENOMEM, ENOSPC). Valid until that path is written or deleted. */
const struct node *db_read(const struct actor *a, const char *path);
/* Stores node (taking it) with a new generation. With quota_check, an
 * unprivileged actor gets ENOSPC for records over the entry size quota.
 * Returns 0 or an errno. */
int db_write(const struct actor *a, struct node *node, bool quota_check);
/* Deletes the node at path, which the actor has read. */
void db_delete(const struct actor *a, const char *path);
/* Reports a change to path for watches: now, or when the transaction
 * commits. node (may be NULL) and old_perms decide who may see it. */
void db_changed(const struct actor *a, const char *path, bool exact,
		const struct node *node, const struct perms *old_perms);

struct txn *txn_new(uint32_t id);
void txn_free(struct txn *txn);
/* Applies txn to the store: 0, EAGAIN on conflict, ENOMEM if it failed. */
int txn_commit(struct server *srv, struct txn *txn);

#endif
