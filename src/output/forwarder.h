/*
 * A forwarder: sends the event log to one central collector as RFC 5424
 * messages with octet-counting framing (RFC 6587) over TCP, or over TLS
 * (RFC 5425), or as RELP messages (relp.h).  It runs in its own thread and reads the event log through
 * its own read-only connection, from a cursor persisted in
 * STATE_DIR/forward-NAME.cursor, so
 *   - the monitor never waits for a collector (a dead, slow or never
 *     reading collector only delays the forwarder);
 *   - delivery is at-least-once in EventRecordID order: a record counts as
 *     delivered once the collector's TCP has acknowledged its bytes and the
 *     connection stayed up for a moment after (RELP: once the collector
 *     has acknowledged it); after a failure everything
 *     after the last delivered record is sent again (duplicates carry the
 *     same recordId in the structured data);
 *   - what was logged while the collector was away is sent when it is
 *     back, as far as the log's size bound kept it (the rest is counted).
 */
#ifndef SYSMON_FORWARDER_H
#define SYSMON_FORWARDER_H

#include <stdbool.h>
#include <stdint.h>

#include "output/format.h"
#include "output/outputs_config.h"
#include "util/strbuf.h"

struct forwarder;

enum forwarder_state {
	FORWARDER_STARTING,         /* opening the event log */
	FORWARDER_CONNECTING,
	FORWARDER_CONNECTED,
	FORWARDER_WAITING,          /* back-off before the next attempt */
	FORWARDER_STOPPED,
};

struct forwarder_status {
	enum forwarder_state state;
	char address[300];          /* tcp://, tls:// or relp://host:port */
	uint64_t cursor;            /* every record up to this one was delivered */
	uint64_t sent_id;           /* written up to this record */
	uint64_t last_log_id;       /* newest record in the log (at the last look) */
	uint64_t events_sent;       /* including resent ones */
	uint64_t bytes_sent;
	uint64_t connects, failures;
	uint64_t skipped;           /* dropped by the log's size bound before being sent */
	uint64_t trimmed;           /* events whose values were cut to max_message */
	int64_t connected_since;    /* wall clock ns, 0 when not connected */
	int64_t next_attempt_ms;    /* WAITING: ms until the next attempt */
	char last_error[320];
	int64_t last_error_time;    /* wall clock ns */
};

/* Check CONFIG and prepare TLS (CA file, client certificate); start the
 * thread.  NULL with a message in ERR if the configuration cannot work. */
struct forwarder *forwarder_start(const struct forward_config *config, const char *log_path,
				  const char *state_dir, const struct field_sizes *field_sizes,
				  struct strbuf *err);
/* Check what forwarder_start would check, without starting anything: the
 * TLS files load (for `sysmon outputs check`; they are read unless
 * forwarder_read_tls_files did).  0, or -1 with ERR. */
int forwarder_check_config(const struct forward_config *config, struct strbuf *err);
/* TLS: read CONFIG's CA, certificate and key files into its *_pem, which
 * forwarder_start uses (it reads no file: the forwarders' process may not
 * be allowed to).  0, or -1 with ERR. */
int forwarder_read_tls_files(struct forward_config *config, struct strbuf *err);
/* New records were committed to the log. */
void forwarder_wake(struct forwarder *fwd);
void forwarder_set_field_sizes(struct forwarder *fwd, const struct field_sizes *field_sizes);
void forwarder_get_status(struct forwarder *fwd, struct forwarder_status *status);
/* Problems for the monitor's Error events, one line at a time. */
bool forwarder_next_problem(struct forwarder *fwd, struct strbuf *text);
const char *forwarder_name(const struct forwarder *fwd);
/* "tcp://HOST:PORT" (tls://, relp://; [HOST] for IPv6), as in the status. */
void forwarder_address(const struct forward_config *config, char *buf, size_t size);
/* Stopping: ask the thread to send what is committed for at most DRAIN_MS
 * and persist the cursor (several forwarders drain at once); wait for it
 * (its status stays readable); free it. */
void forwarder_request_stop(struct forwarder *fwd, unsigned drain_ms);
void forwarder_stop(struct forwarder *fwd);
void forwarder_free(struct forwarder *fwd);

/* The cursor file of forwarder NAME: its path, and reading it (0 and
 * *RECORD_ID = 0 if there is none; -1 if it is unreadable). */
void forwarder_cursor_path(const char *state_dir, const char *name, struct strbuf *path);
int forwarder_read_cursor(const char *path, uint64_t *record_id);

#endif
