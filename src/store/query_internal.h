/*
 * What the parts of the query module share (query.h is the interface):
 * query.c (parsing, preparation, running), query_xpath.c (XPath to SQL)
 * and query_count.c (count-by).
 */
#ifndef SYSMON_QUERY_INTERNAL_H
#define SYSMON_QUERY_INTERNAL_H

#include "store/query.h"

/* A NUL-terminated copy of DATA (LEN bytes), freed with Q. */
const void *query_own_copy(struct query *q, const void *data, size_t len);
/* A record's own field (EventID, EventRecordID, TimeCreated, Computer),
 * not an event field. */
bool query_pseudo_field(const char *name);
/* "unknown field NAME" for WHAT (the option), with a hint, in ERR. */
void query_unknown_field(const char *what, const char *name, struct strbuf *err);
/* An absolute time (query_parse_time's forms but the relative ones) as ns;
 * 0, or -1 if TEXT is not one. */
int query_parse_absolute(const char *text, int64_t *ns);
/* Set the record id window of Q's SQL (its first two binds) for LOG. */
void query_set_window(struct query *q, struct eventlog *log);

#endif
