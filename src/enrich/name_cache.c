/*
 * Bounded LRU text map for the enrichment caches; see name_cache.h for the
 * pointer-lifetime promise that shapes it.  Each entry is one allocation
 * holding key and value; the index is a fixed chained hash table sized for
 * the capacity, so no operation ever rehashes.
 */
#include "enrich/name_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

struct name_entry {
	struct name_entry *hash_next;   /* index chain; only while indexed */
	struct name_entry *newer, *older;
	int64_t expires_ns;
	size_t bucket;
	bool indexed;
	char *value;                    /* points into text, after the key */
	char text[];                    /* key NUL value NUL */
};

struct name_cache {
	struct name_entry **buckets;
	size_t nbuckets;                /* a power of two */
	struct name_entry *newest, *oldest;
	size_t count, capacity;
};

static uint64_t hash_text(const char *s)
{
	uint64_t h = 14695981039346656037ULL;   /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

struct name_cache *name_cache_new(size_t capacity)
{
	struct name_cache *cache = xcalloc(1, sizeof(*cache));

	cache->capacity = capacity < 2 ? 2 : capacity;
	cache->nbuckets = 16;
	while (cache->nbuckets < cache->capacity * 2)
		cache->nbuckets *= 2;
	cache->buckets = xcalloc(cache->nbuckets, sizeof(*cache->buckets));
	return cache;
}

void name_cache_free(struct name_cache *cache)
{
	if (!cache)
		return;
	struct name_entry *e = cache->newest;
	while (e) {
		struct name_entry *next = e->older;
		free(e);
		e = next;
	}
	free(cache->buckets);
	free(cache);
}

static void unindex(struct name_cache *cache, struct name_entry *e)
{
	if (!e->indexed)
		return;
	struct name_entry **link = &cache->buckets[e->bucket];
	while (*link != e)
		link = &(*link)->hash_next;
	*link = e->hash_next;
	e->hash_next = NULL;
	e->indexed = false;
}

static void list_unlink(struct name_cache *cache, struct name_entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		cache->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		cache->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void list_push_newest(struct name_cache *cache, struct name_entry *e)
{
	e->older = cache->newest;
	e->newer = NULL;
	if (cache->newest)
		cache->newest->newer = e;
	else
		cache->oldest = e;
	cache->newest = e;
}

static struct name_entry *find_indexed(struct name_cache *cache, const char *key, size_t bucket)
{
	for (struct name_entry *e = cache->buckets[bucket]; e; e = e->hash_next)
		if (strcmp(e->text, key) == 0)
			return e;
	return NULL;
}

const char *name_cache_find(struct name_cache *cache, const char *key, int64_t now_ns)
{
	size_t bucket = hash_text(key) & (cache->nbuckets - 1);
	struct name_entry *e = find_indexed(cache, key, bucket);

	if (!e)
		return NULL;
	if (now_ns >= e->expires_ns) {
		unindex(cache, e);
		return NULL;
	}
	list_unlink(cache, e);
	list_push_newest(cache, e);
	return e->value;
}

const char *name_cache_insert(struct name_cache *cache, const char *key, const char *value,
			      int64_t expires_ns)
{
	size_t bucket = hash_text(key) & (cache->nbuckets - 1);
	struct name_entry *old = find_indexed(cache, key, bucket);

	/* The old entry's value may be in a caller's hands: leave it in
	 * the list to age out. */
	if (old)
		unindex(cache, old);
	if (cache->count >= cache->capacity) {
		struct name_entry *victim = cache->oldest;
		unindex(cache, victim);
		list_unlink(cache, victim);
		free(victim);
		cache->count--;
	}

	size_t klen = strlen(key), vlen = strlen(value);
	struct name_entry *e = xmalloc(sizeof(*e) + klen + vlen + 2);
	memcpy(e->text, key, klen + 1);
	e->value = e->text + klen + 1;
	memcpy(e->value, value, vlen + 1);
	e->expires_ns = expires_ns;
	e->bucket = bucket;
	e->indexed = true;
	e->hash_next = cache->buckets[bucket];
	cache->buckets[bucket] = e;
	list_push_newest(cache, e);
	cache->count++;
	return e->value;
}

void name_cache_invalidate(struct name_cache *cache)
{
	for (struct name_entry *e = cache->newest; e; e = e->older) {
		e->indexed = false;
		e->hash_next = NULL;
	}
	memset(cache->buckets, 0, cache->nbuckets * sizeof(*cache->buckets));
}

size_t name_cache_count(const struct name_cache *cache)
{
	return cache->count;
}
