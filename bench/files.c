/*
 * What the monitor costs while files are created and deleted, and whether
 * it keeps up.  A storm of create+delete pairs (open O_CREAT, close,
 * unlink: one FileCreate and one FileDelete each) at fixed event rates and
 * as fast as the machine can, each for DURATION seconds, with the monitor
 * (build/sysmon run) logging every FileCreate and FileDelete.  Prints per
 * rate: file events made, FileCreate+FileDelete events logged and lost (the
 * monitor's statistics: every file on the machine, the storm's and any
 * other), the monitor's CPU and its eBPF programs' run time
 * (kernel.bpf_stats_enabled), as % of one core and per event logged, and
 * the storm's own CPU per event (the eBPF programs run in it), to compare
 * with the same figure without the monitor.
 *
 *   build/bench/files [--duration S] [--workers N] [--rates 10000,20000,max]
 *                     [--sysmon PATH] [--dir DIR]
 *
 * Rates are file events per second (two per create+delete pair).  Run as
 * root from the repository's top directory (defaults: build/sysmon, 20 s,
 * 2 workers, files in a fresh directory under /tmp).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_RATES 16
#define CATCH_UP_NS (1000 * 1000000LL)  /* let the monitor finish the backlog */
#define PACE_NS (1000000LL)             /* fixed rates: one batch per millisecond */

static const char config_text[] =
	"<Sysmon schemaversion=\"4.90\">\n"
	"  <EventFiltering>\n"
	"    <FileCreate onmatch=\"exclude\"/>\n"
	"    <FileDelete onmatch=\"exclude\"/>\n"
	"  </EventFiltering>\n"
	"</Sysmon>\n";

struct options {
	double duration;
	int workers;
	const char *sysmon;
	const char *dir;        /* where the storm's files go; NULL = a fresh one */
	long rates[MAX_RATES];  /* events per second; 0 = as fast as possible */
	int nrates;
};

/* CPU time (user + system) of the children reaped so far: the storm's
 * workers, which drive_load() reaps. */
static double children_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* One create+delete pair: open O_CREAT, close, unlink.  Returns false if
 * the file system refused. */
static bool create_delete(const char *dir, int worker, uint64_t i)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/w%d-%" PRIu64, dir, worker, i);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	close(fd);
	return unlink(path) == 0;
}

/* WORKERS children make create+delete pairs in DIR: together RATE events
 * per second (each paced per millisecond) or as fast as they can (RATE 0).
 * Returns the number of file events made (two per pair). */
static uint64_t drive_load(const char *dir, long rate, double duration, int workers)
{
	int pipefd[2];
	int nproc = workers;
	pid_t drivers[64];

	if (nproc > 64)
		nproc = 64;
	if (pipe(pipefd) != 0)
		die("pipe");
	for (int w = 0; w < nproc; w++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		drivers[w] = pid;
		if (pid > 0)
			continue;
		close(pipefd[0]);
		uint64_t pairs = 0;
		int64_t start = monotonic_ns(), end = start + (int64_t)(duration * 1e9);
		for (int64_t t = start; t < end; t = monotonic_ns()) {
			uint64_t due = pairs + 1;
			if (rate > 0) {
				/* pairs due by the next millisecond, then sleep to it */
				due = (uint64_t)((double)(t - start + PACE_NS) * (double)rate / nproc / 2e9);
				int64_t next = t + PACE_NS;
				if (pairs >= due) {
					struct timespec ts = { next / 1000000000LL, next % 1000000000LL };
					clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
					continue;
				}
			}
			while (pairs < due && create_delete(dir, w, pairs))
				pairs++;
			if (pairs < due)
				break;   /* the file system refused: stop, report what was made */
		}
		uint64_t events = 2 * pairs;
		if (write(pipefd[1], &events, sizeof(events)) != sizeof(events))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	uint64_t total = 0, made;
	while (read(pipefd[0], &made, sizeof(made)) == sizeof(made))
		total += made;
	close(pipefd[0]);
	for (int w = 0; w < nproc; w++)
		waitpid(drivers[w], NULL, 0);
	return total;
}

int main(int argc, char **argv)
{
	struct options opt = {
		.duration = 20,
		.workers = 2,
		.sysmon = "build/sysmon",
		.rates = { 10000, 20000, 0 },
		.nrates = 3,
	};
	static const struct option long_options[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "workers", required_argument, NULL, 'w' },
		{ "rates", required_argument, NULL, 'r' },
		{ "sysmon", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	bench_name = "bench/files";
	while ((c = getopt_long(argc, argv, "d:w:r:s:D:", long_options, NULL)) != -1) {
		switch (c) {
		case 'd': opt.duration = atof(optarg); break;
		case 'w': opt.workers = atoi(optarg); break;
		case 'r':
			if (!parse_rates(optarg, opt.rates, MAX_RATES, &opt.nrates)) {
				fprintf(stderr, "bench/files: --rates takes e.g. 10000,20000,max\n");
				return 2;
			}
			break;
		case 's': opt.sysmon = optarg; break;
		case 'D': opt.dir = optarg; break;
		default:
			fprintf(stderr, "usage: bench/files [--duration S] [--workers N] [--rates 10000,20000,max]"
					" [--sysmon PATH] [--dir DIR]\n");
			return 2;
		}
	}
	if (opt.duration <= 0 || opt.workers < 1) {
		fprintf(stderr, "bench/files: --duration and --workers must be positive\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench/files: run as root (the monitor loads eBPF programs)\n");
		return 2;
	}
	char own_dir[64] = "";
	if (!opt.dir) {
		snprintf(own_dir, sizeof(own_dir), "/tmp/bench-files.XXXXXX");
		if (!mkdtemp(own_dir))
			die("mkdtemp");
		opt.dir = own_dir;
	}
	long ticks_per_s = sysconf(_SC_CLK_TCK);

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench/files: create+delete storm in %s, %.0f s per rate, every FileCreate and FileDelete logged\n",
	       opt.dir, opt.duration);
	double cpu_before = children_cpu_s();
	uint64_t base = drive_load(opt.dir, 0, opt.duration, opt.workers);
	double base_rate = (double)base / opt.duration;
	printf("max file event rate without the monitor (%d workers): %.0f/s, the storm's own CPU %.2f us/event\n\n",
	       opt.workers, base_rate, base ? 1e6 * (children_cpu_s() - cpu_before) / (double)base : 0.0);

	int old_stats = set_bpf_stats(1);
	printf("%-8s %9s %9s %9s %7s %9s %7s %8s %9s %9s\n", "rate", "made", "made/s", "logged", "lost",
	       "monitor%", "eBPF%", "total%", "us/event", "storm-us");
	double max_rate_with = -1;
	for (int i = 0; i < opt.nrates; i++) {
		struct monitor m;
		struct usage_sample before, after;

		monitor_start(&m, opt.sysmon, NULL, config_text);
		usleep(300000);
		sample(m.pid, &before);
		double storm_before = children_cpu_s();
		uint64_t made = drive_load(opt.dir, opt.rates[i], opt.duration, opt.workers);
		double storm_s = children_cpu_s() - storm_before;
		int64_t load_end = monotonic_ns();
		usleep(CATCH_UP_NS / 1000);
		sample(m.pid, &after);
		monitor_stop(&m, 30);

		double load_s = (double)(load_end - before.wall_ns) / 1e9;
		double window_s = (double)(after.wall_ns - before.wall_ns) / 1e9;
		double cpu_s = (double)(after.cpu_ticks - before.cpu_ticks) / (double)ticks_per_s;
		double bpf_s = (double)(after.bpf_ns - before.bpf_ns) / 1e9;
		uint64_t logged = 0, lost = 0;
		event_stats(strbuf_str(&m.err), "FileCreate", &logged, &lost);
		event_stats(strbuf_str(&m.err), "FileDelete", &logged, &lost);
		char label[32];
		if (opt.rates[i] > 0)
			snprintf(label, sizeof(label), "%ld/s", opt.rates[i]);
		else
			snprintf(label, sizeof(label), "max");
		double rate = (double)made / load_s;
		if (opt.rates[i] == 0)
			max_rate_with = rate;
		printf("%-8s %9" PRIu64 " %9.0f %9" PRIu64 " %7" PRIu64 " %9.2f %7.2f %8.2f %9.2f %9.2f\n", label,
		       made, rate, logged, lost, 100.0 * cpu_s / window_s, 100.0 * bpf_s / window_s,
		       100.0 * (cpu_s + bpf_s) / window_s,
		       logged ? 1e6 * (cpu_s + bpf_s) / (double)logged : 0.0,
		       made ? 1e6 * storm_s / (double)made : 0.0);
		strbuf_release(&m.err);
	}
	set_bpf_stats(old_stats);
	if (own_dir[0])
		rmdir(own_dir);
	if (max_rate_with >= 0)
		printf("\nmax file event rate: %.0f/s without the monitor, %.0f/s with it (%+.1f%%)\n", base_rate,
		       max_rate_with, 100.0 * (max_rate_with - base_rate) / base_rate);
	printf("(%% = of one core over the load plus %.1f s of catch-up; logged/lost: the monitor's "
	       "FileCreate+FileDelete statistics, every file on the machine; us/event = monitor CPU + "
	       "eBPF time per event logged; storm-us = the storm's own CPU per event made, eBPF included)\n",
	       CATCH_UP_NS / 1e9);
	return 0;
}
