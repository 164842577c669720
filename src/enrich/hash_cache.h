/*
 * Executable hashes for ProcessCreate's Hashes field (compatibility spec
 * 3.6.7): "SHA1=hex,MD5=hex,SHA256=hex", fixed order, only the algorithms
 * selected by the config's HashAlgorithms, lower-case hex, "-" when the file
 * cannot be read.
 *
 * Results are cached by file identity (st_dev, st_ino, st_size, st_mtim,
 * st_ctim), not by path: 10,000 execs of one binary hash it once, hard links
 * share an entry, and a binary replaced or rewritten in place is hashed
 * again.  One read pass computes all selected digests (libcrypto EVP).  The
 * cache is bounded (LRU).  One cache is used by one thread at a time.
 */
#ifndef SYSMON_HASH_CACHE_H
#define SYSMON_HASH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "schema/schema.h"

struct hash_cache;

struct hash_cache_stats {
	uint64_t hits;          /* answered from the cache */
	uint64_t misses;        /* files read and hashed */
	uint64_t failures;      /* "-": file missing, unreadable or not a regular file */
	uint64_t bytes_hashed;
	size_t entries;
};

/* A cache of at most MAX_ENTRIES results (at least 2 are kept). */
struct hash_cache *hash_cache_new(size_t max_entries);
void hash_cache_free(struct hash_cache *cache);

/* The Hashes text for the file at PATH.  ALGORITHMS is a set of enum
 * hash_algorithm bits (HASH_IMPHASH is ignored; no algorithm -> "-").
 * The string stays valid for at least the next max_entries - 1 calls. */
const char *hash_cache_get(struct hash_cache *cache, const char *path, unsigned algorithms);
/* The same for an open file (identity from fstat; FD's offset is not used
 * and not changed).  For images whose path is gone: /proc/PID/exe. */
const char *hash_cache_get_fd(struct hash_cache *cache, int fd, unsigned algorithms);

void hash_cache_get_stats(const struct hash_cache *cache, struct hash_cache_stats *stats);

#endif
