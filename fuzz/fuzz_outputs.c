/*
 * libFuzzer target for the outputs' parsers and wire formats (src/output/):
 * the first byte picks what the rest of the input feeds.
 *   0: outputs.conf text -> outputs_config_parse(): a config or exactly one
 *      "fuzz.conf:LINE: message" line, never a crash;
 *   1: hostile field values (split at 0x00) -> a ProcessCreate event ->
 *      RFC 5424 message, local syslog datagram and ECS JSON: the XML must
 *      stay well-formed and within the size bound;
 *   2: bytes from a collector's side -> the octet-counting reader.
 * Seed corpus: fuzz/corpus/fuzz_outputs/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "output/ecs.h"
#include "output/outputs_config.h"
#include "output/wire.h"

static void fail(const char *what, const char *text)
{
	fprintf(stderr, "%s: %.300s\n", what, text);
	abort();
}

static void fuzz_config(const char *text)
{
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct outputs_config *config = outputs_config_parse("fuzz.conf", text, &err);

	if (config) {
		outputs_config_describe(config, &out);
		outputs_config_free(config);
	} else if (strncmp(strbuf_str(&err), "fuzz.conf:", 10) != 0 || strchr(strbuf_str(&err), '\n')) {
		fail("malformed message", strbuf_str(&err));
	}
	strbuf_release(&err);
	strbuf_release(&out);
}

static void check_xml(const char *message, size_t len, size_t max)
{
	const char *xml = memmem(message, len, "<Event>", 7);

	if (!xml)
		fail("no event in", message);
	size_t xml_len = len - (size_t)(xml - message);
	xmlDocPtr doc = xmlReadMemory(xml, (int)xml_len, "event.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		fail("broken XML", xml);
	xmlFreeDoc(doc);
	/* 23 values cut to 16 bytes fit in 6 KB whatever their escaping */
	if (max >= 6144 && len > max)
		fail("over the bound", message);
}

static void fuzz_event(const uint8_t *data, size_t size)
{
	static const struct format_context ctx = { "fuzz-host", 1, 1, NULL };
	static const struct wire_origin origin = { "fuzz host", "0123456789abcdef0123456789abcdef" };
	struct strbuf out = STRBUF_INIT;
	struct event ev;
	size_t max = 2048 + (size > 0 ? (size_t)data[0] * 64 : 0);

	event_init(&ev);
	event_reset(&ev, 1);
	ev.record_id = 1;
	ev.time_ns = 1731010307402311000LL;
	const uint8_t *p = data + (size > 0), *end = data + size;
	for (unsigned field = 0; field < ev.schema->nfields && p < end; field++) {
		const uint8_t *stop = memchr(p, 0, (size_t)(end - p));
		if (!stop)
			stop = end;
		event_set(&ev, (int)field, (const char *)p, (size_t)(stop - p));
		p = stop + 1;
	}
	wire_rfc5424_message(&out, &ev, &ctx, &origin, max);
	check_xml(out.data, out.len, max);
	strbuf_reset(&out);
	wire_local_message(&out, &ev, &ctx, max, 0);
	check_xml(out.data, out.len, max);
	strbuf_reset(&out);
	ecs_format_json(&out, &ev, &ctx, "0123");
	if (out.len == 0 || out.data[0] != '{' || out.data[out.len - 1] != '}' || memchr(out.data, '\n', out.len))
		fail("not one JSON object on one line", out.data);
	strbuf_release(&out);
	event_free(&ev);
}

static void fuzz_frames(const char *data, size_t size)
{
	const char *message;
	size_t len;
	long used;

	while (size > 0 && (used = wire_octet_unframe(data, size, &message, &len)) > 0) {
		if ((size_t)used > size || message + len != data + used)
			fail("frame outside the input", data);
		data += used;
		size -= (size_t)used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		fuzz_config(text);
		break;
	case 1:
		fuzz_event(data + 1, size - 1);
		break;
	default:
		fuzz_frames((const char *)data + 1, size - 1);
		break;
	}
	free(text);
	return 0;
}
