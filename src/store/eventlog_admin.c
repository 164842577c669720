/*
 * Administering the event log (eventlog.h): what `sysmon log` shows and
 * changes: its figures, its maximum size, a backup copy, clearing.
 */
#include "store/eventlog_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t eventlog_max_size(const struct eventlog *log)
{
	return log->max_size;
}

static uint64_t file_size(const char *path, const char *suffix)
{
	struct strbuf name = STRBUF_INIT;
	struct stat st;
	uint64_t size = 0;

	strbuf_printf(&name, "%s%s", path, suffix);
	if (stat(name.data, &st) == 0)
		size = (uint64_t)st.st_size;
	strbuf_release(&name);
	return size;
}

int eventlog_get_info(struct eventlog *log, struct eventlog_info *info, struct strbuf *err)
{
	sqlite3_stmt *stmt;
	int rc;

	memset(info, 0, sizeof(*info));
	if (eventlog_exec(log, "BEGIN", err) < 0)
		return -1;
	rc = sqlite3_prepare_v2(log->db,
		"SELECT (SELECT count(*) FROM events),"
		" (SELECT min(EventRecordID) FROM events), (SELECT max(EventRecordID) FROM events),"
		" (SELECT TimeCreated FROM events ORDER BY EventRecordID LIMIT 1),"
		" (SELECT TimeCreated FROM events ORDER BY EventRecordID DESC LIMIT 1),"
		" (SELECT value FROM meta WHERE key = 'max_size'),"
		" (SELECT value FROM meta WHERE key = 'next_record_id')", -1, &stmt, NULL);
	if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
		info->records = (uint64_t)sqlite3_column_int64(stmt, 0);
		info->first_record_id = (uint64_t)sqlite3_column_int64(stmt, 1);
		info->last_record_id = (uint64_t)sqlite3_column_int64(stmt, 2);
		info->first_time_ns = sqlite3_column_int64(stmt, 3);
		info->last_time_ns = sqlite3_column_int64(stmt, 4);
		info->max_size = (uint64_t)sqlite3_column_int64(stmt, 5);
		info->next_record_id = (uint64_t)sqlite3_column_int64(stmt, 6);
		rc = SQLITE_OK;
	} else {
		rc = SQLITE_ERROR;
		eventlog_set_error(err, "%s: %s", log->path, sqlite3_errmsg(log->db));
	}
	sqlite3_finalize(stmt);
	info->page_size = (unsigned)eventlog_pragma_int(log, "PRAGMA page_size");
	info->used_bytes = (uint64_t)(eventlog_pragma_int(log, "PRAGMA page_count") -
					       eventlog_pragma_int(log, "PRAGMA freelist_count")) * info->page_size;
	sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL);
	info->file_bytes = file_size(log->path, "");
	info->wal_bytes = file_size(log->path, "-wal");
	return rc == SQLITE_OK ? 0 : -1;
}

int eventlog_set_max_size(struct eventlog *log, uint64_t max_size, struct strbuf *err)
{
	if (max_size < EVENTLOG_MIN_MAX_SIZE || max_size > (uint64_t)INT64_MAX) {
		eventlog_set_error(err, "maximum size %llu is out of range (at least %llu bytes)",
				   (unsigned long long)max_size, EVENTLOG_MIN_MAX_SIZE);
		return -1;
	}
	if (eventlog_exec(log, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (eventlog_meta_put(log, "max_size", (int64_t)max_size) < 0) {
		eventlog_set_error(err, "%s: cannot write: %s", log->path, sqlite3_errmsg(log->db));
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	/* A failed COMMIT leaves the transaction open: end it; the bound was
	 * not stored. */
	if (sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		eventlog_set_error(err, "%s: cannot write: %s", log->path, sqlite3_errmsg(log->db));
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	/* Apply it now (pending records of this connection included), so the
	 * file fits the bound even if no monitor is running. */
	if (!log->db && !eventlog_reconnect(log))
		return -1;
	int rc = eventlog_commit_pending(log);

	if (rc < 0)
		eventlog_set_error(err, "%s", strbuf_str(&log->error));
	if (rc != 0)
		return -1;   /* replaced: nothing lost, but the monitor reports the move */
	sqlite3_wal_checkpoint_v2(log->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return 0;
}

int eventlog_backup(struct eventlog *log, const char *path, uint64_t *last_id, struct strbuf *err)
{
	sqlite3_stmt *stmt;
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);

	if (fd < 0) {
		eventlog_set_error(err, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (sqlite3_prepare_v2(log->db, "VACUUM INTO ?", -1, &stmt, NULL) != SQLITE_OK) {
		eventlog_set_error(err, "%s: %s", log->path, sqlite3_errmsg(log->db));
		unlink(path);
		return -1;
	}
	sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);

	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		eventlog_set_error(err, "cannot copy %s to %s: %s", log->path, path, sqlite3_errmsg(log->db));
		unlink(path);
		return -1;
	}
	if (last_id) {
		struct eventlog *copy = eventlog_open_readonly(path, err);

		if (!copy)
			return -1;
		*last_id = (uint64_t)eventlog_pragma_int(copy, "SELECT coalesce(max(EventRecordID), 0) FROM events");
		eventlog_close(copy);
	}
	return 0;
}

int eventlog_clear(struct eventlog *log, uint64_t up_to, struct strbuf *err)
{
	char sql[160];

	if (eventlog_exec(log, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	/* The next id survives the records: ids are never reused. */
	if (eventlog_exec(log, "INSERT OR REPLACE INTO meta VALUES('next_record_id', max("
			  "coalesce((SELECT value FROM meta WHERE key = 'next_record_id'), 1),"
			  "coalesce((SELECT max(EventRecordID) FROM events), 0) + 1))", err) < 0)
		goto fail;
	int64_t last = up_to > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)up_to;

	snprintf(sql, sizeof(sql), "DELETE FROM events WHERE EventRecordID <= %" PRId64 ";"
		 "DELETE FROM batches WHERE last_id <= %" PRId64, last, last);
	if (eventlog_exec(log, sql, err) < 0 || eventlog_exec(log, "PRAGMA incremental_vacuum", err) < 0 ||
			      eventlog_exec(log, "COMMIT", err) < 0)
		goto fail;
	int64_t next = eventlog_meta_get(log, "next_record_id", 1);

	if ((uint64_t)next > log->next_record_id)
		log->next_record_id = (uint64_t)next;
	sqlite3_wal_checkpoint_v2(log->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return 0;
fail:
	sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
