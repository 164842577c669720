/*
 * The event log's internals, shared by its parts and by nothing else
 * (eventlog.h is the interface):
 *   eventlog.c         connections: open, schema, damage check, close
 *   eventlog_codec.c   the column catalogue and the stored forms of values
 *   eventlog_writer.c  appending, batches, the size bound, damage at a flush
 *   eventlog_admin.c   information, the bound, backup, clear
 *   eventlog_cursor.c  reading: cursors, time windows, origins, raw SQL rows
 * eventlog.c's opening comment describes the storage.
 */
#ifndef SYSMON_EVENTLOG_INTERNAL_H
#define SYSMON_EVENTLOG_INTERNAL_H

#include <sqlite3.h>

#include "store/eventlog.h"

#define MAX_COLUMNS 128
#define MAX_EVENT_ID 256

/* How a field's text is stored. */
enum codec { CODEC_TEXT, CODEC_INT, CODEC_GUID, CODEC_TIME, CODEC_HASHES };

struct column {
	char name[40];
	char quoted[44];
};

/* One column per distinct field name of the schema (eventlog_codec.c);
 * built once, by eventlog_need_catalogue(). */
struct eventlog_catalogue {
	struct column columns[MAX_COLUMNS];
	int ncolumns;
	/* [event id][field position] -> column, -1 if none */
	signed char field_column[MAX_EVENT_ID][SCHEMA_MAX_FIELDS];
	unsigned char field_codec[MAX_EVENT_ID][SCHEMA_MAX_FIELDS];   /* enum codec */
};
extern struct eventlog_catalogue eventlog_catalogue;

/* Who wrote records: a row of `origins`. */
struct origin {
	unsigned id;
	char *computer;
	unsigned process_id, thread_id;
};

/* An open log: one connection, used by one thread at a time. */
struct eventlog {
	sqlite3 *db;
	char *path;
	bool readonly;
	struct strbuf error;

	/* writer */
	sqlite3_stmt *insert[MAX_EVENT_ID];
	sqlite3_stmt *get_meta, *put_meta;
	struct event *batch;
	size_t nbatch, batch_cap, batch_bytes;
	uint64_t next_record_id;
	uint64_t max_size;
	unsigned page_size;
	int64_t data_version;       /* of the last idle flush */
	uint64_t batch_row_first, batch_row_last;   /* the batches row being extended */
	struct origin self;         /* id 0 until written */
	bool repair;                /* the monitor's log: replace it if damaged */
	int failure;                /* SQLite's primary code of the last failed flush */

	/* reader */
	bool column_present[MAX_COLUMNS];
	struct origin *origins;
	size_t norigins;
	struct eventlog_cursor *by_id;      /* eventlog_get() */
};

/* eventlog.c */
void eventlog_set_error(struct strbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int eventlog_exec(struct eventlog *log, const char *sql, struct strbuf *err);
int64_t eventlog_pragma_int(struct eventlog *log, const char *sql);   /* -1 on error */
int64_t eventlog_meta_get(struct eventlog *log, const char *key, int64_t fallback);
int eventlog_meta_put(struct eventlog *log, const char *key, int64_t value);
int eventlog_connect_writer(struct eventlog *log, bool create, bool repair, char **damaged,
			    struct strbuf *err);
void eventlog_disconnect(struct eventlog *log);
char *eventlog_move_aside(const char *path, struct strbuf *err);
void eventlog_fit_wal_to_bound(struct eventlog *log);

/* eventlog_codec.c */
void eventlog_need_catalogue(void);
int eventlog_column_of(const struct schema_event *event, int index);   /* -1 if none */
/* Bind TEXT (LEN bytes) to parameter PARAM of STMT in its stored form for
 * CODEC (times relative to BASE_NS); BUF holds a compact form until the step. */
void eventlog_bind_stored(sqlite3_stmt *stmt, int param, enum codec codec, const char *text,
			  size_t len, int64_t base_ns, unsigned char buf[EVENTLOG_ENCODE_MAX]);
/* Append the text of column COL of STMT's row, stored for CODEC, to OUT. */
void eventlog_decode_column(enum codec codec, sqlite3_stmt *stmt, int col, int64_t base_ns,
			    struct strbuf *out);

/* eventlog_writer.c */
/* Commit the pending batch (and a bound changed by another connection) in
 * one transaction: 0 if committed; 1 if the log was damaged and replaced,
 * the batch going into the new one (log->error says so); -1 if it failed,
 * the batch kept and log->error set. */
int eventlog_commit_pending(struct eventlog *log);
bool eventlog_reconnect(struct eventlog *log);

#endif
