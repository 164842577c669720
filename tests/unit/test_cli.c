/*
 * Unit tests for the parsing of Sysmon's switches (cli/switches.c) and the
 * service helpers that need no root (service/service.c: the config origin
 * record read by the monitor for event 16, the boot service files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/switches.h"
#include "service/service.h"

/* Parse the switches of LINE (space-separated, argv[0] added). */
static int parse(const char *line, struct switches *sw, struct strbuf *err)
{
	static char buf[512];
	static char *argv[32];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	argv[argc++] = "sysmon";
	for (char *tok = strtok(buf, " "); tok && argc < 31; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	strbuf_reset(err);
	return switches_parse(argc, argv, sw, err);
}

static void test_install_forms(void **state)
{
	(void)state;
	struct switches sw;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse("-accepteula -i config.xml", &sw, &err), 0);
	assert_string_equal(sw.action, "i");
	assert_string_equal(sw.value, "config.xml");
	assert_int_equal(parse("-i config.xml -accepteula", &sw, &err), 0);
	assert_string_equal(sw.value, "config.xml");
	/* Case, prefixes and absolute paths (a value may start with '/'). */
	assert_int_equal(parse("/AcceptEula /I /etc/x.xml", &sw, &err), 0);
	assert_string_equal(sw.action, "i");
	assert_string_equal(sw.action_arg, "/I");
	assert_string_equal(sw.value, "/etc/x.xml");
	assert_int_equal(parse("--accepteula --i", &sw, &err), 0);
	assert_string_equal(sw.action, "i");
	assert_null(sw.value);
	assert_int_equal(parse("-i -accepteula", &sw, &err), 0);
	assert_null(sw.value);
	assert_int_equal(parse("-nologo -s all", &sw, &err), 0);
	assert_string_equal(sw.action, "s");
	assert_string_equal(sw.value, "all");
	strbuf_release(&err);
}

static void test_config_and_uninstall_forms(void **state)
{
	(void)state;
	struct switches sw;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse("-c", &sw, &err), 0);
	assert_string_equal(sw.action, "c");
	assert_null(sw.value);
	assert_false(sw.defaults);
	assert_int_equal(parse("-c --", &sw, &err), 0);
	assert_true(sw.defaults);
	assert_null(sw.value);
	assert_int_equal(parse("-C new.xml", &sw, &err), 0);
	assert_string_equal(sw.value, "new.xml");
	assert_int_equal(parse("-u force", &sw, &err), 0);
	assert_string_equal(sw.action, "u");
	assert_string_equal(sw.value, "force");
	strbuf_release(&err);
}

static void test_help(void **state)
{
	(void)state;
	struct switches sw;
	struct strbuf err = STRBUF_INIT;
	const char *forms[] = { "-?", "-h", "-help", "--help", "/?", "-H" };

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		assert_int_equal(parse(forms[i], &sw, &err), 0);
		assert_true(sw.help);
		assert_null(sw.help_topic);
	}
	assert_int_equal(parse("-? config", &sw, &err), 0);
	assert_true(sw.help);
	assert_string_equal(sw.help_topic, "config");
	strbuf_release(&err);
}

/* Each bad line is refused with a message naming the problem. */
static void test_errors(void **state)
{
	(void)state;
	struct switches sw;
	struct strbuf err = STRBUF_INIT;
	static const struct {
		const char *line;
		const char *message;
	} cases[] = {
		{ "-accepteula", "nothing to do" },
		{ "-i -u", "cannot be combined" },
		{ "-i a.xml -c b.xml", "cannot be combined" },
		{ "--", "must be used with -c" },
		{ "-i --", "must be used with -c" },
		{ "-c new.xml --", "Cannot use specific settings" },
		{ "-i a.xml b.xml", "unexpected argument 'b.xml'" },
		{ "-x", "unknown switch '-x'" },
		{ "-iu", "unknown switch" },
		{ "-i -n", "<NetworkConnect>" },
		{ "-c -h md5", "<HashAlgorithms>" },
		{ "-m", "Option not implemented on Linux" },
		{ "-i -d drv", "Option not implemented on Linux" },
		{ "-i -t", "sysmon run" },
		{ "-", "unexpected argument" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].line, &sw, &err) != -1 || !strstr(strbuf_str(&err), cases[i].message))
			fail_msg("'%s': expected an error containing '%s', got '%s'", cases[i].line,
				 cases[i].message, strbuf_str(&err));
	}
	strbuf_release(&err);
}

static void test_classification(void **state)
{
	(void)state;
	assert_true(switches_is_switch("-i"));
	assert_true(switches_is_switch("/i"));
	assert_true(switches_is_switch("--help"));
	assert_false(switches_is_switch("run"));
	assert_false(switches_is_switch("-"));
	assert_false(switches_is_switch(""));
	assert_true(switches_is_action("i"));
	assert_true(switches_is_action("C"));
	assert_true(switches_is_action("s"));
	assert_false(switches_is_action("accepteula"));
	assert_false(switches_is_action("run"));
}

/* The origin record `sysmon -i/-c` leaves next to the config. */
static void test_config_origin(void **state)
{
	(void)state;
	char dir[] = "/tmp/sysmon-test-cli-XXXXXX";
	char config[256], origin_file[300];

	assert_non_null(mkdtemp(dir));
	snprintf(config, sizeof(config), "%s/config.xml", dir);
	snprintf(origin_file, sizeof(origin_file), "%s.origin", config);

	char *origin = service_config_origin(config);

	assert_string_equal(origin, config);   /* nothing recorded: the path itself */
	free(origin);

	FILE *f = fopen(origin_file, "w");

	assert_non_null(f);
	fputs("/home/alice/tutorial.xml\n", f);
	fclose(f);
	origin = service_config_origin(config);
	assert_string_equal(origin, "/home/alice/tutorial.xml");
	free(origin);

	f = fopen(origin_file, "w");
	fclose(f);
	origin = service_config_origin(config);   /* empty record: the path */
	assert_string_equal(origin, config);
	free(origin);

	unlink(origin_file);
	rmdir(dir);
}

/* The init script is valid sh with an LSB header, and refuses unknown
 * actions with the LSB status 3; the unit runs the monitor on the
 * installed files. */
static void test_boot_service_files(void **state)
{
	(void)state;
	char path[] = "/tmp/sysmon-test-init-XXXXXX";
	int fd = mkstemp(path);
	const char *script = service_init_script();
	char command[256];

	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	assert_non_null(strstr(script, "### BEGIN INIT INFO\n# Provides:          sysmon\n"));
	assert_non_null(strstr(script, "# Default-Start:     2 3 4 5\n"));
	assert_non_null(strstr(script, "exec \"$SYSMON\" service \"$1\""));
	snprintf(command, sizeof(command), "sh -n %s", path);
	assert_int_equal(system(command), 0);
	snprintf(command, sizeof(command), "sh %s frobnicate 2>/dev/null", path);
	int status = system(command);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	unlink(path);

	const char *unit = service_systemd_unit();

	assert_non_null(strstr(unit, "\nExecStart=" SERVICE_BIN_PATH " run --config " SERVICE_CONFIG_PATH));
	assert_non_null(strstr(unit, "--pid-file " SERVICE_PID_PATH "\n"));
	assert_non_null(strstr(unit, "\nType=simple\n"));
	assert_non_null(strstr(unit, "\nRestart=on-failure\n"));
	assert_non_null(strstr(unit, "\n[Install]\nWantedBy=multi-user.target\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_forms),
		cmocka_unit_test(test_config_and_uninstall_forms),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_classification),
		cmocka_unit_test(test_config_origin),
		cmocka_unit_test(test_boot_service_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
