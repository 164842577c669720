/*
 * The monitor: what `sysmon run` (and the service started by `sysmon -i`)
 * runs in the foreground.  It loads the config, attaches the capture
 * sources the rules can use, and runs the pipeline for every record:
 * decode -> enrich -> rules -> event log -> optional stdout copy.  Events 16
 * and 4 mark start, reloads (SIGHUP) and stop (SIGINT/SIGTERM/SIGUSR1); lost events
 * and run-time problems become Error events (255).
 */
#ifndef SYSMON_MONITOR_H
#define SYSMON_MONITOR_H

#include <stdbool.h>

enum monitor_stdout {
	MONITOR_STDOUT_NONE,
	MONITOR_STDOUT_XML,
	MONITOR_STDOUT_JSON,
};

struct monitor_options {
	const char *config_path;      /* NULL: Sysmon's default config */
	const char *log_path;         /* NULL: EVENTLOG_DEFAULT_PATH */
	bool no_log;                  /* write no event log (stdout only) */
	enum monitor_stdout stdout_format;
	const char *pid_file;         /* NULL: none; else written and locked */
	const char *outputs_path;     /* outputs.conf; NULL: $SYSMON_OUTPUTS, else the default */
	unsigned ring_buffer_pages;   /* per source; 0: the default */
	const char *pin_dir;          /* bpffs directory for capture_pin(); NULL: none */
};

/* Run until SIGINT/SIGTERM (a stop: the pins are removed) or SIGUSR1 (a
 * stop for a restart: the pins stay, the kernel side keeps recording for the
 * next monitor).  Returns the process exit status (see
 * cli/commands.h); every problem is reported on stderr first. */
int monitor_run(const struct monitor_options *options);

#endif
