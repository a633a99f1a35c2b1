/* SPDX-License-Identifier: MIT */
/* The committed xenstore database: one record per node, keyed by its
 * absolute path, shaped like xenstored's records (value, permissions,
 * children names, generation). */
#ifndef TESTBED_STORE_H
#define TESTBED_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "perms.h"
#include "strmap.h"

/* Generation of a node that does not exist. */
#define NO_GENERATION UINT64_MAX

struct node {
	char *path;
	char *value;
	unsigned valuelen;
	struct perms perms;
	/* Children's names, each nul-terminated, in creation order. */
	char *children;
	unsigned childlen;
	/* From the store-wide counter, bumped on every change. */
	uint64_t generation;
};

struct node *node_new(const char *path, const struct perms *perms);
struct node *node_dup(const struct node *node);
void node_free(struct node *node);
int node_set_value(struct node *node, const void *value, unsigned len);
int node_add_child(struct node *node, const char *name);
void node_remove_child(struct node *node, const char *name);
/* Size xenstored's record of this node would have; its per-node quota
 * applies to that. */
unsigned node_record_size(const struct node *node);

struct owner_count;

struct store {
	struct strmap nodes;
	/* Nodes per owner, for the per-domain node quota. */
	struct owner_count *owners;
	unsigned nowners, owners_cap;
};

/* Creates "/", "/tool" and "/tool/xenstored" owned by dom0, as xenstored
 * does at start. Returns -1 on ENOMEM. */
int store_init(struct store *store);
void store_fini(struct store *store);
const struct node *store_get(const struct store *store, const char *path);
/* Takes ownership of node, replacing any node at its path. -1: ENOMEM
 * (node is freed). */
int store_put(struct store *store, struct node *node);
void store_delete(struct store *store, const char *path);
unsigned store_owned_by(const struct store *store, unsigned domid);

#endif
