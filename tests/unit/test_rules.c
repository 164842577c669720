/*
 * Unit tests for the rule engine (src/rules/rules.c): every condition, the
 * ';' list quirks, AND/OR sets and <Rule>s, include/exclude order and the
 * decision table, per-event defaults, RuleName selection, shared tags, the
 * project's deliberate differences (`image`, numeric less/more than) and
 * hostile values.  Rule definitions are built by hand from compact literals,
 * as the config loader would build them, so these tests do not depend on
 * the XML loader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "schema/event.h"
#include "schema/schema.h"
#include "util/strbuf.h"

/* The literals below leave trailing members out on purpose (zero = none). */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* ---- Compact literals for rule definitions ---- */

struct filter_lit {
	const char *field;
	const char *condition;
	const char *value;
	const char *name;       /* the field's own name attribute */
	int rule;               /* 0: plain filter; n: inside rules[n - 1] */
};

struct rule_lit {
	const char *name;
	bool or_mode;
};

struct set_lit {
	unsigned id;            /* 0 ends a list of sets */
	bool exclude;
	bool or_mode;
	const char *group;      /* RuleGroup name */
	struct rule_lit rules[4];
	struct filter_lit filters[12];   /* field NULL ends the list */
};

#define INCLUDE false
#define EXCLUDE true
#define OR true
#define AND false

static struct rule_defs defs;
static struct rules *rules;
static struct event ev;

/* Build DEFS from the literals, resolving names as the loader does (field
 * name > Rule name > RuleGroup name), and compile them. */
static void use(const struct set_lit *sets)
{
	rules_free(rules);
	rule_defs_free(&defs);

	size_t nsets = 0;
	while (sets[nsets].id)
		nsets++;
	defs.schema_version = SCHEMA_VERSION(4, 90);
	defs.sets = xcalloc(nsets ? nsets : 1, sizeof(struct rule_set_def));
	defs.nsets = nsets;
	for (size_t i = 0; i < nsets; i++) {
		const struct set_lit *lit = &sets[i];
		struct rule_set_def *set = &defs.sets[i];
		size_t nfilters = 0, naggregates = 0;

		set->event = schema_event_by_id(lit->id);
		assert_non_null(set->event);
		set->exclude = lit->exclude;
		set->or_mode = lit->or_mode;
		set->group_name = lit->group ? xstrdup(lit->group) : NULL;
		while (nfilters < 12 && lit->filters[nfilters].field)
			nfilters++;
		for (size_t j = 0; j < nfilters; j++)
			if ((size_t)lit->filters[j].rule > naggregates)
				naggregates = (size_t)lit->filters[j].rule;
		set->nfilters = nfilters;
		set->filters = xcalloc(nfilters ? nfilters : 1, sizeof(struct rule_filter_def));
		set->naggregates = naggregates;
		set->aggregates = xcalloc(naggregates ? naggregates : 1, sizeof(struct rule_aggregate_def));
		for (size_t j = 0; j < naggregates; j++) {
			set->aggregates[j].name = lit->rules[j].name ? xstrdup(lit->rules[j].name) : NULL;
			set->aggregates[j].or_mode = lit->rules[j].or_mode;
		}
		for (size_t j = 0; j < nfilters; j++) {
			const struct filter_lit *fl = &lit->filters[j];
			struct rule_filter_def *fd = &set->filters[j];
			const char *name = fl->name;
			int condition = rule_condition_parse(fl->condition ? fl->condition : "");

			assert_true(condition >= 0);
			fd->field = schema_field_index(set->event, fl->field);
			assert_true(fd->field >= 0);
			fd->condition = (enum rule_condition)condition;
			fd->value = xstrdup(fl->value);
			fd->aggregate = fl->rule - 1;
			if (!name && fl->rule)
				name = lit->rules[fl->rule - 1].name;
			if (!name)
				name = lit->group;
			fd->name = name ? xstrdup(name) : NULL;
			fd->line = (unsigned)j + 1;
		}
	}
	rules = rules_compile(&defs);
	assert_non_null(rules);
}

/* Make EV an event of type ID with the given name/value pairs (NULL-ended). */
static void make_event_v(unsigned id, va_list ap)
{
	const char *name;

	assert_int_equal(event_reset(&ev, id), 0);
	while ((name = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		assert_int_equal(event_set_name(&ev, name, value), 0);
	}
}

static void check_event(int line, bool logged, const char *rule_name, unsigned id, ...)
{
	va_list ap;
	const char *got_name = NULL;

	va_start(ap, id);
	make_event_v(id, ap);
	va_end(ap);
	bool got = rules_decide(rules, &ev, &got_name);
	if (got != logged || strcmp(got_name, rule_name)) {
		print_error("line %d: expected %s with RuleName '%s', got %s with '%s'\n", line,
			    logged ? "logged" : "dropped", rule_name, got ? "logged" : "dropped",
			    got_name ? got_name : "(null)");
		fail();
	}
}

#define LOGGED(name, id, ...) check_event(__LINE__, true, name, id, __VA_ARGS__, NULL)
/* Dropped by no rule (the default, or no set matched) / by the exclude rule NAME. */
#define DROPPED(id, ...) check_event(__LINE__, false, "-", id, __VA_ARGS__, NULL)
#define EXCLUDED(name, id, ...) check_event(__LINE__, false, name, id, __VA_ARGS__, NULL)

/* Does `<CommandLine condition=COND>VALUE</CommandLine>` (one include set)
 * match a command line of LEN bytes TEXT? */
static bool matches_n(const char *condition, const char *value, const char *text, size_t len)
{
	const struct set_lit sets[] = {
		{ 1, INCLUDE, OR, NULL, {}, { { "CommandLine", condition, value, NULL, 0 } } },
		{ 0 },
	};
	use(sets);
	event_reset(&ev, 1);
	if (text)
		event_set(&ev, schema_field_index(ev.schema, "CommandLine"), text, len);
	return rules_decide(rules, &ev, NULL);
}

static bool matches(const char *condition, const char *value, const char *text)
{
	return matches_n(condition, value, text, text ? strlen(text) : 0);
}

static int teardown(void **state)
{
	(void)state;
	rules_free(rules);
	rules = NULL;
	rule_defs_free(&defs);
	event_free(&ev);
	return 0;
}

/* ---- Conditions ---- */

static void test_condition_names(void **state)
{
	(void)state;
	assert_int_equal(rule_condition_parse(""), COND_IS);
	assert_int_equal(rule_condition_parse("is"), COND_IS);
	assert_int_equal(rule_condition_parse("Contains Any"), COND_CONTAINS_ANY);
	assert_int_equal(rule_condition_parse("NOT END WITH"), COND_NOT_END_WITH);
	assert_int_equal(rule_condition_parse("image"), COND_IMAGE);
	assert_int_equal(rule_condition_parse("less than"), COND_LESS_THAN);
	for (int i = 0; i < SCHEMA_CONDITION_COUNT; i++)
		assert_int_equal(rule_condition_parse(schema_conditions[i]), i);
	assert_int_equal(rule_condition_parse("begins with"), -1);
	assert_int_equal(rule_condition_parse("contains  any"), -1);
	assert_int_equal(rule_condition_parse(" is"), -1);
	assert_int_equal(rule_condition_parse("is "), -1);
	assert_int_equal(rule_condition_parse("\xc4\xb0s"), -1);   /* dotted capital I */
	assert_int_equal(rule_condition_parse(NULL), -1);
}

static void test_is_and_is_not(void **state)
{
	(void)state;
	assert_true(matches("is", "Curl -V", "curl -v"));
	assert_true(matches("is", "curl -v", "CURL -V"));
	assert_false(matches("is", "curl", "curl "));
	assert_false(matches("is", "curl", "cur"));
	assert_false(matches("is", "", "-"));        /* unset reads "-" */
	assert_true(matches("is", "-", NULL));
	assert_true(matches("is", "", ""));
	/* ASCII-only folding: É and é differ. */
	assert_false(matches("is", "\xc3\x89t\xc3\xa9", "\xc3\xa9t\xc3\xa9"));
	assert_true(matches("is", "\xc3\x89T\xc3\xa9", "\xc3\x89t\xc3\xa9"));
	assert_false(matches("is not", "curl", "CURL"));
	assert_true(matches("is not", "curl", "wget"));
	assert_true(matches("is not", "", "-"));
	assert_false(matches("is not", "", ""));
}

static void test_contains_and_excludes(void **state)
{
	(void)state;
	assert_true(matches("contains", "Http", "curl HTTP://x"));
	assert_true(matches("contains", "iexplore.exe", "c:\\iexplore.exe\\something"));
	assert_false(matches("contains", "xyz", "xy"));
	assert_true(matches("contains", "aab", "aaab"));
	/* Sysmon's search: an empty value is found in any non-empty field. */
	assert_true(matches("contains", "", "x"));
	assert_false(matches("contains", "", ""));
	assert_false(matches("excludes", "abc", "xABCx"));
	assert_true(matches("excludes", "abc", "xyz"));
	assert_false(matches("excludes", "", "x"));
	assert_true(matches("excludes", "", ""));
}

static void test_lists(void **state)
{
	(void)state;
	/* contains any / contains all */
	assert_true(matches("contains any", "wget;curl", "/usr/bin/CURL"));
	assert_false(matches("contains any", "a;b", "c"));
	assert_true(matches("contains all", "curl;http", "curl http://x"));
	assert_false(matches("contains all", "curl;https", "curl http://x"));
	/* Tokens keep their spaces. */
	assert_false(matches("contains any", "a; b", "xb"));
	assert_true(matches("contains any", "a; b", "x b"));
	/* is any: whole-value equality with one token. */
	assert_true(matches("is any", "bash;sh", "SH"));
	assert_false(matches("is any", "bash;sh", "bas"));
	assert_false(matches("is any", "bash;sh", "bash;sh"));
	/* excludes any = contains none; excludes all = does not contain all
	 * (the code's behaviour, not the documentation's, spec 2.2). */
	assert_false(matches("excludes any", "/Something:Equal;OrElse", "/Flag1 /Something:Equal /Flag2"));
	assert_true(matches("excludes any", "/Something:Equal;OrElse", "/Flag1 /Flag2"));
	assert_true(matches("excludes all", "/Something:Equal;OrElse", "/Flag1 /Something:Equal /Flag2"));
	assert_false(matches("excludes all", "/Something:Equal;OrElse", "/something:equal orelse"));
	assert_true(matches("excludes all", "/Something:Equal;OrElse", "nothing"));
}

static void test_list_empty_tokens(void **state)
{
	(void)state;
	/* A trailing ';' makes contains any match every non-empty value and
	 * excludes any match nothing (spec 2.3, example 9). */
	assert_true(matches("contains any", "curl;wget;", "/usr/bin/ls"));
	assert_false(matches("contains any", "curl;wget;", ""));
	assert_false(matches("excludes any", "curl;wget;", "/usr/bin/ls"));
	assert_true(matches("contains all", "curl;", "curl"));
	assert_false(matches("contains all", "curl;", "wget"));
	assert_false(matches("excludes all", "curl;", "curl"));
	/* An empty token in the middle or at the start stands for the rest of
	 * the value. */
	assert_false(matches("contains any", ";b;c", "x"));
	assert_true(matches("contains any", ";b;c", "b"));           /* token b */
	assert_false(matches("contains all", ";b;c", "b c"));        /* ";b;c" missing */
	assert_true(matches("contains all", ";b;c", "x;B;Cx"));
	assert_false(matches("contains any", "a;;b", "q"));
	assert_true(matches("contains any", "a;;b", "b"));          /* token b */
	assert_true(matches("contains any", "x;;q", "z;qz"));        /* token ";q" */
	assert_false(matches("contains all", "a;;b", "ab"));         /* ";b" missing */
	assert_true(matches("contains all", "a;;b", "a;b"));
	/* is any never matches a non-empty value through an empty token. */
	assert_false(matches("is any", "a;;b", ";b"));
	assert_false(matches("is any", "a;", "x"));
	assert_true(matches("is any", "a;", ""));
	assert_true(matches("is any", "a;", "A"));
	/* A value of only ';'. */
	assert_true(matches("contains any", ";", "x"));
	assert_false(matches("is any", ";", "x"));
}

static void test_begin_end(void **state)
{
	(void)state;
	assert_true(matches("begin with", "/usr/", "/USR/bin/curl"));
	assert_false(matches("begin with", "/usr/", "/us"));
	assert_true(matches("begin with", "", ""));
	assert_false(matches("not begin with", "/usr/", "/usr/bin"));
	assert_true(matches("not begin with", "/usr/", "/bin/usr/"));
	assert_true(matches("end with", "/curl", "/usr/bin/CURL"));
	assert_false(matches("end with", "/usr/bin/curl-longer", "/usr/bin/curl"));
	assert_true(matches("end with", "", "x"));
	assert_true(matches("end with", "", ""));
	assert_false(matches("not end with", ".EXE", "c:\\a.exe"));
	assert_true(matches("not end with", ".exe", "c:\\a.exe "));
	assert_true(matches("not end with", "longer than the value", "short"));
	/* Empty values: every field begins and ends with "". */
	assert_false(matches("not begin with", "", "x"));
	assert_false(matches("not end with", "", "x"));
	assert_false(matches("not end with", "", ""));
}

static void test_less_more_numeric(void **state)
{
	(void)state;
	/* Both sides integers: numeric (project decision; REF compares text). */
	assert_true(matches("less than", "1024", "22"));
	assert_true(matches("less than", "1024", "80"));
	assert_true(matches("less than", "1024", "1000"));
	assert_false(matches("less than", "1024", "1024"));
	assert_false(matches("less than", "1024", "20000"));
	assert_true(matches("more than", "80", "443"));
	assert_false(matches("more than", "443", "80"));
	assert_true(matches("less than", "81", "0080"));
	assert_false(matches("less than", "80", "0080"));
	assert_false(matches("more than", "080", "80"));
	assert_true(matches("less than", "3", "-5"));
	assert_true(matches("less than", "-3", "-5"));
	assert_false(matches("less than", "-5", "-3"));
	assert_false(matches("less than", "0", "-0"));
	assert_true(matches("more than", "99", "123456789012345678901234567890"));
	assert_true(matches("less than", "123456789012345678901234567891", "123456789012345678901234567890"));
	/* Otherwise text, case-insensitive, folded to upper case, shorter
	 * first on a common prefix. */
	assert_false(matches("less than", "1024x", "80"));
	assert_true(matches("less than", "abd", "ABC"));
	assert_true(matches("less than", "abc", "ab"));
	assert_false(matches("less than", "ab", "ab"));
	assert_true(matches("more than", "ax", "_x"));           /* '_' > 'A' */
	assert_true(matches("less than", "1024", "-"));          /* unset: "-" < "1" */
	assert_true(matches("less than", "1024", " 80"));        /* text: ' ' < '1' */
	assert_false(matches("less than", " 80", "80x"));
	assert_true(matches("more than", "2024-01-01 23:59:59.999", "2024-01-02 10:00:00.000"));
	assert_false(matches("more than", "", ""));
	assert_true(matches("more than", "", "a"));
	assert_false(matches("less than", "", "a"));
	assert_false(matches("less than", "", ""));
}

/* Example 8 of spec 2.11, with the project's numeric comparison: every
 * port below 1024 is less than 1024 (REF would drop 22 and 80). */
static void test_example_8_ports(void **state)
{
	(void)state;
	const struct set_lit ports[] = {
		{ 3, INCLUDE, AND, NULL, {}, { { "DestinationPort", "less than", "1024" } } },
		{ 0 },
	};
	use(ports);
	LOGGED("-", 3, "DestinationPort", "22");
	LOGGED("-", 3, "DestinationPort", "80");
	LOGGED("-", 3, "DestinationPort", "1000");
	LOGGED("-", 3, "DestinationPort", "10");
	DROPPED(3, "DestinationPort", "1024");
	DROPPED(3, "DestinationPort", "20000");
	LOGGED("-", 3, "Image", "/usr/bin/curl");      /* unset port: "-" sorts first */
}

static void test_image(void **state)
{
	(void)state;
	/* Project decision: the name after the last '/' counts. */
	assert_true(matches("image", "bash", "/usr/bin/bash"));
	assert_true(matches("image", "BASH", "/usr/bin/bash"));
	assert_true(matches("image", "bash", "bash"));
	assert_false(matches("image", "bash", "/usr/bin/bash2"));
	assert_false(matches("image", "bash", "/usr/bin/bash/"));
	/* A value with a separator compares the whole path. */
	assert_true(matches("image", "/usr/bin/bash", "/usr/bin/bash"));
	assert_false(matches("image", "bin/bash", "/usr/bin/bash"));
	/* Windows-style values split on '\' too (spec 2.5 examples). */
	assert_true(matches("image", "lsass.exe", "C:\\Windows\\System32\\lsass.exe"));
	assert_true(matches("image", "lsass.exe", "\\\\host\\share\\lsass.exe"));
	assert_true(matches("image", "lsass.exe", "..\\lsass.exe"));
	assert_true(matches("image", "LSASS.EXE", "lsass.exe"));
	assert_false(matches("image", "lsass.exe", "C:\\x\\lsass.exe\\"));
	assert_true(matches("image", "C:\\Windows\\lsass.exe", "c:\\windows\\LSASS.exe"));
	/* A Linux path keeps a '\' inside a file name. */
	assert_false(matches("image", "b", "/tmp/a\\b"));
	assert_false(matches("image", "a\\b", "/tmp/a\\b"));
	assert_true(matches("image", "/tmp/a\\b", "/tmp/a\\b"));
	assert_true(matches("image", "", "/usr/bin/"));
}

/* Condition vectors in the style of Sysmon's own rule unit tests (one
 * include set, one CommandLine filter): a list of values, each tried on a
 * few command lines. */
static void test_condition_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *condition, *value, *text;
		bool match;
	} vectors[] = {
		{ "contains all", "/Opt:Value;Other", "/A /Opt:Value /B", false },
		{ "contains all", "/Opt:Value;Other", "/A Other /B", false },
		{ "contains all", "/Opt:Value;Other", "/A /Opt:Value /B Other", true },
		{ "contains all", "/Opt:Value;Other", "/a /opt:value /b OTHER", true },
		{ "contains all", "/Opt:Value;Other", "/opt:else", false },
		{ "excludes", "/Opt:Value", "/A /oPT:vALUE /B", false },
		{ "excludes", "/Opt:Value", "/OPT:VALUE", false },
		{ "excludes", "/Opt:Value", "/opt:else", true },
		{ "excludes any", "/Opt:Value;Other", "/A /Opt:value", false },
		{ "excludes any", "/Opt:Value;Other", "x OTHER y", false },
		{ "excludes any", "/Opt:Value;Other", "other", false },
		{ "excludes any", "/Opt:Value;Other", "/opt:else", true },
		{ "excludes all", "/Opt:Value;Other", "/A /Opt:Value", true },
		{ "excludes all", "/Opt:Value;Other", "Other", true },
		{ "excludes all", "/Opt:Value;Other", "/opt:value other", false },
		{ "excludes all", "/Opt:Value;Other", "/opt:else", true },
		{ "begin with", "FirstPart", "FirstPart", true },
		{ "begin with", "FirstPart", "firstpart and more", true },
		{ "begin with", "FirstPart", "FirstPar", false },
		{ "begin with", "FirstPart", "before FirstPart", false },
		{ "end with", "LastPart", "LastPart", true },
		{ "end with", "LastPart", "LastPart and more", false },
		{ "end with", "LastPart", "astPart", false },
		{ "end with", "LastPart", "before lastpart", true },
		{ "less than", "TargetText", "TargetTexs", true },
		{ "less than", "TargetText", "tARGETtEXS", true },
		{ "less than", "TargetText", "TargetTexu", false },
		{ "less than", "TargetText", "TargetText", false },
		{ "more than", "TargetText", "TargetTexu", true },
		{ "more than", "TargetText", "targettextA", true },
		{ "more than", "TargetText", "TARGETTEXT", false },
	};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		if (matches(vectors[i].condition, vectors[i].value, vectors[i].text) != vectors[i].match) {
			print_error("'%s' %s '%s' should be %s\n", vectors[i].text, vectors[i].condition,
				    vectors[i].value, vectors[i].match ? "true" : "false");
			fail();
		}
	}
}

/* ---- One rule set: AND / OR, <Rule>s ---- */

/* Example 4 of spec 2.11, AND (schema > 4.1) and OR (4.1). */
static void test_and_set_same_field_or(void **state)
{
	(void)state;
	const struct set_lit and_set[] = {
		{ 1, INCLUDE, AND, NULL, {}, {
			{ "Image", "end with", "/curl" }, { "Image", "end with", "/wget" },
			{ "CommandLine", "contains", "http" } } },
		{ 0 },
	};
	use(and_set);
	LOGGED("-", 1, "Image", "/usr/bin/curl", "CommandLine", "curl http://x");
	LOGGED("-", 1, "Image", "/usr/bin/wget", "CommandLine", "wget http://x");
	DROPPED(1, "Image", "/usr/bin/curl", "CommandLine", "curl -V");
	DROPPED(1, "Image", "/bin/ls", "CommandLine", "ls http");

	const struct set_lit or_set[] = {
		{ 1, INCLUDE, OR, NULL, {}, {
			{ "Image", "end with", "/curl" }, { "Image", "end with", "/wget" },
			{ "CommandLine", "contains", "http" } } },
		{ 0 },
	};
	use(or_set);
	LOGGED("-", 1, "Image", "/usr/bin/curl", "CommandLine", "curl http://x");
	LOGGED("-", 1, "Image", "/usr/bin/wget", "CommandLine", "wget http://x");
	LOGGED("-", 1, "Image", "/usr/bin/curl", "CommandLine", "curl -V");
	LOGGED("-", 1, "Image", "/bin/ls", "CommandLine", "ls http");
	DROPPED(1, "Image", "/bin/ls", "CommandLine", "ls");

	/* (a or b) and root, whatever the order of the filters. */
	const struct set_lit interleaved[] = {
		{ 1, INCLUDE, AND, NULL, {}, {
			{ "Image", "is", "a" }, { "User", "is", "root" }, { "Image", "is", "b" } } },
		{ 0 },
	};
	use(interleaved);
	LOGGED("-", 1, "Image", "b", "User", "root");
	LOGGED("-", 1, "Image", "a", "User", "root");
	DROPPED(1, "Image", "b", "User", "bob");
	DROPPED(1, "Image", "c", "User", "root");
}

static void test_rule_groups(void **state)
{
	(void)state;
	/* <Rule groupRelation="and"> has no same-field OR. */
	const struct set_lit rule_and[] = {
		{ 7, INCLUDE, OR, NULL, { { NULL, AND } }, {
			{ "ImageLoaded", "end with", "a.dll", NULL, 1 },
			{ "ImageLoaded", "end with", "b.dll", NULL, 1 } } },
		{ 0 },
	};
	use(rule_and);
	DROPPED(7, "ImageLoaded", "/x/a.dll");
	DROPPED(7, "ImageLoaded", "/x/b.dll");

	/* Spec's "Rule AND between two fields in an AND RuleGroup". */
	const struct set_lit and_group[] = {
		{ 1, INCLUDE, AND, "procmatch", { { "cmdmatch", AND } }, {
			{ "Image", "is", "iexplore.exe" },
			{ "CommandLine", "begin with", "/testopt", NULL, 1 },
			{ "CommandLine", "contains", "https://www.microsoft.com", NULL, 1 } } },
		{ 0 },
	};
	use(and_group);
	DROPPED(1, "Image", "svchost.exe");
	DROPPED(1, "Image", "iexplore.exe");
	DROPPED(1, "Image", "iexplore.exe", "CommandLine", "/testopt");
	DROPPED(1, "Image", "iexplore.exe", "CommandLine", "padding /testopt https://www.microsoft.com");
	LOGGED("cmdmatch", 1, "Image", "iexplore.exe", "CommandLine", "/testopt https://www.microsoft.com");

	/* The same in an OR RuleGroup: the first matching item decides. */
	const struct set_lit or_group[] = {
		{ 1, INCLUDE, OR, "procmatch", { { "cmdmatch", AND } }, {
			{ "Image", "is", "iexplore.exe" },
			{ "CommandLine", "begin with", "/testopt", NULL, 1 },
			{ "CommandLine", "contains", "https://www.microsoft.com", NULL, 1 } } },
		{ 0 },
	};
	use(or_group);
	DROPPED(1, "Image", "svchost.exe");
	LOGGED("procmatch", 1, "Image", "iexplore.exe");
	LOGGED("procmatch", 1, "Image", "iexplore.exe", "CommandLine", "/testopt");
	DROPPED(1, "CommandLine", "padding /testopt https://www.microsoft.com");
	LOGGED("cmdmatch", 1, "CommandLine", "/testopt https://www.microsoft.com");
	LOGGED("procmatch", 1, "Image", "iexplore.exe", "CommandLine", "/testopt https://www.microsoft.com");

	/* <Rule groupRelation="or"> inside an AND set. */
	const struct set_lit rule_or[] = {
		{ 1, INCLUDE, AND, NULL, { { "cmdmatch", OR } }, {
			{ "Image", "is", "iexplore.exe" },
			{ "CommandLine", "begin with", "/testopt", NULL, 1 },
			{ "CommandLine", "contains", "https://www.microsoft.com", NULL, 1 } } },
		{ 0 },
	};
	use(rule_or);
	DROPPED(1, "Image", "iexplore.exe");
	LOGGED("cmdmatch", 1, "Image", "iexplore.exe", "CommandLine", "/testopt");
	LOGGED("cmdmatch", 1, "Image", "iexplore.exe", "CommandLine", "padding /testopt https://www.microsoft.com");
	DROPPED(1, "Image", "svchost.exe", "CommandLine", "/testopt");

	/* Only <Rule>s: combined with the set's mode; two AND Rules. */
	const struct set_lit two_rules[] = {
		{ 1, INCLUDE, AND, NULL, { { "r1", AND }, { "r2", AND } }, {
			{ "Image", "end with", "/sh", NULL, 1 }, { "User", "is", "root", NULL, 1 },
			{ "CommandLine", "contains", "-c", NULL, 2 }, { "CurrentDirectory", "is", "/tmp", NULL, 2 } } },
		{ 0 },
	};
	use(two_rules);
	LOGGED("r2", 1, "Image", "/bin/sh", "User", "root", "CommandLine", "sh -c x", "CurrentDirectory", "/tmp");
	DROPPED(1, "Image", "/bin/sh", "User", "root", "CommandLine", "sh -c x", "CurrentDirectory", "/");
	DROPPED(1, "Image", "/bin/sh", "User", "bob", "CommandLine", "sh -c x", "CurrentDirectory", "/tmp");
}

/* ---- Several sets, defaults ---- */

static void test_defaults(void **state)
{
	(void)state;
	const struct set_lit none[] = { { 0 } };
	use(none);
	/* Example 1: no rules. */
	LOGGED("-", 1, "Image", "/bin/ls");
	LOGGED("-", 5, "Image", "/bin/ls");
	DROPPED(11, "TargetFilename", "/tmp/x");
	DROPPED(3, "DestinationPort", "80");
	DROPPED(9, "Image", "/bin/dd");
	/* Events without a rule tag are always logged. */
	LOGGED("-", 4, "State", "Started");
	LOGGED("-", 16, "Configuration", "x");
	LOGGED("-", 255, "ID", "1");

	/* A rule for one tag leaves the others at their defaults. */
	const struct set_lit only_network[] = {
		{ 3, INCLUDE, AND, NULL, {}, { { "DestinationPort", "is", "80" } } },
		{ 0 },
	};
	use(only_network);
	LOGGED("-", 1, "Image", "/bin/ls");
	DROPPED(11, "TargetFilename", "/tmp/x");
	LOGGED("-", 3, "DestinationPort", "80");
	LOGGED("-", 4, "State", "Started");

	/* NULL rules behave as no rules. */
	event_reset(&ev, 1);
	assert_true(rules_decide(NULL, &ev, NULL));
	event_reset(&ev, 11);
	assert_false(rules_decide(NULL, &ev, NULL));
	event_reset(&ev, 16);
	assert_true(rules_decide(NULL, &ev, NULL));
}

static void test_decision_table(void **state)
{
	(void)state;
	/* Examples 2 and 3: one empty set. */
	const struct set_lit empty_exclude[] = { { 1, EXCLUDE, AND }, { 11, EXCLUDE, OR }, { 0 } };
	use(empty_exclude);
	LOGGED("-", 1, "Image", "/bin/ls");
	LOGGED("-", 11, "TargetFilename", "/tmp/x");
	const struct set_lit empty_include[] = { { 1, INCLUDE, AND }, { 0 } };
	use(empty_include);
	DROPPED(1, "Image", "/bin/ls");

	/* One exclude set with filters: matches dropped, the rest logged. */
	const struct set_lit one_exclude[] = {
		{ 1, EXCLUDE, OR, "g", {}, { { "Image", "is", "/usr/bin/ls" } } }, { 0 },
	};
	use(one_exclude);
	EXCLUDED("g", 1, "Image", "/usr/bin/ls");
	LOGGED("-", 1, "Image", "/usr/bin/cat");

	/* Example 5: include + exclude, exclude wins. */
	const struct set_lit both[] = {
		{ 11, INCLUDE, OR, NULL, {}, { { "TargetFilename", "begin with", "/etc/" } } },
		{ 11, EXCLUDE, OR, NULL, {}, { { "Image", "is", "/usr/bin/dpkg" } } },
		{ 0 },
	};
	use(both);
	LOGGED("-", 11, "TargetFilename", "/etc/cron.d/x", "Image", "/bin/sh");
	DROPPED(11, "TargetFilename", "/etc/cron.d/x", "Image", "/usr/bin/dpkg");
	DROPPED(11, "TargetFilename", "/tmp/x", "Image", "/bin/sh");
	DROPPED(11, "TargetFilename", "/tmp/x", "Image", "/usr/bin/dpkg");

	/* Example 6: two exclude sets, nothing matches: dropped (quirk). */
	const struct set_lit two_excludes[] = {
		{ 1, EXCLUDE, OR, NULL, {}, { { "Image", "is", "/usr/bin/ls" } } },
		{ 1, EXCLUDE, OR, NULL, {}, { { "Image", "is", "/usr/bin/id" } } },
		{ 0 },
	};
	use(two_excludes);
	DROPPED(1, "Image", "/usr/bin/ls");
	DROPPED(1, "Image", "/usr/bin/id");
	DROPPED(1, "Image", "/usr/bin/cat");
	/* Merged into one element: the intended behaviour. */
	const struct set_lit merged[] = {
		{ 1, EXCLUDE, OR, NULL, {}, { { "Image", "is", "/usr/bin/ls" }, { "Image", "is", "/usr/bin/id" } } },
		{ 0 },
	};
	use(merged);
	DROPPED(1, "Image", "/usr/bin/id");
	LOGGED("-", 1, "Image", "/usr/bin/cat");

	/* An empty exclude set next to an include set is inert. */
	const struct set_lit inert[] = {
		{ 3, INCLUDE, OR, NULL, {}, { { "DestinationPort", "is", "443" } } },
		{ 3, EXCLUDE, OR },
		{ 0 },
	};
	use(inert);
	LOGGED("-", 3, "DestinationPort", "443");
	DROPPED(3, "DestinationPort", "80");

	/* Two include sets: either logs, nothing matching drops. */
	const struct set_lit two_includes[] = {
		{ 3, INCLUDE, OR, "A", {}, { { "DestinationPort", "is", "443" } } },
		{ 3, INCLUDE, OR, "B", {}, { { "DestinationPort", "is", "80" } } },
		{ 0 },
	};
	use(two_includes);
	LOGGED("A", 3, "DestinationPort", "443");
	LOGGED("B", 3, "DestinationPort", "80");
	DROPPED(3, "DestinationPort", "22");

	/* An exclude <Rule groupRelation="and"> carving out part of an include. */
	const struct set_lit carve_out[] = {
		{ 7, INCLUDE, AND, NULL, {}, { { "Image", "is", "notepad.exe" }, { "Image", "is", "conhost.exe" } } },
		{ 7, EXCLUDE, AND, NULL, { { NULL, AND } }, {
			{ "Image", "is", "notepad.exe", NULL, 1 },
			{ "ImageLoaded", "contains", "C:\\Windows\\System32", NULL, 1 } } },
		{ 0 },
	};
	use(carve_out);
	DROPPED(7, "Image", "notepad.exe", "ImageLoaded", "C:\\Windows\\System32\\user32.dll");
	LOGGED("-", 7, "Image", "notepad.exe", "ImageLoaded", "C:\\test\\test.dll");
	LOGGED("-", 7, "Image", "conhost.exe", "ImageLoaded", "C:\\Windows\\System32\\user32.dll");
	DROPPED(7, "Image", "calc.exe", "ImageLoaded", "C:\\test\\test.dll");

	/* Include and exclude on a default-include event (spec unit test). */
	const struct set_lit on_default_include[] = {
		{ 1, INCLUDE, AND, NULL, {}, { { "CommandLine", "contains", "/include" } } },
		{ 1, EXCLUDE, AND, NULL, {}, { { "CommandLine", "contains", "/exclude" } } },
		{ 0 },
	};
	use(on_default_include);
	LOGGED("-", 1, "CommandLine", "/include");
	DROPPED(1, "CommandLine", "/exclude");
	DROPPED(1, "CommandLine", "/include /exclude");
	DROPPED(1, "CommandLine", "/nothing");
}

/* The tutorial config (shared/configs/tutorial/tutorial.xml), by hand. */
static void test_tutorial(void **state)
{
	(void)state;
	const struct set_lit tutorial[] = {
		{ 6, EXCLUDE, AND, NULL, {}, {
			{ "Signature", "contains", "microsoft" }, { "Signature", "contains", "windows" } } },
		{ 5, INCLUDE, AND },
		{ 3, INCLUDE, AND, NULL, {}, {
			{ "DestinationPort", NULL, "443" }, { "DestinationPort", NULL, "80" } } },
		{ 3, EXCLUDE, AND, NULL, {}, {
			{ "Image", "end with", "iexplore.exe" }, { "Image", "end with", "chrome.exe" } } },
		{ 0 },
	};
	use(tutorial);
	LOGGED("-", 3, "Image", "/usr/bin/curl", "DestinationPort", "443");
	LOGGED("-", 3, "Image", "/usr/bin/curl", "DestinationPort", "80");
	DROPPED(3, "Image", "/usr/bin/curl", "DestinationPort", "22");
	DROPPED(3, "Image", "C:\\Program Files\\Google\\chrome.exe", "DestinationPort", "443");
	DROPPED(5, "Image", "/bin/ls");
	LOGGED("-", 1, "Image", "/bin/ls");
	LOGGED("-", 6, "Signature", "Acme");
	/* Two filters on one field in an AND exclude set: either excludes. */
	DROPPED(6, "Signature", "Microsoft Windows");
	DROPPED(6, "Signature", "Microsoft Corporation");
	DROPPED(6, "Signature", "windows");

	assert_true(rules_may_log(rules, 1));
	assert_true(rules_may_log(rules, 3));
	assert_true(rules_may_log(rules, 6));
	assert_false(rules_may_log(rules, 5));
	assert_false(rules_may_log(rules, 11));
	assert_true(rules_may_log(rules, 4));
	assert_true(rules_may_log(rules, 16));
	assert_true(rules_may_log(rules, 255));
}

/* ---- RuleName ---- */

static void test_rule_names(void **state)
{
	(void)state;
	/* Example 7: later include sets are tried first. */
	const struct set_lit precedence[] = {
		{ 1, INCLUDE, OR, "A", {}, { { "Image", "end with", "sh" } } },
		{ 1, INCLUDE, OR, "B", {}, { { "Image", "end with", "bash" } } },
		{ 0 },
	};
	use(precedence);
	LOGGED("B", 1, "Image", "/bin/bash");
	LOGGED("A", 1, "Image", "/bin/dash");

	/* RuleGroup name for an unnamed field. */
	const struct set_lit group_name[] = {
		{ 1, INCLUDE, AND, "internet-explorer", {}, { { "CommandLine", "contains", "iexplore.exe" } } },
		{ 0 },
	};
	use(group_name);
	LOGGED("internet-explorer", 1, "CommandLine", "c:\\iexplore.exe\\something");
	DROPPED(1, "Image", "iexplore.exe");

	/* A field's own name beats the Rule's and the group's. */
	const struct set_lit field_name[] = {
		{ 1, INCLUDE, OR, "group", { { "rule", AND } }, {
			{ "Image", "is", "/bin/a", "field", 1 }, { "User", "is", "root", NULL, 1 },
			{ "Image", "is", "/bin/b", "own" }, { "Image", "is", "/bin/c" } } },
		{ 0 },
	};
	use(field_name);
	LOGGED("rule", 1, "Image", "/bin/a", "User", "root");
	LOGGED("own", 1, "Image", "/bin/b");
	LOGGED("group", 1, "Image", "/bin/c");

	/* AND set: the last matching named filter wins. */
	const struct set_lit and_last[] = {
		{ 1, INCLUDE, AND, NULL, {}, {
			{ "Image", "end with", "sh", "first" }, { "User", "is", "root", "second" },
			{ "CommandLine", "contains", "x" } } },
		{ 0 },
	};
	use(and_last);
	LOGGED("second", 1, "Image", "/bin/sh", "User", "root", "CommandLine", "x");
	/* Skipped same-field filters do not count. */
	const struct set_lit skipped[] = {
		{ 1, INCLUDE, AND, NULL, {}, {
			{ "Image", "begin with", "/usr/", "first" }, { "Image", "end with", "/sh", "second" },
			{ "User", "is", "root" } } },
		{ 0 },
	};
	use(skipped);
	LOGGED("first", 1, "Image", "/usr/bin/sh", "User", "root");
	LOGGED("second", 1, "Image", "/bin/sh", "User", "root");
	DROPPED(1, "Image", "/bin/sh", "User", "bob");

	/* Stale name (spec 2.9 item 4). */
	const struct set_lit stale[] = {
		{ 1, INCLUDE, OR, NULL, { { "A", AND } }, {
			{ "Image", "is", "/bin/x", NULL, 1 }, { "User", "is", "root", NULL, 1 },
			{ "CommandLine", "contains", "evil" } } },
		{ 0 },
	};
	use(stale);
	LOGGED("A", 1, "Image", "/bin/x", "User", "bob", "CommandLine", "evil");
	LOGGED("-", 1, "Image", "/bin/y", "User", "bob", "CommandLine", "evil");
	/* Stale across sets: a failed later include set's name leaks into an
	 * earlier unnamed set's match. */
	const struct set_lit stale_sets[] = {
		{ 1, INCLUDE, OR, NULL, {}, { { "CommandLine", "contains", "evil" } } },
		{ 1, INCLUDE, AND, "late", {}, { { "Image", "is", "/bin/x" }, { "User", "is", "root" } } },
		{ 0 },
	};
	use(stale_sets);
	LOGGED("late", 1, "Image", "/bin/x", "User", "bob", "CommandLine", "evil");
	LOGGED("-", 1, "Image", "/bin/y", "User", "bob", "CommandLine", "evil");
	/* An excluded event names the exclude rule that dropped it (it is never
	 * logged, so only `sysmon config test` shows it); a name is not kept
	 * from one decision to the next. */
	const struct set_lit excluded[] = {
		{ 1, EXCLUDE, OR, "ex", {}, { { "Image", "is", "/bin/x" } } },
		{ 1, INCLUDE, OR, "in", {}, { { "Image", "begin with", "/bin/" } } },
		{ 0 },
	};
	use(excluded);
	EXCLUDED("ex", 1, "Image", "/bin/x");
	LOGGED("in", 1, "Image", "/bin/y");
	DROPPED(1, "Image", "/usr/bin/y");
	/* Among several exclude sets the first matching in evaluation order
	 * (reverse document order) names it; a field's own name beats its
	 * <Rule>'s; an unnamed exclude set gives "-". */
	const struct set_lit excludes[] = {
		{ 1, EXCLUDE, OR, "first", {}, { { "Image", "end with", "sh" } } },
		{ 1, EXCLUDE, OR, NULL, { { "rule", AND } }, {
			{ "Image", "begin with", "/bin/", NULL, 1 }, { "User", "is", "root", "field", 1 } } },
		{ 1, EXCLUDE, OR, NULL, {}, { { "CommandLine", "contains", "noise" } } },
		{ 0 },
	};
	use(excludes);
	EXCLUDED("field", 1, "Image", "/bin/sh", "User", "root");
	EXCLUDED("first", 1, "Image", "/bin/sh", "User", "bob");
	EXCLUDED("-", 1, "Image", "/usr/bin/x", "CommandLine", "noise");
	/* A named exclude filter that matched in a set that then failed names
	 * nothing when no set matched: the event goes by the default. */
	const struct set_lit failed_exclude[] = {
		{ 1, EXCLUDE, AND, "and", {}, { { "Image", "is", "/bin/x" }, { "User", "is", "root" } } },
		{ 0 },
	};
	use(failed_exclude);
	EXCLUDED("and", 1, "Image", "/bin/x", "User", "root");
	LOGGED("-", 1, "Image", "/bin/x", "User", "bob");

	/* Long names (255) are kept whole. */
	char long_name[256];
	memset(long_name, 'X', 255);
	long_name[255] = '\0';
	const struct set_lit long_names[] = {
		{ 1, INCLUDE, OR, long_name, {}, { { "Image", "image", "powershell.exe" } } },
		{ 0 },
	};
	use(long_names);
	LOGGED(long_name, 1, "Image", "C:\\Windows\\powershell.exe");

	/* An empty name is no name. */
	const struct set_lit empty_name[] = {
		{ 1, INCLUDE, OR, "", {}, { { "Image", "is", "/bin/x", "" } } },
		{ 0 },
	};
	use(empty_name);
	LOGGED("-", 1, "Image", "/bin/x");
}

/* ---- Shared tags (spec 2.10) ---- */

static void test_shared_tags(void **state)
{
	(void)state;
	/* Details only exists in 13: the set is bound to 13 and inert for 12/14. */
	const struct set_lit details[] = {
		{ 13, INCLUDE, OR, NULL, {}, { { "Details", "contains", "SomeValue" } } },
		{ 0 },
	};
	use(details);
	LOGGED("-", 13, "Details", "SomeValue");
	DROPPED(13, "Details", "OtherValue");
	DROPPED(12, "TargetObject", "SomeValue");
	DROPPED(14, "NewName", "SomeValue");

	/* User sits at position 7 in 12 but 8 in 13/14: bound to 12, a set
	 * with only User never matches 13/14. */
	const struct set_lit user[] = {
		{ 12, INCLUDE, OR, NULL, {}, { { "User", "is", "root" } } },
		{ 0 },
	};
	use(user);
	LOGGED("-", 12, "User", "root");
	DROPPED(13, "User", "root");
	DROPPED(14, "User", "root");

	/* An exclude set bound to 13 is ignored for 12 (field absent: no
	 * match), and "is not" on an absent field does not match either. */
	const struct set_lit exclude13[] = {
		{ 13, EXCLUDE, OR, NULL, {}, { { "Details", "is not", "x" } } },
		{ 0 },
	};
	use(exclude13);
	LOGGED("-", 12, "TargetObject", "HKLM\\x");
	DROPPED(13, "Details", "y");
	LOGGED("-", 13, "Details", "x");

	/* WmiEvent: Name binds to 19 (position 6 of 20 is Type). */
	const struct set_lit wmi[] = {
		{ 19, INCLUDE, OR, NULL, {}, { { "Name", "is", "evil" } } },
		{ 0 },
	};
	use(wmi);
	LOGGED("-", 19, "Name", "evil");
	DROPPED(20, "Name", "evil", "Type", "evil");
	DROPPED(21, "Consumer", "evil");

	/* PipeEvent 17/18 share a layout: one set serves both. */
	const struct set_lit pipe[] = {
		{ 17, INCLUDE, OR, NULL, {}, { { "PipeName", "contains", "evil" } } },
		{ 0 },
	};
	use(pipe);
	LOGGED("-", 17, "PipeName", "\\evil");
	LOGGED("-", 18, "PipeName", "\\evil");

	/* Fields common to all ids at the same position work for all, and the
	 * sets of a shared tag form one list (two sets: no match drops). */
	const struct set_lit common[] = {
		{ 12, INCLUDE, AND, "img", {}, { { "Image", "end with", "/reg" } } },
		{ 13, EXCLUDE, AND, NULL, {}, { { "Details", "is", "noise" } } },
		{ 0 },
	};
	use(common);
	LOGGED("img", 12, "Image", "/bin/reg");
	LOGGED("img", 14, "Image", "/bin/reg");
	DROPPED(13, "Image", "/bin/reg", "Details", "noise");
	LOGGED("img", 13, "Image", "/bin/reg", "Details", "other");
	DROPPED(12, "Image", "/bin/other");
}

/* The RuleName field reads "-" while rules run; unset fields read "-". */
static void test_rule_name_field_and_unset(void **state)
{
	(void)state;
	const struct set_lit rulename[] = {
		{ 1, INCLUDE, OR, NULL, {}, { { "RuleName", "is", "-" } } },
		{ 0 },
	};
	use(rulename);
	LOGGED("-", 1, "RuleName", "technique_id=T1");
	LOGGED("-", 1, "Image", "/bin/ls");
	const struct set_lit rulename_value[] = {
		{ 1, INCLUDE, OR, NULL, {}, { { "RuleName", "contains", "T1" } } },
		{ 0 },
	};
	use(rulename_value);
	DROPPED(1, "RuleName", "technique_id=T1");

	const struct set_lit unset[] = {
		{ 1, INCLUDE, AND, NULL, {}, { { "ParentImage", "is", "-" }, { "Image", "is", "/bin/ls" } } },
		{ 0 },
	};
	use(unset);
	LOGGED("-", 1, "Image", "/bin/ls");
	DROPPED(1, "Image", "/bin/ls", "ParentImage", "/bin/sh");
	LOGGED("-", 1, "Image", "/bin/ls", "ParentImage", "-");
}

/* ---- rules_may_log ---- */

static void test_may_log(void **state)
{
	(void)state;
	const struct set_lit sets[] = {
		{ 1, INCLUDE, AND },                                         /* empty include */
		{ 3, EXCLUDE, OR },                                          /* one empty exclude */
		{ 11, EXCLUDE, OR }, { 11, EXCLUDE, OR, NULL, {}, { { "Image", "is", "x" } } },
		{ 23, INCLUDE, OR, NULL, {}, { { "Image", "is", "x" } } }, { 23, EXCLUDE, OR },
		{ 9, INCLUDE, OR }, { 9, INCLUDE, OR },
		{ 10, INCLUDE, OR }, { 10, EXCLUDE, OR, NULL, {}, { { "TargetImage", "is", "x" } } },
		{ 13, INCLUDE, OR, NULL, {}, { { "Details", "is", "x" } } },
		{ 0 },
	};
	use(sets);
	assert_false(rules_may_log(rules, 1));
	assert_true(rules_may_log(rules, 3));
	assert_false(rules_may_log(rules, 11));   /* only exclude sets, two of them */
	assert_true(rules_may_log(rules, 23));
	assert_false(rules_may_log(rules, 9));
	assert_false(rules_may_log(rules, 10));
	assert_true(rules_may_log(rules, 13));
	assert_false(rules_may_log(rules, 12));   /* Details absent in 12 */
	assert_false(rules_may_log(rules, 14));
	assert_true(rules_may_log(rules, 5));     /* default include */
	assert_false(rules_may_log(rules, 2));    /* default exclude */
	assert_true(rules_may_log(rules, 4));
	assert_true(rules_may_log(rules, 16));
	assert_true(rules_may_log(rules, 255));
	assert_true(rules_may_log(NULL, 1));
	assert_false(rules_may_log(NULL, 3));

	/* Consistency with rules_decide for one exclude set that matches all. */
	const struct set_lit exclude_all[] = {
		{ 3, EXCLUDE, OR, NULL, {}, { { "Image", "contains", "" } } }, { 0 },
	};
	use(exclude_all);
	assert_true(rules_may_log(rules, 3));
}

/* ---- rules_field_patterns ---- */

static void test_field_patterns(void **state)
{
	(void)state;
	struct rule_text_pattern p[8];

	/* the default config's kind: include OR of begin/end with and is any,
	 * folded; an exclude set changes nothing */
	const struct set_lit paths[] = {
		{ 11, INCLUDE, OR, NULL, {}, { { "TargetFilename", "begin with", "/etc/Cron" },
					       { "TargetFilename", "end with", "/.bashrc" },
					       { "TargetFilename", "is any", "/etc/passwd;/etc/group" } } },
		{ 11, EXCLUDE, OR, NULL, {}, { { "Image", "is", "/bin/x" } } },
		{ 0 },
	};
	use(paths);
	assert_int_equal(rules_field_patterns(rules, 11, "TargetFilename", p, 8), 4);
	assert_int_equal(p[0].kind, COND_BEGIN_WITH);
	assert_memory_equal(p[0].text, "/etc/cron", 9);
	assert_int_equal(p[0].len, 9);
	assert_int_equal(p[1].kind, COND_END_WITH);
	assert_int_equal(p[2].kind, COND_IS);
	assert_int_equal(p[2].len, 11);
	assert_memory_equal(p[3].text, "/etc/group", 10);
	assert_int_equal(rules_field_patterns(rules, 11, "TargetFilename", p, 3), -1);   /* too many */
	assert_int_equal(rules_field_patterns(rules, 11, "Image", p, 8), -1);
	assert_int_equal(rules_field_patterns(rules, 23, "TargetFilename", p, 8), -1);   /* default */

	/* AND: the field's filters (one of them) plus anything else */
	const struct set_lit and_set[] = {
		{ 11, INCLUDE, AND, NULL, { { "r", true } }, { { "TargetFilename", "begin with", "/tmp/" },
							      { "Image", "contains", "sh" },
							      { "User", "is", "root", NULL, 1 } } },
		{ 0 },
	};
	use(and_set);
	assert_int_equal(rules_field_patterns(rules, 11, "TargetFilename", p, 8), 1);

	/* no pattern known: OR with another field, a <Rule> in OR, another
	 * condition, AND without the field, a lone exclude set */
	const struct set_lit or_other[] = {
		{ 11, INCLUDE, OR, NULL, {}, { { "TargetFilename", "begin with", "/etc/" },
					       { "Image", "is", "/bin/sh" } } },
		{ 0 },
	};
	use(or_other);
	assert_int_equal(rules_field_patterns(rules, 11, "TargetFilename", p, 8), -1);
	const struct set_lit or_rule[] = {
		{ 11, INCLUDE, OR, NULL, { { "r", false } }, { { "TargetFilename", "begin with", "/etc/" },
							      { "TargetFilename", "end with", ".sh", NULL, 1 } } },
		{ 0 },
	};
	use(or_rule);
	assert_int_equal(rules_field_patterns(rules, 11, "TargetFilename", p, 8), -1);
	const struct set_lit contains[] = {
		{ 11, INCLUDE, OR, NULL, {}, { { "TargetFilename", "contains", "cron" } } },
		{ 0 },
	};
	use(contains);
	assert_int_equal(rules_field_patterns(rules, 11, "TargetFilename", p, 8), -1);
	const struct set_lit and_without[] = {
		{ 11, INCLUDE, AND, NULL, {}, { { "Image", "is", "/bin/sh" } } },
		{ 0 },
	};
	use(and_without);
	assert_int_equal(rules_field_patterns(rules, 11, "TargetFilename", p, 8), -1);
	const struct set_lit exclude_only[] = {
		{ 11, EXCLUDE, OR, NULL, {}, { { "TargetFilename", "begin with", "/tmp/" } } },
		{ 0 },
	};
	use(exclude_only);
	assert_int_equal(rules_field_patterns(rules, 11, "TargetFilename", p, 8), -1);
	assert_int_equal(rules_field_patterns(NULL, 11, "TargetFilename", p, 8), -1);
}

/* ---- Bad definitions and hostile values ---- */

static void test_bad_definitions(void **state)
{
	(void)state;
	struct rule_defs bad = { 0 };
	struct rule_filter_def filter = { 99, COND_IS, "x", NULL, -1, 1 };
	struct rule_set_def set = { schema_event_by_id(1), false, false, NULL, &filter, 1, NULL, 0, 1 };

	bad.sets = &set;
	bad.nsets = 1;
	assert_null(rules_compile(&bad));           /* field out of range */
	filter.field = 4;
	filter.aggregate = 0;
	assert_null(rules_compile(&bad));           /* aggregate out of range */
	filter.aggregate = -1;
	filter.condition = (enum rule_condition)16;
	assert_null(rules_compile(&bad));           /* unknown condition */
	filter.condition = COND_IS;
	set.event = schema_event_by_id(4);
	assert_null(rules_compile(&bad));           /* event without a rule tag */
	set.event = NULL;
	assert_null(rules_compile(&bad));
	set.event = schema_event_by_id(1);
	struct rules *ok = rules_compile(&bad);
	assert_non_null(ok);
	rules_free(ok);

	/* No definitions at all: defaults. */
	struct rules *empty = rules_compile(NULL);
	assert_non_null(empty);
	event_reset(&ev, 1);
	assert_true(rules_decide(empty, &ev, NULL));
	event_reset(&ev, 3);
	assert_false(rules_decide(empty, &ev, NULL));
	assert_false(rules_decide(NULL, &ev, NULL));
	rules_free(empty);
	rules_free(NULL);
	rule_defs_free(NULL);
}

static void test_hostile_values(void **state)
{
	(void)state;
	size_t big = 1 << 20;
	char *text = xmalloc(big + 1);

	memset(text, 'a', big);
	memcpy(text + big - 9, "/evil.exe", 9);
	text[big] = '\0';
	assert_true(matches_n("contains", "EVIL", text, big));
	assert_true(matches_n("end with", "evil.exe", text, big));
	assert_true(matches_n("image", "EVIL.exe", text, big));
	assert_false(matches_n("is", "evil.exe", text, big));
	assert_true(matches_n("contains all", "aaaa;evil", text, big));
	assert_true(matches_n("more than", "a", text, big));
	/* Needle almost as long as the value, many near misses. */
	char *needle = xstrndup(text, 4096);
	needle[4095] = 'b';
	assert_false(matches_n("contains", needle, text, big));
	free(needle);
	free(text);

	/* Non-UTF-8 and control bytes compare as bytes. */
	assert_true(matches_n("contains", "\xff\xfe", "x\xff\xfey", 4));
	assert_false(matches_n("is", "\xc3", "\xc3\xa9", 2));
	assert_true(matches_n("begin with", "\x01\x02", "\x01\x02\x03", 3));
	/* Embedded NUL: the value's length counts, not the NUL. */
	assert_true(matches_n("end with", "tail", "a\0tail", 6));
	assert_false(matches_n("is", "a", "a\0tail", 6));
	/* Quotes, XML characters, ';' in the field. */
	assert_true(matches("contains", "\"evil\"", "sh -c \"EVIL\" && x<y"));
	assert_true(matches("is", "<&>'\"", "<&>'\""));
	assert_true(matches("contains any", "<;>", "a>b"));
	/* A long rule value with many tokens. */
	struct strbuf list = STRBUF_INIT;
	for (int i = 0; i < 2000; i++)
		strbuf_printf(&list, "tok%d;", i);
	strbuf_puts(&list, "needle");
	assert_true(matches("contains any", list.data, "xxNEEDLExx"));
	assert_true(matches("is any", list.data, "TOK1999"));
	assert_false(matches("is any", list.data, "tok2000"));
	strbuf_release(&list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_condition_names, teardown),
		cmocka_unit_test_teardown(test_is_and_is_not, teardown),
		cmocka_unit_test_teardown(test_contains_and_excludes, teardown),
		cmocka_unit_test_teardown(test_lists, teardown),
		cmocka_unit_test_teardown(test_list_empty_tokens, teardown),
		cmocka_unit_test_teardown(test_begin_end, teardown),
		cmocka_unit_test_teardown(test_less_more_numeric, teardown),
		cmocka_unit_test_teardown(test_condition_vectors, teardown),
		cmocka_unit_test_teardown(test_example_8_ports, teardown),
		cmocka_unit_test_teardown(test_image, teardown),
		cmocka_unit_test_teardown(test_and_set_same_field_or, teardown),
		cmocka_unit_test_teardown(test_rule_groups, teardown),
		cmocka_unit_test_teardown(test_defaults, teardown),
		cmocka_unit_test_teardown(test_decision_table, teardown),
		cmocka_unit_test_teardown(test_tutorial, teardown),
		cmocka_unit_test_teardown(test_rule_names, teardown),
		cmocka_unit_test_teardown(test_shared_tags, teardown),
		cmocka_unit_test_teardown(test_rule_name_field_and_unset, teardown),
		cmocka_unit_test_teardown(test_may_log, teardown),
		cmocka_unit_test_teardown(test_field_patterns, teardown),
		cmocka_unit_test_teardown(test_bad_definitions, teardown),
		cmocka_unit_test_teardown(test_hostile_values, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
