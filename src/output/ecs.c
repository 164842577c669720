/*
 * Elastic Common Schema JSON (interface: ecs.h).  Fields are collected as
 * (dotted name, value) pairs, sorted so that names sharing a prefix are
 * adjacent, then written as nested objects.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "output/ecs.h"

enum ecs_kind {
	ECS_TEXT,
	ECS_NUMBER,          /* written as a JSON number when it is one */
	ECS_PATH,            /* text, plus NAME.name = the part after the last '/' */
	ECS_DIRECTION,       /* Initiated: true = egress, false = ingress */
	ECS_NETWORK_TYPE,    /* SourceIsIpv6: ipv6 / ipv4 */
	ECS_HASHES,          /* "SHA256=..,MD5=.." -> NAME.sha256, NAME.md5 */
	ECS_TIMESTAMP,       /* UtcTime "YYYY-MM-DD HH:MM:SS.mmm" -> ISO 8601 */
};

struct ecs_mapping {
	const char *field;
	const char *name;
	enum ecs_kind kind;
	unsigned only_id;    /* 0: every event with this field */
};

/* The first match wins: event-specific rows come before general ones. */
static const struct ecs_mapping mappings[] = {
	{ "UtcTime", "@timestamp", ECS_TIMESTAMP, 0 },
	{ "RuleName", "rule.name", ECS_TEXT, 0 },
	{ "ProcessGuid", "process.entity_id", ECS_TEXT, 0 },
	{ "ProcessId", "process.pid", ECS_NUMBER, 0 },
	{ "Image", "process.executable", ECS_PATH, 0 },
	{ "CommandLine", "process.command_line", ECS_TEXT, 0 },
	{ "CurrentDirectory", "process.working_directory", ECS_TEXT, 0 },
	{ "Hashes", "process.hash", ECS_HASHES, 1 },
	{ "Hashes", "file.hash", ECS_HASHES, 0 },
	{ "User", "user.name", ECS_TEXT, 0 },
	{ "ParentProcessGuid", "process.parent.entity_id", ECS_TEXT, 0 },
	{ "ParentProcessId", "process.parent.pid", ECS_NUMBER, 0 },
	{ "ParentImage", "process.parent.executable", ECS_PATH, 0 },
	{ "ParentCommandLine", "process.parent.command_line", ECS_TEXT, 0 },
	{ "ParentUser", "process.parent.user.name", ECS_TEXT, 0 },
	{ "SourceProcessGUID", "process.entity_id", ECS_TEXT, 0 },
	{ "SourceProcessGuid", "process.entity_id", ECS_TEXT, 0 },
	{ "SourceProcessId", "process.pid", ECS_NUMBER, 0 },
	{ "SourceThreadId", "process.thread.id", ECS_NUMBER, 0 },
	{ "SourceImage", "process.executable", ECS_PATH, 0 },
	{ "SourceUser", "user.name", ECS_TEXT, 0 },
	{ "TargetUser", "user.target.name", ECS_TEXT, 0 },
	{ "TargetFilename", "file.path", ECS_PATH, 0 },
	{ "Device", "file.path", ECS_PATH, 9 },
	{ "Protocol", "network.transport", ECS_TEXT, 0 },
	{ "Initiated", "network.direction", ECS_DIRECTION, 0 },
	{ "SourceIsIpv6", "network.type", ECS_NETWORK_TYPE, 0 },
	{ "SourceIp", "source.ip", ECS_TEXT, 0 },
	{ "SourceHostname", "source.domain", ECS_TEXT, 0 },
	{ "SourcePort", "source.port", ECS_NUMBER, 0 },
	{ "DestinationIp", "destination.ip", ECS_TEXT, 0 },
	{ "DestinationHostname", "destination.domain", ECS_TEXT, 0 },
	{ "DestinationPort", "destination.port", ECS_NUMBER, 0 },
	{ "QueryName", "dns.question.name", ECS_TEXT, 0 },
	{ "Description", "error.message", ECS_TEXT, EVENT_ID_ERROR },
	{ "ID", "error.id", ECS_TEXT, EVENT_ID_ERROR },
};

struct pair {
	char *name;          /* owned */
	struct strbuf json;  /* the value, already JSON */
};

struct pairs {
	struct pair *items;
	size_t n, cap;
};

static struct strbuf *add_pair(struct pairs *pairs, const char *name, size_t name_len)
{
	if (pairs->n == pairs->cap) {
		pairs->cap = pairs->cap ? pairs->cap * 2 : 48;
		pairs->items = xrealloc(pairs->items, pairs->cap * sizeof(*pairs->items));
	}
	struct pair *p = &pairs->items[pairs->n++];
	p->name = xstrndup(name, name_len);
	p->json = (struct strbuf)STRBUF_INIT;
	return &p->json;
}

static void add_text(struct pairs *pairs, const char *name, const char *text, size_t len)
{
	struct strbuf *json = add_pair(pairs, name, strlen(name));

	strbuf_putc(json, '"');
	format_json_escape(json, text, len);
	strbuf_putc(json, '"');
}

const char *ecs_field_name(unsigned id, const char *field)
{
	for (size_t i = 0; i < sizeof(mappings) / sizeof(mappings[0]); i++)
		if ((!mappings[i].only_id || mappings[i].only_id == id) &&
		    strcmp(mappings[i].field, field) == 0)
			return mappings[i].name;
	return NULL;
}

static const struct ecs_mapping *mapping_of(unsigned id, const char *field)
{
	for (size_t i = 0; i < sizeof(mappings) / sizeof(mappings[0]); i++)
		if ((!mappings[i].only_id || mappings[i].only_id == id) &&
		    strcmp(mappings[i].field, field) == 0)
			return &mappings[i];
	return NULL;
}

static bool is_number(const char *text, size_t len)
{
	if (len == 0 || len > 19 || (len > 1 && text[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)text[i]))
			return false;
	return true;
}

/* Is NAME already present (two Sysmon fields mapped to one ECS name)? */
static bool has_pair(const struct pairs *pairs, const char *name)
{
	for (size_t i = 0; i < pairs->n; i++)
		if (strcmp(pairs->items[i].name, name) == 0)
			return true;
	return false;
}

static void add_mapped(struct pairs *pairs, const struct ecs_mapping *m, const char *value, size_t len)
{
	struct strbuf name = STRBUF_INIT;

	if (has_pair(pairs, m->name))
		return;
	switch (m->kind) {
	case ECS_TEXT:
		add_text(pairs, m->name, value, len);
		break;
	case ECS_NUMBER:
		if (is_number(value, len))
			strbuf_append(add_pair(pairs, m->name, strlen(m->name)), value, len);
		else
			add_text(pairs, m->name, value, len);
		break;
	case ECS_PATH: {
		add_text(pairs, m->name, value, len);
		const char *slash = memrchr(value, '/', len);
		/* process.executable -> process.name, file.path -> file.name */
		const char *dot = strrchr(m->name, '.');
		strbuf_append(&name, m->name, (size_t)(dot - m->name));
		strbuf_puts(&name, ".name");
		if (slash && (size_t)(slash - value) + 1 < len && !has_pair(pairs, name.data))
			add_text(pairs, name.data, slash + 1, len - (size_t)(slash - value) - 1);
		break;
	}
	case ECS_DIRECTION:
		add_text(pairs, m->name, len == 4 && !memcmp(value, "true", 4) ? "egress" : "ingress",
			 len == 4 && !memcmp(value, "true", 4) ? 6 : 7);
		break;
	case ECS_NETWORK_TYPE:
		add_text(pairs, m->name, len == 4 && !memcmp(value, "true", 4) ? "ipv6" : "ipv4", 4);
		break;
	case ECS_HASHES: {
		/* "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." */
		const char *item = value, *end = value + len;
		while (item < end) {
			const char *comma = memchr(item, ',', (size_t)(end - item));
			const char *stop = comma ? comma : end;
			const char *eq = memchr(item, '=', (size_t)(stop - item));
			if (eq && eq > item) {
				strbuf_reset(&name);
				strbuf_printf(&name, "%s.", m->name);
				for (const char *c = item; c < eq; c++)
					strbuf_putc(&name, (char)tolower((unsigned char)*c));
				if (!has_pair(pairs, name.data))
					add_text(pairs, name.data, eq + 1, (size_t)(stop - eq - 1));
			}
			item = stop + 1;
		}
		break;
	}
	case ECS_TIMESTAMP: {
		/* "2026-11-26 06:48:44.420" -> "2026-11-26T06:48:44.420Z" */
		char iso[40];
		if (len >= 19 && len < sizeof(iso) - 1 && value[10] == ' ') {
			memcpy(iso, value, len);
			iso[10] = 'T';
			iso[len] = 'Z';
			add_text(pairs, m->name, iso, len + 1);
		} else {
			add_text(pairs, m->name, value, len);
		}
		break;
	}
	}
	strbuf_release(&name);
}

/* Order names so that each dotted prefix's members are adjacent: '.' sorts
 * before every other character. */
static int compare_names(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)((const struct pair *)a)->name;
	const unsigned char *y = (const unsigned char *)((const struct pair *)b)->name;

	for (;; x++, y++) {
		unsigned cx = *x == '.' ? 1 : *x, cy = *y == '.' ? 1 : *y;
		if (cx != cy || !cx)
			return (int)cx - (int)cy;
	}
}

/* Number of leading dotted components shared by A and B (whole ones). */
static size_t shared_components(const char *a, const char *b, size_t limit)
{
	size_t n = 0;

	while (n < limit) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		if (la != lb || memcmp(a, b, la) != 0 || !a[la] || !b[lb])
			break;
		a += la + 1;
		b += lb + 1;
		n++;
	}
	return n;
}

static size_t count_components(const char *name)
{
	size_t n = 1;

	for (; *name; name++)
		n += *name == '.';
	return n;
}

/* Write the sorted pairs as nested objects. */
static void write_nested(struct strbuf *out, struct pairs *pairs)
{
	const char *previous = NULL;
	size_t depth = 0;   /* objects open below the top level */

	strbuf_putc(out, '{');
	for (size_t i = 0; i < pairs->n; i++) {
		const char *name = pairs->items[i].name;
		size_t parts = count_components(name);
		size_t keep = previous ? shared_components(previous, name, depth) : 0;

		for (; depth > keep; depth--)
			strbuf_putc(out, '}');
		if (previous)
			strbuf_putc(out, ',');
		/* skip the components already open */
		const char *rest = name;
		for (size_t k = 0; k < keep; k++)
			rest += strcspn(rest, ".") + 1;
		for (size_t k = keep; k + 1 < parts; k++) {
			size_t len = strcspn(rest, ".");
			strbuf_putc(out, '"');
			format_json_escape(out, rest, len);
			strbuf_puts(out, "\":{");
			rest += len + 1;
			depth++;
		}
		strbuf_putc(out, '"');
		format_json_escape(out, rest, strlen(rest));
		strbuf_puts(out, "\":");
		strbuf_append(out, pairs->items[i].json.data, pairs->items[i].json.len);
		previous = name;
	}
	for (; depth > 0; depth--)
		strbuf_putc(out, '}');
	strbuf_putc(out, '}');
}

void ecs_format_json(struct strbuf *out, const struct event *ev, const struct format_context *ctx,
		     const char *host_id)
{
	const struct schema_event *schema = ev->schema;
	struct pairs pairs = { 0 };
	struct strbuf number = STRBUF_INIT;
	char systime[48];

	/* the record's own fields */
	strbuf_printf(&number, "%u", schema->id);
	add_text(&pairs, "event.code", number.data, number.len);
	strbuf_reset(&number);
	strbuf_printf(&number, "%llu", (unsigned long long)ev->record_id);
	strbuf_append(add_pair(&pairs, "event.sequence", 14), number.data, number.len);
	event_format_systemtime(ev->time_ns, systime);
	add_text(&pairs, "event.created", systime, strlen(systime));
	add_text(&pairs, "event.provider", "Linux-Sysmon", 12);
	add_text(&pairs, "event.module", "sysmon", 6);
	add_text(&pairs, "event.kind", "event", 5);
	add_text(&pairs, "event.action", schema->title, strlen(schema->title));
	add_text(&pairs, "ecs.version", ECS_VERSION, strlen(ECS_VERSION));
	if (ctx && ctx->computer && ctx->computer[0])
		add_text(&pairs, "host.name", ctx->computer, strlen(ctx->computer));
	if (host_id && host_id[0] && strcmp(host_id, "-") != 0)
		add_text(&pairs, "host.id", host_id, strlen(host_id));

	for (unsigned i = 0; i < schema->nfields; i++) {
		const char *name = schema->fields[i].name;
		if (!event_is_set(ev, (int)i))
			continue;
		const char *value = event_value(ev, (int)i);
		size_t len = event_value_len(ev, (int)i);
		if (len == 1 && value[0] == '-')
			continue;
		/* FieldSizes, as format_json applies them */
		size_t limit = FORMAT_DEFAULT_MAX_FIELD;
		if (ctx && ctx->field_sizes && schema->id < 30 && ctx->field_sizes->max[schema->id][i])
			limit = ctx->field_sizes->max[schema->id][i];
		struct strbuf cut = STRBUF_INIT;
		if (len > limit) {
			size_t keep = limit >= 3 ? limit - 3 : 0;
			while (keep > 0 && ((unsigned char)value[keep] & 0xc0) == 0x80)
				keep--;
			strbuf_append(&cut, value, keep);
			strbuf_puts(&cut, limit >= 3 ? "..." : "-");
			value = cut.data;
			len = cut.len;
		}
		const struct ecs_mapping *m = mapping_of(schema->id, name);
		if (m) {
			add_mapped(&pairs, m, value, len);
		} else {
			struct strbuf key = STRBUF_INIT;
			strbuf_printf(&key, "sysmon.%s", name);
			if (!has_pair(&pairs, key.data))
				add_text(&pairs, key.data, value, len);
			strbuf_release(&key);
		}
		strbuf_release(&cut);
	}
	qsort(pairs.items, pairs.n, sizeof(*pairs.items), compare_names);
	write_nested(out, &pairs);
	for (size_t i = 0; i < pairs.n; i++) {
		free(pairs.items[i].name);
		strbuf_release(&pairs.items[i].json);
	}
	free(pairs.items);
	strbuf_release(&number);
}
