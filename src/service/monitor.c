/*
 * The monitor's run loop (interface: monitor.h).  One thread does
 * everything: it polls the capture sources' ring buffers, and every record
 * flows decode -> enrich (in the source's decoder) -> rules_decide -> event
 * log -> stdout.  Between two polls it handles signals (stop, reload),
 * commits the event log (at least every 100 ms) and reports lost events
 * (every second).  Being single-threaded makes a reload atomic between two
 * events: no event is judged by half-swapped rules, none is lost or seen
 * twice.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "config/config.h"
#include "enrich/guid.h"
#include "enrich/hash_cache.h"
#include "enrich/process_cache.h"
#include "output/format.h"
#include "output/sinks.h"
#include "rules/rules.h"
#include "service/monitor.h"
#include "service/pidfile.h"
#include "service/privdrop.h"
#include "service/privsep.h"
#include "service/service.h"
#include "service/version.h"
#include "store/eventlog.h"
#include "util/clock.h"
#include "util/exitcodes.h"
#include "util/fdio.h"

#define POLL_INTERVAL_MS 50
#define FLUSH_INTERVAL_NS (100 * 1000000LL)
#define LOSS_CHECK_INTERVAL_NS (1000 * 1000000LL)
#define HASH_CACHE_ENTRIES 4096

#define EVENT_STATE 4
#define EVENT_CONFIG 16

struct monitor {
	const struct monitor_options *options;
	struct sysmon_config *config;
	struct capture_env env;
	struct capture *capture;
	struct eventlog *log;
	struct sinks *sinks;          /* syslog, forwarders, JSON lines (outputs.conf) */
	struct forward_user forward_user;   /* the forwarders' process (privsep.h) */
	struct format_context format;
	char hostname[256];
	struct strbuf line;           /* formatted stdout line, reused */
	struct event notice;          /* events 4, 16 and 255, reused */
	bool stdout_broken;
	uint64_t next_record_id;      /* when there is no event log */
	bool log_dirty;
	int64_t last_flush_ns;
	int64_t last_loss_check_ns;
	uint64_t lost_seen[CAPTURE_EVENT_SLOTS];
	uint64_t skipped_runs;        /* eBPF program runs the kernel skipped */
	uint64_t decided[CAPTURE_EVENT_SLOTS];  /* events out of the decoders */
	uint64_t logged[CAPTURE_EVENT_SLOTS];   /* events that passed the rules */
	uint64_t log_errors;          /* failed appends and commits */
	bool log_failing;
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t restart_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop_signal(int sig)
{
	if (sig == SIGUSR1)
		restart_requested = 1;
	stop_requested = 1;
}

static void on_reload_signal(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* Report the event log's failures on stderr once per streak (an Error
 * event could not be logged either), and its recovery. */
static void note_log_result(struct monitor *m, int rc)
{
	if (rc != 0) {
		m->log_errors++;
		if (!m->log_failing)
			fprintf(stderr, "sysmon: writing to the event log failed: %s\n",
				eventlog_error(m->log));
		m->log_failing = true;
	} else if (m->log_failing) {
		fprintf(stderr, "sysmon: the event log works again (%" PRIu64 " failed writes)\n",
			m->log_errors);
		m->log_failing = false;
	}
}

/* Log one event and copy it to stdout: the last stage of the pipeline. */
static void write_event(struct monitor *m, struct event *ev)
{
	ev->time_ns = event_now_ns();
	if (m->log) {
		if (eventlog_append(m->log, ev) != 0)
			note_log_result(m, -1);
		else
			m->log_dirty = true;
	} else {
		ev->record_id = m->next_record_id++;
	}
	if (m->sinks)
		sinks_write(m->sinks, ev);
	if (m->options->stdout_format == MONITOR_STDOUT_NONE || m->stdout_broken)
		return;
	strbuf_reset(&m->line);
	if (m->options->stdout_format == MONITOR_STDOUT_XML)
		format_xml(&m->line, ev, &m->format);
	else
		format_json(&m->line, ev, &m->format);
	strbuf_putc(&m->line, '\n');
	/* a pipe that nobody reads yet blocks us here, and the stop signal
	 * that makes its reader read may arrive right then */
	if (fd_write_all(STDOUT_FILENO, m->line.data, m->line.len, NULL) < 0) {
		m->stdout_broken = true;
		fprintf(stderr, "sysmon: writing to stdout failed (%s); the event log continues\n",
			strerror(errno));
	}
}

/* env->emit: the rule engine decides, then the event is written. */
static void pipeline_emit(struct capture_env *env, struct event *ev)
{
	struct monitor *m = env->owner;
	const char *rule_name = "-";

	if (!ev->schema)
		return;   /* a decoder's event_reset() with an unknown id */
	unsigned id = ev->schema->id;
	if (id < CAPTURE_EVENT_SLOTS)
		m->decided[id]++;
	if (!rules_decide(m->config->rules, ev, &rule_name))
		return;
	if (ev->schema->rule_tag) {
		int index = schema_field_index(ev->schema, "RuleName");
		if (index >= 0)
			event_set_str(ev, index, rule_name ? rule_name : "-");
	}
	if (id < CAPTURE_EVENT_SLOTS)
		m->logged[id]++;
	write_event(m, ev);
}

static void emit_notice_field(struct monitor *m, const char *name, const char *value)
{
	event_set_name(&m->notice, name, value);
}

static void emit_utc_now(struct monitor *m)
{
	char buf[48];

	emit_notice_field(m, "UtcTime", event_format_utctime(event_now_ns(), buf));
}

static void emit_config_event(struct monitor *m)
{
	struct strbuf hash = STRBUF_INIT;

	event_reset(&m->notice, EVENT_CONFIG);
	emit_utc_now(m);
	/* the file the admin named to -i / -c, not our installed copy */
	char *origin = m->config->path ? service_config_origin(m->config->path) : xstrdup("Defaults");
	emit_notice_field(m, "Configuration", origin);
	free(origin);
	if (m->config->path && m->config->sha256[0])
		strbuf_printf(&hash, "SHA256=%s", m->config->sha256);
	else
		strbuf_puts(&hash, "-");
	emit_notice_field(m, "ConfigurationFileHash", hash.data);
	strbuf_release(&hash);
	write_event(m, &m->notice);
}

static void emit_state_event(struct monitor *m, const char *state)
{
	char version[16];

	event_reset(&m->notice, EVENT_STATE);
	emit_utc_now(m);
	emit_notice_field(m, "State", state);
	emit_notice_field(m, "Version", SYSMON_VERSION);
	/* the newest schema we support, as Sysmon for Linux 1.5 writes its own */
	emit_notice_field(m, "SchemaVersion", schema_version_text(SCHEMA_NEWEST, version));
	write_event(m, &m->notice);
}

static void emit_error_event(struct monitor *m, const char *id, const char *description)
{
	event_reset(&m->notice, EVENT_ID_ERROR);
	emit_utc_now(m);
	emit_notice_field(m, "ID", id);
	emit_notice_field(m, "Description", description);
	write_event(m, &m->notice);
}

static const char *event_name(unsigned id)
{
	const struct schema_event *event = schema_event_by_id(id);

	return event && event->rule_tag ? event->rule_tag : "unknown";
}

/* Emit one Error event per event type whose loss counter grew. */
static void report_losses(struct monitor *m)
{
	uint64_t lost[CAPTURE_EVENT_SLOTS];
	char text[128];

	capture_lost(m->capture, lost);
	for (unsigned id = 0; id < CAPTURE_EVENT_SLOTS; id++) {
		if (lost[id] <= m->lost_seen[id])
			continue;
		snprintf(text, sizeof(text), "%" PRIu64 " %s events lost: ring buffer full",
			 lost[id] - m->lost_seen[id], event_name(id));
		m->lost_seen[id] = lost[id];
		emit_error_event(m, "LostEvents", text);
	}
	uint64_t dropped = capture_take_dropped(m->capture);
	if (dropped) {
		snprintf(text, sizeof(text), "%" PRIu64 " records lost: captured by the previous "
			 "monitor's different eBPF build, not decoded", dropped);
		emit_error_event(m, "LostEvents", text);
	}
	struct strbuf programs = STRBUF_INIT;
	uint64_t skipped = capture_take_skipped(m->capture, &programs);
	if (skipped) {
		m->skipped_runs += skipped;
		strbuf_printf(&programs, ": %" PRIu64 " runs skipped by the kernel (the program was "
			      "already running on that CPU): events may be lost", skipped);
		emit_error_event(m, "LostEvents", strbuf_str(&programs));
	}
	strbuf_release(&programs);
}

/* The event ids the rules can log, as a capture mask. */
static uint32_t wanted_events(const struct sysmon_config *config)
{
	uint32_t wanted = 0;

	for (unsigned id = 1; id < CAPTURE_EVENT_SLOTS; id++) {
		const struct schema_event *event = schema_event_by_id(id);

		if (event && event->rule_tag && rules_may_log(config->rules, id))
			wanted |= CAPTURE_EVENT_BIT(id);
	}
	return wanted;
}

static void apply_events(struct monitor *m)
{
	struct strbuf report = STRBUF_INIT;

	capture_set_events(m->capture, wanted_events(m->config), &report);
	const char *line = strbuf_str(&report);
	while (*line) {
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line) : (int)strlen(line);
		fprintf(stderr, "sysmon: %.*s\n", len, line);
		line += len + (end ? 1 : 0);
	}
	if (report.len == 0)
		fprintf(stderr, "sysmon: the configuration logs no kernel events\n");
	strbuf_release(&report);
}

static struct sysmon_config *load_config(const char *path, struct strbuf *err)
{
	if (!path)
		return config_default();
	return config_load_file(path, err);
}

/* SIGHUP also re-reads outputs.conf, whatever becomes of the config. */
static void reload_sinks(struct monitor *m)
{
	struct strbuf err = STRBUF_INIT;

	if (m->sinks && sinks_reload(m->sinks, &err) != 0) {
		fprintf(stderr, "sysmon: reloading the outputs failed, keeping the old ones: %s\n",
			strbuf_str(&err));
		emit_error_event(m, "OutputsReload", strbuf_str(&err));
	}
	strbuf_release(&err);
}

static void reload(struct monitor *m)
{
	struct strbuf err = STRBUF_INIT;
	struct sysmon_config *config = load_config(m->options->config_path, &err);

	reload_sinks(m);

	if (!config) {
		fprintf(stderr, "sysmon: reloading the configuration failed, keeping the old one: %s\n",
			strbuf_str(&err));
		emit_error_event(m, "ConfigReload", strbuf_str(&err));
		strbuf_release(&err);
		return;
	}
	strbuf_release(&err);
	for (size_t i = 0; i < config->nwarnings; i++)
		fprintf(stderr, "sysmon: warning: %s\n", config->warnings[i]);
	struct sysmon_config *old = m->config;
	m->config = config;
	m->env.config = config;
	m->format.field_sizes = &config->field_sizes;
	if (m->sinks)
		sinks_set_field_sizes(m->sinks, &config->field_sizes);
	config_free(old);
	fprintf(stderr, "sysmon: configuration reloaded\n");
	apply_events(m);
	emit_config_event(m);
}

static void flush_log(struct monitor *m)
{
	if (m->log && m->log_dirty) {
		note_log_result(m, eventlog_flush(m->log));
		m->log_dirty = false;
		if (m->sinks)
			sinks_committed(m->sinks);
	}
}

/* Flush the outputs and turn their problems into Error events. */
static void tick_sinks(struct monitor *m)
{
	struct strbuf problem = STRBUF_INIT;

	if (!m->sinks)
		return;
	sinks_tick(m->sinks);
	while (sinks_next_problem(m->sinks, &problem)) {
		fprintf(stderr, "sysmon: %s\n", problem.data);
		emit_error_event(m, "Output", problem.data);
	}
	strbuf_release(&problem);
}

static int open_sinks(struct monitor *m)
{
	struct sinks_options options = {
		.log_path = m->log ? (m->options->log_path ? m->options->log_path : EVENTLOG_DEFAULT_PATH)
				   : NULL,
		.format = m->format,
		.config_path = m->options->outputs_path,
		.forward_user = m->forward_user.exe_fd >= 0 ? &m->forward_user : NULL,
	};
	struct strbuf err = STRBUF_INIT;

	m->sinks = sinks_open(&options, &err);
	if (!m->sinks)
		fprintf(stderr, "sysmon: %s\n", strbuf_str(&err));
	strbuf_release(&err);
	return m->sinks ? 0 : -1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;   /* no SA_RESTART: the poll returns at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_reload_signal;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void print_statistics(struct monitor *m)
{
	fprintf(stderr, "sysmon: statistics:");
	for (unsigned id = 0; id < CAPTURE_EVENT_SLOTS; id++) {
		if (!m->decided[id] && !m->lost_seen[id])
			continue;
		fprintf(stderr, " %s: %" PRIu64 " captured, %" PRIu64 " logged, %" PRIu64 " lost;",
			event_name(id), m->decided[id], m->logged[id], m->lost_seen[id]);
	}
	struct hash_cache_stats hashes;
	hash_cache_get_stats(m->env.hashes, &hashes);
	fprintf(stderr, " files hashed: %" PRIu64 ", hash cache hits: %" PRIu64
		", event log failures: %" PRIu64 ", eBPF runs skipped: %" PRIu64, hashes.misses,
		hashes.hits, m->log_errors, m->skipped_runs);
	if (m->sinks) {
		struct strbuf outputs = STRBUF_INIT;
		sinks_describe_losses(m->sinks, &outputs);
		if (outputs.len)
			fprintf(stderr, "; outputs: %s", outputs.data);
		strbuf_release(&outputs);
	}
	fputc('\n', stderr);
}

static int open_log(struct monitor *m)
{
	const char *path = m->options->log_path ? m->options->log_path : EVENTLOG_DEFAULT_PATH;
	struct strbuf err = STRBUF_INIT;
	char *damaged = NULL;

	if (!m->options->log_path)
		mkdir("/var/log/sysmon", 0750);   /* the default's directory; EEXIST is fine */
	m->log = eventlog_open(path, &damaged, &err);
	if (!m->log) {
		fprintf(stderr, "sysmon: cannot open the event log %s: %s\n", path, strbuf_str(&err));
		strbuf_release(&err);
		return -1;
	}
	strbuf_release(&err);
	if (damaged) {
		struct strbuf text = STRBUF_INIT;
		strbuf_printf(&text, "the event log %s was damaged; it was moved to %s and a new one started",
			      path, damaged);
		fprintf(stderr, "sysmon: %s\n", text.data);
		emit_error_event(m, "EventLog", text.data);
		strbuf_release(&text);
		free(damaged);
	}
	return 0;
}

static void run_loop(struct monitor *m)
{
	m->last_flush_ns = m->last_loss_check_ns = monotonic_ns();
	while (!stop_requested) {
		if (capture_poll(m->capture, POLL_INTERVAL_MS) < 0 && errno != EINTR) {
			fprintf(stderr, "sysmon: reading the ring buffers failed: %s\n", strerror(errno));
			break;
		}
		if (reload_requested) {
			reload_requested = 0;
			reload(m);
		}
		int64_t now = monotonic_ns();
		if (now - m->last_flush_ns >= FLUSH_INTERVAL_NS) {
			flush_log(m);
			m->last_flush_ns = now;
		}
		if (now - m->last_loss_check_ns >= LOSS_CHECK_INTERVAL_NS) {
			report_losses(m);
			m->last_loss_check_ns = now;
		}
		tick_sinks(m);
	}
	/* a restart: the programs stay attached, what the rings hold and what
	 * they capture from now on is the next monitor's to read */
	if (restart_requested && m->options->pin_dir) {
		capture_keep(m->capture);
		report_losses(m);
		return;
	}
	/* stop: every record already in the rings is written out */
	capture_stop(m->capture);
	while (capture_drain(m->capture) > 0)
		;
	report_losses(m);
}

int monitor_run(const struct monitor_options *options)
{
	struct monitor m;
	struct strbuf err = STRBUF_INIT;
	int status = EXIT_FAILURE_RUN;
	int pid_fd = -1;

	memset(&m, 0, sizeof(m));
	m.forward_user.exe_fd = -1;
	m.options = options;
	event_init(&m.notice);

	if (geteuid() != 0) {
		fprintf(stderr, "sysmon: the monitor must run as root (it loads eBPF programs)\n");
		return EXIT_NOT_ROOT;
	}
	m.config = load_config(options->config_path, &err);
	if (!m.config) {
		fprintf(stderr, "sysmon: %s\n", strbuf_str(&err));
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	strbuf_release(&err);
	for (size_t i = 0; i < m.config->nwarnings; i++)
		fprintf(stderr, "sysmon: warning: %s\n", m.config->warnings[i]);
	if (options->pid_file && (pid_fd = pidfile_take(options->pid_file, &err)) < 0) {
		fprintf(stderr, "sysmon: %s\n", strbuf_str(&err));
		strbuf_release(&err);
		goto out;
	}

	install_signals();
	guid_init();
	if (gethostname(m.hostname, sizeof(m.hostname) - 1) != 0)
		m.hostname[0] = '\0';
	m.format.computer = m.hostname;
	m.format.process_id = (unsigned)getpid();
	m.format.thread_id = (unsigned)gettid();
	m.format.field_sizes = &m.config->field_sizes;

	m.env.config = m.config;
	m.env.monitor_tgid = (uint32_t)getpid();
	m.env.ring_buffer_pages = options->ring_buffer_pages;
	m.env.emit = pipeline_emit;
	m.env.owner = &m;
	m.env.processes = process_cache_new();
	m.env.hashes = hash_cache_new(HASH_CACHE_ENTRIES);
	if (process_cache_seed(m.env.processes) < 0)
		fprintf(stderr, "sysmon: reading running processes from /proc failed: %s\n",
			strerror(errno));

	if (!options->no_log && open_log(&m) != 0)
		goto out;

	m.capture = capture_open(&m.env);
	if (options->pin_dir && capture_pin(m.capture, options->pin_dir, &err) != 0) {
		fprintf(stderr, "sysmon: %s: no restart without a gap\n", err.data);
		strbuf_reset(&err);
	}
	apply_events(&m);
	/* the forwarders' process runs as an unprivileged user, started by
	 * a fork of ours after the drop (at once, or after a reload) */
	if (privsep_prepare(&m.forward_user, &err) != 0) {
		fprintf(stderr, "sysmon: forwarders cannot run: %s\n", strbuf_str(&err));
		strbuf_reset(&err);
	}
	/* before the outputs start their threads, which inherit the set */
	if (privdrop_reduce(privdrop_monitor_keeps(), privdrop_spawn_keeps(), &err) != 0) {
		fprintf(stderr, "sysmon: dropping capabilities failed: %s\n", strbuf_str(&err));
		strbuf_release(&err);
		goto out;
	}
	if (open_sinks(&m) != 0) {
		status = EXIT_USAGE;
		goto out;
	}
	emit_config_event(&m);
	emit_state_event(&m, "Started");
	flush_log(&m);
	fprintf(stderr, "sysmon: monitoring started (pid %d)\n", (int)getpid());

	run_loop(&m);

	emit_state_event(&m, "Stopped");
	flush_log(&m);
	sinks_stop(m.sinks);    /* every output delivers what is committed, briefly */
	tick_sinks(&m);         /* its last problems: in the log for the next start */
	flush_log(&m);
	print_statistics(&m);
	sinks_close(m.sinks);
	m.sinks = NULL;
	status = EXIT_OK;
out:
	sinks_close(m.sinks);
	capture_close(m.capture);
	if (m.log)
		eventlog_close(m.log);
	if (m.env.processes)
		process_cache_free(m.env.processes);
	if (m.env.hashes)
		hash_cache_free(m.env.hashes);
	config_free(m.config);
	event_free(&m.notice);
	strbuf_release(&m.line);
	if (pid_fd >= 0)
		pidfile_release(options->pid_file, pid_fd);
	if (m.forward_user.exe_fd >= 0)
		close(m.forward_user.exe_fd);
	return status;
}
