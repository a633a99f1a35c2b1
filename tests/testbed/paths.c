/* SPDX-License-Identifier: MIT */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"

/* Length of a "/local/domain/<1-5 digits>/" prefix, or 0. xenstored only
 * counts the part after it against the path length limit. */
static size_t domain_prefix_len(const char *path)
{
	static const char prefix[] = "/local/domain/";
	size_t n = sizeof(prefix) - 1, digits = 0;

	if (strncmp(path, prefix, n))
		return 0;
	while (path[n + digits] >= '0' && path[n + digits] <= '9' && digits < 5)
		digits++;
	if (!digits || path[n + digits] != '/')
		return 0;
	return n + digits + 1;
}

bool path_is_valid(const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/')
		return false;
	if (len > 1 && path[len - 1] == '/')
		return false;
	if (strstr(path, "//"))
		return false;
	if (len > domain_prefix_len(path) + XENSTORE_REL_PATH_MAX)
		return false;
	return strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz"
			    "0123456789-/_@") == len;
}

char *path_canonical(const char *path, unsigned domid)
{
	char *out;

	if (path[0] == '/' || path[0] == '@')
		return strdup(path);
	if (asprintf(&out, "/local/domain/%u/%s", domid, path) < 0)
		return NULL;
	return out;
}

char *path_parent(const char *path)
{
	const char *slash = strrchr(path + 1, '/');

	if (!slash)
		return strdup("/");
	return strndup(path, slash - path);
}

const char *path_basename(const char *path)
{
	return strrchr(path, '/') + 1;
}

bool path_is_below(const char *child, const char *parent)
{
	size_t len = strlen(parent);

	if (!strcmp(parent, "/"))
		return true;
	if (strncmp(child, parent, len))
		return false;
	return child[len] == '/' || child[len] == '\0';
}

char *path_domain_home(unsigned domid)
{
	char *out;

	if (asprintf(&out, "/local/domain/%u", domid) < 0)
		return NULL;
	return out;
}
