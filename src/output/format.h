/*
 * Event formatters: the XML layout that Sysmon for Linux writes to syslog
 * (compatibility spec section 5.2, one line, no declaration) and flat JSON
 * lines.  Both apply FieldSizes trimming (output only: rules see full
 * values) and escape every byte a hostile process can put in a value, so
 * the output is always well-formed XML / valid JSON on one line: bytes that
 * are not valid UTF-8 and control characters XML cannot carry are written
 * as the text \xNN (see format.c).
 */
#ifndef SYSMON_FORMAT_H
#define SYSMON_FORMAT_H

#include "schema/event.h"
#include "util/strbuf.h"

/* Where and by whom an event was written: the <System> details. */
struct format_context {
	const char *computer;       /* hostname */
	unsigned process_id;        /* the monitor's pid */
	unsigned thread_id;
	const struct field_sizes *field_sizes;   /* NULL = no trimming */
};

/* A field value longer than this is cut (with "...") even without FieldSizes,
 * so that one event stays one sane syslog message. */
#define FORMAT_DEFAULT_MAX_FIELD 32768

void format_xml(struct strbuf *out, const struct event *ev, const struct format_context *ctx);
void format_json(struct strbuf *out, const struct event *ev, const struct format_context *ctx);

/* The JSON escaping used above, for callers that write values elsewhere. */
void format_json_escape(struct strbuf *out, const char *text, size_t len);

#endif
