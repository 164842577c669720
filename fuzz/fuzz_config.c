/*
 * libFuzzer target for the config loader: any bytes go to
 * config_load_memory(), which must return a config or one error message,
 * never crash, hang or leak.  A loaded config is also dumped, so the dump
 * and the rule compiler see every config the loader accepts.
 * Seed corpus: fuzz/corpus/fuzz_config/ (the shared real-world configs and
 * some broken ones).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct sysmon_config *config = config_load_memory("fuzz.xml", (const char *)data, size, &err);

	if (config) {
		FILE *out = fopen("/dev/null", "w");

		if (out) {
			config_dump(out, config);
			fclose(out);
		}
		config_free(config);
	}
	strbuf_release(&err);
	return 0;
}
