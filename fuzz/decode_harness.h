/*
 * What the capture decoders' libFuzzer targets (fuzz/fuzz_decode_X.c, one
 * per decoder of src/capture/decode.h) share.
 *
 * An input is a run of records as a source's ring buffer hands them over:
 * each is a 2-byte little-endian length and that many bytes (the last one
 * is cut where the input ends).  Each record goes to the decoder in a
 * buffer of exactly its length, so AddressSanitizer sees any read past it;
 * the records of one input share one decoder and one process cache, as in
 * the monitor, so that state kept between records (the cache, DNS queries
 * waiting for their answer) is fuzzed too.  Every event the decoder emits
 * is formatted by src/output/format.c to XML and to JSON, and both must be
 * well-formed whatever the record held: the XML as libxml2 parses it, the
 * JSON by the strict RFC 8259 check below (escapes, UTF-8, no control
 * characters).  Seeds: fuzz/corpus/fuzz_decode_X/, made by
 * fuzz/decoder_seeds.c.
 */
#ifndef SYSMON_FUZZ_DECODE_HARNESS_H
#define SYSMON_FUZZ_DECODE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "capture/decode.h"
#include "output/format.h"

static void harness_fail(const char *what, const char *text, size_t len)
{
	fprintf(stderr, "%s: %.*s\n", what, (int)(len > 600 ? 600 : len), text);
	abort();
}

/* Strict JSON (RFC 8259) over [*p, end): advances *p past one value. */
static bool json_value(const char **p, const char *end, int depth);

static void json_space(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r'))
		(*p)++;
}

/* Length of the well-formed UTF-8 sequence at S (0 if it is not one). */
static size_t utf8_sequence(const unsigned char *s, const unsigned char *end)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
		   : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (n == 0 || (size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;   /* overlong, or a surrogate */
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;   /* overlong, or above U+10FFFF */
	return n;
}

static bool json_string(const char **p, const char *end)
{
	if (*p >= end || **p != '"')
		return false;
	(*p)++;
	while (*p < end) {
		unsigned char c = (unsigned char)**p;

		if (c == '"') {
			(*p)++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (end - *p < 2)
				return false;
			char e = (*p)[1];
			if (e == 'u') {
				if (end - *p < 6)
					return false;
				for (int i = 2; i < 6; i++)
					if (!strchr("0123456789abcdefABCDEF", (*p)[i]) || !(*p)[i])
						return false;
				*p += 6;
			} else if (e && strchr("\"\\/bfnrt", e)) {
				*p += 2;
			} else {
				return false;
			}
			continue;
		}
		size_t n = utf8_sequence((const unsigned char *)*p, (const unsigned char *)end);
		if (n == 0)
			return false;
		*p += n;
	}
	return false;
}

static bool json_number(const char **p, const char *end)
{
	const char *s = *p;

	if (s < end && *s == '-')
		s++;
	if (s >= end || *s < '0' || *s > '9')
		return false;
	if (*s == '0')
		s++;
	else
		while (s < end && *s >= '0' && *s <= '9')
			s++;
	if (s < end && *s == '.') {
		s++;
		if (s >= end || *s < '0' || *s > '9')
			return false;
		while (s < end && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < end && (*s == '+' || *s == '-'))
			s++;
		if (s >= end || *s < '0' || *s > '9')
			return false;
		while (s < end && *s >= '0' && *s <= '9')
			s++;
	}
	*p = s;
	return true;
}

static bool json_word(const char **p, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - *p) < n || memcmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

/* An object (CLOSE '}') or an array (CLOSE ']') after its opening. */
static bool json_members(const char **p, const char *end, char close, int depth)
{
	json_space(p, end);
	if (*p < end && **p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (close == '}') {
			if (!json_string(p, end))
				return false;
			json_space(p, end);
			if (*p >= end || **p != ':')
				return false;
			(*p)++;
		}
		if (!json_value(p, end, depth + 1))
			return false;
		json_space(p, end);
		if (*p < end && **p == ',') {
			(*p)++;
			json_space(p, end);
			continue;
		}
		if (*p < end && **p == close) {
			(*p)++;
			return true;
		}
		return false;
	}
}

static bool json_value(const char **p, const char *end, int depth)
{
	if (depth > 32)
		return false;
	json_space(p, end);
	if (*p >= end)
		return false;
	switch (**p) {
	case '{':
		(*p)++;
		return json_members(p, end, '}', depth);
	case '[':
		(*p)++;
		return json_members(p, end, ']', depth);
	case '"':
		return json_string(p, end);
	case 't':
		return json_word(p, end, "true");
	case 'f':
		return json_word(p, end, "false");
	case 'n':
		return json_word(p, end, "null");
	default:
		return json_number(p, end);
	}
}

/* One JSON object on one line, nothing after it. */
static void check_json(const struct strbuf *out)
{
	const char *p = out->data, *end = out->data + out->len;

	if (out->len == 0 || out->data[0] != '{' || memchr(out->data, '\n', out->len) ||
	    !json_value(&p, end, 0) || p != end)
		harness_fail("not one well-formed JSON object on one line", out->data, out->len);
}

static void check_xml(const struct strbuf *out)
{
	if (out->len == 0 || strlen(out->data) != out->len || memchr(out->data, '\n', out->len))
		harness_fail("not one XML line", out->data, out->len);
	xmlDocPtr doc = xmlReadMemory(out->data, (int)out->len, "event.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		harness_fail("broken XML", out->data, out->len);
	xmlFreeDoc(doc);
}

static void harness_emit(struct capture_env *env, struct event *ev)
{
	static const struct format_context ctx = { "fuzz-host", 1, 1, NULL };
	static struct strbuf out = STRBUF_INIT;

	(void)env;
	if (!ev->schema || ev->schema->id == 0)
		harness_fail("event of no known type", "", 0);
	ev->record_id = 1;
	ev->time_ns = 1731010307402311000LL;
	strbuf_reset(&out);
	format_xml(&out, ev, &ctx);
	check_xml(&out);
	strbuf_reset(&out);
	format_json(&out, ev, &ctx);
	check_json(&out);
}

/* The environment of one input: a fresh process cache, the hash cache of
 * the whole run (files are hashed once), no config (the defaults). */
static void harness_env(struct capture_env *env)
{
	static struct hash_cache *hashes;

	if (!hashes)
		hashes = hash_cache_new(256);
	memset(env, 0, sizeof(*env));
	env->processes = process_cache_new();
	env->hashes = hashes;
	env->monitor_tgid = 1;
	env->emit = harness_emit;
}

/* Give every record of DATA to DECODE(DEC, ...). */
static void harness_run(const uint8_t *data, size_t size, struct capture_env *env,
			int (*decode)(void *dec, struct capture_env *env, const void *rec, size_t len),
			void *dec)
{
	while (size >= 2) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		void *rec = malloc(len ? len : 1);
		memcpy(rec, data, len);
		decode(dec, env, rec, len);
		free(rec);
		data += len;
		size -= len;
	}
}

#endif
