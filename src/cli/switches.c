/*
 * Parsing Sysmon's switches (see switches.h).  The table lists every switch
 * Sysmon knows, so that the ones this port does not take get a message
 * saying why and what to do instead, rather than a bare usage error.
 */
#include "cli/switches.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

enum switch_kind {
	SWITCH_ACTION,      /* -i -c -u -s: one of them per command line */
	SWITCH_IGNORED,     /* accepted for scripts written for Sysmon */
	SWITCH_WINDOWS,     /* Windows-only Sysmon options */
	SWITCH_CONFIG,      /* config options given on the command line */
	SWITCH_OTHER,       /* Sysmon for Linux options with another form here */
};

struct switch_def {
	const char *name;
	bool optional_value;    /* takes the next argument unless it is a switch */
	enum switch_kind kind;
	const char *instead;    /* for the refused kinds: what to do instead */
};

static const struct switch_def switch_table[] = {
	{ "i", true, SWITCH_ACTION, NULL },
	{ "c", true, SWITCH_ACTION, NULL },
	{ "u", true, SWITCH_ACTION, NULL },
	{ "s", true, SWITCH_ACTION, NULL },
	{ "accepteula", false, SWITCH_IGNORED, NULL },
	{ "nologo", false, SWITCH_IGNORED, NULL },
	{ "m", false, SWITCH_WINDOWS, "there is no event manifest to install on Linux" },
	{ "z", false, SWITCH_WINDOWS, "there is no driver on Linux" },
	{ "d", true, SWITCH_WINDOWS, "there is no driver on Linux" },
	{ "a", true, SWITCH_WINDOWS, "file archiving (FileDelete) keeps no copies on Linux" },
	{ "r", true, SWITCH_WINDOWS, "there are no signatures to check on Linux" },
	{ "h", true, SWITCH_CONFIG, "<HashAlgorithms>" },
	{ "n", true, SWITCH_CONFIG, "<NetworkConnect> rules" },
	{ "l", true, SWITCH_CONFIG, "<ImageLoad> rules" },
	{ "k", true, SWITCH_CONFIG, "<ProcessAccess> rules" },
	{ "g", true, SWITCH_CONFIG, "<PipeEvent> rules" },
	{ "dns", true, SWITCH_CONFIG, "<DnsQuery> rules" },
	{ "t", true, SWITCH_OTHER, "run the monitor in the foreground with: sysmon run --stdout xml" },
	{ "btf", true, SWITCH_OTHER, "the kernel's own BTF (/sys/kernel/btf/vmlinux) is always used" },
	{ "service", false, SWITCH_OTHER, "the service runs: sysmon run (see sysmon service --help)" },
};

bool switches_is_switch(const char *arg)
{
	return (arg[0] == '-' || arg[0] == '/') && arg[1] != '\0';
}

/* The name after the prefix: "-i", "--i" and "/i" all give "i". */
static const char *switch_name(const char *arg)
{
	if (arg[0] == '-' && arg[1] == '-')
		return arg + 2;
	return arg + 1;
}

static const struct switch_def *find_switch(const char *name)
{
	for (size_t i = 0; i < sizeof(switch_table) / sizeof(switch_table[0]); i++)
		if (strcasecmp(name, switch_table[i].name) == 0)
			return &switch_table[i];
	return NULL;
}

bool switches_is_action(const char *name)
{
	const struct switch_def *def = find_switch(name);

	return def && def->kind == SWITCH_ACTION;
}

static bool is_help(const char *name)
{
	return name[0] == '?' || strcasecmp(name, "h") == 0 || strcasecmp(name, "help") == 0;
}

int switches_parse(int argc, char **argv, struct switches *out, struct strbuf *err)
{
	memset(out, 0, sizeof(*out));
	if (argc < 2) {
		strbuf_puts(err, "no switch given");
		return -1;
	}
	/* Help only as the first argument: elsewhere -h is HashAlgorithms. */
	if (switches_is_switch(argv[1]) && strcmp(argv[1], "--") != 0 && is_help(switch_name(argv[1]))) {
		out->help = true;
		out->help_topic = argc > 2 ? argv[2] : NULL;
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			out->defaults = true;
			continue;
		}
		if (!switches_is_switch(arg)) {
			strbuf_printf(err, "unexpected argument '%s': every argument is a switch "
				      "(-i, -c, -u, -s, ...) or a switch's value", arg);
			return -1;
		}
		const struct switch_def *def = find_switch(switch_name(arg));

		if (!def) {
			strbuf_printf(err, "unknown switch '%s'", arg);
			return -1;
		}
		const char *value = NULL;

		if (def->optional_value && i + 1 < argc && argv[i + 1][0] != '-')
			value = argv[++i];
		switch (def->kind) {
		case SWITCH_ACTION:
			if (out->action) {
				strbuf_printf(err, "%s and %s cannot be combined: give one of -i, -c, -u and -s",
					      out->action_arg, arg);
				return -1;
			}
			out->action = def->name;
			out->action_arg = arg;
			out->value = value;
			break;
		case SWITCH_IGNORED:
			break;
		case SWITCH_WINDOWS:
			strbuf_printf(err, "Option not implemented on Linux: %s (%s).", arg, def->instead);
			return -1;
		case SWITCH_CONFIG:
			strbuf_printf(err, "%s sets a config option on the command line, which this sysmon "
				      "does not take: write %s in the configuration file instead "
				      "(sysmon -? config)", arg, def->instead);
			return -1;
		case SWITCH_OTHER:
			strbuf_printf(err, "%s is not needed here: %s", arg, def->instead);
			return -1;
		}
	}
	if (out->defaults) {
		if (!out->action || strcmp(out->action, "c") != 0) {
			strbuf_puts(err, "The '--' switch must be used with -c switch (config update) "
				    "to set defaults.");
			return -1;
		}
		if (out->value) {
			strbuf_puts(err, "Cannot use specific settings with enforcing defaults.");
			return -1;
		}
	}
	if (!out->action) {
		strbuf_puts(err, "nothing to do: give one of -i, -c, -u and -s");
		return -1;
	}
	return 0;
}
