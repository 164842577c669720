/*
 * The status file parsed with SQLite's JSON functions (see status_file.h),
 * in an in-memory database that holds nothing.
 */
#include "store/status_file.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static char *column_text(sqlite3_stmt *stmt, int col, const char *fallback)
{
	const char *text = (const char *)sqlite3_column_text(stmt, col);

	return text ? xstrdup(text) : fallback ? xstrdup(fallback) : NULL;
}

/* The members of SINK other than those with a field of their own. */
static int read_members(sqlite3_stmt *members, const char *sink, struct status_sink *out)
{
	sqlite3_reset(members);
	if (sqlite3_bind_text(members, 1, sink, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		return -1;
	while (sqlite3_step(members) == SQLITE_ROW) {
		out->members = xrealloc(out->members, (out->nmembers + 1) * sizeof(*out->members));
		out->members[out->nmembers].key = column_text(members, 0, "");
		out->members[out->nmembers].value = column_text(members, 1, "");
		out->nmembers++;
	}
	return 0;
}

static int read_sinks(sqlite3 *db, const char *json, struct status_report *report, struct strbuf *err)
{
	sqlite3_stmt *sinks = NULL, *head = NULL, *members = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "SELECT value FROM json_each(?1, '$.sinks')", -1, &sinks, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT json_extract(?1, '$.kind'), json_extract(?1, '$.name'),"
			       " json_extract(?1, '$.state'), json_extract(?1, '$.target'),"
			       " json_extract(?1, '$.last_error')", -1, &head, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT key, value FROM json_each(?1)"
			       " WHERE key NOT IN ('kind', 'name', 'state', 'target', 'last_error')",
			       -1, &members, NULL) != SQLITE_OK) {
		strbuf_printf(err, "%s", sqlite3_errmsg(db));
		rc = -1;
		goto out;
	}
	sqlite3_bind_text(sinks, 1, json, -1, SQLITE_STATIC);
	while (sqlite3_step(sinks) == SQLITE_ROW) {
		const char *sink = (const char *)sqlite3_column_text(sinks, 0);

		sqlite3_reset(head);
		sqlite3_bind_text(head, 1, sink, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(head) != SQLITE_ROW)
			continue;
		report->sinks = xrealloc(report->sinks, (report->nsinks + 1) * sizeof(*report->sinks));
		struct status_sink *s = &report->sinks[report->nsinks++];

		memset(s, 0, sizeof(*s));
		s->kind = column_text(head, 0, "?");
		s->name = column_text(head, 1, "?");
		s->state = column_text(head, 2, "?");
		s->target = column_text(head, 3, "?");
		s->last_error = column_text(head, 4, NULL);
		if (read_members(members, sink, s) < 0)
			break;
	}
out:
	sqlite3_finalize(sinks);
	sqlite3_finalize(head);
	sqlite3_finalize(members);
	return rc;
}

int status_file_parse(const char *json, struct status_report *report, struct strbuf *err)
{
	sqlite3 *db;
	sqlite3_stmt *top = NULL;
	int rc = -1;

	memset(report, 0, sizeof(*report));
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		strbuf_printf(err, "sqlite: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "SELECT json_extract(?1, '$.pid'), json_extract(?1, '$.running'),"
			       " json_extract(?1, '$.updated'), json_extract(?1, '$.outputs'),"
			       " json_extract(?1, '$.log')", -1, &top, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(top, 1, json, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(top) != SQLITE_ROW) {
		strbuf_printf(err, "the status file is not valid: %s", sqlite3_errmsg(db));
		goto out;
	}
	report->pid = sqlite3_column_int(top, 0);
	report->running = sqlite3_column_int(top, 1) != 0;
	report->updated = column_text(top, 2, "?");
	report->outputs = column_text(top, 3, "?");
	report->log = column_text(top, 4, "?");
	rc = read_sinks(db, json, report, err);
out:
	sqlite3_finalize(top);
	sqlite3_close(db);
	if (rc < 0)
		status_report_free(report);
	return rc;
}

void status_report_free(struct status_report *report)
{
	for (size_t i = 0; i < report->nsinks; i++) {
		struct status_sink *s = &report->sinks[i];

		free(s->kind);
		free(s->name);
		free(s->state);
		free(s->target);
		free(s->last_error);
		for (size_t m = 0; m < s->nmembers; m++) {
			free(s->members[m].key);
			free(s->members[m].value);
		}
		free(s->members);
	}
	free(report->sinks);
	free(report->updated);
	free(report->outputs);
	free(report->log);
	memset(report, 0, sizeof(*report));
}
