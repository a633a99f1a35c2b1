/* SPDX-License-Identifier: MIT */
/* The domains the test xenstored knows about: introduce, release, and the
 * special @introduceDomain/@releaseDomain watch nodes. */
#ifndef TESTBED_DOMAIN_H
#define TESTBED_DOMAIN_H

#include <stdbool.h>

#include "perms.h"

struct server;
struct domain;

struct domain *domain_find(struct server *srv, unsigned domid);
/* Records a domain without telling anyone (dom0 at start). */
struct domain *domain_add(struct server *srv, unsigned domid);
/* INTRODUCE: 0 or an errno. Fires @introduceDomain for a new domain. */
int domain_introduce(struct server *srv, unsigned domid);
/* RELEASE, as when xenstored sees a domain die: drops its connections,
 * removes the nodes it owns, fires @releaseDomain. 0 or an errno. */
int domain_release(struct server *srv, unsigned domid);

/* No hypervisor to ask: every non-reserved domid counts as existing, so
 * permission entries only get ignored for reserved ones. */
static inline bool domid_exists(unsigned domid)
{
	return domid < DOMID_FIRST_RESERVED;
}

/* Permissions of "@introduceDomain"/"@releaseDomain", or NULL. */
struct perms *domain_special_perms(struct server *srv, const char *name);

#endif
