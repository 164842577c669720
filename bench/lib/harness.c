/*
 * The harness shared by the monitor benchmarks: see harness.h.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#define READY_LINE "sysmon: monitoring started"
#define START_TIMEOUT_NS (120 * 1000000000LL)   /* loading takes a minute under qemu TCG */

const char *bench_name = "bench";

void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", bench_name, what, strerror(errno));
	exit(1);
}

/* Append what the monitor wrote to stderr, waiting up to TIMEOUT_MS. */
static void read_monitor_stderr(struct monitor *m, int timeout_ms)
{
	struct pollfd pfd = { .fd = m->stderr_fd, .events = POLLIN };
	char buf[4096];

	while (poll(&pfd, 1, timeout_ms) > 0) {
		ssize_t n = read(m->stderr_fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		strbuf_append(&m->err, buf, (size_t)n);
		timeout_ms = 0;
	}
}

void monitor_start(struct monitor *m, const char *sysmon, const char *config,
		   const char *config_text)
{
	int pipefd[2];
	const char *base = strrchr(bench_name, '/');

	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "/tmp/bench-%s-mon.XXXXXX", base ? base + 1 : bench_name);
	if (!mkdtemp(m->dir))
		die("mkdtemp");
	if (config_text) {
		snprintf(m->config, sizeof(m->config), "%s/config.xml", m->dir);
		FILE *f = fopen(m->config, "w");
		if (!f || fputs(config_text, f) < 0 || fclose(f) != 0)
			die("writing the config");
		config = m->config;
	}
	char log_path[96];
	snprintf(log_path, sizeof(log_path), "%s/events.db", m->dir);
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		die("pipe");
	m->pid = fork();
	if (m->pid < 0)
		die("fork");
	if (m->pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execl(sysmon, sysmon, "run", "--config", config, "--log", log_path, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", sysmon, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	m->stderr_fd = pipefd[0];
	int64_t deadline = monotonic_ns() + START_TIMEOUT_NS;
	while (!strstr(strbuf_str(&m->err), READY_LINE)) {
		if (monotonic_ns() > deadline || waitpid(m->pid, NULL, WNOHANG) != 0) {
			fprintf(stderr, "%s: the monitor did not start:\n%s\n", bench_name, strbuf_str(&m->err));
			exit(1);
		}
		read_monitor_stderr(m, 100);
	}
}

void monitor_stop(struct monitor *m, int timeout_s)
{
	char path[160];

	kill(m->pid, SIGTERM);
	int64_t deadline = monotonic_ns() + timeout_s * 1000000000LL;
	while (waitpid(m->pid, NULL, WNOHANG) == 0 && monotonic_ns() < deadline)
		read_monitor_stderr(m, 50);
	read_monitor_stderr(m, 0);
	close(m->stderr_fd);
	static const char *const files[] = { "events.db", "events.db-wal", "events.db-shm", "config.xml" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", m->dir, files[i]);
		unlink(path);
	}
	rmdir(m->dir);
}

void event_stats(const char *text, const char *name, uint64_t *logged, uint64_t *lost)
{
	char key[64];
	uint64_t captured = 0, l = 0, x = 0;

	snprintf(key, sizeof(key), " %s: ", name);
	const char *at = strstr(text, key);
	if (at)
		sscanf(at + strlen(key), "%" SCNu64 " captured, %" SCNu64 " logged, %" SCNu64 " lost",
		       &captured, &l, &x);
	*logged += l;
	*lost += x;
}

static uint64_t cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* fields after the command name: state(3) ... utime(14) stime(15) */
	char *p = strrchr(buf, ')');
	unsigned long utime = 0, stime = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return 0;
	return utime + stime;
}

size_t bench_programs(pid_t pid, struct bench_program *out, size_t max)
{
	char path[64];
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	DIR *dir = opendir(path);
	if (!dir)
		return 0;   /* PID has exited: it holds nothing */
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		char file[320], line[256];
		snprintf(file, sizeof(file), "%s/%s", path, entry->d_name);
		FILE *f = fopen(file, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned id;
			if (sscanf(line, "prog_id: %u", &id) != 1)
				continue;
			bool dup = false;
			for (size_t i = 0; i < n; i++)
				dup |= out[i].id == id;
			if (dup || n == max)
				continue;
			int fd = bpf_prog_get_fd_by_id(id);
			if (fd < 0)
				continue;
			struct bpf_prog_info info;
			uint32_t len = sizeof(info);
			memset(&info, 0, sizeof(info));
			if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
				out[n].id = id;
				out[n].type = info.type;
				snprintf(out[n].name, sizeof(out[n].name), "%s", info.name);
				out[n].runs = info.run_cnt;
				out[n].run_ns = info.run_time_ns;
				n++;
			}
			close(fd);
		}
		fclose(f);
	}
	closedir(dir);
	return n;
}

/* Run time and run count of every eBPF program PID holds. */
static void bpf_usage(pid_t pid, uint64_t *run_ns, uint64_t *runs)
{
	struct bench_program programs[64];
	size_t n = bench_programs(pid, programs, sizeof(programs) / sizeof(programs[0]));

	*run_ns = *runs = 0;
	for (size_t i = 0; i < n; i++) {
		*run_ns += programs[i].run_ns;
		*runs += programs[i].runs;
	}
}

void sample(pid_t pid, struct usage_sample *s)
{
	s->wall_ns = monotonic_ns();
	s->cpu_ticks = cpu_ticks(pid);
	bpf_usage(pid, &s->bpf_ns, &s->bpf_runs);
}

int set_bpf_stats(int value)
{
	int old = 0;
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");

	if (f) {
		if (fscanf(f, "%d", &old) != 1)
			old = 0;
		fclose(f);
	}
	f = fopen("/proc/sys/kernel/bpf_stats_enabled", "w");
	if (!f || fprintf(f, "%d\n", value) < 0)
		fprintf(stderr, "%s: cannot set kernel.bpf_stats_enabled (eBPF time will read 0)\n", bench_name);
	if (f)
		fclose(f);
	return old;
}

bool parse_rates(const char *text, long *rates, int max, int *nrates)
{
	char *copy = xstrdup(text), *save = NULL;

	*nrates = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*nrates == max)
			break;
		char *end;
		long rate = strcmp(tok, "max") == 0 ? 0 : strtol(tok, &end, 10);
		if (strcmp(tok, "max") != 0 && (*end || rate <= 0)) {
			free(copy);
			return false;
		}
		rates[(*nrates)++] = rate;
	}
	free(copy);
	return *nrates > 0;
}
