/*
 * Syslog messages as they go on the wire, for the local syslog sink and the
 * forwarders: the datagram glibc's syslog() sends to /dev/log (what Sysmon
 * for Linux produces), RFC 5424 messages with our structured data, RFC 6587
 * octet-counting frames, events bounded to a message size without ever
 * cutting the XML markup, and the reconnect back-off.  Pure functions over
 * buffers, so the unit tests check every byte.
 */
#ifndef SYSMON_WIRE_H
#define SYSMON_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "output/format.h"
#include "schema/event.h"
#include "util/strbuf.h"

/* Sysmon for Linux: openlog("sysmon", LOG_NOWAIT, LOG_USER), LOG_INFO;
 * Error events (255) at LOG_ERR. */
#define WIRE_FACILITY_USER 1
#define WIRE_SEVERITY_ERR 3
#define WIRE_SEVERITY_INFO 6
#define WIRE_APP_NAME "sysmon"
/* The structured data element: "sysmon@" + the IANA example enterprise
 * number (RFC 5612), since Sysinternals registered none for this. */
#define WIRE_SD_ID "sysmon@32473"

/* The syslog priority of EV: user.info, user.err for Error events. */
unsigned wire_priority(const struct event *ev);

/* Append EV's XML to OUT, at most MAX_XML bytes when possible: if the full
 * form is longer, the longest field values are cut (with "...", at UTF-8
 * boundaries) until it fits; the markup is never cut.  Returns the number
 * of values that were cut. */
unsigned wire_format_xml_bounded(struct strbuf *out, const struct event *ev,
				 const struct format_context *ctx, size_t max_xml);

/* The local syslog datagram of glibc's syslog() without LOG_PID:
 * "<14>Nov 26 08:19:40 sysmon: " + XML (local time, as glibc writes it).
 * The whole datagram is at most MAX_MESSAGE bytes.  Returns the number of
 * values cut to fit (see wire_format_xml_bounded). */
unsigned wire_local_message(struct strbuf *out, const struct event *ev, const struct format_context *ctx,
			    size_t max_message, int64_t now_ns);

/* Where an RFC 5424 message comes from. */
struct wire_origin {
	const char *hostname;       /* HOSTNAME field; "-" if empty */
	const char *host_id;        /* /etc/machine-id, for the structured data */
};

/* One RFC 5424 message (RFC 5425/6587 framing not included):
 * <PRI>1 TIMESTAMP HOSTNAME sysmon - - [sysmon@32473 recordId="N"
 * eventId="N" hostId="..."] XML.  At most MAX_MESSAGE bytes; returns the
 * number of values cut to fit. */
unsigned wire_rfc5424_message(struct strbuf *out, const struct event *ev, const struct format_context *ctx,
			      const struct wire_origin *origin, size_t max_message);

/* Append one octet-counting frame (RFC 6587 3.4.1): "LEN SP MSG". */
void wire_octet_frame(struct strbuf *out, const char *message, size_t len);

/* Split the next frame off DATA (the reading side, for the unit tests):
 * returns the frame's total length and sets *MESSAGE / *LEN, 0 if DATA does
 * not yet hold a whole frame, -1 if it is not octet-counted syslog. */
long wire_octet_unframe(const char *data, size_t size, const char **message, size_t *len);

/* Reconnect delay after FAILURES consecutive failures: MIN_MS doubled per
 * failure, at most MAX_MS; JITTER in [0, 1) takes off up to a fifth so that
 * a fleet does not reconnect in lock step. */
unsigned wire_backoff_ms(unsigned failures, unsigned min_ms, unsigned max_ms, double jitter);

/* Escape an RFC 5424 PARAM-VALUE ('"', '\' and ']' get a backslash). */
void wire_sd_escape(struct strbuf *out, const char *text);

/* The host identifier: /etc/machine-id (32 hex digits), else the hostname. */
const char *wire_host_id(void);

#endif
