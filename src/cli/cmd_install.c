/*
 * `sysmon -accepteula -i [CONFIG]`: install and start the service
 * (service/service.h does the work).  The config is validated before
 * anything is touched; an existing installation is reported and left as it
 * is; a failure half-way undoes what this run installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "config/config.h"
#include "service/privsep.h"
#include "service/service.h"

#define START_TIMEOUT_MS 20000   /* loading the eBPF programs takes a few seconds at worst */

static int already_installed(const struct service_state *state)
{
	printf("Sysmon is already installed: nothing was changed.\n");
	if (state->pid)
		printf("It is monitoring (pid %ld). Change its configuration with sysmon -c CONFIG,\n"
		       "or uninstall it with sysmon -u.\n", (long)state->pid);
	else if (state->stale_pid)
		printf("Its monitor is NOT running: it was stopped without cleaning up (pid %ld, killed\n"
		       "or crashed). Start it with: sysmon service start (or uninstall: sysmon -u).\n",
		       (long)state->stale_pid);
	else
		printf("Its monitor is not running. Start it with: sysmon service start\n"
		       "(or uninstall: sysmon -u, or sysmon -u force if files are missing).\n");
	return EXIT_FAILURE_RUN;
}

/* Undo what this run installed, so that a failed -i leaves no half-install. */
static void roll_back(const struct service_state *state, bool copied_binary)
{
	struct strbuf err = STRBUF_INIT;
	bool killed;

	service_stop(state, 5000, false, &killed, &err);
	service_remove_boot(state, &err);
	service_remove_files(copied_binary, &err);
	if (err.len)
		fprintf(stderr, "sysmon: while undoing the installation: %s\n", err.data);
	strbuf_release(&err);
}

int cmd_install(int argc, char **argv)
{
	const char *path = argc >= 2 ? argv[1] : NULL;
	struct strbuf err = STRBUF_INIT;
	struct service_state state;
	char *data = NULL;
	size_t len = 0;
	bool copied_binary;

	/* Validate first, as Sysmon does: a bad config is reported to anyone. */
	if (path) {
		struct sysmon_config *config = service_load_config(path, &data, &len, &err);

		if (!config) {
			fprintf(stderr, "%s\n", strbuf_str(&err));
			strbuf_release(&err);
			return EXIT_USAGE;
		}
		for (size_t i = 0; i < config->nwarnings; i++)
			fprintf(stderr, "warning: %s\n", config->warnings[i]);
		config_free(config);
	}
	if (!service_require_root("install sysmon")) {
		free(data);
		return EXIT_NOT_ROOT;
	}
	service_probe(&state);
	if (service_installed(&state)) {
		free(data);
		return already_installed(&state);
	}

	struct stat before;

	copied_binary = stat(SERVICE_BIN_PATH, &before) != 0;
	if (service_install_binary(&err) < 0)
		goto fail;
	if (!path) {
		data = xstrdup(SERVICE_DEFAULT_CONFIG);
		len = strlen(data);
	}
	if (service_write_config(data, len, path ? path : SERVICE_ORIGIN_DEFAULTS, &err) < 0)
		goto fail;
	if (mkdir(SERVICE_LOG_DIR, 0700) < 0 && errno != EEXIST) {
		strbuf_printf(&err, "%s: cannot create: %s", SERVICE_LOG_DIR, strerror(errno));
		goto fail;
	}
	if (service_install_boot(&state, &err) < 0)
		goto fail;
	/* the forwarders' unprivileged user (docs/privsep.md); without it
	 * they run as nobody */
	struct strbuf user_err = STRBUF_INIT;
	if (privsep_create_user(&user_err) != 0)
		fprintf(stderr, "sysmon: warning: %s\n", user_err.data);
	strbuf_release(&user_err);

	pid_t pid;
	bool already;

	if (service_start(&state, START_TIMEOUT_MS, &pid, &already, &err) < 0)
		goto fail;

	printf("Sysmon installed.\n");
	printf(" - Program:        %s\n", SERVICE_BIN_PATH);
	printf(" - Configuration:  %s (from %s)\n", SERVICE_CONFIG_PATH,
	       path ? path : "the default configuration");
	if (state.systemd)
		printf(" - Service:        %s (enabled: started at boot)\n", SERVICE_UNIT_PATH);
	else
		printf(" - Service:        %s (rc?.d links: started at boot)\n", SERVICE_INIT_SCRIPT);
	printf(" - Event log:      %s (sysmon query, sysmon log)\n", SERVICE_EVENTLOG_PATH);
	if (already)
		printf("A monitor was already running (pid %ld): sysmon service restart makes it use "
		       "this configuration.\n", (long)pid);
	else
		printf("Sysmon started (pid %ld).\n", (long)pid);
	free(data);
	strbuf_release(&err);
	return EXIT_OK;

fail:
	fprintf(stderr, "sysmon: installation failed: %s\n", strbuf_str(&err));
	roll_back(&state, copied_binary);
	fprintf(stderr, "Nothing was installed.\n");
	free(data);
	strbuf_release(&err);
	return EXIT_FAILURE_RUN;
}
