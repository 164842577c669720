/*
 * Unit tests for the event formatters (output/format.c): the XML layout of
 * Sysmon for Linux, JSON lines, escaping of hostile values, FieldSizes.
 * Well-formedness is checked with libxml2, the parser SIEM pipelines use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <libxml/parser.h>

#include "output/format.h"

static const struct format_context ctx = { "web01", 812, 812, NULL };

static void make_network_event(struct event *ev)
{
	event_init(ev);
	event_reset(ev, 3);
	ev->record_id = 43;
	ev->time_ns = 1731010307402311000LL;
	event_set_str(ev, 1, "2024-11-07 20:11:47.398");
	event_set_str(ev, 2, "{3d6ed7f1-1f03-672d-00d0-c3a781550000}");
	event_set_str(ev, 3, "4242");
	event_set_str(ev, 4, "/usr/bin/curl");
	event_set_str(ev, 5, "alice");
	event_set_str(ev, 6, "tcp");
	event_set_str(ev, 7, "true");
	event_set_str(ev, 8, "false");
	event_set_str(ev, 9, "10.0.0.5");
	event_set_str(ev, 11, "51544");
	event_set_str(ev, 13, "false");
	event_set_str(ev, 14, "93.184.215.14");
	event_set_str(ev, 16, "443");
}

static void test_xml_layout_matches_reference(void **state)
{
	(void)state;
	/* Spec section 5.3, event 3, byte for byte. */
	static const char expected[] =
		"<Event><System><Provider Name=\"Linux-Sysmon\" Guid=\"{ff032593-a8d3-4f13-b0d6-01fc615a0f97}\"/><EventID>3</EventID><Version>5</Version><Level>4</Level><Task>3</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime=\"2024-11-07T20:11:47.402311000Z\"/><EventRecordID>43</EventRecordID><Correlation/><Execution ProcessID=\"812\" ThreadID=\"812\"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer><Security UserId=\"0\"/></System><EventData><Data Name=\"RuleName\">-</Data><Data Name=\"UtcTime\">2024-11-07 20:11:47.398</Data><Data Name=\"ProcessGuid\">{3d6ed7f1-1f03-672d-00d0-c3a781550000}</Data><Data Name=\"ProcessId\">4242</Data><Data Name=\"Image\">/usr/bin/curl</Data><Data Name=\"User\">alice</Data><Data Name=\"Protocol\">tcp</Data><Data Name=\"Initiated\">true</Data><Data Name=\"SourceIsIpv6\">false</Data><Data Name=\"SourceIp\">10.0.0.5</Data><Data Name=\"SourceHostname\">-</Data><Data Name=\"SourcePort\">51544</Data><Data Name=\"SourcePortName\">-</Data><Data Name=\"DestinationIsIpv6\">false</Data><Data Name=\"DestinationIp\">93.184.215.14</Data><Data Name=\"DestinationHostname\">-</Data><Data Name=\"DestinationPort\">443</Data><Data Name=\"DestinationPortName\">-</Data></EventData></Event>";
	struct event ev;
	struct strbuf out = STRBUF_INIT;

	make_network_event(&ev);
	format_xml(&out, &ev, &ctx);
	assert_string_equal(strbuf_str(&out), expected);
	strbuf_release(&out);
	event_free(&ev);
}

static bool xml_well_formed(const char *text)
{
	xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), "event.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return false;
	xmlFreeDoc(doc);
	return true;
}

/* The text of <Data Name="CommandLine"> as an XML parser reads it back. */
static char *parsed_data(const char *xml, const char *name)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "e.xml", NULL, XML_PARSE_NONET);
	char *result = NULL;

	assert_non_null(doc);
	for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
		if (strcmp((const char *)n->name, "EventData") != 0)
			continue;
		for (xmlNodePtr d = n->children; d; d = d->next) {
			xmlChar *attr = xmlGetProp(d, (const xmlChar *)"Name");
			if (attr && strcmp((char *)attr, name) == 0)
				result = (char *)xmlNodeGetContent(d);
			xmlFree(attr);
		}
	}
	xmlFreeDoc(doc);
	return result;
}

static void test_xml_escaping_hostile_values(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT;
	static const char hostile[] =
		"sh -c \"echo <b>&amp;</b>\" 'x'\ttab\r\nnext \x01\x1b[31m \xff\xfe caf\xc3\xa9 \xe2\x82 \xed\xa0\x80 end";

	event_init(&ev);
	event_reset(&ev, 1);
	event_set(&ev, 10, hostile, sizeof(hostile) - 1);
	format_xml(&out, &ev, &ctx);
	assert_true(xml_well_formed(strbuf_str(&out)));
	assert_null(strchr(strbuf_str(&out), '\n'));
	/* '"' as is in text, as Sysmon for Linux writes it */
	assert_non_null(strstr(strbuf_str(&out), ">sh -c \"echo &lt;b&gt;&amp;amp;&lt;/b&gt;\" 'x'\t"));
	char *back = parsed_data(strbuf_str(&out), "CommandLine");
	assert_string_equal(back, "sh -c \"echo <b>&amp;</b>\" 'x'\ttab\r\nnext \\x01\\x1b[31m \\xff\\xfe caf\xc3\xa9 \\xe2\\x82 \\xed\\xa0\\x80 end");
	xmlFree(back);
	strbuf_release(&out);
	event_free(&ev);
}

static void test_json_escaping(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT;
	static const char value[] = "a\"b\\c\n\x01\xff\xc3\xa9";

	event_init(&ev);
	event_reset(&ev, 5);
	ev.record_id = 7;
	ev.time_ns = 0;
	event_set(&ev, 4, value, sizeof(value) - 1);
	format_json(&out, &ev, &ctx);
	assert_string_equal(strbuf_str(&out),
		"{\"EventID\":5,\"EventRecordID\":7,\"TimeCreated\":\"1970-01-01T00:00:00.000000000Z\","
		"\"Computer\":\"web01\",\"RuleName\":\"-\",\"UtcTime\":\"-\",\"ProcessGuid\":\"-\","
		"\"ProcessId\":\"-\",\"Image\":\"a\\\"b\\\\c\\n\\u0001\\\\xff\xc3\xa9\",\"User\":\"-\"}");
	strbuf_release(&out);
	event_free(&ev);
}

static void test_field_sizes_and_huge_values(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT;
	struct field_sizes sizes;
	struct format_context sized = ctx;

	memset(&sizes, 0, sizeof(sizes));
	sizes.max[1][10] = 10;   /* CommandLine:10 */
	sizes.max[1][4] = 2;     /* Image:2 */
	sized.field_sizes = &sizes;
	event_init(&ev);
	event_reset(&ev, 1);
	event_set_str(&ev, 10, "0123456789abcdef");
	event_set_str(&ev, 4, "/usr/bin/curl");
	format_json(&out, &ev, &sized);
	assert_non_null(strstr(strbuf_str(&out), "\"CommandLine\":\"0123456...\""));
	assert_non_null(strstr(strbuf_str(&out), "\"Image\":\"-\""));

	/* A cut never splits a UTF-8 character. */
	strbuf_reset(&out);
	event_set_str(&ev, 10, "caf\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	sizes.max[1][10] = 7;    /* 4 bytes would end inside the first e-acute */
	format_json(&out, &ev, &sized);
	assert_non_null(strstr(strbuf_str(&out), "\"CommandLine\":\"caf...\""));

	/* Without FieldSizes a multi-megabyte value is still bounded. */
	size_t huge = 4u << 20;
	char *big = malloc(huge);
	memset(big, '<', huge);
	event_set(&ev, 10, big, huge);
	strbuf_reset(&out);
	format_xml(&out, &ev, &ctx);
	assert_true(out.len < FORMAT_DEFAULT_MAX_FIELD * 5 + 4096);
	assert_true(xml_well_formed(strbuf_str(&out)));
	free(big);
	strbuf_release(&out);
	event_free(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_layout_matches_reference),
		cmocka_unit_test(test_xml_escaping_hostile_values),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_field_sizes_and_huge_values),
	};
	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
