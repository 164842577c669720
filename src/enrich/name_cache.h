/*
 * A bounded LRU map from text keys to text values, shared by the enrichment
 * caches (user names, host names, file hashes).  Its one promise beyond a
 * map: a value returned by a lookup or an insert is never changed or freed
 * before capacity - 1 further inserts have happened, so callers may use it
 * without copying.  Expired or invalidated entries are only unlinked from
 * the index and left to age out of the LRU list, for that reason.
 * Not thread-safe: callers lock.
 */
#ifndef SYSMON_NAME_CACHE_H
#define SYSMON_NAME_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct name_cache;

/* A cache of CAPACITY entries (at least 2). */
struct name_cache *name_cache_new(size_t capacity);
void name_cache_free(struct name_cache *cache);

/* The value of KEY, or NULL if absent or expired (NOW_NS past the expiry
 * given to name_cache_insert). */
const char *name_cache_find(struct name_cache *cache, const char *key, int64_t now_ns);

/* Store KEY -> VALUE (copied) valid until EXPIRES_NS (INT64_MAX: forever)
 * and return the stored value.  Replaces an existing entry for KEY. */
const char *name_cache_insert(struct name_cache *cache, const char *key, const char *value,
			      int64_t expires_ns);

/* Forget every key (values stay readable until they age out). */
void name_cache_invalidate(struct name_cache *cache);

size_t name_cache_count(const struct name_cache *cache);

#endif
