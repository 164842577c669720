/*
 * `sysmon outputs check [FILE] | show | apply FILE`: validate an
 * outputs.conf (with the parser the monitor uses, plus the TLS files it
 * names, so a file that passes here loads there), print what it
 * configures, or install it as the active file and have the running
 * monitor re-read it, as `sysmon -c FILE` does for the Sysmon config.
 * The active file is $SYSMON_OUTPUTS or /etc/sysmon/outputs.conf.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "output/forwarder.h"
#include "output/outputs_config.h"
#include "output/sinks.h"
#include "service/service.h"
#include "util/strbuf.h"

#define RELOAD_TIMEOUT_MS 10000

static void usage(FILE *out)
{
	fprintf(out, "usage: sysmon outputs check [FILE]   validate FILE (default: the active outputs.conf)\n"
		     "       sysmon outputs show           print the active outputs\n"
		     "       sysmon outputs apply FILE     validate FILE, make it the active outputs.conf\n"
		     "                                     and have the running monitor reload it\n"
		     "The active file is $" SINKS_CONFIG_ENV " or " SINKS_DEFAULT_CONFIG
		     "; see docs/outputs.md.\n");
}

static const char *active_path(void)
{
	const char *path = getenv(SINKS_CONFIG_ENV);

	return path && *path ? path : SINKS_DEFAULT_CONFIG;
}

/* Parse PATH and check its TLS files; NULL with the reason printed. */
static struct outputs_config *load_checked(const char *path, bool missing_is_default)
{
	struct strbuf err = STRBUF_INIT;
	struct outputs_config *config;

	if (missing_is_default && access(path, F_OK) != 0 && errno == ENOENT)
		return outputs_config_default();
	config = outputs_config_load(path, &err);
	for (size_t i = 0; config && i < config->nforwards; i++) {
		if (forwarder_check_config(&config->forwards[i], &err) != 0) {
			outputs_config_free(config);
			config = NULL;
		}
	}
	if (!config)
		fprintf(stderr, "sysmon outputs: %s\n", strbuf_str(&err));
	strbuf_release(&err);
	return config;
}

static void describe(const struct outputs_config *config)
{
	struct strbuf text = STRBUF_INIT;

	outputs_config_describe(config, &text);
	fputs(strbuf_str(&text), stdout);
	strbuf_release(&text);
}

/* Replace TARGET with the bytes of SOURCE atomically. */
static int install_file(const char *source, const char *target)
{
	struct strbuf err = STRBUF_INIT, tmp = STRBUF_INIT;
	char *data = NULL;
	size_t len = 0;
	int rc = -1;

	if (service_read_file(source, &data, &len, &err) != 0) {
		fprintf(stderr, "sysmon outputs: %s\n", strbuf_str(&err));
		goto out;
	}
	const char *slash = strrchr(target, '/');
	if (slash && slash != target) {
		char *dir = xstrndup(target, (size_t)(slash - target));
		mkdir(dir, 0700);   /* /etc/sysmon before any install; EEXIST is fine */
		free(dir);
	}
	strbuf_printf(&tmp, "%s.tmp", target);
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) != 0 || close(fd) != 0 ||
	    rename(tmp.data, target) != 0) {
		fprintf(stderr, "sysmon outputs: cannot write %s: %s\n", target, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	rc = 0;
out:
	free(data);
	strbuf_release(&err);
	strbuf_release(&tmp);
	return rc;
}

static int apply(const char *file)
{
	const char *target = active_path();
	struct outputs_config *config;
	struct service_state state;
	struct strbuf err = STRBUF_INIT;
	int status = EXIT_OK;

	if (!service_require_root("apply outputs"))
		return EXIT_NOT_ROOT;
	config = load_checked(file, false);
	if (!config)
		return EXIT_USAGE;
	outputs_config_free(config);
	if (strcmp(file, target) != 0 && install_file(file, target) != 0)
		return EXIT_FAILURE_RUN;
	printf("outputs: %s installed as %s\n", file, target);
	service_probe(&state);
	if (!state.pid) {
		printf("no monitor is running: the outputs apply at its next start\n");
		return EXIT_OK;
	}
	switch (service_reload(state.pid, RELOAD_TIMEOUT_MS, &err)) {
	case 0:
		printf("the monitor (pid %ld) reloaded its outputs; `sysmon status` shows them\n",
		       (long)state.pid);
		break;
	case 1:
		fprintf(stderr, "sysmon outputs: the monitor (pid %ld) did not confirm the reload within %d s\n",
			(long)state.pid, RELOAD_TIMEOUT_MS / 1000);
		status = EXIT_FAILURE_RUN;
		break;
	default:
		fprintf(stderr, "sysmon outputs: %s\n", strbuf_str(&err));
		status = EXIT_FAILURE_RUN;
		break;
	}
	strbuf_release(&err);
	return status;
}

int cmd_outputs(int argc, char **argv)
{
	const char *action = argc >= 2 ? argv[1] : "";

	if (!strcmp(action, "-h") || !strcmp(action, "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(action, "check") && argc <= 3) {
		const char *path = argc == 3 ? argv[2] : active_path();
		struct outputs_config *config = load_checked(path, argc == 2);
		if (!config)
			return EXIT_USAGE;
		describe(config);
		printf("%s: valid\n", config->path ? config->path : "defaults (no outputs.conf)");
		outputs_config_free(config);
		return EXIT_OK;
	}
	if (!strcmp(action, "show") && argc == 2) {
		struct outputs_config *config = load_checked(active_path(), true);
		if (!config)
			return EXIT_USAGE;
		describe(config);
		outputs_config_free(config);
		return EXIT_OK;
	}
	if (!strcmp(action, "apply") && argc == 3)
		return apply(argv[2]);
	usage(stderr);
	return EXIT_USAGE;
}
