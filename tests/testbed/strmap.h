/* SPDX-License-Identifier: MIT */
/* A hash map from strings to pointers, for the test xenstored. */
#ifndef TESTBED_STRMAP_H
#define TESTBED_STRMAP_H

#include <stddef.h>

struct strmap_entry {
	struct strmap_entry *next;
	size_t hash;
	char *key;
	void *value;
};

struct strmap {
	struct strmap_entry **buckets;
	size_t nbuckets;
	size_t count;
};

void strmap_init(struct strmap *map);
/* Frees the map; free_value (if not NULL) is called on every value. */
void strmap_clear(struct strmap *map, void (*free_value)(void *));
void *strmap_get(const struct strmap *map, const char *key);
/* Stores value under a copy of key. Returns the value it replaced (or
 * NULL) in *old. Returns 0, or -1 with errno ENOMEM. */
int strmap_put(struct strmap *map, const char *key, void *value, void **old);
/* Removes key and returns its value, or NULL if absent. */
void *strmap_remove(struct strmap *map, const char *key);

#endif
