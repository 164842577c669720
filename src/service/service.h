/*
 * The installed service: what `sysmon -i` puts on the system, how it starts,
 * reloads and stops the monitor (`sysmon run`, service/monitor.c) as a
 * daemon, and what `sysmon -u` takes away.  The CLI commands -i, -c, -u and
 * `sysmon service` (cli/cmd_*.c) are thin layers over this module.
 *
 * Boot persistence: a systemd unit where systemd is PID 1; elsewhere a SysV
 * init script whose actions call `sysmon service ACTION`, so that the
 * daemonizing, the single-instance check and the readiness wait live in one
 * place (daemon.c).  The running monitor is the sysmon process that holds
 * the lock on SERVICE_PID_PATH (pidfile.h).
 */
#ifndef SYSMON_SERVICE_H
#define SYSMON_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/strbuf.h"

struct sysmon_config;

/* Files of an installed sysmon (sysmon(8), FILES). */
#define SERVICE_NAME            "sysmon"
#define SERVICE_BIN_PATH        "/usr/bin/sysmon"
#define SERVICE_CONFIG_DIR      "/etc/sysmon"
#define SERVICE_CONFIG_PATH     "/etc/sysmon/config.xml"
#define SERVICE_PID_PATH        "/run/sysmon.pid"
#define SERVICE_LOG_DIR         "/var/log/sysmon"
#define SERVICE_EVENTLOG_PATH   "/var/log/sysmon/events.db"
#define SERVICE_DAEMON_LOG_PATH "/var/log/sysmon/daemon.log"  /* the daemon's stdout/stderr */
#define SERVICE_INIT_SCRIPT     "/etc/init.d/sysmon"
#define SERVICE_UNIT_PATH       "/etc/systemd/system/sysmon.service"
#define SERVICE_BPF_PINS        "/sys/fs/bpf/sysmon"  /* the monitor's --bpf-pins */

/* The config written when none is given (-i without a file, -c --). */
#define SERVICE_DEFAULT_CONFIG \
	"<Sysmon schemaversion=\"4.81\">\n  <EventFiltering/>\n</Sysmon>\n"
/* Event 16's Configuration for the default config (as Sysmon for `--`). */
#define SERVICE_ORIGIN_DEFAULTS "Defaults"

/* What is on the system now. */
struct service_state {
	bool systemd;       /* systemd is PID 1: the unit is the boot service */
	bool binary;        /* SERVICE_BIN_PATH exists */
	bool config;        /* SERVICE_CONFIG_PATH exists */
	bool init_script;   /* SERVICE_INIT_SCRIPT exists */
	bool unit;          /* SERVICE_UNIT_PATH exists */
	pid_t pid;          /* the running monitor (holder of the pid file lock), 0 if none */
	pid_t stale_pid;    /* pid named by a pid file no live monitor holds, 0 if none */
};

void service_probe(struct service_state *state);
/* Anything of an installation present (the config or a boot service). */
bool service_installed(const struct service_state *state);
/* Every file of an installation present; MISSING (if not NULL) gets the
 * paths of those that are not, separated by ", ". */
bool service_complete(const struct service_state *state, struct strbuf *missing);

/* Is the caller root?  If not, prints Sysmon's message, naming ACTION
 * ("install", ...), and returns false; the command then exits 228. */
bool service_require_root(const char *action);

/* --- files (service.c) --- */

/* Copy the running program to SERVICE_BIN_PATH (atomically), unless it is
 * that file already. */
int service_install_binary(struct strbuf *err);
/* Replace SERVICE_CONFIG_PATH atomically (0600, directory 0700) with
 * DATA (LEN bytes), and record ORIGIN (the path the user gave, or
 * SERVICE_ORIGIN_DEFAULTS) for the monitor's event 16. */
int service_write_config(const char *data, size_t len, const char *origin, struct strbuf *err);
/* Read the config file PATH and validate it with the config loader.  On
 * success returns the loaded config, with the file's bytes in *DATA and *LEN
 * (what gets installed: what was validated is what runs); on failure NULL
 * with the loader's "FILE:LINE: ..." message in ERR. */
struct sysmon_config *service_load_config(const char *path, char **data, size_t *len,
					  struct strbuf *err);
/* Read a whole file (at most 64 MiB) into DATA (NUL-terminated). */
int service_read_file(const char *path, char **data, size_t *len, struct strbuf *err);

/* The text event 16 should carry as Configuration for the config file at
 * CONFIG_PATH: what `sysmon -i`/`-c` recorded next to it (CONFIG_PATH
 * ".origin"), or CONFIG_PATH itself when nothing was recorded.  The monitor
 * calls this at every (re)load.  Returns a malloc'd string. */
char *service_config_origin(const char *config_path);

/* The boot service files as -i writes them (for tests and packagers). */
const char *service_init_script(void);
const char *service_systemd_unit(void);

/* Install / remove the boot service: the systemd unit (enabled) when
 * STATE->systemd, else the init script and its rc?.d links.  Removal takes
 * whichever is present and does not fail on what is missing. */
int service_install_boot(const struct service_state *state, struct strbuf *err);
int service_remove_boot(const struct service_state *state, struct strbuf *err);
/* Remove SERVICE_CONFIG_DIR and, if BINARY, SERVICE_BIN_PATH (missing ones
 * are fine). */
int service_remove_files(bool binary, struct strbuf *err);

/* --- the daemon (daemon.c) --- */

/* Start the monitor (systemctl where systemd runs, else as a daemon of our
 * own) and wait up to TIMEOUT_MS until it is monitoring: it holds the pid
 * file lock and has logged its 'Started' event.  *PID gets its pid.  When a
 * monitor already runs, returns 0 with its pid and *ALREADY set. */
int service_start(const struct service_state *state, int timeout_ms, pid_t *pid,
		  bool *already, struct strbuf *err);
/* Stop the running monitor: SIGTERM (or systemctl stop), then SIGKILL if it
 * has not exited after TIMEOUT_MS.  With RESTART, SIGUSR1 first: the monitor
 * leaves its eBPF programs recording for the next one (docs/restart.md).
 * *KILLED tells whether SIGKILL was needed.  No monitor running is not an
 * error. */
int service_stop(const struct service_state *state, int timeout_ms, bool restart, bool *killed,
		 struct strbuf *err);
/* Ask the running monitor PID to reload its config (SIGHUP) and wait up to
 * TIMEOUT_MS for its event 16.  Returns 0 when confirmed, 1 when the
 * monitor did not confirm in time, -1 on error. */
int service_reload(pid_t pid, int timeout_ms, struct strbuf *err);

/* --- the event log, read for confirmations (eventwatch.c) --- */

/* The highest EventRecordID of an event ID in the log at PATH (any id when
 * ID is 0): 0 when there is none, -1 when the log cannot be read. */
int64_t service_last_record(const char *path, unsigned id);

#endif
