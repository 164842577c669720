/*
 * A RELP client for the forwarders (protocol = relp): one session to one
 * collector through librelp's client API, with the accounting of which
 * messages the collector has acknowledged at the application level.
 *
 * RELP answers every "syslog" command with a "rsp" frame (200 = taken),
 * sent by the server "in the exact same order as commands were received"
 * (the RELP specification).  librelp keeps at most WINDOW commands
 * unanswered: relpCltSendSyslog returns once the message is written and
 * fewer than WINDOW earlier ones were unanswered when it was.  So, with
 * answers in order, when the send of the k-th message of a session
 * returns without an error, messages 1 .. k - WINDOW are acknowledged.
 * The last WINDOW messages count as acknowledged only after a clean close
 * (the answer to "close" comes after every earlier answer).  An error
 * answer (500), a broken session or a timeout fails the session; the
 * acknowledged record then stays where it was before that call.
 *
 * Every call blocks inside librelp (connect for at most the connect
 * timeout, a send or the close for at most the send timeout): librelp's
 * client has no hook for an outside wake-up.
 */
#ifndef SYSMON_RELP_H
#define SYSMON_RELP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/* Commands in flight per session (librelp's default).  librelp silently
 * replaces a window below 2 by its default, so this is set explicitly:
 * the accounting above depends on it. */
#define RELP_WINDOW 128

struct relp_client;

struct relp_options {
	const char *host, *port;
	unsigned send_timeout_ms;       /* no answer for this long: the session failed */
	unsigned connect_timeout_ms;
};

/* Connect and open a session (the RELP "open" handshake).  NULL with the
 * reason in ERR. */
struct relp_client *relp_connect(const struct relp_options *options, struct strbuf *err);
/* Send one message, the log's record RECORD_ID (increasing within a
 * session).  0, or -1 with the reason in ERR: the session failed and must
 * be closed with relp_abandon. */
int relp_send(struct relp_client *client, uint64_t record_id, const char *message, size_t len,
	      struct strbuf *err);
/* Every record up to this one has been acknowledged by the collector in
 * this session (0: none yet). */
uint64_t relp_acked(const struct relp_client *client);
/* Some record sent is not yet known to be acknowledged. */
bool relp_pending(const struct relp_client *client);
/* Close the session cleanly: 0 and every record sent counts as
 * acknowledged (relp_acked is the last one sent), or -1 with ERR (the
 * acknowledged record stays).  CLIENT is freed either way. */
int relp_close(struct relp_client *client, uint64_t *acked, struct strbuf *err);
/* Drop a failed session without the close handshake. */
void relp_abandon(struct relp_client *client);

#endif
