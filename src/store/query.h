/*
 * Queries over the event log: what `sysmon query` (cli/cmd_query.c) asks.
 *
 * A query is event ids, a time range, `--where` conditions with Sysmon's
 * condition words (evaluated by the rule engine, so a filter means what it
 * means in a config), and Windows Event Log XPath (`*[System[EventID=3]]`).
 * What SQL can answer exactly and cheaply (event ids, times, record ids,
 * XPath, `is` on a text column) is pushed down into SQL; the rest of the
 * `--where` conditions run in C on each candidate record.  Events without a
 * rule tag (4, 16, 255) are always logged by the rule engine, so `--where`
 * never selects them; XPath does.
 */
#ifndef SYSMON_QUERY_H
#define SYSMON_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "rules/rules.h"
#include "store/eventlog.h"
#include "util/strbuf.h"

struct query_condition {
	char *field;                    /* a schema field name */
	enum rule_condition condition;
	char *value;
};

struct query {
	unsigned *event_ids;            /* --event; none = every id */
	size_t nevent_ids;
	bool has_since, has_until;
	int64_t since_ns, until_ns;     /* TimeCreated, inclusive */
	uint64_t after_record_id;       /* records after this one only (--follow) */
	uint64_t up_to_record_id;       /* and up to this one (0 = no bound) */
	struct query_condition *conditions;   /* --where, ANDed */
	size_t nconditions;
	struct strbuf xpath_sql;        /* XPath filters, ANDed, as SQL */
	struct eventlog_bind *xpath_binds;
	size_t nxpath_binds;
	char **required;                /* fields the records must have */
	size_t nrequired;
	bool newest_first;
	uint64_t limit;                 /* 0 = no limit */

	/* Built by query_prepare(). */
	bool prepared;
	bool candidate[256];            /* event ids that can match */
	/* The --where conditions compiled per event id (one rule set bound
	 * to that id, so each id's own field layout is used); NULL when no
	 * condition needs C. */
	struct rules *rules[256];
	bool filter_in_c;
	struct strbuf where_sql;
	struct eventlog_bind *binds;
	size_t nbinds, binds_cap;
	void **owned;                   /* bind data */
	size_t nowned;
};

void query_init(struct query *q);
void query_free(struct query *q);

/* Parsers for the command line; each returns 0, or -1 with one message in
 * ERR (the caller exits with the usage status). */
int query_add_events(struct query *q, const char *list, struct strbuf *err);        /* "3" or "1,3" */
int query_add_where(struct query *q, const char *text, struct strbuf *err);         /* "Image end with curl" */
int query_add_xpath(struct query *q, const char *text, int64_t now_ns, struct strbuf *err);
/* A point in time: relative ("30s", "15m", "1h", "2d", "1w": that long
 * before NOW_NS), "now", or absolute "2026-11-26", "2026-11-26 10:00[:00[.123]]",
 * ISO 8601 "2026-11-26T10:00:00[.123456789][Z|+02:00]"; without a zone, UTC
 * (as Sysmon's UtcTime). */
int query_parse_time(const char *text, int64_t now_ns, int64_t *ns, struct strbuf *err);

/* Restrict the query to events that have every field in FIELDS (count-by,
 * distinct); unknown names (other than the record's own EventID,
 * EventRecordID, TimeCreated and Computer) are an error. */
int query_require_fields(struct query *q, const char *const *fields, size_t nfields, struct strbuf *err);
/* Check the query and build its SQL and rules. */
int query_prepare(struct query *q, struct strbuf *err);

/* Call EMIT for every matching record in order, up to the limit; FIELDS (NULL
 * = all) are the fields the caller reads.  EMIT returns <0 to stop.
 * Returns the number of records emitted, or -1 with ERR. */
typedef int (*query_emit_fn)(const struct event *ev, unsigned origin, void *arg);
int64_t query_run(struct eventlog *log, struct query *q, const char *const *fields, size_t nfields,
		  query_emit_fn emit, void *arg, struct strbuf *err);

/* Count matching records per distinct value of FIELDS, largest count first
 * (then by value).  Values are joined with '\t' in the order of FIELDS. */
struct query_group {
	char *values;
	uint64_t count;
};
int query_count_by(struct eventlog *log, struct query *q, const char *const *fields, size_t nfields,
		   struct query_group **groups, size_t *ngroups, struct strbuf *err);
void query_groups_free(struct query_group *groups, size_t ngroups);

/* The value of FIELD in EV for output, including the record's own fields
 * (EventID, EventRecordID, TimeCreated, Computer from ORIGIN's writer);
 * "-" if the event has no such field. */
const char *query_field_value(struct eventlog *log, const struct event *ev, unsigned origin,
			      const char *field, char buf[64]);

#endif
