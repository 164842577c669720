/*
 * The harness shared by the monitor benchmarks (bench/exec.c,
 * bench/files.c): a clock, fatal errors, running a private monitor
 * (build/sysmon run) and reading its statistics, sampling its CPU and its
 * eBPF programs' run time, kernel.bpf_stats_enabled and the --rates option.
 * Each benchmark keeps its own load and its own table.
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/clock.h"
#include "util/strbuf.h"

/* The name in messages ("bench/exec"); set it first thing in main(). */
extern const char *bench_name;

/* Report WHAT with errno's text, prefixed with bench_name, and exit 1. */
void die(const char *what);

/* A running monitor and the private directory holding its log (and its
 * config, when written by monitor_start()). */
struct monitor {
	pid_t pid;
	int stderr_fd;
	struct strbuf err;      /* everything it wrote to stderr */
	char dir[64];
	char config[96];
};

/* Start SYSMON run --config CONFIG --log DIR/events.db in a fresh directory
 * under /tmp and wait (120 s at most) until it says it is monitoring; exits
 * on failure.  CONFIG_TEXT non-NULL: write it to DIR/config.xml and use that
 * instead of CONFIG. */
void monitor_start(struct monitor *m, const char *sysmon, const char *config,
		   const char *config_text);

/* SIGTERM the monitor, collect its stderr while waiting up to TIMEOUT_S
 * seconds for it to exit, and remove its directory.  m->err stays for
 * event_stats(); strbuf_release() it afterwards. */
void monitor_stop(struct monitor *m, int timeout_s);

/* Add NAME's "C captured, L logged, X lost" from the monitor's statistics
 * in TEXT to *LOGGED and *LOST. */
void event_stats(const char *text, const char *name, uint64_t *logged, uint64_t *lost);

/* What a process has used so far. */
struct usage_sample {
	uint64_t cpu_ticks;     /* utime + stime */
	uint64_t bpf_ns;        /* run_time_ns of its eBPF programs */
	uint64_t bpf_runs;
	int64_t wall_ns;
};

/* Sample PID's CPU time (/proc/PID/stat) and the run time of every eBPF
 * program it holds (its fds, links included), now. */
void sample(pid_t pid, struct usage_sample *s);

/* One eBPF program a process holds, with its bpf_stats counters. */
struct bench_program {
	uint32_t id;
	uint32_t type;          /* enum bpf_prog_type */
	char name[16];
	uint64_t runs, run_ns;
};

/* The programs PID holds (its fds, links included), at most MAX of them,
 * each once (none once PID has exited). */
size_t bench_programs(pid_t pid, struct bench_program *out, size_t max);

/* Set kernel.bpf_stats_enabled to VALUE (without it eBPF run time reads 0);
 * returns the value it had. */
int set_bpf_stats(int value);

/* Parse "100,400,max" into RATES (at most MAX; "max" = 0).  Returns false
 * on a malformed or empty list. */
bool parse_rates(const char *text, long *rates, int max, int *nrates);

#endif
