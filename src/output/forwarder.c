/*
 * Forwarder (interface: forwarder.h): a consumer of the event log
 * (consumer.h) with a transport, run in the consumer's thread.
 *
 * A round: read up to CONSUMER_BATCH_RECORDS records after the read
 * position from the log, frame them into OUT, write OUT without blocking (poll), and track which
 * batches the collector has taken: a batch's last byte has left our send
 * queue (SIOCOUTQ: the peer's TCP acknowledged it) and the connection then
 * stayed up for CONFIRM_DELAY_NS, so the collector had time to read it
 * before any close we would see.  Confirmed batches move the cursor; a
 * failure rewinds the read position to the cursor.  Everything blocking (connect,
 * TLS handshake, writes) waits in poll() together with the wake eventfd,
 * so a stop is never held up by a collector.
 *
 * RELP (relp.c) replaces the writing and the confirming: the messages of a
 * batch are sent one by one through librelp, which blocks (the stop waits
 * for it, at most the send timeout), and the cursor follows what the
 * collector has acknowledged.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "output/consumer.h"
#include "output/forwarder.h"
#include "output/relp.h"
#include "output/wire.h"
#include "util/clock.h"

#define CONFIRM_DELAY_NS (1000 * 1000000LL)
#define HEALTHY_NS (5000 * 1000000LL)
#define IDLE_WAIT_MS 1000
#define BUSY_WAIT_MS 100
#define TLS_WRITE_CHUNK (256u << 10)
/* RELP: the last messages of a session count as acknowledged only after a
 * clean close (relp.h); it is closed (and opened again) once nothing new
 * came for this long. */
#define RELP_SETTLE_NS (1000 * 1000000LL)

struct batch {
	uint64_t last_id;
	uint64_t count;
	uint64_t end;           /* raw stream offset of its last byte */
	int64_t acked_ns;       /* when that byte was acknowledged; 0 = not yet */
};

struct forwarder {
	/* set before the thread starts, read-only after */
	char *name, *host, *port, *server_name;
	enum forward_protocol protocol;
	unsigned max_message;
	unsigned reconnect_min_ms, reconnect_max_ms, send_timeout_ms, connect_timeout_ms;
	SSL_CTX *tls;
	struct consumer *consumer;   /* the reading loop, the cursor, the problems */

	pthread_mutex_t lock;   /* guards STATUS's members of our own (the rest is the consumer's) */
	struct forwarder_status status;

	/* the thread's own */
	int fd;
	SSL *ssl;
	struct relp_client *relp;    /* RELP: the session, when connected */
	uint64_t batch_ids[CONSUMER_BATCH_RECORDS];   /* the record of each message in OUT */
	unsigned batch_next;         /* RELP: the next message of OUT to send */
	unsigned batch_count;        /* messages framed into OUT */
	uint64_t batch_trimmed;
	uint64_t raw_written;   /* TCP: bytes sent */
	short want;             /* poll events the pending write waits for */
	struct strbuf out;
	size_t out_off;
	struct batch pending;   /* the batch in OUT */
	struct batch *inflight;
	size_t ninflight, inflight_cap;
	int64_t last_progress_ns, connected_ns;
	unsigned failures;
	int64_t next_attempt_ns;
	bool more;                   /* the last batch was full: read on at once */
	bool clean_close;            /* the TLS session is healthy: end it politely */
	bool outage_reported;
	unsigned jitter_seed;
	struct strbuf message;
};

static void set_state(struct forwarder *f, enum forwarder_state state)
{
	pthread_mutex_lock(&f->lock);
	f->status.state = state;
	pthread_mutex_unlock(&f->lock);
}

/* The latest OpenSSL error as text. */
static void tls_error_text(char *buf, size_t size)
{
	unsigned long code = ERR_get_error();

	if (code)
		ERR_error_string_n(code, buf, size);
	else
		snprintf(buf, size, "%s", errno ? strerror(errno) : "unknown error");
	ERR_clear_error();
}

/* ---- cursor file ---- */

void forwarder_cursor_path(const char *state_dir, const char *name, struct strbuf *path)
{
	strbuf_printf(path, "%s/forward-%s.cursor", state_dir, name);
}

int forwarder_read_cursor(const char *path, uint64_t *record_id)
{
	return consumer_read_cursor(path, record_id);
}

/* ---- the records ---- */

/* The consumer offers a record: frame it into OUT. */
static int forward_deliver(void *arg, const struct event *ev, const struct format_context *ctx, char *why)
{
	struct forwarder *f = arg;
	struct wire_origin origin = { .host_id = wire_host_id(), .hostname = ctx->computer };

	(void)why;
	strbuf_reset(&f->message);
	if (wire_rfc5424_message(&f->message, ev, ctx, &origin, f->max_message) > 0)
		f->batch_trimmed++;
	wire_octet_frame(&f->out, f->message.data, f->message.len);
	f->batch_ids[f->batch_count++] = ev->record_id;
	return 1;
}

/* Frame the next batch of records into OUT.  Returns the number of
 * records, or -1 if the log cannot be read. */
static int fill_batch(struct forwarder *f)
{
	f->batch_count = 0;
	f->batch_trimmed = 0;
	int n = consumer_read_batch(f->consumer);
	f->more = n == CONSUMER_BATCH_RECORDS;
	if (n <= 0)
		return n;
	f->pending = (struct batch){ .last_id = f->batch_ids[f->batch_count - 1], .count = f->batch_count };
	f->last_progress_ns = monotonic_ns();
	pthread_mutex_lock(&f->lock);
	f->status.trimmed += f->batch_trimmed;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* Records the log's size bound (or a clear) dropped before we could send
 * them (the consumer counts them). */
static void forward_missed(void *arg, struct consumer *c, uint64_t first, uint64_t last)
{
	(void)arg;
	consumer_add_problem(c, "%" PRIu64 " events were dropped from the event log (its size bound, or a "
			     "clear) before they could be sent (records %" PRIu64 " to %" PRIu64 ")",
			     last - first + 1, first, last);
}

/* ---- the connection ---- */

static void close_connection(struct forwarder *f)
{
	if (f->relp) {
		relp_abandon(f->relp);
		f->relp = NULL;
	}
	if (f->ssl) {
		/* close_notify, without waiting for the answer: a clean end of
		 * stream for the collector (no "unexpected eof") */
		if (f->clean_close)
			SSL_shutdown(f->ssl);
		SSL_free(f->ssl);
		f->ssl = NULL;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->clean_close = false;
}

/* Connect to one address; the socket, or -1 with the reason in ERR. */
static int connect_address(struct forwarder *f, const struct addrinfo *ai, char *err, size_t err_size)
{
	char host[INET6_ADDRSTRLEN + 8] = "?";
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
	if (fd < 0) {
		snprintf(err, err_size, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			snprintf(err, err_size, "connect to %s port %s: %s", host, f->port, strerror(errno));
			close(fd);
			return -1;
		}
		int rc = consumer_wait_ready(f->consumer, fd, POLLOUT, monotonic_ns() + (int64_t)f->connect_timeout_ms * 1000000,
				 false);
		int so_error = 0;
		socklen_t len = sizeof(so_error);
		if (rc == 0)
			so_error = ETIMEDOUT;
		else if (rc < 0)
			so_error = ECANCELED;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0)
			so_error = errno;
		if (so_error) {
			snprintf(err, err_size, "connect to %s port %s: %s", host, f->port, strerror(so_error));
			close(fd);
			return -1;
		}
	}
	int on = 1, idle = 30, interval = 10, count = 3;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
	return fd;
}

static bool is_ip_literal(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* The TLS handshake on F->FD, verifying the certificate and its name. */
static int tls_handshake(struct forwarder *f, char *err, size_t err_size)
{
	const char *name = f->server_name ? f->server_name : f->host;
	int64_t deadline = monotonic_ns() + (int64_t)f->connect_timeout_ms * 1000000;

	f->ssl = SSL_new(f->tls);
	if (!f->ssl || SSL_set_fd(f->ssl, f->fd) != 1) {
		tls_error_text(err, err_size);
		return -1;
	}
	SSL_set_mode(f->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (is_ip_literal(name)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(f->ssl), name);
	} else {
		SSL_set_tlsext_host_name(f->ssl, name);
		SSL_set1_host(f->ssl, name);
	}
	for (;;) {
		ERR_clear_error();
		int rc = SSL_connect(f->ssl);
		if (rc == 1)
			return 0;
		int code = SSL_get_error(f->ssl, rc);
		if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
			int ready = consumer_wait_ready(f->consumer, f->fd, code == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline,
					    false);
			if (ready <= 0) {
				snprintf(err, err_size, "TLS handshake: %s",
					 ready == 0 ? "timed out" : "stopped");
				return -1;
			}
			continue;
		}
		long verify = SSL_get_verify_result(f->ssl);
		if (verify != X509_V_OK) {
			snprintf(err, err_size, "TLS: the collector's certificate is refused: %s (expected name %s)",
				 X509_verify_cert_error_string(verify), name);
		} else {
			char text[256];
			tls_error_text(text, sizeof(text));
			snprintf(err, err_size, "TLS handshake failed: %s", text);
		}
		return -1;
	}
}

static int relp_connect_collector(struct forwarder *f, char *err, size_t err_size);

static int connect_collector(struct forwarder *f, char *err, size_t err_size)
{
	if (f->protocol == FORWARD_RELP)
		return relp_connect_collector(f, err, err_size);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *list = NULL;
	int rc = getaddrinfo(f->host, f->port, &hints, &list);

	if (rc != 0) {
		snprintf(err, err_size, "cannot resolve %s port %s: %s", f->host, f->port,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	f->fd = -1;
	for (struct addrinfo *ai = list; ai && f->fd < 0 && !consumer_stopping(f->consumer); ai = ai->ai_next)
		f->fd = connect_address(f, ai, err, err_size);
	freeaddrinfo(list);
	if (f->fd < 0)
		return -1;
	if (f->protocol == FORWARD_TLS && tls_handshake(f, err, err_size) != 0) {
		close_connection(f);
		return -1;
	}
	f->raw_written = 0;
	return 0;
}

/* Bytes written to the socket so far (for TLS, the encrypted stream). */
static uint64_t raw_written(struct forwarder *f)
{
	if (f->ssl)
		return BIO_number_written(SSL_get_wbio(f->ssl));
	return f->raw_written;
}

/* The connection failed or was closed: rewind to the cursor and back off. */
static void connection_lost(struct forwarder *f, const char *reason)
{
	int64_t now = monotonic_ns();

	f->clean_close = false;
	close_connection(f);
	strbuf_reset(&f->out);
	f->out_off = 0;
	f->pending = (struct batch){ 0 };
	f->ninflight = 0;
	f->batch_next = 0;
	consumer_rewind(f->consumer);
	f->failures++;
	unsigned delay = wire_backoff_ms(f->failures, f->reconnect_min_ms, f->reconnect_max_ms,
					 (double)rand_r(&f->jitter_seed) / ((double)RAND_MAX + 1));
	f->next_attempt_ns = now + (int64_t)delay * 1000000;
	consumer_set_error(f->consumer, "%s", reason);
	pthread_mutex_lock(&f->lock);
	f->status.connected_since = 0;
	f->status.failures++;
	pthread_mutex_unlock(&f->lock);
	set_state(f, FORWARDER_WAITING);
	if (!f->outage_reported)
		consumer_add_problem(f->consumer, "%s; events stay in the event log and are sent when the collector is back",
			    reason);
	f->outage_reported = true;
}

/* A new connection counts as recovery (back-off and outage report reset)
 * only once it has stayed up for HEALTHY_NS: a collector that accepts and
 * drops at once is retried with growing delays and reported once. */
static void connected(struct forwarder *f)
{
	f->clean_close = true;
	consumer_rewind(f->consumer);
	f->connected_ns = f->last_progress_ns = monotonic_ns();
	pthread_mutex_lock(&f->lock);
	f->status.connects++;
	f->status.connected_since = clock_ns(CLOCK_REALTIME);
	pthread_mutex_unlock(&f->lock);
	set_state(f, FORWARDER_CONNECTED);
}

/* Write what OUT holds without blocking.  0 written or waiting, -1 failed
 * (the connection is closed then). */
static int write_some(struct forwarder *f)
{
	char reason[320];

	f->want = 0;
	while (f->out_off < f->out.len) {
		size_t left = f->out.len - f->out_off;
		ssize_t n;
		if (f->ssl) {
			ERR_clear_error();
			int rc = SSL_write(f->ssl, f->out.data + f->out_off,
					   (int)(left < TLS_WRITE_CHUNK ? left : TLS_WRITE_CHUNK));
			if (rc <= 0) {
				int code = SSL_get_error(f->ssl, rc);
				if (code == SSL_ERROR_WANT_WRITE || code == SSL_ERROR_WANT_READ) {
					f->want = code == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
					return 0;
				}
				char text[256];
				tls_error_text(text, sizeof(text));
				snprintf(reason, sizeof(reason), "TLS write failed: %s", text);
				connection_lost(f, reason);
				return -1;
			}
			n = rc;
		} else {
			n = send(f->fd, f->out.data + f->out_off, left, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN) {
					f->want = POLLOUT;
					return 0;
				}
				snprintf(reason, sizeof(reason), "sending failed: %s", strerror(errno));
				connection_lost(f, reason);
				return -1;
			}
			f->raw_written += (uint64_t)n;
		}
		f->out_off += (size_t)n;
		f->last_progress_ns = monotonic_ns();
		pthread_mutex_lock(&f->lock);
		f->status.bytes_sent += (uint64_t)n;
		pthread_mutex_unlock(&f->lock);
	}
	/* the whole batch is in the socket: track it until acknowledged */
	f->pending.end = raw_written(f);
	if (f->ninflight == f->inflight_cap) {
		f->inflight_cap = f->inflight_cap ? f->inflight_cap * 2 : 64;
		f->inflight = xrealloc(f->inflight, f->inflight_cap * sizeof(*f->inflight));
	}
	f->inflight[f->ninflight++] = f->pending;
	pthread_mutex_lock(&f->lock);
	f->status.events_sent += f->pending.count;
	pthread_mutex_unlock(&f->lock);
	f->pending = (struct batch){ 0 };
	strbuf_reset(&f->out);
	f->out_off = 0;
	return 0;
}

/* Move the cursor over the batches the collector has had for long enough. */
static void confirm(struct forwarder *f, int64_t now, bool all_acked)
{
	int unacked = 0;

	if (f->ninflight == 0 || ioctl(f->fd, SIOCOUTQ, &unacked) != 0)
		return;
	uint64_t acked = raw_written(f) - (uint64_t)unacked;
	size_t done = 0;
	for (size_t i = 0; i < f->ninflight; i++) {
		struct batch *b = &f->inflight[i];
		if (b->end > acked)
			break;
		if (!b->acked_ns)
			b->acked_ns = now;
		if (all_acked || now - b->acked_ns >= CONFIRM_DELAY_NS) {
			consumer_confirm(f->consumer, b->last_id);
			done = i + 1;
		}
	}
	if (done) {
		memmove(f->inflight, f->inflight + done, (f->ninflight - done) * sizeof(*f->inflight));
		f->ninflight -= done;
	}
}

/* The socket is readable or failed: collectors send nothing, so this is a
 * close or an error (TLS may bring session tickets: read and ignore; a
 * peer that talks a lot is read a bounded amount per round). */
static void check_peer(struct forwarder *f, short revents)
{
	char buf[4096], reason[320];
	int reads = 0;

	if (f->ssl) {
		for (;;) {
			ERR_clear_error();
			int rc = SSL_read(f->ssl, buf, sizeof(buf));
			if (rc > 0 && ++reads < 16)
				continue;
			if (rc > 0)
				return;
			int code = SSL_get_error(f->ssl, rc);
			if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE)
				return;
			if (code == SSL_ERROR_ZERO_RETURN || (code == SSL_ERROR_SYSCALL && errno == 0)) {
				connection_lost(f, "the collector closed the connection");
			} else {
				char text[256];
				tls_error_text(text, sizeof(text));
				snprintf(reason, sizeof(reason), "TLS connection failed: %s", text);
				connection_lost(f, reason);
			}
			return;
		}
	}
	for (;;) {
		ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 && ++reads < 16)
			continue;
		if (n > 0)
			return;
		if (n == 0) {
			connection_lost(f, "the collector closed the connection");
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			if (revents & (POLLERR | POLLHUP)) {
				int so_error = 0;
				socklen_t len = sizeof(so_error);
				getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
				snprintf(reason, sizeof(reason), "connection failed: %s",
					 strerror(so_error ? so_error : EPIPE));
				connection_lost(f, reason);
			}
			return;
		}
		snprintf(reason, sizeof(reason), "connection failed: %s", strerror(errno));
		connection_lost(f, reason);
		return;
	}
}

/* ---- RELP (relp.h): the collector acknowledges every message ---- */

static int relp_connect_collector(struct forwarder *f, char *err, size_t err_size)
{
	struct relp_options options = { .host = f->host, .port = f->port, .send_timeout_ms = f->send_timeout_ms,
					.connect_timeout_ms = f->connect_timeout_ms };
	struct strbuf text = STRBUF_INIT;

	f->relp = relp_connect(&options, &text);
	if (!f->relp)
		snprintf(err, err_size, "%s", strbuf_str(&text));
	strbuf_release(&text);
	return f->relp ? 0 : -1;
}

/* Send OUT's messages one by one.  0 all sent, -1 the session failed
 * (closed, rewound to the cursor). */
static int relp_send_batch(struct forwarder *f)
{
	struct strbuf err = STRBUF_INIT;

	while (f->out_off < f->out.len) {
		const char *message;
		size_t len;
		long frame = wire_octet_unframe(f->out.data + f->out_off, f->out.len - f->out_off, &message, &len);
		if (frame <= 0 || relp_send(f->relp, f->batch_ids[f->batch_next], message, len, &err) != 0) {
			if (frame <= 0)
				strbuf_puts(&err, "internal error: a malformed frame");
			connection_lost(f, strbuf_str(&err));
			strbuf_release(&err);
			return -1;
		}
		f->out_off += (size_t)frame;
		f->batch_next++;
		f->last_progress_ns = monotonic_ns();
		consumer_confirm(f->consumer, relp_acked(f->relp));
		pthread_mutex_lock(&f->lock);
		f->status.events_sent++;
		f->status.bytes_sent += len;
		pthread_mutex_unlock(&f->lock);
	}
	strbuf_reset(&f->out);
	f->out_off = 0;
	f->batch_next = 0;
	strbuf_release(&err);
	return 0;
}

/* Close the session cleanly, so that everything sent counts as
 * acknowledged.  0, or -1 (the connection is lost). */
static int relp_settle(struct forwarder *f)
{
	struct strbuf err = STRBUF_INIT;
	struct relp_client *client = f->relp;
	uint64_t acked;

	f->relp = NULL;
	int rc = relp_close(client, &acked, &err);
	consumer_confirm(f->consumer, acked);
	if (rc != 0)
		connection_lost(f, strbuf_str(&err));
	strbuf_release(&err);
	return rc;
}

/* One round of a RELP session (see connected_round). */
static int relp_round(struct forwarder *f, int64_t now)
{
	if (f->out.len == 0 && fill_batch(f) < 0)
		return IDLE_WAIT_MS;   /* the log is unreadable; the error is set */
	if (f->out.len > 0)
		return relp_send_batch(f) < 0 || f->more ? 0 : BUSY_WAIT_MS;
	if (!relp_pending(f->relp))
		return IDLE_WAIT_MS;
	int64_t quiet_ns = now - f->last_progress_ns;
	if (quiet_ns < RELP_SETTLE_NS)
		return (int)((RELP_SETTLE_NS - quiet_ns) / 1000000) + 1;
	char reason[320];
	if (relp_settle(f) == 0) {
		if (relp_connect_collector(f, reason, sizeof(reason)) == 0)
			connected(f);
		else
			connection_lost(f, reason);
	}
	return 0;
}

/* At stop: send what is committed until DEADLINE_NS, then close the
 * session cleanly. */
static void relp_drain(struct forwarder *f, int64_t deadline_ns)
{
	while (f->relp && monotonic_ns() < deadline_ns) {
		if (f->out.len == 0 && fill_batch(f) <= 0)
			break;
		if (relp_send_batch(f) < 0)
			return;
	}
	if (f->relp)
		relp_settle(f);
}

/* ---- the thread ---- */

/* One round while connected.  Returns the poll timeout for the next
 * wait: 0 when there is more to do at once. */
static int connected_round(struct forwarder *f, int64_t now)
{
	if (f->failures && now - f->connected_ns >= HEALTHY_NS) {
		f->failures = 0;
		f->outage_reported = false;
	}
	if (f->relp)
		return relp_round(f, now);
	if (f->out.len == 0) {
		int n = fill_batch(f);
		if (n < 0)
			return IDLE_WAIT_MS;   /* the log is unreadable; the error is set */
	}
	if (f->out.len > 0 && write_some(f) < 0)
		return 0;
	now = monotonic_ns();
	if (f->out.len > 0 && now - f->last_progress_ns >= (int64_t)f->send_timeout_ms * 1000000) {
		char reason[128];
		snprintf(reason, sizeof(reason), "the collector accepted no data for %u s",
			 f->send_timeout_ms / 1000);
		connection_lost(f, reason);
		return 0;
	}
	confirm(f, now, false);
	if (f->out.len > 0)
		return f->want ? BUSY_WAIT_MS : 0;
	if (f->more)
		return 0;
	return f->ninflight ? BUSY_WAIT_MS : IDLE_WAIT_MS;
}

static int forward_wait_fd(void *arg, short *events)
{
	struct forwarder *f = arg;

	*events = POLLIN;
	if (f->fd >= 0 && f->out.len > 0)
		*events |= f->want ? f->want : POLLOUT;
	return f->fd;
}

static void forward_ready(void *arg, struct consumer *c, short revents)
{
	(void)c;
	check_peer(arg, revents);
}

/* At stop: send what is committed, then wait for the collector's TCP to
 * acknowledge it, for at most DRAIN_MS in all. */
static void forward_drain(void *arg, struct consumer *c, int64_t deadline)
{
	struct forwarder *f = arg;

	(void)c;
	if (f->protocol == FORWARD_RELP) {
		relp_drain(f, deadline);
		return;
	}
	while (f->fd >= 0 && monotonic_ns() < deadline) {
		if (f->out.len == 0 && fill_batch(f) <= 0)
			break;
		if (write_some(f) < 0)
			return;
		if (f->out.len > 0 && consumer_wait_ready(f->consumer, f->fd, f->want ? f->want : POLLOUT, deadline, true) <= 0)
			break;
	}
	while (f->fd >= 0 && f->ninflight > 0) {
		int unacked = 0;
		if (ioctl(f->fd, SIOCOUTQ, &unacked) != 0 || unacked == 0 || monotonic_ns() >= deadline)
			break;
		struct timespec pause = { 0, 10 * 1000000 };
		nanosleep(&pause, NULL);
	}
	/* a clean close follows: what the collector's TCP has is delivered */
	if (f->fd >= 0)
		confirm(f, monotonic_ns(), true);
}

/* One round of the consumer's thread: connect (after the back-off), or
 * send and confirm.  Returns the poll timeout for the next wait. */
static int forward_round(void *arg, struct consumer *c)
{
	struct forwarder *f = arg;
	int64_t now = monotonic_ns();
	int timeout = IDLE_WAIT_MS;

	if (f->fd >= 0 || f->relp)
		return connected_round(f, now);
	if (now >= f->next_attempt_ns) {
		char reason[320];
		set_state(f, FORWARDER_CONNECTING);
		if (connect_collector(f, reason, sizeof(reason)) == 0) {
			connected(f);
			timeout = 0;
		} else if (!consumer_stopping(c)) {
			connection_lost(f, reason);
		}
	}
	if (f->fd < 0 && !f->relp) {
		int64_t left = (f->next_attempt_ns - monotonic_ns()) / 1000000;
		timeout = left < 0 ? 0 : left > IDLE_WAIT_MS ? IDLE_WAIT_MS : (int)left + 1;
		pthread_mutex_lock(&f->lock);
		f->status.next_attempt_ms = left < 0 ? 0 : left;
		pthread_mutex_unlock(&f->lock);
	}
	return timeout;
}

static void forward_finish(void *arg, struct consumer *c)
{
	struct forwarder *f = arg;

	(void)c;
	close_connection(f);
	set_state(f, FORWARDER_STOPPED);
}

static const struct consumer_transport forward_transport = {
	.round = forward_round,
	.wait_fd = forward_wait_fd,
	.ready = forward_ready,
	.drain = forward_drain,
	.finish = forward_finish,
	.missed = forward_missed,
};

/* ---- interface ---- */

/* The CA certificates in PEM into CTX's store: 0, or -1 when there is none. */
static int add_pem_cas(SSL_CTX *ctx, const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	int added = 0;

	for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *info = sk_X509_INFO_value(infos, i);
		if (info->x509 && X509_STORE_add_cert(store, info->x509) == 1)
			added++;
		if (info->crl)
			X509_STORE_add_crl(store, info->crl);
	}
	if (infos)
		sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	if (added)
		ERR_clear_error();
	else if (!ERR_peek_error())
		ERR_raise_data(ERR_LIB_PEM, PEM_R_NO_START_LINE, "no certificate");
	return added ? 0 : -1;
}

/* The client certificate, then its chain, in PEM. */
static int use_pem_chain(SSL_CTX *ctx, const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *cert = bio ? PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL) : NULL;
	int rc = cert && SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_clear_chain_certs(ctx) == 1 ? 0 : -1;
	X509 *link;

	X509_free(cert);
	while (rc == 0 && (link = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		if (SSL_CTX_add0_chain_cert(ctx, link) != 1) {
			X509_free(link);
			rc = -1;
		}
	if (rc == 0)
		ERR_clear_error();   /* the end of the file */
	BIO_free(bio);
	return rc;
}

static int use_pem_key(SSL_CTX *ctx, const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	int rc = key && SSL_CTX_use_PrivateKey(ctx, key) == 1 ? 0 : -1;

	EVP_PKEY_free(key);
	BIO_free(bio);
	return rc;
}

/* The TLS context of CONFIG, from the files' contents that the monitor
 * read (forwarder_read_tls_files): the forwarders' process cannot read
 * them itself. */
static SSL_CTX *tls_context(const struct forward_config *config, struct strbuf *err)
{
	char text[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		tls_error_text(text, sizeof(text));
		strbuf_printf(err, "TLS: %s", text);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (config->ca_file ? !config->ca_pem || add_pem_cas(ctx, config->ca_pem) != 0
			    : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_error_text(text, sizeof(text));
		strbuf_printf(err, "cannot load the CA certificates %s: %s",
			      config->ca_file ? config->ca_file : "(system default)", text);
		goto fail;
	}
	if (config->cert_file) {
		if (!config->cert_pem || use_pem_chain(ctx, config->cert_pem) != 0) {
			tls_error_text(text, sizeof(text));
			strbuf_printf(err, "cannot load the client certificate %s: %s", config->cert_file, text);
			goto fail;
		}
		if (!config->key_pem || use_pem_key(ctx, config->key_pem) != 0 || SSL_CTX_check_private_key(ctx) != 1) {
			tls_error_text(text, sizeof(text));
			strbuf_printf(err, "cannot use the client key %s: %s", config->key_file, text);
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Read one file whole into *PEM. */
static int read_pem(const char *path, char **pem, const char *what, struct strbuf *err)
{
	FILE *file = fopen(path, "re");
	struct strbuf text = STRBUF_INIT;
	char buf[4096];
	size_t n;

	if (!file) {
		strbuf_printf(err, "cannot load the %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), file)) > 0 && text.len < (16u << 20))
		strbuf_append(&text, buf, n);
	bool failed = ferror(file);
	fclose(file);
	if (failed) {
		strbuf_printf(err, "cannot load the %s %s: %s", what, path, strerror(EIO));
		strbuf_release(&text);
		return -1;
	}
	free(*pem);
	*pem = xstrdup(strbuf_str(&text));
	strbuf_release(&text);
	return 0;
}

int forwarder_read_tls_files(struct forward_config *config, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	int rc = 0;

	if (config->protocol != FORWARD_TLS)
		return 0;
	if ((config->ca_file && read_pem(config->ca_file, &config->ca_pem, "CA certificates", &why) != 0) ||
	    (config->cert_file && read_pem(config->cert_file, &config->cert_pem, "client certificate", &why) != 0) ||
	    (config->key_file && read_pem(config->key_file, &config->key_pem, "client key", &why) != 0)) {
		strbuf_printf(err, "forwarder %s: %s", config->name, why.data);
		rc = -1;
	}
	strbuf_release(&why);
	return rc;
}

int forwarder_check_config(const struct forward_config *config, struct strbuf *err)
{
	if (config->protocol != FORWARD_TLS)
		return 0;
	struct forward_config copy = *config;
	struct strbuf tls_err = STRBUF_INIT;
	bool read_here = !config->ca_pem && !config->cert_pem;
	int rc = -1;

	if (read_here) {
		copy.ca_pem = copy.cert_pem = copy.key_pem = NULL;
		if (forwarder_read_tls_files(&copy, err) != 0)
			goto out;
	}
	SSL_CTX *ctx = tls_context(&copy, &tls_err);
	if (!ctx) {
		strbuf_printf(err, "forwarder %s: %s", config->name, tls_err.data);
		goto out;
	}
	SSL_CTX_free(ctx);
	rc = 0;
out:
	if (read_here) {
		free(copy.ca_pem);
		free(copy.cert_pem);
		free(copy.key_pem);
	}
	strbuf_release(&tls_err);
	return rc;
}

void forwarder_address(const struct forward_config *config, char *buf, size_t size)
{
	snprintf(buf, size, "%s://%s%s%s:%s", outputs_protocol_name(config->protocol),
		 strchr(config->host, ':') ? "[" : "", config->host, strchr(config->host, ':') ? "]" : "",
		 config->port);
}

void forwarder_free(struct forwarder *f)
{
	if (!f)
		return;
	consumer_free(f->consumer);   /* the thread ends first */
	free(f->name);
	free(f->host);
	free(f->port);
	free(f->server_name);
	if (f->tls)
		SSL_CTX_free(f->tls);
	pthread_mutex_destroy(&f->lock);
	strbuf_release(&f->out);
	strbuf_release(&f->message);
	free(f->inflight);
	free(f);
}

struct forwarder *forwarder_start(const struct forward_config *config, const char *log_path,
				  const char *state_dir, const struct field_sizes *field_sizes,
				  struct strbuf *err)
{
	struct forwarder *f = xcalloc(1, sizeof(*f));
	struct strbuf path = STRBUF_INIT, name = STRBUF_INIT, extra = STRBUF_INIT;

	pthread_mutex_init(&f->lock, NULL);
	f->fd = -1;
	f->name = xstrdup(config->name);
	f->host = xstrdup(config->host);
	f->port = xstrdup(config->port);
	f->server_name = config->server_name ? xstrdup(config->server_name) : NULL;
	f->protocol = config->protocol;
	f->max_message = config->max_message;
	f->reconnect_min_ms = config->reconnect_min_ms;
	f->reconnect_max_ms = config->reconnect_max_ms;
	f->send_timeout_ms = config->send_timeout_ms;
	f->connect_timeout_ms = config->connect_timeout_ms;
	f->jitter_seed = (unsigned)getpid() ^ (unsigned)clock_ns(CLOCK_REALTIME);
	forwarder_address(config, f->status.address, sizeof(f->status.address));
	f->status.state = FORWARDER_STARTING;
	if (config->protocol == FORWARD_TLS) {
		struct strbuf tls_err = STRBUF_INIT;
		f->tls = tls_context(config, &tls_err);
		if (!f->tls) {
			strbuf_printf(err, "forwarder %s: %s", config->name, tls_err.data);
			strbuf_release(&tls_err);
			forwarder_free(f);
			return NULL;
		}
	}
	forwarder_cursor_path(state_dir, config->name, &path);
	strbuf_printf(&name, "forwarder %s (%s)", config->name, f->status.address);
	strbuf_printf(&extra, "collector=%s\n", f->status.address);
	struct consumer_options options = {
		.name = name.data, .log_path = log_path, .cursor_path = path.data, .cursor_extra = extra.data,
		.from_oldest = !config->start_at_newest, .at_least_once = true,
		.output = { .arg = f, .deliver = forward_deliver, .transport = &forward_transport },
		.format = { .field_sizes = field_sizes },
	};
	f->consumer = consumer_new(&options, err);
	strbuf_release(&path);
	strbuf_release(&name);
	strbuf_release(&extra);
	if (!f->consumer || consumer_run(f->consumer, err) != 0) {
		forwarder_free(f);
		return NULL;
	}
	return f;
}

void forwarder_wake(struct forwarder *f)
{
	consumer_wake(f->consumer);
}

void forwarder_set_field_sizes(struct forwarder *f, const struct field_sizes *field_sizes)
{
	consumer_set_field_sizes(f->consumer, field_sizes);
}

void forwarder_get_status(struct forwarder *f, struct forwarder_status *status)
{
	struct consumer_status cs;

	consumer_get_status(f->consumer, &cs);
	pthread_mutex_lock(&f->lock);
	*status = f->status;
	pthread_mutex_unlock(&f->lock);
	status->cursor = cs.cursor;
	status->sent_id = cs.read_to;
	status->last_log_id = cs.last_log_id;
	status->skipped = cs.missed;
	snprintf(status->last_error, sizeof(status->last_error), "%s", cs.last_error);
	status->last_error_time = cs.last_error_time;
}

bool forwarder_next_problem(struct forwarder *f, struct strbuf *text)
{
	return consumer_next_problem(f->consumer, text);
}

const char *forwarder_name(const struct forwarder *f)
{
	return f->name;
}

void forwarder_request_stop(struct forwarder *f, unsigned drain_ms)
{
	consumer_request_stop(f->consumer, drain_ms);
}

void forwarder_stop(struct forwarder *f)
{
	consumer_stop(f->consumer);
}
