/*
 * Values of the top-level config options that change what sysmon does on
 * Linux: HashAlgorithms (compatibility spec 1.4.2) and FieldSizes (1.4.3).
 * The config loader (config.c) calls these for the option elements, the
 * command line for -h; both report "what is wrong (and what to do)" and the
 * caller adds where (FILE:LINE or the switch).
 */
#include "config/config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	const char *alias;
	unsigned bit;
} hash_names[] = {
	{ "sha1", "sha-1", HASH_SHA1 },
	{ "md5", "md-5", HASH_MD5 },
	{ "sha256", "sha-256", HASH_SHA256 },
	{ "imphash", "imp-hash", HASH_IMPHASH },
};

#define NHASH (sizeof(hash_names) / sizeof(hash_names[0]))

/* Quote TEXT of LEN bytes for a message: printable ASCII as is, anything
 * else as \xNN, at most 40 bytes. */
static void quote(struct strbuf *out, const char *text, size_t len)
{
	size_t shown = len > 40 ? 40 : len;

	strbuf_putc(out, '\'');
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c >= 0x20 && c < 0x7f)
			strbuf_putc(out, (char)c);
		else
			strbuf_printf(out, "\\x%02x", c);
	}
	if (shown < len)
		strbuf_puts(out, "...");
	strbuf_putc(out, '\'');
}

int config_parse_hash_algorithms(const char *text, unsigned *algorithms, struct strbuf *err)
{
	unsigned bits = 0;
	const char *p = text;

	/* Sysmon splits on ',' and collapses empty items; it trims nothing, so
	 * "md5, sha256" names the algorithm " sha256". */
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		bool known = false;

		if (len == 0) {
			p++;
			continue;
		}
		if ((len == 1 && *p == '*') || (len == 3 && strncasecmp(p, "all", 3) == 0)) {
			bits |= HASH_ALL;
			known = true;
		}
		for (size_t i = 0; i < NHASH && !known; i++) {
			if ((strlen(hash_names[i].name) == len && strncasecmp(p, hash_names[i].name, len) == 0) ||
			    (strlen(hash_names[i].alias) == len && strncasecmp(p, hash_names[i].alias, len) == 0)) {
				bits |= hash_names[i].bit;
				known = true;
			}
		}
		if (!known) {
			strbuf_puts(err, "unknown hash algorithm ");
			quote(err, p, len);
			strbuf_puts(err, " in HashAlgorithms: use sha1, md5, sha256, imphash or * for all, "
				    "comma-separated without spaces (e.g. sha256,md5)");
			return -1;
		}
		p += len;
	}
	if (bits == 0) {
		strbuf_puts(err, "HashAlgorithms names no algorithm: write e.g. sha256 or md5,sha256");
		return -1;
	}
	*algorithms = bits;
	return 0;
}

void config_hash_algorithms_text(unsigned algorithms, struct strbuf *out)
{
	static const char *const upper[NHASH] = { "SHA1", "MD5", "SHA256", "IMPHASH" };
	bool first = true;

	for (size_t i = 0; i < NHASH; i++) {
		if (!(algorithms & hash_names[i].bit))
			continue;
		if (!first)
			strbuf_putc(out, ',');
		strbuf_puts(out, upper[i]);
		first = false;
	}
}

/* The largest size accepted: far beyond any field, small enough for unsigned. */
#define FIELD_SIZE_MAX 1000000000u

/* Events whose fields FieldSizes can trim: Sysmon's table stops before 26. */
#define FIELD_SIZES_LAST_ID 25

int config_parse_field_sizes(const char *text, struct field_sizes *sizes, struct strbuf *err)
{
	static const char example[] = " (e.g. CommandLine:100,Image:20)";
	bool any = false;

	for (const char *c = text; *c; c++) {
		if (!isascii((unsigned char)*c) || !(isalnum((unsigned char)*c) || *c == ',' || *c == ':')) {
			strbuf_puts(err, "FieldSizes ");
			quote(err, text, strlen(text));
			strbuf_puts(err, " has the invalid character ");
			quote(err, c, 1);
			strbuf_printf(err, ": write Name:Size[,Name:Size...] with letters, digits, ':' and ',' only%s",
				      example);
			return -1;
		}
	}
	for (const char *p = text; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		char name[64];
		unsigned long size = 0;
		bool number = true;

		if (len == 0) {
			p++;
			continue;
		}
		if (!colon) {
			strbuf_puts(err, "FieldSizes entry ");
			quote(err, p, len);
			strbuf_printf(err, " has no size: write Name:Size%s", example);
			return -1;
		}
		if ((size_t)(colon - p) >= sizeof(name) || colon == p) {
			strbuf_puts(err, "FieldSizes entry ");
			quote(err, p, len);
			strbuf_printf(err, " does not start with a field name%s", example);
			return -1;
		}
		memcpy(name, p, (size_t)(colon - p));
		name[colon - p] = '\0';
		if (!schema_is_field_name(name)) {
			strbuf_printf(err, "FieldSizes field '%s' is not a field of any event "
				      "(names are case-sensitive, e.g. CommandLine)", name);
			return -1;
		}
		for (const char *d = colon + 1; d < p + len; d++) {
			if (*d < '0' || *d > '9' || size > FIELD_SIZE_MAX) {
				number = false;
				break;
			}
			size = size * 10 + (unsigned long)(*d - '0');
		}
		if (!number || colon + 1 == p + len || size == 0 || size > FIELD_SIZE_MAX) {
			strbuf_printf(err, "FieldSizes field '%s' has the size ", name);
			quote(err, colon + 1, (size_t)(p + len - colon - 1));
			strbuf_printf(err, ": a size is a whole number of bytes from 1 to %u", FIELD_SIZE_MAX);
			return -1;
		}
		for (unsigned id = 1; id <= FIELD_SIZES_LAST_ID; id++) {
			const struct schema_event *ev = schema_event_by_id(id);
			int index = ev ? schema_field_index(ev, name) : -1;

			if (index >= 0 && index < SCHEMA_MAX_FIELDS)
				sizes->max[id][index] = (unsigned)size;
		}
		any = true;
		p += len;
	}
	if (!any) {
		strbuf_printf(err, "FieldSizes names no field: write Name:Size[,Name:Size...]%s", example);
		return -1;
	}
	return 0;
}
