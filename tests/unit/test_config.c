/*
 * Unit tests for the config loader (src/config/): every shared real-world
 * config loads, each class of error gives its one "FILE:LINE: ..." message,
 * options and FieldSizes parse, rule definitions come out as spec 1.6 says
 * (names, combine modes, order, shared-tag binding), encodings, and the
 * `sysmon -c` dump matches the recorded Sysmon for Linux output; and
 * `sysmon config check|test|dump` (cli/cmd_config.c).
 *
 * Run from the repository root; the shared material is at ../shared, or
 * where the environment variable SYSMON_SHARED points.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"

#include "config/config.h"
#include "rules/rules.h"
#include "schema/event.h"

static const char *shared_dir(void)
{
	const char *env = getenv("SYSMON_SHARED");

	return env && *env ? env : "../shared";
}

static struct sysmon_config *load_len(const char *xml, size_t len, struct strbuf *err)
{
	strbuf_reset(err);
	return config_load_memory("t.xml", xml, len, err);
}

static struct sysmon_config *load_ok(const char *xml)
{
	struct strbuf err = STRBUF_INIT;
	struct sysmon_config *config = load_len(xml, strlen(xml), &err);

	if (!config)
		fail_msg("unexpected error: %s", strbuf_str(&err));
	strbuf_release(&err);
	return config;
}

/* The load fails with a message that starts with PREFIX ("t.xml:LINE: ...")
 * and contains PART. */
static void expect_error_len(const char *xml, size_t len, const char *prefix, const char *part)
{
	struct strbuf err = STRBUF_INIT;
	struct sysmon_config *config = load_len(xml, len, &err);

	if (config)
		fail_msg("loaded, expected the error %s ... %s", prefix, part);
	if (strncmp(strbuf_str(&err), prefix, strlen(prefix)) != 0 || !strstr(strbuf_str(&err), part))
		fail_msg("got \"%s\", expected \"%s ... %s\"", strbuf_str(&err), prefix, part);
	/* One message, one line. */
	assert_null(strchr(strbuf_str(&err), '\n'));
	strbuf_release(&err);
}

static void expect_error(const char *xml, const char *prefix, const char *part)
{
	expect_error_len(xml, strlen(xml), prefix, part);
}

/* ---- every real config loads ---------------------------------------------- */

static void walk(const char *dir, size_t *loaded, struct strbuf *failures)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(path, loaded, failures);
		} else if (len > 4 && strcmp(e->d_name + len - 4, ".xml") == 0) {
			struct strbuf err = STRBUF_INIT;
			struct sysmon_config *config = config_load_file(path, &err);

			if (config)
				(*loaded)++;
			else
				strbuf_printf(failures, "%s\n", strbuf_str(&err));
			config_free(config);
			strbuf_release(&err);
		}
	}
	closedir(d);
}

static void test_shared_configs_load(void **state)
{
	(void)state;
	char dir[4096];
	struct strbuf failures = STRBUF_INIT;
	size_t loaded = 0;

	snprintf(dir, sizeof(dir), "%s/configs", shared_dir());
	walk(dir, &loaded, &failures);
	if (failures.len)
		fail_msg("configs that did not load:\n%s", strbuf_str(&failures));
	printf("loaded %zu shared configs from %s\n", loaded, dir);
	assert_true(loaded >= 100);
	strbuf_release(&failures);
}

/* ---- the dump matches Sysmon for Linux's ---------------------------------- */

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	if (!f)
		fail_msg("cannot open %s", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_append(&sb, buf, n);
	fclose(f);
	return sb.data ? sb.data : xstrdup("");
}

static void compare_dump(const char *config_path, const char *reference_path)
{
	char cpath[4096], rpath[4096];
	struct strbuf err = STRBUF_INIT;
	char *reference, *ours = NULL;
	size_t ours_len = 0;
	FILE *out = open_memstream(&ours, &ours_len);

	snprintf(cpath, sizeof(cpath), "%s/%s", shared_dir(), config_path);
	snprintf(rpath, sizeof(rpath), "%s/%s", shared_dir(), reference_path);
	struct sysmon_config *config = config_load_file(cpath, &err);
	if (!config)
		fail_msg("%s", strbuf_str(&err));
	config_dump(out, config);
	fclose(out);
	reference = read_all(rpath);
	const char *want = strstr(reference, "Rule configuration");
	const char *got = strstr(ours, "Rule configuration");
	assert_non_null(want);
	assert_non_null(got);
	assert_string_equal(got, want);
	/* The line before it is empty, after the caller's banner. */
	assert_true(got > ours && got[-1] == '\n');
	free(reference);
	free(ours);
	config_free(config);
	strbuf_release(&err);
}

static void test_dump_tutorial(void **state)
{
	(void)state;
	compare_dump("configs/tutorial/tutorial.xml", "reference/sysmonforlinux-samples/sysmon-c-tutorial.txt");
}

static void test_dump_mstic_main(void **state)
{
	(void)state;
	compare_dump("configs/mstic-linux/main.xml", "reference/sysmonforlinux-samples/sysmon-c-mstic-main.txt");
}

static char *dump_text(const struct sysmon_config *config)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	config_dump(out, config);
	fclose(out);
	return text;
}

static void test_dump_details(void **state)
{
	(void)state;
	struct sysmon_config *config = load_ok(
		"<Sysmon schemaversion=\"4.81\"><FieldSizes>CommandLine:100,Image:20</FieldSizes><EventFiltering>"
		"<ProcessCreate onmatch=\"include\"><Rule groupRelation=\"and\"><Image>a</Image></Rule>"
		"<Rule name=\"\xc3\xa9" "123456789012345678901234567890123\"><User>b</User></Rule></ProcessCreate>"
		"<ProcessCreate onmatch=\"include\"><Rule><Image>c</Image></Rule></ProcessCreate>"
		"</EventFiltering></Sysmon>");
	char *text = dump_text(config);

	assert_string_equal(text,
		" - Field Sizes:                   CommandLine:100,Image:20\n"
		"\n"
		"Rule configuration (version 4.81):\n"
		" - ProcessCreate                      onmatch: include   combine rules using 'And'\n"
		"\tCompound Rule 0001   combine using And\n"
		"\t    Image                          filter: is           value: 'a'\n"
		"\tCompound Rule \xc3\xa9" "1234567890123456789012345678901   combine using Or\n"
		"\t    User                           filter: is           value: 'b'\n"
		" - ProcessCreate                      onmatch: include   combine rules using 'And'\n"
		"\tCompound Rule 0003   combine using Or\n"
		"\t    Image                          filter: is           value: 'c'\n");
	free(text);
	config_free(config);

	config = load_ok("<Sysmon schemaversion=\"4.90\"/>");
	text = dump_text(config);
	assert_string_equal(text, "\nNo rules installed\n");
	free(text);
	config_free(config);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_error_malformed_xml(void **state)
{
	(void)state;
	expect_error("<Sysmon schemaversion=\"4.22\">\n<EventFiltering>\n<ProcessCreate onmatch=\"include\">\n"
		     "</EventFiltering>\n</Sysmon>\n",
		     "t.xml:4: malformed XML: ", "Opening and ending tag mismatch");
	expect_error("<Sysmon schemaversion=\"4.22\">\n<EventFiltering>\n<ProcessCreate onmatch=\"include\" "
		     "onmatch=\"exclude\"/>\n</EventFiltering>\n</Sysmon>\n",
		     "t.xml:3: malformed XML: ", "onmatch");
	expect_error("<Sysmon schemaversion=\"4.22\">\n<EventFiltering>&bogus;</EventFiltering>\n</Sysmon>",
		     "t.xml:2: malformed XML: ", "bogus");
	/* Lines count from the file's first line, also after stripped blank lines. */
	expect_error("\n\n\n<Sysmon schemaversion=\"4.22\">\n<EventFiltering>\n</Sysmon>\n",
		     "t.xml:6: malformed XML: ", "mismatch");
}

static void test_error_root(void **state)
{
	(void)state;
	expect_error("<Config schemaversion=\"4.22\"/>", "t.xml:1: the root element is <Config>", "<Sysmon");
	expect_error("<Sysmon>\n</Sysmon>", "t.xml:1: <Sysmon> has no schemaversion attribute",
		     "4.00 to 4.90");
	expect_error("<Sysmon schemaversion=\"abc\"/>", "t.xml:1: schemaversion \"abc\" is not a version number",
		     "4.00 to 4.90");
	expect_error("<Sysmon schemaversion=\"5.0\"/>", "t.xml:1: schemaversion 5.00 is not supported",
		     "4.00 to 4.90");
	expect_error("<Sysmon schemaversion=\"3.40\"/>", "t.xml:1: schemaversion 3.40 is not supported",
		     "4.00 to 4.90");
	expect_error("<Sysmon schemaversion=\"4.22\" version=\"1\"/>", "t.xml:1: <Sysmon> has the unknown "
		     "attribute version", "schemaversion");
	expect_error("<Sysmon xmlns=\"urn:x\" schemaversion=\"4.22\"/>", "t.xml:1: the root element is", "Sysmon");
	/* Every 4.x up to 4.90 loads. */
	struct sysmon_config *config = load_ok("<Sysmon schemaversion=\"4.9\"/>");
	assert_int_equal(config->schema_version, SCHEMA_VERSION(4, 90));
	config_free(config);
	config = load_ok("<Sysmon schemaversion=\"4\"/>");
	assert_int_equal(config->schema_version, SCHEMA_VERSION(4, 0));
	config_free(config);
}

static void test_error_options(void **state)
{
	(void)state;
	expect_error("<Sysmon schemaversion=\"4.22\">\n<HashAlgorithm>md5</HashAlgorithm>\n</Sysmon>",
		     "t.xml:2: unknown element <HashAlgorithm> inside <Sysmon>", "did you mean <HashAlgorithms>?");
	expect_error("<Sysmon schemaversion=\"4.50\">\n<ProcessAccessConfi>x</ProcessAccessConfi>\n</Sysmon>",
		     "t.xml:2: unknown element <ProcessAccessConfi> inside <Sysmon>",
		     "did you mean <ProcessAccessConfig>?");
	expect_error("<Sysmon schemaversion=\"4.22\">\n<Whatever>md5</Whatever>\n</Sysmon>",
		     "t.xml:2: unknown element <Whatever> inside <Sysmon>", "HashAlgorithms");
	expect_error("<Sysmon schemaversion=\"4.50\">\n<FieldSizes>Image:5</FieldSizes>\n</Sysmon>",
		     "t.xml:2: option FieldSizes needs schemaversion 4.81 or later", "declares 4.50");
	expect_error("<Sysmon schemaversion=\"4.50\">\n<CopyOnDelete_PE/>\n</Sysmon>",
		     "t.xml:2: option CopyOnDelete_PE was removed after schemaversion 4.23", "remove it");
	expect_error("<Sysmon schemaversion=\"4.22\">\n<HashAlgorithms/>\n</Sysmon>",
		     "t.xml:2: <HashAlgorithms> is empty: it needs a value", "<HashAlgorithms>sha256</HashAlgorithms>");
	expect_error("<Sysmon schemaversion=\"4.81\">\n<FieldSizes>  </FieldSizes>\n</Sysmon>",
		     "t.xml:2: <FieldSizes> is empty", "CommandLine");
	expect_error("<Sysmon schemaversion=\"4.22\">\n<HashAlgorithms>md5, sha256</HashAlgorithms>\n</Sysmon>",
		     "t.xml:2: unknown hash algorithm ' sha256' in HashAlgorithms", "without spaces");
	expect_error("<Sysmon schemaversion=\"4.22\">\n<HashAlgorithms>crc32</HashAlgorithms>\n</Sysmon>",
		     "t.xml:2: unknown hash algorithm 'crc32'", "sha256");
	expect_error("<Sysmon schemaversion=\"4.22\"><CaptureClipboard>yes</CaptureClipboard></Sysmon>",
		     "t.xml:1: <CaptureClipboard> takes no value", "<CaptureClipboard/>");
	expect_error("<Sysmon schemaversion=\"4.30\"><DnsLookup>maybe</DnsLookup></Sysmon>",
		     "t.xml:1: <DnsLookup> must be true or false", "maybe");
	expect_error("<Sysmon schemaversion=\"4.81\"><FieldSizes>Image:0</FieldSizes></Sysmon>",
		     "t.xml:1: FieldSizes field 'Image' has the size '0'", "from 1");
	expect_error("<Sysmon schemaversion=\"4.81\"><FieldSizes>Image:-1</FieldSizes></Sysmon>",
		     "t.xml:1: FieldSizes 'Image:-1' has the invalid character '-'", "Name:Size");
	expect_error("<Sysmon schemaversion=\"4.81\"><FieldSizes>Image:5.User:6</FieldSizes></Sysmon>",
		     "t.xml:1: FieldSizes 'Image:5.User:6' has the invalid character '.'", "Name:Size");
	expect_error("<Sysmon schemaversion=\"4.81\"><FieldSizes>Nonfield:5</FieldSizes></Sysmon>",
		     "t.xml:1: FieldSizes field 'Nonfield' is not a field of any event", "case-sensitive");
	expect_error("<Sysmon schemaversion=\"4.81\"><FieldSizes>Image</FieldSizes></Sysmon>",
		     "t.xml:1: FieldSizes entry 'Image' has no size", "Name:Size");
	expect_error("<Sysmon schemaversion=\"4.81\"><FieldSizes>Image:5x</FieldSizes></Sysmon>",
		     "t.xml:1: FieldSizes field 'Image' has the size '5x'", "whole number");
	expect_error("<Sysmon schemaversion=\"4.81\"><ProcessCreate onmatch=\"include\"/></Sysmon>",
		     "t.xml:1: <ProcessCreate> must be inside <EventFiltering>", "<Sysmon>");
	expect_error("<Sysmon schemaversion=\"4.81\"><HashAlgorithms a=\"b\">md5</HashAlgorithms></Sysmon>",
		     "t.xml:1: <HashAlgorithms> has the unknown attribute a", "no attributes");
}

static void test_error_events(void **state)
{
	(void)state;
	expect_error("<Sysmon schemaversion=\"4.22\">\n<EventFiltering>\n<ProcessCreated onmatch=\"include\"/>\n"
		     "</EventFiltering>\n</Sysmon>",
		     "t.xml:3: unknown event element <ProcessCreated> in <EventFiltering>",
		     "did you mean <ProcessCreate>?");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering><Frobnicate onmatch=\"include\"/>"
		     "</EventFiltering></Sysmon>",
		     "t.xml:1: unknown event element <Frobnicate> in <EventFiltering>", "ProcessCreate");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<ProcessTampering onmatch=\"include\"/>"
		     "</EventFiltering></Sysmon>",
		     "t.xml:2: event element ProcessTampering needs schemaversion 4.50 or later", "declares 4.22");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering>\n<FileBlockExecutable onmatch=\"include\"/>"
		     "</EventFiltering></Sysmon>",
		     "t.xml:2: event element FileBlockExecutable needs schemaversion 4.82 or later", "declares 4.81");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<ProcessCreate onmatch=\"include\">\n"
		     "  stray text\n</ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:3: unexpected text 'stray text' inside <ProcessCreate>", "field elements");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<Image>x</Image></EventFiltering></Sysmon>",
		     "t.xml:2: <Image> must be inside an event element", "ProcessCreate");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering name=\"x\"/></Sysmon>",
		     "t.xml:1: <EventFiltering> has the unknown attribute name", "no attributes");
}

static void test_error_fields(void **state)
{
	(void)state;
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<ParentUser>root</ParentUser></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: ProcessCreate field ParentUser needs schemaversion 4.80 or later",
		     "declares 4.22");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<Imagee>x</Imagee></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: unknown field <Imagee> in <ProcessCreate>", "did you mean <Image>?");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<Rule><QueryName>x</QueryName></Rule></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: <QueryName> is a field of DnsQuery, not of ProcessCreate", "DnsQuery");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<Zzzzzzzzzzzz>x</Zzzzzzzzzzzz></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: unknown field <Zzzzzzzzzzzz> in <ProcessCreate>: its fields in schema 4.81 are",
		     "ParentUser");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering>\n<RegistryEvent onmatch=\"include\">"
		     "<Details>x</Details><NewName>y</NewName></RegistryEvent></EventFiltering></Sysmon>",
		     "t.xml:2: <RegistryEvent> mixes fields that no single RegistryEvent event has",
		     "Details (event 13); NewName (event 14)");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<Image condition=\"begins with\">x</Image></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: unknown condition 'begins with' on <Image>: the conditions are is, is not, contains",
		     "not end with, less than, more than, image");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<Image condition=\"&#10;is\">x</Image></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: unknown condition '\\x0ais' on <Image>", "is not");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<Image conditon=\"is\">x</Image></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: <Image> has the unknown attribute conditon (did you mean condition?)", "name=");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<Image><b>x</b></Image></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: field <Image> contains an element", "text");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<Rule><Rule/></Rule></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: a <Rule> cannot contain another <Rule>", "close");
	expect_error("<Sysmon schemaversion=\"4.81\"><EventFiltering><ProcessCreate onmatch=\"include\">\n"
		     "<Rule groupRelation=\"or\" kind=\"x\"/></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:2: <Rule> has the unknown attribute kind", "groupRelation");
}

static void test_error_onmatch_and_groups(void **state)
{
	(void)state;
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<ProcessCreate/></EventFiltering></Sysmon>",
		     "t.xml:2: <ProcessCreate> has no onmatch attribute", "onmatch=\"include\"");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<ProcessCreate onmatch=\"Include\"/>"
		     "</EventFiltering></Sysmon>",
		     "t.xml:2: <ProcessCreate onmatch=\"Include\">: onmatch is \"include\" or \"exclude\"", "lower case");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<ProcessCreate onmatch=\"include\" "
		     "default=\"exclude\"/></EventFiltering></Sysmon>",
		     "t.xml:2: <ProcessCreate> has both onmatch and default", "keep only onmatch");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<ProcessCreate name=\"x\" onmatch=\"include\"/>"
		     "</EventFiltering></Sysmon>",
		     "t.xml:2: <ProcessCreate> has the unknown attribute name", "onmatch");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<RuleGroup groupRelation=\"AND\">"
		     "</RuleGroup></EventFiltering></Sysmon>",
		     "t.xml:2: <RuleGroup groupRelation=\"AND\">: groupRelation is \"and\" or \"or\"", "lower case");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<RuleGroup name=\"x\">"
		     "</RuleGroup></EventFiltering></Sysmon>",
		     "t.xml:2: <RuleGroup> has no groupRelation", "groupRelation=\"or\"");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<RuleGroup groupRelation=\"or\">\n"
		     "<RuleGroup groupRelation=\"or\"/></RuleGroup></EventFiltering></Sysmon>",
		     "t.xml:3: a <RuleGroup> cannot contain another <RuleGroup>", "line 2");
	expect_error("<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<RuleGroup groupRelation=\"or\">\n"
		     "text</RuleGroup></EventFiltering></Sysmon>",
		     "t.xml:3: unexpected text 'text' inside <RuleGroup>", "event elements");
}

static void test_error_not_xml(void **state)
{
	(void)state;
	expect_error_len("", 0, "t.xml:1: the file is empty", "<Sysmon schemaversion=");
	expect_error(" \n\t\n", "t.xml:3: the file holds only white space", "<Sysmon");
	expect_error("Sysmon schemaversion=\"4.22\">\n  <EventFiltering/>\n</Sysmon>\n",
		     "t.xml:1: the file does not start with '<': the first element must be <Sysmon "
		     "schemaversion=...> (the tutorial's text omits the leading '<' of 'Sysmon schemaversion=\"4.22\">')",
		     "");
	expect_error_len("\x7f" "ELF\x02\x01\x01\x00\x00\x00", 10, "t.xml:1: the file does not start with '<' "
			 "(it starts with '\\x7fELF\\x02\\x01\\x01", "XML file");
	expect_error_len("\x00\x01\x02\x03\xff", 5, "t.xml:1: the file does not start with '<'", "XML");
	expect_error("\n\nhello", "t.xml:3: the file does not start with '<' (it starts with 'hello')", "XML");

	/* 16 MiB is the limit. */
	size_t big = CONFIG_MAX_SIZE + 1;
	char *data = xmalloc(big);
	memset(data, ' ', big);
	memcpy(data, "<Sysmon schemaversion=\"4.22\">", 29);
	expect_error_len(data, big, "t.xml:1: the file is 16777217 bytes; a config may have at most 16 MiB", "");
	free(data);
}

static void test_error_doctype_and_entities(void **state)
{
	(void)state;
	expect_error("<?xml version=\"1.0\"?>\n<!DOCTYPE Sysmon [<!ENTITY x \"y\">]>\n"
		     "<Sysmon schemaversion=\"4.22\"/>",
		     "t.xml:2: the config has a <!DOCTYPE>", "remove it");
	expect_error("<!DOCTYPE Sysmon SYSTEM \"/etc/passwd\">\n<Sysmon schemaversion=\"4.22\"/>",
		     "t.xml:1: the config has a <!DOCTYPE>", "remove it");
	/* External entities are never loaded. */
	expect_error("<!DOCTYPE Sysmon [<!ENTITY x SYSTEM \"/etc/passwd\">]>\n<Sysmon schemaversion=\"4.22\">"
		     "<EventFiltering><ProcessCreate onmatch=\"include\"><Image>&x;</Image></ProcessCreate>"
		     "</EventFiltering></Sysmon>",
		     "t.xml:1: the config has a <!DOCTYPE>", "");
}

static void test_error_rule_name_length(void **state)
{
	(void)state;
	char name[300], xml[1024];

	memset(name, 'n', 255);
	name[255] = '\0';
	snprintf(xml, sizeof(xml), "<Sysmon schemaversion=\"4.22\"><EventFiltering><ProcessCreate onmatch=\"include\">"
		 "\n<Image name=\"%s\">x</Image></ProcessCreate></EventFiltering></Sysmon>", name);
	struct sysmon_config *config = load_ok(xml);
	assert_int_equal(strlen(config->defs.sets[0].filters[0].name), 255);
	config_free(config);

	strcat(name, "n");
	snprintf(xml, sizeof(xml), "<Sysmon schemaversion=\"4.22\"><EventFiltering><ProcessCreate onmatch=\"include\">"
		 "\n<Image name=\"%s\">x</Image></ProcessCreate></EventFiltering></Sysmon>", name);
	expect_error(xml, "t.xml:2: the name of <Image> is 256 characters long; Sysmon allows at most 255", "");
	snprintf(xml, sizeof(xml), "<Sysmon schemaversion=\"4.22\"><EventFiltering>\n<RuleGroup groupRelation=\"or\" "
		 "name=\"%s\"/></EventFiltering></Sysmon>", name);
	expect_error(xml, "t.xml:2: the name of <RuleGroup> is 256 characters long", "");
	snprintf(xml, sizeof(xml), "<Sysmon schemaversion=\"4.22\"><EventFiltering><ProcessCreate onmatch=\"include\">"
		 "\n<Rule name=\"%s\"/></ProcessCreate></EventFiltering></Sysmon>", name);
	expect_error(xml, "t.xml:2: the name of <Rule> is 256 characters long", "");
}

static void test_error_file(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;

	assert_null(config_load_file("/nonexistent/sysmon.xml", &err));
	assert_string_equal(strbuf_str(&err), "/nonexistent/sysmon.xml: cannot open the config: No such file or directory");
	strbuf_reset(&err);
	assert_null(config_load_file("/", &err));
	assert_non_null(strstr(strbuf_str(&err), "is a directory"));
	strbuf_release(&err);
}

/* ---- options ------------------------------------------------------------- */

static void test_hash_algorithms(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	unsigned bits = 0;

	assert_int_equal(config_parse_hash_algorithms("*", &bits, &err), 0);
	assert_int_equal(bits, HASH_ALL);
	assert_int_equal(config_parse_hash_algorithms("ALL", &bits, &err), 0);
	assert_int_equal(bits, HASH_ALL);
	assert_int_equal(config_parse_hash_algorithms("SHA-1,md-5", &bits, &err), 0);
	assert_int_equal(bits, HASH_SHA1 | HASH_MD5);
	assert_int_equal(config_parse_hash_algorithms("sha256,,IMP-HASH,", &bits, &err), 0);
	assert_int_equal(bits, HASH_SHA256 | HASH_IMPHASH);
	assert_int_equal(config_parse_hash_algorithms(",,", &bits, &err), -1);
	assert_int_equal(config_parse_hash_algorithms("sha 256", &bits, &err), -1);
	config_hash_algorithms_text(HASH_ALL, &text);
	assert_string_equal(strbuf_str(&text), "SHA1,MD5,SHA256,IMPHASH");

	struct sysmon_config *config = load_ok("<Sysmon schemaversion=\"4.22\"><HashAlgorithms>md5,sha256"
					       "</HashAlgorithms></Sysmon>");
	assert_int_equal(config->hash_algorithms, HASH_MD5 | HASH_SHA256);
	assert_int_equal(config->noptions, 1);
	assert_true(config->options[0].has_effect);
	config_free(config);
	config = load_ok("<Sysmon schemaversion=\"4.22\"/>");
	assert_int_equal(config->hash_algorithms, HASH_SHA256);
	config_free(config);
	strbuf_release(&err);
	strbuf_release(&text);
}

static void test_field_sizes(void **state)
{
	(void)state;
	struct sysmon_config *config = load_ok("<Sysmon schemaversion=\"4.81\"><FieldSizes>CommandLine:100,,Image:20,"
					       "RuleName:3</FieldSizes></Sysmon>");
	const struct schema_event *pc = schema_event_by_id(1);

	assert_string_equal(config->field_sizes_text, "CommandLine:100,,Image:20,RuleName:3");
	assert_int_equal(config->field_sizes.max[1][schema_field_index(pc, "CommandLine")], 100);
	assert_int_equal(config->field_sizes.max[1][schema_field_index(pc, "Image")], 20);
	assert_int_equal(config->field_sizes.max[1][schema_field_index(pc, "User")], 0);
	/* Every event with an Image field, but not 26 (Sysmon's table stops at 25). */
	for (unsigned id = 1; id <= 29; id++) {
		const struct schema_event *e = schema_event_by_id(id);
		int index = schema_field_index(e, "Image");

		if (index >= 0)
			assert_int_equal(config->field_sizes.max[id][index], id <= 25 ? 20 : 0);
	}
	assert_int_equal(config->field_sizes.max[3][0], 3);
	config_free(config);
}

static void test_other_options(void **state)
{
	(void)state;
	struct sysmon_config *config = load_ok(
		"<Sysmon schemaversion=\"4.50\">\n<DnsLookup> TRUE </DnsLookup>\n<CheckRevocation/>\n"
		"<ArchiveDirectory>Sysmon</ArchiveDirectory>\n<CaptureClipboard/>\n<DriverName>x</DriverName>\n"
		"<ProcessAccessConfig>lsass.exe:0x1010</ProcessAccessConfig>\n<PipeMonitoringConfig>x</PipeMonitoringConfig>\n"
		"<TraceEvents>x</TraceEvents>\n</Sysmon>");

	assert_true(config->dns_lookup);
	assert_int_equal(config->noptions, 8);
	assert_int_equal(config->nwarnings, 7);
	assert_string_equal(config->warnings[0], "t.xml:3: <CheckRevocation> has no effect on Linux; it is "
			    "accepted and ignored");
	assert_string_equal(config->warnings[6], "t.xml:9: <TraceEvents> has no effect on Linux; it is "
			    "accepted and ignored");
	assert_false(config->options[1].has_effect);
	config_free(config);

	config = load_ok("<Sysmon schemaversion=\"4.22\"><CopyOnDelete_PE/><CopyOnDelete_SIDs>x</CopyOnDelete_SIDs></Sysmon>");
	assert_int_equal(config->nwarnings, 2);
	config_free(config);
	config = load_ok("<Sysmon schemaversion=\"4.30\"><DnsLookup>False</DnsLookup></Sysmon>");
	assert_false(config->dns_lookup);
	config_free(config);
}

/* ---- rule definitions ---------------------------------------------------------- */

static void test_windows_only_and_warnings(void **state)
{
	(void)state;
	struct sysmon_config *config = load_ok(
		"<Sysmon schemaversion=\"4.81\">\n<EventFiltering>\n"
		"<RegistryEvent onmatch=\"include\"><TargetObject>x</TargetObject></RegistryEvent>\n"
		"<RegistryEvent onmatch=\"exclude\"/>\n"
		"<ProcessCreate onmatch=\"exclude\"><Image condition=\"contains any\">a;b;</Image></ProcessCreate>\n"
		"<RuleGroup groupRelation=\"or\"><FileCreate onmatch=\"exclude\"/></RuleGroup>\n"
		"<RuleGroup groupRelation=\"or\"><FileCreate onmatch=\"exclude\"/></RuleGroup>\n"
		"</EventFiltering>\n</Sysmon>");

	assert_int_equal(config->nwarnings, 3);
	assert_string_equal(config->warnings[0], "t.xml:3: RegistryEvent events never occur on Linux; its "
			    "rules are kept but never match");
	assert_non_null(strstr(config->warnings[1], "t.xml:5: <Image condition=\"contains any\"> has an empty item"));
	assert_non_null(strstr(config->warnings[2], "t.xml:6: 2 <FileCreate onmatch=\"exclude\"> elements and no "
			       "include one"));
	config_free(config);
}

static const struct rule_set_def *set_at(const struct sysmon_config *config, size_t i)
{
	assert_true(i < config->defs.nsets);
	return &config->defs.sets[i];
}

static void test_names_and_values(void **state)
{
	(void)state;
	struct sysmon_config *config = load_ok(
		"<Sysmon schemaversion=\"4.81\"><EventFiltering>\n"
		"<RuleGroup name=\"G\" groupRelation=\"or\"><ProcessCreate onmatch=\"include\">\n"
		"<Image name=\"F\">a</Image>\n"
		"<Image> spaced &amp; <![CDATA[<raw>]]>\n</Image>\n"
		"<Rule name=\"R\"><User>u</User><User name=\"\">v</User><User name=\"F2\">w</User></Rule>\n"
		"<Rule name=\"\"><CommandLine condition=\"Contains Any\">x</CommandLine></Rule>\n"
		"</ProcessCreate></RuleGroup>\n"
		"<RuleGroup name=\"\" groupRelation=\"and\"><ProcessCreate onmatch=\"exclude\">"
		"<Image condition=\"\"></Image></ProcessCreate></RuleGroup>\n"
		"</EventFiltering></Sysmon>");
	const struct rule_set_def *s = set_at(config, 0);

	assert_int_equal(config->defs.nsets, 2);
	assert_string_equal(s->group_name, "G");
	assert_int_equal(s->nfilters, 6);
	assert_string_equal(s->filters[0].name, "F");
	assert_string_equal(s->filters[1].name, "G");
	assert_string_equal(s->filters[1].value, " spaced & <raw>\n");
	assert_int_equal(s->filters[1].aggregate, -1);
	assert_int_equal(s->filters[1].line, 4);
	assert_string_equal(s->filters[2].name, "R");
	assert_string_equal(s->filters[3].name, "R");
	assert_string_equal(s->filters[4].name, "F2");
	assert_int_equal(s->filters[4].aggregate, 0);
	assert_string_equal(s->filters[5].name, "G");
	assert_int_equal(s->filters[5].aggregate, 1);
	assert_int_equal(s->filters[5].condition, COND_CONTAINS_ANY);
	assert_int_equal(s->naggregates, 2);
	assert_string_equal(s->aggregates[0].name, "R");
	assert_null(s->aggregates[1].name);

	s = set_at(config, 1);
	assert_null(s->group_name);
	assert_null(s->filters[0].name);
	assert_string_equal(s->filters[0].value, "");
	assert_int_equal(s->filters[0].condition, COND_IS);
	assert_true(s->exclude);
	config_free(config);
}

static void test_combine_modes(void **state)
{
	(void)state;
	static const char body[] =
		"<EventFiltering>"
		"<ProcessCreate onmatch=\"include\"><Rule><Image>a</Image></Rule><Rule groupRelation=\"OR\"/>"
		"<Rule groupRelation=\"and\"/><Rule groupRelation=\"xor\"/></ProcessCreate>"
		"<RuleGroup groupRelation=\"or\"><ProcessCreate onmatch=\"include\"/></RuleGroup>"
		"<RuleGroup groupRelation=\"and\"><ProcessCreate onmatch=\"include\"/></RuleGroup>"
		"</EventFiltering></Sysmon>";
	char xml[1024];

	snprintf(xml, sizeof(xml), "<Sysmon schemaversion=\"4.1\">%s", body);
	struct sysmon_config *config = load_ok(xml);
	assert_true(set_at(config, 0)->or_mode);    /* 4.1: OR outside a RuleGroup */
	assert_true(set_at(config, 1)->or_mode);
	assert_false(set_at(config, 2)->or_mode);
	config_free(config);

	snprintf(xml, sizeof(xml), "<Sysmon schemaversion=\"4.22\">%s", body);
	config = load_ok(xml);
	const struct rule_set_def *s = set_at(config, 0);
	assert_false(s->or_mode);                   /* later: AND */
	assert_true(s->aggregates[0].or_mode);      /* no groupRelation: OR */
	assert_true(s->aggregates[1].or_mode);      /* "OR", any case */
	assert_false(s->aggregates[2].or_mode);
	assert_false(s->aggregates[3].or_mode);     /* anything else: AND */
	assert_true(set_at(config, 1)->or_mode);
	assert_false(set_at(config, 2)->or_mode);
	config_free(config);
}

static void test_set_order(void **state)
{
	(void)state;
	struct sysmon_config *config = load_ok(
		"<Sysmon schemaversion=\"4.22\"><EventFiltering>\n"
		"<DriverLoad onmatch=\"exclude\"/>\n"
		"<ProcessTerminate onmatch=\"include\"/>\n"
		"<NetworkConnect onmatch=\"include\"/>\n"
		"<RuleGroup groupRelation=\"or\"><NetworkConnect onmatch=\"exclude\"/><ProcessCreate onmatch=\"include\"/>"
		"</RuleGroup>\n"
		"<NetworkConnect default=\"include\"/>\n"
		"</EventFiltering></Sysmon>");
	static const unsigned ids[] = { 1, 3, 3, 3, 5, 6 };
	static const unsigned lines[] = { 5, 4, 5, 6, 3, 2 };

	assert_int_equal(config->defs.nsets, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(set_at(config, i)->event->id, ids[i]);
		assert_int_equal(set_at(config, i)->line, lines[i]);
	}
	assert_false(set_at(config, 1)->exclude);
	assert_true(set_at(config, 2)->exclude);
	assert_true(set_at(config, 3)->exclude);   /* default="include" is onmatch="exclude" */
	config_free(config);
}

static unsigned bound_id(const char *tag, const char *fields)
{
	char xml[1024];

	snprintf(xml, sizeof(xml), "<Sysmon schemaversion=\"4.81\"><EventFiltering><%s onmatch=\"include\">%s</%s>"
		 "</EventFiltering></Sysmon>", tag, fields, tag);
	struct sysmon_config *config = load_ok(xml);
	unsigned id = set_at(config, 0)->event->id;

	config_free(config);
	return id;
}

static void test_shared_tag_binding(void **state)
{
	(void)state;
	assert_int_equal(bound_id("RegistryEvent", ""), 12);
	assert_int_equal(bound_id("RegistryEvent", "<TargetObject>x</TargetObject>"), 12);
	assert_int_equal(bound_id("RegistryEvent", "<User>x</User>"), 12);
	assert_int_equal(bound_id("RegistryEvent", "<TargetObject>x</TargetObject><Rule><Details>y</Details></Rule>"), 13);
	assert_int_equal(bound_id("RegistryEvent", "<NewName>y</NewName>"), 14);
	assert_int_equal(bound_id("WmiEvent", "<Name>y</Name>"), 19);
	assert_int_equal(bound_id("WmiEvent", "<Type>y</Type>"), 20);
	assert_int_equal(bound_id("WmiEvent", "<Consumer>y</Consumer>"), 21);
	assert_int_equal(bound_id("PipeEvent", "<PipeName>y</PipeName>"), 17);

	struct sysmon_config *config = load_ok("<Sysmon schemaversion=\"4.81\"><EventFiltering><RegistryEvent "
					       "onmatch=\"include\"><User>x</User><Details>y</Details></RegistryEvent>"
					       "</EventFiltering></Sysmon>");
	const struct rule_set_def *s = set_at(config, 0);
	assert_int_equal(s->event->id, 13);
	assert_int_equal(s->filters[0].field, schema_field_index(schema_event_by_id(13), "User"));
	config_free(config);
}

/* ---- encodings ------------------------------------------------------------------ */

static const char sample[] =
	"<Sysmon schemaversion=\"4.30\">\r\n<EventFiltering>\r\n<ProcessCreate onmatch=\"include\">\r\n"
	"<CommandLine>\xc3\xa9\xf0\x9f\x98\x80</CommandLine>\r\n</ProcessCreate>\r\n</EventFiltering>\r\n</Sysmon>\r\n";

/* UTF-8 -> UTF-16LE for the characters in SAMPLE. */
static size_t to_utf16(const char *utf8, unsigned char *out, bool bom)
{
	const unsigned char *p = (const unsigned char *)utf8;
	size_t n = 0;

	if (bom) {
		out[n++] = 0xff;
		out[n++] = 0xfe;
	}
	while (*p) {
		unsigned cp;

		if (*p < 0x80) {
			cp = *p++;
		} else if (*p < 0xe0) {
			cp = (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
			p += 2;
		} else if (*p < 0xf0) {
			cp = (unsigned)(p[0] & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
			p += 3;
		} else {
			cp = (unsigned)(p[0] & 0x07) << 18 | (unsigned)(p[1] & 0x3f) << 12 |
			     (unsigned)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
			p += 4;
		}
		if (cp >= 0x10000) {
			unsigned v = cp - 0x10000, hi = 0xd800 + (v >> 10), lo = 0xdc00 + (v & 0x3ff);

			out[n++] = (unsigned char)hi;
			out[n++] = (unsigned char)(hi >> 8);
			cp = lo;
		}
		out[n++] = (unsigned char)cp;
		out[n++] = (unsigned char)(cp >> 8);
	}
	return n;
}

static void expect_sample_value(const char *data, size_t len)
{
	struct strbuf err = STRBUF_INIT;
	struct sysmon_config *config = load_len(data, len, &err);

	if (!config)
		fail_msg("%s", strbuf_str(&err));
	assert_string_equal(set_at(config, 0)->filters[0].value, "\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(set_at(config, 0)->filters[0].line, 4);
	config_free(config);
	strbuf_release(&err);
}

static void test_encodings(void **state)
{
	(void)state;
	unsigned char buf[1024];
	char text[1024];
	size_t n;

	expect_sample_value(sample, strlen(sample));
	snprintf(text, sizeof(text), "\xef\xbb\xbf%s", sample);
	expect_sample_value(text, strlen(text));
	n = to_utf16(sample, buf, true);
	expect_sample_value((const char *)buf, n);
	n = to_utf16(sample, buf, false);
	expect_sample_value((const char *)buf, n);
	snprintf(text, sizeof(text), "<?xml version=\"1.0\" encoding=\"UTF-16\"?>%s", sample);
	n = to_utf16(text, buf, true);
	expect_sample_value((const char *)buf, n);

	/* ISO-8859-1 by declaration: 0xe9 is U+00E9. */
	struct sysmon_config *config = load_ok(
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<Sysmon schemaversion=\"4.30\"><EventFiltering>"
		"<ProcessCreate onmatch=\"include\"><Image>caf\xe9</Image></ProcessCreate></EventFiltering></Sysmon>");
	assert_string_equal(set_at(config, 0)->filters[0].value, "caf\xc3\xa9");
	config_free(config);

	/* Invalid UTF-8 without a declaration is an error, with its line. */
	expect_error("<Sysmon schemaversion=\"4.30\">\n<EventFiltering>\n<ProcessCreate onmatch=\"include\">"
		     "<Image>caf\xe9</Image></ProcessCreate></EventFiltering></Sysmon>",
		     "t.xml:3: malformed XML: ", "UTF-8");
	/* An unpaired surrogate in UTF-16. */
	n = to_utf16("<Sysmon schemaversion=\"4.30\"/>\n", buf, true);
	buf[n++] = 0x00;
	buf[n++] = 0xdc;
	expect_error_len((const char *)buf, n, "t.xml:2: the file is not valid UTF-16", "surrogate");
	/* Leading blank lines before the declaration are fine. */
	config = load_ok("\n\n  <?xml version=\"1.0\"?>\n<Sysmon schemaversion=\"4.30\"><EventFiltering>\n"
			 "<ProcessCreate onmatch=\"include\"/></EventFiltering></Sysmon>");
	assert_int_equal(set_at(config, 0)->line, 5);
	config_free(config);
}

/* ---- defaults, hash, compiled rules ----------------------------------------------- */

static void test_default_config(void **state)
{
	(void)state;
	struct sysmon_config *config = config_default();
	struct event ev;
	const char *name = NULL;

	assert_null(config->path);
	assert_int_equal(config->schema_version, SCHEMA_LINUX);
	assert_int_equal(config->hash_algorithms, HASH_SHA256);
	assert_int_equal(config->defs.nsets, 0);
	assert_string_equal(config->sha256, "");
	assert_non_null(config->rules);
	event_init(&ev);
	event_reset(&ev, 1);
	assert_true(rules_decide(config->rules, &ev, &name));
	event_reset(&ev, 3);
	assert_false(rules_decide(config->rules, &ev, &name));
	event_free(&ev);
	config_free(config);
}

static void test_sha256_and_rules(void **state)
{
	(void)state;
	static const char xml[] = "<Sysmon schemaversion=\"4.22\"><EventFiltering><NetworkConnect onmatch=\"include\">"
				  "<DestinationPort name=\"web\">443</DestinationPort></NetworkConnect></EventFiltering></Sysmon>";
	struct sysmon_config *config = load_ok(xml);
	struct event ev;
	const char *name = NULL;

	assert_int_equal(strlen(config->sha256), 64);
	assert_string_equal(config->path, "t.xml");
	event_init(&ev);
	event_reset(&ev, 3);
	event_set_name(&ev, "DestinationPort", "443");
	assert_true(rules_decide(config->rules, &ev, &name));
	assert_string_equal(name, "web");
	event_reset(&ev, 3);
	event_set_name(&ev, "DestinationPort", "80");
	assert_false(rules_decide(config->rules, &ev, &name));
	event_free(&ev);
	config_free(config);

	config = load_ok("<Sysmon schemaversion=\"4.22\"/>");
	/* sha256 of the bytes above. */
	assert_string_equal(config->sha256, "071bb584cb6553dfb1dab3e74d11c2c3a910ddee6d659d93aa3d2cf65ab1d0f7");
	config_free(config);
}

/* ---- sysmon config check|test|dump ---------------------------------------------- */

/* Run `sysmon config SUB PATH` with INPUT on stdin; returns its stdout, and
 * its stderr in *ERRORS if that is not NULL. */
static char *run_config_command(const char *sub, const char *path, const char *input, int *status,
				char **errors)
{
	char in_path[] = "/tmp/sysmon-config-in-XXXXXX", out_path[] = "/tmp/sysmon-config-out-XXXXXX";
	char err_path[] = "/tmp/sysmon-config-err-XXXXXX";
	int in_fd = mkstemp(in_path), out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
	int saved_in = dup(0), saved_out = dup(1), saved_err = dup(2);
	char *argv[] = { "config", (char *)sub, (char *)path, NULL };
	char *output;

	assert_true(in_fd >= 0 && out_fd >= 0 && err_fd >= 0 && saved_in >= 0 && saved_out >= 0 && saved_err >= 0);
	assert_int_equal(write(in_fd, input, strlen(input)), (ssize_t)strlen(input));
	lseek(in_fd, 0, SEEK_SET);
	fflush(stdout);
	fflush(stderr);
	dup2(in_fd, 0);
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	clearerr(stdin);
	*status = cmd_config(3, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_in, 0);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	clearerr(stdin);
	close(saved_in);
	close(saved_out);
	close(saved_err);
	close(in_fd);
	close(out_fd);
	close(err_fd);
	output = read_all(out_path);
	if (errors)
		*errors = read_all(err_path);
	unlink(in_path);
	unlink(out_path);
	unlink(err_path);
	return output;
}

static void test_command_test(void **state)
{
	(void)state;
	char path[4096];
	int status;
	char *out;

	snprintf(path, sizeof(path), "%s/configs/mstic-linux/main.xml", shared_dir());
	out = run_config_command("test", path,
		"{\"EventID\":1,\"Image\":\"/usr/bin/wget\",\"CommandLine\":\"wget x\"}\n"
		"{\"EventID\":\"1\", \"Image\": \"/usr/bin/ls\"}\n"
		"\n"
		"{\"EventID\":3,\"Image\":\"/usr/bin/curl\",\"DestinationPort\":\"443\"}\n"
		"{\"EventID\":5}\n", &status, NULL);
	assert_string_equal(out,
		"{\"logged\":true,\"RuleName\":\"TechniqueID=T1105,TechniqueName=Ingress Tool Transfer\"}\n"
		"{\"logged\":false,\"RuleName\":\"-\"}\n"
		"{\"logged\":true,\"RuleName\":\"TechniqueID=T1105,TechniqueName=Ingress Tool Transfer\"}\n"
		"{\"logged\":false,\"RuleName\":\"-\"}\n");
	assert_int_equal(status, EXIT_OK);
	free(out);

	/* Bad lines get an error each, the others are still decided. */
	out = run_config_command("test", path,
		"garbage\n{\"EventID\":99}\n{\"EventID\":1,\"Nope\":\"x\"}\n{\"EventID\":1,\"Image\":[1]}\n"
		"{\"Image\":\"x\"}\n{\"EventID\":1,\"Image\":\"\\ud800\"}\n{\"EventID\":1}   trailing\n"
		"{\"EventID\":1,\"Image\":\"/usr/bin/curl\"}\n\xff\xfe{\n{\"EventID\":1,\"Image\":\"unterminated\n", &status, NULL);
	const char *line = out;
	size_t lines = 0;
	for (const char *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		bool decided = strncmp(line, "{\"logged\":true,", 15) == 0;

		assert_true(decided == (lines == 7));
		if (!decided)
			assert_true(strncmp(line, "{\"error\":\"", 10) == 0);
		lines++;
	}
	assert_int_equal(lines, 10);
	assert_non_null(strstr(out, "has no field \\\"Nope\\\""));
	assert_int_not_equal(status, EXIT_OK);
	free(out);
}

static void test_command_check_and_dump(void **state)
{
	(void)state;
	char path[4096];
	int status;
	char *out, *errors;

	snprintf(path, sizeof(path), "%s/configs/tutorial/tutorial.xml", shared_dir());
	out = run_config_command("check", path, "", &status, NULL);
	assert_int_equal(status, EXIT_OK);
	assert_non_null(strstr(out, "valid Sysmon config, schema version 4.22"));
	assert_non_null(strstr(out, "Hash algorithms:  SHA1,MD5,SHA256,IMPHASH"));
	assert_non_null(strstr(out, "NetworkConnect          1 include (2 filters), 1 exclude (2 filters)"));
	free(out);
	out = run_config_command("dump", path, "", &status, NULL);
	assert_int_equal(status, EXIT_OK);
	assert_non_null(strstr(out, "Rule configuration (version 4.22):\n - NetworkConnect"));
	free(out);
	out = run_config_command("check", "/nonexistent.xml", "", &status, &errors);
	assert_int_equal(status, EXIT_USAGE);
	assert_string_equal(out, "");
	assert_string_equal(errors, "/nonexistent.xml: cannot open the config: No such file or directory\n");
	free(out);
	free(errors);
	out = run_config_command("frobnicate", path, "", &status, &errors);
	assert_int_equal(status, EXIT_USAGE);
	assert_non_null(strstr(errors, "usage: sysmon config check FILE"));
	free(out);
	free(errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_configs_load),
		cmocka_unit_test(test_dump_tutorial),
		cmocka_unit_test(test_dump_mstic_main),
		cmocka_unit_test(test_dump_details),
		cmocka_unit_test(test_error_malformed_xml),
		cmocka_unit_test(test_error_root),
		cmocka_unit_test(test_error_options),
		cmocka_unit_test(test_error_events),
		cmocka_unit_test(test_error_fields),
		cmocka_unit_test(test_error_onmatch_and_groups),
		cmocka_unit_test(test_error_not_xml),
		cmocka_unit_test(test_error_doctype_and_entities),
		cmocka_unit_test(test_error_rule_name_length),
		cmocka_unit_test(test_error_file),
		cmocka_unit_test(test_hash_algorithms),
		cmocka_unit_test(test_field_sizes),
		cmocka_unit_test(test_other_options),
		cmocka_unit_test(test_windows_only_and_warnings),
		cmocka_unit_test(test_names_and_values),
		cmocka_unit_test(test_combine_modes),
		cmocka_unit_test(test_set_order),
		cmocka_unit_test(test_shared_tag_binding),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_default_config),
		cmocka_unit_test(test_sha256_and_rules),
		cmocka_unit_test(test_command_test),
		cmocka_unit_test(test_command_check_and_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
