/*
 * Queries over the event log (see query.h).
 *
 * query_prepare() turns the command line's filters into one SQL condition
 * over the `events` table (eventlog.c) plus, for the `--where` conditions,
 * compiled rules: per candidate event id, one include rule set holding one
 * <Rule groupRelation="and"> of the conditions, so rules_decide() says
 * whether a record matches with exactly the semantics of a config.  `is`
 * is also pushed into SQL (ASCII case-insensitive, as the rule engine) to
 * cut the rows read; RuleName, which the rule engine reads as "-" while
 * deciding, is filtered in SQL only.
 *
 * The XPath parser is query_xpath.c, counting query_count.c; query_internal.h
 * is what they share with this file.
 */
#include "store/query_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_PER_SEC 1000000000ll

void query_init(struct query *q)
{
	memset(q, 0, sizeof(*q));
}

static void free_prepared(struct query *q)
{
	for (int id = 0; id < 256; id++) {
		rules_free(q->rules[id]);
		q->rules[id] = NULL;
	}
	strbuf_release(&q->where_sql);
	free(q->binds);
	q->binds = NULL;
	q->nbinds = q->binds_cap = 0;
	q->prepared = false;
}

void query_free(struct query *q)
{
	free_prepared(q);
	free(q->event_ids);
	for (size_t i = 0; i < q->nconditions; i++) {
		free(q->conditions[i].field);
		free(q->conditions[i].value);
	}
	free(q->conditions);
	for (size_t i = 0; i < q->nrequired; i++)
		free(q->required[i]);
	free(q->required);
	strbuf_release(&q->xpath_sql);
	free(q->xpath_binds);
	for (size_t i = 0; i < q->nowned; i++)
		free(q->owned[i]);
	free(q->owned);
	memset(q, 0, sizeof(*q));
}

const void *query_own_copy(struct query *q, const void *data, size_t len)
{
	void *copy = xmalloc(len + 1);

	memcpy(copy, data, len);
	((char *)copy)[len] = '\0';
	q->owned = xrealloc(q->owned, (q->nowned + 1) * sizeof(*q->owned));
	q->owned[q->nowned++] = copy;
	return copy;
}

/* Event ids. */

int query_add_events(struct query *q, const char *list, struct strbuf *err)
{
	const char *p = list;

	if (!*p) {
		strbuf_printf(err, "--event: an event id is missing");
		return -1;
	}
	while (*p) {
		char *end;

		errno = 0;
		unsigned long id = strtoul(p, &end, 10);

		if (end == p || errno || !isdigit((unsigned char)*p) || !schema_event_by_id((unsigned)id) ||
		    id > 255 || (*end && *end != ',')) {
			strbuf_printf(err, "--event: '%s' is not an event id (1-29, 255)", list);
			return -1;
		}
		q->event_ids = xrealloc(q->event_ids, (q->nevent_ids + 1) * sizeof(*q->event_ids));
		q->event_ids[q->nevent_ids++] = (unsigned)id;
		p = *end ? end + 1 : end;
		if (*end == ',' && !*p) {
			strbuf_printf(err, "--event: '%s' ends with a comma", list);
			return -1;
		}
	}
	return 0;
}

/* Fields. */

bool query_pseudo_field(const char *name)
{
	return !strcmp(name, "EventID") || !strcmp(name, "EventRecordID") ||
	       !strcmp(name, "TimeCreated") || !strcmp(name, "Computer");
}

void query_unknown_field(const char *what, const char *name, struct strbuf *err)
{
	strbuf_printf(err, "%s: unknown field '%s'", what, name);
	for (size_t e = 0; e < schema_event_count(); e++) {
		const struct schema_event *event = schema_event_at(e);

		for (unsigned f = 0; f < event->nfields; f++) {
			if (strcasecmp(event->fields[f].name, name) == 0) {
				strbuf_printf(err, " (field names are case-sensitive: did you mean '%s'?)",
					      event->fields[f].name);
				return;
			}
		}
	}
	strbuf_printf(err, " (sysmon -s lists every event's fields)");
}

int query_require_fields(struct query *q, const char *const *fields, size_t nfields, struct strbuf *err)
{
	for (size_t i = 0; i < nfields; i++) {
		if (query_pseudo_field(fields[i]))
			continue;
		if (!schema_is_field_name(fields[i])) {
			query_unknown_field("field", fields[i], err);
			return -1;
		}
		q->required = xrealloc(q->required, (q->nrequired + 1) * sizeof(*q->required));
		q->required[q->nrequired++] = xstrdup(fields[i]);
	}
	return 0;
}

/* --where "FIELD CONDITION VALUE". */

int query_add_where(struct query *q, const char *text, struct strbuf *err)
{
	const char *p = text, *field_start, *rest;
	size_t best_len = 0;
	int best = -1;

	while (isspace((unsigned char)*p))
		p++;
	field_start = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (p == field_start) {
		strbuf_printf(err, "--where: expected \"FIELD CONDITION VALUE\", e.g. \"Image end with curl\"");
		return -1;
	}
	char *field = xstrndup(field_start, (size_t)(p - field_start));

	if (!schema_is_field_name(field)) {
		query_unknown_field("--where", field, err);
		free(field);
		return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	rest = p;
	for (int c = 0; c < SCHEMA_CONDITION_COUNT; c++) {
		size_t len = strlen(schema_conditions[c]);

		if (len > best_len && strncasecmp(rest, schema_conditions[c], len) == 0 &&
		    (rest[len] == '\0' || isspace((unsigned char)rest[len]))) {
			best = c;
			best_len = len;
		}
	}
	int condition = best < 0 ? -1 : rule_condition_parse(schema_conditions[best]);

	if (condition < 0) {
		strbuf_printf(err, "--where: unknown condition in \"%s\"; conditions are", text);
		for (int c = 0; c < SCHEMA_CONDITION_COUNT; c++)
			strbuf_printf(err, "%s '%s'", c ? "," : "", schema_conditions[c]);
		free(field);
		return -1;
	}
	p = rest + best_len;
	if (!*p) {
		strbuf_printf(err, "--where: \"%s\" has no value", text);
		free(field);
		return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	size_t len = strlen(p);

	/* A quoted value keeps its spaces: "CommandLine contains ' -e '". */
	if (len >= 2 && (p[0] == '\'' || p[0] == '"') && p[len - 1] == p[0]) {
		p++;
		len -= 2;
	}
	q->conditions = xrealloc(q->conditions, (q->nconditions + 1) * sizeof(*q->conditions));
	q->conditions[q->nconditions].field = field;
	q->conditions[q->nconditions].condition = (enum rule_condition)condition;
	q->conditions[q->nconditions].value = xstrndup(p, len);
	q->nconditions++;
	return 0;
}

/* Times. */

static bool read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int query_parse_absolute(const char *text, int64_t *ns)
{
	const char *p = text;
	int year, month, day, hour = 0, minute = 0, second = 0;
	int64_t frac = 0, offset = 0;

	if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &month) ||
	    *p++ != '-' || !read_digits(&p, 2, &day))
		return -1;
	if (*p == ' ' || *p == 'T' || *p == 't') {
		p++;
		if (!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &minute))
			return -1;
		if (*p == ':') {
			p++;
			if (!read_digits(&p, 2, &second))
				return -1;
			if (*p == '.' || *p == ',') {
				int64_t scale = 100000000;

				p++;
				if (!isdigit((unsigned char)*p))
					return -1;
				for (; isdigit((unsigned char)*p); p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;

			if (!read_digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (isdigit((unsigned char)*p) && !read_digits(&p, 2, &om))
				return -1;
			if (oh > 23 || om > 59)
				return -1;
			offset = sign * (oh * 3600 + om * 60);
		}
	}
	static const int month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (*p || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
	    (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 60)
		return -1;
	int64_t secs = ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60 + second - offset;

	*ns = secs * NS_PER_SEC + frac;
	return 0;
}

int query_parse_time(const char *text, int64_t now_ns, int64_t *ns, struct strbuf *err)
{
	const char *p = text;

	if (strcasecmp(text, "now") == 0) {
		*ns = now_ns;
		return 0;
	}
	if (isdigit((unsigned char)*p) && query_parse_absolute(text, ns) == 0)
		return 0;
	char *end;

	errno = 0;
	long long amount = strtoll(p, &end, 10);

	if (end != p && isdigit((unsigned char)*p) && !errno && end[0] && !end[1] && amount >= 0) {
		int64_t unit;

		switch (*end) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: unit = 0; break;
		}
		if (unit && amount < INT64_MAX / NS_PER_SEC / unit) {
			*ns = now_ns - amount * unit * NS_PER_SEC;
			return 0;
		}
	}
	strbuf_printf(err, "'%s' is not a time: use e.g. 30m, 1h, 2d, \"2026-11-26 10:00:00\" (UTC) "
		      "or 2026-11-26T10:00:00+01:00", text);
	return -1;
}

/* Preparation. */

static void add_bind(struct query *q, struct eventlog_bind bind)
{
	if (q->nbinds == q->binds_cap) {
		q->binds_cap = q->binds_cap ? 2 * q->binds_cap : 16;
		q->binds = xrealloc(q->binds, q->binds_cap * sizeof(*q->binds));
	}
	if (bind.kind != BIND_INT)
		bind.data = query_own_copy(q, bind.data, bind.len);
	q->binds[q->nbinds++] = bind;
}

static void bind_text(struct query *q, const char *text)
{
	struct eventlog_bind bind = { .kind = BIND_TEXT, .data = text, .len = strlen(text) };

	add_bind(q, bind);
}

static void bind_int(struct query *q, int64_t v)
{
	struct eventlog_bind bind = { .kind = BIND_INT, .number = v };

	add_bind(q, bind);
}

/* RuleName holds what the rules named when the event was logged; the rule
 * engine reads it as "-" while deciding, so its conditions are SQL only. */
static int rule_name_sql(struct query *q, const struct query_condition *c, struct strbuf *err)
{
	struct strbuf *sql = &q->where_sql;
	const char *value = "lower(coalesce(RuleName, '-'))";

	switch (c->condition) {
	case COND_IS:
	case COND_IS_NOT:
		strbuf_printf(sql, " AND %s %s lower(?)", value, c->condition == COND_IS ? "=" : "<>");
		bind_text(q, c->value);
		return 0;
	case COND_CONTAINS:
	case COND_EXCLUDES:
		strbuf_printf(sql, " AND instr(%s, lower(?)) %s 0", value,
			      c->condition == COND_CONTAINS ? ">" : "=");
		bind_text(q, c->value);
		return 0;
	case COND_BEGIN_WITH:
	case COND_NOT_BEGIN_WITH:
		strbuf_printf(sql, " AND substr(%s, 1, length(?)) %s lower(?)", value,
			      c->condition == COND_BEGIN_WITH ? "=" : "<>");
		bind_text(q, c->value);
		bind_text(q, c->value);
		return 0;
	case COND_END_WITH:
	case COND_NOT_END_WITH:
		strbuf_printf(sql, " AND substr(%s, -length(?)) %s lower(?)", value,
			      c->condition == COND_END_WITH ? "=" : "<>");
		bind_text(q, c->value);
		bind_text(q, c->value);
		return 0;
	default:
		strbuf_printf(err, "--where: RuleName takes is, is not, contains, excludes, "
			      "(not) begin with and (not) end with");
		return -1;
	}
}

/* `is` in SQL too, when the stored form makes it exact (the rule engine
 * folds ASCII only, as COLLATE NOCASE does). */
static void push_down_is(struct query *q, const struct query_condition *c)
{
	const struct schema_event *event = NULL;
	int index = -1;
	struct eventlog_bind bind;
	unsigned char guid[EVENTLOG_ENCODE_MAX];

	for (int id = 0; id < 256 && index < 0; id++) {
		if (!q->candidate[id])
			continue;
		event = schema_event_by_id((unsigned)id);
		index = schema_field_index(event, c->field);
	}
	if (index < 0 || !eventlog_column_nocase_exact(c->field))
		return;
	/* `is` ignores case; GUIDs are stored in lower case. */
	char *value = xstrdup(c->value);

	if (event->fields[index].type == FIELD_GUID)
		for (char *p = value; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	bool encoded = eventlog_encode_value(event, index, value, &bind, guid);

	if (encoded && bind.kind == BIND_TEXT)
		bind.data = c->value;
	free(value);
	if (!encoded)
		return;
	const char *column = eventlog_column_name(c->field);

	switch (bind.kind) {
	case BIND_INT:
		strbuf_printf(&q->where_sql, " AND %s = ?", column);
		add_bind(q, bind);
		break;
	case BIND_BLOB:
		strbuf_printf(&q->where_sql, " AND (%s = ? OR %s = ? COLLATE NOCASE)", column, column);
		add_bind(q, bind);
		bind_text(q, c->value);
		break;
	case BIND_TEXT:
		strbuf_printf(&q->where_sql, " AND %s = ? COLLATE NOCASE", column);
		add_bind(q, bind);
		break;
	}
}

static bool event_has(const struct schema_event *event, const char *field)
{
	return schema_field_index(event, field) >= 0;
}

int query_prepare(struct query *q, struct strbuf *err)
{
	free_prepared(q);
	memset(q->candidate, 0, sizeof(q->candidate));
	for (size_t e = 0; e < schema_event_count(); e++) {
		unsigned id = schema_event_at(e)->id;
		bool wanted = q->nevent_ids == 0;

		if (id >= sizeof(q->candidate))
			continue;   /* beyond candidate[] */
		for (size_t i = 0; i < q->nevent_ids; i++)
			wanted |= q->event_ids[i] == id;
		q->candidate[id] = wanted;
	}
	/* Events that lack a --where or required field cannot match; the rule
	 * engine decides tagged events only. */
	bool any = false, untagged = false;

	for (int id = 0; id < 256; id++) {
		const struct schema_event *event = q->candidate[id] ? schema_event_by_id((unsigned)id) : NULL;

		if (!event)
			continue;
		for (size_t i = 0; i < q->nconditions && q->candidate[id]; i++) {
			bool rule_name = !strcmp(q->conditions[i].field, "RuleName");

			if (!event_has(event, q->conditions[i].field)) {
				q->candidate[id] = false;
			} else if (!rule_name && !event->rule_tag) {
				q->candidate[id] = false;
				untagged = true;
			}
		}
		for (size_t i = 0; i < q->nrequired && q->candidate[id]; i++)
			if (!event_has(event, q->required[i]))
				q->candidate[id] = false;
		any |= q->candidate[id];
	}
	if (!any) {
		strbuf_printf(err, "no event type%s has all of the fields",
			      q->nevent_ids ? " among those given with --event" : "");
		for (size_t i = 0; i < q->nconditions; i++)
			strbuf_printf(err, " %s", q->conditions[i].field);
		for (size_t i = 0; i < q->nrequired; i++)
			strbuf_printf(err, " %s", q->required[i]);
		if (untagged)
			strbuf_printf(err, " that --where can filter (events 4, 16 and 255 have no rule tag; "
				      "filter them with XPath: *[EventData[Data[@Name='Field']='value']])");
		return -1;
	}

	/* SQL: the first two binds are always the --follow window. */
	strbuf_puts(&q->where_sql, "EventRecordID > ? AND EventRecordID <= ?");
	bind_int(q, 0);
	bind_int(q, 0);
	bool all = true;

	for (size_t e = 0; e < schema_event_count(); e++)
		all &= q->candidate[schema_event_at(e)->id];
	if (!all) {
		bool first = true;
		int ncandidates = 0;

		for (int id = 0; id < 256; id++)
			ncandidates += q->candidate[id];
		/* One id: its index range, already in record id order.  Several:
		 * SQLite would merge index ranges and then sort them all for the
		 * record id order; a scan (the unary + hides the index) is faster
		 * and stops early with a limit. */
		strbuf_printf(&q->where_sql, " AND %sEventID IN (", ncandidates == 1 ? "" : "+");
		for (int id = 0; id < 256; id++) {
			if (q->candidate[id]) {
				strbuf_printf(&q->where_sql, "%s%d", first ? "" : ",", id);
				first = false;
			}
		}
		strbuf_putc(&q->where_sql, ')');
	}
	if (q->has_since) {
		strbuf_puts(&q->where_sql, " AND TimeCreated >= ?");
		bind_int(q, q->since_ns);
	}
	if (q->has_until) {
		strbuf_puts(&q->where_sql, " AND TimeCreated <= ?");
		bind_int(q, q->until_ns);
	}
	if (q->xpath_sql.len) {
		strbuf_printf(&q->where_sql, " AND (%s)", q->xpath_sql.data);
		for (size_t i = 0; i < q->nxpath_binds; i++)
			add_bind(q, q->xpath_binds[i]);
	}

	/* --where: RuleName in SQL, the rest through the rule engine. */
	struct rule_filter_def *filters = xcalloc(q->nconditions + 1, sizeof(*filters));
	struct rule_aggregate_def aggregate = { .name = NULL, .or_mode = false };
	size_t nfilters = 0;

	for (size_t i = 0; i < q->nconditions; i++) {
		const struct query_condition *c = &q->conditions[i];

		if (!strcmp(c->field, "RuleName")) {
			if (rule_name_sql(q, c, err) < 0) {
				free(filters);
				return -1;
			}
			continue;
		}
		if (c->condition == COND_IS)
			push_down_is(q, c);
		nfilters++;
	}
	q->filter_in_c = nfilters > 0;
	for (int id = 0; id < 256 && nfilters; id++) {
		const struct schema_event *event = q->candidate[id] ? schema_event_by_id((unsigned)id) : NULL;

		if (!event)
			continue;
		size_t n = 0;

		for (size_t i = 0; i < q->nconditions; i++) {
			const struct query_condition *c = &q->conditions[i];

			if (!strcmp(c->field, "RuleName"))
				continue;
			filters[n] = (struct rule_filter_def){
				.field = schema_field_index(event, c->field),
				.condition = c->condition,
				.value = c->value,
				.aggregate = 0,
			};
			n++;
		}
		struct rule_set_def set = {
			.event = event, .exclude = false, .or_mode = false,
			.filters = filters, .nfilters = n, .aggregates = &aggregate, .naggregates = 1,
		};
		struct rule_defs defs = { .schema_version = SCHEMA_NEWEST, .sets = &set, .nsets = 1 };

		q->rules[id] = rules_compile(&defs);
		if (!q->rules[id]) {
			strbuf_printf(err, "--where: the rule engine refused the conditions for event %d", id);
			free(filters);
			return -1;
		}
	}
	free(filters);
	q->prepared = true;
	return 0;
}

/* Running. */

/* The record id window of the SQL (its first two binds): --follow's, cut
 * down to the batches that can hold the --since/--until range. */
void query_set_window(struct query *q, struct eventlog *log)
{
	uint64_t after = q->after_record_id, up_to = q->up_to_record_id;

	if (q->has_since || q->has_until) {
		uint64_t time_after, time_up_to;

		if (eventlog_time_window(log, q->has_since ? &q->since_ns : NULL,
					 q->has_until ? &q->until_ns : NULL, &time_after, &time_up_to)) {
			after = INT64_MAX;   /* nothing can match */
		} else {
			if (time_after > after)
				after = time_after;
			if (time_up_to && (!up_to || time_up_to < up_to))
				up_to = time_up_to;
		}
	}
	q->binds[0].number = (int64_t)(after > INT64_MAX ? INT64_MAX : after);
	q->binds[1].number = up_to && up_to < INT64_MAX ? (int64_t)up_to : INT64_MAX;
}

static const char **needed_fields(const struct query *q, const char *const *fields, size_t nfields,
				  size_t *n)
{
	const char **list = xcalloc(nfields + q->nconditions + 1, sizeof(*list));

	*n = 0;
	for (size_t i = 0; i < nfields; i++)
		list[(*n)++] = fields[i];
	for (size_t i = 0; i < q->nconditions; i++)
		list[(*n)++] = q->conditions[i].field;
	return list;
}

static bool matches(const struct query *q, const struct event *ev)
{
	const struct rules *rules = q->rules[ev->schema->id];

	return !q->filter_in_c || (rules && rules_decide(rules, ev, NULL));
}

int64_t query_run(struct eventlog *log, struct query *q, const char *const *fields, size_t nfields,
		  query_emit_fn emit, void *arg, struct strbuf *err)
{
	if ((!q->prepared && query_prepare(q, err) < 0))
		return -1;
	query_set_window(q, log);

	/* With conditions to decide in C and whole records wanted, read only
	 * the conditions' fields while scanning, and each match in full. */
	bool fetch_matches = q->filter_in_c && !fields;
	size_t nlist = 0;
	const char **list = fields || fetch_matches ? needed_fields(q, fields, nfields, &nlist) : NULL;
	struct eventlog_select sel = {
		.where = q->where_sql.data, .binds = q->binds, .nbinds = q->nbinds,
		.newest_first = q->newest_first, .fields = list, .nfields = nlist,
	};
	struct eventlog_cursor *cur = eventlog_select(log, &sel, err);
	struct event ev, full;
	int64_t emitted = 0;
	unsigned origin;
	int rc;

	free(list);
	if (!cur)
		return -1;
	event_init(&ev);
	event_init(&full);
	while ((rc = eventlog_next(cur, &ev, &origin, err)) > 0) {
		if (!matches(q, &ev))
			continue;
		const struct event *out = &ev;

		if (fetch_matches) {
			int got = eventlog_get(log, ev.record_id, &full, &origin, err);

			if (got < 0) {
				rc = -1;
				break;
			}
			if (got == 0)
				continue;   /* gone: cannot happen inside one read, but harmless */
			out = &full;
		}
		emitted++;
		if (emit(out, origin, arg) < 0)
			break;
		if (q->limit && (uint64_t)emitted >= q->limit)
			break;
	}
	event_free(&ev);
	event_free(&full);
	eventlog_cursor_free(cur);
	return rc < 0 ? -1 : emitted;
}

const char *query_field_value(struct eventlog *log, const struct event *ev, unsigned origin,
			      const char *field, char buf[64])
{
	if (!strcmp(field, "EventID")) {
		snprintf(buf, 64, "%u", ev->schema->id);
		return buf;
	}
	if (!strcmp(field, "EventRecordID")) {
		snprintf(buf, 64, "%" PRIu64, ev->record_id);
		return buf;
	}
	if (!strcmp(field, "TimeCreated"))
		return event_format_systemtime(ev->time_ns, buf);
	if (!strcmp(field, "Computer")) {
		const char *computer;
		unsigned pid, tid;

		eventlog_origin(log, origin, &computer, &pid, &tid);
		return computer;
	}
	const char *value = event_value_by_name(ev, field);

	return value ? value : "-";
}
