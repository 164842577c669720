/*
 * Reading the monitor's status file (JSON, written every second by
 * output/sinks.c) for `sysmon status`: parsed with SQLite's JSON functions,
 * so that SQL stays in src/store.
 */
#ifndef SYSMON_STATUS_FILE_H
#define SYSMON_STATUS_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

struct status_member {
	char *key;
	char *value;                    /* "" if null */
};

struct status_sink {
	char *kind, *name, *state, *target;   /* "?" if absent */
	char *last_error;               /* NULL if absent */
	struct status_member *members;  /* the others, in the file's order */
	size_t nmembers;
};

struct status_report {
	int pid;
	bool running;                   /* as the file says */
	char *updated, *outputs, *log;  /* "?" if absent */
	struct status_sink *sinks;
	size_t nsinks;
};

/* Parse the status document JSON into REPORT; -1 with ERR if it is not one. */
int status_file_parse(const char *json, struct status_report *report, struct strbuf *err);
void status_report_free(struct status_report *report);

#endif
