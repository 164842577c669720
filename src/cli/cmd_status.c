/*
 * `sysmon status [--json] [--file PATH]`: the state of each output of the
 * running monitor (syslog, forwarders, JSON lines): connected or not, the
 * forwarder's cursor and backlog, the last error.  The monitor rewrites a
 * status file every second (output/sinks.c); this reads it
 * (store/status_file.c) and checks that the monitor that wrote it still runs.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "output/outputs_config.h"
#include "output/sinks.h"
#include "store/status_file.h"
#include "util/strbuf.h"

#define MAX_STATUS_BYTES (4u << 20)

static int read_file(const char *path, struct strbuf *text)
{
	FILE *f = fopen(path, "re");
	char chunk[4096];
	size_t n;

	if (!f)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && text->len < MAX_STATUS_BYTES)
		strbuf_append(text, chunk, n);
	fclose(f);
	return 0;
}

/* The status file named by outputs.conf (or the default). */
static char *status_path_from_outputs(void)
{
	const char *path = getenv(SINKS_CONFIG_ENV);
	struct strbuf err = STRBUF_INIT;
	struct outputs_config *config;

	if (!path || !*path)
		path = SINKS_DEFAULT_CONFIG;
	config = outputs_config_load(path, &err);
	strbuf_release(&err);
	char *status = xstrdup(config ? config->status_path : SINKS_DEFAULT_STATUS);
	outputs_config_free(config);
	return status;
}

/* Print the document's top level and one paragraph per sink. */
static int print_status(const char *json)
{
	struct status_report report;
	struct strbuf err = STRBUF_INIT;

	if (status_file_parse(json, &report, &err) < 0) {
		fprintf(stderr, "sysmon status: %s\n", strbuf_str(&err));
		strbuf_release(&err);
		return EXIT_FAILURE_RUN;
	}
	strbuf_release(&err);
	int pid = report.pid;
	bool running = report.running && pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);

	printf("monitor: %s (pid %d), status of %s\n", running ? "running" : "not running", pid,
	       report.updated);
	printf("outputs: %s\nevent log: %s\n", report.outputs, report.log);
	for (size_t i = 0; i < report.nsinks; i++) {
		const struct status_sink *s = &report.sinks[i];

		printf("\n%s %s: %s, %s\n", s->kind, s->name, s->state, s->target);
		printf(" ");
		for (size_t m = 0; m < s->nmembers; m++)
			printf(" %s=%s", s->members[m].key, s->members[m].value);
		printf("\n");
		if (s->last_error && *s->last_error)
			printf("  last error: %s\n", s->last_error);
	}
	if (report.nsinks == 0)
		printf("\nno outputs besides the event log\n");
	status_report_free(&report);
	return running ? EXIT_OK : EXIT_FAILURE_RUN;
}

int cmd_status(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *path = NULL;
	bool raw = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:jh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			free(path);
			path = xstrdup(optarg);
			break;
		case 'j':
			raw = true;
			break;
		case 'h':
			printf("usage: sysmon status [--json] [--file PATH]\n"
			       "The state of each output of the running monitor (status file: the\n"
			       "status_file of outputs.conf, default " SINKS_DEFAULT_STATUS ").\n");
			free(path);
			return EXIT_OK;
		default:
			free(path);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sysmon status: unexpected argument '%s'\n", argv[optind]);
		free(path);
		return EXIT_USAGE;
	}
	if (!path)
		path = status_path_from_outputs();

	struct strbuf text = STRBUF_INIT;
	int status;
	if (read_file(path, &text) != 0) {
		fprintf(stderr, "sysmon status: cannot read %s: %s (is the monitor running?)\n", path,
			strerror(errno));
		status = EXIT_FAILURE_RUN;
	} else if (raw) {
		fputs(strbuf_str(&text), stdout);
		status = EXIT_OK;
	} else {
		status = print_status(strbuf_str(&text));
	}
	strbuf_release(&text);
	free(path);
	return status;
}
