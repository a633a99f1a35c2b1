/* SPDX-License-Identifier: MIT */
#include "strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: short keys, no adversarial inputs worth a keyed hash here. */
static size_t hash_string(const char *s)
{
	size_t h = 1469598103934665603ULL & (size_t)-1;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL & (size_t)-1;
	}
	return h;
}

void strmap_init(struct strmap *map)
{
	map->buckets = NULL;
	map->nbuckets = 0;
	map->count = 0;
}

void strmap_clear(struct strmap *map, void (*free_value)(void *))
{
	for (size_t i = 0; i < map->nbuckets; i++) {
		struct strmap_entry *e = map->buckets[i];

		while (e) {
			struct strmap_entry *next = e->next;

			if (free_value)
				free_value(e->value);
			free(e->key);
			free(e);
			e = next;
		}
	}
	free(map->buckets);
	strmap_init(map);
}

static struct strmap_entry **find_slot(const struct strmap *map,
				       const char *key, size_t hash)
{
	struct strmap_entry **slot;

	if (!map->nbuckets)
		return NULL;
	slot = &map->buckets[hash & (map->nbuckets - 1)];
	while (*slot && ((*slot)->hash != hash || strcmp((*slot)->key, key)))
		slot = &(*slot)->next;
	return slot;
}

void *strmap_get(const struct strmap *map, const char *key)
{
	struct strmap_entry **slot = find_slot(map, key, hash_string(key));

	return slot && *slot ? (*slot)->value : NULL;
}

static int grow(struct strmap *map)
{
	size_t n = map->nbuckets ? map->nbuckets * 2 : 64;
	struct strmap_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i < map->nbuckets; i++) {
		struct strmap_entry *e = map->buckets[i];

		while (e) {
			struct strmap_entry *next = e->next;
			size_t j = e->hash & (n - 1);

			e->next = b[j];
			b[j] = e;
			e = next;
		}
	}
	free(map->buckets);
	map->buckets = b;
	map->nbuckets = n;
	return 0;
}

int strmap_put(struct strmap *map, const char *key, void *value, void **old)
{
	size_t hash = hash_string(key);
	struct strmap_entry **slot = find_slot(map, key, hash);
	struct strmap_entry *e;

	if (old)
		*old = NULL;
	if (slot && *slot) {
		if (old)
			*old = (*slot)->value;
		(*slot)->value = value;
		return 0;
	}
	if (map->count >= map->nbuckets) {
		if (grow(map)) {
			errno = ENOMEM;
			return -1;
		}
	}
	e = malloc(sizeof(*e));
	if (!e || !(e->key = strdup(key))) {
		free(e);
		errno = ENOMEM;
		return -1;
	}
	e->hash = hash;
	e->value = value;
	slot = &map->buckets[hash & (map->nbuckets - 1)];
	e->next = *slot;
	*slot = e;
	map->count++;
	return 0;
}

void *strmap_remove(struct strmap *map, const char *key)
{
	struct strmap_entry **slot = find_slot(map, key, hash_string(key));
	struct strmap_entry *e;
	void *value;

	if (!slot || !*slot)
		return NULL;
	e = *slot;
	*slot = e->next;
	value = e->value;
	free(e->key);
	free(e);
	map->count--;
	return value;
}
