/*
 * Executable hashes with a cache keyed by file identity (see hash_cache.h).
 * A hit costs one stat() and a hash-table lookup; a miss reads the file
 * once through a 1 MiB buffer, feeding every selected digest.
 */
#include "enrich/hash_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich/name_cache.h"
#include "util/strbuf.h"

#define READ_BUFFER_SIZE (1 << 20)

/* In Sysmon's output order. */
static const struct {
	unsigned bit;
	const char *label;      /* as Sysmon writes it */
	const char *evp_name;
} algorithms_in_order[] = {
	{ HASH_SHA1, "SHA1", "SHA1" },
	{ HASH_MD5, "MD5", "MD5" },
	{ HASH_SHA256, "SHA256", "SHA256" },
};
#define NALGORITHMS (sizeof(algorithms_in_order) / sizeof(algorithms_in_order[0]))
#define HASH_PRODUCED (HASH_SHA1 | HASH_MD5 | HASH_SHA256)

struct hash_cache {
	struct name_cache *results;     /* identity key -> Hashes text */
	unsigned char *buffer;
	EVP_MD *md[NALGORITHMS];        /* fetched once: an implicit fetch per file costs more */
	EVP_MD_CTX *ctx[NALGORITHMS];
	struct strbuf text;
	struct hash_cache_stats stats;
};

static const char unreadable[] = "-";

struct hash_cache *hash_cache_new(size_t max_entries)
{
	struct hash_cache *cache = xcalloc(1, sizeof(*cache));

	cache->results = name_cache_new(max_entries);
	cache->buffer = xmalloc(READ_BUFFER_SIZE);
	for (size_t i = 0; i < NALGORITHMS; i++) {
		/* A digest the provider refuses (MD5 under FIPS) stays NULL
		 * and is written as "ALG=-" without failing the others. */
		cache->md[i] = EVP_MD_fetch(NULL, algorithms_in_order[i].evp_name, NULL);
		cache->ctx[i] = EVP_MD_CTX_new();
		if (!cache->ctx[i]) {
			fprintf(stderr, "sysmon: out of memory creating a digest context\n");
			abort();
		}
	}
	return cache;
}

void hash_cache_free(struct hash_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < NALGORITHMS; i++) {
		EVP_MD_CTX_free(cache->ctx[i]);
		EVP_MD_free(cache->md[i]);
	}
	name_cache_free(cache->results);
	strbuf_release(&cache->text);
	free(cache->buffer);
	free(cache);
}

static void identity_key(char *key, size_t len, const struct stat *st, unsigned algorithms)
{
	snprintf(key, len, "%" PRIx64 ":%" PRIx64 ":%" PRIx64 ":%" PRId64 ".%ld:%" PRId64 ".%ld:%x",
		 (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
		 (int64_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		 (int64_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec, algorithms);
}

/* Read FD from offset 0 to the end, digesting with every selected
 * algorithm, and build the Hashes text in cache->text.  -1 on a read or
 * digest error. */
static int digest_file(struct hash_cache *cache, int fd, unsigned algorithms)
{
	bool selected[NALGORITHMS];

	for (size_t i = 0; i < NALGORITHMS; i++) {
		selected[i] = (algorithms & algorithms_in_order[i].bit) && cache->md[i] &&
			      EVP_DigestInit_ex2(cache->ctx[i], cache->md[i], NULL) == 1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	off_t offset = 0;
	for (;;) {
		ssize_t n = pread(fd, cache->buffer, READ_BUFFER_SIZE, offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		offset += n;
		for (size_t i = 0; i < NALGORITHMS; i++)
			if (selected[i] && EVP_DigestUpdate(cache->ctx[i], cache->buffer, (size_t)n) != 1)
				return -1;
	}
	cache->stats.bytes_hashed += (uint64_t)offset;

	strbuf_reset(&cache->text);
	for (size_t i = 0; i < NALGORITHMS; i++) {
		if (!(algorithms & algorithms_in_order[i].bit))
			continue;
		if (cache->text.len)
			strbuf_putc(&cache->text, ',');
		strbuf_printf(&cache->text, "%s=", algorithms_in_order[i].label);
		unsigned char digest[EVP_MAX_MD_SIZE];
		unsigned int dlen = 0;
		if (!selected[i] || EVP_DigestFinal_ex(cache->ctx[i], digest, &dlen) != 1) {
			strbuf_putc(&cache->text, '-');
			continue;
		}
		for (unsigned int j = 0; j < dlen; j++)
			strbuf_printf(&cache->text, "%02x", digest[j]);
	}
	return 0;
}

static const char *failed(struct hash_cache *cache)
{
	cache->stats.failures++;
	return unreadable;
}

/* The cached result for ST, or NULL. */
static const char *find(struct hash_cache *cache, const struct stat *st, unsigned algorithms,
			char *key, size_t keylen)
{
	identity_key(key, keylen, st, algorithms);
	const char *text = name_cache_find(cache->results, key, 0);
	if (text)
		cache->stats.hits++;
	return text;
}

/* Hash the open regular file FD whose identity is ST and cache the result
 * under KEY. */
static const char *hash_and_store(struct hash_cache *cache, int fd, unsigned algorithms,
				  const char *key)
{
	if (digest_file(cache, fd, algorithms) != 0)
		return failed(cache);
	cache->stats.misses++;
	return name_cache_insert(cache->results, key, strbuf_str(&cache->text), INT64_MAX);
}

const char *hash_cache_get_fd(struct hash_cache *cache, int fd, unsigned algorithms)
{
	struct stat st;
	char key[160];

	algorithms &= HASH_PRODUCED;
	if (!algorithms || fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return failed(cache);
	const char *text = find(cache, &st, algorithms, key, sizeof(key));
	return text ? text : hash_and_store(cache, fd, algorithms, key);
}

const char *hash_cache_get(struct hash_cache *cache, const char *path, unsigned algorithms)
{
	struct stat st;
	char key[160];

	algorithms &= HASH_PRODUCED;
	/* Check the type before opening: opening a FIFO or a device could
	 * block the pipeline or have side effects. */
	if (!algorithms || !path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return failed(cache);
	const char *text = find(cache, &st, algorithms, key, sizeof(key));
	if (text)
		return text;

	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return failed(cache);
	/* The path may have been replaced between stat and open: key the
	 * result by what was actually read. */
	struct stat opened;
	if (fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {
		close(fd);
		return failed(cache);
	}
	if (opened.st_dev != st.st_dev || opened.st_ino != st.st_ino) {
		text = find(cache, &opened, algorithms, key, sizeof(key));
		if (text) {
			close(fd);
			return text;
		}
	} else {
		identity_key(key, sizeof(key), &opened, algorithms);
	}
	text = hash_and_store(cache, fd, algorithms, key);
	close(fd);
	return text;
}

void hash_cache_get_stats(const struct hash_cache *cache, struct hash_cache_stats *stats)
{
	*stats = cache->stats;
	stats->entries = name_cache_count(cache->results);
}
