/*
 * bench/forward: the forwarder's figures (issues 6 and 11).  Events per
 * second delivered to a real local rsyslog (RFC 5424 parsed, written to a
 * file) over TCP and over TLS (imtcp, rsyslog's ossl driver) and over RELP
 * (imrelp), sustained for the window (30 s by default), and the
 * forwarder's CPU time per event.
 *
 * An event log is filled first with realistic ProcessCreate /
 * NetworkConnect / ProcessTerminate records (before the clock starts);
 * then forwarders (src/output/forwarder.c, the monitor's code) send it,
 * each pass with a fresh cursor, until the window ends.  "Sent" counts
 * records whose bytes the forwarder wrote; "written" counts the messages
 * rsyslog had written to its file by the end of the window (the
 * conservative figure); "confirmed" counts the records the forwarders'
 * cursors passed (what they would never send again), and "lost" those of
 * them rsyslog never wrote.  CPU is this process's (only the forwarder
 * thread works during the window); rsyslog's is shown for comparison.
 *
 * Usage: build/bench/forward [--seconds N] [--events N] [--dir DIR] [--tcp-only]
 * Needs rsyslogd, for TLS the rsyslog-openssl package and openssl, for
 * RELP the rsyslog-relp package.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "output/forwarder.h"
#include "output/outputs_config.h"
#include "output/relp.h"
#include "schema/event.h"
#include "store/eventlog.h"
#include "util/clock.h"
#include "util/strbuf.h"

#define POOL 4096
#define FLUSH_EVERY 4096
#define RSYSLOGD "/usr/sbin/rsyslogd"
#define OSSL_DRIVER "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so"
#define STRINGIFY(x) #x
#define TEXT_OF(x) STRINGIFY(x)
#define RELP_WINDOW_TEXT TEXT_OF(RELP_WINDOW)
#define IMRELP "/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so"

enum mode { MODE_TCP, MODE_TLS, MODE_RELP };
static const char *const mode_dirs[] = { "tcp", "tls", "relp" };

static double now(void)
{
	return (double)monotonic_ns() / 1e9;
}

static double cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds used so far by process PID (from /proc). */
static double cpu_of(pid_t pid)
{
	char path[64], text[1024];
	unsigned long utime = 0, stime = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *after = strrchr(text, ')');
	if (!after || sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			     &utime, &stime) != 2)
		return 0;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void make_event(struct event *ev, unsigned i, int64_t time_ns)
{
	static const char *const images[] = {
		"/usr/bin/curl", "/usr/bin/wget", "/usr/lib/firefox/firefox", "/usr/bin/python3.11",
		"/usr/sbin/sshd", "/usr/bin/bash", "/usr/bin/git", "/usr/lib/apt/methods/http",
	};
	char buf[48];
	unsigned kind = i % 3;
	const char *image = images[i % 8];

	event_reset(ev, kind == 0 ? 1 : kind == 1 ? 3 : 5);
	ev->time_ns = time_ns;
	event_set_str(ev, 0, "-");
	event_set_str(ev, 1, event_format_utctime(time_ns, buf));
	event_setf(ev, 2, "{3d1219c7-d63a-6b07-%04x-ccfa85550000}", i % 65536);
	event_setf(ev, 3, "%u", 1000 + i % 30000);
	event_set_str(ev, 4, image);
	if (ev->schema->id == 1) {
		for (int f = 5; f <= 9; f++)
			event_set_str(ev, f, "-");
		event_setf(ev, 10, "%s --config /etc/app/%u.conf --verbose https://example.com/a?b=1&c=2", image, i);
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
	} else if (ev->schema->id == 3) {
		event_set_str(ev, 5, "root");
		event_set_str(ev, 6, "tcp");
		event_set_str(ev, 7, "true");
		event_set_str(ev, 8, "false");
		event_set_str(ev, 9, "127.0.0.1");
		event_setf(ev, 11, "%u", 30000 + i % 30000);
		event_set_str(ev, 13, "false");
		event_set_str(ev, 14, "127.0.0.1");
		event_set_str(ev, 16, i % 4 == 1 ? "443" : "80");
		event_set_str(ev, 17, i % 4 == 1 ? "https" : "http");
	} else {
		event_set_str(ev, 5, "root");
	}
}

static int fill_log(const char *path, unsigned count)
{
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = eventlog_open(path, NULL, &err);
	struct event *pool = calloc(POOL, sizeof(*pool));
	int64_t t = event_now_ns() - (int64_t)count * 1000;

	if (!log || !pool) {
		fprintf(stderr, "bench/forward: %s\n", strbuf_str(&err));
		return -1;
	}
	if (eventlog_set_max_size(log, 16ull << 30, &err) != 0) {
		fprintf(stderr, "bench/forward: %s\n", strbuf_str(&err));
		return -1;
	}
	eventlog_set_origin(log, "bench-host", 4242, 4242);
	for (unsigned i = 0; i < POOL; i++) {
		event_init(&pool[i]);
		make_event(&pool[i], i, t);
	}
	for (unsigned i = 0; i < count; i++) {
		struct event *ev = &pool[i % POOL];
		ev->time_ns = t += 1000;
		ev->record_id = 0;
		if (eventlog_append(log, ev) < 0 || ((i + 1) % FLUSH_EVERY == 0 && eventlog_flush(log) < 0)) {
			fprintf(stderr, "bench/forward: %s\n", eventlog_error(log));
			return -1;
		}
	}
	eventlog_close(log);
	for (unsigned i = 0; i < POOL; i++)
		event_free(&pool[i]);
	free(pool);
	strbuf_release(&err);
	return 0;
}

static int free_port(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		return -1;
	close(fd);
	return ntohs(addr.sin_port);
}

static bool port_open(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static int run_quiet(const char *command)
{
	int rc = system(command);
	return rc == 0 ? 0 : -1;
}

/* Start rsyslogd with imtcp on PORT (TLS with the certificates in DIR) or
 * imrelp, writing one short line per message to OUT. */
static pid_t start_rsyslog(const char *dir, int port, enum mode mode, const char *out)
{
	bool tls = mode == MODE_TLS;

	struct strbuf conf = STRBUF_INIT, path = STRBUF_INIT, pidfile = STRBUF_INIT;

	strbuf_printf(&conf, "global(workDirectory=\"%s\"", dir);
	if (tls)
		strbuf_printf(&conf, " DefaultNetstreamDriver=\"ossl\" DefaultNetstreamDriverCAFile=\"%s/ca.pem\""
			      " DefaultNetstreamDriverCertFile=\"%s/server.pem\""
			      " DefaultNetstreamDriverKeyFile=\"%s/server.key\"", dir, dir, dir);
	strbuf_puts(&conf, ")\n");
	if (tls)
		strbuf_puts(&conf, "module(load=\"imtcp\" StreamDriver.Name=\"ossl\" StreamDriver.Mode=\"1\""
			    " StreamDriver.AuthMode=\"anon\")\n");
	else if (mode == MODE_TCP)
		strbuf_puts(&conf, "module(load=\"imtcp\")\n");
	if (mode == MODE_RELP)
		strbuf_printf(&conf, "module(load=\"imrelp\")\n"
			      "input(type=\"imrelp\" port=\"%d\" address=\"127.0.0.1\")\n", port);
	else
		strbuf_printf(&conf, "input(type=\"imtcp\" port=\"%d\" address=\"127.0.0.1\")\n", port);
	strbuf_printf(&conf, "template(name=\"sd\" type=\"string\" string=\"%%structured-data%%\\n\")\n"
		      "*.* action(type=\"omfile\" file=\"%s\" template=\"sd\")\n", out);
	strbuf_printf(&path, "%s/rsyslog.conf", dir);
	strbuf_printf(&pidfile, "%s/rsyslog.pid", dir);
	FILE *f = fopen(path.data, "we");
	if (!f || fputs(conf.data, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "bench/forward: cannot write %s\n", path.data);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);   /* its complaints about passes cut at the window's end */
		execl(RSYSLOGD, RSYSLOGD, "-n", "-f", path.data, "-i", pidfile.data, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !port_open(port); i++)
		usleep(50000);
	strbuf_release(&conf);
	strbuf_release(&path);
	strbuf_release(&pidfile);
	return pid;
}

static void stop_process(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static uint64_t count_lines(const char *path)
{
	char buf[1 << 16];
	uint64_t lines = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

struct result {
	double seconds, cpu, rsyslog_cpu;
	uint64_t sent, confirmed, bytes, written_in_window, written;
	unsigned passes;
};

static int run_mode(const char *base, const char *log_path, unsigned events, double window, enum mode mode,
		    struct result *r)
{
	bool tls = mode == MODE_TLS;
	struct strbuf dir = STRBUF_INIT, out = STRBUF_INIT, cmd = STRBUF_INIT, err = STRBUF_INIT;
	int port = free_port();
	int rc = -1;

	memset(r, 0, sizeof(*r));
	strbuf_printf(&dir, "%s/%s", base, mode_dirs[mode]);
	strbuf_printf(&out, "%s/received.log", dir.data);
	mkdir(dir.data, 0700);
	if (tls) {
		strbuf_printf(&cmd,
			      "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
			      " -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca >/dev/null 2>&1 &&"
			      " openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
			      " -keyout server.key -out server.csr -subj /CN=collector.test >/dev/null 2>&1 &&"
			      " printf 'subjectAltName=DNS:collector.test\\n' > san.ext &&"
			      " openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
			      " -out server.pem -days 2 -extfile san.ext >/dev/null 2>&1", dir.data);
		if (run_quiet(cmd.data) != 0) {
			fprintf(stderr, "bench/forward: openssl failed\n");
			goto out;
		}
	}
	pid_t rsyslog = start_rsyslog(dir.data, port, mode, out.data);
	if (rsyslog <= 0 || !port_open(port)) {
		fprintf(stderr, "bench/forward: rsyslogd did not start\n");
		stop_process(rsyslog);
		goto out;
	}

	char port_text[16];
	snprintf(port_text, sizeof(port_text), "%d", port);
	strbuf_reset(&cmd);
	strbuf_printf(&cmd, "%s/ca.pem", dir.data);
	struct forward_config config = {
		.protocol = mode == MODE_RELP ? FORWARD_RELP : tls ? FORWARD_TLS : FORWARD_TCP,
		.host = "127.0.0.1",
		.port = port_text,
		.server_name = tls ? "collector.test" : NULL,
		.ca_file = tls ? cmd.data : NULL,
		.max_message = OUTPUTS_DEFAULT_MAX_MESSAGE,
		.reconnect_min_ms = 100,
		.reconnect_max_ms = 1000,
		.send_timeout_ms = 60000,
		.connect_timeout_ms = 5000,
	};
	double rsyslog_cpu0 = cpu_of(rsyslog), cpu0 = cpu_self(), start = now();
	double end = start + window;
	while (now() < end) {
		char name[32];
		snprintf(name, sizeof(name), "pass%u", r->passes++);
		config.name = name;
		struct forwarder *fwd = forwarder_start(&config, log_path, dir.data, NULL, &err);
		if (!fwd) {
			fprintf(stderr, "bench/forward: %s\n", strbuf_str(&err));
			stop_process(rsyslog);
			goto out;
		}
		struct forwarder_status status;
		do {
			usleep(20000);
			forwarder_get_status(fwd, &status);
		} while (now() < end && status.events_sent < events);
		forwarder_request_stop(fwd, 0);
		forwarder_stop(fwd);
		forwarder_get_status(fwd, &status);
		r->sent += status.events_sent;
		r->confirmed += status.cursor;   /* records 1 .. cursor: each pass starts afresh */
		r->bytes += status.bytes_sent;
		if (status.last_error[0] && status.events_sent == 0)
			fprintf(stderr, "bench/forward: %s\n", status.last_error);
		forwarder_free(fwd);
	}
	r->seconds = now() - start;
	r->cpu = cpu_self() - cpu0;
	r->written_in_window = count_lines(out.data);
	/* what was in flight at the end still arrives */
	uint64_t previous = 0;
	for (int i = 0; i < 100; i++) {
		usleep(200000);
		r->written = count_lines(out.data);
		if (r->written == previous)
			break;
		previous = r->written;
	}
	r->rsyslog_cpu = cpu_of(rsyslog) - rsyslog_cpu0;
	stop_process(rsyslog);
	unlink(out.data);
	rc = 0;
out:
	strbuf_release(&dir);
	strbuf_release(&out);
	strbuf_release(&cmd);
	strbuf_release(&err);
	return rc;
}

static void print_result(const char *mode, const struct result *r)
{
	printf("%s: %.1f s, %u passes over the log\n", mode, r->seconds, r->passes);
	printf("  sent by the forwarder      %10" PRIu64 " events  %9.0f events/s\n", r->sent,
	       (double)r->sent / r->seconds);
	printf("  on the wire                %10.1f MB/s, %.0f bytes per framed message\n",
	       (double)r->bytes / r->seconds / 1e6, r->sent ? (double)r->bytes / (double)r->sent : 0);
	printf("  written by rsyslog in time %10" PRIu64 " events  %9.0f events/s\n", r->written_in_window,
	       (double)r->written_in_window / r->seconds);
	printf("  written by rsyslog at all  %10" PRIu64 " events\n", r->written);
	printf("  confirmed by the cursors   %10" PRIu64 " events, lost %" PRIu64 "\n", r->confirmed,
	       r->confirmed > r->written ? r->confirmed - r->written : 0);
	printf("  forwarder CPU              %10.2f us/event (%.0f%% of one core)\n",
	       r->sent ? r->cpu * 1e6 / (double)r->sent : 0, r->cpu * 100 / r->seconds);
	printf("  rsyslogd CPU               %10.2f us/event (%.0f%% of one core)\n",
	       r->written ? r->rsyslog_cpu * 1e6 / (double)r->written : 0, r->rsyslog_cpu * 100 / r->seconds);
}

int main(int argc, char **argv)
{
	double window = 30;
	unsigned events = 300000;
	const char *base_dir = "/tmp";
	bool tcp_only = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			window = atof(argv[++i]);
		else if (!strcmp(argv[i], "--events") && i + 1 < argc)
			events = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			base_dir = argv[++i];
		else if (!strcmp(argv[i], "--tcp-only"))
			tcp_only = true;
		else {
			fprintf(stderr, "usage: %s [--seconds N] [--events N] [--dir DIR] [--tcp-only]\n", argv[0]);
			return 2;
		}
	}
	if (window <= 0 || events == 0) {
		fprintf(stderr, "bench/forward: --seconds and --events must be positive\n");
		return 2;
	}
	if (access(RSYSLOGD, X_OK) != 0) {
		fprintf(stderr, "bench/forward: %s is needed\n", RSYSLOGD);
		return 1;
	}
	char base[4096];
	snprintf(base, sizeof(base), "%s/bench-forward.XXXXXX", base_dir);
	if (!mkdtemp(base)) {
		fprintf(stderr, "bench/forward: mkdtemp %s: %s\n", base, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	char log_path[4200];
	snprintf(log_path, sizeof(log_path), "%s/events.db", base);
	printf("filling an event log with %u events ...\n", events);
	fflush(stdout);
	double fill_start = now();
	if (fill_log(log_path, events) != 0)
		return 1;
	printf("  %.1f s\n", now() - fill_start);

	struct result r;
	int status = 0;
	if (run_mode(base, log_path, events, window, MODE_TCP, &r) == 0)
		print_result("TCP (RFC 5424, octet counting)", &r);
	else
		status = 1;
	if (!tcp_only && access(OSSL_DRIVER, R_OK) != 0)
		printf("TLS: skipped (rsyslog-openssl is not installed)\n");
	else if (!tcp_only && run_mode(base, log_path, events, window, MODE_TLS, &r) == 0)
		print_result("TLS (RFC 5425)", &r);
	else if (!tcp_only)
		status = 1;
	if (!tcp_only && access(IMRELP, R_OK) != 0)
		printf("RELP: skipped (rsyslog-relp is not installed)\n");
	else if (!tcp_only && run_mode(base, log_path, events, window, MODE_RELP, &r) == 0)
		print_result("RELP (window " RELP_WINDOW_TEXT ")", &r);
	else if (!tcp_only)
		status = 1;
	struct strbuf cmd = STRBUF_INIT;
	strbuf_printf(&cmd, "rm -rf '%s'", base);
	run_quiet(cmd.data);
	strbuf_release(&cmd);
	return status;
}
