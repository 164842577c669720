/*
 * `sysmon run`: the monitor in the foreground (src/service/monitor.c).
 * This file only parses the command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "service/monitor.h"

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: sysmon run [--config FILE] [--stdout xml|json] [--log PATH | --no-log]\n"
		"                  [--pid-file PATH] [--ring-buffer-pages N] [--bpf-pins DIR]\n"
		"  --config FILE           Sysmon configuration (default: Sysmon's defaults)\n"
		"  --stdout xml|json       also print every logged event on stdout\n"
		"  --log PATH              event log (default /var/log/sysmon/events.db)\n"
		"  --no-log                write no event log\n"
		"  --pid-file PATH         write the pid there and refuse to run twice\n"
		"  --outputs FILE          syslog, forwarders and JSON files (default $SYSMON_OUTPUTS,\n"
		"                          else /etc/sysmon/outputs.conf; see docs/outputs.md)\n"
		"  --ring-buffer-pages N   pages per eBPF ring buffer (rounded up to a power of two)\n"
		"  --bpf-pins DIR          pin the eBPF state in bpffs under DIR, adopting what a\n"
		"                          previous monitor left there: no gap across a restart\n"
		"                          (SIGUSR1 stops leaving it to the next; docs/restart.md)\n");
}

int cmd_run(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "stdout", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "no-log", no_argument, NULL, 'n' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "ring-buffer-pages", required_argument, NULL, 'r' },
		{ "outputs", required_argument, NULL, 'o' },
		{ "bpf-pins", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct monitor_options options;
	int opt;

	memset(&options, 0, sizeof(options));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:s:l:np:r:o:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			options.config_path = optarg;
			break;
		case 's':
			if (strcmp(optarg, "xml") == 0) {
				options.stdout_format = MONITOR_STDOUT_XML;
			} else if (strcmp(optarg, "json") == 0) {
				options.stdout_format = MONITOR_STDOUT_JSON;
			} else {
				fprintf(stderr, "sysmon run: --stdout takes xml or json, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'l':
			options.log_path = optarg;
			break;
		case 'n':
			options.no_log = true;
			break;
		case 'p':
			options.pid_file = optarg;
			break;
		case 'o':
			options.outputs_path = optarg;
			break;
		case 'r': {
			char *end;
			unsigned long pages = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || pages == 0 || pages > (1ul << 18)) {
				fprintf(stderr, "sysmon run: --ring-buffer-pages takes a number from 1 to %lu\n",
					1ul << 18);
				return EXIT_USAGE;
			}
			options.ring_buffer_pages = (unsigned)pages;
			break;
		}
		case 'b':
			options.pin_dir = optarg;
			break;
		case 'h':
			run_usage(stdout);
			return EXIT_OK;
		default:
			run_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sysmon run: unexpected argument '%s'\n", argv[optind]);
		run_usage(stderr);
		return EXIT_USAGE;
	}
	if (options.no_log && options.log_path) {
		fprintf(stderr, "sysmon run: --log and --no-log exclude each other\n");
		return EXIT_USAGE;
	}
	return monitor_run(&options);
}
