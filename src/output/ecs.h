/*
 * Events as JSON with Elastic Common Schema field names, for the JSON lines
 * sinks with `ecs = yes`: `process.executable`, `destination.port`, ... in
 * nested objects, numbers as numbers, unset ("-") values left out, every
 * field without an ECS name kept under `sysmon.<Field>` so nothing is lost.
 * The mapping table is in ecs.c and documented in docs/outputs.md.
 */
#ifndef SYSMON_ECS_H
#define SYSMON_ECS_H

#include "output/format.h"
#include "schema/event.h"
#include "util/strbuf.h"

#define ECS_VERSION "8.11.0"

/* One JSON object on one line (no newline).  HOST_ID (may be NULL) becomes
 * host.id.  FieldSizes in CTX apply as in format_json. */
void ecs_format_json(struct strbuf *out, const struct event *ev, const struct format_context *ctx,
		     const char *host_id);

/* The ECS name of Sysmon field FIELD in event ID, or NULL if it has none
 * (then it is written as sysmon.FIELD). */
const char *ecs_field_name(unsigned id, const char *field);

#endif
