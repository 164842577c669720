/*
 * The headline benchmark: what the monitor costs while processes are
 * created.  Fork+exec /bin/true at fixed rates (100, 400, 1600 per second)
 * and as fast as the machine can (several workers), each for DURATION
 * seconds, with the monitor (build/sysmon run) running Sysmon for Linux's
 * performance-test config (every ProcessCreate, MD5 and SHA256).  Prints per
 * rate: execs made, ProcessCreate events logged and lost, the monitor's CPU
 * (utime+stime from /proc/PID/stat) and its eBPF programs' run time
 * (kernel.bpf_stats_enabled; the run_time_ns that `bpftool prog show`
 * prints, read for the programs the monitor holds), each as % of one core;
 * then the maximum exec rate without and with the monitor.
 *
 *   build/bench/exec [--duration S] [--workers N] [--rates 100,400,1600,max]
 *                    [--sysmon PATH] [--config FILE]
 *
 * Run as root from the repository's top directory (defaults: build/sysmon,
 * ../shared/configs/bench/onlyProcCreate.xml, 20 s, 2 workers).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_RATES 16
#define MAX_ROUNDS 5            /* alternating rounds of the max-rate comparison */
#define CATCH_UP_NS (500 * 1000000LL)   /* let the monitor finish the backlog */

struct options {
	double duration;
	int workers;
	const char *sysmon;
	const char *config;
	long rates[MAX_RATES];  /* 0 = as fast as possible */
	int nrates;
};

static const char *const true_argv[] = { "/bin/true", NULL };
extern char **environ;

/* Children: WORKERS processes fork+exec /bin/true, together at RATE per
 * second for DURATION seconds (children reaped by the kernel), or each as
 * fast as it can, waiting for its child.  Returns the number of execs made. */
static uint64_t drive_load(long rate, double duration, int workers)
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
		uint64_t made = 0;
		int64_t start = monotonic_ns(), end = start + (int64_t)(duration * 1e9);
		if (rate > 0) {
			signal(SIGCHLD, SIG_IGN);   /* no zombies, no waiting */
			/* worker w makes execs w, w + nproc, ... of the schedule */
			uint64_t total = (uint64_t)(rate * duration);
			for (uint64_t i = (uint64_t)w; i < total; i += (uint64_t)nproc) {
				int64_t at = start + (int64_t)((double)i * 1e9 / (double)rate);
				struct timespec ts = { at / 1000000000LL, at % 1000000000LL };
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				pid_t child = fork();
				if (child == 0) {
					execve(true_argv[0], (char **)true_argv, environ);
					_exit(127);
				}
				if (child > 0)
					made++;
			}
		} else {
			while (monotonic_ns() < end) {
				pid_t child = fork();
				if (child == 0) {
					execve(true_argv[0], (char **)true_argv, environ);
					_exit(127);
				}
				if (child > 0 && waitpid(child, NULL, 0) == child)
					made++;
			}
		}
		if (write(pipefd[1], &made, sizeof(made)) != sizeof(made))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	uint64_t total = 0, made;
	while (read(pipefd[0], &made, sizeof(made)) == sizeof(made))
		total += made;
	close(pipefd[0]);
	for (int w = 0; w < nproc; w++)
		waitpid(drivers[w], NULL, 0);   /* not wait(): the monitor is our child too */
	return total;
}

/* Run a private copy of the monitor: `make` elsewhere may relink the
 * original while the benchmark runs. */
static char *copy_program(const char *path)
{
	static char copy[64];
	char buf[65536];
	ssize_t n;

	snprintf(copy, sizeof(copy), "/tmp/bench-exec.%d.sysmon", (int)getpid());
	int in = open(path, O_RDONLY | O_CLOEXEC);
	int out = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
	if (in < 0 || out < 0)
		die(path);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			die(copy);
	close(in);
	if (n < 0 || close(out) != 0)
		die(copy);
	return copy;
}

/* One monitored load: what the monitor and its programs cost. */
struct run {
	uint64_t execs, logged, lost;
	double load_s;          /* the load's wall time */
	double cpu_s, bpf_s;    /* the monitor's CPU time, its programs' run time */
};

static void add_run(struct run *total, const struct run *one)
{
	total->execs += one->execs;
	total->logged += one->logged;
	total->lost += one->lost;
	total->load_s += one->load_s;
	total->cpu_s += one->cpu_s;
	total->bpf_s += one->bpf_s;
}

/* Start a monitor, run the load (RATE per second, 0 = as fast as possible)
 * for DURATION seconds, let the monitor catch up, stop it. */
static void run_monitored(const struct options *opt, long rate, double duration, struct run *out)
{
	struct monitor m;
	struct usage_sample before, after;
	long ticks_per_s = sysconf(_SC_CLK_TCK);

	monitor_start(&m, opt->sysmon, opt->config, NULL);
	usleep(300000);
	sample(m.pid, &before);
	out->execs = drive_load(rate, duration, opt->workers);
	int64_t load_end = monotonic_ns();
	usleep(CATCH_UP_NS / 1000);
	sample(m.pid, &after);
	monitor_stop(&m, 20);
	out->load_s = (double)(load_end - before.wall_ns) / 1e9;
	out->cpu_s = (double)(after.cpu_ticks - before.cpu_ticks) / (double)ticks_per_s;
	out->bpf_s = (double)(after.bpf_ns - before.bpf_ns) / 1e9;
	out->logged = out->lost = 0;
	event_stats(strbuf_str(&m.err), "ProcessCreate", &out->logged, &out->lost);
	strbuf_release(&m.err);
}

static void print_run(long rate, const struct run *r)
{
	char label[32];
	/* over the load's time: the catch-up's work is the load's too */
	double monitor_pct = 100.0 * r->cpu_s / r->load_s;
	double bpf_pct = 100.0 * r->bpf_s / r->load_s;

	if (rate > 0)
		snprintf(label, sizeof(label), "%ld/s", rate);
	else
		snprintf(label, sizeof(label), "max");
	printf("%-8s %8" PRIu64 " %9.0f %8" PRIu64 " %6" PRIu64 " %9.2f %7.2f %8.2f %8.1f\n", label,
	       r->execs, (double)r->execs / r->load_s, r->logged, r->lost, monitor_pct, bpf_pct,
	       monitor_pct + bpf_pct, r->logged ? 1e6 * (r->cpu_s + r->bpf_s) / (double)r->logged : 0.0);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *values, int n)
{
	qsort(values, (size_t)n, sizeof(double), compare_doubles);
	return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	struct options opt = {
		.duration = 20,
		.workers = 2,
		.sysmon = "build/sysmon",
		.config = "../shared/configs/bench/onlyProcCreate.xml",
		.rates = { 100, 400, 1600, 0 },
		.nrates = 4,
	};
	static const struct option long_options[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "workers", required_argument, NULL, 'w' },
		{ "rates", required_argument, NULL, 'r' },
		{ "sysmon", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	bench_name = "bench/exec";
	while ((c = getopt_long(argc, argv, "d:w:r:s:c:", long_options, NULL)) != -1) {
		switch (c) {
		case 'd': opt.duration = atof(optarg); break;
		case 'w': opt.workers = atoi(optarg); break;
		case 'r':
			if (!parse_rates(optarg, opt.rates, MAX_RATES, &opt.nrates)) {
				fprintf(stderr, "bench/exec: --rates takes e.g. 100,400,1600,max\n");
				return 2;
			}
			break;
		case 's': opt.sysmon = optarg; break;
		case 'c': opt.config = optarg; break;
		default:
			fprintf(stderr, "usage: bench/exec [--duration S] [--workers N] [--rates 100,400,1600,max]"
					" [--sysmon PATH] [--config FILE]\n");
			return 2;
		}
	}
	if (opt.duration <= 0 || opt.workers < 1) {
		fprintf(stderr, "bench/exec: --duration and --workers must be positive\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench/exec: run as root (the monitor loads eBPF programs)\n");
		return 2;
	}
	opt.sysmon = copy_program(opt.sysmon);

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench/exec: fork+exec /bin/true, %.0f s per rate, config %s\n", opt.duration, opt.config);
	int old_stats = set_bpf_stats(1);
	printf("%-8s %8s %9s %8s %6s %9s %7s %8s %8s\n", "rate", "execs", "exec/s", "logged", "lost",
	       "monitor%", "eBPF%", "total%", "us/event");
	double rate_without[MAX_ROUNDS], rate_with[MAX_ROUNDS];
	int rounds = 0;
	for (int i = 0; i < opt.nrates; i++) {
		struct run total;

		memset(&total, 0, sizeof(total));
		if (opt.rates[i] > 0) {
			run_monitored(&opt, opt.rates[i], opt.duration, &total);
		} else {
			/* the machine's pace without and with the monitor, in
			 * alternating short rounds, so that other load on the
			 * machine weighs on both alike; medians are compared */
			for (rounds = 0; rounds < MAX_ROUNDS; rounds++) {
				struct run one;
				double d = opt.duration / MAX_ROUNDS;

				rate_without[rounds] = (double)drive_load(0, d, opt.workers) / d;
				run_monitored(&opt, 0, d, &one);
				rate_with[rounds] = (double)one.execs / one.load_s;
				add_run(&total, &one);
			}
		}
		print_run(opt.rates[i], &total);
	}
	set_bpf_stats(old_stats);
	unlink(opt.sysmon);
	if (rounds) {
		double without = median(rate_without, rounds), with = median(rate_with, rounds);
		printf("\nmax exec rate (%d workers, median of %d alternating rounds): %.0f/s without the "
		       "monitor, %.0f/s with it (%+.1f%%)\n", opt.workers, rounds, without, with,
		       100.0 * (with - without) / without);
	}
	printf("(%% = of one core during the load, counting the work of the %.1f s catch-up after it; "
	       "logged/lost: the monitor's\n ProcessCreate statistics, every exec on the machine; "
	       "us/event: monitor + eBPF time per logged event,\n so 1600 events/s cost us/event * 0.16 "
	       "%% of a core)\n", CATCH_UP_NS / 1e9);
	return 0;
}
