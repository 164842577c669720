/*
 * Event formatters (see format.h): Sysmon for Linux's one-line XML and flat
 * JSON lines, rendered from a struct event.
 *
 * Escaping is where a hostile process attacks a log pipeline, so both
 * formats share one scanner over the value's bytes:
 *  - valid UTF-8 passes through;
 *  - bytes that are not valid UTF-8, and C0 control characters that XML 1.0
 *    cannot carry at all, are written as the four characters \xNN, so the
 *    record stays well-formed and the original bytes stay readable;
 *  - XML: & < > " as entities, CR and LF as &#13; &#10; (one event = one
 *    line), TAB raw;  JSON: " \ and controls as \" \\ \n \r \t \u00NN.
 * Sysmon for Linux writes control bytes and invalid UTF-8 raw, producing
 * records no XML parser reads; that is the one deliberate difference.
 */
#include "output/format.h"

#include <string.h>

#define PROVIDER_GUID "{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"
#define KEYWORDS "0x8000000000000000"

enum escape_style { ESCAPE_XML, ESCAPE_JSON };

/* Length of the valid UTF-8 sequence at S (at most LEN bytes), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* U+FFFE and U+FFFF are not XML characters either */
	if (cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

static void put_hex_byte(struct strbuf *out, unsigned char c, const char *prefix)
{
	static const char hex[] = "0123456789abcdef";
	char text[8];
	size_t plen = strlen(prefix);

	memcpy(text, prefix, plen);
	text[plen] = hex[c >> 4];
	text[plen + 1] = hex[c & 15];
	strbuf_append(out, text, plen + 2);
}

/* How the ASCII byte C is written: NULL = as is; "" = as a hex escape.
 * XML here is element text only (no value goes into an attribute), where
 * Sysmon for Linux writes '"' as is: SIEM parsers that keep entities
 * (Sentinel, Splunk) read its CommandLine with plain quotes, so must ours. */
static const char *ascii_replacement(unsigned char c, enum escape_style style)
{
	if (style == ESCAPE_XML) {
		switch (c) {
		case '&': return "&amp;";
		case '<': return "&lt;";
		case '>': return "&gt;";
		case '\r': return "&#13;";
		case '\n': return "&#10;";
		case '\t': return NULL;
		}
		return c < 0x20 ? "" : NULL;
	}
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	}
	return c < 0x20 ? "" : NULL;
}

static void escape(struct strbuf *out, const char *text, size_t len, enum escape_style style)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, start = 0;   /* bytes [start, i) pass through unchanged */

	strbuf_grow(out, len + 16);
	while (i < len) {
		unsigned char c = s[i];
		const char *replacement = "";

		if (c >= 0x80) {
			size_t n = utf8_sequence(s + i, len - i);

			if (n) {
				i += n;
				continue;
			}
		} else if (!(replacement = ascii_replacement(c, style))) {
			i++;
			continue;
		}
		strbuf_append(out, text + start, i - start);
		if (*replacement)
			strbuf_puts(out, replacement);
		else if (c >= 0x80 || style == ESCAPE_XML)
			/* invalid UTF-8, or a control byte XML cannot carry */
			put_hex_byte(out, c, style == ESCAPE_XML ? "\\x" : "\\\\x");
		else
			put_hex_byte(out, c, "\\u00");
		start = ++i;
	}
	strbuf_append(out, text + start, i - start);
}

void format_json_escape(struct strbuf *out, const char *text, size_t len)
{
	escape(out, text, len, ESCAPE_JSON);
}

/* The limit for field INDEX of EV: FieldSizes, else the default. */
static size_t field_limit(const struct event *ev, int index, const struct format_context *ctx)
{
	unsigned id = ev->schema->id;

	if (ctx && ctx->field_sizes && id < 30 && ctx->field_sizes->max[id][index])
		return ctx->field_sizes->max[id][index];
	return FORMAT_DEFAULT_MAX_FIELD;
}

/* Write field INDEX escaped, trimmed as Sysmon's FieldSizes does: a value
 * longer than N becomes its first N-3 bytes and "..." (or "-" if N < 3).
 * The cut backs off to a UTF-8 character boundary. */
static void put_value(struct strbuf *out, const struct event *ev, int index,
		      const struct format_context *ctx, enum escape_style style)
{
	const char *value = event_value(ev, index);
	size_t len = event_value_len(ev, index);
	size_t limit = field_limit(ev, index, ctx);

	if (len <= limit) {
		escape(out, value, len, style);
		return;
	}
	if (limit < 3) {
		strbuf_putc(out, '-');
		return;
	}
	size_t keep = limit - 3;
	while (keep > 0 && ((unsigned char)value[keep] & 0xc0) == 0x80)
		keep--;
	escape(out, value, keep, style);
	strbuf_puts(out, "...");
}

void format_xml(struct strbuf *out, const struct event *ev, const struct format_context *ctx)
{
	const struct schema_event *schema = ev->schema;
	char systime[48];

	strbuf_printf(out,
		"<Event><System><Provider Name=\"Linux-Sysmon\" Guid=\"" PROVIDER_GUID "\"/>"
		"<EventID>%u</EventID><Version>%u</Version><Level>%u</Level><Task>%u</Task>"
		"<Opcode>0</Opcode><Keywords>" KEYWORDS "</Keywords>"
		"<TimeCreated SystemTime=\"%s\"/><EventRecordID>%llu</EventRecordID><Correlation/>"
		"<Execution ProcessID=\"%u\" ThreadID=\"%u\"/><Channel>Linux-Sysmon/Operational</Channel>"
		"<Computer>",
		schema->id, schema->version, schema->level, schema->id,
		event_format_systemtime(ev->time_ns, systime), (unsigned long long)ev->record_id,
		ctx ? ctx->process_id : 0, ctx ? ctx->thread_id : 0);
	if (ctx && ctx->computer)
		escape(out, ctx->computer, strlen(ctx->computer), ESCAPE_XML);
	strbuf_puts(out, "</Computer><Security UserId=\"0\"/></System><EventData>");
	for (unsigned i = 0; i < schema->nfields; i++) {
		strbuf_printf(out, "<Data Name=\"%s\">", schema->fields[i].name);
		put_value(out, ev, (int)i, ctx, ESCAPE_XML);
		strbuf_puts(out, "</Data>");
	}
	strbuf_puts(out, "</EventData></Event>");
}

void format_json(struct strbuf *out, const struct event *ev, const struct format_context *ctx)
{
	const struct schema_event *schema = ev->schema;
	char systime[48];

	strbuf_printf(out, "{\"EventID\":%u,\"EventRecordID\":%llu,\"TimeCreated\":\"%s\",\"Computer\":\"",
		      schema->id, (unsigned long long)ev->record_id,
		      event_format_systemtime(ev->time_ns, systime));
	if (ctx && ctx->computer)
		escape(out, ctx->computer, strlen(ctx->computer), ESCAPE_JSON);
	strbuf_putc(out, '"');
	for (unsigned i = 0; i < schema->nfields; i++) {
		strbuf_printf(out, ",\"%s\":\"", schema->fields[i].name);
		put_value(out, ev, (int)i, ctx, ESCAPE_JSON);
		strbuf_putc(out, '"');
	}
	strbuf_putc(out, '}');
}
