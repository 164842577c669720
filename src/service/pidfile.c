/*
 * The monitor's pid file (see pidfile.h).
 */
#include "service/pidfile.h"

#include "service/service.h"   /* SERVICE_NAME */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
