/*
 * The local syslog sink: every event as one datagram on /dev/log in the
 * form glibc's syslog() gives Sysmon for Linux's messages (identifier
 * "sysmon", facility user, severity info, err for Error events, no pid), so
 * the integrations that parse Sysmon for Linux's syslog parse ours.  The
 * socket is non-blocking: while syslog does not read (or restarts), messages
 * wait in a bounded queue (then are counted as dropped) instead of stalling
 * capture.  Without any syslog daemon since the start, events are dropped
 * at once, as glibc's syslog() does (the event log has them).
 */
#ifndef SYSMON_SYSLOG_SINK_H
#define SYSMON_SYSLOG_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "output/format.h"
#include "output/outputs_config.h"
#include "schema/event.h"

struct syslog_sink;

struct syslog_sink_stats {
	bool connected;
	uint64_t sent;
	uint64_t queued;            /* waiting now */
	uint64_t dropped;           /* queue full or message refused */
	uint64_t trimmed;           /* events whose values were cut to fit */
	char last_error[256];
};

struct syslog_sink *syslog_sink_open(const struct syslog_config *config);
void syslog_sink_write(struct syslog_sink *sink, const struct event *ev, const struct format_context *ctx);
/* Send what waits; reconnect (at most once a second) if needed. */
void syslog_sink_tick(struct syslog_sink *sink);
void syslog_sink_get_stats(const struct syslog_sink *sink, struct syslog_sink_stats *stats);
void syslog_sink_close(struct syslog_sink *sink);

#endif
