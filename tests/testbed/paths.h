/* SPDX-License-Identifier: MIT */
/* Xenstore path rules (docs/misc/xenstore.txt, and what xenstored checks). */
#ifndef TESTBED_PATHS_H
#define TESTBED_PATHS_H

#include <stdbool.h>

/* An absolute node name xenstored accepts: starts with '/', no "//", no
 * trailing '/', only [A-Za-z0-9-/_@], and at most XENSTORE_REL_PATH_MAX
 * bytes beyond a leading "/local/domain/<domid>/". */
bool path_is_valid(const char *path);

/* Relative paths are relative to the connection's domain home. Returns a
 * malloc'd absolute path (or special "@..." name), NULL on ENOMEM. */
char *path_canonical(const char *path, unsigned domid);

/* The parent of an absolute path ("/" for top-level nodes); malloc'd. */
char *path_parent(const char *path);

/* The last component of an absolute path other than "/". */
const char *path_basename(const char *path);

/* True if child is parent or below it; everything is below "/". */
bool path_is_below(const char *child, const char *parent);

/* "/local/domain/<domid>", malloc'd. */
char *path_domain_home(unsigned domid);

#endif
