/*
 * `sysmon outputs check [FILE] | show`: validate an outputs.conf (with the
 * parser the monitor uses, so a file that passes here loads there) and
 * print what it configures.  The running monitor re-reads outputs.conf on
 * SIGHUP (`sysmon service reload`, or `sysmon -c` with a config).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "output/outputs_config.h"
#include "output/sinks.h"
#include "util/strbuf.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: sysmon outputs check [FILE]   validate FILE (default: the active outputs.conf)\n"
		     "       sysmon outputs show           print the active outputs\n"
		     "The active file is $" SINKS_CONFIG_ENV " or " SINKS_DEFAULT_CONFIG
		     "; see docs/outputs.md.\n");
}

int cmd_outputs(int argc, char **argv)
{
	const char *active = getenv(SINKS_CONFIG_ENV);
	bool explicit_file = argc >= 3;

	if (!active || !*active)
		active = SINKS_DEFAULT_CONFIG;
	if (argc < 2 || (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "show") != 0) ||
	    (strcmp(argv[1], "show") == 0 && argc != 2) || argc > 3) {
		if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			usage(stdout);
			return EXIT_OK;
		}
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *path = explicit_file ? argv[2] : active;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	struct outputs_config *config;

	if (!explicit_file && strcmp(path, SINKS_DEFAULT_CONFIG) == 0 && access(path, F_OK) != 0) {
		config = outputs_config_default();
	} else {
		config = outputs_config_load(path, &err);
	}
	if (!config) {
		fprintf(stderr, "sysmon outputs: %s\n", strbuf_str(&err));
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	outputs_config_describe(config, &text);
	fputs(strbuf_str(&text), stdout);
	if (strcmp(argv[1], "check") == 0)
		printf("%s: valid\n", config->path ? config->path : "defaults");
	outputs_config_free(config);
	strbuf_release(&text);
	strbuf_release(&err);
	return EXIT_OK;
}
