/*
 * `sysmon service start|stop|restart|reload|force-reload|status`: control
 * the installed monitor.  The SysV init script that `sysmon -i` writes calls
 * this for each of its actions, and admins can too; exit statuses follow
 * the LSB init-script conventions (status: 0 running, 1 dead with a stale
 * pid file, 3 not running; others: 0 success, 1 failure, 4 not root,
 * 6 not installed).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "service/service.h"

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 10000
#define RELOAD_TIMEOUT_MS 2000

/* LSB init-script exit statuses. */
#define LSB_FAILURE 1
#define LSB_NOT_ROOT 4
#define LSB_NOT_CONFIGURED 6
#define LSB_STATUS_STALE 1
#define LSB_STATUS_STOPPED 3

static void service_usage(FILE *out)
{
	fprintf(out, "usage: sysmon service start|stop|restart|reload|force-reload|status\n"
		"Controls the monitor installed by sysmon -i (" SERVICE_INIT_SCRIPT " calls this).\n");
}

static int status(const struct service_state *state)
{
	if (state->pid) {
		printf("sysmon is running (pid %ld).\n", (long)state->pid);
		return EXIT_OK;
	}
	if (state->stale_pid) {
		printf("sysmon is not running, but %s names pid %ld: it ended without stopping cleanly "
		       "(killed or crashed).\n", SERVICE_PID_PATH, (long)state->stale_pid);
		return LSB_STATUS_STALE;
	}
	printf("sysmon is not running%s.\n", service_installed(state) ? "" : " (not installed)");
	return LSB_STATUS_STOPPED;
}

static int start(const struct service_state *state)
{
	struct strbuf err = STRBUF_INIT;
	pid_t pid;
	bool already;

	if (!state->config || !state->binary) {
		fprintf(stderr, "sysmon is not installed (%s or %s is missing): install it with "
			"sysmon -accepteula -i [CONFIG]\n", SERVICE_BIN_PATH, SERVICE_CONFIG_PATH);
		return LSB_NOT_CONFIGURED;
	}
	if (service_start(state, START_TIMEOUT_MS, &pid, &already, &err) < 0) {
		fprintf(stderr, "sysmon: cannot start the monitor: %s\n", err.data);
		strbuf_release(&err);
		return LSB_FAILURE;
	}
	printf(already ? "sysmon is already running (pid %ld).\n" : "sysmon started (pid %ld).\n",
	       (long)pid);
	return EXIT_OK;
}

/* RESTART: the monitor's eBPF programs keep recording for the next one. */
static int stop(const struct service_state *state, bool restart)
{
	struct strbuf err = STRBUF_INIT;
	bool killed;

	if (service_stop(state, STOP_TIMEOUT_MS, restart, &killed, &err) < 0) {
		fprintf(stderr, "sysmon: cannot stop the monitor: %s\n", err.data);
		strbuf_release(&err);
		return LSB_FAILURE;
	}
	if (!state->pid)
		printf("sysmon was not running.\n");
	else if (killed)
		printf("sysmon stopped (killed: it did not stop within %d s of SIGTERM).\n",
		       STOP_TIMEOUT_MS / 1000);
	else
		printf("sysmon stopped.\n");
	return EXIT_OK;
}

static int reload(const struct service_state *state)
{
	struct strbuf err = STRBUF_INIT;

	if (!state->pid) {
		fprintf(stderr, "sysmon is not running: nothing to reload.\n");
		return LSB_STATUS_STOPPED;
	}
	switch (service_reload(state->pid, RELOAD_TIMEOUT_MS, &err)) {
	case 0:
		printf("sysmon reloaded %s.\n", SERVICE_CONFIG_PATH);
		return EXIT_OK;
	case 1:
		fprintf(stderr, "sysmon: the monitor has not confirmed the reload within %d ms "
			"(an invalid config is refused and the old one kept; see %s)\n",
			RELOAD_TIMEOUT_MS, SERVICE_DAEMON_LOG_PATH);
		return LSB_FAILURE;
	default:
		fprintf(stderr, "sysmon: %s\n", err.data);
		strbuf_release(&err);
		return LSB_FAILURE;
	}
}

int cmd_service(int argc, char **argv)
{
	struct service_state state;
	const char *action = argc >= 2 ? argv[1] : NULL;

	if (!action || argc > 2) {
		service_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0) {
		service_usage(stdout);
		return EXIT_OK;
	}
	service_probe(&state);
	if (strcmp(action, "status") == 0)
		return status(&state);
	if (strcmp(action, "start") != 0 && strcmp(action, "stop") != 0 &&
	    strcmp(action, "restart") != 0 && strcmp(action, "reload") != 0 &&
	    strcmp(action, "force-reload") != 0) {
		fprintf(stderr, "sysmon service: unknown action '%s'\n", action);
		service_usage(stderr);
		return EXIT_USAGE;
	}
	if (!service_require_root("control the service"))
		return LSB_NOT_ROOT;
	if (strcmp(action, "start") == 0)
		return start(&state);
	if (strcmp(action, "stop") == 0)
		return stop(&state, false);
	if (strcmp(action, "reload") == 0 || strcmp(action, "force-reload") == 0)
		return reload(&state);

	int rc = stop(&state, true);   /* restart: no gap in what is recorded */

	if (rc != EXIT_OK)
		return rc;
	service_probe(&state);
	return start(&state);
}
