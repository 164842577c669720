/*
 * The outputs behind the monitor (interface: sinks.h): opens what
 * outputs.conf describes, starts a consumer of the event log for the local
 * syslog and each JSON lines output (consumer.c), and the forwarders'
 * process (forward_proc.h) with a forwarder for each collector, wakes them at each commit, turns their troubles into problem
 * lines for Error events, and writes the status file `sysmon status` reads.
 * Without an event log the local outputs are fed directly, the syslog
 * through a bounded queue, and every drop is counted and reported.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output/consumer.h"
#include "output/ecs.h"
#include "output/forward_proc.h"
#include "output/forwarder.h"
#include "output/jsonfile.h"
#include "output/outputs_config.h"
#include "output/sinks.h"
#include "output/syslog_sink.h"
#include "output/wire.h"
#include "util/clock.h"

#define STATUS_INTERVAL_NS (1000 * 1000000LL)
/* The same trouble is reported again at most this often. */
#define REPORT_INTERVAL_NS (60 * 1000000000LL)
#define STOP_DRAIN_MS 2000

/* The local syslog or one JSON lines output. */
struct local_sink {
	char *name;                 /* in messages: "syslog", "json NAME" */
	char *status_name;          /* in the status: "syslog", NAME */
	char *target;
	struct syslog_sink *syslog; /* one of these two */
	struct jsonfile *file;
	bool ecs;
	struct consumer *consumer;  /* NULL without an event log: fed by sinks_write */
	struct strbuf line;         /* the consumer's thread's (or sinks_write's) */
	uint64_t discarded_seen;    /* JSON: write errors already handled */
	bool was_connected;         /* syslog, without a log: it was there once */
	uint64_t dropped_reported;  /* without a log: drops reported so far */
	uint64_t daemon_lost_reported, rate_limited_reported;
	int64_t last_report_ns;
};

struct sinks {
	char *config_path;          /* NULL: the default file, absent */
	bool config_explicit;
	char *log_path;
	char computer[256];
	struct format_context format;
	struct field_sizes sizes;
	bool have_sizes;

	struct outputs_config *config;
	struct forward_user forward_user;
	struct forward_proc *forwarders;   /* the forwarders' process, once there were any */
	size_t nforwarders;         /* the running set, in the config's order */
	const struct forward_config *forward_configs;
	struct local_sink *locals;  /* the syslog first, if enabled */
	size_t nlocals;

	struct strbuf problems;     /* lines, each ending in '\n' */
	int64_t last_status_ns;
	bool stopped;
};

static void add_problem(struct sinks *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_problem(struct sinks *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vpush_line(&s->problems, OUTPUT_PROBLEMS_MAX, fmt, ap);
	va_end(ap);
}

/* Read outputs.conf as the options say: NULL when it is invalid. */
static struct outputs_config *load_config(const struct sinks *s, struct strbuf *err)
{
	if (!s->config_explicit && access(s->config_path, F_OK) != 0 && errno == ENOENT)
		return outputs_config_default();
	struct outputs_config *config = outputs_config_load(s->config_path, err);
	for (size_t i = 0; config && i < config->nforwards; i++) {
		if (forwarder_read_tls_files(&config->forwards[i], err) != 0) {
			outputs_config_free(config);
			return NULL;
		}
	}
	return config;
}

/* ---- the local outputs as consumers of the event log ---- */

static int syslog_deliver(void *arg, const struct event *ev, const struct format_context *ctx, char *why)
{
	struct local_sink *l = arg;
	int rc = syslog_sink_deliver(l->syslog, ev, ctx);

	if (rc <= 0) {
		struct syslog_sink_stats st;
		syslog_sink_get_stats(l->syslog, &st);
		snprintf(why, 256, "%s", st.last_error[0] ? st.last_error : "syslog does not read");
	}
	return rc;
}

static int syslog_flush(void *arg, char *why)
{
	struct local_sink *l = arg;

	(void)why;
	syslog_sink_watch(l->syslog, false);
	return 0;
}

static void format_line(struct local_sink *l, const struct event *ev, const struct format_context *ctx)
{
	strbuf_reset(&l->line);
	if (l->ecs)
		ecs_format_json(&l->line, ev, ctx, wire_host_id());
	else
		format_json(&l->line, ev, ctx);
}

static int json_deliver(void *arg, const struct event *ev, const struct format_context *ctx, char *why)
{
	struct local_sink *l = arg;

	(void)why;
	format_line(l, ev, ctx);
	jsonfile_write(l->file, l->line.data, l->line.len);
	return 1;
}

/* Lines thrown away after a write error since the last flush are offered
 * again by the consumer, from its cursor. */
static int json_flush(void *arg, char *why)
{
	struct local_sink *l = arg;
	struct jsonfile_stats st;

	jsonfile_flush(l->file);
	jsonfile_get_stats(l->file, &st);
	if (st.discarded == l->discarded_seen)
		return 0;
	l->discarded_seen = st.discarded;
	snprintf(why, 256, "%s", st.last_error);
	return -1;
}

/* Move a stopped consumer's last problems to S's. */
static void take_problems(struct sinks *s, struct consumer *c)
{
	struct strbuf text = STRBUF_INIT;

	while (consumer_next_problem(c, &text))
		add_problem(s, "%s", text.data);
	strbuf_release(&text);
}

static void stop_consumers(struct sinks *s, unsigned drain_ms)
{
	for (size_t i = 0; i < s->nlocals; i++)
		if (s->locals[i].consumer)
			consumer_request_stop(s->locals[i].consumer, drain_ms);
	for (size_t i = 0; i < s->nlocals; i++) {
		if (s->locals[i].consumer) {
			consumer_stop(s->locals[i].consumer);
			take_problems(s, s->locals[i].consumer);
		}
	}
}

/* A reload: the consumers stop at once, the new ones go on from their
 * cursors. */
static void close_local_sinks(struct sinks *s)
{
	stop_consumers(s, 0);
	for (size_t i = 0; i < s->nlocals; i++) {
		struct local_sink *l = &s->locals[i];
		consumer_free(l->consumer);
		syslog_sink_close(l->syslog);
		jsonfile_close(l->file);
		free(l->name);
		free(l->status_name);
		free(l->target);
		strbuf_release(&l->line);
	}
	free(s->locals);
	s->locals = NULL;
	s->nlocals = 0;
}

static void start_consumer(struct sinks *s, struct local_sink *l, const char *state_dir,
			   const char *cursor_name, const struct consumer_output *output)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;

	if (cursor_name)
		strbuf_printf(&path, "%s/%s.cursor", state_dir, cursor_name);
	struct consumer_options options = {
		.name = l->name, .log_path = s->log_path, .cursor_path = cursor_name ? path.data : NULL,
		.output = *output, .format = s->format,
	};

	l->consumer = consumer_start(&options, &err);
	if (!l->consumer)
		add_problem(s, "%s: %s", l->name, err.data);
	strbuf_release(&path);
	strbuf_release(&err);
}

static void open_local_sinks(struct sinks *s, const struct outputs_config *config)
{
	s->locals = xcalloc(config->njsons + 1, sizeof(*s->locals));
	s->nlocals = 0;
	if (config->syslog.enabled) {
		struct local_sink *l = &s->locals[s->nlocals++];
		l->name = xstrdup("syslog");
		l->status_name = xstrdup("syslog");
		l->target = xstrdup(config->syslog.socket_path);
		l->syslog = syslog_sink_open(&config->syslog, s->log_path != NULL);
		if (s->log_path)
			start_consumer(s, l, config->state_dir, "syslog", &(struct consumer_output){ .arg = l, .deliver = syslog_deliver, .flush = syslog_flush });
	}
	for (size_t i = 0; i < config->njsons; i++) {
		const struct jsonfile_config *json = &config->jsons[i];
		struct local_sink *l = &s->locals[s->nlocals++];
		struct strbuf name = STRBUF_INIT;
		strbuf_printf(&name, "json %s", json->name);
		l->name = xstrdup(name.data);
		l->status_name = xstrdup(json->name);
		l->target = xstrdup(strcmp(json->path, "-") ? json->path : "stdout");
		l->file = jsonfile_open(json);
		l->ecs = json->ecs;
		strbuf_reset(&name);
		strbuf_printf(&name, "json-%s", json->name);
		/* stdout has no position to come back to */
		if (s->log_path)
			start_consumer(s, l, config->state_dir, strcmp(json->path, "-") ? name.data : NULL,
				       &(struct consumer_output){ .arg = l, .deliver = json_deliver, .flush = json_flush });
		strbuf_release(&name);
	}
}

/* Hand the forwarders of CONFIG to their process (it keeps those of the
 * running set whose settings did not change: no reconnect, no resent
 * events).  On error (a TLS file that does not load) the running set is
 * left as it was. */
static int start_forwarders(struct sinks *s, const struct outputs_config *config, struct strbuf *err)
{
	if (config->nforwards && !s->log_path) {
		strbuf_printf(err, "%s: forwarders read the event log, but the monitor runs without one",
			      config->path ? config->path : "outputs");
		return -1;
	}
	if (config->nforwards && s->forward_user.exe_fd < 0) {
		strbuf_printf(err, "%s: forwarders run in a process of their own, which cannot be started here",
			      config->path ? config->path : "outputs");
		return -1;
	}
	for (size_t i = 0; i < config->nforwards; i++)
		if (forwarder_check_config(&config->forwards[i], err) != 0)
			return -1;
	if (config->nforwards && !s->forwarders)
		s->forwarders = forward_proc_new(&s->forward_user, s->log_path);
	if (s->forwarders)
		forward_proc_configure(s->forwarders, config->forwards, config->nforwards, config->state_dir,
				       s->have_sizes ? &s->sizes : NULL);
	s->nforwarders = config->nforwards;
	s->forward_configs = config->forwards;
	return 0;
}

struct sinks *sinks_open(const struct sinks_options *options, struct strbuf *err)
{
	struct sinks *s = xcalloc(1, sizeof(*s));
	const char *path = options->config_path;

	if (!path)
		path = getenv(SINKS_CONFIG_ENV);
	s->config_explicit = path && *path;
	s->config_path = xstrdup(s->config_explicit ? path : SINKS_DEFAULT_CONFIG);
	s->log_path = options->log_path ? xstrdup(options->log_path) : NULL;
	s->forward_user = options->forward_user ? *options->forward_user : (struct forward_user){ .exe_fd = -1 };
	s->format = options->format;
	snprintf(s->computer, sizeof(s->computer), "%s", options->format.computer ? options->format.computer : "");
	s->format.computer = s->computer;
	if (options->format.field_sizes) {
		s->sizes = *options->format.field_sizes;
		s->have_sizes = true;
		s->format.field_sizes = &s->sizes;
	}
	s->config = load_config(s, err);
	if (!s->config || start_forwarders(s, s->config, err) != 0) {
		outputs_config_free(s->config);
		free(s->config_path);
		free(s->log_path);
		free(s);
		return NULL;
	}
	open_local_sinks(s, s->config);
	s->last_status_ns = monotonic_ns() - STATUS_INTERVAL_NS;
	return s;
}

void sinks_write(struct sinks *s, const struct event *ev)
{
	/* with a log, its consumers read it there; after the stop, the last
	 * reports go to the log and stderr only */
	if (!ev->schema || s->log_path || s->stopped)
		return;
	for (size_t i = 0; i < s->nlocals; i++) {
		struct local_sink *l = &s->locals[i];
		if (l->syslog) {
			syslog_sink_write(l->syslog, ev, &s->format);
		} else {
			format_line(l, ev, &s->format);
			jsonfile_write(l->file, l->line.data, l->line.len);
		}
	}
}

void sinks_committed(struct sinks *s)
{
	if (s->forwarders)
		forward_proc_wake(s->forwarders);
	for (size_t i = 0; i < s->nlocals; i++)
		if (s->locals[i].consumer)
			consumer_wake(s->locals[i].consumer);
}

void sinks_set_field_sizes(struct sinks *s, const struct field_sizes *field_sizes)
{
	s->sizes = *field_sizes;
	s->have_sizes = true;
	s->format.field_sizes = &s->sizes;
	if (s->forwarders)
		forward_proc_set_field_sizes(s->forwarders, field_sizes);
	for (size_t i = 0; i < s->nlocals; i++)
		if (s->locals[i].consumer)
			consumer_set_field_sizes(s->locals[i].consumer, field_sizes);
}

/* ---- status file ---- */

static void json_text(struct strbuf *out, const char *key, const char *value)
{
	strbuf_printf(out, ",\"%s\":\"", key);
	format_json_escape(out, value, strlen(value));
	strbuf_putc(out, '"');
}

static void json_time(struct strbuf *out, const char *key, int64_t ns)
{
	char buf[48];

	if (ns > 0)
		json_text(out, key, event_format_systemtime(ns, buf));
}

static const char *forwarder_state_name(enum forwarder_state state)
{
	switch (state) {
	case FORWARDER_STARTING: return "starting";
	case FORWARDER_CONNECTING: return "connecting";
	case FORWARDER_CONNECTED: return "connected";
	case FORWARDER_WAITING: return "waiting to reconnect";
	case FORWARDER_STOPPED: return "stopped";
	}
	return "unknown";
}

static void local_status_json(struct local_sink *l, struct strbuf *out, bool first)
{
	struct consumer_status cs = { 0 };

	if (l->consumer)
		consumer_get_status(l->consumer, &cs);
	strbuf_puts(out, first ? "{" : ",{");
	strbuf_printf(out, "\"kind\":\"%s\"", l->syslog ? "syslog" : "json");
	json_text(out, "name", l->status_name);
	if (l->syslog) {
		struct syslog_sink_stats st;
		syslog_sink_get_stats(l->syslog, &st);
		json_text(out, "state", st.connected ? "connected" : "not connected");
		json_text(out, "target", l->target);
		strbuf_printf(out, ",\"sent\":%" PRIu64 ",\"trimmed\":%" PRIu64 ",\"rate_limited\":%" PRIu64
			      ",\"daemon_lost\":%" PRIu64, st.sent, st.trimmed, st.rate_limited, st.daemon_lost);
		if (!l->consumer)
			strbuf_printf(out, ",\"queued\":%" PRIu64 ",\"dropped\":%" PRIu64, st.queued, st.dropped);
		json_text(out, "last_error", l->consumer && cs.last_error[0] ? cs.last_error : st.last_error);
	} else {
		struct jsonfile_stats st;
		jsonfile_get_stats(l->file, &st);
		json_text(out, "state", st.open ? "open" : "not open");
		json_text(out, "target", l->target);
		strbuf_printf(out, ",\"ecs\":%s,\"lines\":%" PRIu64 ",\"discarded\":%" PRIu64
			      ",\"rotations\":%" PRIu64 ",\"file_bytes\":%" PRIu64,
			      l->ecs ? "true" : "false", st.lines, st.discarded, st.rotations, st.file_bytes);
		if (!l->consumer)
			strbuf_printf(out, ",\"lost\":%" PRIu64, st.discarded);
		json_text(out, "last_error", l->consumer && cs.last_error[0] ? cs.last_error : st.last_error);
	}
	if (l->consumer) {
		uint64_t backlog = cs.last_log_id > cs.cursor ? cs.last_log_id - cs.cursor : 0;
		strbuf_printf(out, ",\"cursor\":%" PRIu64 ",\"last_log_id\":%" PRIu64 ",\"backlog\":%" PRIu64
			      ",\"delivered\":%" PRIu64 ",\"missed\":%" PRIu64 ",\"refused\":%" PRIu64
			      ",\"retries\":%" PRIu64,
			      cs.cursor, cs.last_log_id, backlog, cs.delivered, cs.missed, cs.refused, cs.retries);
	}
	strbuf_putc(out, '}');
}

static void status_json(struct sinks *s, struct strbuf *out, bool running)
{
	strbuf_printf(out, "{\"pid\":%d,\"running\":%s", (int)getpid(), running ? "true" : "false");
	json_time(out, "updated", event_now_ns());
	json_text(out, "outputs", s->config->path ? s->config->path : "(defaults)");
	json_text(out, "log", s->log_path ? s->log_path : "-");
	strbuf_puts(out, ",\"sinks\":[");
	bool first = true;
	for (size_t i = 0; i < s->nlocals; i++) {
		local_status_json(&s->locals[i], out, first);
		first = false;
	}
	for (size_t i = 0; i < s->nforwarders; i++) {
		struct forwarder_status st;
		forward_proc_status(s->forwarders, i, &st);
		strbuf_puts(out, first ? "{" : ",{");
		first = false;
		strbuf_puts(out, "\"kind\":\"forward\"");
		json_text(out, "name", s->forward_configs[i].name);
		json_text(out, "state", forwarder_state_name(st.state));
		json_text(out, "target", st.address);
		uint64_t backlog = st.last_log_id > st.cursor ? st.last_log_id - st.cursor : 0;
		strbuf_printf(out, ",\"cursor\":%" PRIu64 ",\"sent_id\":%" PRIu64 ",\"last_log_id\":%" PRIu64
			      ",\"backlog\":%" PRIu64 ",\"events_sent\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
			      ",\"connects\":%" PRIu64 ",\"failures\":%" PRIu64 ",\"skipped\":%" PRIu64
			      ",\"trimmed\":%" PRIu64,
			      st.cursor, st.sent_id, st.last_log_id, backlog, st.events_sent, st.bytes_sent,
			      st.connects, st.failures, st.skipped, st.trimmed);
		json_time(out, "connected_since", st.connected_since);
		if (st.state == FORWARDER_WAITING)
			strbuf_printf(out, ",\"next_attempt_ms\":%" PRId64, st.next_attempt_ms);
		json_text(out, "last_error", st.last_error);
		json_time(out, "last_error_time", st.last_error_time);
		strbuf_putc(out, '}');
	}
	strbuf_puts(out, "]}\n");
}

/* Replace the status file atomically, so a reader never sees half of it. */
static void write_status(struct sinks *s, bool running)
{
	struct strbuf text = STRBUF_INIT, tmp = STRBUF_INIT;
	const char *path = s->config->status_path;
	const char *slash = strrchr(path, '/');

	if (slash && slash != path) {
		char *dir = xstrndup(path, (size_t)(slash - path));
		mkdir(dir, 0755);   /* /run/sysmon after a reboot; EEXIST is fine */
		free(dir);
	}
	status_json(s, &text, running);
	strbuf_printf(&tmp, "%s.tmp", path);
	FILE *f = fopen(tmp.data, "we");
	if (f) {
		bool ok = fwrite(text.data, 1, text.len, f) == text.len;
		if (fclose(f) != 0 || !ok || rename(tmp.data, path) != 0)
			unlink(tmp.data);
	}
	strbuf_release(&text);
	strbuf_release(&tmp);
}

/* ---- problems ---- */

/* What rsyslog said it dropped of ours (imuxsock's rate limiting). */
static void check_rate_limit(struct sinks *s, struct local_sink *l, const struct syslog_sink_stats *st)
{
	static const char advice[] = "raise SysSock.RateLimit.Burst or set SysSock.RateLimit.Interval=\"0\" "
				     "in rsyslog's imuxsock module (docs/outputs.md)";

	if (st->daemon_lost > l->daemon_lost_reported) {
		add_problem(s, "syslog: rsyslog dropped %" PRIu64 " events on its side (imuxsock rate limiting, "
			    "%" PRIu64 " in all); %s", st->daemon_lost - l->daemon_lost_reported, st->daemon_lost,
			    advice);
		l->daemon_lost_reported = st->daemon_lost;
		l->rate_limited_reported = st->rate_limited;
	} else if (st->rate_limited > l->rate_limited_reported) {
		add_problem(s, "syslog: rsyslog began to drop events on its side (imuxsock rate limiting; it "
			    "reports how many when the interval ends); %s", advice);
		l->rate_limited_reported = st->rate_limited;
	}
}

/* Without an event log: report what the local outputs dropped, every drop
 * in the end (at most once a minute while it goes on; FORCE at stop). */
static void check_drops(struct sinks *s, struct local_sink *l, int64_t now, bool force)
{
	uint64_t dropped;
	const char *why;
	struct syslog_sink_stats st;
	struct jsonfile_stats jst;

	if (l->syslog) {
		syslog_sink_get_stats(l->syslog, &st);
		l->was_connected |= st.connected;
		/* a syslog that never was there (no daemon) is what Sysmon for
		 * Linux ignores too: the status and the statistics show it */
		if (!l->was_connected)
			l->dropped_reported = st.dropped;
		dropped = st.dropped;
		why = st.last_error[0] ? st.last_error : "syslog does not read";
	} else {
		jsonfile_get_stats(l->file, &jst);
		dropped = jst.discarded;
		why = jst.last_error;
	}
	if (dropped <= l->dropped_reported || (!force && now - l->last_report_ns < REPORT_INTERVAL_NS))
		return;
	add_problem(s, "%s: %" PRIu64 " events not %s (%s); the monitor runs without an event log: they are lost "
		    "(%" PRIu64 " in all)", l->name, dropped - l->dropped_reported, l->syslog ? "sent" : "written",
		    why, dropped);
	l->dropped_reported = dropped;
	l->last_report_ns = now;
}

static void check_local_sinks(struct sinks *s, int64_t now, bool force)
{
	for (size_t i = 0; i < s->nlocals; i++) {
		struct local_sink *l = &s->locals[i];
		if (l->syslog) {
			struct syslog_sink_stats st;
			if (!l->consumer || force)   /* at stop, the consumer is done */
				syslog_sink_watch(l->syslog, force);
			syslog_sink_get_stats(l->syslog, &st);
			check_rate_limit(s, l, &st);
		}
		if (!l->consumer)
			check_drops(s, l, now, force);
	}
}

void sinks_tick(struct sinks *s)
{
	int64_t now = monotonic_ns();

	if (s->forwarders)
		forward_proc_tick(s->forwarders);
	for (size_t i = 0; i < s->nlocals; i++) {
		if (s->locals[i].consumer)
			continue;
		if (s->locals[i].syslog)
			syslog_sink_tick(s->locals[i].syslog);
		else
			jsonfile_flush(s->locals[i].file);
	}
	check_local_sinks(s, now, false);
	if (!s->stopped && now - s->last_status_ns >= STATUS_INTERVAL_NS) {
		s->last_status_ns = now;
		write_status(s, true);
	}
}

bool sinks_next_problem(struct sinks *s, struct strbuf *text)
{
	if (strbuf_shift_line(&s->problems, text))
		return true;
	if (s->forwarders && forward_proc_next_problem(s->forwarders, text))
		return true;
	for (size_t i = 0; i < s->nlocals; i++)
		if (s->locals[i].consumer && consumer_next_problem(s->locals[i].consumer, text))
			return true;
	return false;
}

int sinks_reload(struct sinks *s, struct strbuf *err)
{
	struct outputs_config *config = load_config(s, err);

	if (!config)
		return -1;
	if (start_forwarders(s, config, err) != 0) {
		outputs_config_free(config);
		return -1;
	}
	close_local_sinks(s);
	open_local_sinks(s, config);
	/* the forwarders' process has its copy of the settings; the old
	 * config can go */
	outputs_config_free(s->config);
	s->config = config;
	write_status(s, true);
	return 0;
}

void sinks_stop(struct sinks *s)
{
	if (!s || s->stopped)
		return;
	s->stopped = true;
	/* everything drains in parallel */
	if (s->forwarders)
		forward_proc_request_stop(s->forwarders, STOP_DRAIN_MS);
	stop_consumers(s, STOP_DRAIN_MS);
	if (s->forwarders)
		forward_proc_stop(s->forwarders);
	for (size_t i = 0; i < s->nlocals; i++) {
		if (s->locals[i].consumer)
			continue;
		if (s->locals[i].syslog)
			syslog_sink_drain(s->locals[i].syslog);
		else
			jsonfile_flush(s->locals[i].file);
	}
	check_local_sinks(s, monotonic_ns(), true);
	write_status(s, false);
}

void sinks_describe_losses(struct sinks *s, struct strbuf *out)
{
	for (size_t i = 0; i < s->nlocals; i++) {
		struct local_sink *l = &s->locals[i];
		struct consumer_status cs = { 0 };
		if (l->consumer)
			consumer_get_status(l->consumer, &cs);
		strbuf_printf(out, "%s%s: ", i ? ", " : "", l->name);
		if (l->syslog) {
			struct syslog_sink_stats st;
			syslog_sink_get_stats(l->syslog, &st);
			strbuf_printf(out, "%" PRIu64 " sent", st.sent);
			if (!l->consumer)
				strbuf_printf(out, ", %" PRIu64 " dropped", st.dropped);
			if (st.daemon_lost || st.rate_limited)
				strbuf_printf(out, ", %" PRIu64 " dropped by rsyslog's rate limiting", st.daemon_lost);
		} else {
			struct jsonfile_stats st;
			jsonfile_get_stats(l->file, &st);
			strbuf_printf(out, "%" PRIu64 " written", st.lines - st.discarded);
			if (!l->consumer)
				strbuf_printf(out, ", %" PRIu64 " dropped", st.discarded);
		}
		if (l->consumer) {
			uint64_t backlog = cs.last_log_id > cs.cursor ? cs.last_log_id - cs.cursor : 0;
			strbuf_printf(out, ", %" PRIu64 " missed, %" PRIu64 " waiting in the log", cs.missed, backlog);
		}
	}
	for (size_t i = 0; i < s->nforwarders; i++) {
		struct forwarder_status st;
		forward_proc_status(s->forwarders, i, &st);
		uint64_t backlog = st.last_log_id > st.cursor ? st.last_log_id - st.cursor : 0;
		strbuf_printf(out, "%sforwarder %s: %" PRIu64 " sent, %" PRIu64 " missed, %" PRIu64
			      " waiting in the log", s->nlocals || i ? ", " : "", s->forward_configs[i].name,
			      st.events_sent, st.skipped, backlog);
	}
}

void sinks_close(struct sinks *s)
{
	if (!s)
		return;
	sinks_stop(s);
	forward_proc_free(s->forwarders);
	close_local_sinks(s);
	outputs_config_free(s->config);
	strbuf_release(&s->problems);
	free(s->config_path);
	free(s->log_path);
	free(s);
}
