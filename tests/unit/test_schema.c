/*
 * Unit tests for the schema catalogue (schema.c) and event records (event.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "schema/event.h"
#include "schema/schema.h"

static void test_version_parse(void **state)
{
	(void)state;
	unsigned v;

	assert_int_equal(schema_parse_version("4.22", &v), 0);
	assert_int_equal(v, SCHEMA_VERSION(4, 22));
	assert_int_equal(schema_parse_version("4.2", &v), 0);
	assert_int_equal(v, SCHEMA_VERSION(4, 20));
	assert_int_equal(schema_parse_version("4.9", &v), 0);
	assert_int_equal(v, SCHEMA_VERSION(4, 90));
	assert_int_equal(schema_parse_version("4", &v), 0);
	assert_int_equal(v, SCHEMA_VERSION(4, 0));
	assert_int_equal(schema_parse_version("4.999", &v), 0);
	assert_int_equal(v, SCHEMA_VERSION(5, 0));
	assert_int_equal(schema_parse_version("0.5", &v), -1);
	assert_int_equal(schema_parse_version("-4", &v), -1);
	assert_int_equal(schema_parse_version("abc", &v), -1);
	assert_int_equal(schema_parse_version("", &v), -1);
	assert_int_equal(schema_parse_version("inf", &v), -1);
	assert_int_equal(schema_parse_version("nan", &v), -1);
	assert_true(schema_version_supported(SCHEMA_VERSION(4, 90)));
	assert_false(schema_version_supported(SCHEMA_VERSION(3, 40)));
	assert_false(schema_version_supported(SCHEMA_VERSION(5, 0)));
}

static void test_events_and_fields(void **state)
{
	(void)state;
	for (unsigned id = 1; id <= 29; id++)
		assert_int_equal(schema_event_by_id(id)->id, id);
	assert_int_equal(schema_event_by_id(255)->id, 255);
	assert_null(schema_event_by_id(30));
	assert_null(schema_event_by_id(0));

	const struct schema_event *pc = schema_event_by_id(1);
	assert_string_equal(pc->rule_tag, "ProcessCreate");
	assert_int_equal(pc->nfields, 23);
	assert_int_equal(schema_field_index(pc, "ParentUser"), 22);
	assert_int_equal(schema_field_index(pc, "parentuser"), -1);
	assert_false(schema_field_in_version(pc, 22, SCHEMA_VERSION(4, 22)));
	assert_true(schema_field_in_version(pc, 22, SCHEMA_VERSION(4, 80)));
	assert_false(schema_event_in_version(schema_event_by_id(25), SCHEMA_VERSION(4, 22)));
	assert_true(schema_event_in_version(schema_event_by_id(23), SCHEMA_VERSION(4, 22)));
	assert_true(schema_event_by_id(12)->windows_only);
	assert_true(schema_event_by_id(5)->default_include);
	assert_false(schema_event_by_id(3)->default_include);
	assert_int_equal(schema_field_index(schema_event_by_id(10), "SourceProcessGUID"), 2);
	assert_int_equal(schema_field_index(schema_event_by_id(8), "SourceProcessGuid"), 2);
	assert_true(schema_is_field_name("DestinationPort"));
	assert_false(schema_is_field_name("NoSuchField"));
}

static void test_tags(void **state)
{
	(void)state;
	const struct schema_event *ids[4];

	assert_string_equal(schema_tag_at(0), "ProcessCreate");
	assert_int_equal(schema_tag_events("RegistryEvent", ids, 4), 3);
	assert_int_equal(ids[0]->id, 12);
	assert_int_equal(schema_tag_events("WmiEvent", ids, 4), 3);
	assert_int_equal(schema_tag_events("PipeEvent", ids, 4), 2);
	assert_int_equal(schema_tag_events("Nope", ids, 4), 0);
}

static void test_options(void **state)
{
	(void)state;
	assert_non_null(schema_option_by_element("HashAlgorithms", SCHEMA_VERSION(4, 22)));
	assert_non_null(schema_option_by_element("ProcessAccessConfig", SCHEMA_VERSION(4, 81)));
	assert_null(schema_option_by_element("ProcessAccess", SCHEMA_VERSION(4, 81)));
	assert_null(schema_option_by_element("FieldSizes", SCHEMA_VERSION(4, 80)));
	assert_non_null(schema_option_by_element("FieldSizes", SCHEMA_VERSION(4, 81)));
	assert_null(schema_option_by_element("DnsLookup", SCHEMA_VERSION(4, 23)));
	assert_non_null(schema_option_by_element("CopyOnDelete_PE", SCHEMA_VERSION(4, 22)));
	assert_null(schema_option_by_element("CopyOnDelete_PE", SCHEMA_VERSION(4, 30)));
	assert_null(schema_option_by_element("Install", SCHEMA_VERSION(4, 81)));
}

static void test_event_values(void **state)
{
	(void)state;
	struct event ev;
	char buf[48];

	event_init(&ev);
	assert_int_equal(event_reset(&ev, 3), 0);
	assert_string_equal(event_value(&ev, 16), "-");
	event_set_str(&ev, 16, "443");
	event_setf(&ev, 4, "/usr/bin/%s", "curl");
	assert_string_equal(event_value_by_name(&ev, "DestinationPort"), "443");
	assert_string_equal(event_value(&ev, 4), "/usr/bin/curl");
	assert_int_equal(event_set_name(&ev, "NoSuchField", "x"), -1);
	assert_null(event_value_by_name(&ev, "NoSuchField"));
	for (int i = 0; i < 1000; i++)   /* arena growth keeps earlier values */
		event_setf(&ev, 9, "10.0.0.%d", i % 256);
	assert_string_equal(event_value(&ev, 4), "/usr/bin/curl");
	assert_int_equal(event_reset(&ev, 300), -1);
	event_free(&ev);

	assert_string_equal(event_format_utctime(1731010307123999999LL, buf), "2024-11-07 20:11:47.123");
	assert_string_equal(event_format_systemtime(1731010307123456789LL, buf), "2024-11-07T20:11:47.123456789Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_parse),
		cmocka_unit_test(test_events_and_fields),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_event_values),
	};
	return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
