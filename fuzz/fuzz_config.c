/*
 * libFuzzer target for the config loader: any bytes go to
 * config_load_memory(), which must return a config or one error message,
 * never crash, hang or leak.  The message is checked too: one line that
 * starts with "FILE:" (warnings likewise).  A loaded config is also dumped,
 * so the dump and the rule compiler see every config the loader accepts.
 * Seed corpus: fuzz/corpus/fuzz_config/ (the shared real-world configs and
 * some broken ones).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static void check_message(const char *message)
{
	if (strncmp(message, "fuzz.xml:", 9) != 0 || strchr(message, '\n')) {
		fprintf(stderr, "malformed message: %s\n", message);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct sysmon_config *config = config_load_memory("fuzz.xml", (const char *)data, size, &err);

	if (!config) {
		check_message(strbuf_str(&err));
	} else {
		FILE *out = fopen("/dev/null", "w");

		for (size_t i = 0; i < config->nwarnings; i++)
			check_message(config->warnings[i]);
		if (out) {
			config_dump(out, config);
			fclose(out);
		}
		config_free(config);
	}
	strbuf_release(&err);
	return 0;
}
