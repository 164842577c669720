/*
 * bench/syslog: the local syslog output's figures (issue 11), into a real
 * rsyslogd (imuxsock on a private socket, every message written to a
 * file), lossless: every event sent must be in rsyslog's file.
 *
 *   capacity  an event log is filled with ProcessCreate records first
 *             (before the clock starts); then the monitor's syslog
 *             consumer (src/output/consumer.c + syslog_sink.c, the code
 *             the monitor runs) sends it, each pass from a zero cursor,
 *             until the window ends: events/s rsyslog took, the consumer's
 *             CPU per event, rsyslog's;
 *   storm     the real monitor (build/sysmon run) under exec as fast as
 *             two processes can, its syslog output to the same rsyslogd:
 *             ProcessCreate/s logged, and how many events reached rsyslog
 *             against how many the monitor logged.
 *
 * Usage: build/bench/syslog [--seconds N] [--storm-seconds N] [--events N]
 *                           [--sysmon PATH]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "output/consumer.h"
#include "output/outputs_config.h"
#include "output/syslog_sink.h"
#include "schema/event.h"
#include "store/eventlog.h"

#define RSYSLOGD "/usr/sbin/rsyslogd"
#define FLUSH_EVERY 4096

static double cpu_self_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_of_s(pid_t pid)
{
	struct usage_sample s;

	sample(pid, &s);
	return (double)s.cpu_ticks / (double)sysconf(_SC_CLK_TCK);
}

/* A ProcessCreate as the monitor logs one (about 1.3 KB of XML). */
static void make_event(struct event *ev, unsigned i, int64_t time_ns)
{
	char buf[48];

	event_reset(ev, 1);
	ev->time_ns = time_ns;
	event_set_str(ev, 0, "-");
	event_set_str(ev, 1, event_format_utctime(time_ns, buf));
	event_setf(ev, 2, "{3d1219c7-d63a-6b07-%04x-ccfa85550000}", i % 65536);
	event_setf(ev, 3, "%u", 1000 + i % 30000);
	event_set_str(ev, 4, "/usr/bin/curl");
	for (int f = 5; f <= 9; f++)
		event_set_str(ev, f, "-");
	event_setf(ev, 10, "curl --config /etc/app/%u.conf --verbose https://example.com/a?b=1&c=2", i);
	event_set_str(ev, 11, "/home/user/demo");
	event_set_str(ev, 12, "root");
	event_set_str(ev, 13, "{3d1219c7-0000-0000-0000-000000000000}");
	event_set_str(ev, 14, "0");
	event_set_str(ev, 15, "4294967295");
	event_set_str(ev, 16, "no level");
	event_setf(ev, 17, "SHA256=%064x", i * 2654435761u);
	event_setf(ev, 18, "{3d1219c7-d639-6b07-9dcb-%012x}", i / 10);
	event_setf(ev, 19, "%u", 900 + i / 10);
	event_set_str(ev, 20, "/usr/bin/bash");
	event_set_str(ev, 21, "/bin/bash");
	event_set_str(ev, 22, "root");
}

static void fill_log(const char *path, unsigned count)
{
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = eventlog_open(path, NULL, &err);
	struct event ev;
	int64_t t = event_now_ns() - (int64_t)count * 1000;

	if (!log || eventlog_set_max_size(log, 16ull << 30, &err) != 0) {
		fprintf(stderr, "%s: %s\n", bench_name, strbuf_str(&err));
		exit(1);
	}
	event_init(&ev);
	for (unsigned i = 0; i < count; i++) {
		make_event(&ev, i, t += 1000);
		if (eventlog_append(log, &ev) < 0 || ((i + 1) % FLUSH_EVERY == 0 && eventlog_flush(log) < 0)) {
			fprintf(stderr, "%s: %s\n", bench_name, eventlog_error(log));
			exit(1);
		}
	}
	eventlog_close(log);
	event_free(&ev);
	strbuf_release(&err);
}

/* rsyslogd reading SOCK, one short line per message into OUT. */
static pid_t start_rsyslog(const char *dir, const char *sock, const char *out)
{
	char conf[160], pidfile[160];

	snprintf(conf, sizeof(conf), "%s/rsyslog.conf", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/rsyslog.pid", dir);
	FILE *f = fopen(conf, "we");
	if (!f || fprintf(f, "global(workDirectory=\"%s\")\n"
			  "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
			  "input(type=\"imuxsock\" Socket=\"%s\")\n"
			  "template(name=\"tag\" type=\"string\" string=\"%%syslogtag%%\\n\")\n"
			  "*.* action(type=\"omfile\" file=\"%s\" template=\"tag\")\n", dir, sock, out) < 0 ||
	    fclose(f) != 0)
		die("writing rsyslog.conf");
	unlink(sock);   /* the last one's */
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execl(RSYSLOGD, RSYSLOGD, "-n", "-f", conf, "-i", pidfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(50000);
	if (access(sock, F_OK) != 0) {
		fprintf(stderr, "%s: rsyslogd made no %s\n", bench_name, sock);
		exit(1);
	}
	return pid;
}

static uint64_t count_lines(const char *path, const char *prefix)
{
	char line[256];
	uint64_t lines = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		lines += strncmp(line, prefix, strlen(prefix)) == 0;
	fclose(f);
	return lines;
}

/* Wait until rsyslog's file holds WANTED lines or stops growing. */
static uint64_t wait_written(const char *path, const char *prefix, uint64_t wanted)
{
	uint64_t written = 0, previous = UINT64_MAX;

	for (int i = 0; i < 60 && written < wanted && written != previous; i++) {
		previous = written;
		sleep(1);
		written = count_lines(path, prefix);
	}
	return written;
}

static int deliver(void *arg, const struct event *ev, const struct format_context *ctx, char *why)
{
	int rc = syslog_sink_deliver(arg, ev, ctx);

	if (rc <= 0) {
		struct syslog_sink_stats st;
		syslog_sink_get_stats(arg, &st);
		snprintf(why, 256, "%s", st.last_error);
	}
	return rc;
}

static void capacity(const char *dir, const char *sock, unsigned events, int seconds)
{
	char log_path[160], out[160], cursor[160];
	struct strbuf err = STRBUF_INIT;

	snprintf(log_path, sizeof(log_path), "%s/events.db", dir);
	snprintf(out, sizeof(out), "%s/capacity.log", dir);
	snprintf(cursor, sizeof(cursor), "%s/syslog.cursor", dir);
	fill_log(log_path, events);
	pid_t rsyslog = start_rsyslog(dir, sock, out);

	struct syslog_config config = { .enabled = true, .socket_path = (char *)sock,
					.max_message = OUTPUTS_DEFAULT_MAX_MESSAGE, .daemon_log = "none" };
	struct syslog_sink *sink = syslog_sink_open(&config, true);
	struct consumer_options options = {
		.name = "syslog", .log_path = log_path, .cursor_path = cursor,
		.output = { .arg = sink, .deliver = deliver },
		.format = { .computer = "bench-host", .process_id = 4242, .thread_id = 4242 },
	};
	uint64_t sent = 0, retries = 0;
	unsigned passes = 0;
	double cpu0 = cpu_self_s(), rsyslog0 = cpu_of_s(rsyslog);
	int64_t start = monotonic_ns(), end = start + (int64_t)seconds * 1000000000LL;

	while (monotonic_ns() < end) {
		if (consumer_save_cursor(cursor, 0, NULL) != 0)
			die("writing the cursor");
		struct consumer *c = consumer_start(&options, &err);
		if (!c) {
			fprintf(stderr, "%s: %s\n", bench_name, strbuf_str(&err));
			exit(1);
		}
		struct consumer_status st;
		do {
			usleep(20000);
			consumer_get_status(c, &st);
		} while (st.cursor < events && monotonic_ns() < end);
		consumer_request_stop(c, 0);
		consumer_stop(c);
		consumer_get_status(c, &st);
		sent += st.delivered;
		retries += st.retries;
		consumer_free(c);
		passes++;
	}
	double elapsed = (double)(monotonic_ns() - start) / 1e9;
	double cpu = cpu_self_s() - cpu0, rsyslog_cpu = cpu_of_s(rsyslog) - rsyslog0;
	uint64_t in_window = count_lines(out, "sysmon:");
	uint64_t written = wait_written(out, "sysmon:", sent);
	syslog_sink_close(sink);
	kill(rsyslog, SIGTERM);
	waitpid(rsyslog, NULL, 0);

	printf("capacity: the syslog consumer over an event log of %u ProcessCreate records, %.1f s, %u passes\n",
	       events, elapsed, passes);
	printf("  sent                 %10" PRIu64 " events   %9.0f events/s (%" PRIu64 " times syslog had no room)\n",
	       sent, (double)sent / elapsed, retries);
	printf("  written by rsyslog   %10" PRIu64 " in the window, %" PRIu64 " in all: %" PRIu64 " lost\n",
	       in_window, written, sent - written);
	printf("  CPU per event        consumer %.1f us, rsyslogd %.1f us\n",
	       sent ? cpu * 1e6 / (double)sent : 0, sent ? rsyslog_cpu * 1e6 / (double)sent : 0);
	strbuf_release(&err);
}

static void exec_loop(int64_t end)
{
	char *const argv[] = { "/bin/true", "bench-syslog-storm", NULL };
	char *const envp[] = { NULL };

	while (monotonic_ns() < end) {
		pid_t pid = fork();
		if (pid == 0) {
			execve(argv[0], argv, envp);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	_exit(0);
}

static void storm(const char *dir, const char *sock, const char *sysmon, int seconds)
{
	char out[160], outputs[160];

	snprintf(out, sizeof(out), "%s/storm.log", dir);
	snprintf(outputs, sizeof(outputs), "%s/outputs.conf", dir);
	pid_t rsyslog = start_rsyslog(dir, sock, out);
	FILE *f = fopen(outputs, "we");
	if (!f || fprintf(f, "status_file = %s/status.json\nstate_dir = %s/state\n[syslog]\nsocket = %s\n"
			  "daemon_log = none\n", dir, dir, sock) < 0 || fclose(f) != 0)
		die("writing outputs.conf");
	setenv("SYSMON_OUTPUTS", outputs, 1);

	struct monitor m;
	monitor_start(&m, sysmon, NULL, "<Sysmon schemaversion=\"4.90\"><EventFiltering>"
		      "<ProcessCreate onmatch=\"exclude\"/></EventFiltering></Sysmon>");
	int64_t start = monotonic_ns(), end = start + (int64_t)seconds * 1000000000LL;
	pid_t workers[2];
	for (int i = 0; i < 2; i++) {
		workers[i] = fork();
		if (workers[i] == 0)
			exec_loop(end);
	}
	for (int i = 0; i < 2; i++)
		waitpid(workers[i], NULL, 0);
	double elapsed = (double)(monotonic_ns() - start) / 1e9;
	monitor_stop(&m, 120);

	uint64_t logged = 0, lost = 0, sent = 0, missed = 0, waiting = 0;
	event_stats(strbuf_str(&m.err), "ProcessCreate", &logged, &lost);
	const char *at = strstr(strbuf_str(&m.err), "outputs: syslog: ");
	if (!at || sscanf(at, "outputs: syslog: %" SCNu64 " sent, %" SCNu64 " missed, %" SCNu64,
			  &sent, &missed, &waiting) != 3) {
		fprintf(stderr, "%s: no syslog figures in the monitor's statistics:\n%s\n", bench_name,
			strbuf_str(&m.err));
		exit(1);
	}
	uint64_t written = wait_written(out, "sysmon:", sent);
	kill(rsyslog, SIGTERM);
	waitpid(rsyslog, NULL, 0);

	printf("storm: the monitor under exec from 2 processes, %.1f s\n", elapsed);
	printf("  ProcessCreate logged %10" PRIu64 "          %9.0f events/s (%" PRIu64 " lost in the rings)\n",
	       logged, (double)logged / elapsed, lost);
	printf("  syslog sent          %10" PRIu64 " events (all kinds), %" PRIu64 " missed, %" PRIu64
	       " still waiting at stop\n", sent, missed, waiting);
	printf("  written by rsyslog   %10" PRIu64 ": %" PRIu64 " lost\n", written, sent - written);
	strbuf_release(&m.err);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "storm-seconds", required_argument, NULL, 't' },
		{ "events", required_argument, NULL, 'e' },
		{ "sysmon", required_argument, NULL, 'm' },
		{ 0 },
	};
	int seconds = 30, storm_seconds = 10, opt;
	unsigned events = 100000;
	const char *sysmon = "build/sysmon";

	bench_name = "bench/syslog";
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 's': seconds = atoi(optarg); break;
		case 't': storm_seconds = atoi(optarg); break;
		case 'e': events = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': sysmon = optarg; break;
		default:
			fprintf(stderr, "usage: %s [--seconds N] [--storm-seconds N] [--events N] [--sysmon PATH]\n",
				argv[0]);
			return 2;
		}
	}
	if (access(RSYSLOGD, X_OK) != 0) {
		fprintf(stderr, "%s: %s is not installed\n", bench_name, RSYSLOGD);
		return 1;
	}
	char dir[] = "/tmp/bench-syslog.XXXXXX";
	char sock[64];
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(sock, sizeof(sock), "%s/log.sock", dir);
	if (seconds > 0)
		capacity(dir, sock, events, seconds);
	if (storm_seconds > 0)
		storm(dir, sock, sysmon, storm_seconds);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
