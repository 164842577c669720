/*
 * What the monitor costs every other program: cheap system calls that no
 * event type is about (getppid, a 1-byte write to /dev/null, open+close of
 * an existing file, stat) timed without the monitor and with it under each
 * config (issue 10).  Prints per call the median over ROUNDS rounds of the
 * ns each call takes without the monitor and the ns the monitor adds under
 * each config; then, from one more round per config with
 * kernel.bpf_stats_enabled=1, which of the monitor's eBPF programs run on
 * each call and their run time per call (the run_time_ns that `bpftool prog
 * show` prints).  The timed rounds run with eBPF statistics off: they cost
 * two clock reads per program run themselves.
 *
 *   build/bench/syscall_tax [--rounds N] [--round-ms MS] [--sysmon PATH]
 *                           [--no-breakdown] [CONFIG ...]
 *
 * Default configs: ProcessCreate+NetworkConnect only (written by the
 * benchmark), configs/default.xml and ../shared/configs/mstic-linux/
 * collect-all.xml.  Run as root from the repository's top directory.  Each
 * call of a round is repeated for ROUND-MS (default 200 ms); the rounds of
 * "none" come before and after the monitored ones so that drift of the
 * machine weighs on both.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "harness.h"

#define MAX_CONFIGS 8
#define MAX_ROUNDS 31
#define MAX_PROGRAMS 96
#define BATCH 256              /* calls between two clock reads */

static const char proc_net_config[] =
	"<Sysmon schemaversion=\"4.81\">\n"
	"  <EventFiltering>\n"
	"    <RuleGroup name=\"\" groupRelation=\"or\"><ProcessCreate onmatch=\"exclude\"/></RuleGroup>\n"
	"    <RuleGroup name=\"\" groupRelation=\"or\"><NetworkConnect onmatch=\"exclude\"/></RuleGroup>\n"
	"  </EventFiltering>\n"
	"</Sysmon>\n";

/* The calls timed.  The file opened and stat'ed is an empty one the
 * benchmark makes under /tmp before any monitor starts. */
enum call { CALL_GETPPID, CALL_WRITE, CALL_OPEN_CLOSE, CALL_STAT, NCALLS };
static const char *const call_names[NCALLS] = { "getppid", "write", "open+close", "stat" };
static const char *existing_file;
static int null_fd;

static void do_calls(enum call call, int n)
{
	struct stat st;
	char byte = 'x';

	for (int i = 0; i < n; i++) {
		switch (call) {
		case CALL_GETPPID:
			syscall(SYS_getppid);   /* never cached by libc */
			break;
		case CALL_WRITE:
			if (write(null_fd, &byte, 1) != 1)
				die("write /dev/null");
			break;
		case CALL_OPEN_CLOSE: {
			int fd = open(existing_file, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				die(existing_file);
			close(fd);
			break;
		}
		case CALL_STAT:
			if (stat(existing_file, &st) != 0)
				die(existing_file);
			break;
		default:
			break;
		}
	}
}

/* Repeat CALL for about ROUND_NS; returns ns per call and the count. */
static double time_calls(enum call call, int64_t round_ns, uint64_t *count)
{
	uint64_t n = 0;

	do_calls(call, BATCH);   /* warm caches */
	int64_t start = monotonic_ns(), end = start + round_ns, t;
	do {
		do_calls(call, BATCH);
		n += BATCH;
	} while ((t = monotonic_ns()) < end);
	*count = n;
	return (double)(t - start) / (double)n;
}

/* Run counters of one eBPF program the monitor holds. */
static const char *program_type(uint32_t type)
{
	switch (type) {
	case BPF_PROG_TYPE_TRACEPOINT: return "tp";
	case BPF_PROG_TYPE_RAW_TRACEPOINT: return "raw_tp";
	case BPF_PROG_TYPE_TRACING: return "tracing";
	case BPF_PROG_TYPE_LSM: return "lsm";
	case BPF_PROG_TYPE_KPROBE: return "kprobe";
	default: return "other";
	}
}

static uint64_t counter_before(const struct bench_program *before, size_t n, uint32_t id, bool ns)
{
	for (size_t i = 0; i < n; i++)
		if (before[i].id == id)
			return ns ? before[i].run_ns : before[i].runs;
	return 0;
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

struct options {
	int rounds;
	int64_t round_ns;
	const char *sysmon;
	bool breakdown;
	const char *configs[MAX_CONFIGS];
	int nconfigs;
};

/* ROUNDS rounds of every call: their ns per call into NS[call][round]. */
static void timed_rounds(const struct options *opt, double ns[NCALLS][MAX_ROUNDS], int first_round,
			 int rounds)
{
	for (int r = first_round; r < first_round + rounds; r++)
		for (int c = 0; c < NCALLS; c++) {
			uint64_t count;
			ns[c][r] = time_calls((enum call)c, opt->round_ns, &count);
		}
}

/* One round with eBPF statistics on: per call, which programs of the
 * monitor PID ran how often and how long, per call. */
static void print_breakdown(const struct options *opt, pid_t pid, const char *label)
{
	static struct bench_program before[MAX_PROGRAMS], after[MAX_PROGRAMS];
	double runs[NCALLS][MAX_PROGRAMS], run_ns[NCALLS][MAX_PROGRAMS], total_ns[NCALLS];
	size_t n = 0;

	int old = set_bpf_stats(1);
	for (int c = 0; c < NCALLS; c++) {
		uint64_t count;
		size_t nb = bench_programs(pid, before, MAX_PROGRAMS);
		time_calls((enum call)c, opt->round_ns, &count);
		n = bench_programs(pid, after, MAX_PROGRAMS);
		total_ns[c] = 0;
		for (size_t i = 0; i < n; i++) {
			runs[c][i] = (double)(after[i].runs - counter_before(before, nb, after[i].id, false)) /
				     (double)count;
			run_ns[c][i] = (double)(after[i].run_ns - counter_before(before, nb, after[i].id, true)) /
				       (double)count;
			total_ns[c] += run_ns[c][i];
		}
	}
	set_bpf_stats(old);

	printf("\n%s: eBPF programs run per call (runs/call, run ns/call; statistics on)\n", label);
	printf("  %-16s %-8s", "program", "type");
	for (int c = 0; c < NCALLS; c++)
		printf(" %18s", call_names[c]);
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		bool runs_on_some = false;
		for (int c = 0; c < NCALLS; c++)
			runs_on_some |= runs[c][i] >= 0.01;
		if (!runs_on_some)
			continue;
		printf("  %-16s %-8s", after[i].name, program_type(after[i].type));
		for (int c = 0; c < NCALLS; c++)
			printf("   %5.2f x %7.1f ns", runs[c][i], run_ns[c][i]);
		printf("\n");
	}
	printf("  %-25s", "all programs");
	for (int c = 0; c < NCALLS; c++)
		printf(" %15.1f ns", total_ns[c]);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct options opt = {
		.rounds = 7,
		.round_ns = 200 * 1000000LL,
		.sysmon = "build/sysmon",
		.breakdown = true,
	};
	static const struct option long_options[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "round-ms", required_argument, NULL, 'm' },
		{ "sysmon", required_argument, NULL, 's' },
		{ "no-breakdown", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	bench_name = "bench/syscall_tax";
	while ((c = getopt_long(argc, argv, "r:m:s:n", long_options, NULL)) != -1) {
		switch (c) {
		case 'r': opt.rounds = atoi(optarg); break;
		case 'm': opt.round_ns = atoll(optarg) * 1000000LL; break;
		case 's': opt.sysmon = optarg; break;
		case 'n': opt.breakdown = false; break;
		default:
			fprintf(stderr, "usage: bench/syscall_tax [--rounds N] [--round-ms MS] [--sysmon PATH]"
					" [--no-breakdown] [CONFIG ...]\n");
			return 2;
		}
	}
	if (opt.rounds < 1 || opt.rounds > MAX_ROUNDS / 2 || opt.round_ns <= 0) {
		fprintf(stderr, "bench/syscall_tax: --rounds 1..%d, --round-ms positive\n", MAX_ROUNDS / 2);
		return 2;
	}
	for (; optind < argc && opt.nconfigs < MAX_CONFIGS; optind++)
		opt.configs[opt.nconfigs++] = argv[optind];
	if (opt.nconfigs == 0) {
		opt.configs[opt.nconfigs++] = NULL;   /* ProcessCreate+NetworkConnect */
		opt.configs[opt.nconfigs++] = "configs/default.xml";
		opt.configs[opt.nconfigs++] = "../shared/configs/mstic-linux/collect-all.xml";
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench/syscall_tax: run as root (the monitor loads eBPF programs)\n");
		return 2;
	}
	static char dir[64], file[96];
	snprintf(dir, sizeof(dir), "/tmp/bench-syscall-tax.XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(file, sizeof(file), "%s/existing", dir);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || close(fd) != 0)
		die(file);
	existing_file = file;
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd < 0)
		die("/dev/null");
	int old_stats = set_bpf_stats(0);

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench/syscall_tax: ns per call, median of %d rounds of %lld ms per call "
	       "(none: %d rounds, before and after)\n", opt.rounds, (long long)(opt.round_ns / 1000000),
	       2 * opt.rounds);

	static double none[NCALLS][MAX_ROUNDS], with[MAX_CONFIGS][NCALLS][MAX_ROUNDS];
	timed_rounds(&opt, none, 0, opt.rounds);
	for (int k = 0; k < opt.nconfigs; k++) {
		struct monitor m;

		monitor_start(&m, opt.sysmon, opt.configs[k], opt.configs[k] ? NULL : proc_net_config);
		usleep(300000);
		timed_rounds(&opt, with[k], 0, opt.rounds);
		if (opt.breakdown)
			print_breakdown(&opt, m.pid, opt.configs[k] ? opt.configs[k] : "ProcessCreate+NetworkConnect");
		monitor_stop(&m, 20);
		strbuf_release(&m.err);
	}
	timed_rounds(&opt, none, opt.rounds, opt.rounds);
	set_bpf_stats(old_stats);
	unlink(file);
	rmdir(dir);

	printf("\n%-12s %8s", "call", "none");
	for (int k = 0; k < opt.nconfigs; k++) {
		const char *name = opt.configs[k] ? strrchr(opt.configs[k], '/') : NULL;
		printf(" %22s", opt.configs[k] ? (name ? name + 1 : opt.configs[k]) : "ProcessCreate+NetConn");
	}
	printf("\n");
	for (int call = 0; call < NCALLS; call++) {
		double base = median(none[call], 2 * opt.rounds);
		printf("%-12s %8.0f", call_names[call], base);
		for (int k = 0; k < opt.nconfigs; k++) {
			double ns = median(with[k][call], opt.rounds);
			printf("   %6.0f %+6.0f (%+4.0f%%)", ns, ns - base, 100.0 * (ns - base) / base);
		}
		printf("\n");
	}
	printf("(each config: ns per call with the monitor, ns added, %% added)\n");
	return 0;
}
