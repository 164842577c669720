/*
 * The outputs behind the monitor (interface: sinks.h): opens what
 * outputs.conf describes, fans each event out to the local syslog and JSON
 * lines sinks, wakes the forwarders, turns their troubles into problem
 * lines for Error events, and writes the status file `sysmon status` reads.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output/ecs.h"
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

struct json_sink {
	struct jsonfile *file;
	char *name, *path;
	bool ecs;
	uint64_t lost_reported;
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
	struct syslog_sink *syslog;
	bool syslog_was_connected;
	uint64_t syslog_dropped_reported;
	int64_t syslog_last_report_ns;
	struct forwarder **forwarders;
	struct forward_config *forward_configs;   /* as started, for reloads */
	size_t nforwarders;
	struct json_sink *jsons;
	size_t njsons;

	struct strbuf line;
	struct strbuf problems;     /* lines, each ending in '\n' */
	int64_t last_status_ns;
};

static void add_problem(struct sinks *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_problem(struct sinks *s, const char *fmt, ...)
{
	va_list ap;

	if (s->problems.len > 64 * 1024)
		return;
	va_start(ap, fmt);
	strbuf_vprintf(&s->problems, fmt, ap);
	va_end(ap);
	strbuf_putc(&s->problems, '\n');
}

/* Read outputs.conf as the options say: NULL when it is invalid. */
static struct outputs_config *load_config(const struct sinks *s, struct strbuf *err)
{
	if (!s->config_explicit && access(s->config_path, F_OK) != 0 && errno == ENOENT)
		return outputs_config_default();
	return outputs_config_load(s->config_path, err);
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_forward(const struct forward_config *a, const struct forward_config *b)
{
	return same_text(a->name, b->name) && a->protocol == b->protocol && same_text(a->host, b->host) &&
	       same_text(a->port, b->port) && same_text(a->server_name, b->server_name) &&
	       same_text(a->ca_file, b->ca_file) && same_text(a->cert_file, b->cert_file) &&
	       same_text(a->key_file, b->key_file) && a->max_message == b->max_message &&
	       a->reconnect_min_ms == b->reconnect_min_ms && a->reconnect_max_ms == b->reconnect_max_ms &&
	       a->send_timeout_ms == b->send_timeout_ms && a->connect_timeout_ms == b->connect_timeout_ms &&
	       a->start_at_newest == b->start_at_newest;
}

static void close_local_sinks(struct sinks *s)
{
	syslog_sink_close(s->syslog);
	s->syslog = NULL;
	for (size_t i = 0; i < s->njsons; i++) {
		jsonfile_close(s->jsons[i].file);
		free(s->jsons[i].name);
		free(s->jsons[i].path);
	}
	free(s->jsons);
	s->jsons = NULL;
	s->njsons = 0;
}

static void open_local_sinks(struct sinks *s, const struct outputs_config *config)
{
	if (config->syslog.enabled) {
		s->syslog = syslog_sink_open(&config->syslog);
		s->syslog_was_connected = false;
		s->syslog_dropped_reported = 0;
	}
	s->jsons = xcalloc(config->njsons ? config->njsons : 1, sizeof(*s->jsons));
	s->njsons = config->njsons;
	for (size_t i = 0; i < config->njsons; i++) {
		s->jsons[i].file = jsonfile_open(&config->jsons[i]);
		s->jsons[i].name = xstrdup(config->jsons[i].name);
		s->jsons[i].path = xstrdup(config->jsons[i].path);
		s->jsons[i].ecs = config->jsons[i].ecs;
	}
}

/* Start the forwarders of CONFIG, keeping those of the running set whose
 * settings did not change (no reconnect, no resent events).  On error the
 * running set is left as it was. */
static int start_forwarders(struct sinks *s, const struct outputs_config *config, struct strbuf *err)
{
	struct forwarder **started = xcalloc(config->nforwards + 1, sizeof(*started));
	bool *kept = xcalloc(s->nforwarders + 1, sizeof(*kept));

	if (config->nforwards && !s->log_path) {
		strbuf_printf(err, "%s: forwarders read the event log, but the monitor runs without one",
			      config->path ? config->path : "outputs");
		free(started);
		free(kept);
		return -1;
	}
	for (size_t i = 0; i < config->nforwards; i++) {
		for (size_t j = 0; j < s->nforwarders; j++) {
			if (!kept[j] && same_forward(&config->forwards[i], &s->forward_configs[j])) {
				started[i] = s->forwarders[j];
				kept[j] = true;
				break;
			}
		}
		if (started[i])
			continue;
		started[i] = forwarder_start(&config->forwards[i], s->log_path, config->state_dir,
					     s->have_sizes ? &s->sizes : NULL, err);
		if (!started[i]) {
			for (size_t k = 0; k < i; k++) {
				bool was_running = false;
				for (size_t j = 0; j < s->nforwarders; j++)
					was_running |= s->forwarders[j] == started[k];
				if (!was_running)
					forwarder_free(started[k]);
			}
			free(started);
			free(kept);
			return -1;
		}
	}
	for (size_t j = 0; j < s->nforwarders; j++)
		if (!kept[j])
			forwarder_free(s->forwarders[j]);   /* drains nothing: the cursor resumes */
	free(kept);
	free(s->forwarders);
	s->forwarders = started;
	s->nforwarders = config->nforwards;
	/* the configs of the running set now live in CONFIG, owned by S */
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
	if (!ev->schema)
		return;
	if (s->syslog)
		syslog_sink_write(s->syslog, ev, &s->format);
	for (size_t i = 0; i < s->njsons; i++) {
		strbuf_reset(&s->line);
		if (s->jsons[i].ecs)
			ecs_format_json(&s->line, ev, &s->format, wire_host_id());
		else
			format_json(&s->line, ev, &s->format);
		jsonfile_write(s->jsons[i].file, s->line.data, s->line.len);
	}
}

void sinks_committed(struct sinks *s)
{
	for (size_t i = 0; i < s->nforwarders; i++)
		forwarder_wake(s->forwarders[i]);
}

void sinks_set_field_sizes(struct sinks *s, const struct field_sizes *field_sizes)
{
	s->sizes = *field_sizes;
	s->have_sizes = true;
	s->format.field_sizes = &s->sizes;
	for (size_t i = 0; i < s->nforwarders; i++)
		forwarder_set_field_sizes(s->forwarders[i], field_sizes);
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

static void status_json(struct sinks *s, struct strbuf *out, bool running)
{
	strbuf_printf(out, "{\"pid\":%d,\"running\":%s", (int)getpid(), running ? "true" : "false");
	json_time(out, "updated", event_now_ns());
	json_text(out, "outputs", s->config->path ? s->config->path : "(defaults)");
	json_text(out, "log", s->log_path ? s->log_path : "-");
	strbuf_puts(out, ",\"sinks\":[");
	bool first = true;
	if (s->syslog) {
		struct syslog_sink_stats st;
		syslog_sink_get_stats(s->syslog, &st);
		strbuf_puts(out, "{\"name\":\"syslog\",\"kind\":\"syslog\"");
		json_text(out, "state", st.connected ? "connected" : "not connected");
		json_text(out, "target", s->config->syslog.socket_path);
		strbuf_printf(out, ",\"sent\":%" PRIu64 ",\"queued\":%" PRIu64 ",\"dropped\":%" PRIu64
			      ",\"trimmed\":%" PRIu64, st.sent, st.queued, st.dropped, st.trimmed);
		json_text(out, "last_error", st.last_error);
		strbuf_putc(out, '}');
		first = false;
	}
	for (size_t i = 0; i < s->nforwarders; i++) {
		struct forwarder_status st;
		forwarder_get_status(s->forwarders[i], &st);
		strbuf_puts(out, first ? "{" : ",{");
		first = false;
		strbuf_puts(out, "\"kind\":\"forward\"");
		json_text(out, "name", forwarder_name(s->forwarders[i]));
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
	for (size_t i = 0; i < s->njsons; i++) {
		struct jsonfile_stats st;
		jsonfile_get_stats(s->jsons[i].file, &st);
		strbuf_puts(out, first ? "{" : ",{");
		first = false;
		strbuf_puts(out, "\"kind\":\"json\"");
		json_text(out, "name", s->jsons[i].name);
		json_text(out, "state", st.open ? "open" : "not open");
		json_text(out, "target", strcmp(s->jsons[i].path, "-") ? s->jsons[i].path : "stdout");
		strbuf_printf(out, ",\"ecs\":%s,\"lines\":%" PRIu64 ",\"lost\":%" PRIu64
			      ",\"rotations\":%" PRIu64 ",\"file_bytes\":%" PRIu64,
			      s->jsons[i].ecs ? "true" : "false", st.lines, st.lost, st.rotations, st.file_bytes);
		json_text(out, "last_error", st.last_error);
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

static void check_local_sinks(struct sinks *s, int64_t now)
{
	if (s->syslog) {
		struct syslog_sink_stats st;
		syslog_sink_get_stats(s->syslog, &st);
		if (st.connected) {
			s->syslog_was_connected = true;
		}
		/* a syslog that never was there (no daemon) is what Sysmon for
		 * Linux ignores too: the status shows it; report real losses */
		if (!s->syslog_was_connected)
			s->syslog_dropped_reported = st.dropped;
		if (s->syslog_was_connected && st.dropped > s->syslog_dropped_reported &&
		    now - s->syslog_last_report_ns >= REPORT_INTERVAL_NS) {
			add_problem(s, "local syslog: %" PRIu64 " events not sent (%s); they are in the event log",
				    st.dropped - s->syslog_dropped_reported,
				    st.last_error[0] ? st.last_error : "syslog does not read");
			s->syslog_dropped_reported = st.dropped;
			s->syslog_last_report_ns = now;
		}
	}
	for (size_t i = 0; i < s->njsons; i++) {
		struct json_sink *j = &s->jsons[i];
		struct jsonfile_stats st;
		jsonfile_get_stats(j->file, &st);
		if (st.lost > j->lost_reported && now - j->last_report_ns >= REPORT_INTERVAL_NS) {
			add_problem(s, "json %s: %" PRIu64 " events not written (%s); they are in the event log",
				    j->name, st.lost - j->lost_reported, st.last_error);
			j->lost_reported = st.lost;
			j->last_report_ns = now;
		}
	}
}

void sinks_tick(struct sinks *s)
{
	int64_t now = monotonic_ns();

	if (s->syslog)
		syslog_sink_tick(s->syslog);
	for (size_t i = 0; i < s->njsons; i++)
		jsonfile_flush(s->jsons[i].file);
	check_local_sinks(s, now);
	if (now - s->last_status_ns >= STATUS_INTERVAL_NS) {
		s->last_status_ns = now;
		write_status(s, true);
	}
}

bool sinks_next_problem(struct sinks *s, struct strbuf *text)
{
	if (s->problems.len > 0) {
		char *end = strchr(s->problems.data, '\n');
		size_t len = (size_t)(end - s->problems.data);
		strbuf_reset(text);
		strbuf_append(text, s->problems.data, len);
		memmove(s->problems.data, end + 1, s->problems.len - len - 1);
		s->problems.len -= len + 1;
		s->problems.data[s->problems.len] = '\0';
		return true;
	}
	for (size_t i = 0; i < s->nforwarders; i++)
		if (forwarder_next_problem(s->forwarders[i], text))
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
	/* the kept forwarders copied their settings; the old config can go */
	outputs_config_free(s->config);
	s->config = config;
	s->forward_configs = config->forwards;
	write_status(s, true);
	return 0;
}

void sinks_close(struct sinks *s)
{
	if (!s)
		return;
	/* the forwarders drain in parallel */
	for (size_t i = 0; i < s->nforwarders; i++)
		forwarder_request_stop(s->forwarders[i], STOP_DRAIN_MS);
	for (size_t i = 0; i < s->nforwarders; i++)
		forwarder_stop(s->forwarders[i]);
	if (s->syslog)
		syslog_sink_tick(s->syslog);
	for (size_t i = 0; i < s->njsons; i++)
		jsonfile_flush(s->jsons[i].file);
	write_status(s, false);
	for (size_t i = 0; i < s->nforwarders; i++)
		forwarder_free(s->forwarders[i]);
	close_local_sinks(s);
	free(s->forwarders);
	outputs_config_free(s->config);
	strbuf_release(&s->line);
	strbuf_release(&s->problems);
	free(s->config_path);
	free(s->log_path);
	free(s);
}
