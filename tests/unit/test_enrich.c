/*
 * Unit tests for the enrichment stage (src/enrich/): GUIDs, user names, the
 * executable hash cache, the process cache and network names.  Real files,
 * real processes and the real /proc: no mocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enrich/guid.h"
#include "enrich/hash_cache.h"
#include "enrich/netnames.h"
#include "enrich/process_cache.h"
#include "enrich/users.h"

/* Above PID_MAX_LIMIT (4194304): no real process can have these. */
#define FAKE_PID 5000000u

static int test_argc;
static char **test_argv;

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void read_link_or_fail(const char *path, char *out, size_t cap)
{
	ssize_t n = readlink(path, out, cap - 1);
	assert_true(n > 0);
	out[n] = '\0';
}

/* Start TIME since boot of PID from /proc/PID/stat field 22, in ns. */
static uint64_t proc_start_ns(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')') + 2;
	for (int field = 3; field < 22; field++)
		p = strchr(p, ' ') + 1;
	return strtoull(p, NULL, 10) * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* ---- GUIDs ---- */

static void test_guid_layout(void **state)
{
	(void)state;
	char out[GUID_TEXT_SIZE], expect[GUID_TEXT_SIZE];
	uint32_t machine = guid_machine_id();

	/* The example of spec 3.6.4, REF's key included. */
	guid_format(out, 0x672d1f03, 0x5581a7c3d000ULL);
	snprintf(expect, sizeof(expect), "{%08x-1f03-672d-00d0-c3a781550000}", machine);
	assert_string_equal(out, expect);

	/* The machine id is the first 8 hex digits of /etc/machine-id. */
	FILE *f = fopen("/etc/machine-id", "r");
	if (f) {
		char id[9] = "";
		if (fread(id, 1, 8, f) == 8)
			assert_int_equal(machine, (uint32_t)strtoul(id, NULL, 16));
		fclose(f);
	}

	/* Key = pid << 32 | ns within the second, little-endian. */
	uint64_t start = 7 * 1000000000ULL + 678;
	guid_format_process(out, 1234, start);
	uint32_t seconds = (uint32_t)(guid_boot_to_wall_ns(start) / 1000000000LL);
	snprintf(expect, sizeof(expect), "{%08x-%04x-%04x-a602-0000d2040000}", machine,
		 seconds & 0xffff, seconds >> 16);
	assert_string_equal(out, expect);
	assert_int_equal(strlen(out), GUID_TEXT_SIZE - 1);
	for (const char *p = out; *p; p++)
		assert_true(strchr("{}-0123456789abcdef", *p) != NULL);
	assert_int_equal(strlen(GUID_ZERO_TEXT), GUID_TEXT_SIZE - 1);

	/* Stable for one image, different for another. */
	char again[GUID_TEXT_SIZE], other[GUID_TEXT_SIZE], other_pid[GUID_TEXT_SIZE];
	guid_format_process(again, 1234, start);
	guid_format_process(other, 1234, start + 1);
	guid_format_process(other_pid, 1235, start);
	assert_string_equal(out, again);
	assert_string_not_equal(out, other);
	assert_string_not_equal(out, other_pid);
}

static void test_guid_clock(void **state)
{
	(void)state;
	int64_t wall = guid_boot_to_wall_ns((uint64_t)clock_ns(CLOCK_BOOTTIME));
	int64_t now = clock_ns(CLOCK_REALTIME);
	assert_true(llabs(now - wall) < 10 * 1000000LL);

	/* The process's own GUID carries its start second. */
	char guid[GUID_TEXT_SIZE];
	uint64_t start = proc_start_ns(getpid());
	guid_format_process(guid, (uint32_t)getpid(), start);
	uint32_t seconds = (uint32_t)(guid_boot_to_wall_ns(start) / 1000000000LL);
	char group[16];
	snprintf(group, sizeof(group), "-%04x-%04x-", seconds & 0xffff, seconds >> 16);
	assert_non_null(strstr(guid, group));
	assert_true(now / 1000000000LL - seconds < 600);
}

static void test_logon(void **state)
{
	(void)state;
	char guid[GUID_TEXT_SIZE], id[11];

	guid_format_logon(guid, 1000, 1);
	assert_string_equal(guid + 20, "e803-000001000000}");
	guid_format_logon(guid, 0, 0);
	assert_string_equal(guid + 20, "0000-000000000000}");
	guid_format_logon_id(id, 0);
	assert_string_equal(id, "0");
	guid_format_logon_id(id, 1000);
	assert_string_equal(id, "1000");
	guid_format_logon_id(id, 100000);
	assert_string_equal(id, "100000");
	guid_format_logon_id(id, UINT32_MAX);
	assert_string_equal(id, "4294967295");
}

/* ---- users ---- */

static void test_users(void **state)
{
	(void)state;
	assert_string_equal(user_name(0), "root");
	assert_string_equal(user_name(0), "root");
	assert_string_equal(user_name(3999999), "3999999");
	assert_string_equal(user_name((uid_t)-2), "4294967294");
	/* A cached name stays readable while other uids are looked up. */
	const char *root = user_name(0);
	for (uid_t uid = 5000000; uid < 5000100; uid++)
		user_name(uid);
	assert_string_equal(root, "root");
	/* Thousands of distinct unknown uids stay bounded and correct. */
	char expect[16];
	for (uid_t uid = 6000000; uid < 6000000 + 3 * USERS_CACHE_SIZE; uid++) {
		snprintf(expect, sizeof(expect), "%u", (unsigned)uid);
		assert_string_equal(user_name(uid), expect);
	}
	assert_string_equal(user_name(0), "root");
}

/* ---- hashes ---- */

/* "ALG=hex" as the coreutils tool TOOL prints it for PATH. */
static void coreutils_hash(const char *tool, const char *label, const char *path, char *out,
			   size_t cap)
{
	char cmd[512], line[256];
	snprintf(cmd, sizeof(cmd), "%s '%s'", tool, path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	line[strcspn(line, " ")] = '\0';
	snprintf(out, cap, "%s=%s", label, line);
}

static void test_hashes_match_coreutils(void **state)
{
	(void)state;
	struct hash_cache *cache = hash_cache_new(16);
	char sha1[320], md5[320], sha256[320], all[1024];
	coreutils_hash("sha1sum", "SHA1", "/bin/true", sha1, sizeof(sha1));
	coreutils_hash("md5sum", "MD5", "/bin/true", md5, sizeof(md5));
	coreutils_hash("sha256sum", "SHA256", "/bin/true", sha256, sizeof(sha256));
	snprintf(all, sizeof(all), "%s,%s,%s", sha1, md5, sha256);

	assert_string_equal(hash_cache_get(cache, "/bin/true", HASH_SHA256), sha256);
	assert_string_equal(hash_cache_get(cache, "/bin/true", HASH_SHA1 | HASH_MD5 | HASH_SHA256),
			    all);
	assert_string_equal(hash_cache_get(cache, "/bin/true",
					   HASH_MD5 | HASH_SHA256 | HASH_IMPHASH),
			    strchr(all, ',') + 1);
	char sha1_md5[660];
	snprintf(sha1_md5, sizeof(sha1_md5), "%s,%s", sha1, md5);
	assert_string_equal(hash_cache_get(cache, "/bin/true", HASH_SHA1 | HASH_MD5), sha1_md5);

	struct hash_cache_stats st;
	hash_cache_get_stats(cache, &st);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.hits, 0);

	/* Second call: from the cache, also through another path to the
	 * same file and through an open descriptor. */
	const char *first = hash_cache_get(cache, "/bin/true", HASH_SHA256);
	assert_string_equal(first, sha256);
	assert_string_equal(hash_cache_get(cache, "/usr/bin/true", HASH_SHA256), sha256);
	int fd = open("/bin/true", O_RDONLY);
	assert_true(fd >= 0);
	assert_string_equal(hash_cache_get_fd(cache, fd, HASH_SHA256), sha256);
	close(fd);
	hash_cache_get_stats(cache, &st);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.entries, 4);
	hash_cache_free(cache);
}

static void write_file(const char *path, const char *text, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_hash_rewritten_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_enrich.XXXXXX", path[128], expect[320];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/prog", dir);
	struct hash_cache *cache = hash_cache_new(16);

	write_file(path, "", O_TRUNC);
	assert_string_equal(hash_cache_get(cache, path, HASH_SHA256),
		"SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	write_file(path, "version one\n", O_TRUNC);
	coreutils_hash("sha256sum", "SHA256", path, expect, sizeof(expect));
	assert_string_equal(hash_cache_get(cache, path, HASH_SHA256), expect);

	/* Same size, rewritten in place (same inode), a few clock ticks
	 * later: the identity's mtime changes. */
	struct stat before, after;
	assert_int_equal(stat(path, &before), 0);
	usleep(30 * 1000);
	write_file(path, "version two\n", 0);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(before.st_size, after.st_size);
	coreutils_hash("sha256sum", "SHA256", path, expect, sizeof(expect));
	assert_string_equal(hash_cache_get(cache, path, HASH_SHA256), expect);

	/* Replaced by rename: a new inode. */
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s/prog.new", dir);
	write_file(tmp, "version three\n", O_TRUNC);
	assert_int_equal(rename(tmp, path), 0);
	coreutils_hash("sha256sum", "SHA256", path, expect, sizeof(expect));
	assert_string_equal(hash_cache_get(cache, path, HASH_SHA256), expect);

	/* Unreadable things are "-", quickly, never a hang. */
	char fifo[160];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_string_equal(hash_cache_get(cache, fifo, HASH_SHA256), "-");
	assert_string_equal(hash_cache_get(cache, "/nonexistent/prog", HASH_SHA256), "-");
	assert_string_equal(hash_cache_get(cache, dir, HASH_SHA256), "-");
	assert_string_equal(hash_cache_get(cache, "/dev/null", HASH_SHA256), "-");
	assert_string_equal(hash_cache_get(cache, "", HASH_SHA256), "-");
	assert_string_equal(hash_cache_get(cache, NULL, HASH_SHA256), "-");
	assert_string_equal(hash_cache_get(cache, path, 0), "-");
	assert_string_equal(hash_cache_get(cache, path, HASH_IMPHASH), "-");
	assert_string_equal(hash_cache_get_fd(cache, -1, HASH_SHA256), "-");
	struct hash_cache_stats st;
	hash_cache_get_stats(cache, &st);
	assert_int_equal(st.failures, 9);

	unlink(fifo);
	unlink(path);
	rmdir(dir);
	hash_cache_free(cache);
}

static void test_hash_cache_bounded(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_enrich.XXXXXX", path[128], text[32];
	assert_non_null(mkdtemp(dir));
	struct hash_cache *cache = hash_cache_new(4);

	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		snprintf(text, sizeof(text), "file %d\n", i);
		write_file(path, text, O_TRUNC);
		const char *h = hash_cache_get(cache, path, HASH_MD5);
		assert_int_equal(strlen(h), strlen("MD5=") + 32);
	}
	struct hash_cache_stats st;
	hash_cache_get_stats(cache, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.misses, 10);
	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		unlink(path);
	}
	rmdir(dir);
	hash_cache_free(cache);
}

/* ---- process cache ---- */

static void test_seed_finds_self_and_parent(void **state)
{
	(void)state;
	struct process_cache *cache = process_cache_new();
	int added = process_cache_seed(cache);
	assert_true(added > 1);

	struct process_cache_stats st;
	process_cache_get_stats(cache, &st);
	assert_int_equal(st.live, (size_t)added);
	assert_int_equal(st.proc_reads, (uint64_t)added);

	const struct process_info *self = process_cache_lookup(cache, (uint32_t)getpid());
	assert_non_null(self);
	char exe[PATH_MAX], cwd[PATH_MAX], cmdline[4096] = "", guid[GUID_TEXT_SIZE];
	read_link_or_fail("/proc/self/exe", exe, sizeof(exe));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	for (int i = 0; i < test_argc; i++) {
		if (i)
			strcat(cmdline, " ");
		strncat(cmdline, test_argv[i], sizeof(cmdline) - strlen(cmdline) - 2);
	}
	assert_int_equal(self->pid, getpid());
	assert_int_equal(self->ppid, getppid());
	assert_int_equal(self->uid, getuid());
	assert_string_equal(self->image, exe);
	assert_string_equal(self->command_line, cmdline);
	assert_string_equal(self->cwd, cwd);
	assert_true(self->from_proc);
	assert_false(self->exited);
	assert_false(self->kernel_thread);
	assert_int_equal(self->start_boot_ns, proc_start_ns(getpid()));
	guid_format_process(guid, (uint32_t)getpid(), proc_start_ns(getpid()));
	assert_string_equal(self->guid, guid);

	/* The parent, started before the "monitor", is fully known. */
	const struct process_info *parent = process_cache_lookup(cache, (uint32_t)getppid());
	assert_non_null(parent);
	char path[64], parent_exe[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)getppid());
	read_link_or_fail(path, parent_exe, sizeof(parent_exe));
	assert_string_equal(parent->image, parent_exe);
	assert_string_not_equal(parent->command_line, "-");
	assert_string_not_equal(parent->guid, GUID_ZERO_TEXT);
	/* Both pointers stay valid together. */
	assert_int_equal(self->pid, getpid());

	/* Seeding again adds only processes started in between (the machine
	 * is not idle), never a second entry for a known one. */
	int again = process_cache_seed(cache);
	assert_true(again >= 0);
	process_cache_get_stats(cache, &st);
	assert_int_equal(st.live, (size_t)(added + again));

	/* Kernel threads: no executable, no argv. */
	const struct process_info *kthreadd = process_cache_lookup(cache, 2);
	if (kthreadd && kthreadd->kernel_thread) {
		assert_string_equal(kthreadd->image, "-");
		assert_string_equal(kthreadd->command_line, "-");
		assert_string_equal(kthreadd->comm, "kthreadd");
	}
	process_cache_free(cache);
}

/* Start `sh -c 'sleep 30; :' zero 'two  words'` and wait until it runs sh
 * with its argv in place (exec sets the exe link before the arguments). */
static pid_t start_shell_child(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "sleep 30; :", "zero", "two  words", (char *)NULL);
		_exit(127);
	}
	char path[64], exe[PATH_MAX], sh[PATH_MAX];
	assert_non_null(realpath("/bin/sh", sh));
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 400; i++) {
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			char cmdline_path[64], buf[64];
			snprintf(cmdline_path, sizeof(cmdline_path), "/proc/%d/cmdline", (int)pid);
			FILE *f = fopen(cmdline_path, "r");
			size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;
			if (f)
				fclose(f);
			if (strcmp(exe, sh) == 0 && len > 0)
				return pid;
		}
		usleep(5000);
	}
	fail_msg("child %d never ran %s", (int)pid, sh);
	return -1;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_lazy_lookup_of_new_child(void **state)
{
	(void)state;
	struct process_cache *cache = process_cache_new();
	assert_true(process_cache_seed(cache) > 0);
	pid_t child = start_shell_child();

	struct process_cache_stats before, after;
	process_cache_get_stats(cache, &before);
	const struct process_info *info = process_cache_lookup(cache, (uint32_t)child);
	assert_non_null(info);
	char sh[PATH_MAX];
	assert_non_null(realpath("/bin/sh", sh));
	assert_string_equal(info->image, sh);
	assert_string_equal(info->command_line, "sh -c sleep 30; : zero two  words");
	assert_int_equal(info->ppid, getpid());
	assert_string_equal(info->comm, "sh");
	process_cache_get_stats(cache, &after);
	assert_int_equal(after.proc_reads, before.proc_reads + 1);

	/* Cached now: no second /proc read, same entry. */
	assert_ptr_equal(process_cache_lookup(cache, (uint32_t)child), info);
	process_cache_get_stats(cache, &after);
	assert_int_equal(after.proc_reads, before.proc_reads + 1);

	stop_child(child);
	/* Unknown and gone: NULL. */
	assert_null(process_cache_lookup(cache, FAKE_PID + 77));
	assert_null(process_cache_lookup(cache, 0));
	process_cache_free(cache);
}

/* Task names and arguments are chosen by the process: a name with ") " in
 * it must not shift the /proc/PID/stat fields, and argument bytes (newlines,
 * markup, invalid UTF-8) are kept as they are. */
static void test_hostile_process_data(void **state)
{
	(void)state;
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t named = fork();
	assert_true(named >= 0);
	if (named == 0) {
		prctl(PR_SET_NAME, "x) 1 2 (y");
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	close(ready[1]);

	pid_t args = fork();
	assert_true(args >= 0);
	if (args == 0) {
		execl("/bin/sh", "sh", "-c", "sleep 30; :", "zero", "a\nb</Data>&\xff\x01", (char *)NULL);
		_exit(127);
	}

	struct process_cache *cache = process_cache_new();
	const struct process_info *info = process_cache_lookup(cache, (uint32_t)named);
	assert_non_null(info);
	assert_string_equal(info->comm, "x) 1 2 (y");
	assert_int_equal(info->ppid, getpid());
	assert_int_equal(info->start_boot_ns, proc_start_ns(named));

	const char *expect = "sh -c sleep 30; : zero a\nb</Data>&\xff\x01";
	for (int i = 0; i < 400; i++) {
		char path[64], buf[256] = "";
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)args);
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
		if (f)
			fclose(f);
		if (n > 3 && memcmp(buf, "sh", 3) == 0)
			break;
		usleep(5000);
	}
	info = process_cache_lookup(cache, (uint32_t)args);
	assert_non_null(info);
	assert_string_equal(info->command_line, expect);

	stop_child(named);
	stop_child(args);
	process_cache_free(cache);
}

static pid_t thread_tid;
static pthread_mutex_t thread_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t thread_cond = PTHREAD_COND_INITIALIZER;
static int thread_release;

static void *thread_body(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&thread_lock);
	thread_tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&thread_cond);
	while (!thread_release)
		pthread_cond_wait(&thread_cond, &thread_lock);
	pthread_mutex_unlock(&thread_lock);
	return NULL;
}

static void test_thread_id_resolves_to_process(void **state)
{
	(void)state;
	struct process_cache *cache = process_cache_new();
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, thread_body, NULL), 0);
	pthread_mutex_lock(&thread_lock);
	while (!thread_tid)
		pthread_cond_wait(&thread_cond, &thread_lock);
	pthread_mutex_unlock(&thread_lock);

	const struct process_info *info = process_cache_lookup(cache, (uint32_t)thread_tid);
	assert_non_null(info);
	assert_int_equal(info->pid, getpid());

	pthread_mutex_lock(&thread_lock);
	thread_release = 1;
	pthread_cond_broadcast(&thread_cond);
	pthread_mutex_unlock(&thread_lock);
	pthread_join(thread, NULL);
	process_cache_free(cache);
}

static void test_exec_replaces_image(void **state)
{
	(void)state;
	struct process_cache *cache = process_cache_new();
	assert_true(process_cache_seed(cache) > 0);
	uint64_t now = (uint64_t)clock_ns(CLOCK_BOOTTIME);
	char guid[GUID_TEXT_SIZE];

	const struct process_info *child = process_cache_exec(
		cache, FAKE_PID, (uint32_t)getpid(), 1000, now, "/usr/bin/true", "true --x", "/tmp");
	assert_non_null(child);
	guid_format_process(guid, FAKE_PID, now);
	assert_string_equal(child->guid, guid);
	assert_string_equal(child->image, "/usr/bin/true");
	assert_string_equal(child->command_line, "true --x");
	assert_string_equal(child->cwd, "/tmp");
	assert_false(child->from_proc);
	assert_ptr_equal(process_cache_lookup(cache, FAKE_PID), child);

	/* The parent's fields for the child's ProcessCreate. */
	const struct process_info *parent = process_cache_lookup(cache, child->ppid);
	assert_non_null(parent);
	assert_int_equal(parent->pid, getpid());
	assert_string_equal(child->image, "/usr/bin/true");

	/* A second exec of the same pid: a new image, a new GUID. */
	char first_guid[GUID_TEXT_SIZE];
	strcpy(first_guid, child->guid);
	child = process_cache_exec(cache, FAKE_PID, (uint32_t)getpid(), 1000, now + 1000,
				   "/usr/bin/env", NULL, NULL);
	assert_string_not_equal(child->guid, first_guid);
	assert_string_equal(child->command_line, "-");
	assert_string_equal(child->cwd, "-");

	/* Over-long command lines are cut, not refused. */
	char *huge = malloc(PROCESS_CMDLINE_MAX * 4);
	memset(huge, 'a', PROCESS_CMDLINE_MAX * 4 - 1);
	huge[PROCESS_CMDLINE_MAX * 4 - 1] = '\0';
	child = process_cache_exec(cache, FAKE_PID + 1, 1, 0, now, "/x", huge, "/");
	assert_int_equal(strlen(child->command_line), PROCESS_CMDLINE_MAX);
	free(huge);
	process_cache_free(cache);
}

static void test_exit_and_grace_period(void **state)
{
	(void)state;
	struct process_cache *cache = process_cache_new();
	const int64_t second = 1000000000LL;
	process_cache_set_limits(cache, second, 100);
	pid_t child = start_shell_child();
	const struct process_info *info = process_cache_lookup(cache, (uint32_t)child);
	assert_non_null(info);
	char guid[GUID_TEXT_SIZE];
	strcpy(guid, info->guid);
	stop_child(child);

	int64_t now = clock_ns(CLOCK_REALTIME);
	process_cache_exit(cache, (uint32_t)child, now);
	/* Late events within the grace period are still attributed. */
	info = process_cache_lookup(cache, (uint32_t)child);
	assert_non_null(info);
	assert_true(info->exited);
	assert_int_equal(info->exit_wall_ns, now);
	assert_string_equal(info->guid, guid);
	struct process_cache_stats st;
	process_cache_get_stats(cache, &st);
	assert_int_equal(st.exited, 1);
	assert_int_equal(st.live, 0);

	/* Events half a second later: still there. */
	process_cache_exit(cache, FAKE_PID + 9, now + second / 2);
	assert_non_null(process_cache_lookup(cache, (uint32_t)child));
	/* Two seconds later the entry has gone, and so has the process. */
	process_cache_exit(cache, FAKE_PID + 9, now + 2 * second);
	assert_null(process_cache_lookup(cache, (uint32_t)child));
	process_cache_get_stats(cache, &st);
	assert_int_equal(st.exited, 0);
	assert_int_equal(st.evicted, 1);

	/* At most max_exited exited entries are kept. */
	process_cache_set_limits(cache, 3600 * second, 2);
	uint64_t boot = (uint64_t)clock_ns(CLOCK_BOOTTIME);
	for (uint32_t i = 0; i < 3; i++)
		process_cache_exec(cache, FAKE_PID + i, 1, 0, boot, "/x", "x", "/");
	for (uint32_t i = 0; i < 3; i++)
		process_cache_exit(cache, FAKE_PID + i, now + 3 * second);
	process_cache_exit(cache, FAKE_PID + 99, now + 3 * second);
	process_cache_get_stats(cache, &st);
	assert_int_equal(st.exited, 2);
	assert_null(process_cache_lookup(cache, FAKE_PID));
	assert_non_null(process_cache_lookup(cache, FAKE_PID + 2));
	process_cache_free(cache);
}

static void test_exited_pid_reused(void **state)
{
	(void)state;
	struct process_cache *cache = process_cache_new();
	pid_t child = start_shell_child();

	/* An exited image that ran under this pid long ago... */
	process_cache_exec(cache, (uint32_t)child, 1, 0, 1000, "/old/image", "old", "/");
	process_cache_exit(cache, (uint32_t)child, clock_ns(CLOCK_REALTIME));
	/* ...and a process started since under the same pid: the lookup
	 * finds the new process. */
	const struct process_info *info = process_cache_lookup(cache, (uint32_t)child);
	assert_non_null(info);
	assert_false(info->exited);
	assert_string_not_equal(info->image, "/old/image");
	assert_int_equal(info->start_boot_ns, proc_start_ns(child));
	stop_child(child);
	process_cache_free(cache);
}

static void test_memory_bounded_without_exits(void **state)
{
	(void)state;
	struct process_cache *cache = process_cache_new();
	process_cache_set_limits(cache, 1000000, 100);
	uint64_t boot = (uint64_t)clock_ns(CLOCK_BOOTTIME);

	/* 20,000 images whose exits were lost. */
	for (uint32_t i = 0; i < 20000; i++)
		process_cache_exec(cache, FAKE_PID + i, 1, 0, boot + (uint64_t)i * 1000000,
				   "/x", "x", "/");
	struct process_cache_stats st;
	process_cache_get_stats(cache, &st);
	assert_true(st.live < 10000);
	assert_true(st.swept > 10000);
	/* The newest are still known. */
	assert_non_null(process_cache_lookup(cache, FAKE_PID + 19999));
	process_cache_free(cache);
}

/* ---- network names ---- */

static void test_netnames(void **state)
{
	(void)state;
	assert_string_equal(port_name(443, "tcp"), "https");
	assert_string_equal(port_name(22, "tcp"), "ssh");
	assert_string_equal(port_name(53, "udp"), "domain");
	assert_string_equal(port_name(443, "tcp"), "https");
	assert_string_equal(port_name(47999, "tcp"), "-");
	assert_string_equal(port_name(443, "sctp"), "-");
	assert_string_equal(port_name(443, NULL), "-");

	char out[46];
	struct in6_addr a6;
	struct in_addr a4;
	assert_int_equal(inet_pton(AF_INET6, "0:0:0:0:0:0:0:1", &a6), 1);
	format_ip(out, AF_INET6, &a6);
	assert_string_equal(out, "::1");
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &a4), 1);
	format_ip(out, AF_INET, &a4);
	assert_string_equal(out, "127.0.0.1");
	assert_int_equal(inet_pton(AF_INET6, "fe80:0:0:0:20c:29ff:fe12:3456", &a6), 1);
	format_ip(out, AF_INET6, &a6);
	assert_string_equal(out, "fe80::20c:29ff:fe12:3456");
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.2.3", &a6), 1);
	format_ip(out, AF_INET6, &a6);
	assert_string_equal(out, "::ffff:10.1.2.3");
	format_ip(out, AF_UNIX, &a6);
	assert_string_equal(out, "-");
	format_ip(out, AF_INET, NULL);
	assert_string_equal(out, "-");

	/* /etc/hosts answers for loopback without any DNS server. */
	assert_string_equal(host_name("127.0.0.1"), "localhost");
	assert_string_equal(host_name("127.0.0.1"), "localhost");
	assert_string_equal(host_name("not an address"), "-");
	assert_string_equal(host_name(""), "-");
	assert_string_equal(host_name(NULL), "-");
}

int main(int argc, char **argv)
{
	test_argc = argc;
	test_argv = argv;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guid_layout),
		cmocka_unit_test(test_guid_clock),
		cmocka_unit_test(test_logon),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_hashes_match_coreutils),
		cmocka_unit_test(test_hash_rewritten_file),
		cmocka_unit_test(test_hash_cache_bounded),
		cmocka_unit_test(test_seed_finds_self_and_parent),
		cmocka_unit_test(test_lazy_lookup_of_new_child),
		cmocka_unit_test(test_hostile_process_data),
		cmocka_unit_test(test_thread_id_resolves_to_process),
		cmocka_unit_test(test_exec_replaces_image),
		cmocka_unit_test(test_exit_and_grace_period),
		cmocka_unit_test(test_exited_pid_reused),
		cmocka_unit_test(test_memory_bounded_without_exits),
		cmocka_unit_test(test_netnames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
