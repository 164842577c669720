/*
 * A consumer of the event log: a thread that reads the log from a
 * persisted cursor and hands each record, in EventRecordID order, to one
 * local output (the syslog socket, a JSON lines file).  The forwarders read
 * the log the same way (forwarder.c adds acknowledgements on top), so
 *   - the monitor never waits for an output: capture writes the log, the
 *     outputs follow it, each at its own pace;
 *   - an output that is slow or away (syslog restarting, a full disk)
 *     catches up later and loses nothing while the log still holds the
 *     records;
 *   - when the log's size bound drops records before a consumer read them,
 *     the exact number is counted ("missed") and reported.
 * The cursor lives in STATE_DIR/NAME.cursor ("record_id=N", "log=PATH"),
 * saved at most once a second and at stop; without a cursor file, or with
 * one of another log, a consumer starts after the records that were in the
 * log when it was started.
 */
#ifndef SYSMON_CONSUMER_H
#define SYSMON_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "output/format.h"
#include "schema/event.h"
#include "util/strbuf.h"

struct consumer;

/* What a consumer feeds.  Called from the consumer's thread only. */
struct consumer_output {
	void *arg;
	/* Take record EV: 1 taken, 0 not now (the output is away or busy: the
	 * same record is offered again later), -1 refused for good (counted,
	 * skipped).  WHY (256 bytes) says why on 0 and -1. */
	int (*deliver)(void *arg, const struct event *ev, const struct format_context *ctx, char *why);
	/* Make what was taken durable (write out buffers): 0, or -1 when what
	 * was taken since the last flush is lost (it is offered again). */
	int (*flush)(void *arg, char *why);
};

struct consumer_status {
	bool running, available;    /* the output took the last record offered */
	uint64_t cursor;            /* every record up to this one was delivered */
	uint64_t last_log_id;       /* newest record in the log (at the last look) */
	uint64_t delivered;         /* records taken (again after a retry too) */
	uint64_t refused;           /* refused for good by the output */
	uint64_t missed;            /* dropped by the log's size bound before being read */
	uint64_t retries;           /* times the output was away or a flush failed */
	char last_error[320];
};

/* Start consumer NAME of the log at LOG_PATH feeding OUTPUT.  CURSOR_PATH
 * NULL: the position is not persisted (stdout).  NULL with ERR on failure. */
struct consumer *consumer_start(const char *name, const char *log_path, const char *cursor_path,
				const struct consumer_output *output, const struct format_context *format,
				struct strbuf *err);
/* New records were committed to the log. */
void consumer_wake(struct consumer *c);
void consumer_set_field_sizes(struct consumer *c, const struct field_sizes *field_sizes);
void consumer_get_status(struct consumer *c, struct consumer_status *status);
/* Problems for the monitor's Error events, one line at a time (the missed
 * records, the output's first failure in a streak). */
bool consumer_next_problem(struct consumer *c, struct strbuf *text);
/* Stopping: deliver what is committed for at most DRAIN_MS (several
 * consumers drain at once), save the cursor; wait for the thread (the
 * status and problems stay readable); free. */
void consumer_request_stop(struct consumer *c, unsigned drain_ms);
void consumer_stop(struct consumer *c);
void consumer_free(struct consumer *c);

/* Cursor files, shared with the forwarders: "record_id=N" lines (the last
 * one counts) after a comment.  Reading: 1 and *RECORD_ID, 0 and 0 when
 * there is no file, -1 when it is unreadable.  Saving (TEXT: extra lines,
 * may be NULL) replaces the file atomically and fsyncs it. */
int consumer_read_cursor(const char *path, uint64_t *record_id);
int consumer_save_cursor(const char *path, uint64_t record_id, const char *extra);

#endif
