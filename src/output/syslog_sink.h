/*
 * The local syslog sink: every event as one datagram on /dev/log in the
 * form glibc's syslog() gives Sysmon for Linux's messages (identifier
 * "sysmon", facility user, severity info, err for Error events, no pid), so
 * the integrations that parse Sysmon for Linux's syslog parse ours.
 *
 * Two ways to feed it:
 *   - blocking (a consumer of the event log, consumer.h, calls
 *     syslog_sink_deliver): each send waits for room in the socket, as
 *     glibc's syslog() does, at most SEND_TIMEOUT_MS; what is not taken is
 *     offered again from the log, so nothing is lost;
 *   - queued (without an event log, the monitor calls syslog_sink_write):
 *     non-blocking sends; while syslog does not read (or restarts),
 *     messages wait in a bounded queue, beyond which they are dropped and
 *     counted.  Without any syslog daemon since the start, events are
 *     dropped at once, as glibc's syslog() does.
 *
 * Either way the syslog daemon's own log (daemon_log) is read for rsyslog
 * imuxsock's rate-limiting reports about us: what rsyslog drops on its side
 * is counted too (syslog_sink_watch).
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
	uint64_t rate_limited;      /* times the daemon began to drop our messages */
	uint64_t daemon_lost;       /* messages the daemon said it dropped (rate limit) */
	char last_error[256];
};

/* BLOCKING: fed by syslog_sink_deliver (from one thread), else by
 * syslog_sink_write and syslog_sink_tick. */
struct syslog_sink *syslog_sink_open(const struct syslog_config *config, bool blocking);
/* Send EV: 1 sent, 0 not now (no daemon, or no room for SEND_TIMEOUT_MS:
 * offer it again), -1 refused for good (too long for the socket). */
int syslog_sink_deliver(struct syslog_sink *sink, const struct event *ev, const struct format_context *ctx);
void syslog_sink_write(struct syslog_sink *sink, const struct event *ev, const struct format_context *ctx);
/* Send what waits; reconnect (at most once a second) if needed. */
void syslog_sink_tick(struct syslog_sink *sink);
/* Read what the daemon logged since the last look (at most once a second
 * unless NOW), counting its rate-limiting reports about this process.
 * From the thread that feeds the sink. */
void syslog_sink_watch(struct syslog_sink *sink, bool now);
/* Any thread. */
void syslog_sink_get_stats(struct syslog_sink *sink, struct syslog_sink_stats *stats);
/* Queued: at stop, send what waits for at most a second; the rest counts
 * as dropped. */
void syslog_sink_drain(struct syslog_sink *sink);
/* Queued: drains first. */
void syslog_sink_close(struct syslog_sink *sink);

#endif
