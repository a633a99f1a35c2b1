/* SPDX-License-Identifier: MIT */
#include "perms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool perms_parse(const char *strings, unsigned num, struct perm *out)
{
	const char *p = strings;

	for (unsigned i = 0; i < num; i++) {
		char *end;
		long id;

		switch (*p) {
		case 'r': out[i].bits = PERM_READ; break;
		case 'w': out[i].bits = PERM_WRITE; break;
		case 'b': out[i].bits = PERM_READ | PERM_WRITE; break;
		case 'n': out[i].bits = PERM_NONE; break;
		default: errno = EINVAL; return false;
		}
		p++;
		/* libxenstore's parser: any strtol base, whole string. */
		errno = 0;
		id = strtol(p, &end, 0);
		if (*end || !*p) {
			errno = EINVAL;
			return false;
		}
		out[i].id = (unsigned)id;
		p = end + 1;
	}
	return true;
}

void perm_format(const struct perm *perm, char *buf, size_t size)
{
	static const char letter[] = { 'n', 'r', 'w', 'b' };

	snprintf(buf, size, "%c%d",
		 letter[perm->bits & (PERM_READ | PERM_WRITE)], (int)perm->id);
}

unsigned perms_access(const struct perms *perms, unsigned domid,
		      unsigned target)
{
	const unsigned all = PERM_READ | PERM_WRITE | PERM_OWNER;
	const struct perm *owner = &perms->p[0];

	if (domid_is_privileged(domid) || owner->id == domid ||
	    (target != NO_TARGET && owner->id == target))
		return all;
	for (unsigned i = 1; i < perms->num; i++) {
		const struct perm *e = &perms->p[i];

		if (!(e->bits & PERM_IGNORE) &&
		    (e->id == domid || (target != NO_TARGET && e->id == target)))
			return e->bits & all;
	}
	return owner->bits & all;
}

int perms_copy(struct perms *dst, const struct perms *src)
{
	dst->num = src->num;
	dst->p = malloc(src->num * sizeof(*src->p));
	if (!dst->p) {
		dst->num = 0;
		errno = ENOMEM;
		return -1;
	}
	memcpy(dst->p, src->p, src->num * sizeof(*src->p));
	return 0;
}

void perms_free(struct perms *perms)
{
	free(perms->p);
	perms->p = NULL;
	perms->num = 0;
}
