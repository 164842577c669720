/*
 * outputs.conf: which outputs the monitor feeds besides the event log, kept
 * apart from the Sysmon XML (whose schema has no place for it).  An INI
 * file: `key = value` lines, `#` or `;` comments, sections `[syslog]`,
 * `[forward NAME]` (one per collector) and `[json NAME]`; global keys come
 * before the first section.  docs/outputs.md documents every key.
 * The sinks (sinks.c) open what this describes; `sysmon outputs check`
 * validates a file with the same parser.
 */
#ifndef SYSMON_OUTPUTS_CONFIG_H
#define SYSMON_OUTPUTS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/strbuf.h"

/* rsyslog's default maximum message size (maxMessageSize: 8096 bytes in
 * rsyslog 8, header included): a longer message is cut by the receiver into
 * broken XML, so events are trimmed to fit (field values, never the
 * markup). */
#define OUTPUTS_DEFAULT_MAX_MESSAGE 8096
#define OUTPUTS_MIN_MAX_MESSAGE 2048
#define OUTPUTS_MAX_MAX_MESSAGE (1u << 20)

struct syslog_config {
	bool enabled;
	char *socket_path;          /* the local syslog socket, /dev/log */
	unsigned max_message;       /* bytes per datagram */
	uint64_t queue_bytes;       /* without an event log: held while syslog does not read */
	char *daemon_log;           /* where the syslog daemon writes its own messages
				     * (imuxsock's rate limiting); "none": not watched */
};

enum forward_protocol {
	FORWARD_TCP,                /* RFC 5424 + RFC 6587 octet counting */
	FORWARD_TLS,                /* the same over TLS, RFC 5425 */
	FORWARD_RELP,               /* RELP: every message acknowledged by the collector */
};

struct forward_config {
	char *name;
	enum forward_protocol protocol;
	char *host;
	char *port;                 /* number or service name */
	char *server_name;          /* TLS: name the certificate must match; default host */
	char *ca_file;              /* TLS: trusted CAs; default the system's */
	char *cert_file, *key_file; /* TLS: optional client certificate */
	/* TLS: the contents of those files (forwarder_read_tls_files), read
	 * by the monitor for the forwarders' process, which cannot */
	char *ca_pem, *cert_pem, *key_pem;
	unsigned max_message;       /* bytes per RFC 5424 message */
	unsigned reconnect_min_ms, reconnect_max_ms;
	unsigned send_timeout_ms;   /* no byte accepted for this long: reconnect */
	unsigned connect_timeout_ms;
	bool start_at_newest;       /* no cursor yet: skip the records already logged */
};

struct jsonfile_config {
	char *name;
	char *path;                 /* "-" = stdout */
	uint64_t max_size;          /* rotate beyond this many bytes; 0 = never */
	unsigned keep;              /* rotated files kept: PATH.1 .. PATH.keep */
	bool ecs;                   /* Elastic Common Schema field names */
};

struct outputs_config {
	char *path;                 /* the file read; NULL for the defaults */
	char *status_path;
	char *state_dir;            /* forwarders' cursors */
	struct syslog_config syslog;
	struct forward_config *forwards;
	size_t nforwards;
	struct jsonfile_config *jsons;
	size_t njsons;
};

/* The configuration without a file: the local syslog only. */
struct outputs_config *outputs_config_default(void);
/* Parse PATH; NULL with "PATH:LINE: message" in ERR on any error. */
struct outputs_config *outputs_config_load(const char *path, struct strbuf *err);
/* Parse TEXT (NAME is used in messages). */
struct outputs_config *outputs_config_parse(const char *name, const char *text, struct strbuf *err);
void outputs_config_free(struct outputs_config *config);
/* The strings of one forwarder's settings (not F itself). */
void outputs_forward_free(struct forward_config *f);
/* A readable summary, one line per output, for `sysmon outputs show`. */
void outputs_config_describe(const struct outputs_config *config, struct strbuf *out);

/* "tcp", "tls" or "relp", as outputs.conf spells it. */
const char *outputs_protocol_name(enum forward_protocol protocol);

#endif
