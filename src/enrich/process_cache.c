/*
 * The process cache (see process_cache.h): a chained hash table of entries
 * keyed by pid, each one allocation holding the entry and its strings, plus
 * a FIFO of exited entries for the grace period.
 *
 * Time for the grace period is event time: the newest exec or exit time
 * seen.  So a backlog processed late still finds the processes its events
 * name, and tests need no sleeping.
 */
#include "enrich/process_cache.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/strbuf.h"

#define PF_KTHREAD 0x00200000u  /* task flag, /proc/PID/stat field 9 */
#define MIN_SWEEP_AT 4096
#define UNKNOWN_PROCESS "<unknown process>"

struct proc_entry {
	struct process_info info;
	struct proc_entry *hash_next;
	struct proc_entry *exited_older, *exited_newer;
	int64_t added_wall_ns;          /* event time when the entry was made */
	char strings[];                 /* image, command line, cwd */
};

struct process_cache {
	struct proc_entry **buckets;
	size_t nbuckets;                /* a power of two */
	size_t live, nexited;
	struct proc_entry *exited_oldest, *exited_newest;
	int64_t grace_ns;
	size_t max_exited;
	int64_t latest_wall_ns;         /* newest event time seen */
	size_t sweep_at;                /* live count that triggers a sweep */
	uint64_t ns_per_tick;
	uint64_t proc_reads, evicted, swept;
};

/* What /proc/PID/stat and /proc/PID/status tell. */
struct proc_stat {
	uint32_t ppid;
	uint64_t start_boot_ns;
	char state;
	bool kernel_thread;
	char comm[16];
};

static size_t bucket_of(const struct process_cache *cache, uint32_t pid)
{
	return (size_t)((pid * 0x9E3779B97F4A7C15ULL) >> 20) & (cache->nbuckets - 1);
}

struct process_cache *process_cache_new(void)
{
	struct process_cache *cache = xcalloc(1, sizeof(*cache));
	long ticks = sysconf(_SC_CLK_TCK);

	cache->nbuckets = 1024;
	cache->buckets = xcalloc(cache->nbuckets, sizeof(*cache->buckets));
	cache->grace_ns = PROCESS_CACHE_GRACE_NS;
	cache->max_exited = PROCESS_CACHE_MAX_EXITED;
	cache->latest_wall_ns = INT64_MIN;
	cache->sweep_at = MIN_SWEEP_AT;
	cache->ns_per_tick = 1000000000ULL / (uint64_t)(ticks > 0 ? ticks : 100);
	guid_init();
	return cache;
}

void process_cache_free(struct process_cache *cache)
{
	if (!cache)
		return;
	for (size_t b = 0; b < cache->nbuckets; b++) {
		struct proc_entry *e = cache->buckets[b];
		while (e) {
			struct proc_entry *next = e->hash_next;
			free(e);
			e = next;
		}
	}
	free(cache->buckets);
	free(cache);
}

void process_cache_set_limits(struct process_cache *cache, int64_t grace_ns, size_t max_exited)
{
	cache->grace_ns = grace_ns < 0 ? 0 : grace_ns;
	cache->max_exited = max_exited;
}

static struct proc_entry *find(const struct process_cache *cache, uint32_t pid)
{
	for (struct proc_entry *e = cache->buckets[bucket_of(cache, pid)]; e; e = e->hash_next)
		if (e->info.pid == pid)
			return e;
	return NULL;
}

static void grow(struct process_cache *cache)
{
	size_t old_n = cache->nbuckets;
	struct proc_entry **old = cache->buckets;

	cache->nbuckets *= 2;
	cache->buckets = xcalloc(cache->nbuckets, sizeof(*cache->buckets));
	for (size_t b = 0; b < old_n; b++) {
		struct proc_entry *e = old[b];
		while (e) {
			struct proc_entry *next = e->hash_next;
			size_t nb = bucket_of(cache, e->info.pid);
			e->hash_next = cache->buckets[nb];
			cache->buckets[nb] = e;
			e = next;
		}
	}
	free(old);
}

static void exited_unlink(struct process_cache *cache, struct proc_entry *e)
{
	if (e->exited_newer)
		e->exited_newer->exited_older = e->exited_older;
	else
		cache->exited_newest = e->exited_older;
	if (e->exited_older)
		e->exited_older->exited_newer = e->exited_newer;
	else
		cache->exited_oldest = e->exited_newer;
	e->exited_older = e->exited_newer = NULL;
}

static void remove_entry(struct process_cache *cache, struct proc_entry *e)
{
	struct proc_entry **link = &cache->buckets[bucket_of(cache, e->info.pid)];

	while (*link != e)
		link = &(*link)->hash_next;
	*link = e->hash_next;
	if (e->info.exited) {
		exited_unlink(cache, e);
		cache->nexited--;
	} else {
		cache->live--;
	}
	free(e);
}

/* Add E (a live entry), replacing any entry for its pid. */
static void insert_entry(struct process_cache *cache, struct proc_entry *e)
{
	struct proc_entry *old = find(cache, e->info.pid);

	if (old)
		remove_entry(cache, old);
	if (cache->live + cache->nexited >= cache->nbuckets)
		grow(cache);
	size_t b = bucket_of(cache, e->info.pid);
	e->hash_next = cache->buckets[b];
	cache->buckets[b] = e;
	cache->live++;
}

static struct proc_entry *new_entry(struct process_cache *cache, uint32_t pid, uint32_t ppid,
				    uint32_t uid, uint64_t start_boot_ns, const char *image,
				    const char *command_line, size_t cmdline_len, const char *cwd)
{
	size_t ilen = strlen(image), clen = cmdline_len, wlen = strlen(cwd);
	struct proc_entry *e = xcalloc(1, sizeof(*e) + ilen + clen + wlen + 3);
	char *p = e->strings;

	e->info.image = memcpy(p, image, ilen + 1);
	p += ilen + 1;
	e->info.command_line = memcpy(p, command_line, clen);
	p[clen] = '\0';
	p += clen + 1;
	e->info.cwd = memcpy(p, cwd, wlen + 1);
	e->info.pid = pid;
	e->info.ppid = ppid;
	e->info.uid = uid;
	e->info.start_boot_ns = start_boot_ns;
	guid_format_process(e->info.guid, pid, start_boot_ns);
	e->added_wall_ns = cache->latest_wall_ns;
	return e;
}

/* Read up to CAP - 1 bytes of a /proc file into BUF, NUL-terminated.
 * Returns the length, or -1. */
static ssize_t read_proc_file(uint32_t pid, const char *name, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%u/%s", pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static int read_stat(const struct process_cache *cache, uint32_t pid, struct proc_stat *st)
{
	char buf[1024];

	if (read_proc_file(pid, "stat", buf, sizeof(buf)) <= 0)
		return -1;
	/* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
	char *open_paren = strchr(buf, '(');
	char *close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -1;
	size_t clen = (size_t)(close_paren - open_paren - 1);
	if (clen >= sizeof(st->comm))
		clen = sizeof(st->comm) - 1;
	memcpy(st->comm, open_paren + 1, clen);
	st->comm[clen] = '\0';

	/* Fields from 3 (state) on, numbered as in proc(5). */
	unsigned long long field[23] = { 0 };
	char *p = close_paren + 1;
	while (*p == ' ')
		p++;
	st->state = *p;
	if (!*p)
		return -1;
	p++;
	for (int i = 4; i <= 22; i++) {
		char *end;
		errno = 0;
		field[i] = strtoull(p, &end, 10);
		if (end == p || errno)
			return -1;
		p = end;
	}
	st->ppid = (uint32_t)field[4];
	st->kernel_thread = (field[9] & PF_KTHREAD) != 0;
	st->start_boot_ns = field[22] * cache->ns_per_tick;
	return 0;
}

/* Tgid and real uid from /proc/PID/status. */
static int read_status(uint32_t pid, uint32_t *tgid, uint32_t *uid)
{
	char buf[4096];
	bool have_tgid = false, have_uid = false;

	if (read_proc_file(pid, "status", buf, sizeof(buf)) <= 0)
		return -1;
	for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, "Tgid:", 5) == 0)
			have_tgid = sscanf(line + 5, "%u", tgid) == 1;
		else if (strncmp(line, "Uid:", 4) == 0)
			have_uid = sscanf(line + 4, "%u", uid) == 1;
	}
	return have_tgid && have_uid ? 0 : -1;
}

static void read_link(uint32_t pid, const char *name, char *out, size_t cap)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/%s", pid, name);
	ssize_t n = readlink(path, out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
}

/* argv joined by single spaces (spec 3.6.9) into BUF; returns its length
 * and the length of argv[0] in *ARG0_LEN. */
static size_t read_command_line(uint32_t pid, char *buf, size_t cap, size_t *arg0_len)
{
	ssize_t n = read_proc_file(pid, "cmdline", buf, cap);
	*arg0_len = 0;
	if (n <= 0)
		return 0;
	size_t len = (size_t)n;
	/* Programs that rewrite their argv (setproctitle) leave NUL padding. */
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	*arg0_len = strnlen(buf, len);
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[len] = '\0';
	return len;
}

/* Image text for a process without an exe link (a zombie, or one whose
 * executable cannot be resolved): the basename of argv[0], else
 * "<unknown process>" (spec 3.6.8). */
static void image_from_argv0(char *image, size_t cap, const char *cmdline, size_t arg0_len)
{
	size_t start = 0;
	for (size_t i = 0; i < arg0_len; i++)
		if (cmdline[i] == '/')
			start = i + 1;
	if (start >= arg0_len)
		snprintf(image, cap, "%s", UNKNOWN_PROCESS);
	else
		snprintf(image, cap, "%.*s", (int)(arg0_len - start), cmdline + start);
}

/* A new entry for PID as /proc shows it, or NULL if it is gone.  PID must
 * be a thread-group id. */
static struct proc_entry *read_entry(struct process_cache *cache, uint32_t pid)
{
	struct proc_stat st;
	uint32_t tgid, uid;

	if (read_status(pid, &tgid, &uid) != 0 || tgid != pid || read_stat(cache, pid, &st) != 0)
		return NULL;
	cache->proc_reads++;

	char image[PATH_MAX + 1], cwd[PATH_MAX + 1];
	char *cmdline = xmalloc(PROCESS_CMDLINE_MAX + 1);
	size_t cmdline_len = 0;
	read_link(pid, "exe", image, sizeof(image));
	read_link(pid, "cwd", cwd, sizeof(cwd));
	if (!cwd[0])
		strcpy(cwd, "-");
	if (st.kernel_thread) {
		strcpy(image, "-");
		strcpy(cmdline, "-");
		cmdline_len = 1;
	} else {
		size_t arg0_len;
		cmdline_len = read_command_line(pid, cmdline, PROCESS_CMDLINE_MAX + 1, &arg0_len);
		if (!image[0])
			image_from_argv0(image, sizeof(image), cmdline, arg0_len);
		if (cmdline_len == 0) {
			strcpy(cmdline, "-");
			cmdline_len = 1;
		}
	}
	struct proc_entry *e = new_entry(cache, pid, st.ppid, uid, st.start_boot_ns, image,
					 cmdline, cmdline_len, cwd);
	free(cmdline);
	memcpy(e->info.comm, st.comm, sizeof(st.comm));
	e->info.kernel_thread = st.kernel_thread;
	e->info.from_proc = true;
	return e;
}

static void note_event_time(struct process_cache *cache, int64_t wall_ns)
{
	if (wall_ns > cache->latest_wall_ns)
		cache->latest_wall_ns = wall_ns;
}

/* True if T is more than the grace period before the newest event time. */
static bool past_grace(const struct process_cache *cache, int64_t t)
{
	if (cache->latest_wall_ns == INT64_MIN)
		return false;
	/* In 128 bits: T may be any value a decoder handed us. */
	return (__int128)cache->latest_wall_ns - t > cache->grace_ns;
}

/* Drop exited entries past the grace period, and the oldest ones beyond
 * max_exited less ROOM (places for entries about to be added). */
static void evict_exited(struct process_cache *cache, size_t room)
{
	while (cache->exited_oldest &&
	       (cache->nexited + room > cache->max_exited ||
		past_grace(cache, cache->exited_oldest->info.exit_wall_ns))) {
		remove_entry(cache, cache->exited_oldest);
		cache->evicted++;
	}
}

/* Whether the live entry E no longer names a running process: its pid is
 * gone, or now belongs to a process started after E's image. */
static bool is_stale(const struct process_cache *cache, const struct proc_entry *e)
{
	struct proc_stat st;

	if (read_stat(cache, e->info.pid, &st) != 0)
		return true;
	return st.start_boot_ns > e->info.start_boot_ns;
}

/* Drop live entries whose exit was never reported (lost events), once
 * their number doubles: this bounds memory at O(1) amortised per call.
 * Entries younger than the grace period stay, like exited ones. */
static void sweep_if_needed(struct process_cache *cache)
{
	if (cache->live < cache->sweep_at)
		return;
	for (size_t b = 0; b < cache->nbuckets; b++) {
		struct proc_entry **link = &cache->buckets[b];
		while (*link) {
			struct proc_entry *e = *link;
			if (!e->info.exited && past_grace(cache, e->added_wall_ns) && is_stale(cache, e)) {
				*link = e->hash_next;
				cache->live--;
				cache->swept++;
				free(e);
			} else {
				link = &e->hash_next;
			}
		}
	}
	cache->sweep_at = cache->live * 2 > MIN_SWEEP_AT ? cache->live * 2 : MIN_SWEEP_AT;
}

int process_cache_seed(struct process_cache *cache)
{
	DIR *dir = opendir("/proc");
	if (!dir)
		return -1;
	int added = 0;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		char *end;
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		if (*end || pid == 0 || pid > UINT32_MAX || find(cache, (uint32_t)pid))
			continue;
		struct proc_entry *e = read_entry(cache, (uint32_t)pid);
		if (e) {
			insert_entry(cache, e);
			added++;
		}
	}
	closedir(dir);
	if (cache->live * 2 > cache->sweep_at)
		cache->sweep_at = cache->live * 2;
	return added;
}

const struct process_info *process_cache_exec(struct process_cache *cache, uint32_t pid,
					      uint32_t ppid, uint32_t uid, uint64_t start_boot_ns,
					      const char *image, const char *command_line,
					      const char *cwd)
{
	note_event_time(cache, guid_boot_to_wall_ns(start_boot_ns));
	evict_exited(cache, 0);
	/* Before inserting: the sweep must not see the new entry, whose
	 * process may already be gone. */
	sweep_if_needed(cache);

	if (!command_line)
		command_line = "-";
	size_t clen = strnlen(command_line, PROCESS_CMDLINE_MAX);
	struct proc_entry *e = new_entry(cache, pid, ppid, uid, start_boot_ns, image ? image : "-",
					 command_line, clen, cwd ? cwd : "-");
	insert_entry(cache, e);
	return &e->info;
}

const struct process_info *process_cache_lookup(struct process_cache *cache, uint32_t pid)
{
	struct proc_entry *e = find(cache, pid);

	if (e && !e->info.exited)
		return &e->info;
	if (e) {
		/* Exited: still the answer, unless the pid has been reused
		 * by a process started after this image. */
		struct proc_stat st;
		if (read_stat(cache, pid, &st) != 0 || st.state == 'Z' || st.state == 'X' ||
		    st.start_boot_ns <= e->info.start_boot_ns)
			return &e->info;
		struct proc_entry *fresh = read_entry(cache, pid);
		if (!fresh)
			return &e->info;
		insert_entry(cache, fresh);
		return &fresh->info;
	}

	uint32_t tgid, uid;
	if (read_status(pid, &tgid, &uid) != 0)
		return NULL;
	if (tgid != pid) {
		/* A thread id: the process is its thread group. */
		e = find(cache, tgid);
		if (e)
			return &e->info;
		pid = tgid;
	}
	e = read_entry(cache, pid);
	if (!e)
		return NULL;
	insert_entry(cache, e);
	return &e->info;
}

void process_cache_exit(struct process_cache *cache, uint32_t pid, int64_t exit_wall_ns)
{
	note_event_time(cache, exit_wall_ns);
	struct proc_entry *e = find(cache, pid);
	bool live = e && !e->info.exited;
	/* Evict first, so that the entry being marked survives this call
	 * (the caller may still hold it from a lookup).  An entry already
	 * exited (a second exit of its pid, whose new exec was lost) may be
	 * evicted here: E is not touched then. */
	evict_exited(cache, live ? 1 : 0);
	if (live) {
		e->info.exited = true;
		e->info.exit_wall_ns = exit_wall_ns;
		cache->live--;
		cache->nexited++;
		e->exited_older = cache->exited_newest;
		e->exited_newer = NULL;
		if (cache->exited_newest)
			cache->exited_newest->exited_newer = e;
		else
			cache->exited_oldest = e;
		cache->exited_newest = e;
	}
}

void process_cache_get_stats(const struct process_cache *cache, struct process_cache_stats *stats)
{
	stats->live = cache->live;
	stats->exited = cache->nexited;
	stats->proc_reads = cache->proc_reads;
	stats->evicted = cache->evicted;
	stats->swept = cache->swept;
}
