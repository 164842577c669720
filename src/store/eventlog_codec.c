/*
 * The event log's column catalogue and value codecs (eventlog_internal.h):
 * one column per distinct field name of the schema, and for each field the
 * compact stored form of its text (eventlog.c's opening comment lists them),
 * used only when decoding gives back the same bytes.
 */
#include "store/eventlog_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct eventlog_catalogue eventlog_catalogue;
static pthread_once_t catalogue_once = PTHREAD_ONCE_INIT;

static enum codec codec_of(const struct schema_field *field);

static void build_catalogue(void)
{
	memset(eventlog_catalogue.field_column, -1, sizeof(eventlog_catalogue.field_column));
	for (size_t e = 0; e < schema_event_count(); e++) {
		const struct schema_event *event = schema_event_at(e);

		for (unsigned f = 0; f < event->nfields; f++) {
			const char *name = event->fields[f].name;
			int c;

			for (c = 0; c < eventlog_catalogue.ncolumns; c++)
				if (strcasecmp(eventlog_catalogue.columns[c].name, name) == 0)
					break;
			if (c == eventlog_catalogue.ncolumns) {
				if (c == MAX_COLUMNS || strlen(name) >= sizeof(eventlog_catalogue.columns[c].name))
					continue;   /* cannot happen with the catalogue's names */
				struct column *column = &eventlog_catalogue.columns[c];

				snprintf(column->name, sizeof(column->name), "%s", name);
				snprintf(column->quoted, sizeof(column->quoted), "\"%s\"", name);
				eventlog_catalogue.ncolumns++;
			}
			if (event->id < MAX_EVENT_ID) {
				eventlog_catalogue.field_column[event->id][f] = (signed char)c;
				eventlog_catalogue.field_codec[event->id][f] =
					(unsigned char)codec_of(&event->fields[f]);
			}
		}
	}
}

void eventlog_need_catalogue(void)
{
	pthread_once(&catalogue_once, build_catalogue);
}

int eventlog_column_of(const struct schema_event *event, int index)
{
	if (!event || event->id >= MAX_EVENT_ID || index < 0 || index >= SCHEMA_MAX_FIELDS)
		return -1;
	return eventlog_catalogue.field_column[event->id][index];
}

static int column_by_name(const char *name)
{
	eventlog_need_catalogue();
	for (int c = 0; c < eventlog_catalogue.ncolumns; c++)
		if (strcasecmp(eventlog_catalogue.columns[c].name, name) == 0)
			return c;
	return -1;
}

const char *eventlog_column_name(const char *field)
{
	if (!schema_is_field_name(field))
		return NULL;
	int c = column_by_name(field);

	return c < 0 ? NULL : eventlog_catalogue.columns[c].quoted;
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

void eventlog_bind_stored(sqlite3_stmt *stmt, int param, enum codec codec, const char *text,
			  size_t len, int64_t base_ns, unsigned char buf[EVENTLOG_ENCODE_MAX])
{
	int64_t number;
	size_t n;

	switch (codec) {
	case CODEC_INT:
		if (encode_int(text, len, &number)) {
			sqlite3_bind_int64(stmt, param, number);
			return;
		}
		break;
	case CODEC_GUID:
		if (encode_guid(text, len, buf)) {
			sqlite3_bind_blob(stmt, param, buf, 16, SQLITE_STATIC);
			return;
		}
		break;
	case CODEC_HASHES:
		if ((n = encode_hashes(text, len, buf)) > 0) {
			sqlite3_bind_blob(stmt, param, buf, (int)n, SQLITE_STATIC);
			return;
		}
		break;
	case CODEC_TIME:
		if (encode_time(text, len, base_ns, &number)) {
			sqlite3_bind_int64(stmt, param, number);
			return;
		}
		break;
	case CODEC_TEXT:
		break;
	}
	sqlite3_bind_text(stmt, param, text, (int)len, SQLITE_STATIC);
}

void eventlog_decode_column(enum codec codec, sqlite3_stmt *stmt, int col, int64_t base_ns,
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
