/*
 * Unit tests for the parsing of Sysmon's switches (cli/switches.c), the
 * service helpers that need no root (service/service.c: the config origin
 * record read by the monitor for event 16, the boot service files) and
 * `sysmon config test` (cli/cmd_config.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
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
	assert_non_null(strstr(unit, "--pid-file " SERVICE_PID_PATH " --bpf-pins " SERVICE_BPF_PINS "\n"));
	assert_non_null(strstr(unit, "\nType=simple\n"));
	assert_non_null(strstr(unit, "\nRestart=on-failure\n"));
	assert_non_null(strstr(unit, "\n[Install]\nWantedBy=multi-user.target\n"));
}

/* `sysmon config test FILE` with INPUT on stdin, in a child process; its
 * stdout into OUT (at most SIZE - 1 bytes), its exit status returned. */
static int run_config_test(const char *config_path, const char *input, char *out, size_t size)
{
	char in_path[] = "/tmp/sysmon-test-cli-in-XXXXXX";
	int in_fd = mkstemp(in_path), pipe_fd[2], status;

	assert_true(in_fd >= 0);
	unlink(in_path);
	assert_int_equal(write(in_fd, input, strlen(input)), (ssize_t)strlen(input));
	assert_int_equal(lseek(in_fd, 0, SEEK_SET), 0);
	assert_int_equal(pipe(pipe_fd), 0);
	fflush(stdout);

	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		char *argv[] = { "config", "test", (char *)config_path, NULL };

		dup2(in_fd, 0);
		dup2(pipe_fd[1], 1);
		_exit(cmd_config(3, argv));
	}
	close(in_fd);
	close(pipe_fd[1]);

	size_t len = 0;
	ssize_t n;

	while (len < size - 1 && (n = read(pipe_fd[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(pipe_fd[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* For each event: logged or not, and the deciding rule's name, also when
 * it is the exclude rule that dropped the event. */
static void test_config_test(void **state)
{
	(void)state;
	static const char xml[] =
		"<Sysmon schemaversion=\"4.22\"><EventFiltering>\n"
		"<RuleGroup name=\"quiet\" groupRelation=\"or\"><ProcessCreate onmatch=\"exclude\">"
		"<Image condition=\"end with\">/true</Image></ProcessCreate></RuleGroup>\n"
		"<RuleGroup groupRelation=\"or\"><NetworkConnect onmatch=\"include\">"
		"<DestinationPort name=\"web\">443</DestinationPort></NetworkConnect>"
		"<NetworkConnect onmatch=\"exclude\"><Image>/usr/bin/apt</Image></NetworkConnect></RuleGroup>\n"
		"</EventFiltering></Sysmon>\n";
	char path[] = "/tmp/sysmon-test-cli-config-XXXXXX";
	int fd = mkstemp(path);
	char out[1024];

	assert_true(fd >= 0);
	assert_int_equal(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
	close(fd);

	assert_int_equal(run_config_test(path,
					 "{\"EventID\":1,\"Image\":\"/usr/bin/true\"}\n"
					 "{\"EventID\":1,\"Image\":\"/usr/bin/ls\"}\n"
					 "{\"EventID\":3,\"Image\":\"/usr/bin/curl\",\"DestinationPort\":\"443\"}\n"
					 "{\"EventID\":3,\"Image\":\"/usr/bin/apt\",\"DestinationPort\":\"443\"}\n"
					 "{\"EventID\":3,\"Image\":\"/usr/bin/curl\",\"DestinationPort\":\"80\"}\n",
					 out, sizeof(out)), 0);
	assert_string_equal(out,
			    "{\"logged\":false,\"RuleName\":\"quiet\"}\n"
			    "{\"logged\":true,\"RuleName\":\"-\"}\n"
			    "{\"logged\":true,\"RuleName\":\"web\"}\n"
			    "{\"logged\":false,\"RuleName\":\"-\"}\n"
			    "{\"logged\":false,\"RuleName\":\"-\"}\n");
	unlink(path);
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
		cmocka_unit_test(test_config_test),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
