/*
 * Unit tests for the query engine (store/query.c) over a real log in a
 * temporary directory: --where parsing (every condition word, clear errors),
 * times, the XPath subset (valid and malformed), and every filter, order,
 * limit and aggregation against known records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/event.h"
#include "store/eventlog.h"
#include "store/query.h"

#define T0 1795675705000000000ll   /* 2026-11-26T06:48:25Z */
#define SEC 1000000000ll

static char dir[256];
static char path[300];
static struct eventlog *reader;

static void add(struct eventlog *log, unsigned id, int64_t when, const char *const *pairs)
{
	struct event ev;

	event_init(&ev);
	event_reset(&ev, id);
	ev.time_ns = when;
	for (; pairs && pairs[0]; pairs += 2)
		assert_int_equal(event_set_name(&ev, pairs[0], pairs[1]), 0);
	assert_int_equal(eventlog_append(log, &ev), 0);
	event_free(&ev);
}

/* Records 1-6. */
static int setup(void **state)
{
	struct strbuf err = STRBUF_INIT;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_query.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/events.db", dir);
	struct eventlog *log = eventlog_open(path, NULL, &err);

	if (!log)
		return -1;
	add(log, 1, T0, (const char *[]){ "Image", "/usr/bin/curl", "CommandLine", "curl https://example.org",
		"Hashes", "SHA1=22973940649bdb0982aa47f877f8f0948eb1ff32,MD5=b4d99c80bde0db7fee34827e4c3a5f4c",
		"ProcessGuid", "{3d1219c7-d63a-6b07-0984-000000000002}",
		"ParentProcessGuid", "{3d1219c7-d63a-6b07-0984-000000000001}", "ProcessId", "102", NULL });
	add(log, 3, T0 + 1 * SEC, (const char *[]){ "Image", "/usr/bin/curl", "DestinationPort", "443",
		"DestinationIp", "93.184.216.34", NULL });
	add(log, 3, T0 + 2 * SEC, (const char *[]){ "Image", "/usr/lib/firefox/firefox", "DestinationPort", "443", NULL });
	add(log, 3, T0 + 3 * SEC, (const char *[]){ "Image", "/usr/bin/wget", "DestinationPort", "80",
		"RuleName", "technique_id=T1105,technique_name=Ingress Tool Transfer", NULL });
	add(log, 5, T0 + 4 * SEC, (const char *[]){ "Image", "/usr/bin/curl", NULL });
	/* Its own batch (time windows come from batches). */
	assert_int_equal(eventlog_flush(log), 0);
	add(log, 255, T0 + 5 * SEC, (const char *[]){ "Description", "events lost", "ID", "Monitor", NULL });
	eventlog_close(log);
	reader = eventlog_open_readonly(path, &err);
	strbuf_release(&err);
	return reader ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[320];

	(void)state;
	eventlog_close(reader);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int collect_id(const struct event *ev, unsigned origin, void *arg)
{
	struct strbuf *ids = arg;

	(void)origin;
	strbuf_printf(ids, "%s%llu", ids->len ? "," : "", (unsigned long long)ev->record_id);
	return 0;
}

/* Record ids the query Q selects, "1,3"; "error" if it fails. */
static char *run(struct query *q)
{
	static char result[256];
	struct strbuf ids = STRBUF_INIT, err = STRBUF_INIT;

	if (query_run(reader, q, NULL, 0, collect_id, &ids, &err) < 0) {
		fprintf(stderr, "query: %s\n", strbuf_str(&err));
		snprintf(result, sizeof(result), "error");
	} else {
		snprintf(result, sizeof(result), "%s", strbuf_str(&ids));
	}
	strbuf_release(&ids);
	strbuf_release(&err);
	query_free(q);
	return result;
}

static char *where(const char *a, const char *b)
{
	struct query q;
	struct strbuf err = STRBUF_INIT;

	query_init(&q);
	assert_int_equal(query_add_where(&q, a, &err), 0);
	if (b)
		assert_int_equal(query_add_where(&q, b, &err), 0);
	strbuf_release(&err);
	return run(&q);
}

static char *xpath(const char *text, int64_t now)
{
	struct query q;
	struct strbuf err = STRBUF_INIT;

	query_init(&q);
	if (query_add_xpath(&q, text, now, &err) < 0) {
		/* Every rejection names the problem and where it is. */
		assert_non_null(strstr(strbuf_str(&err), "XPath: "));
		assert_non_null(strstr(strbuf_str(&err), " at offset "));
		strbuf_release(&err);
		query_free(&q);
		return "bad";
	}
	strbuf_release(&err);
	return run(&q);
}

static void test_where_parsing(void **state)
{
	(void)state;
	struct query q;
	struct strbuf err = STRBUF_INIT;

	query_init(&q);
	for (int c = 0; c < SCHEMA_CONDITION_COUNT; c++) {
		char text[80];

		snprintf(text, sizeof(text), "Image %s x", schema_conditions[c]);
		assert_int_equal(query_add_where(&q, text, &err), 0);
		assert_int_equal(q.conditions[q.nconditions - 1].condition, c);
		assert_string_equal(q.conditions[q.nconditions - 1].value, "x");
	}
	/* Longest condition word wins; case-insensitive words; quoted values. */
	assert_int_equal(query_add_where(&q, "CommandLine NOT BEGIN WITH 'a b '", &err), 0);
	assert_int_equal(q.conditions[q.nconditions - 1].condition, COND_NOT_BEGIN_WITH);
	assert_string_equal(q.conditions[q.nconditions - 1].value, "a b ");
	assert_int_equal(query_add_where(&q, "Image is not is", &err), 0);
	assert_int_equal(q.conditions[q.nconditions - 1].condition, COND_IS_NOT);
	assert_string_equal(q.conditions[q.nconditions - 1].value, "is");
	query_free(&q);

	static const struct { const char *text, *message; } bad[] = {
		{ "image is /usr/bin/curl", "did you mean 'Image'" },
		{ "Nonsense is 1", "unknown field 'Nonsense'" },
		{ "Image equals /usr/bin/curl", "unknown condition" },
		{ "Image is", "has no value" },
		{ "", "expected \"FIELD CONDITION VALUE\"" },
		{ "Image", "unknown condition" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		query_init(&q);
		strbuf_reset(&err);
		assert_int_equal(query_add_where(&q, bad[i].text, &err), -1);
		if (!strstr(strbuf_str(&err), bad[i].message))
			fail_msg("'%s': message '%s'", bad[i].text, strbuf_str(&err));
		query_free(&q);
	}
	/* Fields that no selected event has. */
	query_init(&q);
	assert_int_equal(query_add_events(&q, "5", &err), 0);
	assert_int_equal(query_add_where(&q, "DestinationPort is 443", &err), 0);
	strbuf_reset(&err);
	assert_int_equal(query_prepare(&q, &err), -1);
	assert_non_null(strstr(strbuf_str(&err), "DestinationPort"));
	query_free(&q);
	query_init(&q);
	assert_int_equal(query_add_events(&q, "3,99", &err), -1);
	assert_int_equal(query_add_events(&q, "3,", &err), -1);
	assert_int_equal(query_add_events(&q, "x", &err), -1);
	query_free(&q);
	strbuf_release(&err);
}

static void test_times(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	int64_t now = T0, t;

	assert_int_equal(query_parse_time("1h", now, &t, &err), 0);
	assert_int_equal(t, now - 3600 * SEC);
	assert_int_equal(query_parse_time("30m", now, &t, &err), 0);
	assert_int_equal(t, now - 1800 * SEC);
	assert_int_equal(query_parse_time("2d", now, &t, &err), 0);
	assert_int_equal(t, now - 2 * 86400 * SEC);
	assert_int_equal(query_parse_time("now", now, &t, &err), 0);
	assert_int_equal(t, now);
	assert_int_equal(query_parse_time("2026-11-26 06:48:25", now, &t, &err), 0);
	assert_int_equal(t, T0);
	assert_int_equal(query_parse_time("2026-11-26T06:48:25Z", now, &t, &err), 0);
	assert_int_equal(t, T0);
	assert_int_equal(query_parse_time("2026-11-26T08:48:25+02:00", now, &t, &err), 0);
	assert_int_equal(t, T0);
	assert_int_equal(query_parse_time("2026-11-26T06:48:25.5Z", now, &t, &err), 0);
	assert_int_equal(t, T0 + SEC / 2);
	assert_int_equal(query_parse_time("2026-11-26", now, &t, &err), 0);
	assert_int_equal(t, T0 - (6 * 3600 + 48 * 60 + 25) * SEC);
	static const char *const bad[] = { "yesterday", "2026-13-01", "2026-02-30", "1x", "", "-1h",
					   "2026-11-26 25:00", "2026-11-26T10:00:00+99:00", "h" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&err);
		if (query_parse_time(bad[i], now, &t, &err) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(strbuf_str(&err), "is not a time"));
	}
	strbuf_release(&err);
}

static void test_event_time_order_limit(void **state)
{
	(void)state;
	struct query q;
	struct strbuf err = STRBUF_INIT;

	query_init(&q);
	assert_string_equal(run(&q), "1,2,3,4,5,6");
	query_init(&q);
	query_add_events(&q, "3", &err);
	assert_string_equal(run(&q), "2,3,4");
	query_init(&q);
	query_add_events(&q, "1,5", &err);
	query_add_events(&q, "255", &err);
	assert_string_equal(run(&q), "1,5,6");
	query_init(&q);
	q.has_since = q.has_until = true;
	q.since_ns = T0 + SEC;
	q.until_ns = T0 + 3 * SEC;
	assert_string_equal(run(&q), "2,3,4");
	query_init(&q);
	q.has_since = true;
	q.since_ns = T0 + 5 * SEC;
	assert_string_equal(run(&q), "6");
	query_init(&q);
	q.has_until = true;
	q.until_ns = T0 + 4 * SEC;
	assert_string_equal(run(&q), "1,2,3,4,5");
	query_init(&q);
	q.has_since = true;
	q.since_ns = T0 + 6 * SEC;
	assert_string_equal(run(&q), "");
	query_init(&q);
	q.newest_first = true;
	q.limit = 2;
	assert_string_equal(run(&q), "6,5");
	query_init(&q);
	query_add_events(&q, "3", &err);
	q.after_record_id = 2;
	q.up_to_record_id = 3;
	assert_string_equal(run(&q), "3");
	strbuf_release(&err);
}

static void test_where_filters(void **state)
{
	(void)state;
	assert_string_equal(where("DestinationPort is 443", NULL), "2,3");
	assert_string_equal(where("Image end with curl", NULL), "1,2,5");
	assert_string_equal(where("Image is /USR/BIN/CURL", NULL), "1,2,5");
	assert_string_equal(where("Image is not /usr/bin/curl", NULL), "3,4");
	assert_string_equal(where("Image image curl", NULL), "1,2,5");
	assert_string_equal(where("Image contains any wget;firefox", NULL), "3,4");
	assert_string_equal(where("Image contains all usr;bin", NULL), "1,2,4,5");
	assert_string_equal(where("Image excludes usr", NULL), "");
	assert_string_equal(where("Image excludes any curl;nothing", NULL), "3,4");
	/* As Sysmon's code behaves (spec 2.3): at least one token missing. */
	assert_string_equal(where("Image excludes all curl;wget", NULL), "1,2,3,4,5");
	assert_string_equal(where("Image excludes all usr;curl", NULL), "3,4");
	assert_string_equal(where("Image is any /usr/bin/wget;/usr/bin/curl", NULL), "1,2,4,5");
	assert_string_equal(where("Image begin with /usr/lib", NULL), "3");
	assert_string_equal(where("Image not begin with /usr/lib", NULL), "1,2,4,5");
	assert_string_equal(where("Image not end with curl", NULL), "3,4");
	assert_string_equal(where("DestinationPort less than 100", NULL), "4");
	assert_string_equal(where("DestinationPort more than 100", NULL), "2,3");
	assert_string_equal(where("DestinationIp is 93.184.216.34", NULL), "2");
	assert_string_equal(where("CommandLine contains EXAMPLE.org", NULL), "1");
	assert_string_equal(where("ProcessGuid is {3D1219C7-D63A-6B07-0984-000000000002}", NULL), "1");
	assert_string_equal(where("Hashes contains md5=B4D99C80BDE0DB7FEE34827E4C3A5F4C", NULL), "1");
	assert_string_equal(where("Hashes is SHA1=22973940649bdb0982aa47f877f8f0948eb1ff32,"
				  "MD5=b4d99c80bde0db7fee34827e4c3a5f4c", NULL), "1");
	assert_string_equal(where("Hashes is sha1=22973940649BDB0982AA47F877F8F0948EB1FF32,"
				  "md5=B4D99C80BDE0DB7FEE34827E4C3A5F4C", NULL), "1");
	/* Repeated --where: AND. */
	assert_string_equal(where("Image end with curl", "DestinationPort is 443"), "2");
	assert_string_equal(where("Image end with curl", "DestinationPort is 80"), "");
	/* RuleName is what was logged. */
	assert_string_equal(where("RuleName contains t1105", NULL), "4");
	assert_string_equal(where("RuleName is -", NULL), "1,2,3,5");
	assert_string_equal(where("RuleName begin with technique_id=", NULL), "4");
	assert_string_equal(where("RuleName end with transfer", NULL), "4");
}

static void test_xpath(void **state)
{
	(void)state;
	int64_t now = T0 + 10 * SEC;

	assert_string_equal(xpath("*[System[(EventID=3)]]", now), "2,3,4");
	assert_string_equal(xpath("*[System[EventID=3 or EventID=1]]", now), "1,2,3,4");
	assert_string_equal(xpath("*[System[(EventID=1 or EventID=5) and EventRecordID>1]]", now), "5");
	assert_string_equal(xpath("*[System[EventID=3]] and *[EventData[Data[@Name='DestinationPort']='443']]", now), "2,3");
	assert_string_equal(xpath("*[EventData[Data[@Name='Image']='/usr/bin/curl']]", now), "1,2,5");
	assert_string_equal(xpath("*[EventData[Data[@Name='Hashes']='SHA1=22973940649bdb0982aa47f877f8f0948eb1ff32,"
				  "MD5=b4d99c80bde0db7fee34827e4c3a5f4c']]", now), "1");
	/* XPath equality is exact, as in Windows. */
	assert_string_equal(xpath("*[EventData[Data[@Name='Image']='/USR/BIN/CURL']]", now), "");
	assert_string_equal(xpath("*[EventData[Data[@Name='DestinationPort']!='443']]", now), "4");
	assert_string_equal(xpath("*[EventData[Data[@Name='DestinationPort'] < 100]]", now), "4");
	assert_string_equal(xpath("*[System[TimeCreated[timediff(@SystemTime) <= 6000]]]", now), "5,6");
	assert_string_equal(xpath("*[System[TimeCreated[@SystemTime>='2026-11-26T06:48:28Z']]]", now), "4,5,6");
	assert_string_equal(xpath("*[System[Level=2]]", now), "6");
	assert_string_equal(xpath("*[System[Provider[@Name='Microsoft-Windows-Sysmon'] and EventID=5]]", now), "5");
	assert_string_equal(xpath("*[System[Provider[@Name='Other']]]", now), "");
	assert_string_equal(xpath("not(*[System[EventID=3]])", now), "1,5,6");
	assert_string_equal(xpath("Event[System[Task=255]]", now), "6");

	static const char *const bad[] = {
		"", "*", "*[", "*[System[EventID=]]", "*[System[EventID=3]", "*[System[Foo=3]]",
		"*[EventData[Data[@Name='Nope']='1']]", "*[EventData[Data='x']]", "*[System[EventID='3",
		"*[System[EventID=3]] garbage", "*[System[EventID=3]] and", "System[EventID=3]",
		"*[EventData[Data[@Name='UtcTime']='x']]", "*[System[TimeCreated[@SystemTime>='soon']]]",
		"((((*[System[EventID=3]]", "*[System[EventID=99999999999999999999999]]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strcmp(xpath(bad[i], now), "bad") != 0)
			fail_msg("accepted: %s", bad[i]);

	/* Deep nesting is refused, not a stack overflow. */
	size_t deep = 200000;
	char *text = malloc(2 * deep + 32);

	memset(text, '(', deep);
	strcpy(text + deep, "*[System[EventID=3]]");
	memset(text + deep + 20, ')', deep);
	text[2 * deep + 20] = '\0';
	assert_string_equal(xpath(text, now), "bad");
	free(text);
	assert_string_equal(xpath("((((((((*[System[((((EventID=3))))]]))))))))", now), "2,3,4");
	struct strbuf many = STRBUF_INIT;

	strbuf_puts(&many, "*[System[EventID=3");
	for (int i = 0; i < 5000; i++)
		strbuf_puts(&many, " or EventID=3");
	strbuf_puts(&many, "]]");
	assert_string_equal(xpath(many.data, now), "bad");
	strbuf_release(&many);
}

/* Random XPath from the supported grammar. */
static void random_xpath(struct strbuf *out, unsigned *seed, int depth, int context)
{
	static const char *const ops[] = { "=", "!=", "<", "<=", ">", ">=" };
	static const char *const fields[] = { "Image", "DestinationPort", "ProcessGuid", "Hashes",
					      "RuleName", "CommandLine", "Description" };
	static const char *const values[] = { "'443'", "'/usr/bin/curl'", "'-'", "\"x'y\"", "'0443'",
					      "'{3d1219c7-d63a-6b07-0984-000000000002}'", "''" };
	unsigned r = rand_r(seed) % (depth > 3 ? 3 : 6);
	const char *op = ops[rand_r(seed) % 6];

	if (r >= 3) {
		const char *joins[] = { " and ", " or " };

		if (r == 5 && context == 0) {
			strbuf_puts(out, "not(");
			random_xpath(out, seed, depth + 1, context);
			strbuf_puts(out, ")");
			return;
		}
		strbuf_puts(out, "(");
		random_xpath(out, seed, depth + 1, context);
		strbuf_puts(out, joins[r % 2]);
		random_xpath(out, seed, depth + 1, context);
		strbuf_puts(out, ")");
		return;
	}
	switch (context) {
	case 0:
		if (r == 0) {
			strbuf_puts(out, "*[System[");
			random_xpath(out, seed, depth + 1, 1);
			strbuf_puts(out, "]]");
		} else {
			strbuf_puts(out, "*[EventData[");
			random_xpath(out, seed, depth + 1, 2);
			strbuf_puts(out, "]]");
		}
		return;
	case 1:
		switch (rand_r(seed) % 6) {
		case 0: strbuf_printf(out, "EventID%s%u", op, rand_r(seed) % 8); return;
		case 1: strbuf_printf(out, "Level %s %u", op, rand_r(seed) % 5); return;
		case 2: strbuf_printf(out, "TimeCreated[timediff(@SystemTime) %s %u]", op, rand_r(seed)); return;
		case 3: strbuf_puts(out, "Provider[@Name='Linux-Sysmon']"); return;
		case 4: strbuf_printf(out, "Computer%s'vm'", op); return;
		default: strbuf_printf(out, "EventRecordID %s %u", op, rand_r(seed) % 8); return;
		}
	default:
		if (op[0] == '<' || op[0] == '>')
			strbuf_printf(out, "Data[@Name='%s'] %s %u", fields[rand_r(seed) % 7], op, rand_r(seed) % 1000);
		else
			strbuf_printf(out, "Data[@Name='%s']%s%s", fields[rand_r(seed) % 7], op, values[rand_r(seed) % 7]);
		return;
	}
}

/* Every XPath of the grammar runs as valid SQL; the same texts cut short
 * or with a byte changed are refused with a message or run; --where and
 * times never crash on them. */
static void test_random_inputs(void **state)
{
	(void)state;
	unsigned seed = 12345;

	for (int round = 0; round < 5000; round++) {
		struct strbuf text = STRBUF_INIT, err = STRBUF_INIT, ids = STRBUF_INIT;
		struct query q;
		int64_t t;

		random_xpath(&text, &seed, 0, 0);
		if (round % 2) {
			/* Mutate: cut, or change one byte. */
			size_t at = rand_r(&seed) % text.len;

			if (round % 4 == 1)
				text.data[at] = '\0';
			else
				text.data[at] = (char)(rand_r(&seed) % 255 + 1);
		}
		query_init(&q);
		if (query_add_xpath(&q, text.data, T0, &err) == 0) {
			if (query_run(reader, &q, NULL, 0, collect_id, &ids, &err) < 0)
				fail_msg("accepted but failed to run: %s: %s", text.data, strbuf_str(&err));
		} else {
			if (round % 2 == 0)
				fail_msg("refused: %s: %s", text.data, strbuf_str(&err));
			assert_true(err.len > 0);
		}
		query_free(&q);
		query_init(&q);
		query_add_where(&q, text.data, &err);
		query_parse_time(text.data, T0, &t, &err);
		query_free(&q);
		strbuf_release(&text);
		strbuf_release(&err);
		strbuf_release(&ids);
	}
}

static char *count_by(const char *field, const char *event, const char *condition)
{
	static char result[512];
	struct query q;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct query_group *groups;
	size_t n;

	query_init(&q);
	if (event)
		assert_int_equal(query_add_events(&q, event, &err), 0);
	if (condition)
		assert_int_equal(query_add_where(&q, condition, &err), 0);
	assert_int_equal(query_require_fields(&q, &field, 1, &err), 0);
	assert_int_equal(query_count_by(reader, &q, &field, 1, &groups, &n, &err), 0);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&out, "%s%s=%llu", i ? " " : "", groups[i].values, (unsigned long long)groups[i].count);
	snprintf(result, sizeof(result), "%s", strbuf_str(&out));
	query_groups_free(groups, n);
	query_free(&q);
	strbuf_release(&err);
	strbuf_release(&out);
	return result;
}

static void test_count_by(void **state)
{
	(void)state;
	/* In SQL (no C filter) and in C (a --where) the same answer. */
	assert_string_equal(count_by("Image", NULL, NULL),
			    "/usr/bin/curl=3 /usr/bin/wget=1 /usr/lib/firefox/firefox=1");
	assert_string_equal(count_by("Image", NULL, "Image contains /"),
			    "/usr/bin/curl=3 /usr/bin/wget=1 /usr/lib/firefox/firefox=1");
	assert_string_equal(count_by("Image", "3", NULL),
			    "/usr/bin/curl=1 /usr/bin/wget=1 /usr/lib/firefox/firefox=1");
	assert_string_equal(count_by("DestinationPort", NULL, NULL), "443=2 80=1");
	assert_string_equal(count_by("EventID", NULL, NULL), "3=3 1=1 255=1 5=1");
	assert_string_equal(count_by("ProcessGuid", "1", NULL), "{3d1219c7-d63a-6b07-0984-000000000002}=1");
	assert_string_equal(count_by("Hashes", "1", NULL),
			    "SHA1=22973940649bdb0982aa47f877f8f0948eb1ff32,MD5=b4d99c80bde0db7fee34827e4c3a5f4c=1");
	/* Unset values count as "-". */
	assert_string_equal(count_by("DestinationIp", NULL, NULL), "-=2 93.184.216.34=1");
	/* Times are compared in C. */
	assert_string_equal(count_by("UtcTime", "5", NULL), "-=1");

	struct query q;
	struct strbuf err = STRBUF_INIT;
	const char *field = "Imag";

	query_init(&q);
	assert_int_equal(query_require_fields(&q, &field, 1, &err), -1);
	assert_non_null(strstr(strbuf_str(&err), "unknown field 'Imag'"));
	query_free(&q);
	strbuf_release(&err);
}

static void test_field_values(void **state)
{
	(void)state;
	struct query q;
	struct strbuf err = STRBUF_INIT;
	static const char *const fields[] = { "Image" };

	query_init(&q);
	assert_int_equal(query_add_events(&q, "3", &err), 0);
	q.limit = 1;

	struct event ev;

	event_init(&ev);
	event_reset(&ev, 3);
	ev.record_id = 7;
	ev.time_ns = T0;
	char buf[64];

	assert_string_equal(query_field_value(reader, &ev, 1, "EventID", buf), "3");
	assert_string_equal(query_field_value(reader, &ev, 1, "EventRecordID", buf), "7");
	assert_string_equal(query_field_value(reader, &ev, 1, "TimeCreated", buf), "2026-11-26T06:48:25.000000000Z");
	char host[256];

	gethostname(host, sizeof(host));
	assert_string_equal(query_field_value(reader, &ev, 1, "Computer", buf), host);
	assert_string_equal(query_field_value(reader, &ev, 1, "CommandLine", buf), "-");
	assert_string_equal(query_field_value(reader, &ev, 1, "Image", buf), "-");
	event_free(&ev);
	/* Reading only some fields. */
	struct strbuf ids = STRBUF_INIT;

	assert_int_equal(query_run(reader, &q, fields, 1, collect_id, &ids, &err), 1);
	assert_string_equal(ids.data, "2");
	strbuf_release(&ids);
	query_free(&q);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_where_parsing),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_event_time_order_limit),
		cmocka_unit_test(test_where_filters),
		cmocka_unit_test(test_xpath),
		cmocka_unit_test(test_random_inputs),
		cmocka_unit_test(test_count_by),
		cmocka_unit_test(test_field_values),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
