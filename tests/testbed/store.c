/* SPDX-License-Identifier: MIT */
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct owner_count {
	unsigned domid;
	unsigned nodes;
};

struct node *node_new(const char *path, const struct perms *perms)
{
	struct node *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	node->path = strdup(path);
	if (!node->path || perms_copy(&node->perms, perms)) {
		node_free(node);
		return NULL;
	}
	node->generation = NO_GENERATION;
	return node;
}

static void *memdup(const void *p, size_t len)
{
	void *q = malloc(len ? len : 1);

	if (q && len)
		memcpy(q, p, len);
	return q;
}

struct node *node_dup(const struct node *src)
{
	struct node *node = node_new(src->path, &src->perms);

	if (!node)
		return NULL;
	node->generation = src->generation;
	if (node_set_value(node, src->value, src->valuelen))
		goto fail;
	node->children = memdup(src->children, src->childlen);
	if (!node->children)
		goto fail;
	node->childlen = src->childlen;
	return node;
fail:
	node_free(node);
	return NULL;
}

void node_free(struct node *node)
{
	if (!node)
		return;
	free(node->path);
	free(node->value);
	perms_free(&node->perms);
	free(node->children);
	free(node);
}

int node_set_value(struct node *node, const void *value, unsigned len)
{
	char *copy = memdup(value, len);

	if (!copy) {
		errno = ENOMEM;
		return -1;
	}
	free(node->value);
	node->value = copy;
	node->valuelen = len;
	return 0;
}

int node_add_child(struct node *node, const char *name)
{
	size_t len = strlen(name) + 1;
	char *c = realloc(node->children, node->childlen + len);

	if (!c) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(c + node->childlen, name, len);
	node->children = c;
	node->childlen += len;
	return 0;
}

void node_remove_child(struct node *node, const char *name)
{
	unsigned off = 0;

	while (off < node->childlen) {
		unsigned len = strlen(node->children + off) + 1;

		if (!strcmp(node->children + off, name)) {
			memmove(node->children + off, node->children + off + len,
				node->childlen - off - len);
			node->childlen -= len;
			return;
		}
		off += len;
	}
}

unsigned node_record_size(const struct node *node)
{
	/* xenstored: a 24-byte header, 8 bytes per permission entry, then
	 * the value and the children list. */
	return 24 + 8 * node->perms.num + node->valuelen + node->childlen;
}

static struct owner_count *owner_slot(struct store *store, unsigned domid,
				      bool create)
{
	for (unsigned i = 0; i < store->nowners; i++)
		if (store->owners[i].domid == domid)
			return &store->owners[i];
	if (!create)
		return NULL;
	if (store->nowners == store->owners_cap) {
		unsigned cap = store->owners_cap ? store->owners_cap * 2 : 16;
		struct owner_count *o = realloc(store->owners, cap * sizeof(*o));

		if (!o)
			return NULL;
		store->owners = o;
		store->owners_cap = cap;
	}
	store->owners[store->nowners] = (struct owner_count){ domid, 0 };
	return &store->owners[store->nowners++];
}

static int count_owner(struct store *store, unsigned domid, int delta)
{
	struct owner_count *o = owner_slot(store, domid, delta > 0);

	if (!o)
		return delta > 0 ? -1 : 0;
	o->nodes += delta;
	return 0;
}

unsigned store_owned_by(const struct store *store, unsigned domid)
{
	for (unsigned i = 0; i < store->nowners; i++)
		if (store->owners[i].domid == domid)
			return store->owners[i].nodes;
	return 0;
}

static int put_initial(struct store *store, const char *path,
		       const char *child)
{
	struct perm owner = { .id = 0, .bits = PERM_NONE };
	struct perms perms = { &owner, 1 };
	struct node *node = node_new(path, &perms);

	if (!node || (child && node_add_child(node, child))) {
		node_free(node);
		return -1;
	}
	node->generation = 0;
	return store_put(store, node);
}

int store_init(struct store *store)
{
	strmap_init(&store->nodes);
	store->owners = NULL;
	store->nowners = store->owners_cap = 0;
	if (put_initial(store, "/", "tool") ||
	    put_initial(store, "/tool", "xenstored") ||
	    put_initial(store, "/tool/xenstored", NULL)) {
		store_fini(store);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void free_node(void *node)
{
	node_free(node);
}

void store_fini(struct store *store)
{
	strmap_clear(&store->nodes, free_node);
	free(store->owners);
	store->owners = NULL;
	store->nowners = store->owners_cap = 0;
}

const struct node *store_get(const struct store *store, const char *path)
{
	return strmap_get(&store->nodes, path);
}

int store_put(struct store *store, struct node *node)
{
	void *old;

	if (count_owner(store, node->perms.p[0].id, 1)) {
		node_free(node);
		errno = ENOMEM;
		return -1;
	}
	if (strmap_put(&store->nodes, node->path, node, &old)) {
		count_owner(store, node->perms.p[0].id, -1);
		node_free(node);
		errno = ENOMEM;
		return -1;
	}
	if (old) {
		count_owner(store, ((struct node *)old)->perms.p[0].id, -1);
		node_free(old);
	}
	return 0;
}

void store_delete(struct store *store, const char *path)
{
	struct node *old = strmap_remove(&store->nodes, path);

	if (old) {
		count_owner(store, old->perms.p[0].id, -1);
		node_free(old);
	}
}
