/*
 * `sysmon -u [force|upgrade]`: stop the monitor, remove the boot service,
 * the program and the config; the event log stays.  Without force a partial
 * installation is reported and left alone (it may be something half-done
 * by hand); with force whatever is there is removed, and nothing missing is
 * an error.  The monitor's eBPF state pinned in bpffs goes too (what a
 * crashed monitor left as well), except with upgrade: force for a reinstall
 * (start.sh), whose next monitor takes that state over without a gap.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "capture/capture.h"
#include "cli/commands.h"
#include "service/service.h"

#define STOP_TIMEOUT_MS 10000

int cmd_uninstall(int argc, char **argv)
{
	bool force = false, keep_capture = false;
	struct service_state state;
	struct strbuf err = STRBUF_INIT, missing = STRBUF_INIT;

	if (argc >= 2) {
		keep_capture = strcasecmp(argv[1], "upgrade") == 0;
		if (strcasecmp(argv[1], "force") != 0 && !keep_capture) {
			fprintf(stderr, "Invalid option for -u: '%s' (the options are: force, upgrade).\n",
				argv[1]);
			return EXIT_USAGE;
		}
		force = true;
	}
	if (!service_require_root("uninstall sysmon"))
		return EXIT_NOT_ROOT;
	service_probe(&state);
	if (!force && !service_installed(&state) && !state.pid) {
		fprintf(stderr, "Sysmon is not installed.\n");
		return EXIT_FAILURE_RUN;
	}
	if (!force && !service_complete(&state, &missing)) {
		fprintf(stderr, "Sysmon is only partly installed (missing: %s): nothing was removed.\n"
			"Remove what is left with: sysmon -u force\n", missing.data);
		strbuf_release(&missing);
		return EXIT_FAILURE_RUN;
	}
	strbuf_release(&missing);

	bool killed;
	int status = EXIT_OK;

	if (service_stop(&state, STOP_TIMEOUT_MS, keep_capture, &killed, &err) < 0) {
		fprintf(stderr, "sysmon: %s\n", err.data);
		if (!force) {
			fprintf(stderr, "Nothing was removed. Retry, or use: sysmon -u force\n");
			strbuf_release(&err);
			return EXIT_FAILURE_RUN;
		}
		strbuf_reset(&err);
		status = EXIT_FAILURE_RUN;
	}
	if (killed)
		printf("Sysmon stopped (it did not stop within %d s of SIGTERM and was killed).\n",
		       STOP_TIMEOUT_MS / 1000);
	else if (state.pid)
		printf("Sysmon stopped.\n");
	else
		printf("Sysmon was not running.\n");

	/* All run even if one fails: remove as much as can be. */
	int boot_rc = service_remove_boot(&state, &err);
	int files_rc = service_remove_files(true, &err);
	int pins_rc = keep_capture ? 0 : capture_unpin_all(SERVICE_BPF_PINS, &err);

	if (boot_rc < 0 || files_rc < 0 || pins_rc < 0) {
		fprintf(stderr, "sysmon: %s\n", err.data);
		status = EXIT_FAILURE_RUN;
	} else if (service_installed(&state) || state.binary) {
		printf("Sysmon removed: %s, %s, %s.\n", SERVICE_BIN_PATH, SERVICE_CONFIG_DIR,
		       state.systemd ? SERVICE_UNIT_PATH : SERVICE_INIT_SCRIPT " and its rc?.d links");
	} else {
		printf("Sysmon was not installed: nothing else to remove.\n");
	}
	printf("The event log is kept: %s (delete %s to remove it).\n", SERVICE_EVENTLOG_PATH,
	       SERVICE_LOG_DIR);
	strbuf_release(&err);
	return status;
}
