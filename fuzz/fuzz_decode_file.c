/*
 * libFuzzer target for the decoder of the file source (src/capture/file_decode.c): FileCreateTime,
 * RawAccessRead, FileCreate, FileDelete and FileDeleteDetected (all five
 * wanted).
 * Hostile records (truncated, lengths past the record, no NULs, any bytes)
 * must never crash it, and every event it emits must format to well-formed
 * XML and JSON: fuzz/decode_harness.h says how.  Seed corpus:
 * fuzz/corpus/fuzz_decode_file/.
 */
#include <linux/types.h>

#include "bpf/file.h"
#include "decode_harness.h"

static int decode(void *dec, struct capture_env *env, const void *rec, size_t len)
{
	return file_decoder_decode(dec, env, rec, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct file_decoder *dec = file_decoder_new(&err);
	struct capture_env env;

	if (!dec)
		harness_fail("file_decoder_new", err.data, err.len);
	file_decoder_set_events(dec, CAPTURE_EVENT_BIT(FILE_EVENT_CREATE_TIME) |
				     CAPTURE_EVENT_BIT(FILE_EVENT_RAW_ACCESS) |
				     CAPTURE_EVENT_BIT(FILE_EVENT_CREATE) |
				     CAPTURE_EVENT_BIT(FILE_EVENT_DELETE) |
				     CAPTURE_EVENT_BIT(FILE_EVENT_DELETE_DETECTED));
	harness_env(&env);
	harness_run(data, size, &env, decode, dec);
	file_decoder_free(dec);
	process_cache_free(env.processes);
	return 0;
}
