/*
 * sysmon: entry point.  Maps Sysmon's switches (-i, -c, -u, -s, ...) and our
 * subcommands (run, config, log, query, ...) onto the commands of cli/.
 * Sysmon switches are matched case-insensitively, with one or two leading
 * dashes or a slash, as Windows admins type them.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/commands.h"

struct command {
	const char *name;   /* a subcommand, or a switch without its dash */
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "s", cmd_schema, "-s [version|all]        print the event schema (manifest)" },
	{ "config", cmd_config, "config check|test|dump FILE   validate a config, decide test events, print its rules" },
	{ "run", cmd_run, "run [--config FILE] [--stdout xml|json] [--log PATH]   monitor in the foreground" },
};

static const char *switch_name(const char *arg)
{
	if (arg[0] == '-' && arg[1] == '-' && arg[2])
		return arg + 2;
	if (arg[0] == '-' || arg[0] == '/')
		return arg + 1;
	return arg;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: sysmon <switch or command> [arguments]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = switch_name(argv[1]);
	if (strcmp(name, "?") == 0 || strcasecmp(name, "h") == 0 || strcasecmp(name, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcasecmp(name, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sysmon: unknown switch or command '%s' (try sysmon -?)\n", argv[1]);
	return EXIT_USAGE;
}
