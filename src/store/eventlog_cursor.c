/*
 * Reading the event log (eventlog.h): cursors over the records that match
 * an SQL condition, single records by id, the record id window of a time
 * range, the writers of records (origins), and raw SQL rows for query.c's
 * aggregates.  Readers run while the monitor writes (WAL).
 */
#include "store/eventlog_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int eventlog_time_window(struct eventlog *log, const int64_t *since, const int64_t *until,
			 uint64_t *after, uint64_t *up_to)
{
	sqlite3_stmt *stmt;
	int rc = 0;

	*after = 0;
	*up_to = 0;
	/* Only if every record is in a batch row (logs that began before the
	 * batches table have records that are not). */
	if (sqlite3_prepare_v2(log->db,
		"SELECT (SELECT min(first_id) FROM batches) <= (SELECT min(EventRecordID) FROM events),"
		" (SELECT min(first_id) FROM batches WHERE max_time >= ?1),"
		" (SELECT max(last_id) FROM batches WHERE min_time <= ?2)", -1, &stmt, NULL) != SQLITE_OK)
		return 0;   /* a log without the table: no narrowing */
	sqlite3_bind_int64(stmt, 1, since ? *since : INT64_MIN);
	sqlite3_bind_int64(stmt, 2, until ? *until : INT64_MAX);
	if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 1) {
		if (since) {
			if (sqlite3_column_type(stmt, 1) == SQLITE_NULL)
				rc = 1;   /* every batch ended before SINCE */
			else
				*after = (uint64_t)sqlite3_column_int64(stmt, 1) - 1;
		}
		if (until) {
			if (sqlite3_column_type(stmt, 2) == SQLITE_NULL)
				rc = 1;   /* every batch began after UNTIL */
			else
				*up_to = (uint64_t)sqlite3_column_int64(stmt, 2);
		}
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* One aggregate each: SQLite reads min() or max() alone off the rowid's
 * b-tree, both together as a scan. */
uint64_t eventlog_oldest_record_id(struct eventlog *log)
{
	int64_t id = eventlog_pragma_int(log, "SELECT coalesce(min(EventRecordID), 0) FROM events");

	return id > 0 ? (uint64_t)id : 0;
}

uint64_t eventlog_newest_record_id(struct eventlog *log)
{
	int64_t id = eventlog_pragma_int(log, "SELECT coalesce(max(EventRecordID), 0) FROM events");

	return id > 0 ? (uint64_t)id : 0;
}

struct eventlog_cursor {
	struct eventlog *log;
	sqlite3_stmt *stmt;
	int result_of_column[MAX_COLUMNS];   /* -1 if not selected */
};

static int bind_all(sqlite3_stmt *stmt, int first, const struct eventlog_bind *binds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int param = first + (int)i, rc;

		switch (binds[i].kind) {
		case BIND_INT:
			rc = sqlite3_bind_int64(stmt, param, binds[i].number);
			break;
		case BIND_TEXT:
			rc = sqlite3_bind_text(stmt, param, binds[i].data, (int)binds[i].len, SQLITE_TRANSIENT);
			break;
		default:
			rc = sqlite3_bind_blob(stmt, param, binds[i].data, (int)binds[i].len, SQLITE_TRANSIENT);
			break;
		}
		if (rc != SQLITE_OK)
			return -1;
	}
	return 0;
}

struct eventlog_cursor *eventlog_select(struct eventlog *log, const struct eventlog_select *sel,
					struct strbuf *err)
{
	struct eventlog_cursor *cur = xcalloc(1, sizeof(*cur));
	struct strbuf sql = STRBUF_INIT;
	int result = 4;

	cur->log = log;
	strbuf_puts(&sql, "SELECT EventRecordID, EventID, TimeCreated, Origin");
	for (int c = 0; c < eventlog_catalogue.ncolumns; c++) {
		bool wanted = !sel->fields && log->column_present[c];

		for (size_t i = 0; !wanted && log->column_present[c] && i < sel->nfields; i++)
			wanted = strcasecmp(sel->fields[i], eventlog_catalogue.columns[c].name) == 0;
		cur->result_of_column[c] = wanted ? result++ : -1;
		if (wanted)
			strbuf_printf(&sql, ", %s", eventlog_catalogue.columns[c].quoted);
	}
	strbuf_puts(&sql, " FROM events");
	if (sel->where && *sel->where)
		strbuf_printf(&sql, " WHERE %s", sel->where);
	strbuf_printf(&sql, " ORDER BY EventRecordID%s", sel->newest_first ? " DESC" : "");
	if (sqlite3_prepare_v2(log->db, sql.data, -1, &cur->stmt, NULL) != SQLITE_OK ||
	    bind_all(cur->stmt, 1, sel->binds, sel->nbinds) < 0) {
		eventlog_set_error(err, "%s: cannot query: %s", log->path, sqlite3_errmsg(log->db));
		strbuf_release(&sql);
		eventlog_cursor_free(cur);
		return NULL;
	}
	strbuf_release(&sql);
	return cur;
}

int eventlog_next(struct eventlog_cursor *cur, struct event *ev, unsigned *origin, struct strbuf *err)
{
	struct strbuf value = STRBUF_INIT;

	for (;;) {
		int rc = sqlite3_step(cur->stmt);

		if (rc == SQLITE_DONE) {
			strbuf_release(&value);
			return 0;
		}
		if (rc != SQLITE_ROW) {
			eventlog_set_error(err, "%s: cannot read: %s", cur->log->path, sqlite3_errmsg(cur->log->db));
			strbuf_release(&value);
			return -1;
		}
		if (event_reset(ev, (unsigned)sqlite3_column_int(cur->stmt, 1)) < 0)
			continue;   /* a type this build does not know */
		break;
	}
	sqlite3_stmt *stmt = cur->stmt;

	ev->record_id = (uint64_t)sqlite3_column_int64(stmt, 0);
	ev->time_ns = sqlite3_column_int64(stmt, 2);
	if (origin)
		*origin = (unsigned)sqlite3_column_int(stmt, 3);
	for (unsigned i = 0; i < ev->schema->nfields; i++) {
		int c = eventlog_column_of(ev->schema, (int)i);
		int col = c < 0 ? -1 : cur->result_of_column[c];

		if (col < 0 || sqlite3_column_type(stmt, col) == SQLITE_NULL)
			continue;
		strbuf_reset(&value);
		eventlog_decode_column((enum codec)eventlog_catalogue.field_codec[ev->schema->id][i],
				       stmt, col, ev->time_ns, &value);
		event_set(ev, (int)i, strbuf_str(&value), value.len);
	}
	strbuf_release(&value);
	return 1;
}

int eventlog_get(struct eventlog *log, uint64_t record_id, struct event *ev, unsigned *origin,
		 struct strbuf *err)
{
	if (!log->by_id) {
		struct eventlog_bind bind = { .kind = BIND_INT, .number = 0 };
		struct eventlog_select sel = { .where = "EventRecordID = ?", .binds = &bind, .nbinds = 1 };

		log->by_id = eventlog_select(log, &sel, err);
		if (!log->by_id)
			return -1;
	}
	sqlite3_reset(log->by_id->stmt);
	sqlite3_bind_int64(log->by_id->stmt, 1, record_id > INT64_MAX ? INT64_MAX : (int64_t)record_id);
	int rc = eventlog_next(log->by_id, ev, origin, err);

	sqlite3_reset(log->by_id->stmt);
	return rc;
}

void eventlog_cursor_free(struct eventlog_cursor *cur)
{
	if (!cur)
		return;
	sqlite3_finalize(cur->stmt);
	free(cur);
}

static void load_origins(struct eventlog *log)
{
	sqlite3_stmt *stmt;

	for (size_t i = 0; i < log->norigins; i++)
		free(log->origins[i].computer);
	log->norigins = 0;
	if (sqlite3_prepare_v2(log->db, "SELECT id, computer, process_id, thread_id FROM origins",
			       -1, &stmt, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		log->origins = xrealloc(log->origins, (log->norigins + 1) * sizeof(*log->origins));
		struct origin *o = &log->origins[log->norigins++];
		const char *computer = (const char *)sqlite3_column_text(stmt, 1);

		o->id = (unsigned)sqlite3_column_int64(stmt, 0);
		o->computer = xstrdup(computer ? computer : "-");
		o->process_id = (unsigned)sqlite3_column_int64(stmt, 2);
		o->thread_id = (unsigned)sqlite3_column_int64(stmt, 3);
	}
	sqlite3_finalize(stmt);
}

void eventlog_origin(struct eventlog *log, unsigned origin, const char **computer,
		     unsigned *process_id, unsigned *thread_id)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		for (size_t i = 0; i < log->norigins; i++) {
			if (log->origins[i].id == origin) {
				*computer = log->origins[i].computer;
				*process_id = log->origins[i].process_id;
				*thread_id = log->origins[i].thread_id;
				return;
			}
		}
		load_origins(log);   /* a monitor started since */
	}
	*computer = "-";
	*process_id = 0;
	*thread_id = 0;
}

int eventlog_sql_rows(struct eventlog *log, const char *sql, const struct eventlog_bind *binds,
		      size_t nbinds, int (*row)(sqlite3_stmt *stmt, void *arg), void *arg,
		      struct strbuf *err)
{
	sqlite3_stmt *stmt;
	int rc;

	if (sqlite3_prepare_v2(log->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    bind_all(stmt, 1, binds, nbinds) < 0) {
		eventlog_set_error(err, "%s: cannot query: %s", log->path, sqlite3_errmsg(log->db));
		sqlite3_finalize(stmt);
		return -1;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (row(stmt, arg) < 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		eventlog_set_error(err, "%s: cannot read: %s", log->path, sqlite3_errmsg(log->db));
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}
