/*
 * libFuzzer target for the decoder of the process-access source (src/capture/procaccess_decode.c):
 * ProcessAccess, CreateRemoteThread and ProcessTampering.
 * Hostile records (truncated, lengths past the record, no NULs, any bytes)
 * must never crash it, and every event it emits must format to well-formed
 * XML and JSON: fuzz/decode_harness.h says how.  Seed corpus:
 * fuzz/corpus/fuzz_decode_procaccess/.
 */
#include <linux/types.h>

#include "decode_harness.h"

static int decode(void *dec, struct capture_env *env, const void *rec, size_t len)
{
	return procaccess_decoder_decode(dec, env, rec, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct procaccess_decoder *dec = procaccess_decoder_new(&err);
	struct capture_env env;

	if (!dec)
		harness_fail("procaccess_decoder_new", err.data, err.len);
	harness_env(&env);
	harness_run(data, size, &env, decode, dec);
	procaccess_decoder_free(dec);
	process_cache_free(env.processes);
	return 0;
}
