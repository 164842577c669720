/*
 * `sysmon status [--json] [--file PATH]`: the state of each output of the
 * running monitor (syslog, forwarders, JSON lines): connected or not, the
 * forwarder's cursor and backlog, the last error.  The monitor rewrites a
 * status file every second (output/sinks.c); this reads it with SQLite's
 * JSON functions and checks that the monitor that wrote it still runs.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cli/commands.h"
#include "output/outputs_config.h"
#include "output/sinks.h"
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
static int print_status(sqlite3 *db, const char *json)
{
	sqlite3_stmt *top, *sinks, *fields;
	const char *sql_top = "SELECT json_extract(?1, '$.pid'), json_extract(?1, '$.running'),"
			      " json_extract(?1, '$.updated'), json_extract(?1, '$.outputs'),"
			      " json_extract(?1, '$.log')";
	const char *sql_sinks = "SELECT value FROM json_each(?1, '$.sinks')";
	const char *sql_fields = "SELECT key, value FROM json_each(?1)"
				 " WHERE key NOT IN ('kind', 'name', 'state', 'target', 'last_error')";

	if (sqlite3_prepare_v2(db, sql_top, -1, &top, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(top, 1, json, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(top) != SQLITE_ROW) {
		fprintf(stderr, "sysmon status: the status file is not valid: %s\n", sqlite3_errmsg(db));
		sqlite3_finalize(top);
		return EXIT_FAILURE_RUN;
	}
	int pid = sqlite3_column_int(top, 0);
	bool running = sqlite3_column_int(top, 1) && pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
	printf("monitor: %s (pid %d), status of %s\n", running ? "running" : "not running", pid,
	       (const char *)sqlite3_column_text(top, 2) ?: "?");
	printf("outputs: %s\nevent log: %s\n", (const char *)sqlite3_column_text(top, 3) ?: "?",
	       (const char *)sqlite3_column_text(top, 4) ?: "?");
	sqlite3_finalize(top);

	if (sqlite3_prepare_v2(db, sql_sinks, -1, &sinks, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql_fields, -1, &fields, NULL) != SQLITE_OK) {
		fprintf(stderr, "sysmon status: %s\n", sqlite3_errmsg(db));
		sqlite3_finalize(sinks);
		return EXIT_FAILURE_RUN;
	}
	sqlite3_bind_text(sinks, 1, json, -1, SQLITE_STATIC);
	bool any = false;
	while (sqlite3_step(sinks) == SQLITE_ROW) {
		const char *sink = (const char *)sqlite3_column_text(sinks, 0);
		sqlite3_stmt *head;
		any = true;
		if (sqlite3_prepare_v2(db, "SELECT json_extract(?1, '$.kind'), json_extract(?1, '$.name'),"
				       " json_extract(?1, '$.state'), json_extract(?1, '$.target'),"
				       " json_extract(?1, '$.last_error')", -1, &head, NULL) != SQLITE_OK)
			break;
		sqlite3_bind_text(head, 1, sink, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(head) == SQLITE_ROW) {
			const char *kind = (const char *)sqlite3_column_text(head, 0) ?: "?";
			const char *name = (const char *)sqlite3_column_text(head, 1) ?: "?";
			const char *error = (const char *)sqlite3_column_text(head, 4);
			printf("\n%s %s: %s, %s\n", kind, name,
			       (const char *)sqlite3_column_text(head, 2) ?: "?",
			       (const char *)sqlite3_column_text(head, 3) ?: "?");
			sqlite3_reset(fields);
			sqlite3_bind_text(fields, 1, sink, -1, SQLITE_TRANSIENT);
			printf(" ");
			while (sqlite3_step(fields) == SQLITE_ROW)
				printf(" %s=%s", (const char *)sqlite3_column_text(fields, 0),
				       (const char *)sqlite3_column_text(fields, 1) ?: "");
			printf("\n");
			if (error && *error)
				printf("  last error: %s\n", error);
		}
		sqlite3_finalize(head);
	}
	if (!any)
		printf("\nno outputs besides the event log\n");
	sqlite3_finalize(sinks);
	sqlite3_finalize(fields);
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
		sqlite3 *db;
		if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
			fprintf(stderr, "sysmon status: sqlite: %s\n", sqlite3_errmsg(db));
			status = EXIT_FAILURE_RUN;
		} else {
			status = print_status(db, strbuf_str(&text));
		}
		sqlite3_close(db);
	}
	strbuf_release(&text);
	free(path);
	return status;
}
