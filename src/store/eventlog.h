/*
 * The event log: one SQLite database (WAL) holding every logged event,
 * bounded by a maximum size with the oldest records dropped first.  The
 * monitor appends; `sysmon log` and `sysmon query` read while it writes.
 *
 * Layout (eventlog.c has the details): one wide table `events` with one
 * nullable column per distinct field name of the schema catalogue, plus
 * EventRecordID (the rowid), EventID, TimeCreated (ns) and Origin (who wrote
 * it: computer, pid, tid, in the small `origins` table); `batches` holds each
 * committed batch's id and time range.  `meta` holds the maximum size and the
 * next record id, so `sysmon log set` reaches a running monitor through the
 * database itself.
 */
#ifndef SYSMON_EVENTLOG_H
#define SYSMON_EVENTLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/event.h"
#include "util/strbuf.h"

#define EVENTLOG_DEFAULT_PATH "/var/log/sysmon/events.db"
#define EVENTLOG_DEFAULT_MAX_SIZE (64ull << 20)   /* as Sysmon's channel */
#define EVENTLOG_MIN_MAX_SIZE (1ull << 20)        /* smaller bounds are refused */

struct eventlog;

/* Open (creating if needed) the log at PATH for writing.  A damaged file is
 * moved aside and a new one started; *DAMAGED (if not NULL) then holds the
 * new name of the damaged file.  On failure returns NULL with a message in ERR. */
struct eventlog *eventlog_open(const char *path, char **damaged, struct strbuf *err);
/* Open an existing log for reading only. */
struct eventlog *eventlog_open_readonly(const char *path, struct strbuf *err);
/* Open for administration (`sysmon log set/clear`): writable, never moves a
 * damaged file aside; creates the log only if CREATE. */
struct eventlog *eventlog_open_admin(const char *path, bool create, struct strbuf *err);
void eventlog_close(struct eventlog *log);   /* flushes */

/* Who writes the following records (the <Computer> and <Execution> of the
 * XML).  Defaults to this host's name and the opening process and thread. */
void eventlog_set_origin(struct eventlog *log, const char *computer,
			 unsigned process_id, unsigned thread_id);

/* Append EV: assigns ev->record_id (strictly increasing, never reused, also
 * across restarts) and ev->time_ns if unset.  The record is committed with
 * the current batch. */
int eventlog_append(struct eventlog *log, struct event *ev);
/* Commit the pending batch (the monitor calls this at least every 100 ms)
 * and enforce the size bound. */
int eventlog_flush(struct eventlog *log);
/* The last error of append/flush, for the monitor's Error event. */
const char *eventlog_error(const struct eventlog *log);

/* Administration. */
struct eventlog_info {
	uint64_t records;
	uint64_t first_record_id, last_record_id;   /* 0 when empty */
	int64_t first_time_ns, last_time_ns;
	uint64_t next_record_id;
	uint64_t file_bytes;        /* database file */
	uint64_t wal_bytes;         /* its write-ahead log */
	uint64_t used_bytes;        /* pages in use (file minus free pages) */
	uint64_t max_size;
	unsigned page_size;
};
int eventlog_get_info(struct eventlog *log, struct eventlog_info *info, struct strbuf *err);
uint64_t eventlog_max_size(const struct eventlog *log);
/* Store a new bound (read by a running monitor at its next flush) and apply
 * it at once: oldest records go, and the file shrinks if it is larger. */
int eventlog_set_max_size(struct eventlog *log, uint64_t max_size, struct strbuf *err);
/* Copy the log as it is now into a new SQLite file at PATH (which must not
 * exist); *LAST_ID (if not NULL) is the newest record id in the copy. */
int eventlog_backup(struct eventlog *log, const char *path, uint64_t *last_id, struct strbuf *err);
/* Delete every record up to UP_TO (UINT64_MAX: all); ids are never reused. */
int eventlog_clear(struct eventlog *log, uint64_t up_to, struct strbuf *err);

/* Reading: a cursor over the records that match an SQL condition over the
 * `events` columns (see eventlog_column_name), in record id order. */
struct eventlog_cursor;
struct eventlog_bind {
	enum { BIND_INT, BIND_TEXT, BIND_BLOB } kind;
	int64_t number;
	const void *data;
	size_t len;
};
struct eventlog_select {
	const char *where;                  /* SQL, NULL = all; ?s bound in order */
	const struct eventlog_bind *binds;
	size_t nbinds;
	bool newest_first;
	/* Only these event field names are read (NULL = every field); others
	 * read as unset. */
	const char *const *fields;
	size_t nfields;
};
struct eventlog_cursor *eventlog_select(struct eventlog *log, const struct eventlog_select *sel,
					struct strbuf *err);
/* 1 and EV filled (record_id, time_ns and fields), 0 at the end, -1 on error. */
int eventlog_next(struct eventlog_cursor *cur, struct event *ev, unsigned *origin, struct strbuf *err);
void eventlog_cursor_free(struct eventlog_cursor *cur);
/* The record RECORD_ID, every field: 1 and EV filled, 0 if it is not in
 * the log (any more), -1 on error. */
int eventlog_get(struct eventlog *log, uint64_t record_id, struct event *ev, unsigned *origin,
		 struct strbuf *err);

/* Narrow a time filter to record ids, from the log's per-batch time ranges:
 * records with TimeCreated >= *SINCE (if SINCE) and <= *UNTIL (if UNTIL) all
 * lie in ids > *AFTER and <= *UP_TO (0 = unbounded).  Returns 1 if no record
 * can match, 0 otherwise.  The filter itself must still be applied. */
int eventlog_time_window(struct eventlog *log, const int64_t *since, const int64_t *until,
			 uint64_t *after, uint64_t *up_to);

/* The oldest and the newest record id in the log; 0 if it is empty (or on
 * an error). */
uint64_t eventlog_oldest_record_id(struct eventlog *log);
uint64_t eventlog_newest_record_id(struct eventlog *log);

/* The writer of records with ORIGIN; computer "-" if unknown. */
void eventlog_origin(struct eventlog *log, unsigned origin, const char **computer,
		     unsigned *process_id, unsigned *thread_id);

/* Column of field NAME (any event's field, case-sensitive as in the schema):
 * its quoted SQL name, or NULL if no event has such a field. */
const char *eventlog_column_name(const char *field);
/* Bind TEXT the way field INDEX of EVENT is stored, so that SQL equality on
 * the column is exact text equality.  Returns false if TEXT has no stored
 * form that SQL can compare (then filter in C).  BIND may point into BUF. */
#define EVENTLOG_ENCODE_MAX 160     /* bytes of the largest compact form */
bool eventlog_encode_value(const struct schema_event *event, int index, const char *text,
			   struct eventlog_bind *bind, unsigned char buf[EVENTLOG_ENCODE_MAX]);
/* Do equal stored values of column FIELD mean equal texts, whatever the
 * record (so SQL may GROUP BY it)?  False for times stored relative to
 * TimeCreated. */
bool eventlog_column_groupable(const char *field);
/* Can SQL decide "FIELD equals TEXT, ASCII case ignored" (Sysmon's `is`)
 * exactly on this column, with TEXT encoded by eventlog_encode_value() (GUIDs
 * given in lower case)?  False for Hashes, whose stored digests are
 * case-sensitive bytes. */
bool eventlog_column_nocase_exact(const char *field);
/* Decode a stored value (as returned by an SQL aggregate over a groupable
 * column) back into the text of field INDEX of EVENT.  NULL reads as "-". */
struct sqlite3_value;
void eventlog_decode_value(const struct schema_event *event, int index,
			   struct sqlite3_value *value, struct strbuf *out);

/* Run an aggregate query: SQL text over `events`, called back per row with
 * the statement.  For query.c's GROUP BY pushdown. */
struct sqlite3_stmt;
int eventlog_sql_rows(struct eventlog *log, const char *sql, const struct eventlog_bind *binds,
		      size_t nbinds, int (*row)(struct sqlite3_stmt *stmt, void *arg), void *arg,
		      struct strbuf *err);

#endif
