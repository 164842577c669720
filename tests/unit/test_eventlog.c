/*
 * Unit tests for the event log (store/eventlog.c) on real SQLite files in a
 * temporary directory: values survive the compact storage byte for byte,
 * record ids across close/reopen and clear, the size bound while wrapping
 * (respected within one batch, order kept, newest kept), a bound changed by
 * another connection, shrinking, damaged files moved aside, permissions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "output/format.h"
#include "schema/event.h"
#include "store/eventlog.h"

static char dir[256];
static char path[300];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_eventlog.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/logs/events.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[320];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint64_t file_bytes(const char *name)
{
	struct stat st;

	return stat(name, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static struct eventlog *open_log(void)
{
	struct strbuf err = STRBUF_INIT;
	char *damaged = NULL;
	struct eventlog *log = eventlog_open(path, &damaged, &err);

	if (!log)
		fprintf(stderr, "open: %s\n", strbuf_str(&err));
	assert_non_null(log);
	assert_null(damaged);
	strbuf_release(&err);
	return log;
}

/* A ProcessCreate with realistic values; N varies them. */
static void process_create(struct event *ev, unsigned n)
{
	char buf[48];

	event_reset(ev, 1);
	ev->time_ns = 1795675705000000000ll + (int64_t)n * 1000000;
	event_set_str(ev, 1, event_format_utctime(ev->time_ns + 7000000, buf));
	event_setf(ev, 2, "{3d1219c7-d63a-6b07-0984-%012x}", n);
	event_setf(ev, 3, "%u", 20000 + n);
	event_setf(ev, 4, "/usr/bin/tool%u", n % 7);
	event_setf(ev, 10, "tool%u --run %u with some arguments to take room", n % 7, n);
	event_set_str(ev, 11, "/home/user");
	event_set_str(ev, 12, "root");
	event_set_str(ev, 13, "{3d1219c7-0000-0000-0000-000000000000}");
	event_set_str(ev, 14, "0");
	event_set_str(ev, 15, "4294967295");
	event_set_str(ev, 16, "no level");
	event_setf(ev, 17, "SHA256=%064x", n * 2654435761u);
	event_set_str(ev, 18, "{3d1219c7-d639-6b07-9dcb-1f50e8550000}");
	event_set_str(ev, 19, "1");
	event_set_str(ev, 20, "/usr/bin/bash");
	event_set_str(ev, 21, "-bash");
	event_set_str(ev, 22, "root");
}

/* Read every record back, oldest first. */
static size_t read_all(struct eventlog *log, struct event **out)
{
	struct strbuf err = STRBUF_INIT;
	struct eventlog_select sel = { 0 };
	struct eventlog_cursor *cur = eventlog_select(log, &sel, &err);
	size_t n = 0, cap = 0;
	unsigned origin;

	assert_non_null(cur);
	*out = NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			*out = realloc(*out, cap * sizeof(**out));
		}
		event_init(&(*out)[n]);
		int rc = eventlog_next(cur, &(*out)[n], &origin, &err);

		assert_true(rc >= 0);
		if (rc == 0) {
			event_free(&(*out)[n]);
			break;
		}
		n++;
	}
	eventlog_cursor_free(cur);
	strbuf_release(&err);
	return n;
}

static void free_all(struct event *events, size_t n)
{
	for (size_t i = 0; i < n; i++)
		event_free(&events[i]);
	free(events);
}

static void test_values_round_trip(void **state)
{
	(void)state;
	struct eventlog *log = open_log();
	struct event in[4], *out;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct format_context ctx = { 0 };
	unsigned pid, tid;

	for (int i = 0; i < 4; i++)
		event_init(&in[i]);
	process_create(&in[0], 1);
	/* Values the compact forms must not touch: non-canonical numbers and
	 * GUIDs, a UtcTime in another layout, "-", hostile bytes. */
	process_create(&in[1], 2);
	event_set_str(&in[1], 3, "00042");
	event_set_str(&in[1], 2, "{3D1219C7-D63A-6B07-0984-000000000002}");
	event_set_str(&in[1], 1, "2026-11-26 06:48:26.0931");
	event_set(&in[1], 10, "a\0b<&>\"\xff\n", 10);
	event_set_str(&in[1], 21, "-");
	event_set_str(&in[1], 17, "SHA256=6ED8BE340B171BC5F64576CC667311530FAA0DBA9736C5B84F4E8A386458AB6F");
	event_reset(&in[2], 3);
	event_set_str(&in[2], 16, "443");
	event_set_str(&in[2], 4, "/usr/bin/curl");
	event_reset(&in[3], 255);
	event_set_str(&in[3], 2, "log damaged; moved aside");
	for (int i = 0; i < 4; i++)
		assert_int_equal(eventlog_append(log, &in[i]), 0);
	assert_int_equal(in[0].record_id + 3, in[3].record_id);
	/* Hashes in every shape the compact form must give back as written. */
	static const char *const hashes[] = {
		"SHA1=22973940649bdb0982aa47f877f8f0948eb1ff32,MD5=b4d99c80bde0db7fee34827e4c3a5f4c,"
		"SHA256=6ed8be340b171bc5f64576cc667311530faa0dba9736c5b84f4e8a386458ab6f,"
		"IMPHASH=00000000000000000000000000000000",
		"MD5=b4d99c80bde0db7fee34827e4c3a5f4c",
		"SHA256=6ed8be340b171bc5f64576cc667311530faa0dba9736c5b84f4e8a386458ab6f,",
		"SHA256=6ed8be340b171bc5f64576cc667311530faa0dba9736c5b84f4e8a386458ab6",
		"SHA256=6ed8be340b171bc5f64576cc667311530faa0dba9736c5b84f4e8a386458ab6f0",
		"sha256=6ed8be340b171bc5f64576cc667311530faa0dba9736c5b84f4e8a386458ab6f",
		"MD5=b4d99c80bde0db7fee34827e4c3a5f4c,,MD5=b4d99c80bde0db7fee34827e4c3a5f4c",
		"MD5=b4d99c80bde0db7fee34827e4c3a5f4c,MD5=b4d99c80bde0db7fee34827e4c3a5f4c,"
		"MD5=b4d99c80bde0db7fee34827e4c3a5f4c,MD5=b4d99c80bde0db7fee34827e4c3a5f4c,"
		"MD5=b4d99c80bde0db7fee34827e4c3a5f4c,MD5=b4d99c80bde0db7fee34827e4c3a5f4c,"
		"MD5=b4d99c80bde0db7fee34827e4c3a5f4c,MD5=b4d99c80bde0db7fee34827e4c3a5f4c,"
		"MD5=b4d99c80bde0db7fee34827e4c3a5f4c,MD5=b4d99c80bde0db7fee34827e4c3a5f4c",
		"=", "MD5=", "",
	};
	struct event hash_events[sizeof(hashes) / sizeof(hashes[0])];

	for (size_t h = 0; h < sizeof(hashes) / sizeof(hashes[0]); h++) {
		event_init(&hash_events[h]);
		process_create(&hash_events[h], 100 + (unsigned)h);
		event_set_str(&hash_events[h], 17, hashes[h]);
		assert_int_equal(eventlog_append(log, &hash_events[h]), 0);
	}
	assert_true(in[3].time_ns != 0);
	assert_int_equal(eventlog_flush(log), 0);

	size_t n = read_all(log, &out);

	assert_int_equal(n, 4 + sizeof(hashes) / sizeof(hashes[0]));
	for (size_t h = 0; h < sizeof(hashes) / sizeof(hashes[0]); h++) {
		assert_string_equal(event_value(&out[4 + h], 17), hashes[h][0] ? hashes[h] : "");
		event_free(&hash_events[h]);
	}
	n = 4;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].record_id, in[i].record_id);
		assert_int_equal(out[i].time_ns, in[i].time_ns);
		assert_int_equal(out[i].schema->id, in[i].schema->id);
		for (unsigned f = 0; f < in[i].schema->nfields; f++) {
			assert_int_equal(event_value_len(&out[i], (int)f), event_value_len(&in[i], (int)f));
			assert_memory_equal(event_value(&out[i], (int)f), event_value(&in[i], (int)f),
					    event_value_len(&in[i], (int)f));
		}
		/* So the XML rendered from the log is the monitor's. */
		strbuf_reset(&a);
		strbuf_reset(&b);
		eventlog_origin(log, 1, &ctx.computer, &pid, &tid);
		ctx.process_id = pid;
		ctx.thread_id = tid;
		format_xml(&a, &in[i], &ctx);
		format_xml(&b, &out[i], &ctx);
		assert_string_equal(a.data, b.data);
	}
	assert_int_equal(pid, (unsigned)getpid());
	free_all(out, 4 + sizeof(hashes) / sizeof(hashes[0]));
	for (int i = 0; i < 4; i++)
		event_free(&in[i]);
	strbuf_release(&a);
	strbuf_release(&b);
	eventlog_close(log);
}

static uint64_t append_many(struct eventlog *log, unsigned count, unsigned flush_every)
{
	struct event ev;
	uint64_t last = 0;

	event_init(&ev);
	for (unsigned i = 0; i < count; i++) {
		process_create(&ev, i);
		assert_int_equal(eventlog_append(log, &ev), 0);
		assert_true(ev.record_id > last);
		last = ev.record_id;
		if ((i + 1) % flush_every == 0)
			assert_int_equal(eventlog_flush(log), 0);
	}
	assert_int_equal(eventlog_flush(log), 0);
	event_free(&ev);
	return last;
}

static void test_record_ids_across_reopen_and_clear(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = open_log();

	assert_int_equal(append_many(log, 10, 4), 10);
	eventlog_close(log);
	log = open_log();
	assert_int_equal(append_many(log, 5, 4), 15);

	/* Cleared by another connection while this one writes. */
	struct eventlog *admin = eventlog_open_admin(path, false, &err);

	assert_non_null(admin);
	assert_int_equal(eventlog_clear(admin, UINT64_MAX, &err), 0);
	assert_int_equal(append_many(log, 1, 1), 16);
	eventlog_close(log);
	assert_int_equal(eventlog_clear(admin, UINT64_MAX, &err), 0);
	eventlog_close(admin);

	/* Empty log, reopened: ids still go on. */
	log = open_log();
	assert_int_equal(append_many(log, 1, 1), 17);

	struct eventlog_info info;

	assert_int_equal(eventlog_get_info(log, &info, &err), 0);
	assert_int_equal(info.records, 1);
	assert_int_equal(info.first_record_id, 17);
	assert_int_equal(info.next_record_id, 18);
	eventlog_close(log);
	strbuf_release(&err);
}

/* Records are contiguous, in id order, ending at LAST. */
static size_t check_contiguous(struct eventlog *log, uint64_t last)
{
	struct event *out;
	size_t n = read_all(log, &out);

	assert_true(n > 0);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(out[i].record_id, out[i - 1].record_id + 1);
	assert_int_equal(out[n - 1].record_id, last);
	free_all(out, n);
	return n;
}

static void test_retention_wraps_within_bound(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = open_log();
	const uint64_t bound = 1u << 20;
	const unsigned batch = 500;
	struct eventlog_info info;
	uint64_t last = 0, written = 0;

	assert_int_equal(eventlog_set_max_size(log, bound, &err), 0);
	assert_int_equal(eventlog_max_size(log), bound);
	/* About ten times the bound, checking after every batch. */
	for (int round = 0; round < 60; round++) {
		last = append_many(log, batch, batch);
		written += batch;
		/* A batch of 500 of these records is ~200 KB. */
		assert_true(file_bytes(path) <= bound + 256 * 1024);
	}
	assert_int_equal(last, written);
	assert_int_equal(eventlog_get_info(log, &info, &err), 0);
	assert_true(info.records < written / 5);
	assert_true(info.used_bytes <= bound);
	/* Not much more than needed was dropped: the log stays nearly full. */
	assert_true(info.used_bytes >= bound * 3 / 4);
	assert_int_equal(check_contiguous(log, last), info.records);
	eventlog_close(log);
	strbuf_release(&err);
}

static void test_bound_changed_by_another_connection(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = open_log();
	struct eventlog_info info;

	assert_int_equal(eventlog_set_max_size(log, 4u << 20, &err), 0);
	uint64_t last = append_many(log, 9000, 1000);   /* ~3.5 MB */

	assert_int_equal(eventlog_get_info(log, &info, &err), 0);
	assert_int_equal(info.records, 9000);

	/* `sysmon log set` while the monitor runs: the admin applies it at
	 * once, the writer keeps to it at its next flushes. */
	struct eventlog *admin = eventlog_open_admin(path, false, &err);

	assert_non_null(admin);
	assert_int_equal(eventlog_set_max_size(admin, 1u << 20, &err), 0);
	eventlog_close(admin);
	assert_true(file_bytes(path) <= 1u << 20);
	assert_int_equal(eventlog_get_info(log, &info, &err), 0);
	assert_true(info.used_bytes >= (1u << 20) * 3 / 4);   /* what fits is kept */
	assert_int_equal(check_contiguous(log, last), info.records);

	last = append_many(log, 3000, 300);
	assert_int_equal(eventlog_max_size(log), 1u << 20);
	assert_true(file_bytes(path) <= (1u << 20) + 256 * 1024);
	assert_int_equal(eventlog_get_info(log, &info, &err), 0);
	assert_true(info.used_bytes >= (1u << 20) * 3 / 4);   /* what fits is kept */
	check_contiguous(log, last);

	/* Growing it again keeps everything. */
	assert_int_equal(eventlog_set_max_size(log, 8u << 20, &err), 0);
	uint64_t before = info.records;

	last = append_many(log, 2000, 500);
	assert_int_equal(eventlog_get_info(log, &info, &err), 0);
	assert_int_equal(info.records, before + 2000);
	check_contiguous(log, last);

	/* Refused: below the minimum. */
	assert_int_equal(eventlog_set_max_size(log, 1000, &err), -1);
	assert_true(strstr(strbuf_str(&err), "at least") != NULL);
	eventlog_close(log);
	strbuf_release(&err);
}

static void test_backup_then_clear(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = open_log();
	char backup[320];
	uint64_t up_to = 0;

	append_many(log, 100, 50);
	snprintf(backup, sizeof(backup), "%s/backup.db", dir);
	assert_int_equal(eventlog_backup(log, backup, &up_to, &err), 0);
	assert_int_equal(up_to, 100);
	/* Never over an existing file. */
	assert_int_equal(eventlog_backup(log, backup, NULL, &err), -1);
	append_many(log, 10, 10);
	assert_int_equal(eventlog_clear(log, up_to, &err), 0);
	assert_int_equal(check_contiguous(log, 110), 10);

	struct eventlog *copy = eventlog_open_readonly(backup, &err);

	assert_non_null(copy);
	assert_int_equal(check_contiguous(copy, 100), 100);
	eventlog_close(copy);
	eventlog_close(log);
	strbuf_release(&err);
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_damaged_file_moved_aside(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	char *damaged = NULL;
	char logs[300];

	snprintf(logs, sizeof(logs), "%s/logs", dir);
	mkdir(logs, 0700);
	write_file(path, "this is not a database, but it is the admin's data\n");

	/* Readers and the admin refuse it and leave it alone. */
	assert_null(eventlog_open_readonly(path, &err));
	assert_true(strstr(strbuf_str(&err), "not an event log") != NULL);
	strbuf_reset(&err);
	assert_null(eventlog_open_admin(path, false, &err));
	assert_true(file_bytes(path) > 0);

	/* The monitor moves it aside and starts a new log. */
	struct eventlog *log = eventlog_open(path, &damaged, &err);

	assert_non_null(log);
	assert_non_null(damaged);
	assert_true(strncmp(damaged, path, strlen(path)) == 0);
	assert_true(strstr(damaged, ".damaged-") != NULL);
	assert_int_equal(file_bytes(damaged), strlen("this is not a database, but it is the admin's data\n"));
	assert_int_equal(append_many(log, 3, 3), 3);
	eventlog_close(log);
	free(damaged);

	/* A database that is not ours is moved aside too. */
	sqlite3 *db;

	assert_int_equal(unlink(path), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE customers(name)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	strbuf_reset(&err);
	assert_null(eventlog_open_readonly(path, &err));
	assert_true(strstr(strbuf_str(&err), "not a sysmon event log") != NULL);
	damaged = NULL;
	log = eventlog_open(path, &damaged, &err);
	assert_non_null(log);
	assert_non_null(damaged);
	assert_int_equal(append_many(log, 200, 200), 200);
	eventlog_close(log);
	free(damaged);

	/* A damaged log whose meta page is still readable: ids go on, the
	 * bound stays. */
	log = open_log();
	assert_int_equal(eventlog_set_max_size(log, 2u << 20, &err), 0);
	eventlog_close(log);
	int fd = open(path, O_WRONLY);
	char junk[4096];

	memset(junk, 0xa5, sizeof(junk));
	for (off_t at = 6 * 4096; at < 60 * 4096; at += 4096)
		assert_int_equal(pwrite(fd, junk, sizeof(junk), at), (ssize_t)sizeof(junk));
	close(fd);
	damaged = NULL;
	strbuf_reset(&err);
	log = eventlog_open(path, &damaged, &err);
	assert_non_null(log);
	assert_non_null(damaged);
	assert_int_equal(append_many(log, 1, 1), 201);
	assert_int_equal(eventlog_max_size(log), 2u << 20);
	eventlog_close(log);
	free(damaged);

	/* A truncated (corrupt) log. */
	assert_int_equal(truncate(path, 1024 + 100), 0);
	damaged = NULL;
	strbuf_reset(&err);
	log = eventlog_open(path, &damaged, &err);
	assert_non_null(log);
	assert_non_null(damaged);
	eventlog_close(log);
	free(damaged);

	/* Missing file: readers get a clear message. */
	char other[320];

	snprintf(other, sizeof(other), "%s/missing.db", dir);
	strbuf_reset(&err);
	assert_null(eventlog_open_readonly(other, &err));
	assert_true(strstr(strbuf_str(&err), "no event log") != NULL);
	strbuf_release(&err);
}

/* A damaged log whose -wal cannot follow it aside stays where it is: a new
 * log must not start beside the old write-ahead log. */
static void test_damaged_wal_cannot_move(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	char wal[320], blocker[400], stamp[32], junk[4096];
	char *damaged = NULL;
	struct eventlog *log = open_log();
	sqlite3 *holder;

	assert_int_equal(append_many(log, 200, 200), 200);
	eventlog_close(log);
	/* A reader keeps the -wal in place; then the file is damaged. */
	assert_int_equal(sqlite3_open(path, &holder), SQLITE_OK);
	assert_int_equal(sqlite3_exec(holder, "SELECT count(*) FROM meta", NULL, NULL, NULL), SQLITE_OK);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_int_equal(access(wal, F_OK), 0);
	int fd = open(path, O_WRONLY);

	memset(junk, 0xa5, sizeof(junk));
	for (off_t at = 6 * 4096; at < 60 * 4096; at += 4096)
		assert_int_equal(pwrite(fd, junk, sizeof(junk), at), (ssize_t)sizeof(junk));
	close(fd);
	uint64_t bytes = file_bytes(path);
	/* A directory where the -wal would go (for this second and the next
	 * two, so the move cannot slip past it): renaming a file onto it fails. */
	time_t now = time(NULL);

	for (int s = 0; s < 3; s++) {
		time_t at = now + s;
		struct tm tm;

		gmtime_r(&at, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(blocker, sizeof(blocker), "%s.damaged-%s-wal", path, stamp);
		assert_int_equal(mkdir(blocker, 0700), 0);
	}
	assert_null(eventlog_open(path, &damaged, &err));
	assert_null(damaged);
	assert_non_null(strstr(strbuf_str(&err), "write-ahead log cannot be moved aside"));
	assert_int_equal(file_bytes(path), bytes);
	assert_int_equal(access(wal, F_OK), 0);
	sqlite3_close(holder);
	strbuf_release(&err);   /* teardown removes the files */
}

static void test_damaged_while_in_use(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = open_log();

	assert_int_equal(eventlog_set_max_size(log, 8u << 20, &err), 0);
	append_many(log, 8000, 1000);   /* ~3 MB */
	eventlog_close(log);
	log = open_log();

	/* Damage the oldest records' pages behind the writer's back (not in
	 * its cache), and lower the bound so the next flush must read them. */
	int fd = open(path, O_WRONLY);
	char junk[4096];

	memset(junk, 0xa5, sizeof(junk));
	for (off_t at = 8 * 4096; at < 200 * 4096; at += 4096)
		assert_int_equal(pwrite(fd, junk, sizeof(junk), at), (ssize_t)sizeof(junk));
	close(fd);
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "UPDATE meta SET value = 1048576 WHERE key = 'max_size'", NULL, NULL, NULL);
	sqlite3_close(db);

	struct event ev;

	event_init(&ev);
	process_create(&ev, 1);
	assert_int_equal(eventlog_append(log, &ev), 0);
	assert_int_equal(ev.record_id, 8001);
	/* Reported (the monitor writes an Error event), nothing lost. */
	assert_int_equal(eventlog_flush(log), -1);
	assert_non_null(strstr(eventlog_error(log), "was damaged; it was moved to"));
	assert_int_equal(append_many(log, 10, 5), 8011);
	assert_int_equal(check_contiguous(log, 8011), 11);
	assert_int_equal(eventlog_max_size(log), 1u << 20);
	eventlog_close(log);
	event_free(&ev);

	/* The damaged file is kept beside the new log. */
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "ls '%s'/logs/events.db.damaged-* >/dev/null 2>&1", dir);
	assert_int_equal(system(cmd), 0);
	strbuf_release(&err);
}

static void test_log_from_an_older_build(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = open_log();
	struct event *out;
	sqlite3 *db;

	append_many(log, 3, 3);
	eventlog_close(log);
	/* A build whose catalogue had no ParentUser yet. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE events DROP COLUMN ParentUser", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	struct eventlog *reader = eventlog_open_readonly(path, &err);

	assert_non_null(reader);
	assert_int_equal(read_all(reader, &out), 3);
	assert_string_equal(event_value(&out[0], 22), "-");
	assert_string_equal(event_value(&out[0], 20), "/usr/bin/bash");
	free_all(out, 3);
	eventlog_close(reader);

	/* The monitor's open adds the column back. */
	log = open_log();
	append_many(log, 1, 1);
	assert_int_equal(read_all(log, &out), 4);
	assert_string_equal(event_value(&out[3], 22), "root");
	free_all(out, 4);
	eventlog_close(log);
	strbuf_release(&err);
}

static void append_at(struct eventlog *log, const int64_t *times, size_t n)
{
	struct event ev;

	event_init(&ev);
	for (size_t i = 0; i < n; i++) {
		process_create(&ev, (unsigned)i);
		ev.time_ns = times[i];
		assert_int_equal(eventlog_append(log, &ev), 0);
	}
	assert_int_equal(eventlog_flush(log), 0);
	event_free(&ev);
}

static void test_time_window(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = open_log();
	uint64_t after, up_to;
	int64_t t;

	/* Times out of order inside and across batches (a new connection
	 * starts a new batches row; small batches of one connection share one). */
	append_at(log, (const int64_t[]){ 100, 300, 200 }, 3);    /* ids 1-3 */
	eventlog_close(log);
	log = open_log();
	append_at(log, (const int64_t[]){ 50, 400 }, 2);          /* ids 4-6 */
	append_at(log, (const int64_t[]){ 60 }, 1);
	eventlog_close(log);
	log = open_log();
	append_at(log, (const int64_t[]){ 500, 600, 700 }, 3);    /* ids 7-9 */
	sqlite3 *db;
	sqlite3_stmt *stmt;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT group_concat(first_id || '-' || last_id, ' ') FROM batches",
					    -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "1-3 4-6 7-9");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	t = 350;
	assert_int_equal(eventlog_time_window(log, &t, NULL, &after, &up_to), 0);
	assert_int_equal(after, 3);   /* id 5 (400) is in the second batch */
	assert_int_equal(up_to, 0);
	t = 100;
	assert_int_equal(eventlog_time_window(log, NULL, &t, &after, &up_to), 0);
	assert_int_equal(after, 0);
	assert_int_equal(up_to, 6);   /* ids 4 and 6 are early */
	t = 800;
	assert_int_equal(eventlog_time_window(log, &t, NULL, &after, &up_to), 1);
	t = 10;
	assert_int_equal(eventlog_time_window(log, NULL, &t, &after, &up_to), 1);

	/* Cleared records take their batches along; the window follows. */
	assert_int_equal(eventlog_clear(log, 3, &err), 0);
	t = 0;
	assert_int_equal(eventlog_time_window(log, &t, NULL, &after, &up_to), 0);
	assert_int_equal(after, 3);

	/* Records without a batch row (a log from before the table): no
	 * narrowing rather than a wrong one. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM batches WHERE first_id = 4", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	t = 350;
	assert_int_equal(eventlog_time_window(log, &t, NULL, &after, &up_to), 0);
	assert_int_equal(after, 0);
	eventlog_close(log);
	strbuf_release(&err);
}

static void test_permissions(void **state)
{
	(void)state;
	struct eventlog *log = open_log();
	struct stat st;
	char logs[300], wal[320];

	append_many(log, 1, 1);
	snprintf(logs, sizeof(logs), "%s/logs", dir);
	assert_int_equal(stat(logs, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	eventlog_close(log);
}

static void test_reader_sees_snapshot_while_writer_writes(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = open_log();

	append_many(log, 100, 100);
	struct eventlog *reader = eventlog_open_readonly(path, &err);
	struct eventlog_select sel = { 0 };
	struct eventlog_cursor *cur = eventlog_select(reader, &sel, &err);
	struct event ev;
	unsigned origin;
	size_t n = 0;

	assert_non_null(cur);
	event_init(&ev);
	assert_int_equal(eventlog_next(cur, &ev, &origin, &err), 1);
	n++;
	/* The writer commits (and wraps nothing) while the read is open. */
	append_many(log, 50, 50);
	while (eventlog_next(cur, &ev, &origin, &err) == 1)
		n++;
	assert_int_equal(n, 100);
	eventlog_cursor_free(cur);
	event_free(&ev);
	eventlog_close(reader);
	eventlog_close(log);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_values_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_ids_across_reopen_and_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_wraps_within_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_changed_by_another_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_then_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_file_moved_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_wal_cannot_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_while_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_from_an_older_build, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_sees_snapshot_while_writer_writes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
