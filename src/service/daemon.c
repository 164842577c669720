/*
 * Starting, reloading and stopping the monitor as a service (see
 * service.h).  Without systemd the monitor (`sysmon run`) is started as a
 * daemon of our own: double fork and setsid, stdin from /dev/null, stdout
 * and stderr appended to SERVICE_DAEMON_LOG_PATH.  The monitor writes and
 * locks SERVICE_PID_PATH itself; it is "monitoring" once it holds that lock
 * (pidfile.c) and has logged its 'Started' event (4).
 */
#include "service/service.h"

#include "service/pidfile.h"
#include "service/spawn.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 10
/* How long a monitor that holds its lock may take to log 'Started' when
 * the event log cannot be read at all (then the lock alone is trusted). */
#define UNREADABLE_LOG_GRACE_MS 1000
#define KILL_WAIT_MS 3000

static int64_t now_ms(void)
{
	return monotonic_ns() / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Has a record appeared since the newest one was BEFORE (-1: no log, 0: no
 * such record)?  A different newest id counts too: a damaged log is moved
 * aside by the monitor and a new one started. */
static bool new_record(int64_t before, int64_t now)
{
	return now > 0 && now != before;
}

/* Bytes of the daemon log written since OFFSET, to show why a start failed. */
static void daemon_log_since(off_t offset, struct strbuf *out)
{
	int fd = open(SERVICE_DAEMON_LOG_PATH, O_RDONLY | O_CLOEXEC);
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, offset);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		strbuf_puts(out, buf);
	}
}

static off_t daemon_log_size(void)
{
	struct stat st;

	return stat(SERVICE_DAEMON_LOG_PATH, &st) == 0 ? st.st_size : 0;
}

/* Become the daemon (in the grandchild): no terminal, root directory,
 * private umask, stdio to /dev/null and the daemon log, then exec the
 * monitor.  On failure writes errno to REPORT_FD and exits. */
static void __attribute__((noreturn)) exec_daemon(int report_fd)
{
	static char *const argv[] = {
		SERVICE_BIN_PATH, "run", "--config", SERVICE_CONFIG_PATH,
		"--log", SERVICE_EVENTLOG_PATH, "--pid-file", SERVICE_PID_PATH,
		"--bpf-pins", SERVICE_BPF_PINS, NULL,
	};
	int null_fd, log_fd, error;
	sigset_t none;

	umask(077);
	if (chdir("/") < 0)
		goto fail;
	null_fd = open("/dev/null", O_RDWR);
	log_fd = open(SERVICE_DAEMON_LOG_PATH, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (null_fd < 0 || log_fd < 0)
		goto fail;
	if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
		goto fail;
	if (null_fd > 2)
		close(null_fd);
	if (log_fd > 2)
		close(log_fd);
	/* Nothing of the command that started us leaks into the daemon. */
	if (report_fd > 3)
		close_range(3, (unsigned)report_fd - 1, 0);
	close_range((unsigned)report_fd + 1, ~0u, 0);
	/* Signals ignored by whoever started us (nohup, a shell) stay ignored
	 * across exec: give the monitor the defaults. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	time_t now = time(NULL);
	char stamp[64];

	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	dprintf(1, "%s sysmon service: starting %s run --config %s\n", stamp, SERVICE_BIN_PATH,
		SERVICE_CONFIG_PATH);
	execv(SERVICE_BIN_PATH, argv);
fail:
	error = errno;
	if (write(report_fd, &error, sizeof(error)) < 0)
		_exit(127);
	_exit(127);
}

/* Start the daemon; *PID gets its pid once it has exec'd the monitor. */
static int spawn_daemon(pid_t *pid, struct strbuf *err)
{
	int report[2], status, error = 0;
	pid_t child, daemon_pid = 0;

	if (mkdir(SERVICE_LOG_DIR, 0700) < 0 && errno != EEXIST) {
		strbuf_printf(err, "%s: cannot create: %s", SERVICE_LOG_DIR, strerror(errno));
		return -1;
	}
	if (pipe2(report, O_CLOEXEC) < 0) {
		strbuf_printf(err, "cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	child = fork();
	if (child < 0) {
		strbuf_printf(err, "cannot fork: %s", strerror(errno));
		close(report[0]);
		close(report[1]);
		return -1;
	}
	if (child == 0) {
		close(report[0]);
		if (setsid() < 0)
			_exit(1);
		pid_t grandchild = fork();

		if (grandchild < 0)
			_exit(1);
		if (grandchild > 0)
			_exit(write(report[1], &grandchild, sizeof(grandchild)) == sizeof(grandchild) ? 0 : 1);
		exec_daemon(report[1]);
	}
	close(report[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	/* The grandchild's pid, then EOF when exec closed the pipe, or errno. */
	ssize_t n = read(report[0], &daemon_pid, sizeof(daemon_pid));

	if (n == (ssize_t)sizeof(daemon_pid) && read(report[0], &error, sizeof(error)) > 0) {
		strbuf_printf(err, "cannot start %s: %s", SERVICE_BIN_PATH, strerror(error));
		close(report[0]);
		return -1;
	}
	close(report[0]);
	if (n != (ssize_t)sizeof(daemon_pid) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		strbuf_puts(err, "cannot start the daemon (fork or setsid failed)");
		return -1;
	}
	*pid = daemon_pid;
	return 0;
}

static int run_systemctl(const char *verb)
{
	char *argv[] = { "systemctl", (char *)verb, "sysmon.service", NULL };

	return spawn_program(argv, true);
}

int service_start(const struct service_state *state, int timeout_ms, pid_t *pid,
		  bool *already, struct strbuf *err)
{
	pid_t started = 0;
	off_t log_offset = daemon_log_size();
	int64_t before = service_last_record(SERVICE_EVENTLOG_PATH, 4);

	*already = false;
	*pid = pidfile_holder(SERVICE_PID_PATH, NULL);
	if (*pid) {
		*already = true;
		return 0;
	}
	if (state->systemd) {
		if (run_systemctl("start") != 0) {
			strbuf_puts(err, "systemctl start sysmon.service failed "
				    "(see: systemctl status sysmon.service)");
			return -1;
		}
	} else if (spawn_daemon(&started, err) < 0) {
		return -1;
	}

	int64_t deadline = now_ms() + timeout_ms, locked_at = 0;

	for (;;) {
		pid_t holder = pidfile_holder(SERVICE_PID_PATH, NULL);

		if (holder) {
			int64_t last = service_last_record(SERVICE_EVENTLOG_PATH, 4);

			if (!locked_at)
				locked_at = now_ms();
			if (new_record(before, last) ||
			    (last < 0 && now_ms() - locked_at >= UNREADABLE_LOG_GRACE_MS)) {
				*pid = holder;
				return 0;
			}
		}
		if (started && !pidfile_pid_alive(started)) {
			strbuf_printf(err, "the monitor exited while starting; its output (%s):\n",
				      SERVICE_DAEMON_LOG_PATH);
			daemon_log_since(log_offset, err);
			return -1;
		}
		if (now_ms() >= deadline)
			break;
		sleep_ms(POLL_MS);
	}
	strbuf_printf(err, "the monitor did not report that it was monitoring within %d ms; "
		      "see %s", timeout_ms, state->systemd ? "systemctl status sysmon.service"
		      : SERVICE_DAEMON_LOG_PATH);
	return -1;
}

/* Wait until PID has exited and released the pid file, up to TIMEOUT_MS. */
static bool wait_gone(pid_t pid, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		if (!pidfile_pid_alive(pid) && pidfile_holder(SERVICE_PID_PATH, NULL) != pid)
			return true;
		if (now_ms() >= deadline)
			return false;
		sleep_ms(POLL_MS);
	}
}

int service_stop(const struct service_state *state, int timeout_ms, bool restart, bool *killed,
		 struct strbuf *err)
{
	pid_t pid = pidfile_holder(SERVICE_PID_PATH, NULL);

	*killed = false;
	/* systemd's stop would send SIGTERM: the restart signal goes first */
	if (restart && pid && kill(pid, SIGUSR1) == 0)
		wait_gone(pid, timeout_ms);
	if (state->systemd && state->unit)
		run_systemctl("stop");

	pid = pidfile_holder(SERVICE_PID_PATH, NULL);

	if (pid) {
		if (kill(pid, SIGTERM) < 0 && errno != ESRCH) {
			strbuf_printf(err, "cannot signal the monitor (pid %ld): %s", (long)pid,
				      strerror(errno));
			return -1;
		}
		if (!wait_gone(pid, timeout_ms)) {
			*killed = true;
			kill(pid, SIGKILL);
			if (!wait_gone(pid, KILL_WAIT_MS)) {
				strbuf_printf(err, "the monitor (pid %ld) survived SIGKILL", (long)pid);
				return -1;
			}
		}
	}
	/* A pid file nobody holds (after SIGKILL, or left by a crash) is stale. */
	if (!pidfile_holder(SERVICE_PID_PATH, NULL) && unlink(SERVICE_PID_PATH) < 0 &&
	    errno != ENOENT) {
		strbuf_printf(err, "%s: cannot remove: %s", SERVICE_PID_PATH, strerror(errno));
		return -1;
	}
	return 0;
}

int service_reload(pid_t pid, int timeout_ms, struct strbuf *err)
{
	int64_t before = service_last_record(SERVICE_EVENTLOG_PATH, 16);

	if (kill(pid, SIGHUP) < 0) {
		strbuf_printf(err, "cannot signal the monitor (pid %ld): %s", (long)pid, strerror(errno));
		return -1;
	}

	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		if (new_record(before, service_last_record(SERVICE_EVENTLOG_PATH, 16)))
			return 0;
		if (!pidfile_pid_alive(pid)) {
			strbuf_printf(err, "the monitor (pid %ld) exited instead of reloading; see %s",
				      (long)pid, SERVICE_DAEMON_LOG_PATH);
			return -1;
		}
		if (now_ms() >= deadline)
			return 1;
		sleep_ms(POLL_MS);
	}
}
