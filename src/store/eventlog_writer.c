/*
 * Writing the event log (eventlog_internal.h): eventlog_append() copies an
 * event into the in-memory batch, eventlog_flush() commits the batch in one
 * transaction that also enforces the size bound, and a log that SQLite finds
 * damaged at a flush is replaced (eventlog.c's opening comment has the why).
 */
#include "store/eventlog_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX_EVENTS 8192
#define BATCH_MAX_BYTES (4u << 20)
#define BATCH_ROW_RECORDS 4096

int eventlog_append(struct eventlog *log, struct event *ev)
{
	if (log->readonly || !ev->schema) {
		strbuf_reset(&log->error);
		eventlog_set_error(&log->error, "%s: %s", log->path,
				   log->readonly ? "opened read-only" : "event without a type");
		return -1;
	}
	if (log->nbatch == log->batch_cap) {
		size_t cap = log->batch_cap ? log->batch_cap * 2 : 256;

		log->batch = xrealloc(log->batch, cap * sizeof(*log->batch));
		for (size_t i = log->batch_cap; i < cap; i++)
			event_init(&log->batch[i]);
		log->batch_cap = cap;
	}
	struct event *copy = &log->batch[log->nbatch++];

	/* One copy of the arena and its index, not a copy per field. */
	if (copy->arena_cap < ev->arena_len) {
		copy->arena = xrealloc(copy->arena, ev->arena_len);
		copy->arena_cap = ev->arena_len;
	}
	if (ev->arena_len)
		memcpy(copy->arena, ev->arena, ev->arena_len);
	copy->arena_len = ev->arena_len;
	copy->schema = ev->schema;
	memcpy(copy->offset, ev->offset, sizeof(copy->offset));
	memcpy(copy->length, ev->length, sizeof(copy->length));
	if (!ev->time_ns)
		ev->time_ns = event_now_ns();
	ev->record_id = log->next_record_id++;
	copy->time_ns = ev->time_ns;
	copy->record_id = ev->record_id;
	log->batch_bytes += copy->arena_len + 64;
	if (log->nbatch >= BATCH_MAX_EVENTS || log->batch_bytes >= BATCH_MAX_BYTES)
		return eventlog_flush(log);
	return 0;
}

static sqlite3_stmt *insert_statement(struct eventlog *log, const struct schema_event *event)
{
	if (log->insert[event->id])
		return log->insert[event->id];
	struct strbuf sql = STRBUF_INIT;

	strbuf_puts(&sql, "INSERT INTO events(EventRecordID, EventID, TimeCreated, Origin");
	for (unsigned i = 0; i < event->nfields; i++)
		strbuf_printf(&sql, ", %s", eventlog_catalogue.columns[eventlog_column_of(event, (int)i)].quoted);
	strbuf_puts(&sql, ") VALUES(?, ?, ?, ?");
	for (unsigned i = 0; i < event->nfields; i++)
		strbuf_puts(&sql, ", ?");
	strbuf_putc(&sql, ')');
	if (sqlite3_prepare_v3(log->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT,
			       &log->insert[event->id], NULL) != SQLITE_OK)
		log->insert[event->id] = NULL;
	strbuf_release(&sql);
	return log->insert[event->id];
}

static int insert_event(struct eventlog *log, const struct event *ev)
{
	sqlite3_stmt *stmt = insert_statement(log, ev->schema);
	/* Compact forms, bound without a copy until the step. */
	unsigned char encoded[SCHEMA_MAX_FIELDS][EVENTLOG_ENCODE_MAX];

	if (!stmt)
		return -1;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)ev->record_id);
	sqlite3_bind_int(stmt, 2, (int)ev->schema->id);
	sqlite3_bind_int64(stmt, 3, ev->time_ns);
	sqlite3_bind_int(stmt, 4, (int)log->self.id);
	for (unsigned i = 0; i < ev->schema->nfields; i++) {
		const char *text = event_value(ev, (int)i);
		size_t len = event_value_len(ev, (int)i);

		if (!event_is_set(ev, (int)i) || (len == 1 && text[0] == '-')) {
			sqlite3_bind_null(stmt, (int)i + 5);
			continue;
		}
		enum codec codec = (enum codec)eventlog_catalogue.field_codec[ev->schema->id][i];

		eventlog_bind_stored(stmt, (int)i + 5, codec, text, len, ev->time_ns, encoded[i]);
	}
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int write_origin(struct eventlog *log)
{
	sqlite3_stmt *stmt;

	if (log->self.id)
		return 0;
	if (sqlite3_prepare_v2(log->db, "INSERT INTO origins(computer, process_id, thread_id) VALUES(?, ?, ?)",
			       -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(stmt, 1, log->self.computer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, log->self.process_id);
	sqlite3_bind_int64(stmt, 3, log->self.thread_id);
	int rc = sqlite3_step(stmt);

	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return -1;
	log->self.id = (unsigned)sqlite3_last_insert_rowid(log->db);
	return 0;
}

/* Inside a write transaction: drop the oldest records until the pages in
 * use leave room for the next batches, and give back pages beyond the bound. */
static int enforce_bound(struct eventlog *log)
{
	int64_t bound_pages = (int64_t)(log->max_size / log->page_size);
	int64_t slack = bound_pages / 64 > 8 ? bound_pages / 64 : 8;
	int64_t page_count = eventlog_pragma_int(log, "PRAGMA page_count");
	int64_t free_pages = eventlog_pragma_int(log, "PRAGMA freelist_count");
	int64_t used = page_count - free_pages;

	if (page_count < 0 || free_pages < 0)
		return -1;
	if (used > bound_pages - slack) {
		int64_t target = bound_pages - 2 * slack;

		for (int round = 0; round < 64 && used > target; round++) {
			int64_t first = eventlog_pragma_int(log, "SELECT coalesce(min(EventRecordID), 0) FROM events");
			int64_t last = eventlog_pragma_int(log, "SELECT coalesce(max(EventRecordID), 0) FROM events");

			if (first <= 0)
				break;
			int64_t rows = last - first + 1;
			/* Pages per record from the average, plus a minimum so
			 * that a badly estimated round still makes progress. */
			int64_t drop = (int64_t)((double)(used - target) * (double)rows / (double)used) + 1;

			if (drop < rows / 256 + 1)
				drop = rows / 256 + 1;
			char sql[96];

			snprintf(sql, sizeof(sql), "DELETE FROM events WHERE EventRecordID < %" PRId64, first + drop);
			if (sqlite3_exec(log->db, sql, NULL, NULL, NULL) != SQLITE_OK)
				return -1;
			used = eventlog_pragma_int(log, "PRAGMA page_count") -
			       eventlog_pragma_int(log, "PRAGMA freelist_count");
		}
		if (sqlite3_exec(log->db, "DELETE FROM batches WHERE last_id < "
				 "(SELECT coalesce(min(EventRecordID), 1 << 62) FROM events)", NULL, NULL, NULL) != SQLITE_OK)
			return -1;
	}
	page_count = eventlog_pragma_int(log, "PRAGMA page_count");
	if (page_count > bound_pages) {
		/* The bound shrank (or a clear): return the free pages to the
		 * file system.  Rare, so the page moves are affordable. */
		if (sqlite3_exec(log->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL) != SQLITE_OK)
			return -1;
	}
	return 0;
}

/* The batch's id and time range, for eventlog_time_window().  Small
 * batches (a quiet system flushes a few records at a time) extend the
 * previous row up to BATCH_ROW_RECORDS records, so the table stays a
 * small fraction of the log. */
static int record_batch(struct eventlog *log)
{
	int64_t min_time = log->batch[0].time_ns, max_time = min_time;
	uint64_t first = log->batch[0].record_id, last = log->batch[log->nbatch - 1].record_id;
	char sql[200];

	for (size_t i = 1; i < log->nbatch; i++) {
		if (log->batch[i].time_ns < min_time)
			min_time = log->batch[i].time_ns;
		if (log->batch[i].time_ns > max_time)
			max_time = log->batch[i].time_ns;
	}
	if (log->batch_row_first && first == log->batch_row_last + 1 &&
	    last - log->batch_row_first < BATCH_ROW_RECORDS) {
		snprintf(sql, sizeof(sql), "UPDATE batches SET last_id = %" PRIu64 ", min_time = min(min_time, %" PRId64
			 "), max_time = max(max_time, %" PRId64 ") WHERE first_id = %" PRIu64,
			 last, min_time, max_time, log->batch_row_first);
		if (sqlite3_exec(log->db, sql, NULL, NULL, NULL) == SQLITE_OK && sqlite3_changes(log->db) == 1) {
			log->batch_row_last = last;
			return 0;
		}
	}
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO batches VALUES(%" PRIu64 ", %" PRIu64 ", %" PRId64 ", %" PRId64 ")",
		 first, last, min_time, max_time);
	if (sqlite3_exec(log->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	log->batch_row_first = first;
	log->batch_row_last = last;
	return 0;
}

static int commit_batch(struct eventlog *log)
{
	if (eventlog_exec(log, "BEGIN IMMEDIATE", &log->error) < 0)
		return -1;
	uint64_t max_size = (uint64_t)eventlog_meta_get(log, "max_size", (int64_t)log->max_size);

	if (max_size < EVENTLOG_MIN_MAX_SIZE)
		max_size = EVENTLOG_MIN_MAX_SIZE;
	if (max_size != log->max_size) {
		log->max_size = max_size;
		eventlog_fit_wal_to_bound(log);
	}
	if (log->nbatch && write_origin(log) < 0)
		goto fail;
	for (size_t i = 0; i < log->nbatch; i++)
		if (insert_event(log, &log->batch[i]) < 0)
			goto fail;
	if (log->nbatch && eventlog_meta_put(log, "next_record_id", (int64_t)log->next_record_id) < 0)
		goto fail;
	if (log->nbatch && record_batch(log) < 0)
		goto fail;
	if (enforce_bound(log) < 0)
		goto fail;
	if (eventlog_exec(log, "COMMIT", &log->error) < 0)
		goto rollback;
	log->failure = SQLITE_OK;
	return 0;
fail:
	eventlog_set_error(&log->error, "%s: cannot write: %s", log->path, sqlite3_errmsg(log->db));
rollback:
	log->failure = sqlite3_errcode(log->db) & 0xff;
	sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	log->self.id = 0;   /* its row may have been rolled back */
	return -1;
}

/* The monitor's log turned out damaged while in use (SQLite reports
 * corruption): move it aside, start a new one with the same bound and the
 * next record ids, and write the batch there.  True if that worked; the
 * error text then says what happened (the monitor reports it). */
static bool replace_damaged(struct eventlog *log)
{
	if (!log->repair || (log->failure != SQLITE_CORRUPT && log->failure != SQLITE_NOTADB))
		return false;
	uint64_t next = log->next_record_id, max_size = log->max_size;
	struct strbuf err = STRBUF_INIT;

	eventlog_disconnect(log);
	char *moved = eventlog_move_aside(log->path, &err);
	bool ok = moved && eventlog_connect_writer(log, true, true, NULL, &err) == 0;

	if (ok) {
		if (log->next_record_id < next)
			log->next_record_id = next;
		log->self.id = 0;
		ok = eventlog_meta_put(log, "max_size", (int64_t)max_size) == 0 && commit_batch(log) == 0;
		if (!ok)
			eventlog_set_error(&err, "%s", strbuf_str(&log->error));
	}
	strbuf_reset(&log->error);
	if (ok)
		eventlog_set_error(&log->error, "the event log %s was damaged; it was moved to %s and a new one started",
				   log->path, moved);
	else
		eventlog_set_error(&log->error, "the event log %s is damaged and cannot be replaced: %s",
				   log->path, strbuf_str(&err));
	free(moved);
	strbuf_release(&err);
	return ok;
}

/* After a failed replacement: try to connect again at each flush. */
bool eventlog_reconnect(struct eventlog *log)
{
	struct strbuf err = STRBUF_INIT;
	uint64_t next = log->next_record_id;

	if (eventlog_connect_writer(log, true, log->repair, NULL, &err) < 0) {
		eventlog_disconnect(log);
		strbuf_reset(&log->error);
		eventlog_set_error(&log->error, "%s", strbuf_str(&err));
		strbuf_release(&err);
		return false;
	}
	if (log->next_record_id < next)
		log->next_record_id = next;
	log->self.id = 0;
	strbuf_release(&err);
	return true;
}

int eventlog_commit_pending(struct eventlog *log)
{
	int rc = 0;

	strbuf_reset(&log->error);
	if (commit_batch(log) < 0) {
		if (!replace_damaged(log))
			return -1;
		rc = 1;
	}
	log->nbatch = 0;
	log->batch_bytes = 0;
	return rc;
}

int eventlog_flush(struct eventlog *log)
{
	if (log->readonly)
		return 0;
	if (!log->db && !eventlog_reconnect(log))
		return -1;
	/* Nothing to write: only a change by another connection (a new
	 * bound) needs a transaction. */
	if (log->nbatch == 0) {
		int64_t version = eventlog_pragma_int(log, "PRAGMA data_version");

		if (version == log->data_version)
			return 0;
		log->data_version = version;
	}
	int rc = eventlog_commit_pending(log);

	if (rc >= 0)
		return rc == 0 ? 0 : -1;   /* replaced: nothing lost, but the monitor reports the move */
	/* Keep the batch for the next flush unless it is getting large: then
	 * it is dropped and the caller reports the loss. */
	if (log->nbatch < 4 * BATCH_MAX_EVENTS)
		return -1;
	strbuf_printf(&log->error, " (%zu events lost)", log->nbatch);
	log->nbatch = 0;
	log->batch_bytes = 0;
	return -1;
}
