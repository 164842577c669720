/*
 * Syslog wire formats (interface: wire.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output/wire.h"

/* Cut values no shorter than this: an event whose markup alone does not
 * fit is sent whole rather than with every value reduced to nothing. */
#define MIN_CUT_LENGTH 16

unsigned wire_priority(const struct event *ev)
{
	unsigned severity = ev->schema && ev->schema->id == EVENT_ID_ERROR ? WIRE_SEVERITY_ERR
									   : WIRE_SEVERITY_INFO;

	return WIRE_FACILITY_USER * 8 + severity;
}

/* The length field INDEX is written with (before escaping): FieldSizes
 * applied as format.c does. */
static size_t effective_length(const struct event *ev, int index, const struct format_context *ctx)
{
	size_t len = event_value_len(ev, index);
	unsigned id = ev->schema->id;
	size_t limit = FORMAT_DEFAULT_MAX_FIELD;

	if (ctx && ctx->field_sizes && id < 30 && ctx->field_sizes->max[id][index])
		limit = ctx->field_sizes->max[id][index];
	return len < limit ? len : limit;
}

/* Copy EV into CUT with every value cut to min(LENGTHS[i], LIMIT) bytes
 * ending in "...", as FieldSizes cuts.  Returns the number of values LIMIT
 * cut. */
static unsigned cut_event(struct event *cut, const struct event *ev, const size_t *lengths, size_t limit)
{
	unsigned ncut = 0;

	event_reset(cut, ev->schema->id);
	cut->record_id = ev->record_id;
	cut->time_ns = ev->time_ns;
	for (unsigned i = 0; i < ev->schema->nfields; i++) {
		if (!event_is_set(ev, (int)i))
			continue;
		const char *value = event_value(ev, (int)i);
		size_t len = event_value_len(ev, (int)i);
		size_t target = lengths[i] < limit ? lengths[i] : limit;
		if (lengths[i] > limit)
			ncut++;
		if (len <= target) {
			event_set(cut, (int)i, value, len);
			continue;
		}
		if (target < 3) {
			event_set_str(cut, (int)i, "-");
			continue;
		}
		size_t keep = target - 3;
		while (keep > 0 && ((unsigned char)value[keep] & 0xc0) == 0x80)
			keep--;
		char *text = xmalloc(keep + 3);
		memcpy(text, value, keep);
		memcpy(text + keep, "...", 3);
		event_set(cut, (int)i, text, keep + 3);
		free(text);
	}
	return ncut;
}

unsigned wire_format_xml_bounded(struct strbuf *out, const struct event *ev,
				 const struct format_context *ctx, size_t max_xml)
{
	size_t start = out->len;

	format_xml(out, ev, ctx);
	if (out->len - start <= max_xml || !ev->schema)
		return 0;

	size_t lengths[SCHEMA_MAX_FIELDS];
	size_t longest = 0;
	unsigned n = ev->schema->nfields;
	for (unsigned i = 0; i < n; i++) {
		lengths[i] = effective_length(ev, (int)i, ctx);
		if (lengths[i] > longest)
			longest = lengths[i];
	}
	struct format_context plain = ctx ? *ctx : (struct format_context){ 0 };
	plain.field_sizes = NULL;   /* FieldSizes are applied in lengths[] */
	struct event cut;
	event_init(&cut);
	/* the largest cut length that fits: escaping makes the formatted size
	 * differ from the raw one, so measure by formatting */
	size_t low = MIN_CUT_LENGTH, high = longest > MIN_CUT_LENGTH ? longest - 1 : MIN_CUT_LENGTH;
	while (low < high) {
		size_t mid = low + (high - low + 1) / 2;
		cut_event(&cut, ev, lengths, mid);
		out->len = start;
		format_xml(out, &cut, &plain);
		if (out->len - start <= max_xml)
			low = mid;
		else
			high = mid - 1;
	}
	unsigned ncut = cut_event(&cut, ev, lengths, low);
	out->len = start;
	format_xml(out, &cut, &plain);
	event_free(&cut);
	return ncut;
}

unsigned wire_local_message(struct strbuf *out, const struct event *ev, const struct format_context *ctx,
			    size_t max_message, int64_t now_ns)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t seconds = (time_t)(now_ns / 1000000000LL);
	struct tm tm;

	localtime_r(&seconds, &tm);
	size_t start = out->len;
	strbuf_printf(out, "<%u>%s %2d %02d:%02d:%02d " WIRE_APP_NAME ": ", wire_priority(ev),
		      months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	size_t header = out->len - start;
	return wire_format_xml_bounded(out, ev, ctx, max_message > header ? max_message - header : 0);
}

void wire_sd_escape(struct strbuf *out, const char *text)
{
	for (const char *c = text; *c; c++) {
		if (*c == '"' || *c == '\\' || *c == ']')
			strbuf_putc(out, '\\');
		strbuf_putc(out, *c);
	}
}

/* RFC 5424 HOSTNAME: printable US-ASCII without spaces, at most 255. */
static void put_hostname(struct strbuf *out, const char *hostname)
{
	size_t start = out->len;

	for (const char *c = hostname ? hostname : ""; *c && out->len - start < 255; c++)
		if (*c > 32 && *c < 127)
			strbuf_putc(out, *c);
	if (out->len == start)
		strbuf_putc(out, '-');
}

unsigned wire_rfc5424_message(struct strbuf *out, const struct event *ev, const struct format_context *ctx,
			      const struct wire_origin *origin, size_t max_message)
{
	time_t seconds = (time_t)(ev->time_ns / 1000000000LL);
	struct tm tm;
	size_t start = out->len;

	gmtime_r(&seconds, &tm);
	strbuf_printf(out, "<%u>1 %04d-%02d-%02dT%02d:%02d:%02d.%06ldZ ", wire_priority(ev),
		      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		      (long)(ev->time_ns % 1000000000LL / 1000));
	put_hostname(out, origin->hostname);
	strbuf_printf(out, " " WIRE_APP_NAME " - - [" WIRE_SD_ID " recordId=\"%llu\" eventId=\"%u\" hostId=\"",
		      (unsigned long long)ev->record_id, ev->schema->id);
	wire_sd_escape(out, origin->host_id ? origin->host_id : "-");
	strbuf_puts(out, "\"] ");
	size_t header = out->len - start;
	return wire_format_xml_bounded(out, ev, ctx, max_message > header ? max_message - header : 0);
}

void wire_octet_frame(struct strbuf *out, const char *message, size_t len)
{
	strbuf_printf(out, "%zu ", len);
	strbuf_append(out, message, len);
}

long wire_octet_unframe(const char *data, size_t size, const char **message, size_t *len)
{
	size_t digits = 0, value = 0;

	while (digits < size && isdigit((unsigned char)data[digits])) {
		if (digits == 9)
			return -1;
		value = value * 10 + (size_t)(data[digits] - '0');
		digits++;
	}
	if (digits == size)
		return 0;
	if (digits == 0 || data[digits] != ' ' || value == 0 || data[0] == '0')
		return -1;
	if (size - digits - 1 < value)
		return 0;
	*message = data + digits + 1;
	*len = value;
	return (long)(digits + 1 + value);
}

unsigned wire_backoff_ms(unsigned failures, unsigned min_ms, unsigned max_ms, double jitter)
{
	unsigned long long delay = min_ms ? min_ms : 1;

	for (unsigned i = 1; i < failures && delay < max_ms; i++)
		delay *= 2;
	if (delay > max_ms)
		delay = max_ms;
	if (jitter > 0 && jitter < 1)
		delay -= (unsigned long long)((double)delay * jitter / 5);
	return (unsigned)delay;
}

static char host_id[64];
static pthread_once_t host_id_once = PTHREAD_ONCE_INIT;

static void read_host_id(void)
{
	FILE *f = fopen("/etc/machine-id", "re");
	char line[128] = "";

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, " \t\r\n")] = '\0';
	bool hex = strlen(line) == 32;
	for (const char *c = line; hex && *c; c++)
		hex = isxdigit((unsigned char)*c);
	if (hex) {
		memcpy(host_id, line, 33);   /* 32 hex digits and the NUL */
		return;
	}
	if (gethostname(host_id, sizeof(host_id) - 1) != 0 || !host_id[0])
		snprintf(host_id, sizeof(host_id), "-");
}

const char *wire_host_id(void)
{
	pthread_once(&host_id_once, read_host_id);
	return host_id;
}
