/*
 * The event log (see eventlog.h): SQLite in WAL mode, one wide table.  This
 * part opens, checks and closes connections; eventlog_internal.h lists the
 * other parts.
 *
 * Storage, chosen for bytes per event and query speed:
 *  - `events`: EventRecordID INTEGER PRIMARY KEY (the rowid, so record id
 *    order is the table's order), EventID, TimeCreated (ns), Origin, then one
 *    untyped nullable column per distinct field name of the catalogue (names
 *    that differ only in case, SourceProcessGuid/SourceProcessGUID, share a
 *    column: SQL names are case-insensitive and no event has both).  A field
 *    an event does not have, or whose value is "-" or unset, is NULL: one
 *    header byte.  Values are stored compactly when that is exact, verified
 *    by decoding back to the same bytes, else as text:
 *      canonical decimal numbers (ProcessId, ports...)   INTEGER
 *      lower-case braced GUIDs                           16-byte BLOB
 *      Hashes "SHA1=..,MD5=..,SHA256=.." (lower hex)     BLOB of the digests
 *      UtcTime-style times                               INTEGER ms relative
 *                                                        to TimeCreated
 *    Equal stored values therefore mean equal texts (except the relative
 *    times), so SQL can compare and group on them.
 *  - One index, (EventID), for event-id filters.  Everything else scans in
 *    record id order: a scan reads ~1M records in well under a second, and
 *    each further index costs ingest speed (an index on Image halved it) and
 *    bytes.
 *  - `batches`: the id range and time range of every committed batch, so a
 *    time filter reads only the batches that can hold matching records
 *    (exact: times need not be monotonic; eventlog_time_window()).
 *  - `origins`: who wrote a record (computer, pid, tid of the <System>
 *    element); one row per monitor start, one small integer per record.
 *  - `meta`: max_size (the bound; `sysmon log set` writes it, the monitor
 *    reads it inside every flush transaction, so a change applies at the
 *    next flush) and next_record_id (written in the same transaction as
 *    the records: ids survive restarts and clears, and committed ids have no
 *    gaps; a batch lost in a crash was never in the log, and its ids are
 *    handed out again after the restart).
 *
 * Writing: eventlog_append() copies the event into an in-memory batch (so the
 * write lock is held only while flushing, and `sysmon log set/clear` get
 * their turn); eventlog_flush() inserts the batch in one transaction, then
 * enforces the bound in the same transaction: when the pages in use
 * (page_count - freelist_count) pass bound - slack (slack = bound/64), the
 * oldest records are deleted down to bound - 2*slack, in id order.  Freed
 * pages are reused by the next batches (no VACUUM on the hot path), so the
 * file grows beyond the bound only if one batch is larger than the slack.
 * The database uses incremental auto-vacuum so that a smaller bound (or a
 * clear) can shrink the file without rewriting it.  The write-ahead log
 * beside it is kept to a fraction of the bound (eventlog_fit_wal_to_bound).
 * synchronous=NORMAL: a crash loses at most the last batches, never
 * consistency.
 *
 * Damage: the monitor's open checks the file (header, our tables, and
 * quick_check for files up to 256 MiB, which reads them whole); a damaged
 * file is renamed PATH.damaged-<UTC time> (its -wal too, so nothing is ever
 * deleted) and a new log started.  A log that SQLite finds corrupt while the
 * monitor writes is replaced the same way at that flush, the batch going
 * into the new log with the next record ids.  At open, the next id and the
 * bound are salvaged from the damaged file when SQLite can still read them.
 */
#include "store/eventlog_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FORMAT_VERSION 1
#define BUSY_TIMEOUT_MS 10000
#define MONITOR_BUSY_TIMEOUT_MS 1000
#define CHECK_MAX_BYTES (256ull << 20)

void eventlog_set_error(struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	strbuf_vprintf(err, fmt, ap);
	va_end(ap);
}

int eventlog_exec(struct eventlog *log, const char *sql, struct strbuf *err)
{
	char *msg = NULL;

	if (sqlite3_exec(log->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		eventlog_set_error(err, "%s: %s", log->path, msg ? msg : sqlite3_errmsg(log->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int64_t eventlog_pragma_int(struct eventlog *log, const char *sql)
{
	sqlite3_stmt *stmt;
	int64_t v = -1;

	if (sqlite3_prepare_v2(log->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

int64_t eventlog_meta_get(struct eventlog *log, const char *key, int64_t fallback)
{
	int64_t v = fallback;

	sqlite3_reset(log->get_meta);
	sqlite3_bind_text(log->get_meta, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(log->get_meta) == SQLITE_ROW)
		v = sqlite3_column_int64(log->get_meta, 0);
	sqlite3_reset(log->get_meta);
	return v;
}

int eventlog_meta_put(struct eventlog *log, const char *key, int64_t value)
{
	sqlite3_reset(log->put_meta);
	sqlite3_bind_text(log->put_meta, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(log->put_meta, 2, value);
	int rc = sqlite3_step(log->put_meta);

	sqlite3_reset(log->put_meta);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int create_schema(struct eventlog *log, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	int rc;

	strbuf_puts(&sql, "BEGIN IMMEDIATE;"
		    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
		    "CREATE TABLE IF NOT EXISTS origins(id INTEGER PRIMARY KEY, computer TEXT NOT NULL,"
		    " process_id INTEGER, thread_id INTEGER);"
		    "CREATE TABLE IF NOT EXISTS batches(first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL,"
		    " min_time INTEGER NOT NULL, max_time INTEGER NOT NULL);"
		    "CREATE TABLE IF NOT EXISTS events(EventRecordID INTEGER PRIMARY KEY,"
		    " EventID INTEGER NOT NULL, TimeCreated INTEGER NOT NULL, Origin INTEGER NOT NULL");
	for (int c = 0; c < eventlog_catalogue.ncolumns; c++)
		strbuf_printf(&sql, ", %s", eventlog_catalogue.columns[c].quoted);
	strbuf_printf(&sql, ");"
		      "CREATE INDEX IF NOT EXISTS events_by_event ON events(EventID);"
		      "INSERT OR IGNORE INTO meta VALUES('format_version', %d);"
		      "INSERT OR IGNORE INTO meta VALUES('max_size', %llu);"
		      "INSERT OR IGNORE INTO meta VALUES('next_record_id', 1);"
		      "COMMIT;", FORMAT_VERSION, EVENTLOG_DEFAULT_MAX_SIZE);
	rc = eventlog_exec(log, sql.data, err);
	strbuf_release(&sql);
	if (rc < 0)
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Columns the catalogue gained since the file was made. */
/* Which catalogue columns the file's table has (a log written by an older
 * build may lack some). */
static int find_columns(struct eventlog *log, struct strbuf *err)
{
	sqlite3_stmt *stmt;

	memset(log->column_present, 0, sizeof(log->column_present));
	if (sqlite3_prepare_v2(log->db, "PRAGMA table_info(events)", -1, &stmt, NULL) != SQLITE_OK) {
		eventlog_set_error(err, "%s: %s", log->path, sqlite3_errmsg(log->db));
		return -1;
	}
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 1);

		for (int c = 0; name && c < eventlog_catalogue.ncolumns; c++)
			if (strcasecmp(name, eventlog_catalogue.columns[c].name) == 0)
				log->column_present[c] = true;
	}
	sqlite3_finalize(stmt);
	return 0;
}

static int add_missing_columns(struct eventlog *log, struct strbuf *err)
{
	if (find_columns(log, err) < 0)
		return -1;
	for (int c = 0; c < eventlog_catalogue.ncolumns; c++) {
		if (log->column_present[c])
			continue;
		char sql[128];

		snprintf(sql, sizeof(sql), "ALTER TABLE events ADD COLUMN %s", eventlog_catalogue.columns[c].quoted);
		if (eventlog_exec(log, sql, err) < 0)
			return -1;
		log->column_present[c] = true;
	}
	return 0;
}

/* Is the open database one of our logs, undamaged?  0 yes, 1 no (with the
 * reason in ERR), -1 on an error that says nothing about the file (busy). */
static int check_database(struct eventlog *log, bool thorough, struct strbuf *err)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(log->db,
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('events', 'meta', 'origins')",
		-1, &stmt, NULL);
	int tables = 0, all = 0;

	if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
		tables = sqlite3_column_int(stmt, 0);
	rc = sqlite3_extended_errcode(log->db);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		eventlog_set_error(err, "%s: %s", log->path, sqlite3_errstr(rc));
		return -1;
	}
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) {
		eventlog_set_error(err, "%s: not an event log: %s", log->path, sqlite3_errstr(rc));
		return 1;
	}
	all = (int)eventlog_pragma_int(log, "SELECT count(*) FROM sqlite_master");
	if (all < 0) {
		eventlog_set_error(err, "%s: not an event log: %s", log->path, sqlite3_errmsg(log->db));
		return 1;
	}
	if (all == 0)
		return 0;   /* empty: a new log */
	if (tables != 3) {
		eventlog_set_error(err, "%s: an SQLite database, but not a sysmon event log", log->path);
		return 1;
	}
	if (thorough) {
		if (sqlite3_prepare_v2(log->db, "PRAGMA quick_check(1)", -1, &stmt, NULL) != SQLITE_OK) {
			eventlog_set_error(err, "%s: damaged: %s", log->path, sqlite3_errmsg(log->db));
			return 1;
		}
		rc = sqlite3_step(stmt);
		bool ok = rc == SQLITE_ROW &&
			strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") == 0;
		if (!ok)
			eventlog_set_error(err, "%s: damaged: %s", log->path,
					   rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0)
							    : sqlite3_errmsg(log->db));
		sqlite3_finalize(stmt);
		return ok ? 0 : 1;
	}
	return 0;
}

static int make_parent_directory(const char *path, struct strbuf *err)
{
	char *copy = xstrdup(path);
	char *dir = dirname(copy);
	struct stat st;
	int rc = 0;

	if (stat(dir, &st) != 0) {
		/* Create each missing level, root only: the log says what ran. */
		for (char *p = dir + 1; ; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char saved = *p;

			*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
				eventlog_set_error(err, "cannot create directory %s: %s", dir, strerror(errno));
				rc = -1;
				break;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	free(copy);
	return rc;
}

void eventlog_disconnect(struct eventlog *log)
{
	eventlog_cursor_free(log->by_id);
	log->by_id = NULL;
	for (int i = 0; i < MAX_EVENT_ID; i++) {
		sqlite3_finalize(log->insert[i]);
		log->insert[i] = NULL;
	}
	sqlite3_finalize(log->get_meta);
	sqlite3_finalize(log->put_meta);
	log->get_meta = log->put_meta = NULL;
	sqlite3_close(log->db);
	log->db = NULL;
}

static void free_log(struct eventlog *log)
{
	if (!log)
		return;
	eventlog_disconnect(log);
	for (size_t i = 0; i < log->batch_cap; i++)
		event_free(&log->batch[i]);
	free(log->batch);
	for (size_t i = 0; i < log->norigins; i++)
		free(log->origins[i].computer);
	free(log->origins);
	free(log->self.computer);
	strbuf_release(&log->error);
	free(log->path);
	free(log);
}

static int open_connection(struct eventlog *log, int flags, struct strbuf *err)
{
	int rc = sqlite3_open_v2(log->path, &log->db, flags, NULL);

	if (rc != SQLITE_OK) {
		eventlog_set_error(err, "%s: cannot open: %s", log->path,
				   log->db ? sqlite3_errmsg(log->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(log->db, 1);
	sqlite3_busy_timeout(log->db, BUSY_TIMEOUT_MS);
	return 0;
}

/* Move PATH (and its -wal) aside as PATH.damaged-<time>; the -shm is only
 * an index of the -wal and is removed. */
char *eventlog_move_aside(const char *path, struct strbuf *err)
{
	char stamp[32], *moved = NULL;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int n = 0; n < 100 && !moved; n++) {
		struct strbuf name = STRBUF_INIT;
		struct stat st;

		strbuf_printf(&name, "%s.damaged-%s", path, stamp);
		if (n)
			strbuf_printf(&name, ".%d", n);
		if (stat(name.data, &st) == 0) {
			strbuf_release(&name);
			continue;
		}
		moved = name.data;
	}
	if (!moved || rename(path, moved) != 0) {
		eventlog_set_error(err, "%s: damaged, and cannot be moved aside: %s", path, strerror(errno));
		free(moved);
		return NULL;
	}
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;

	strbuf_printf(&from, "%s-wal", path);
	strbuf_printf(&to, "%s-wal", moved);
	if (rename(from.data, to.data) != 0 && errno != ENOENT) {
		/* A new log must not start beside the old one's -wal (SQLite
		 * would replay it into the new file): put the log back. */
		eventlog_set_error(err, "%s: damaged, and its write-ahead log cannot be moved aside: %s",
				   path, strerror(errno));
		if (rename(moved, path) != 0)
			eventlog_set_error(err, " (the log itself is now %s)", moved);
		strbuf_release(&from);
		strbuf_release(&to);
		free(moved);
		return NULL;
	}
	strbuf_reset(&from);
	strbuf_printf(&from, "%s-shm", path);
	unlink(from.data);
	strbuf_release(&from);
	strbuf_release(&to);
	return moved;
}

static int prepare_writer(struct eventlog *log, struct strbuf *err)
{
	if (sqlite3_prepare_v3(log->db, "SELECT value FROM meta WHERE key = ?", -1,
			       SQLITE_PREPARE_PERSISTENT, &log->get_meta, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(log->db, "INSERT OR REPLACE INTO meta VALUES(?, ?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &log->put_meta, NULL) != SQLITE_OK) {
		eventlog_set_error(err, "%s: %s", log->path, sqlite3_errmsg(log->db));
		return -1;
	}
	log->page_size = (unsigned)eventlog_pragma_int(log, "PRAGMA page_size");
	log->max_size = (uint64_t)eventlog_meta_get(log, "max_size", (int64_t)EVENTLOG_DEFAULT_MAX_SIZE);
	int64_t next = eventlog_meta_get(log, "next_record_id", 1);
	int64_t last = eventlog_pragma_int(log, "SELECT coalesce(max(EventRecordID), 0) FROM events");

	log->next_record_id = (uint64_t)(next > last ? next : last + 1);
	return 0;
}

/* The write-ahead log is on disk next to the log: keep it a fraction of
 * the bound (checkpoint after bound/16, truncate back to bound/8 after a
 * checkpoint), and at most SQLite's default 1000 pages between checkpoints. */
void eventlog_fit_wal_to_bound(struct eventlog *log)
{
	int64_t pages = (int64_t)(log->max_size / log->page_size / 16);
	char sql[64];

	if (pages > 1000)
		pages = 1000;
	if (pages < 16)
		pages = 16;
	sqlite3_wal_autocheckpoint(log->db, (int)pages);
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %" PRIu64, log->max_size / 8);
	sqlite3_exec(log->db, sql, NULL, NULL, NULL);
}

static void default_origin(struct eventlog *log)
{
	char host[256] = "localhost";

	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	log->self.computer = xstrdup(host);
	log->self.process_id = (unsigned)getpid();
	log->self.thread_id = (unsigned)gettid();
}

/* Connect LOG (its path set, no connection) for writing: create the file if
 * allowed, move a damaged one aside if REPAIR, set up the schema. */
int eventlog_connect_writer(struct eventlog *log, bool create, bool repair, char **damaged,
				   struct strbuf *err)
{
	const char *path = log->path;
	struct stat st;

	if (stat(path, &st) != 0) {
		if (!create) {
			eventlog_set_error(err, "%s: no event log there (%s)", path, strerror(errno));
			return -1;
		}
		if (make_parent_directory(path, err) < 0)
			return -1;
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

		if (fd < 0) {
			eventlog_set_error(err, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
		close(fd);
	} else if (!S_ISREG(st.st_mode)) {
		eventlog_set_error(err, "%s: not a regular file", path);
		return -1;
	}

	/* A full check reads the whole file: at the monitor's start, for
	 * logs up to CHECK_MAX_BYTES (a larger one is checked as it is used). */
	bool thorough = repair && (uint64_t)st.st_size <= CHECK_MAX_BYTES;
	int64_t salvaged_next = -1, salvaged_max_size = -1;

	for (int attempt = 0; ; attempt++) {
		struct strbuf why = STRBUF_INIT;

		/* One thread uses a connection at a time (the monitor's writer
		 * thread, or a command): no SQLite mutexes. */
		if (open_connection(log, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, err) < 0)
			return -1;
		int state = check_database(log, thorough, &why);

		if (state == 0) {
			strbuf_release(&why);
			break;
		}
		if (state < 0 || !repair || attempt > 0) {
			eventlog_set_error(err, "%s", strbuf_str(&why));
			strbuf_release(&why);
			return -1;
		}
		/* What can still be read of a damaged log keeps ids unique
		 * and the admin's bound (best effort: -1 if unreadable). */
		int64_t next = eventlog_pragma_int(log, "SELECT value FROM meta WHERE key = 'next_record_id'");
		int64_t last = eventlog_pragma_int(log, "SELECT max(EventRecordID) FROM events");

		salvaged_next = next > last ? next : (last >= 0 ? last + 1 : -1);
		salvaged_max_size = eventlog_pragma_int(log, "SELECT value FROM meta WHERE key = 'max_size'");
		sqlite3_close(log->db);
		log->db = NULL;
		char *moved = eventlog_move_aside(path, err);

		strbuf_release(&why);
		if (!moved)
			return -1;
		if (damaged)
			*damaged = moved;
		else
			free(moved);
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);

		if (fd < 0) {
			eventlog_set_error(err, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
		close(fd);
	}

	/* The monitor must not stall behind a long `sysmon log clear`: it
	 * waits one second, then keeps the batch for its next flush. */
	if (repair)
		sqlite3_busy_timeout(log->db, MONITOR_BUSY_TIMEOUT_MS);
	/* Settings that only a new file takes (auto_vacuum before any table). */
	if (eventlog_pragma_int(log, "SELECT count(*) FROM sqlite_master") == 0 &&
		     eventlog_exec(log, "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA page_size = 4096", err) < 0)
		return -1;
	if (eventlog_exec(log, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			  "PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY", err) < 0)
		return -1;
	if (create_schema(log, err) < 0 || add_missing_columns(log, err) < 0 ||
	    prepare_writer(log, err) < 0)
		return -1;
	if (salvaged_next > (int64_t)log->next_record_id) {
		log->next_record_id = (uint64_t)salvaged_next;
		eventlog_meta_put(log, "next_record_id", salvaged_next);
	}
	if (salvaged_max_size >= (int64_t)EVENTLOG_MIN_MAX_SIZE) {
		log->max_size = (uint64_t)salvaged_max_size;
		eventlog_meta_put(log, "max_size", salvaged_max_size);
	}
	eventlog_fit_wal_to_bound(log);
	return 0;
}

static struct eventlog *open_writer(const char *path, bool create, bool repair, char **damaged,
				    struct strbuf *err)
{
	struct eventlog *log = xcalloc(1, sizeof(*log));

	eventlog_need_catalogue();
	log->path = xstrdup(path);
	log->repair = repair;
	if (damaged)
		*damaged = NULL;
	if (eventlog_connect_writer(log, create, repair, damaged, err) < 0) {
		if (damaged) {
			free(*damaged);
			*damaged = NULL;
		}
		free_log(log);
		return NULL;
	}
	default_origin(log);
	return log;
}

struct eventlog *eventlog_open(const char *path, char **damaged, struct strbuf *err)
{
	return open_writer(path, true, true, damaged, err);
}

struct eventlog *eventlog_open_admin(const char *path, bool create, struct strbuf *err)
{
	return open_writer(path, create, false, NULL, err);
}

struct eventlog *eventlog_open_readonly(const char *path, struct strbuf *err)
{
	struct eventlog *log = xcalloc(1, sizeof(*log));
	struct stat st;

	eventlog_need_catalogue();
	log->path = xstrdup(path);
	log->readonly = true;
	if (stat(path, &st) != 0) {
		eventlog_set_error(err, "%s: no event log there (%s)", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		eventlog_set_error(err, "%s: not a regular file", path);
		goto fail;
	}
	if (open_connection(log, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, err) < 0)
		goto fail;
	if (check_database(log, false, err) != 0)
		goto fail;
	if (eventlog_pragma_int(log, "SELECT count(*) FROM sqlite_master") == 0) {
		eventlog_set_error(err, "%s: not a sysmon event log (an empty file)", path);
		goto fail;
	}
	if (find_columns(log, err) < 0)
		goto fail;
	/* Queries scan; mapping the file saves a copy per page. */
	eventlog_exec(log, "PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -32768", NULL);
	return log;
fail:
	free_log(log);
	return NULL;
}

void eventlog_set_origin(struct eventlog *log, const char *computer, unsigned process_id,
			 unsigned thread_id)
{
	free(log->self.computer);
	log->self.computer = xstrdup(computer ? computer : "-");
	log->self.process_id = process_id;
	log->self.thread_id = thread_id;
	log->self.id = 0;   /* a new origins row at the next flush */
}

const char *eventlog_error(const struct eventlog *log)
{
	return strbuf_str(&log->error);
}

void eventlog_close(struct eventlog *log)
{
	if (!log)
		return;
	if (!log->readonly && log->nbatch)
		eventlog_flush(log);
	free_log(log);
}
