/*
 * The monitor's pid file: the running monitor is the sysmon process that
 * holds an flock on it; a pid file no sysmon holds is stale.  The monitor
 * takes it (pidfile_take); the service commands (service.c probing what
 * runs, daemon.c waiting for a start or a stop) observe the lock through
 * /proc/locks, never by taking it, so that probing cannot make a monitor
 * that is starting believe another instance runs.
 */
#ifndef SYSMON_PIDFILE_H
#define SYSMON_PIDFILE_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/strbuf.h"

/* Write our pid to PATH and hold a lock on it for as long as we run, so a
 * second monitor refuses to start.  Returns the open fd, or -1 with the
 * reason in ERR ("another monitor is already running (pid N holds PATH)"). */
int pidfile_take(const char *path, struct strbuf *err);
/* Remove PATH and let go of FD, as the monitor exits. */
void pidfile_release(const char *path, int fd);

/* The pid of the sysmon process holding the lock on PATH, 0 if none.
 * *STALE (if not NULL) gets the pid the file names when none holds it. */
pid_t pidfile_holder(const char *path, pid_t *stale);

/* Is PID alive and not a zombie (a daemon is reaped by init, maybe not at
 * once)? */
bool pidfile_pid_alive(pid_t pid);

#endif
