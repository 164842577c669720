/*
 * The event log (see eventlog.h): SQLite in WAL mode, one wide table.
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
 * beside it is kept to a fraction of the bound (fit_wal_to_bound).
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
#include "store/eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FORMAT_VERSION 1
#define BATCH_MAX_EVENTS 8192
#define BATCH_MAX_BYTES (4u << 20)
#define BUSY_TIMEOUT_MS 10000
#define MONITOR_BUSY_TIMEOUT_MS 1000
#define CHECK_MAX_BYTES (256ull << 20)
#define BATCH_ROW_RECORDS 4096
#define MAX_COLUMNS 128
#define MAX_EVENT_ID 256

/* How a field's text is stored. */
enum codec { CODEC_TEXT, CODEC_INT, CODEC_GUID, CODEC_TIME, CODEC_HASHES };

struct column {
	char name[40];
	char quoted[44];
};

static struct {
	struct column columns[MAX_COLUMNS];
	int ncolumns;
	/* [event id][field position] -> column, -1 if none */
	signed char field_column[MAX_EVENT_ID][SCHEMA_MAX_FIELDS];
	unsigned char field_codec[MAX_EVENT_ID][SCHEMA_MAX_FIELDS];   /* enum codec */
} catalogue;
static pthread_once_t catalogue_once = PTHREAD_ONCE_INIT;

static enum codec codec_of(const struct schema_field *field);

static void build_catalogue(void)
{
	memset(catalogue.field_column, -1, sizeof(catalogue.field_column));
	for (size_t e = 0; e < schema_event_count(); e++) {
		const struct schema_event *event = schema_event_at(e);

		for (unsigned f = 0; f < event->nfields; f++) {
			const char *name = event->fields[f].name;
			int c;

			for (c = 0; c < catalogue.ncolumns; c++)
				if (strcasecmp(catalogue.columns[c].name, name) == 0)
					break;
			if (c == catalogue.ncolumns) {
				if (c == MAX_COLUMNS || strlen(name) >= sizeof(catalogue.columns[c].name))
					continue;   /* cannot happen with the catalogue's names */
				snprintf(catalogue.columns[c].name, sizeof(catalogue.columns[c].name), "%s", name);
				snprintf(catalogue.columns[c].quoted, sizeof(catalogue.columns[c].quoted), "\"%s\"", name);
				catalogue.ncolumns++;
			}
			if (event->id < MAX_EVENT_ID) {
				catalogue.field_column[event->id][f] = (signed char)c;
				catalogue.field_codec[event->id][f] = (unsigned char)codec_of(&event->fields[f]);
			}
		}
	}
}

static void need_catalogue(void)
{
	pthread_once(&catalogue_once, build_catalogue);
}

static int column_of(const struct schema_event *event, int index)
{
	if (!event || event->id >= MAX_EVENT_ID || index < 0 || index >= SCHEMA_MAX_FIELDS)
		return -1;
	return catalogue.field_column[event->id][index];
}

static int column_by_name(const char *name)
{
	need_catalogue();
	for (int c = 0; c < catalogue.ncolumns; c++)
		if (strcasecmp(catalogue.columns[c].name, name) == 0)
			return c;
	return -1;
}

const char *eventlog_column_name(const char *field)
{
	if (!schema_is_field_name(field))
		return NULL;
	int c = column_by_name(field);

	return c < 0 ? NULL : catalogue.columns[c].quoted;
}

static enum codec codec_of(const struct schema_field *field)
{
	switch (field->type) {
	case FIELD_PID:
	case FIELD_UINT16:
	case FIELD_UINT32:
		return CODEC_INT;
	case FIELD_GUID:
		return CODEC_GUID;
	default:
		break;
	}
	if (strcmp(field->name, "Hashes") == 0)
		return CODEC_HASHES;
	if (strcmp(field->name, "UtcTime") == 0 || strcmp(field->name, "CreationUtcTime") == 0 ||
	    strcmp(field->name, "PreviousCreationUtcTime") == 0)
		return CODEC_TIME;
	return CODEC_TEXT;
}

bool eventlog_column_groupable(const char *field)
{
	for (size_t e = 0; e < schema_event_count(); e++) {
		const struct schema_event *event = schema_event_at(e);
		int index = schema_field_index(event, field);

		if (index >= 0 && codec_of(&event->fields[index]) == CODEC_TIME)
			return false;
	}
	return true;
}

bool eventlog_column_nocase_exact(const char *field)
{
	for (size_t e = 0; e < schema_event_count(); e++) {
		const struct schema_event *event = schema_event_at(e);
		int index = schema_field_index(event, field);

		if (index < 0)
			continue;
		enum codec codec = codec_of(&event->fields[index]);

		if (codec == CODEC_TIME || codec == CODEC_HASHES)
			return false;
	}
	return true;
}

/* Value codecs.  Each encoder returns false when the text has no exact
 * compact form; the caller then stores the text. */

static bool encode_int(const char *text, size_t len, int64_t *out)
{
	if (len == 0 || len > 18 || (text[0] == '0' && len > 1))
		return false;
	int64_t v = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		v = v * 10 + (text[i] - '0');
	}
	*out = v;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "{01234567-89ab-cdef-0123-456789abcdef}", lower case only (what we write). */
static bool encode_guid(const char *text, size_t len, unsigned char out[16])
{
	static const char layout[] = "{hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh}";   /* h: hex digit */
	int n = 0;

	if (len != sizeof(layout) - 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (layout[i] != 'h') {
			if (text[i] != layout[i])
				return false;
			continue;
		}
		int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[n++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	return true;
}

static void decode_guid(const unsigned char in[16], struct strbuf *out)
{
	strbuf_printf(out, "{%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
		      in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], in[9],
		      in[10], in[11], in[12], in[13], in[14], in[15]);
}

/* Hashes: "SHA1=hex,MD5=hex,SHA256=hex" (the kinds the config asked for,
 * lower-case hex) as [kind][digest bytes]..., half the size. */
static const struct {
	const char *name;
	unsigned bytes;
} hash_kinds[] = { { "SHA1", 20 }, { "MD5", 16 }, { "SHA256", 32 }, { "IMPHASH", 16 } };
#define HASH_KINDS (sizeof(hash_kinds) / sizeof(hash_kinds[0]))

static size_t encode_hashes(const char *text, size_t len, unsigned char out[EVENTLOG_ENCODE_MAX])
{
	size_t at = 0, n = 0;

	while (at < len) {
		const char *eq = memchr(text + at, '=', len - at);
		size_t kind;

		if (!eq)
			return 0;
		for (kind = 0; kind < HASH_KINDS; kind++)
			if ((size_t)(eq - text - at) == strlen(hash_kinds[kind].name) &&
			    !memcmp(text + at, hash_kinds[kind].name, (size_t)(eq - text - at)))
				break;
		at = (size_t)(eq - text) + 1;
		if (kind == HASH_KINDS || len - at < 2 * hash_kinds[kind].bytes ||
		    n + 1 + hash_kinds[kind].bytes > EVENTLOG_ENCODE_MAX)
			return 0;
		out[n++] = (unsigned char)kind;
		for (unsigned b = 0; b < hash_kinds[kind].bytes; b++, at += 2) {
			int hi = hex_digit(text[at]), lo = hex_digit(text[at + 1]);

			if (hi < 0 || lo < 0)
				return 0;
			out[n++] = (unsigned char)(hi << 4 | lo);
		}
		if (at < len && (text[at] != ',' || at + 1 == len))
			return 0;
		if (at < len)
			at++;
	}
	return n;
}

static void decode_hashes(const unsigned char *in, size_t len, struct strbuf *out)
{
	for (size_t at = 0; at < len;) {
		unsigned kind = in[at++];

		if (kind >= HASH_KINDS || len - at < hash_kinds[kind].bytes)
			return;   /* not written by encode_hashes */
		strbuf_printf(out, "%s%s=", at > 1 ? "," : "", hash_kinds[kind].name);
		for (unsigned b = 0; b < hash_kinds[kind].bytes; b++)
			strbuf_printf(out, "%02x", in[at++]);
	}
}

static int64_t floor_ms(int64_t ns)
{
	return ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): exact, and no libc time calls on the hot path. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *text, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	*out = v;
	return true;
}

/* "YYYY-MM-DD HH:MM:SS.mmm" as milliseconds relative to BASE_NS; only
 * texts that event_format_utctime() gives back byte for byte. */
static bool encode_time(const char *text, size_t len, int64_t base_ns, int64_t *out)
{
	unsigned year, month, day, hour, minute, second, ms;

	if (len != 23 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' ||
	    text[16] != ':' || text[19] != '.' || !digits(text, 4, &year) ||
	    !digits(text + 5, 2, &month) || !digits(text + 8, 2, &day) ||
	    !digits(text + 11, 2, &hour) || !digits(text + 14, 2, &minute) ||
	    !digits(text + 17, 2, &second) || !digits(text + 20, 3, &ms))
		return false;
	static const unsigned month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
	    (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 59)
		return false;
	int64_t at_ms = ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second;

	at_ms = at_ms * 1000 + ms;
	*out = at_ms - floor_ms(base_ns);
	return true;
}

static void decode_value(enum codec codec, sqlite3_stmt *stmt, int col, int64_t base_ns,
			 struct strbuf *out)
{
	char buf[48];

	switch (sqlite3_column_type(stmt, col)) {
	case SQLITE_NULL:
		strbuf_putc(out, '-');
		return;
	case SQLITE_INTEGER:
		if (codec == CODEC_TIME)
			strbuf_puts(out, event_format_utctime(
				(floor_ms(base_ns) + sqlite3_column_int64(stmt, col)) * 1000000, buf));
		else
			strbuf_printf(out, "%" PRId64, (int64_t)sqlite3_column_int64(stmt, col));
		return;
	case SQLITE_BLOB:
		if (codec == CODEC_GUID && sqlite3_column_bytes(stmt, col) == 16) {
			decode_guid(sqlite3_column_blob(stmt, col), out);
			return;
		}
		if (codec == CODEC_HASHES) {
			decode_hashes(sqlite3_column_blob(stmt, col), (size_t)sqlite3_column_bytes(stmt, col), out);
			return;
		}
		break;
	default:
		break;
	}
	const void *text = sqlite3_column_blob(stmt, col);

	if (text)
		strbuf_append(out, text, (size_t)sqlite3_column_bytes(stmt, col));
}

void eventlog_decode_value(const struct schema_event *event, int index, sqlite3_value *value,
			   struct strbuf *out)
{
	enum codec codec = index >= 0 && (unsigned)index < event->nfields
		? codec_of(&event->fields[index]) : CODEC_TEXT;

	switch (sqlite3_value_type(value)) {
	case SQLITE_NULL:
		strbuf_putc(out, '-');
		return;
	case SQLITE_INTEGER:
		strbuf_printf(out, "%" PRId64, (int64_t)sqlite3_value_int64(value));
		return;
	case SQLITE_BLOB:
		if (codec == CODEC_GUID && sqlite3_value_bytes(value) == 16) {
			decode_guid(sqlite3_value_blob(value), out);
			return;
		}
		if (codec == CODEC_HASHES) {
			decode_hashes(sqlite3_value_blob(value), (size_t)sqlite3_value_bytes(value), out);
			return;
		}
		break;
	default:
		break;
	}
	const void *text = sqlite3_value_blob(value);

	if (text)
		strbuf_append(out, text, (size_t)sqlite3_value_bytes(value));
}

bool eventlog_encode_value(const struct schema_event *event, int index, const char *text,
			   struct eventlog_bind *bind, unsigned char buf[EVENTLOG_ENCODE_MAX])
{
	size_t len = strlen(text), n;

	if (!event || index < 0 || (unsigned)index >= event->nfields)
		return false;
	if (strcmp(text, "-") == 0)
		return false;   /* stored as NULL */
	switch (codec_of(&event->fields[index])) {
	case CODEC_INT:
		bind->kind = BIND_INT;
		if (encode_int(text, len, &bind->number))
			return true;
		break;
	case CODEC_GUID:
		if (encode_guid(text, len, buf)) {
			bind->kind = BIND_BLOB;
			bind->data = buf;
			bind->len = 16;
			return true;
		}
		break;
	case CODEC_HASHES:
		if ((n = encode_hashes(text, len, buf)) > 0) {
			bind->kind = BIND_BLOB;
			bind->data = buf;
			bind->len = n;
			return true;
		}
		break;
	case CODEC_TIME:
		return false;
	case CODEC_TEXT:
		break;
	}
	bind->kind = BIND_TEXT;
	bind->data = text;
	bind->len = len;
	return true;
}

/* The log. */

struct origin {
	unsigned id;
	char *computer;
	unsigned process_id, thread_id;
};

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

static void set_error(struct strbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	strbuf_vprintf(err, fmt, ap);
	va_end(ap);
}

static int exec(struct eventlog *log, const char *sql, struct strbuf *err)
{
	char *msg = NULL;

	if (sqlite3_exec(log->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		set_error(err, "%s: %s", log->path, msg ? msg : sqlite3_errmsg(log->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int64_t pragma_int(struct eventlog *log, const char *sql)
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

static int64_t meta_get(struct eventlog *log, const char *key, int64_t fallback)
{
	int64_t v = fallback;

	sqlite3_reset(log->get_meta);
	sqlite3_bind_text(log->get_meta, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(log->get_meta) == SQLITE_ROW)
		v = sqlite3_column_int64(log->get_meta, 0);
	sqlite3_reset(log->get_meta);
	return v;
}

static int meta_put(struct eventlog *log, const char *key, int64_t value)
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
	for (int c = 0; c < catalogue.ncolumns; c++)
		strbuf_printf(&sql, ", %s", catalogue.columns[c].quoted);
	strbuf_printf(&sql, ");"
		      "CREATE INDEX IF NOT EXISTS events_by_event ON events(EventID);"
		      "INSERT OR IGNORE INTO meta VALUES('format_version', %d);"
		      "INSERT OR IGNORE INTO meta VALUES('max_size', %llu);"
		      "INSERT OR IGNORE INTO meta VALUES('next_record_id', 1);"
		      "COMMIT;", FORMAT_VERSION, EVENTLOG_DEFAULT_MAX_SIZE);
	rc = exec(log, sql.data, err);
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
		set_error(err, "%s: %s", log->path, sqlite3_errmsg(log->db));
		return -1;
	}
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(stmt, 1);

		for (int c = 0; name && c < catalogue.ncolumns; c++)
			if (strcasecmp(name, catalogue.columns[c].name) == 0)
				log->column_present[c] = true;
	}
	sqlite3_finalize(stmt);
	return 0;
}

static int add_missing_columns(struct eventlog *log, struct strbuf *err)
{
	if (find_columns(log, err) < 0)
		return -1;
	for (int c = 0; c < catalogue.ncolumns; c++) {
		if (log->column_present[c])
			continue;
		char sql[128];

		snprintf(sql, sizeof(sql), "ALTER TABLE events ADD COLUMN %s", catalogue.columns[c].quoted);
		if (exec(log, sql, err) < 0)
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
		set_error(err, "%s: %s", log->path, sqlite3_errstr(rc));
		return -1;
	}
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) {
		set_error(err, "%s: not an event log: %s", log->path, sqlite3_errstr(rc));
		return 1;
	}
	all = (int)pragma_int(log, "SELECT count(*) FROM sqlite_master");
	if (all < 0) {
		set_error(err, "%s: not an event log: %s", log->path, sqlite3_errmsg(log->db));
		return 1;
	}
	if (all == 0)
		return 0;   /* empty: a new log */
	if (tables != 3) {
		set_error(err, "%s: an SQLite database, but not a sysmon event log", log->path);
		return 1;
	}
	if (thorough) {
		if (sqlite3_prepare_v2(log->db, "PRAGMA quick_check(1)", -1, &stmt, NULL) != SQLITE_OK) {
			set_error(err, "%s: damaged: %s", log->path, sqlite3_errmsg(log->db));
			return 1;
		}
		rc = sqlite3_step(stmt);
		bool ok = rc == SQLITE_ROW &&
			strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") == 0;
		if (!ok)
			set_error(err, "%s: damaged: %s", log->path,
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
				set_error(err, "cannot create directory %s: %s", dir, strerror(errno));
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

static void disconnect(struct eventlog *log)
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
	disconnect(log);
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
		set_error(err, "%s: cannot open: %s", log->path,
			  log->db ? sqlite3_errmsg(log->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(log->db, 1);
	sqlite3_busy_timeout(log->db, BUSY_TIMEOUT_MS);
	return 0;
}

/* Move PATH (and its -wal) aside as PATH.damaged-<time>; the -shm is only
 * an index of the -wal and is removed. */
static char *move_aside(const char *path, struct strbuf *err)
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
		set_error(err, "%s: damaged, and cannot be moved aside: %s", path, strerror(errno));
		free(moved);
		return NULL;
	}
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;

	strbuf_printf(&from, "%s-wal", path);
	strbuf_printf(&to, "%s-wal", moved);
	rename(from.data, to.data);
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
		set_error(err, "%s: %s", log->path, sqlite3_errmsg(log->db));
		return -1;
	}
	log->page_size = (unsigned)pragma_int(log, "PRAGMA page_size");
	log->max_size = (uint64_t)meta_get(log, "max_size", (int64_t)EVENTLOG_DEFAULT_MAX_SIZE);
	int64_t next = meta_get(log, "next_record_id", 1);
	int64_t last = pragma_int(log, "SELECT coalesce(max(EventRecordID), 0) FROM events");

	log->next_record_id = (uint64_t)(next > last ? next : last + 1);
	return 0;
}

/* The write-ahead log is on disk next to the log: keep it a fraction of
 * the bound (checkpoint after bound/16, truncate back to bound/8 after a
 * checkpoint), and at most SQLite's default 1000 pages between checkpoints. */
static void fit_wal_to_bound(struct eventlog *log)
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
static int connect_writer(struct eventlog *log, bool create, bool repair, char **damaged,
			  struct strbuf *err)
{
	const char *path = log->path;
	struct stat st;

	if (stat(path, &st) != 0) {
		if (!create) {
			set_error(err, "%s: no event log there (%s)", path, strerror(errno));
			return -1;
		}
		if (make_parent_directory(path, err) < 0)
			return -1;
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

		if (fd < 0) {
			set_error(err, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
		close(fd);
	} else if (!S_ISREG(st.st_mode)) {
		set_error(err, "%s: not a regular file", path);
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
			set_error(err, "%s", strbuf_str(&why));
			strbuf_release(&why);
			return -1;
		}
		/* What can still be read of a damaged log keeps ids unique
		 * and the admin's bound (best effort: -1 if unreadable). */
		int64_t next = pragma_int(log, "SELECT value FROM meta WHERE key = 'next_record_id'");
		int64_t last = pragma_int(log, "SELECT max(EventRecordID) FROM events");

		salvaged_next = next > last ? next : (last >= 0 ? last + 1 : -1);
		salvaged_max_size = pragma_int(log, "SELECT value FROM meta WHERE key = 'max_size'");
		sqlite3_close(log->db);
		log->db = NULL;
		char *moved = move_aside(path, err);

		strbuf_release(&why);
		if (!moved)
			return -1;
		if (damaged)
			*damaged = moved;
		else
			free(moved);
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);

		if (fd < 0) {
			set_error(err, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
		close(fd);
	}

	/* The monitor must not stall behind a long `sysmon log clear`: it
	 * waits one second, then keeps the batch for its next flush. */
	if (repair)
		sqlite3_busy_timeout(log->db, MONITOR_BUSY_TIMEOUT_MS);
	/* Settings that only a new file takes (auto_vacuum before any table). */
	if (pragma_int(log, "SELECT count(*) FROM sqlite_master") == 0 &&
	    exec(log, "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA page_size = 4096", err) < 0)
		return -1;
	if (exec(log, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		 "PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY", err) < 0)
		return -1;
	if (create_schema(log, err) < 0 || add_missing_columns(log, err) < 0 ||
	    prepare_writer(log, err) < 0)
		return -1;
	if (salvaged_next > (int64_t)log->next_record_id) {
		log->next_record_id = (uint64_t)salvaged_next;
		meta_put(log, "next_record_id", salvaged_next);
	}
	if (salvaged_max_size >= (int64_t)EVENTLOG_MIN_MAX_SIZE) {
		log->max_size = (uint64_t)salvaged_max_size;
		meta_put(log, "max_size", salvaged_max_size);
	}
	fit_wal_to_bound(log);
	return 0;
}

static struct eventlog *open_writer(const char *path, bool create, bool repair, char **damaged,
				    struct strbuf *err)
{
	struct eventlog *log = xcalloc(1, sizeof(*log));

	need_catalogue();
	log->path = xstrdup(path);
	log->repair = repair;
	if (damaged)
		*damaged = NULL;
	if (connect_writer(log, create, repair, damaged, err) < 0) {
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

	need_catalogue();
	log->path = xstrdup(path);
	log->readonly = true;
	if (stat(path, &st) != 0) {
		set_error(err, "%s: no event log there (%s)", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		set_error(err, "%s: not a regular file", path);
		goto fail;
	}
	if (open_connection(log, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, err) < 0)
		goto fail;
	if (check_database(log, false, err) != 0)
		goto fail;
	if (pragma_int(log, "SELECT count(*) FROM sqlite_master") == 0) {
		set_error(err, "%s: not a sysmon event log (an empty file)", path);
		goto fail;
	}
	if (find_columns(log, err) < 0)
		goto fail;
	/* Queries scan; mapping the file saves a copy per page. */
	exec(log, "PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -32768", NULL);
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

int eventlog_append(struct eventlog *log, struct event *ev)
{
	if (log->readonly || !ev->schema) {
		strbuf_reset(&log->error);
		set_error(&log->error, "%s: %s", log->path,
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
		strbuf_printf(&sql, ", %s", catalogue.columns[column_of(event, (int)i)].quoted);
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
		int param = (int)i + 5;
		const char *text = event_value(ev, (int)i);
		size_t len = event_value_len(ev, (int)i);
		unsigned char *buf = encoded[i];
		int64_t number;
		size_t n;

		if (!event_is_set(ev, (int)i) || (len == 1 && text[0] == '-')) {
			sqlite3_bind_null(stmt, param);
			continue;
		}
		switch ((enum codec)catalogue.field_codec[ev->schema->id][i]) {
		case CODEC_INT:
			if (encode_int(text, len, &number)) {
				sqlite3_bind_int64(stmt, param, number);
				continue;
			}
			break;
		case CODEC_GUID:
			if (encode_guid(text, len, buf)) {
				sqlite3_bind_blob(stmt, param, buf, 16, SQLITE_STATIC);
				continue;
			}
			break;
		case CODEC_HASHES:
			if ((n = encode_hashes(text, len, buf)) > 0) {
				sqlite3_bind_blob(stmt, param, buf, (int)n, SQLITE_STATIC);
				continue;
			}
			break;
		case CODEC_TIME:
			if (encode_time(text, len, ev->time_ns, &number)) {
				sqlite3_bind_int64(stmt, param, number);
				continue;
			}
			break;
		case CODEC_TEXT:
			break;
		}
		sqlite3_bind_text(stmt, param, text, (int)len, SQLITE_STATIC);
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
	int64_t page_count = pragma_int(log, "PRAGMA page_count");
	int64_t free_pages = pragma_int(log, "PRAGMA freelist_count");
	int64_t used = page_count - free_pages;

	if (page_count < 0 || free_pages < 0)
		return -1;
	if (used > bound_pages - slack) {
		int64_t target = bound_pages - 2 * slack;

		for (int round = 0; round < 64 && used > target; round++) {
			int64_t first = pragma_int(log, "SELECT coalesce(min(EventRecordID), 0) FROM events");
			int64_t last = pragma_int(log, "SELECT coalesce(max(EventRecordID), 0) FROM events");

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
			used = pragma_int(log, "PRAGMA page_count") - pragma_int(log, "PRAGMA freelist_count");
		}
		if (sqlite3_exec(log->db, "DELETE FROM batches WHERE last_id < "
				 "(SELECT coalesce(min(EventRecordID), 1 << 62) FROM events)", NULL, NULL, NULL) != SQLITE_OK)
			return -1;
	}
	page_count = pragma_int(log, "PRAGMA page_count");
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
	if (exec(log, "BEGIN IMMEDIATE", &log->error) < 0)
		return -1;
	uint64_t max_size = (uint64_t)meta_get(log, "max_size", (int64_t)log->max_size);

	if (max_size < EVENTLOG_MIN_MAX_SIZE)
		max_size = EVENTLOG_MIN_MAX_SIZE;
	if (max_size != log->max_size) {
		log->max_size = max_size;
		fit_wal_to_bound(log);
	}
	if (log->nbatch && write_origin(log) < 0)
		goto fail;
	for (size_t i = 0; i < log->nbatch; i++)
		if (insert_event(log, &log->batch[i]) < 0)
			goto fail;
	if (log->nbatch && meta_put(log, "next_record_id", (int64_t)log->next_record_id) < 0)
		goto fail;
	if (log->nbatch && record_batch(log) < 0)
		goto fail;
	if (enforce_bound(log) < 0)
		goto fail;
	if (exec(log, "COMMIT", &log->error) < 0)
		goto rollback;
	log->failure = SQLITE_OK;
	return 0;
fail:
	set_error(&log->error, "%s: cannot write: %s", log->path, sqlite3_errmsg(log->db));
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

	disconnect(log);
	char *moved = move_aside(log->path, &err);
	bool ok = moved && connect_writer(log, true, true, NULL, &err) == 0;

	if (ok) {
		if (log->next_record_id < next)
			log->next_record_id = next;
		log->self.id = 0;
		ok = meta_put(log, "max_size", (int64_t)max_size) == 0 && commit_batch(log) == 0;
		if (!ok)
			set_error(&err, "%s", strbuf_str(&log->error));
	}
	strbuf_reset(&log->error);
	if (ok)
		set_error(&log->error, "the event log %s was damaged; it was moved to %s and a new one started",
			  log->path, moved);
	else
		set_error(&log->error, "the event log %s is damaged and cannot be replaced: %s",
			  log->path, strbuf_str(&err));
	free(moved);
	strbuf_release(&err);
	return ok;
}

/* After a failed replacement: try to connect again at each flush. */
static bool reconnect(struct eventlog *log)
{
	struct strbuf err = STRBUF_INIT;
	uint64_t next = log->next_record_id;

	if (connect_writer(log, true, log->repair, NULL, &err) < 0) {
		disconnect(log);
		strbuf_reset(&log->error);
		set_error(&log->error, "%s", strbuf_str(&err));
		strbuf_release(&err);
		return false;
	}
	if (log->next_record_id < next)
		log->next_record_id = next;
	log->self.id = 0;
	strbuf_release(&err);
	return true;
}

int eventlog_flush(struct eventlog *log)
{
	if (log->readonly)
		return 0;
	if (!log->db && !reconnect(log))
		return -1;
	/* Nothing to write: only a change by another connection (a new
	 * bound) needs a transaction. */
	if (log->nbatch == 0) {
		int64_t version = pragma_int(log, "PRAGMA data_version");

		if (version == log->data_version)
			return 0;
		log->data_version = version;
	}
	strbuf_reset(&log->error);
	if (commit_batch(log) < 0) {
		if (replace_damaged(log)) {
			log->nbatch = 0;
			log->batch_bytes = 0;
			return -1;   /* nothing lost, but the monitor reports the move */
		}
		/* Keep the batch for the next flush unless it is getting
		 * large: then it is dropped and the caller reports the loss. */
		if (log->nbatch < 4 * BATCH_MAX_EVENTS)
			return -1;
		strbuf_printf(&log->error, " (%zu events lost)", log->nbatch);
		log->nbatch = 0;
		log->batch_bytes = 0;
		return -1;
	}
	log->nbatch = 0;
	log->batch_bytes = 0;
	return 0;
}

void eventlog_close(struct eventlog *log)
{
	if (!log)
		return;
	if (!log->readonly && log->nbatch)
		eventlog_flush(log);
	free_log(log);
}

/* Administration. */

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
	if (exec(log, "BEGIN", err) < 0)
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
		set_error(err, "%s: %s", log->path, sqlite3_errmsg(log->db));
	}
	sqlite3_finalize(stmt);
	info->page_size = (unsigned)pragma_int(log, "PRAGMA page_size");
	info->used_bytes = (uint64_t)(pragma_int(log, "PRAGMA page_count") -
				      pragma_int(log, "PRAGMA freelist_count")) * info->page_size;
	sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL);
	info->file_bytes = file_size(log->path, "");
	info->wal_bytes = file_size(log->path, "-wal");
	return rc == SQLITE_OK ? 0 : -1;
}

int eventlog_set_max_size(struct eventlog *log, uint64_t max_size, struct strbuf *err)
{
	if (max_size < EVENTLOG_MIN_MAX_SIZE || max_size > (uint64_t)INT64_MAX) {
		set_error(err, "maximum size %llu is out of range (at least %llu bytes)",
			  (unsigned long long)max_size, EVENTLOG_MIN_MAX_SIZE);
		return -1;
	}
	if (exec(log, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (meta_put(log, "max_size", (int64_t)max_size) < 0) {
		set_error(err, "%s: cannot write: %s", log->path, sqlite3_errmsg(log->db));
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL);
	/* Apply it now (pending records of this connection included), so the
	 * file fits the bound even if no monitor is running. */
	if (!log->db && !reconnect(log))
		return -1;
	strbuf_reset(&log->error);
	if (commit_batch(log) < 0) {
		if (replace_damaged(log)) {
			log->nbatch = 0;
			log->batch_bytes = 0;
			return -1;   /* nothing lost, but the monitor reports the move */
		}
		set_error(err, "%s", strbuf_str(&log->error));
		return -1;
	}
	log->nbatch = 0;
	log->batch_bytes = 0;
	sqlite3_wal_checkpoint_v2(log->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return 0;
}

int eventlog_backup(struct eventlog *log, const char *path, uint64_t *last_id, struct strbuf *err)
{
	sqlite3_stmt *stmt;
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);

	if (fd < 0) {
		set_error(err, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (sqlite3_prepare_v2(log->db, "VACUUM INTO ?", -1, &stmt, NULL) != SQLITE_OK) {
		set_error(err, "%s: %s", log->path, sqlite3_errmsg(log->db));
		unlink(path);
		return -1;
	}
	sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);

	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		set_error(err, "cannot copy %s to %s: %s", log->path, path, sqlite3_errmsg(log->db));
		unlink(path);
		return -1;
	}
	if (last_id) {
		struct eventlog *copy = eventlog_open_readonly(path, err);

		if (!copy)
			return -1;
		*last_id = (uint64_t)pragma_int(copy, "SELECT coalesce(max(EventRecordID), 0) FROM events");
		eventlog_close(copy);
	}
	return 0;
}

int eventlog_clear(struct eventlog *log, uint64_t up_to, struct strbuf *err)
{
	char sql[160];

	if (exec(log, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	/* The next id survives the records: ids are never reused. */
	if (exec(log, "INSERT OR REPLACE INTO meta VALUES('next_record_id', max("
		 "coalesce((SELECT value FROM meta WHERE key = 'next_record_id'), 1),"
		 "coalesce((SELECT max(EventRecordID) FROM events), 0) + 1))", err) < 0)
		goto fail;
	int64_t last = up_to > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)up_to;

	snprintf(sql, sizeof(sql), "DELETE FROM events WHERE EventRecordID <= %" PRId64 ";"
		 "DELETE FROM batches WHERE last_id <= %" PRId64, last, last);
	if (exec(log, sql, err) < 0 || exec(log, "PRAGMA incremental_vacuum", err) < 0 ||
	    exec(log, "COMMIT", err) < 0)
		goto fail;
	int64_t next = meta_get(log, "next_record_id", 1);

	if ((uint64_t)next > log->next_record_id)
		log->next_record_id = (uint64_t)next;
	sqlite3_wal_checkpoint_v2(log->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return 0;
fail:
	sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Reading. */

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
	for (int c = 0; c < catalogue.ncolumns; c++) {
		bool wanted = !sel->fields && log->column_present[c];

		for (size_t i = 0; !wanted && log->column_present[c] && i < sel->nfields; i++)
			wanted = strcasecmp(sel->fields[i], catalogue.columns[c].name) == 0;
		cur->result_of_column[c] = wanted ? result++ : -1;
		if (wanted)
			strbuf_printf(&sql, ", %s", catalogue.columns[c].quoted);
	}
	strbuf_puts(&sql, " FROM events");
	if (sel->where && *sel->where)
		strbuf_printf(&sql, " WHERE %s", sel->where);
	strbuf_printf(&sql, " ORDER BY EventRecordID%s", sel->newest_first ? " DESC" : "");
	if (sqlite3_prepare_v2(log->db, sql.data, -1, &cur->stmt, NULL) != SQLITE_OK ||
	    bind_all(cur->stmt, 1, sel->binds, sel->nbinds) < 0) {
		set_error(err, "%s: cannot query: %s", log->path, sqlite3_errmsg(log->db));
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
			set_error(err, "%s: cannot read: %s", cur->log->path, sqlite3_errmsg(cur->log->db));
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
		int c = column_of(ev->schema, (int)i);
		int col = c < 0 ? -1 : cur->result_of_column[c];

		if (col < 0 || sqlite3_column_type(stmt, col) == SQLITE_NULL)
			continue;
		strbuf_reset(&value);
		decode_value((enum codec)catalogue.field_codec[ev->schema->id][i], stmt, col, ev->time_ns, &value);
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
		set_error(err, "%s: cannot query: %s", log->path, sqlite3_errmsg(log->db));
		sqlite3_finalize(stmt);
		return -1;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (row(stmt, arg) < 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		set_error(err, "%s: cannot read: %s", log->path, sqlite3_errmsg(log->db));
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}
