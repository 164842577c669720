/*
 * bench/hashes: what the enrichment stage costs per event (issue 3).
 *
 *  1. Hashes: one uncached hash of an executable (all three algorithms, and
 *     SHA256 alone) against a cached answer for the same binary, as medians
 *     over repeated runs, and the throughput of the read-and-digest pass.
 *  2. Process cache: seeding from /proc, and one ProcessCreate's work
 *     (process_cache_exec + parent lookup) plus its ProcessTerminate
 *     (lookup + exit), as medians.
 *  3. User names: a cached user_name call.
 *
 *   build/bench/hashes [EXECUTABLE]     (default /usr/bin/bash)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enrich/guid.h"
#include "enrich/hash_cache.h"
#include "enrich/process_cache.h"
#include "enrich/users.h"
#include "util/clock.h"

#define FAKE_PID 5000000u   /* above PID_MAX_LIMIT: never a real process */

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t median(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare_i64);
	return v[n / 2];
}

static void bench_hashes(const char *path)
{
	enum { RUNS = 31, HITS = 100001 };
	static int64_t t[HITS];
	struct stat st;

	if (stat(path, &st) != 0) {
		perror(path);
		exit(1);
	}
	printf("hashes of %s (%lld bytes)\n", path, (long long)st.st_size);
	const struct { const char *name; unsigned algorithms; } sets[] = {
		{ "SHA256", HASH_SHA256 },
		{ "SHA1+MD5+SHA256", HASH_SHA1 | HASH_MD5 | HASH_SHA256 },
	};
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		for (int i = 0; i < RUNS; i++) {
			/* A fresh cache each run: every call is a miss (the file
			 * itself stays in the page cache). */
			struct hash_cache *cache = hash_cache_new(64);
			int64_t t0 = monotonic_ns();
			hash_cache_get(cache, path, sets[s].algorithms);
			t[i] = monotonic_ns() - t0;
			hash_cache_free(cache);
		}
		int64_t miss = median(t, RUNS);

		struct hash_cache *cache = hash_cache_new(64);
		hash_cache_get(cache, path, sets[s].algorithms);
		for (int i = 0; i < HITS; i++) {
			int64_t t0 = monotonic_ns();
			hash_cache_get(cache, path, sets[s].algorithms);
			t[i] = monotonic_ns() - t0;
		}
		int64_t hit = median(t, HITS);
		hash_cache_free(cache);
		printf("  %-16s miss %8.1f us (%6.0f MB/s)   hit %6.2f us   miss/hit %6.0fx\n",
		       sets[s].name, miss / 1e3, st.st_size / (miss / 1e3), hit / 1e3,
		       (double)miss / (double)hit);
	}
}

static void bench_process_cache(void)
{
	enum { OPS = 200001 };
	static int64_t t[OPS];
	struct process_cache *cache = process_cache_new();
	int64_t t0 = monotonic_ns();
	int seeded = process_cache_seed(cache);
	int64_t seed_ns = monotonic_ns() - t0;
	printf("process cache\n  seed: %d processes in %.1f ms (%.1f us each)\n", seeded,
	       seed_ns / 1e6, seeded > 0 ? seed_ns / 1e3 / seeded : 0.0);

	uint64_t boot = (uint64_t)clock_ns(CLOCK_BOOTTIME);
	uint32_t parent = (uint32_t)getpid();
	for (uint32_t i = 0; i < OPS; i++) {
		uint32_t pid = FAKE_PID + i % 30000;
		uint64_t start = boot + (uint64_t)i * 1000;
		t0 = monotonic_ns();
		process_cache_exec(cache, pid, parent, 0, start, "/usr/bin/true",
				   "true --some --arguments", "/tmp");
		process_cache_lookup(cache, parent);
		process_cache_lookup(cache, pid);
		process_cache_exit(cache, pid, guid_boot_to_wall_ns(start + 500));
		t[i] = monotonic_ns() - t0;
	}
	struct process_cache_stats st;
	process_cache_get_stats(cache, &st);
	printf("  exec + 2 lookups + exit: median %.0f ns   (entries after %d processes: %zu live, %zu exited)\n",
	       (double)median(t, OPS), OPS, st.live, st.exited);
	process_cache_free(cache);
}

static void bench_users(void)
{
	enum { OPS = 100001 };
	static int64_t t[OPS];
	user_name(0);
	for (int i = 0; i < OPS; i++) {
		int64_t t0 = monotonic_ns();
		user_name(0);
		t[i] = monotonic_ns() - t0;
	}
	printf("user names\n  cached user_name: median %.0f ns\n", (double)median(t, OPS));
}

int main(int argc, char **argv)
{
	guid_init();
	bench_hashes(argc > 1 ? argv[1] : "/usr/bin/bash");
	bench_process_cache();
	bench_users();
	return 0;
}
