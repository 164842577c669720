/*
 * `sysmon log`: administer the event log (store/eventlog.h).
 *
 *   sysmon log info   [--log PATH]             records, first/last id and time, size, bound
 *   sysmon log set    --max-size BYTES [--log PATH]
 *   sysmon log clear  [--backup FILE] [--log PATH]
 *   sysmon log export FILE [--format xml|json|db] [--log PATH]
 *
 * and wevtutil's verbs for Windows admins, a channel name allowed as first
 * argument (Microsoft-Windows-Sysmon/Operational; ignored):
 *   gl (info, in wevtutil's layout), sl /ms:BYTES (set), cl [/bu:FILE]
 *   (clear), epl FILE (export, a copy of the log as SQLite by default),
 *   qe ... (`sysmon query`).
 *
 * A new bound is stored in the log itself: a running monitor applies it at
 * its next flush; this command applies it at once as well.  BYTES may end in
 * K, M or G (KiB, MiB, GiB).  Exit status: 0; 87 bad arguments; 1 when the
 * log cannot be read or written.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "output/format.h"
#include "store/eventlog.h"
#include "store/query.h"
#include "util/units.h"
#include "util/strbuf.h"

struct log_args {
	const char *log_path;
	const char *max_size;
	const char *backup;
	const char *format;
	const char *file;               /* export target */
	bool wevtutil;                  /* called by a wevtutil verb */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysmon log info|gl [--log PATH]\n"
		"       sysmon log set --max-size BYTES [--log PATH]     (sl [CHANNEL] /ms:BYTES)\n"
		"       sysmon log clear [--backup FILE] [--log PATH]    (cl [CHANNEL] [/bu:FILE])\n"
		"       sysmon log export FILE [--format xml|json|db] [--log PATH]   (epl [CHANNEL] FILE)\n"
		"       sysmon log qe [QUERY OPTIONS]                    (same as sysmon query)\n"
		"  default log: %s, default bound %llu bytes\n",
		EVENTLOG_DEFAULT_PATH, EVENTLOG_DEFAULT_MAX_SIZE);
}

static int parse_args(int argc, char **argv, struct log_args *a, struct strbuf *err)
{
	/* Options that take a value, as "--name VALUE" or "--name=VALUE". */
	const struct { const char *name; const char **slot; } valued[] = {
		{ "--log", &a->log_path }, { "--max-size", &a->max_size },
		{ "--backup", &a->backup }, { "--format", &a->format },
	};

	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];
		bool matched = false;

		for (size_t o = 0; o < sizeof(valued) / sizeof(valued[0]) && !matched; o++) {
			size_t len = strlen(valued[o].name);

			if (strncmp(arg, valued[o].name, len) != 0 || (arg[len] != '\0' && arg[len] != '='))
				continue;
			matched = true;
			if (arg[len] == '=') {
				*valued[o].slot = arg + len + 1;
			} else if (i + 1 < argc) {
				*valued[o].slot = argv[++i];
			} else {
				strbuf_printf(err, "%s needs a value", arg);
				return -1;
			}
		}
		if (matched)
			continue;
		if (!strncasecmp(arg, "/ms:", 4) || !strncasecmp(arg, "/maxsize:", 9)) {
			a->max_size = strchr(arg, ':') + 1;
		} else if (!strncasecmp(arg, "/bu:", 4) || !strncasecmp(arg, "/backup:", 8)) {
			a->backup = strchr(arg, ':') + 1;
		} else if (!strncasecmp(arg, "/ow:", 4) || !strncasecmp(arg, "/lf:", 4)) {
			continue;   /* wevtutil switches with no meaning here */
		} else if (a->wevtutil && i == 2 && arg[0] != '-' && arg[0] != '/' && strcasestr(arg, "sysmon")) {
			continue;   /* the channel name */
		} else if (arg[0] != '-' && !a->file) {
			a->file = arg;
		} else {
			strbuf_printf(err, "unknown argument '%s'", arg);
			return -1;
		}
	}
	return 0;
}

/* At most INT64_MAX: the event log keeps the maximum in an SQLite integer. */
static int parse_size(const char *text, uint64_t *bytes, struct strbuf *err)
{
	if (size_parse(text, bytes) < 0 || *bytes > INT64_MAX) {
		strbuf_printf(err, "'%s' is not a size in bytes (e.g. 100000000, 64M, 1G)", text);
		return -1;
	}
	return 0;
}

static void print_time(FILE *out, int64_t ns)
{
	char buf[48];

	fputs(ns ? event_format_systemtime(ns, buf) : "-", out);
}

static int do_info(const struct log_args *a, struct strbuf *err)
{
	struct eventlog *log = eventlog_open_readonly(a->log_path, err);
	struct eventlog_info info;

	if (!log)
		return EXIT_FAILURE_RUN;
	if (eventlog_get_info(log, &info, err) < 0) {
		eventlog_close(log);
		return EXIT_FAILURE_RUN;
	}
	eventlog_close(log);
	if (a->wevtutil) {
		/* wevtutil gl's layout. */
		printf("name: Linux-Sysmon/Operational\nenabled: true\ntype: Operational\n"
		       "owningPublisher: Linux-Sysmon\nisolation: Application\n"
		       "logging:\n  logFileName: %s\n  retention: false\n  autoBackup: false\n"
		       "  maxSize: %" PRIu64 "\npublishing:\n  fileMax: 1\n", a->log_path, info.max_size);
		return EXIT_OK;
	}
	printf("log:            %s\n", a->log_path);
	printf("records:        %" PRIu64 "\n", info.records);
	if (info.records) {
		printf("first record:   %" PRIu64 " at ", info.first_record_id);
		print_time(stdout, info.first_time_ns);
		printf("\nlast record:    %" PRIu64 " at ", info.last_record_id);
		print_time(stdout, info.last_time_ns);
		putchar('\n');
	} else {
		printf("first record:   -\nlast record:    -\n");
	}
	printf("next record id: %" PRIu64 "\n", info.next_record_id);
	printf("size on disk:   %" PRIu64 " bytes (database %" PRIu64 ", write-ahead log %" PRIu64 ")\n",
	       info.file_bytes + info.wal_bytes, info.file_bytes, info.wal_bytes);
	printf("in use:         %" PRIu64 " bytes", info.used_bytes);
	if (info.records)
		printf(" (%.0f bytes per record)", (double)info.used_bytes / (double)info.records);
	printf("\nmaximum size:   %" PRIu64 " bytes (%.1f MiB)\n", info.max_size,
	       (double)info.max_size / 1048576.0);
	return EXIT_OK;
}

static int do_set(const struct log_args *a, struct strbuf *err)
{
	uint64_t bytes;

	if (!a->max_size) {
		strbuf_printf(err, "set: --max-size BYTES (or /ms:BYTES) is missing");
		return EXIT_USAGE;
	}
	if (parse_size(a->max_size, &bytes, err) < 0)
		return EXIT_USAGE;
	if (bytes < EVENTLOG_MIN_MAX_SIZE) {
		strbuf_printf(err, "the maximum size must be at least %llu bytes", EVENTLOG_MIN_MAX_SIZE);
		return EXIT_USAGE;
	}
	struct eventlog *log = eventlog_open_admin(a->log_path, true, err);

	if (!log)
		return EXIT_FAILURE_RUN;
	int rc = eventlog_set_max_size(log, bytes, err);

	eventlog_close(log);
	return rc < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
}

static int do_clear(const struct log_args *a, struct strbuf *err)
{
	struct eventlog *log = eventlog_open_admin(a->log_path, false, err);
	uint64_t up_to = UINT64_MAX;

	if (!log)
		return EXIT_FAILURE_RUN;
	/* With a backup, clear exactly what the backup holds: records that
	 * arrive meanwhile stay. */
	if (a->backup && eventlog_backup(log, a->backup, &up_to, err) < 0) {
		eventlog_close(log);
		return EXIT_FAILURE_RUN;
	}
	int rc = eventlog_clear(log, up_to, err);

	eventlog_close(log);
	return rc < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
}

struct export_state {
	struct eventlog *log;
	FILE *out;
	bool json;
	struct strbuf line;
};

static int export_record(const struct event *ev, unsigned origin, void *arg)
{
	struct export_state *st = arg;
	struct format_context ctx = { 0 };

	eventlog_origin(st->log, origin, &ctx.computer, &ctx.process_id, &ctx.thread_id);
	strbuf_reset(&st->line);
	if (st->json)
		format_json(&st->line, ev, &ctx);
	else
		format_xml(&st->line, ev, &ctx);
	strbuf_putc(&st->line, '\n');
	return fwrite(st->line.data, 1, st->line.len, st->out) == st->line.len ? 0 : -1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int do_export(const struct log_args *a, struct strbuf *err)
{
	const char *format = a->format;

	if (!a->file) {
		strbuf_printf(err, "export: the output FILE is missing");
		return EXIT_USAGE;
	}
	if (!format) {
		if (ends_with(a->file, ".json") || ends_with(a->file, ".jsonl"))
			format = "json";
		else if (a->wevtutil || ends_with(a->file, ".db") || ends_with(a->file, ".sqlite"))
			format = "db";
		else
			format = "xml";
	}
	if (strcasecmp(format, "xml") && strcasecmp(format, "json") && strcasecmp(format, "db")) {
		strbuf_printf(err, "export: --format '%s' is not one of xml, json, db", format);
		return EXIT_USAGE;
	}
	struct eventlog *log = eventlog_open_readonly(a->log_path, err);

	if (!log)
		return EXIT_FAILURE_RUN;
	int rc = EXIT_OK;

	if (!strcasecmp(format, "db")) {
		if (eventlog_backup(log, a->file, NULL, err) < 0)
			rc = EXIT_FAILURE_RUN;
		eventlog_close(log);
		return rc;
	}
	int fd = open(a->file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	FILE *out = fd < 0 ? NULL : fdopen(fd, "w");

	if (!out) {
		strbuf_printf(err, "cannot create %s: %s", a->file, strerror(errno));
		if (fd >= 0)
			close(fd);
		eventlog_close(log);
		return EXIT_FAILURE_RUN;
	}
	struct export_state st = { log, out, !strcasecmp(format, "json"), STRBUF_INIT };
	struct query q;

	query_init(&q);
	if (query_run(log, &q, NULL, 0, export_record, &st, err) < 0)
		rc = EXIT_FAILURE_RUN;
	if (fclose(out) != 0 && rc == EXIT_OK) {
		strbuf_printf(err, "cannot write %s: %s", a->file, strerror(errno));
		rc = EXIT_FAILURE_RUN;
	}
	query_free(&q);
	strbuf_release(&st.line);
	eventlog_close(log);
	return rc;
}

int cmd_log(int argc, char **argv)
{
	struct log_args a = { .log_path = EVENTLOG_DEFAULT_PATH };
	struct strbuf err = STRBUF_INIT;
	const char *verb = argc > 1 ? argv[1] : "";
	int rc;

	if (!strcasecmp(verb, "qe") || !strcasecmp(verb, "query-events") || !strcasecmp(verb, "query"))
		return cmd_query(argc - 1, argv + 1);
	if (argc < 2 || !strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	a.wevtutil = !strcasecmp(verb, "gl") || !strcasecmp(verb, "sl") || !strcasecmp(verb, "cl") ||
		     !strcasecmp(verb, "epl") || !strcasecmp(verb, "get-log") ||
		     !strcasecmp(verb, "set-log") || !strcasecmp(verb, "clear-log") ||
		     !strcasecmp(verb, "export-log");
	bool export = !strcasecmp(verb, "export") || !strcasecmp(verb, "epl") || !strcasecmp(verb, "export-log");

	if (parse_args(argc, argv, &a, &err) < 0) {
		rc = EXIT_USAGE;
	} else if (a.file && !export) {
		strbuf_printf(&err, "unknown argument '%s'", a.file);
		rc = EXIT_USAGE;
	} else if (!strcasecmp(verb, "info") || !strcasecmp(verb, "gl") || !strcasecmp(verb, "get-log")) {
		rc = do_info(&a, &err);
	} else if (!strcasecmp(verb, "set") || !strcasecmp(verb, "sl") || !strcasecmp(verb, "set-log")) {
		rc = do_set(&a, &err);
	} else if (!strcasecmp(verb, "clear") || !strcasecmp(verb, "cl") || !strcasecmp(verb, "clear-log")) {
		rc = do_clear(&a, &err);
	} else if (export) {
		rc = do_export(&a, &err);
	} else {
		strbuf_printf(&err, "unknown action '%s'", verb);
		rc = EXIT_USAGE;
	}
	if (rc != EXIT_OK) {
		fprintf(stderr, "sysmon log: %s\n", strbuf_str(&err));
		if (rc == EXIT_USAGE)
			usage(stderr);
	}
	strbuf_release(&err);
	return rc;
}
