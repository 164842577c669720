/*
 * The event log: one SQLite database (WAL) holding every logged event,
 * bounded by a maximum size with the oldest records dropped first.  The
 * monitor appends; `sysmon log` and `sysmon query` read while it writes.
 */
#ifndef SYSMON_EVENTLOG_H
#define SYSMON_EVENTLOG_H

#include <stdint.h>

#include "schema/event.h"
#include "util/strbuf.h"

#define EVENTLOG_DEFAULT_PATH "/var/log/sysmon/events.db"
#define EVENTLOG_DEFAULT_MAX_SIZE (64ull << 20)   /* as Sysmon's channel */

struct eventlog;

/* Open (creating if needed) the log at PATH for writing.  A damaged file is
 * moved aside and a new one started; *DAMAGED (if not NULL) then holds the
 * new name of the damaged file.  On failure returns NULL with a message in ERR. */
struct eventlog *eventlog_open(const char *path, char **damaged, struct strbuf *err);
/* Open an existing log for reading only. */
struct eventlog *eventlog_open_readonly(const char *path, struct strbuf *err);
void eventlog_close(struct eventlog *log);   /* flushes */

/* Append EV: assigns ev->record_id (strictly increasing, never reused, also
 * across restarts) and ev->time_ns if unset.  The record is committed with
 * the current batch. */
int eventlog_append(struct eventlog *log, struct event *ev);
/* Commit the pending batch (the monitor calls this at least every 100 ms)
 * and enforce the size bound. */
int eventlog_flush(struct eventlog *log);

#endif
