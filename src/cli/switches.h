/*
 * Sysmon's command-line switches (compatibility spec 4.1-4.2), parsed the
 * way Windows and Linux admins type them: case-insensitive names after `-`,
 * `--` or `/`, in any order (`-accepteula -i config.xml`), an optional value
 * taken from the next argument unless that is a switch.  main.c uses the
 * result to call one command of its table with a normalised argv
 * { "-i", [value] }; subcommands (`sysmon run ...`) bypass this parser.
 */
#ifndef SYSMON_SWITCHES_H
#define SYSMON_SWITCHES_H

#include <stdbool.h>

#include "util/strbuf.h"

struct switches {
	bool help;               /* -?, -h, -help or --help as the first argument */
	const char *help_topic;  /* the argument after it ("config"), NULL if none */
	const char *action;      /* "i", "c", "u" or "s"; NULL with help */
	const char *action_arg;  /* that switch as typed ("-I", "/c") */
	const char *value;       /* its value, NULL if none */
	bool defaults;           /* `--`: reset the config to the defaults (only with -c) */
};

/* Does ARG look like a switch (`-x`, `--x`, `/x`) rather than a word? */
bool switches_is_switch(const char *arg);
/* Is NAME (without prefix) one of the exclusive action switches -i -c -u -s? */
bool switches_is_action(const char *name);

/* Parse ARGV[1..ARGC-1].  Returns 0, or -1 with one message in ERR (the
 * caller prints it and exits 87, Sysmon's status for usage errors). */
int switches_parse(int argc, char **argv, struct switches *out, struct strbuf *err);

#endif
