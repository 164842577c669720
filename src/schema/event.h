/*
 * An event as it flows through the user-side pipeline: decode -> enrich ->
 * rule engine -> event log and sinks.  It is the schema event plus one text
 * value per field, indexed by the field's position in schema.h, rendered
 * exactly as Sysmon writes it (so the rule engine compares what the log will
 * show).  An unset field reads as "-", Sysmon's value for a missing field.
 *
 * Values live in an arena owned by the event, so building an event costs one
 * allocation in the steady state: reuse an event with event_reset().
 */
#ifndef SYSMON_EVENT_H
#define SYSMON_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/schema.h"

struct event {
	const struct schema_event *schema;
	uint64_t record_id;     /* EventRecordID, assigned by the event log */
	int64_t time_ns;        /* TimeCreated: wall clock, ns since the epoch */
	uint32_t offset[SCHEMA_MAX_FIELDS];  /* into arena; EVENT_UNSET if unset */
	uint32_t length[SCHEMA_MAX_FIELDS];
	char *arena;
	size_t arena_len, arena_cap;
};

#define EVENT_UNSET UINT32_MAX

void event_init(struct event *ev);
/* Forget all values and make EV an event of type ID (0 if ID is unknown). */
int event_reset(struct event *ev, unsigned id);
void event_free(struct event *ev);

/* Set field INDEX (or the field called NAME) to TEXT of LEN bytes.  Bytes
 * are stored as given; escaping is the formatters' job.  The *_name forms
 * return -1 if the event has no such field. */
void event_set(struct event *ev, int index, const char *text, size_t len);
void event_set_str(struct event *ev, int index, const char *text);
void event_setf(struct event *ev, int index, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int event_set_name(struct event *ev, const char *name, const char *text);

/* The value of field INDEX ("-" when unset) and its length. */
const char *event_value(const struct event *ev, int index);
size_t event_value_len(const struct event *ev, int index);
bool event_is_set(const struct event *ev, int index);
/* Value by field name, or NULL if the event has no such field. */
const char *event_value_by_name(const struct event *ev, const char *name);

/* Time formats of the compatibility spec, section 3.6: UtcTime
 * "YYYY-MM-DD HH:MM:SS.mmm" (milliseconds truncated) and TimeCreated
 * "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".  BUF must hold 48 bytes. */
const char *event_format_utctime(int64_t ns, char *buf);
const char *event_format_systemtime(int64_t ns, char *buf);
int64_t event_now_ns(void);

#endif
