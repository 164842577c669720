/*
 * The exit statuses of the sysmon program (EXIT STATUS in sysmon(8)), as
 * Sysmon's where Sysmon has one.  Here rather than in cli/ because the
 * monitor (service/, monitor_run) returns them too.
 */
#ifndef SYSMON_EXITCODES_H
#define SYSMON_EXITCODES_H

#define EXIT_OK            0
#define EXIT_FAILURE_RUN   1    /* run-time failure (install, daemon start, I/O) */
#define EXIT_USAGE         87   /* usage or configuration error (ERROR_INVALID_PARAMETER) */
#define EXIT_NOT_ROOT      228  /* needs root (ERROR_ELEVATION_REQUIRED & 0xff) */

#endif
