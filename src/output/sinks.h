/*
 * Outputs of the monitor besides the event log: the local syslog (as Sysmon
 * for Linux writes it), forwarders to central collectors (RFC 5424 over TCP
 * or TLS, driven by a persisted cursor in the event log) and JSON lines
 * (file with rotation, or stdout).  Which outputs run is set in their own
 * file, outputs.conf (docs/outputs.md), not in the Sysmon XML.
 *
 * The monitor's loop is the only caller:
 *
 *   sinks_open()      after the event log is open;
 *   sinks_write()     for every event after eventlog_append() (the record id
 *                     is set); only without an event log do the local
 *                     syslog and JSON outputs write here;
 *   sinks_committed() after every eventlog_flush(): wakes the consumers of
 *                     the log (local syslog, JSON lines: threads here;
 *                     forwarders: in their unprivileged process), which
 *                     read from persisted cursors, so a slow or dead output
 *                     never slows capture;
 *   sinks_tick()      every ~100 ms: flushes buffers, writes the status
 *                     file that `sysmon status` reads;
 *   sinks_next_problem()  after a tick: run-time problems (a collector lost,
 *                     syslog not reading) for the monitor's Error events;
 *   sinks_reload()    on SIGHUP: re-reads outputs.conf (an invalid file
 *                     keeps the old outputs);
 *   sinks_stop()      at stop: every output delivers what is committed,
 *                     briefly; the last problems (every drop, without a log)
 *                     are then pending for sinks_next_problem();
 *   sinks_describe_losses()  for the exit statistics;
 *   sinks_close()     stops (if not done) and frees.
 */
#ifndef SYSMON_SINKS_H
#define SYSMON_SINKS_H

#include <stdbool.h>

#include "output/format.h"
#include "output/forward_proc.h"
#include "schema/event.h"
#include "util/strbuf.h"

#define SINKS_DEFAULT_CONFIG "/etc/sysmon/outputs.conf"
#define SINKS_DEFAULT_STATUS "/run/sysmon/status.json"
#define SINKS_DEFAULT_STATE_DIR "/var/lib/sysmon"
/* Overrides SINKS_DEFAULT_CONFIG when set (for test and staging setups). */
#define SINKS_CONFIG_ENV "SYSMON_OUTPUTS"

struct sinks;

struct sinks_options {
	/* outputs.conf; NULL: $SYSMON_OUTPUTS, else SINKS_DEFAULT_CONFIG.  A
	 * missing default file means the local syslog only, as Sysmon for
	 * Linux; a missing file named explicitly is an error. */
	const char *config_path;
	/* The event log the outputs read; NULL when the monitor runs without
	 * a log (then configured forwarders are an error, and the local
	 * outputs are fed by sinks_write). */
	const char *log_path;
	/* <Computer>, <Execution> and FieldSizes of the events written by
	 * sinks_write; copied (see sinks_set_field_sizes for reloads). */
	struct format_context format;
	/* Who the forwarders' process runs as (forward_proc.h); NULL: no
	 * forwarders can run (configured ones are an error). */
	const struct forward_user *forward_user;
};

/* Open the configured outputs.  Returns NULL with a message in ERR when
 * the configuration is invalid; an unreachable collector or syslog is not
 * an error (it is retried and shown in the status). */
struct sinks *sinks_open(const struct sinks_options *options, struct strbuf *err);
void sinks_write(struct sinks *sinks, const struct event *ev);
void sinks_committed(struct sinks *sinks);
void sinks_tick(struct sinks *sinks);
/* Next pending problem report as one line in TEXT; false when none. */
bool sinks_next_problem(struct sinks *sinks, struct strbuf *text);
/* The config's FieldSizes changed (config reload); copied. */
void sinks_set_field_sizes(struct sinks *sinks, const struct field_sizes *field_sizes);
/* Re-read outputs.conf; on error keeps the running outputs and returns -1
 * with ERR. */
int sinks_reload(struct sinks *sinks, struct strbuf *err);
void sinks_stop(struct sinks *sinks);
/* "syslog: N sent, ..., forwarder X: ..." for the exit statistics. */
void sinks_describe_losses(struct sinks *sinks, struct strbuf *out);
void sinks_close(struct sinks *sinks);

#endif
