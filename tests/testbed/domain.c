/* SPDX-License-Identifier: MIT */
#include "domain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "server.h"
#include "tree.h"
#include "txn.h"
#include "watch.h"

struct domain *domain_find(struct server *srv, unsigned domid)
{
	for (struct domain *d = srv->domains; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

struct domain *domain_add(struct server *srv, unsigned domid)
{
	struct domain *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->domid = domid;
	d->target = NO_TARGET;
	d->next = srv->domains;
	srv->domains = d;
	return d;
}

int domain_introduce(struct server *srv, unsigned domid)
{
	int err;

	if (!domid_exists(domid))
		return EINVAL;
	if (domain_find(srv, domid))
		return 0;
	if (srv->hooks && srv->hooks->domain_introduced) {
		err = srv->hooks->domain_introduced(srv->hooks_arg, domid);
		if (err)
			return err;
	}
	if (!domain_add(srv, domid)) {
		if (srv->hooks && srv->hooks->domain_released)
			srv->hooks->domain_released(srv->hooks_arg, domid);
		return ENOMEM;
	}
	server_log(srv, "domain %u introduced", domid);
	watch_fire(srv, "@introduceDomain", true, NULL, NULL);
	return 0;
}

/* Paths of the topmost nodes under path owned by domid. */
static int collect_owned(struct server *srv, const char *path, unsigned domid,
			 char ***list, unsigned *n)
{
	const struct node *node = store_get(&srv->store, path);
	char *children;
	unsigned childlen, off;
	int err = 0;

	if (!node)
		return 0;
	if (node->perms.p[0].id == domid && strcmp(path, "/")) {
		char **l = realloc(*list, (*n + 1) * sizeof(**list));

		if (!l || !(l[*n] = strdup(path))) {
			if (l)
				*list = l;
			return ENOMEM;
		}
		*list = l;
		(*n)++;
		return 0;
	}
	childlen = node->childlen;
	children = malloc(childlen ? childlen : 1);
	if (!children)
		return ENOMEM;
	if (childlen)
		memcpy(children, node->children, childlen);
	for (off = 0; off < childlen && !err; off += strlen(children + off) + 1) {
		char *child = tree_child_path(path, children + off);

		if (!child) {
			err = ENOMEM;
			break;
		}
		err = collect_owned(srv, child, domid, list, n);
		free(child);
	}
	free(children);
	return err;
}

static void remove_from_perms(struct perms *perms, unsigned domid)
{
	unsigned to = 1;

	if (perms->p[0].id == domid)
		perms->p[0].id = 0;
	for (unsigned from = 1; from < perms->num; from++)
		if (perms->p[from].id != domid)
			perms->p[to++] = perms->p[from];
	perms->num = to;
}

int domain_release(struct server *srv, unsigned domid)
{
	struct domain **p, *d;
	struct actor system = { srv, 0, NO_TARGET, NULL };
	char **owned = NULL;
	unsigned nowned = 0;

	for (p = &srv->domains; *p && (*p)->domid != domid; p = &(*p)->next)
		;
	if (!*p)
		return ENOENT;
	for (struct conn *c = srv->conns; c; c = c->next)
		if (c->domid == domid)
			conn_drop(c, "domain released");
	if (collect_owned(srv, "/", domid, &owned, &nowned))
		server_log(srv, "release %u: out of memory finding its nodes",
			   domid);
	for (unsigned i = 0; i < nowned; i++) {
		int err = tree_remove(&system, owned[i]);

		if (err && err != ENOENT)
			server_log(srv, "release %u: removing %s: %s", domid,
				   owned[i], strerror(err));
		free(owned[i]);
	}
	free(owned);
	remove_from_perms(&srv->introduce_perms, domid);
	remove_from_perms(&srv->release_perms, domid);
	for (d = srv->domains; d; d = d->next)
		if (d->target == domid)
			d->target = NO_TARGET;
	d = *p;
	*p = d->next;
	free(d);
	if (srv->hooks && srv->hooks->domain_released)
		srv->hooks->domain_released(srv->hooks_arg, domid);
	server_log(srv, "domain %u released", domid);
	watch_fire(srv, "@releaseDomain", true, NULL, NULL);
	return 0;
}

struct perms *domain_special_perms(struct server *srv, const char *name)
{
	if (!strcmp(name, "@introduceDomain"))
		return &srv->introduce_perms;
	if (!strcmp(name, "@releaseDomain"))
		return &srv->release_perms;
	return NULL;
}
