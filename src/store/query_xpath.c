/*
 * Windows Event Log XPath filters for queries (query.h): query_add_xpath()
 * turns one into an SQL condition over the `events` columns, with binds.
 *
 * The XPath subset (what people paste from Event Viewer / Get-WinEvent):
 *   query    := or ; or := and ('or' and)* ; and := unary ('and' unary)*
 *   unary    := 'not' '(' or ')' | '(' or ')' | atom
 *   top atom := ('*' | 'Event') '[' or ']'
 *   in *[..] : 'System' '[' or ']' | 'EventData' '[' or ']'
 *   System   : EventID|Task|Level|Version|EventRecordID OP number,
 *              Computer OP 'text', Provider[@Name='Linux-Sysmon'],
 *              TimeCreated '[' @SystemTime OP 'ISO time' |
 *                              timediff(@SystemTime) OP milliseconds ']'
 *   EventData: Data[@Name='Field'] OP 'value'
 *   OP       := = != < <= > >=
 * All of it is exact in SQL.
 */
#include "store/query_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct xpath {
	const char *text, *p;
	struct query *q;
	int64_t now_ns;
	struct strbuf *sql;
	struct strbuf *err;
	bool failed;
	int depth;                      /* of brackets and parentheses */
	int terms;                      /* and/or operands so far */
};

/* Bounds that keep the parser's stack and SQLite's expression depth (1000)
 * safe, far above what a hand-written filter needs. */
#define XPATH_MAX_DEPTH 64
#define XPATH_MAX_TERMS 256

enum xpath_context { XP_TOP, XP_EVENT, XP_SYSTEM, XP_TIME, XP_DATA };

static void xp_fail(struct xpath *x, const char *what)
{
	if (x->failed)
		return;
	x->failed = true;
	strbuf_printf(x->err, "XPath: %s at offset %td in \"%s\"", what, x->p - x->text, x->text);
}

static void xp_space(struct xpath *x)
{
	while (isspace((unsigned char)*x->p))
		x->p++;
}

static bool xp_char(struct xpath *x, char c)
{
	xp_space(x);
	if (*x->p != c)
		return false;
	x->p++;
	return true;
}

static void xp_expect(struct xpath *x, char c)
{
	char what[32];

	if (!xp_char(x, c)) {
		snprintf(what, sizeof(what), "expected '%c'", c);
		xp_fail(x, what);
	}
}

/* An XPath name (element, attribute after '@', function). */
static size_t xp_name(struct xpath *x, char *out, size_t size)
{
	size_t n = 0;

	xp_space(x);
	while ((isalnum((unsigned char)x->p[n]) || x->p[n] == '_' || x->p[n] == '-') && n + 1 < size) {
		out[n] = x->p[n];
		n++;
	}
	out[n] = '\0';
	return n;
}

static bool xp_keyword(struct xpath *x, const char *word)
{
	char name[64];
	size_t n = xp_name(x, name, sizeof(name));

	if (n == 0 || strcasecmp(name, word) != 0)
		return false;
	x->p += n;
	return true;
}

static const char *xp_operator(struct xpath *x)
{
	static const char *const ops[] = { "!=", "<=", ">=", "=", "<", ">" };

	xp_space(x);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t len = strlen(ops[i]);

		if (strncmp(x->p, ops[i], len) == 0) {
			x->p += len;
			return ops[i];
		}
	}
	xp_fail(x, "expected a comparison (=, !=, <, <=, >, >=)");
	return "=";
}

/* A literal: 'text', "text" or a number (digits, maybe a '-'). */
static char *xp_literal(struct xpath *x)
{
	xp_space(x);
	char quote = *x->p;

	if (quote == '\'' || quote == '"') {
		const char *end = strchr(x->p + 1, quote);

		if (!end) {
			xp_fail(x, "unterminated string");
			return xstrdup("");
		}
		char *value = xstrndup(x->p + 1, (size_t)(end - x->p - 1));

		x->p = end + 1;
		return value;
	}
	size_t n = 0;

	if (x->p[n] == '-')
		n++;
	while (isdigit((unsigned char)x->p[n]))
		n++;
	if (n == 0 || (n == 1 && x->p[0] == '-')) {
		xp_fail(x, "expected a number or a quoted string");
		return xstrdup("");
	}
	char *value = xstrndup(x->p, n);

	x->p += n;
	return value;
}

static void xp_bind(struct xpath *x, struct eventlog_bind bind)
{
	struct query *q = x->q;

	q->xpath_binds = xrealloc(q->xpath_binds, (q->nxpath_binds + 1) * sizeof(*q->xpath_binds));
	if (bind.kind != BIND_INT)
		bind.data = query_own_copy(q, bind.data, bind.len);
	q->xpath_binds[q->nxpath_binds++] = bind;
	strbuf_putc(x->sql, '?');
}

static void xp_bind_int(struct xpath *x, int64_t v)
{
	struct eventlog_bind bind = { .kind = BIND_INT, .number = v };

	xp_bind(x, bind);
}

static bool xp_compare(const char *op, int64_t a, int64_t b)
{
	if (!strcmp(op, "="))
		return a == b;
	if (!strcmp(op, "!="))
		return a != b;
	if (!strcmp(op, "<"))
		return a < b;
	if (!strcmp(op, "<="))
		return a <= b;
	if (!strcmp(op, ">"))
		return a > b;
	return a >= b;
}

static int64_t xp_number(struct xpath *x, const char *text)
{
	char *end;

	errno = 0;
	long long v = strtoll(text, &end, 10);

	if (!*text || *end || errno) {
		xp_fail(x, "expected a number");
		return 0;
	}
	return v;
}

/* EventIDs whose Level/Version satisfies OP N, as an SQL condition. */
static void xp_ids_where(struct xpath *x, bool level, const char *op, int64_t n)
{
	bool first = true;

	strbuf_puts(x->sql, "EventID IN (");
	for (size_t e = 0; e < schema_event_count(); e++) {
		const struct schema_event *event = schema_event_at(e);

		if (xp_compare(op, level ? event->level : event->version, n)) {
			strbuf_printf(x->sql, "%s%u", first ? "" : ",", event->id);
			first = false;
		}
	}
	strbuf_puts(x->sql, first ? "NULL)" : ")");
}

static void xp_or(struct xpath *x, enum xpath_context ctx);

static void xp_system_atom(struct xpath *x)
{
	char name[64];
	size_t n = xp_name(x, name, sizeof(name));

	if (n == 0) {
		xp_fail(x, "expected EventID, Level, Task, Version, EventRecordID, Computer, Provider or TimeCreated");
		return;
	}
	x->p += n;
	if (!strcasecmp(name, "Provider")) {
		char attr[32];
		xp_expect(x, '[');
		xp_expect(x, '@');
		x->p += xp_name(x, attr, sizeof(attr));
		const char *op = xp_operator(x);
		char *value = xp_literal(x);

		xp_expect(x, ']');
		bool ours = !strcasecmp(attr, "Name") &&
			    (!strcasecmp(value, "Linux-Sysmon") || !strcasecmp(value, "Microsoft-Windows-Sysmon"));

		if (strcasecmp(attr, "Name") && strcasecmp(attr, "Guid"))
			xp_fail(x, "Provider takes @Name");
		strbuf_puts(x->sql, (ours == !strcmp(op, "=")) ? "1" : "0");
		free(value);
		return;
	}
	if (!strcasecmp(name, "TimeCreated")) {
		xp_expect(x, '[');
		xp_or(x, XP_TIME);
		xp_expect(x, ']');
		return;
	}
	const char *op = xp_operator(x);
	char *value = xp_literal(x);
	const char *sql_op = !strcmp(op, "!=") ? "<>" : op;

	if (!strcasecmp(name, "EventID") || !strcasecmp(name, "Task")) {
		strbuf_printf(x->sql, "EventID %s ", sql_op);
		xp_bind_int(x, xp_number(x, value));
	} else if (!strcasecmp(name, "EventRecordID")) {
		strbuf_printf(x->sql, "EventRecordID %s ", sql_op);
		xp_bind_int(x, xp_number(x, value));
	} else if (!strcasecmp(name, "Level") || !strcasecmp(name, "Version")) {
		xp_ids_where(x, !strcasecmp(name, "Level"), op, xp_number(x, value));
	} else if (!strcasecmp(name, "Computer")) {
		struct eventlog_bind bind = { .kind = BIND_TEXT, .data = value, .len = strlen(value) };

		strbuf_printf(x->sql, "Origin IN (SELECT id FROM origins WHERE computer %s ", sql_op);
		xp_bind(x, bind);
		strbuf_putc(x->sql, ')');
	} else {
		xp_fail(x, "unknown System element");
	}
	free(value);
}

static void xp_time_atom(struct xpath *x)
{
	if (xp_char(x, '@')) {
		if (!xp_keyword(x, "SystemTime")) {
			xp_fail(x, "expected @SystemTime");
			return;
		}
		const char *op = xp_operator(x);
		char *value = xp_literal(x);
		int64_t ns = 0;

		if (!x->failed && query_parse_absolute(value, &ns) < 0)
			xp_fail(x, "expected an ISO 8601 time such as '2026-11-26T10:00:00.000Z'");
		strbuf_printf(x->sql, "TimeCreated %s ", !strcmp(op, "!=") ? "<>" : op);
		xp_bind_int(x, ns);
		free(value);
		return;
	}
	if (!xp_keyword(x, "timediff")) {
		xp_fail(x, "expected @SystemTime or timediff(@SystemTime)");
		return;
	}
	xp_expect(x, '(');
	xp_expect(x, '@');
	if (!xp_keyword(x, "SystemTime"))
		xp_fail(x, "expected timediff(@SystemTime)");
	xp_expect(x, ')');
	const char *op = xp_operator(x);
	char *value = xp_literal(x);
	int64_t ms = xp_number(x, value);

	/* timediff is now minus the event's time, in milliseconds. */
	strbuf_puts(x->sql, "(");
	xp_bind_int(x, x->now_ns);
	strbuf_printf(x->sql, " - TimeCreated) / 1000000 %s ", !strcmp(op, "!=") ? "<>" : op);
	xp_bind_int(x, ms);
	free(value);
}

/* Events that have FIELD, as an SQL list. */
static void ids_with_field(struct strbuf *sql, const char *field)
{
	bool first = true;

	strbuf_puts(sql, "EventID IN (");
	for (size_t e = 0; e < schema_event_count(); e++) {
		const struct schema_event *event = schema_event_at(e);

		if (schema_field_index(event, field) >= 0) {
			strbuf_printf(sql, "%s%u", first ? "" : ",", event->id);
			first = false;
		}
	}
	strbuf_puts(sql, first ? "NULL)" : ")");
}

static void xp_data_atom(struct xpath *x)
{
	char attr[32];
	if (!xp_keyword(x, "Data")) {
		xp_fail(x, "expected Data[@Name='Field']");
		return;
	}
	if (!xp_char(x, '[')) {
		xp_fail(x, "use Data[@Name='Field'] = 'value' (a bare Data is not supported)");
		return;
	}
	xp_expect(x, '@');
	x->p += xp_name(x, attr, sizeof(attr));
	if (strcasecmp(attr, "Name"))
		xp_fail(x, "expected @Name");
	xp_expect(x, '=');
	char *field = xp_literal(x);

	xp_expect(x, ']');
	const char *op = xp_operator(x);
	char *value = xp_literal(x);
	const char *column = eventlog_column_name(field);

	if (!x->failed && !column) {
		struct strbuf why = STRBUF_INIT;

		query_unknown_field("Data[@Name]", field, &why);
		xp_fail(x, strbuf_str(&why));
		strbuf_release(&why);
	}
	if (!x->failed && !eventlog_column_groupable(field))
		xp_fail(x, "times in EventData cannot be compared; use TimeCreated or --since/--until");
	if (x->failed) {
		free(field);
		free(value);
		return;
	}
	/* Stored form of the value: take the codec of any event with the
	 * field (a field name has one type in the catalogue). */
	const struct schema_event *event = NULL;
	int index = -1;

	for (size_t e = 0; e < schema_event_count() && index < 0; e++) {
		event = schema_event_at(e);
		index = schema_field_index(event, field);
	}
	if (!strcmp(op, "=") || !strcmp(op, "!=")) {
		struct eventlog_bind bind;
		unsigned char guid[EVENTLOG_ENCODE_MAX];

		const char *is = !strcmp(op, "=") ? "IS" : "IS NOT";

		/* Among the events that have the field (the others have no
		 * such Data element, so neither = nor != holds). */
		strbuf_putc(x->sql, '(');
		ids_with_field(x->sql, field);
		if (eventlog_encode_value(event, index, value, &bind, guid)) {
			strbuf_printf(x->sql, " AND %s %s ", column, is);
			xp_bind(x, bind);
		} else {
			strbuf_printf(x->sql, " AND %s %s NULL", column, is);   /* "-" */
		}
		strbuf_putc(x->sql, ')');
	} else {
		/* XPath orders numbers: compare as numbers. */
		strbuf_printf(x->sql, "(%s IS NOT NULL AND CAST(%s AS REAL) %s ", column, column, op);
		xp_bind_int(x, xp_number(x, value));
		strbuf_putc(x->sql, ')');
	}
	free(field);
	free(value);
}

static void xp_atom(struct xpath *x, enum xpath_context ctx)
{
	switch (ctx) {
	case XP_TOP:
		if (!xp_char(x, '*') && !xp_keyword(x, "Event")) {
			xp_fail(x, "expected *[...]");
			return;
		}
		xp_expect(x, '[');
		xp_or(x, XP_EVENT);
		xp_expect(x, ']');
		return;
	case XP_EVENT:
		if (xp_keyword(x, "System")) {
			xp_expect(x, '[');
			xp_or(x, XP_SYSTEM);
			xp_expect(x, ']');
		} else if (xp_keyword(x, "EventData")) {
			xp_expect(x, '[');
			xp_or(x, XP_DATA);
			xp_expect(x, ']');
		} else {
			xp_fail(x, "expected System[...] or EventData[...]");
		}
		return;
	case XP_SYSTEM:
		xp_system_atom(x);
		return;
	case XP_TIME:
		xp_time_atom(x);
		return;
	case XP_DATA:
		xp_data_atom(x);
		return;
	}
}

static void xp_unary(struct xpath *x, enum xpath_context ctx)
{
	const char *save = x->p;

	if (x->failed)
		return;
	if (++x->terms > XPATH_MAX_TERMS) {
		xp_fail(x, "too many conditions");
		return;
	}
	if (xp_keyword(x, "not")) {
		if (xp_char(x, '(')) {
			strbuf_puts(x->sql, "NOT (");
			xp_or(x, ctx);
			xp_expect(x, ')');
			strbuf_putc(x->sql, ')');
			return;
		}
		x->p = save;
	}
	if (xp_char(x, '(')) {
		strbuf_putc(x->sql, '(');
		xp_or(x, ctx);
		xp_expect(x, ')');
		strbuf_putc(x->sql, ')');
		return;
	}
	strbuf_putc(x->sql, '(');
	xp_atom(x, ctx);
	strbuf_putc(x->sql, ')');
}

static void xp_and(struct xpath *x, enum xpath_context ctx)
{
	xp_unary(x, ctx);
	while (!x->failed && xp_keyword(x, "and")) {
		strbuf_puts(x->sql, " AND ");
		xp_unary(x, ctx);
	}
}

static void xp_or(struct xpath *x, enum xpath_context ctx)
{
	/* Every nesting passes here: bound it, so no input exhausts the stack. */
	if (++x->depth > XPATH_MAX_DEPTH) {
		xp_fail(x, "nested too deeply");
		return;
	}
	xp_and(x, ctx);
	while (!x->failed && xp_keyword(x, "or")) {
		strbuf_puts(x->sql, " OR ");
		xp_and(x, ctx);
	}
	x->depth--;
}

int query_add_xpath(struct query *q, const char *text, int64_t now_ns, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	size_t nbinds = q->nxpath_binds;
	struct xpath x = { .text = text, .p = text, .q = q, .now_ns = now_ns, .sql = &sql, .err = err };

	xp_or(&x, XP_TOP);
	xp_space(&x);
	if (!x.failed && *x.p)
		xp_fail(&x, "unexpected text");
	if (x.failed) {
		q->nxpath_binds = nbinds;
		strbuf_release(&sql);
		return -1;
	}
	strbuf_printf(&q->xpath_sql, "%s(%s)", q->xpath_sql.len ? " AND " : "", sql.data);
	strbuf_release(&sql);
	return 0;
}
