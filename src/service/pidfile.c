/*
 * The monitor's pid file (see pidfile.h): taken with flock by the monitor,
 * observed by everyone else.
 */
#include "service/pidfile.h"

#include "service/service.h"   /* SERVICE_NAME */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

bool pidfile_pid_alive(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')'. */
	const char *close_paren = strrchr(buf, ')');

	return !(close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z');
}

/* Is PID a sysmon process?  Whatever else holds the lock on our pid file is
 * not the monitor (which will then refuse to start, and say why). */
static bool is_sysmon(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strcmp(comm, SERVICE_NAME "\n") == 0;
}

pid_t pidfile_holder(const char *pid_path, pid_t *stale)
{
	struct stat st;
	pid_t holder = 0, named = 0;

	if (stale)
		*stale = 0;
	if (stat(pid_path, &st) < 0)
		return 0;

	FILE *f = fopen(pid_path, "re");

	if (f) {
		long value;

		if (fscanf(f, "%ld", &value) == 1 && value > 0)
			named = (pid_t)value;
		fclose(f);
	}

	/* Lines: "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF" (POSIX locks
	 * alike); device numbers in hex, the inode in decimal. */
	char want[64], line[256];

	snprintf(want, sizeof(want), " %02x:%02x:%lu ", major(st.st_dev), minor(st.st_dev),
		 (unsigned long)st.st_ino);
	f = fopen("/proc/locks", "re");
	if (f) {
		while (!holder && fgets(line, sizeof(line), f)) {
			char *at = strstr(line, want);

			if (!at || strstr(line, "->"))   /* "->" marks a waiter, not a holder */
				continue;
			/* The pid is the field just before the device. */
			char *p = at;

			while (p > line && p[-1] != ' ')
				p--;
			long value = strtol(p, NULL, 10);

			if (value > 0 && pidfile_pid_alive((pid_t)value) && is_sysmon((pid_t)value))
				holder = (pid_t)value;
		}
		fclose(f);
	}
	if (!holder && stale && named && named != getpid())
		*stale = named;
	return holder;
}

int pidfile_take(const char *path, struct strbuf *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		strbuf_printf(err, "cannot open the pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int lock_errno = errno;
		char pid[32] = "";
		if (pread(fd, pid, sizeof(pid) - 1, 0) > 0)
			pid[strcspn(pid, "\n")] = '\0';
		if (lock_errno == EWOULDBLOCK)
			strbuf_printf(err, "another monitor is already running (pid %s holds %s)",
				      pid[0] ? pid : "unknown", path);
		else
			strbuf_printf(err, "cannot lock the pid file %s: %s", path, strerror(lock_errno));
		close(fd);
		return -1;
	}
	char text[32];
	int len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
		strbuf_printf(err, "cannot write the pid file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void pidfile_release(const char *path, int fd)
{
	unlink(path);
	close(fd);
}
