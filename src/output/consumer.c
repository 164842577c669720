/*
 * Event log consumer thread (interface: consumer.h).
 *
 * The loop: read up to CONSUMER_BATCH_RECORDS records after READ_POS, offer each to
 * the output; at the end of the batch flush the output, and only then move
 * the cursor over what it took.  An output that is away (0 from deliver, a
 * failed flush) is retried from the cursor after RETRY_MS.  Records missing
 * between the cursor and the oldest one in the log were dropped by the
 * log's size bound: they are counted once, and the cursor moves past them.
 *
 * A transport (a forwarder) runs the rounds itself: it reads batches with
 * consumer_read_batch, and the cursor follows its confirmations, behind
 * the read position while batches are in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output/consumer.h"
#include "store/eventlog.h"
#include "util/clock.h"

#define RETRY_MS 1000
#define IDLE_WAIT_MS 1000
#define CURSOR_SAVE_INTERVAL_NS (1000 * 1000000LL)
#define LOG_LOOK_INTERVAL_NS (1000 * 1000000LL)
/* Missed records are reported at once, then at most this often (the sum). */
#define MISSED_REPORT_INTERVAL_NS (60 * 1000000000LL)

struct consumer {
	/* set before the thread starts, read-only after */
	char *name, *log_path, *cursor_path, *cursor_extra;
	struct consumer_output output;
	bool at_least_once;
	int cursor_found;           /* consumer_read_cursor's result at the start */
	uint64_t start_cursor;      /* the cursor then, or where to start without one */
	int wake_fd;
	pthread_t thread;
	bool thread_started, joined;
	atomic_bool stop;
	unsigned drain_ms;

	pthread_mutex_t lock;       /* guards the members below */
	struct consumer_status status;
	struct strbuf problems;     /* lines, each ending in '\n' */
	struct field_sizes shared_sizes;
	bool sizes_changed;

	/* the thread's own */
	struct eventlog *log;
	struct format_context format;
	char computer[256];
	struct field_sizes sizes;
	uint64_t cursor, saved;
	uint64_t read_pos;          /* offered up to here (a transport: ahead of the cursor) */
	uint64_t gap_counted_to;    /* a gap before this record was counted */
	uint64_t missed_unreported;
	bool ever_available, failing, save_error_reported;
	int64_t last_save_ns, last_look_ns, last_missed_report_ns;
	struct event ev;
};

void consumer_add_problem(struct consumer *c, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->lock);
	if (c->problems.len < OUTPUT_PROBLEMS_MAX) {
		strbuf_printf(&c->problems, "%s: ", c->name);
		va_start(ap, fmt);
		strbuf_vprintf(&c->problems, fmt, ap);
		va_end(ap);
		strbuf_putc(&c->problems, '\n');
	}
	pthread_mutex_unlock(&c->lock);
}

void consumer_set_error(struct consumer *c, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->lock);
	va_start(ap, fmt);
	vsnprintf(c->status.last_error, sizeof(c->status.last_error), fmt, ap);
	va_end(ap);
	c->status.last_error_time = clock_ns(CLOCK_REALTIME);
	pthread_mutex_unlock(&c->lock);
}

/* ---- cursor files ---- */

int consumer_read_cursor(const char *path, uint64_t *record_id)
{
	FILE *file = fopen(path, "re");
	char line[512];
	bool found = false;

	*record_id = 0;
	if (!file)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), file)) {
		unsigned long long value;
		char end;
		if (sscanf(line, "record_id=%llu%c", &value, &end) == 2 && end == '\n') {
			*record_id = value;
			found = true;
		}
	}
	fclose(file);
	return found ? 1 : -1;
}

int consumer_save_cursor(const char *path, uint64_t record_id, const char *extra)
{
	struct strbuf tmp = STRBUF_INIT, text = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	int rc = -1;

	if (slash && slash != path) {
		char *dir = xstrndup(path, (size_t)(slash - path));
		int made = mkdir(dir, 0750);
		free(dir);
		if (made != 0 && errno != EEXIST)
			goto out;
	}
	strbuf_printf(&tmp, "%s.tmp", path);
	strbuf_printf(&text, "# sysmon cursor: every event up to this EventRecordID was delivered\n"
		      "record_id=%" PRIu64 "\n%s", record_id, extra ? extra : "");
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		goto out;
	bool ok = write(fd, text.data, text.len) == (ssize_t)text.len && fsync(fd) == 0;
	close(fd);
	if (!ok || rename(tmp.data, path) != 0) {
		int saved_errno = errno;
		unlink(tmp.data);
		errno = saved_errno;
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&tmp);
	strbuf_release(&text);
	return rc;
}

static void save_cursor(struct consumer *c)
{
	if (!c->cursor_path || c->cursor == c->saved)
		return;
	struct strbuf extra = STRBUF_INIT;
	strbuf_printf(&extra, "log=%s\n%s", c->log_path, c->cursor_extra ? c->cursor_extra : "");
	if (consumer_save_cursor(c->cursor_path, c->cursor, extra.data) == 0) {
		c->saved = c->cursor;
	} else {
		int error = errno;
		consumer_set_error(c, "cannot save the cursor in %s: %s", c->cursor_path, strerror(error));
		if (!c->save_error_reported)
			consumer_add_problem(c, "cannot save the cursor in %s: %s", c->cursor_path, strerror(error));
		c->save_error_reported = true;
	}
	strbuf_release(&extra);
}

/* ---- the event log ---- */

bool consumer_stopping(struct consumer *c)
{
	return atomic_load(&c->stop);
}

static void take_wake(struct consumer *c)
{
	uint64_t count;

	if (read(c->wake_fd, &count, sizeof(count)) < 0)
		count = 0;
}

/* Wait for a wake-up (new records, stop) or the transport's connection,
 * for at most MS. */
static void wait_round(struct consumer *c, int ms)
{
	const struct consumer_transport *t = c->output.transport;
	struct pollfd pfd[2] = { { .fd = c->wake_fd, .events = POLLIN }, { .fd = -1 } };

	if (t)
		pfd[1].fd = t->wait_fd(c->output.arg, &pfd[1].events);
	if (poll(pfd, pfd[1].fd >= 0 ? 2 : 1, ms) <= 0)
		return;
	if (pfd[0].revents)
		take_wake(c);
	if (pfd[1].fd >= 0 && (pfd[1].revents & (POLLIN | POLLERR | POLLHUP)))
		t->ready(c->output.arg, c, pfd[1].revents);
}

int consumer_wait_ready(struct consumer *c, int fd, short events, int64_t deadline_ns, bool draining)
{
	for (;;) {
		if (atomic_load(&c->stop) && !draining)
			return -1;
		int64_t left = deadline_ns - monotonic_ns();
		if (left <= 0)
			return 0;
		struct pollfd pfd[2] = { { .fd = fd, .events = events }, { .fd = c->wake_fd, .events = POLLIN } };
		int rc = poll(pfd, 2, (int)(left / 1000000 + 1));
		if (rc < 0 && errno != EINTR)
			return -1;
		if (rc > 0 && pfd[1].revents)
			take_wake(c);
		if (rc > 0 && pfd[0].revents)
			return 1;
	}
}

static int open_log(struct consumer *c)
{
	struct strbuf err = STRBUF_INIT;
	bool reported = false;

	while (!atomic_load(&c->stop)) {
		c->log = eventlog_open_readonly(c->log_path, &err);
		if (c->log)
			break;
		consumer_set_error(c, "cannot read the event log: %s", strbuf_str(&err));
		if (!reported)
			consumer_add_problem(c, "cannot read the event log: %s", strbuf_str(&err));
		reported = true;
		strbuf_reset(&err);
		wait_round(c, IDLE_WAIT_MS);
	}
	strbuf_release(&err);
	return c->log ? 0 : -1;
}

static void init_cursor(struct consumer *c)
{
	uint64_t cursor = c->start_cursor;
	int rc = c->cursor_found;
	struct eventlog_info info;
	struct strbuf err = STRBUF_INIT;

	if (rc < 0)
		consumer_add_problem(c, "the cursor file %s is unreadable; %s", c->cursor_path,
				     c->at_least_once ? "sending the whole event log again"
						      : "starting after the records logged so far");
	if (cursor > 0 && eventlog_get_info(c->log, &info, &err) == 0 && cursor >= info.next_record_id) {
		consumer_add_problem(c, "the cursor (record %" PRIu64 ") is ahead of the event log (next record %"
				     PRIu64 "): the log is new; %s", cursor, info.next_record_id,
				     c->at_least_once ? "sending it from its start" : "reading it from its start");
		cursor = 0;
	}
	strbuf_release(&err);
	c->cursor = c->read_pos = cursor;
	c->saved = rc > 0 ? cursor : UINT64_MAX;   /* a new or reset cursor is saved at once */
	pthread_mutex_lock(&c->lock);
	c->status.cursor = c->status.read_to = cursor;
	c->status.last_log_id = eventlog_newest_record_id(c->log);
	pthread_mutex_unlock(&c->lock);
	save_cursor(c);
}

/* The records between the read position and FIRST_ID (the first one read)
 * are gone if FIRST_ID is the oldest record left: count them, once (a
 * consumer delivering at least once owes nothing from before the log's
 * oldest record while it is at 0). */
static void count_missed(struct consumer *c, uint64_t first_id)
{
	if (first_id <= c->read_pos + 1 || first_id <= c->gap_counted_to ||
	    (c->at_least_once && c->read_pos == 0) || first_id != eventlog_oldest_record_id(c->log))
		return;
	uint64_t missed = first_id - c->read_pos - 1;
	uint64_t from = c->read_pos + 1;
	c->gap_counted_to = first_id;
	if (c->cursor == c->read_pos)
		c->cursor = first_id - 1;
	c->read_pos = first_id - 1;
	pthread_mutex_lock(&c->lock);
	c->status.missed += missed;
	c->status.cursor = c->cursor;
	pthread_mutex_unlock(&c->lock);
	if (c->output.transport && c->output.transport->missed)
		c->output.transport->missed(c->output.arg, c, from, first_id - 1);
	else
		c->missed_unreported += missed;
}

/* Report the missed records not reported yet: at once the first time,
 * then at most every MISSED_REPORT_INTERVAL_NS, and at stop (FORCE).  An
 * output that was never there in this run (no syslog daemon) is only
 * shown in the status, as Sysmon for Linux ignores it. */
static void report_missed(struct consumer *c, int64_t now, bool force)
{
	if (!c->missed_unreported || !c->ever_available)
		return;
	if (!force && c->last_missed_report_ns && now - c->last_missed_report_ns < MISSED_REPORT_INTERVAL_NS)
		return;
	consumer_add_problem(c, "%" PRIu64 " events left the event log (its size bound, or a clear) before "
			     "they could be delivered (%" PRIu64 " in all since the start)",
			     c->missed_unreported, c->status.missed);
	c->missed_unreported = 0;
	c->last_missed_report_ns = now;
}

static void output_away(struct consumer *c, const char *why)
{
	pthread_mutex_lock(&c->lock);
	c->status.available = false;
	c->status.retries++;
	snprintf(c->status.last_error, sizeof(c->status.last_error), "%s", why);
	c->status.last_error_time = clock_ns(CLOCK_REALTIME);
	pthread_mutex_unlock(&c->lock);
	if (!c->failing && c->ever_available)
		consumer_add_problem(c, "%s; the events wait in the event log", why);
	c->failing = true;
}

void consumer_confirm(struct consumer *c, uint64_t record_id)
{
	if (record_id <= c->cursor)
		return;
	c->cursor = record_id;
	c->ever_available = true;
	c->failing = false;   /* the next outage is reported again */
	pthread_mutex_lock(&c->lock);
	c->status.cursor = c->cursor;
	pthread_mutex_unlock(&c->lock);
}

void consumer_rewind(struct consumer *c)
{
	c->read_pos = c->cursor;
	pthread_mutex_lock(&c->lock);
	c->status.read_to = c->read_pos;
	pthread_mutex_unlock(&c->lock);
}

/* The batch read by consumer_read_batch: what the output did with it. */
struct batch_result {
	uint64_t delivered, refused;
	bool away;
	char why[256];
};

static int read_batch(struct consumer *c, struct batch_result *result)
{
	struct eventlog_bind bind = { .kind = BIND_INT, .number = (int64_t)c->read_pos };
	struct eventlog_select select = { .where = "EventRecordID > ?", .binds = &bind, .nbinds = 1 };
	struct strbuf err = STRBUF_INIT;
	unsigned origin_id;
	int n = 0, rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->sizes_changed) {
		c->sizes = c->shared_sizes;
		c->sizes_changed = false;
	}
	pthread_mutex_unlock(&c->lock);

	struct eventlog_cursor *cursor = eventlog_select(c->log, &select, &err);
	if (!cursor)
		rc = -1;
	while (cursor && n < CONSUMER_BATCH_RECORDS && (rc = eventlog_next(cursor, &c->ev, &origin_id, &err)) == 1) {
		if (n++ == 0)
			count_missed(c, c->ev.record_id);
		eventlog_origin(c->log, origin_id, &c->format.computer, &c->format.process_id,
				&c->format.thread_id);
		int taken = c->output.deliver(c->output.arg, &c->ev, &c->format, result->why);
		if (taken == 0) {
			result->away = true;
			break;
		}
		if (taken < 0)
			result->refused++;
		else
			result->delivered++;
		c->read_pos = c->ev.record_id;
	}
	/* the read transaction ends here, so the monitor's checkpoints go on */
	eventlog_cursor_free(cursor);
	if (rc < 0) {
		consumer_set_error(c, "cannot read the event log: %s", strbuf_str(&err));
		strbuf_release(&err);
		return -1;
	}
	strbuf_release(&err);
	pthread_mutex_lock(&c->lock);
	c->status.read_to = c->read_pos;
	c->status.delivered += result->delivered;
	c->status.refused += result->refused;
	if (c->read_pos > c->status.last_log_id)
		c->status.last_log_id = c->read_pos;
	pthread_mutex_unlock(&c->lock);
	return n;
}

int consumer_read_batch(struct consumer *c)
{
	struct batch_result result = { 0 };

	return read_batch(c, &result);
}

/* A local output's batch: 1 more to read at once, 0 caught up or waiting,
 * -1 the output is away (retry later). */
static int consume_batch(struct consumer *c)
{
	struct batch_result result = { 0 };
	int n = read_batch(c, &result);

	if (n < 0) {
		consumer_rewind(c);
		return -1;
	}
	if (c->output.flush && c->output.flush(c->output.arg, result.why) != 0) {
		consumer_rewind(c);
		output_away(c, result.why);
		return -1;   /* offered again from the cursor */
	}
	consumer_confirm(c, c->read_pos);
	pthread_mutex_lock(&c->lock);
	if (!result.away)
		c->status.available = true;
	if (result.refused)
		snprintf(c->status.last_error, sizeof(c->status.last_error), "%s", result.why);
	pthread_mutex_unlock(&c->lock);
	if (result.refused)
		consumer_add_problem(c, "%" PRIu64 " events refused: %s", result.refused, result.why);
	if (result.away) {
		output_away(c, result.why);
		return -1;
	}
	return n == CONSUMER_BATCH_RECORDS;
}

/* A round of a local output: the wait before the next one. */
static int local_round(struct consumer *c)
{
	int rc = consume_batch(c);

	return rc > 0 ? 0 : rc < 0 ? RETRY_MS : IDLE_WAIT_MS;
}

static void look_at_log(struct consumer *c, int64_t now)
{
	if (now - c->last_look_ns < LOG_LOOK_INTERVAL_NS)
		return;
	c->last_look_ns = now;
	uint64_t newest = eventlog_newest_record_id(c->log);
	pthread_mutex_lock(&c->lock);
	c->status.last_log_id = newest;
	pthread_mutex_unlock(&c->lock);
}

/* At stop: deliver what is committed, for at most DRAIN_MS, unless the
 * output is away (the cursor keeps the rest for the next start). */
static void drain(struct consumer *c)
{
	int64_t deadline = monotonic_ns() + (int64_t)c->drain_ms * 1000000;

	if (c->output.transport) {
		c->output.transport->drain(c->output.arg, c, deadline);
		return;
	}
	while (monotonic_ns() < deadline && consume_batch(c) > 0)
		;
}

static void *consumer_main(void *arg)
{
	struct consumer *c = arg;
	const struct consumer_transport *t = c->output.transport;

	if (open_log(c) != 0)
		goto out;
	init_cursor(c);
	pthread_mutex_lock(&c->lock);
	c->status.running = true;
	pthread_mutex_unlock(&c->lock);
	while (!atomic_load(&c->stop)) {
		int timeout = t ? t->round(c->output.arg, c) : local_round(c);
		int64_t now = monotonic_ns();
		look_at_log(c, now);
		report_missed(c, now, false);
		if (now - c->last_save_ns >= CURSOR_SAVE_INTERVAL_NS) {
			c->last_save_ns = now;
			save_cursor(c);
		}
		short events;
		if (timeout > 0 || (t && t->wait_fd(c->output.arg, &events) >= 0))
			wait_round(c, timeout);
	}
	drain(c);
out:
	report_missed(c, monotonic_ns(), true);
	if (c->log)
		save_cursor(c);
	if (t)
		t->finish(c->output.arg, c);
	pthread_mutex_lock(&c->lock);
	c->status.running = false;
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- interface ---- */

void consumer_free(struct consumer *c)
{
	if (!c)
		return;
	if (c->thread_started)
		consumer_stop(c);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	if (c->log)
		eventlog_close(c->log);
	free(c->name);
	free(c->log_path);
	free(c->cursor_path);
	free(c->cursor_extra);
	pthread_mutex_destroy(&c->lock);
	strbuf_release(&c->problems);
	event_free(&c->ev);
	free(c);
}

/* Is the cursor file at PATH one of the log at LOG_PATH ("log=" line)?  A
 * cursor of another log (a test's, a moved log) is no cursor here. */
static bool cursor_of_log(const char *path, const char *log_path)
{
	FILE *file = fopen(path, "re");
	char line[4200];
	bool same = false;

	if (!file)
		return false;
	while (fgets(line, sizeof(line), file))
		if (strncmp(line, "log=", 4) == 0) {
			line[strcspn(line, "\n")] = '\0';
			same = strcmp(line + 4, log_path) == 0;
		}
	fclose(file);
	return same;
}

/* The newest record in the log now (0: empty or unreadable: from its start). */
static uint64_t newest_record(const char *log_path)
{
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = eventlog_open_readonly(log_path, &err);
	struct eventlog_info info;
	uint64_t newest = 0;

	if (log && eventlog_get_info(log, &info, &err) == 0 && info.next_record_id > 0)
		newest = info.next_record_id - 1;
	if (log)
		eventlog_close(log);
	strbuf_release(&err);
	return newest;
}

struct consumer *consumer_new(const struct consumer_options *options, struct strbuf *err)
{
	struct consumer *c = xcalloc(1, sizeof(*c));
	const struct format_context *format = &options->format;
	const char *cursor_path = options->cursor_path;

	pthread_mutex_init(&c->lock, NULL);
	event_init(&c->ev);
	c->name = xstrdup(options->name);
	c->log_path = xstrdup(options->log_path);
	c->cursor_path = cursor_path ? xstrdup(cursor_path) : NULL;
	c->cursor_extra = options->cursor_extra ? xstrdup(options->cursor_extra) : NULL;
	c->output = options->output;
	c->at_least_once = options->at_least_once;
	c->format = *format;
	snprintf(c->computer, sizeof(c->computer), "%s", format->computer ? format->computer : "");
	c->format.computer = c->computer;
	if (format->field_sizes) {
		c->sizes = c->shared_sizes = *format->field_sizes;
		c->format.field_sizes = &c->sizes;
	}
	/* decided here, before the monitor logs anything more: a consumer
	 * without a cursor owes nothing from before its time */
	c->cursor_found = cursor_path ? consumer_read_cursor(cursor_path, &c->start_cursor) : 0;
	if (c->cursor_found > 0 && !c->at_least_once && !cursor_of_log(cursor_path, options->log_path))
		c->cursor_found = 0;
	if (c->cursor_found == 0)
		c->start_cursor = options->from_oldest ? 0 : newest_record(options->log_path);
	else if (c->cursor_found < 0)
		c->start_cursor = c->at_least_once ? 0 : newest_record(options->log_path);
	c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->wake_fd < 0) {
		strbuf_printf(err, "%s: eventfd: %s", options->name, strerror(errno));
		consumer_free(c);
		return NULL;
	}
	return c;
}

int consumer_run(struct consumer *c, struct strbuf *err)
{
	int rc = pthread_create(&c->thread, NULL, consumer_main, c);

	if (rc != 0) {
		strbuf_printf(err, "%s: cannot start its thread: %s", c->name, strerror(rc));
		return -1;
	}
	c->thread_started = true;
	return 0;
}

struct consumer *consumer_start(const struct consumer_options *options, struct strbuf *err)
{
	struct consumer *c = consumer_new(options, err);

	if (c && consumer_run(c, err) != 0) {
		consumer_free(c);
		return NULL;
	}
	return c;
}

void consumer_wake(struct consumer *c)
{
	uint64_t one = 1;

	if (write(c->wake_fd, &one, sizeof(one)) < 0)
		one = 0;   /* the counter is saturated: a wake-up is pending anyway */
}

void consumer_set_field_sizes(struct consumer *c, const struct field_sizes *field_sizes)
{
	pthread_mutex_lock(&c->lock);
	c->shared_sizes = *field_sizes;
	c->sizes_changed = true;
	pthread_mutex_unlock(&c->lock);
}

void consumer_get_status(struct consumer *c, struct consumer_status *status)
{
	pthread_mutex_lock(&c->lock);
	*status = c->status;
	pthread_mutex_unlock(&c->lock);
}

bool consumer_next_problem(struct consumer *c, struct strbuf *text)
{
	pthread_mutex_lock(&c->lock);
	bool found = strbuf_shift_line(&c->problems, text);
	pthread_mutex_unlock(&c->lock);
	return found;
}

void consumer_request_stop(struct consumer *c, unsigned drain_ms)
{
	if (atomic_load(&c->stop))
		return;
	c->drain_ms = drain_ms;
	atomic_store(&c->stop, true);
	consumer_wake(c);
}

void consumer_stop(struct consumer *c)
{
	if (c->joined)
		return;
	consumer_request_stop(c, 0);
	pthread_join(c->thread, NULL);
	c->joined = true;
}
