/*
 * Local syslog sink (interface: syslog_sink.h).  glibc's syslog() would
 * block the monitor when the syslog daemon is slow (the datagram socket's
 * queue fills); this writes the same datagrams with MSG_DONTWAIT instead.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "output/syslog_sink.h"
#include "output/wire.h"
#include "util/clock.h"
#include "util/errtext.h"

#define RECONNECT_INTERVAL_NS (1000 * 1000000LL)
#define CLOSE_DRAIN_NS (1000 * 1000000LL)

struct syslog_sink {
	char *socket_path;
	unsigned max_message;
	uint64_t queue_limit;
	int fd;
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
	errtext_set(sink->stats.last_error, sizeof(sink->stats.last_error), what,
		    sink->socket_path, error);
}

static void disconnect(struct syslog_sink *sink)
{
	if (sink->fd >= 0)
		close(sink->fd);
	sink->fd = -1;
	sink->stats.connected = false;
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
	sink->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sink->fd < 0) {
		set_error(sink, "cannot create a socket for", errno);
		return -1;
	}
	if (connect(sink->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		set_error(sink, "cannot connect to", errno);
		disconnect(sink);
		return -1;
	}
	sink->stats.connected = true;
	sink->ever_connected = true;
	return 0;
}

struct syslog_sink *syslog_sink_open(const struct syslog_config *config)
{
	struct syslog_sink *sink = xcalloc(1, sizeof(*sink));

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
		if (send(sink->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			sink->stats.sent++;
			return 1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ENOBUFS)
			return 0;
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

void syslog_sink_get_stats(const struct syslog_sink *sink, struct syslog_sink_stats *stats)
{
	*stats = sink->stats;
}

void syslog_sink_close(struct syslog_sink *sink)
{
	if (!sink)
		return;
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
	disconnect(sink);
	strbuf_release(&sink->queue);
	strbuf_release(&sink->message);
	free(sink->socket_path);
	free(sink);
}
