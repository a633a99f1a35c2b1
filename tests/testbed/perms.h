/* SPDX-License-Identifier: MIT */
/* Xenstore node permissions: a list whose first entry names the owner and
 * gives everybody else's access; later entries give per-domain access. */
#ifndef TESTBED_PERMS_H
#define TESTBED_PERMS_H

#include <stdbool.h>
#include <stddef.h>

/* Same bit values as libxenstore's XS_PERM_*. */
enum {
	PERM_NONE = 0x00,
	PERM_READ = 0x01,
	PERM_WRITE = 0x02,
	PERM_OWNER = 0x08,
	/* Entry for a domain that does not exist: kept but never matches. */
	PERM_IGNORE = 0x10,
};

/* Domain ids from here up are special (DOMID_SELF, DOMID_IO, ...). */
#define DOMID_FIRST_RESERVED 0x7FF0U
#define DOMID_SELF 0x7FF0U
#define NO_TARGET (~0U)

struct perm {
	unsigned id;
	unsigned bits;
};

struct perms {
	struct perm *p;
	unsigned num;
};

/* Parses num nul-terminated "<r|w|b|n><domid>" strings. false: EINVAL. */
bool perms_parse(const char *strings, unsigned num, struct perm *out);

/* "<r|w|b|n><domid>" into buf (at least 16 bytes). */
void perm_format(const struct perm *perm, char *buf, size_t size);

/* The access a connection of domain domid (which may act for target, or
 * NO_TARGET) gets to a node with these permissions. */
unsigned perms_access(const struct perms *perms, unsigned domid,
		      unsigned target);

/* Only dom0 is privileged in the simulation. */
static inline bool domid_is_privileged(unsigned domid)
{
	return domid == 0;
}

int perms_copy(struct perms *dst, const struct perms *src);
void perms_free(struct perms *perms);

#endif
