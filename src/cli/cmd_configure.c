/*
 * `sysmon -c [CONFIG | --]`: without a value, print the active
 * configuration as Sysmon does (service lines, then the rules as
 * config_dump() writes them); with CONFIG, validate it, install it
 * atomically and have the running monitor reload it (SIGHUP), waiting for
 * the monitor's event 16 as the confirmation; with `--`, the same with the
 * default configuration.  An invalid CONFIG changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "config/config.h"
#include "rules/rules.h"
#include "schema/schema.h"
#include "service/service.h"
#include "service/version.h"

#define RELOAD_TIMEOUT_MS 2000

static const char not_installed[] =
	"Sysmon is not installed: there is no active configuration.\n"
	"Install it with: sysmon -accepteula -i [CONFIG]\n";

/* One " - Label:    value" line, the label padded to 34 columns as Sysmon's. */
static void print_setting(const char *label, const char *value)
{
	char padded[64];

	snprintf(padded, sizeof(padded), " - %s:", label);
	printf("%-34s%s\n", padded, value);
}

static const char *enabled(bool on)
{
	return on ? "enabled" : "disabled";
}

static int print_active_config(void)
{
	struct service_state state;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;

	if (!service_require_root("read the installed configuration"))
		return EXIT_NOT_ROOT;
	service_probe(&state);
	if (!state.config) {
		fputs(not_installed, stderr);
		return EXIT_FAILURE_RUN;
	}

	struct sysmon_config *config = config_load_file(SERVICE_CONFIG_PATH, &err);

	if (!config) {
		fprintf(stderr, "sysmon: the installed configuration cannot be loaded: %s\n"
			"A running monitor keeps the configuration it loaded last; install a valid one "
			"with sysmon -c CONFIG.\n", strbuf_str(&err));
		strbuf_release(&err);
		return EXIT_FAILURE_RUN;
	}

	char *origin = service_config_origin(SERVICE_CONFIG_PATH);

	printf("\nsysmon v%s - Monitors system events (Sysmon-compatible, for Linux)\n\n", SYSMON_VERSION);
	printf("Current configuration:\n");
	print_setting("Service name", SERVICE_NAME);
	print_setting("Config file", origin);
	strbuf_printf(&text, "SHA256=%s", config->sha256);
	print_setting("Config hash", text.data);
	strbuf_reset(&text);
	config_hash_algorithms_text(config->hash_algorithms, &text);
	print_setting("HashingAlgorithms", strbuf_str(&text));
	print_setting("Network connection", enabled(rules_may_log(config->rules, 3)));
	print_setting("Image loading", enabled(rules_may_log(config->rules, 7)));
	print_setting("CRL checking", enabled(false));   /* no signatures on Linux */
	print_setting("DNS lookup", enabled(config->dns_lookup));
	strbuf_reset(&text);
	if (state.pid)
		strbuf_printf(&text, "running (pid %ld)", (long)state.pid);
	else if (state.stale_pid)
		strbuf_printf(&text, "NOT running: pid %ld ended without stopping cleanly "
			      "(start it: sysmon service start)", (long)state.stale_pid);
	else
		strbuf_puts(&text, "not running (start it: sysmon service start)");
	print_setting("Monitor", text.data);
	config_dump(stdout, config);

	free(origin);
	config_free(config);
	strbuf_release(&text);
	return EXIT_OK;
}

static int update_config(const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct service_state state;
	char *data = NULL;
	size_t len;
	int status = EXIT_OK;

	if (path) {
		struct sysmon_config *config = service_load_config(path, &data, &len, &err);
		char version[16];

		if (!config) {
			fprintf(stderr, "%s\n", strbuf_str(&err));
			strbuf_release(&err);
			return EXIT_USAGE;
		}
		printf("Loading configuration file with schema version %s\n",
		       schema_version_text(config->schema_version, version));
		for (size_t i = 0; i < config->nwarnings; i++)
			fprintf(stderr, "warning: %s\n", config->warnings[i]);
		printf("Configuration file validated.\n");
		config_free(config);
	}
	if (!service_require_root("change the configuration")) {
		free(data);
		return EXIT_NOT_ROOT;
	}
	service_probe(&state);
	if (!service_installed(&state)) {
		fputs(not_installed, stderr);
		free(data);
		return EXIT_FAILURE_RUN;
	}
	if (!path) {
		printf("Updating configuration to use all defaults.\n");
		data = xstrdup(SERVICE_DEFAULT_CONFIG);
		len = strlen(data);
	}
	if (service_write_config(data, len, path ? path : SERVICE_ORIGIN_DEFAULTS, &err) < 0) {
		fprintf(stderr, "sysmon: cannot install the configuration: %s\n", strbuf_str(&err));
		free(data);
		strbuf_release(&err);
		return EXIT_FAILURE_RUN;
	}
	free(data);
	if (!state.pid) {
		printf("Configuration updated.\nThe monitor is not running: it will use this configuration "
		       "when it starts (sysmon service start).\n");
		return EXIT_OK;
	}
	switch (service_reload(state.pid, RELOAD_TIMEOUT_MS, &err)) {
	case 0:
		printf("Configuration updated.\n");
		break;
	case 1:
		fprintf(stderr, "sysmon: the configuration file is updated, but the monitor (pid %ld) has not "
			"confirmed it within %d ms (no new event 16 in %s); see %s\n", (long)state.pid,
			RELOAD_TIMEOUT_MS, SERVICE_EVENTLOG_PATH, SERVICE_DAEMON_LOG_PATH);
		status = EXIT_FAILURE_RUN;
		break;
	default:
		fprintf(stderr, "sysmon: the configuration file is updated, but %s\n", strbuf_str(&err));
		status = EXIT_FAILURE_RUN;
		break;
	}
	strbuf_release(&err);
	return status;
}

int cmd_configure(int argc, char **argv)
{
	if (argc < 2)
		return print_active_config();
	if (strcmp(argv[1], "--") == 0)
		return update_config(NULL);
	return update_config(argv[1]);
}
