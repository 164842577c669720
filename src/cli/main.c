/*
 * sysmon: entry point.  Maps Sysmon's switches (-i, -c, -u, -s, ...) and our
 * subcommands (run, config, log, query, ...) onto the commands of cli/.
 *
 * A first argument that starts with `-`, `--` or `/` means Sysmon's switch
 * syntax (switches.c): names case-insensitive, in any order, with
 * -accepteula and -nologo accepted and ignored; the one action switch found
 * (-i, -c, -u or -s) runs its command with the normalised argv
 * { "-i", [value] } (`-c --` gives { "-c", "--" }).  A first argument that
 * is a word is a subcommand, which gets the rest of the command line as is.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/commands.h"
#include "cli/switches.h"
#include "output/forward_proc.h"
#include "schema/schema.h"
#include "service/version.h"
#include "util/strbuf.h"

struct command {
	const char *name;   /* a subcommand, or an action switch without its dash */
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "i", cmd_install, "-accepteula -i [CONFIG] install: copy the program and CONFIG (default: no rules),\n"
	                    "                          start monitoring now and at every boot" },
	{ "c", cmd_configure, "-c [CONFIG | --]        print the active configuration; with CONFIG, validate it\n"
	                    "                          and apply it live; with --, use the default configuration" },
	{ "u", cmd_uninstall, "-u [force|upgrade]      uninstall: stop monitoring, remove the service, program\n"
	                    "                          and config (the event log stays); force: a broken install too;\n"
	                    "                          upgrade: force, and capture goes on for the next -i" },
	{ "s", cmd_schema, "-s [version|all]        print the event schema (manifest)" },
	{ "config", cmd_config, "config check|test|dump FILE   validate a config, decide test events, print its rules" },
	{ "run", cmd_run, "run [--config FILE] [--stdout xml|json] [--log PATH]   monitor in the foreground" },
	{ "log", cmd_log, "log info|set --max-size N|clear|export FILE   the event log (wevtutil: gl, sl /ms:N, cl, epl, qe)" },
	{ "query", cmd_query, "query [--event N] [--where ...] [--count-by F] ...   read the event log (--help)" },
	{ "status", cmd_status, "status [--json]         state of the outputs: syslog, forwarders (cursor, backlog), JSON files" },
	{ "outputs", cmd_outputs, "outputs check [FILE] | show | apply FILE   validate, print or apply (live) outputs.conf" },
	{ "service", cmd_service, "service ACTION          control the installed monitor (what the init script calls):\n"
	                    "                          start, stop, restart, reload or status" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name, bool action)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcasecmp(name, commands[i].name) == 0 &&
		    switches_is_action(commands[i].name) == action)
			return &commands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"sysmon v%s - Monitors system events (Sysmon-compatible, for Linux)\n\n"
		"Usage:\n"
		"  sysmon -accepteula -i [CONFIG] | -c [CONFIG | --] | -u [force] | -s [version|all]\n"
		"  sysmon COMMAND [ARGUMENTS]\n\n"
		"Sysmon's switches (case-insensitive; -, -- or / in front, as on Windows):\n",
		SYSMON_VERSION);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (switches_is_action(commands[i].name))
			fprintf(out, "  %s\n", commands[i].help);
	fprintf(out,
		"  -accepteula, -nologo    accepted and ignored (there is no EULA to accept)\n"
		"  -? [config]             this help; with config, the configuration file's syntax\n"
		"\nCommands (Linux additions):\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!switches_is_action(commands[i].name))
			fprintf(out, "  %s\n", commands[i].help);
	fprintf(out,
		"\nConfig options Sysmon takes as switches (-h, -n, -l, -k, -g, -dns) are written in\n"
		"the configuration file instead; see sysmon(8) for the files and the differences\n"
		"from Sysmon.\n"
		"\nExit status: %d success, %d run-time failure, %d usage or configuration error,\n"
		"%d not run as root.\n",
		EXIT_OK, EXIT_FAILURE_RUN, EXIT_USAGE, EXIT_NOT_ROOT);
}

/* `sysmon -? config`: the configuration file's syntax, from the schema
 * catalogue (what Sysmon's configuration help lists). */
static void config_usage(FILE *out)
{
	char version[16];

	fprintf(out,
		"Configuration file (schema %s; any 4.x from 4.0 to 4.90 is accepted):\n\n"
		"<Sysmon schemaversion=\"%s\">\n"
		"  <HashAlgorithms>sha256</HashAlgorithms>\n"
		"  <EventFiltering>\n"
		"    <RuleGroup name=\"\" groupRelation=\"or\">\n"
		"      <ProcessCreate onmatch=\"include\">\n"
		"        <Image condition=\"end with\">/curl</Image>\n"
		"        <Rule name=\"downloads\" groupRelation=\"and\">\n"
		"          <Image condition=\"end with\">/wget</Image>\n"
		"          <CommandLine condition=\"contains any\">http://;https://</CommandLine>\n"
		"        </Rule>\n"
		"      </ProcessCreate>\n"
		"    </RuleGroup>\n"
		"  </EventFiltering>\n"
		"</Sysmon>\n\n"
		"Options (elements under <Sysmon>):\n",
		schema_version_text(SCHEMA_LINUX, version), schema_version_text(SCHEMA_LINUX, version));
	for (size_t i = 0; i < schema_option_count(); i++) {
		const struct schema_option *option = schema_option_at(i);

		if (option->config_element && !option->internal)
			fprintf(out, "  %s%s\n", option->name, option->rule ? "Config" : "");
	}
	fprintf(out, "\nEvent elements (under <EventFiltering>, onmatch=\"include\" or \"exclude\"):\n");
	for (size_t i = 0; i < schema_tag_count(); i++) {
		const struct schema_event *events[8];
		size_t n = schema_tag_events(schema_tag_at(i), events, 8);
		bool linux_meaning = false;

		for (size_t j = 0; j < n && j < 8; j++)
			linux_meaning |= !events[j]->windows_only;
		if (linux_meaning)
			fprintf(out, "  %s\n", schema_tag_at(i));
		else
			fprintf(out, "  %-24sWindows only: accepted, never logged\n", schema_tag_at(i));
	}
	fprintf(out, "\nConditions:\n");
	for (size_t i = 0; i < SCHEMA_CONDITION_COUNT; i++)
		fprintf(out, "  %s\n", schema_conditions[i]);
	fprintf(out, "\nThe fields of each event: sysmon -s.  Check a file: sysmon config check FILE.\n");
}

static int run_switches(int argc, char **argv)
{
	struct switches sw;
	struct strbuf err = STRBUF_INIT;

	if (switches_parse(argc, argv, &sw, &err) < 0) {
		fprintf(stderr, "sysmon: %s\n(sysmon -? lists the switches)\n", strbuf_str(&err));
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	strbuf_release(&err);
	if (sw.help) {
		if (sw.help_topic && (strcasecmp(sw.help_topic, "config") == 0 ||
				      strcasecmp(sw.help_topic, "configuration") == 0))
			config_usage(stdout);
		else
			usage(stdout);
		return EXIT_OK;
	}
	const struct command *command = find_command(sw.action, true);

	if (!command) {
		fprintf(stderr, "sysmon: %s is not available in this build\n", sw.action_arg);
		return EXIT_USAGE;
	}
	char *command_argv[3] = { (char *)sw.action_arg, NULL, NULL };
	int command_argc = 1;

	if (sw.value)
		command_argv[command_argc++] = (char *)sw.value;
	else if (sw.defaults)
		command_argv[command_argc++] = "--";
	return command->run(command_argc, command_argv);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (switches_is_switch(argv[1]))
		return run_switches(argc, argv);
	/* not a command for users: the monitor's forwarders' process */
	if (strcmp(argv[1], "forwarders") == 0)
		return forward_proc_child_main();
	if (strcasecmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	const struct command *command = find_command(argv[1], false);

	if (command)
		return command->run(argc - 1, argv + 1);
	fprintf(stderr, "sysmon: unknown command '%s' (sysmon -? lists the switches and commands)\n",
		argv[1]);
	return EXIT_USAGE;
}
