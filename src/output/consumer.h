/*
 * A consumer of the event log: a thread that reads the log from a
 * persisted cursor and hands each record, in EventRecordID order, to one
 * output: a local one (the syslog socket, a JSON lines file), or a
 * forwarder, a transport with a connection and acknowledgements of its own
 * (forwarder.c) on the same reading loop, problem queue and status, so
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

/* Records offered in one batch at most. */
#define CONSUMER_BATCH_RECORDS 512

/* An output with a connection of its own (a forwarder): it runs each round
 * of the consumer's thread itself (connect, consumer_read_batch, send) and
 * says when what it took is delivered (consumer_confirm); what a lost
 * connection took is read again (consumer_rewind).  Called from the
 * consumer's thread only. */
struct consumer_transport {
	/* One round: how long to wait (ms) for a wake-up or the connection. */
	int (*round)(void *arg, struct consumer *c);
	/* The connection to wait on with the wake-ups (-1: none), and for what. */
	int (*wait_fd)(void *arg, short *events);
	/* It was ready (REVENTS): read what the peer said. */
	void (*ready)(void *arg, struct consumer *c, short revents);
	/* At stop: deliver what is committed until DEADLINE_NS (monotonic). */
	void (*drain)(void *arg, struct consumer *c, int64_t deadline_ns);
	/* The thread ends: close the connection. */
	void (*finish)(void *arg, struct consumer *c);
	/* Records FIRST to LAST left the log before they were read (they are
	 * counted in the status): reported by the output at once. */
	void (*missed)(void *arg, struct consumer *c, uint64_t first, uint64_t last);
};

/* The most bytes of problem lines an output keeps until the monitor turns
 * them into Error events: nobody may read them, so the queue is bounded. */
#define OUTPUT_PROBLEMS_MAX (64 * 1024)

/* What a consumer feeds.  Called from the consumer's thread only. */
struct consumer_output {
	void *arg;
	/* Take record EV: 1 taken, 0 not now (the output is away or busy: the
	 * same record is offered again later), -1 refused for good (counted,
	 * skipped).  WHY (256 bytes) says why on 0 and -1. */
	int (*deliver)(void *arg, const struct event *ev, const struct format_context *ctx, char *why);
	/* Make what was taken durable (write out buffers): 0, or -1 when what
	 * was taken since the last flush is lost (it is offered again).  Not
	 * with a transport. */
	int (*flush)(void *arg, char *why);
	/* NULL: a local output, a batch a round, delivered once flushed. */
	const struct consumer_transport *transport;
};

struct consumer_options {
	const char *name;           /* heads its problem lines */
	const char *log_path;
	/* NULL: the position is not persisted (stdout) */
	const char *cursor_path;
	/* more lines of the cursor file ("collector=...\n"), or NULL */
	const char *cursor_extra;
	/* Without a cursor file: from the oldest record (else after the
	 * newest one now: a consumer without a cursor owes nothing from
	 * before its time). */
	bool from_oldest;
	/* Delivery at least once (forwarders): an unreadable cursor, or one
	 * of another log, sends the log again from its oldest record, and
	 * what left the log before a consumer at 0 read it is not counted. */
	bool at_least_once;
	struct consumer_output output;
	struct format_context format;
};

struct consumer_status {
	bool running, available;    /* the output took the last record offered */
	uint64_t cursor;            /* every record up to this one was delivered */
	uint64_t read_to;           /* offered up to this record */
	uint64_t last_log_id;       /* newest record in the log (at the last look) */
	uint64_t delivered;         /* records taken (again after a retry too) */
	uint64_t refused;           /* refused for good by the output */
	uint64_t missed;            /* dropped by the log's size bound before being read */
	uint64_t retries;           /* times the output was away or a flush failed */
	char last_error[320];
	int64_t last_error_time;    /* wall clock ns */
};

/* Start consumer OPTIONS->name: consumer_new prepares it (the cursor is
 * read then), consumer_run starts its thread, consumer_start does both.
 * NULL or -1 with ERR on failure (consumer_run's caller frees). */
struct consumer *consumer_new(const struct consumer_options *options, struct strbuf *err);
int consumer_run(struct consumer *c, struct strbuf *err);
struct consumer *consumer_start(const struct consumer_options *options, struct strbuf *err);
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

/* For transports, from the consumer's thread: */
/* Offer the next records after the read position to the output (at most
 * CONSUMER_BATCH_RECORDS): their number, or -1 when the log cannot be read
 * (the error is set). */
int consumer_read_batch(struct consumer *c);
/* Every record up to RECORD_ID was delivered: the cursor moves. */
void consumer_confirm(struct consumer *c, uint64_t record_id);
/* What was offered after the cursor is lost: read it again. */
void consumer_rewind(struct consumer *c);
/* Wait until FD is ready for EVENTS, at most until DEADLINE_NS (monotonic):
 * 1 ready, 0 timed out, -1 a stop was asked (unless DRAINING: the stop is
 * what is being done). */
int consumer_wait_ready(struct consumer *c, int fd, short events, int64_t deadline_ns, bool draining);
bool consumer_stopping(struct consumer *c);
/* The output's own problem lines (headed by the consumer's name), and the
 * status' last error. */
void consumer_add_problem(struct consumer *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void consumer_set_error(struct consumer *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Cursor files, shared with the forwarders: "record_id=N" lines (the last
 * one counts) after a comment.  Reading: 1 and *RECORD_ID, 0 and 0 when
 * there is no file, -1 when it is unreadable.  Saving (TEXT: extra lines,
 * may be NULL) replaces the file atomically and fsyncs it. */
int consumer_read_cursor(const char *path, uint64_t *record_id);
int consumer_save_cursor(const char *path, uint64_t record_id, const char *extra);

#endif
