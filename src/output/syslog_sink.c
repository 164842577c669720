/*
 * Local syslog sink (interface: syslog_sink.h).  Fed by a consumer of the
 * event log, it sends like glibc's syslog(): blocking, so a busy syslog
 * daemon slows the consumer, never the monitor, and loses nothing.
 * Without an event log it is fed by the monitor itself and writes with
 * MSG_DONTWAIT instead, queueing what syslog does not take at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "output/syslog_sink.h"
#include "output/wire.h"
#include "util/clock.h"
#include "util/errtext.h"

#define RECONNECT_INTERVAL_NS (1000 * 1000000LL)
#define CLOSE_DRAIN_NS (1000 * 1000000LL)
/* Blocking sends give up after this (the consumer retries), so a stop is
 * never held up by a syslog daemon that reads nothing. */
#define SEND_TIMEOUT_MS 250
#define WATCH_INTERVAL_NS (1000 * 1000000LL)
#define WATCH_READ_MAX (4u << 20)

struct syslog_sink {
	char *socket_path;
	unsigned max_message;
	uint64_t queue_limit;
	bool blocking;
	int fd;
	/* the syslog daemon's own log, read for imuxsock's rate limiting */
	char *daemon_log;
	uint64_t watch_offset;
	uint64_t watch_inode;
	int64_t last_watch_ns;
	struct strbuf watch_line;   /* a line not complete yet */
	pthread_mutex_t lock;       /* guards STATS: read by the monitor's thread */
	int64_t last_attempt_ns;
	bool ever_connected;        /* a restart of syslog is waited for; no syslog is not */
	/* waiting messages: [4-byte length][bytes]..., from QUEUE_HEAD on */
	struct strbuf queue;
	size_t queue_head;
	struct strbuf message;
	struct syslog_sink_stats stats;
};

static void set_error(struct syslog_sink *sink, const char *what, int error)
{
	pthread_mutex_lock(&sink->lock);
	errtext_set(sink->stats.last_error, sizeof(sink->stats.last_error), what,
		    sink->socket_path, error);
	pthread_mutex_unlock(&sink->lock);
}

static void disconnect(struct syslog_sink *sink)
{
	if (sink->fd >= 0)
		close(sink->fd);
	sink->fd = -1;
	pthread_mutex_lock(&sink->lock);
	sink->stats.connected = false;
	pthread_mutex_unlock(&sink->lock);
}

static int connect_socket(struct syslog_sink *sink)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	sink->last_attempt_ns = monotonic_ns();
	if (strlen(sink->socket_path) >= sizeof(addr.sun_path)) {
		set_error(sink, "path too long:", ENAMETOOLONG);
		return -1;
	}
	strcpy(addr.sun_path, sink->socket_path);
	sink->fd = socket(AF_UNIX, SOCK_DGRAM | (sink->blocking ? 0 : SOCK_NONBLOCK) | SOCK_CLOEXEC, 0);
	if (sink->fd < 0) {
		set_error(sink, "cannot create a socket for", errno);
		return -1;
	}
	struct timeval timeout = { 0, SEND_TIMEOUT_MS * 1000 };
	if (sink->blocking)
		setsockopt(sink->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	if (connect(sink->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		set_error(sink, "cannot connect to", errno);
		disconnect(sink);
		return -1;
	}
	pthread_mutex_lock(&sink->lock);
	sink->stats.connected = true;
	pthread_mutex_unlock(&sink->lock);
	sink->ever_connected = true;
	return 0;
}

/* Start reading the daemon's log at its end: only what it writes from now
 * on is about us. */
static void watch_start(struct syslog_sink *sink)
{
	struct stat st;

	if (sink->daemon_log && stat(sink->daemon_log, &st) == 0) {
		sink->watch_offset = (uint64_t)st.st_size;
		sink->watch_inode = (uint64_t)st.st_ino;
	}
}

struct syslog_sink *syslog_sink_open(const struct syslog_config *config, bool blocking)
{
	struct syslog_sink *sink = xcalloc(1, sizeof(*sink));

	pthread_mutex_init(&sink->lock, NULL);
	sink->blocking = blocking;
	if (config->daemon_log && strcmp(config->daemon_log, "none") != 0)
		sink->daemon_log = xstrdup(config->daemon_log);
	watch_start(sink);
	sink->socket_path = xstrdup(config->socket_path);
	sink->max_message = config->max_message;
	sink->queue_limit = config->queue_bytes;
	sink->fd = -1;
	connect_socket(sink);
	return sink;
}

/* 1 sent, 0 try later (queue it), -1 refused for good (dropped). */
static int send_message(struct syslog_sink *sink, const char *data, size_t len)
{
	if (sink->fd < 0)
		return 0;
	for (;;) {
		if (send(sink->fd, data, len, (sink->blocking ? 0 : MSG_DONTWAIT) | MSG_NOSIGNAL) >= 0) {
			pthread_mutex_lock(&sink->lock);
			sink->stats.sent++;
			pthread_mutex_unlock(&sink->lock);
			return 1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ENOBUFS) {
			if (sink->blocking)
				set_error(sink, "no room for", errno);
			return 0;
		}
		if (errno == EMSGSIZE) {
			set_error(sink, "message too long for", errno);
			return -1;
		}
		/* the daemon went away (restart): reconnect later */
		set_error(sink, "cannot send to", errno);
		disconnect(sink);
		return 0;
	}
}

static void drain_queue(struct syslog_sink *sink)
{
	while (sink->queue_head < sink->queue.len) {
		uint32_t len;
		memcpy(&len, sink->queue.data + sink->queue_head, sizeof(len));
		int rc = send_message(sink, sink->queue.data + sink->queue_head + sizeof(len), len);
		if (rc == 0)
			break;
		if (rc < 0)
			sink->stats.dropped++;
		sink->queue_head += sizeof(len) + len;
		sink->stats.queued--;
	}
	if (sink->queue_head == sink->queue.len) {
		strbuf_reset(&sink->queue);
		sink->queue_head = 0;
	} else if (sink->queue_head > sink->queue.len / 2) {
		memmove(sink->queue.data, sink->queue.data + sink->queue_head,
			sink->queue.len - sink->queue_head);
		sink->queue.len -= sink->queue_head;
		sink->queue_head = 0;
	}
}

static void enqueue(struct syslog_sink *sink, const char *data, size_t len)
{
	if (sink->queue.len - sink->queue_head + len + 4 > sink->queue_limit) {
		sink->stats.dropped++;
		return;
	}
	uint32_t len32 = (uint32_t)len;
	strbuf_append(&sink->queue, (const char *)&len32, sizeof(len32));
	strbuf_append(&sink->queue, data, len);
	sink->stats.queued++;
}

void syslog_sink_write(struct syslog_sink *sink, const struct event *ev, const struct format_context *ctx)
{
	/* no syslog daemon since we started: as glibc's syslog(), drop at once
	 * (the event log has it), without spending time on formatting */
	if (sink->fd < 0 && !sink->ever_connected) {
		sink->stats.dropped++;
		return;
	}
	strbuf_reset(&sink->message);
	if (wire_local_message(&sink->message, ev, ctx, sink->max_message, event_now_ns()) > 0)
		sink->stats.trimmed++;
	if (sink->queue_head < sink->queue.len)
		drain_queue(sink);
	if (sink->queue_head < sink->queue.len) {
		enqueue(sink, sink->message.data, sink->message.len);
		return;
	}
	int rc = send_message(sink, sink->message.data, sink->message.len);
	if (rc == 0)
		enqueue(sink, sink->message.data, sink->message.len);
	else if (rc < 0)
		sink->stats.dropped++;
}

void syslog_sink_tick(struct syslog_sink *sink)
{
	if (sink->fd < 0 && monotonic_ns() - sink->last_attempt_ns >= RECONNECT_INTERVAL_NS)
		connect_socket(sink);
	if (sink->fd >= 0)
		drain_queue(sink);
}

int syslog_sink_deliver(struct syslog_sink *sink, const struct event *ev, const struct format_context *ctx)
{
	if (sink->fd < 0 && connect_socket(sink) != 0)
		return 0;
	strbuf_reset(&sink->message);
	bool trimmed = wire_local_message(&sink->message, ev, ctx, sink->max_message, event_now_ns()) > 0;
	int rc = send_message(sink, sink->message.data, sink->message.len);
	pthread_mutex_lock(&sink->lock);
	if (rc != 0 && trimmed)
		sink->stats.trimmed++;
	if (rc < 0)
		sink->stats.dropped++;
	pthread_mutex_unlock(&sink->lock);
	return rc;
}

/* One line of the daemon's log: rsyslog's imuxsock, when it rate-limits
 * a sender, writes (as rsyslogd, message number 2177)
 *   rsyslogd-2177: imuxsock[pid: PID, name: ...] from <HOST:TAG>: begin to drop messages due to rate-limiting
 *   rsyslogd-2177: imuxsock[pid: PID, name: ...]: N messages lost due to rate-limiting (B allowed within I seconds)
 * (the second when the sender writes again after the interval).  Only a
 * report at the head of a line counts: an event quoting such a text comes
 * after its "<Event>". */
static void watch_line(struct syslog_sink *sink, const char *line)
{
	static const char tag[] = "rsyslogd-2177: imuxsock[pid: ";
	const char *head = strstr(line, tag), *lost;
	unsigned long long count;
	char *end;

	if (!head || memchr(line, '<', (size_t)(head - line)))
		return;
	head += sizeof(tag) - 1;
	if (strtol(head, &end, 10) != (long)getpid() || *end != ',')
		return;
	pthread_mutex_lock(&sink->lock);
	if (strstr(end, "begin to drop messages due to rate-limiting")) {
		sink->stats.rate_limited++;
	} else if ((lost = strstr(end, "]: ")) && sscanf(lost + 3, "%llu", &count) == 1 &&
		   strstr(lost, " messages lost due to rate-limiting")) {
		sink->stats.daemon_lost += count;
	}
	pthread_mutex_unlock(&sink->lock);
}

void syslog_sink_watch(struct syslog_sink *sink, bool now)
{
	struct stat st;
	int64_t now_ns = monotonic_ns();

	if (!sink->daemon_log || (!now && now_ns - sink->last_watch_ns < WATCH_INTERVAL_NS))
		return;
	sink->last_watch_ns = now_ns;
	int fd = open(sink->daemon_log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return;
	}
	/* rotated (a new file) or truncated: read it from its start */
	if ((uint64_t)st.st_ino != sink->watch_inode || (uint64_t)st.st_size < sink->watch_offset) {
		sink->watch_inode = (uint64_t)st.st_ino;
		sink->watch_offset = 0;
		strbuf_reset(&sink->watch_line);
	}
	char buf[65536];
	uint64_t budget = WATCH_READ_MAX;
	ssize_t n;
	while (budget > 0 && (n = pread(fd, buf, sizeof(buf), (off_t)sink->watch_offset)) > 0) {
		sink->watch_offset += (uint64_t)n;
		budget -= (uint64_t)n < budget ? (uint64_t)n : budget;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				/* only the head of a line can name imuxsock: events are long */
				if (sink->watch_line.len < 1024)
					strbuf_putc(&sink->watch_line, buf[i]);
				continue;
			}
			watch_line(sink, strbuf_str(&sink->watch_line));
			strbuf_reset(&sink->watch_line);
		}
	}
	close(fd);
}

void syslog_sink_get_stats(struct syslog_sink *sink, struct syslog_sink_stats *stats)
{
	pthread_mutex_lock(&sink->lock);
	*stats = sink->stats;
	pthread_mutex_unlock(&sink->lock);
}

void syslog_sink_drain(struct syslog_sink *sink)
{
	/* at stop, give a busy syslog a moment for what waits */
	int64_t deadline = monotonic_ns() + CLOSE_DRAIN_NS;
	while (sink->fd >= 0) {
		drain_queue(sink);
		int64_t left = deadline - monotonic_ns();
		if (sink->queue_head == sink->queue.len || left <= 0)
			break;
		struct pollfd pfd = { .fd = sink->fd, .events = POLLOUT };
		poll(&pfd, 1, (int)(left / 1000000) + 1);
	}
	/* what still waits now is lost */
	pthread_mutex_lock(&sink->lock);
	sink->stats.dropped += sink->stats.queued;
	sink->stats.queued = 0;
	pthread_mutex_unlock(&sink->lock);
	strbuf_reset(&sink->queue);
	sink->queue_head = 0;
}

void syslog_sink_close(struct syslog_sink *sink)
{
	if (!sink)
		return;
	if (!sink->blocking)
		syslog_sink_drain(sink);
	disconnect(sink);
	strbuf_release(&sink->queue);
	strbuf_release(&sink->message);
	strbuf_release(&sink->watch_line);
	pthread_mutex_destroy(&sink->lock);
	free(sink->socket_path);
	free(sink->daemon_log);
	free(sink);
}
