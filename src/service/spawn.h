/*
 * Running a helper program (systemctl, update-rc.d) to completion: used by
 * the boot service's installation (service.c) and by starting and stopping
 * the monitor under systemd (daemon.c).
 */
#ifndef SYSMON_SPAWN_H
#define SYSMON_SPAWN_H

#include <stdbool.h>

/* Run the program ARGV[0], found in PATH, with ARGV, its output shown or
 * sent to /dev/null; returns its exit status, or -1 if it could not be
 * run. */
int spawn_program(char *const argv[], bool show_output);

#endif
