/*
 * libFuzzer target for the decoder of the DNS source (src/capture/dns_decode.c): sent and received DNS
 * messages paired into DnsQuery; after the records, the queries left
 * waiting are ended by dns_decoder_tick().
 * Hostile records (truncated, lengths past the record, no NULs, any bytes)
 * must never crash it, and every event it emits must format to well-formed
 * XML and JSON: fuzz/decode_harness.h says how.  Seed corpus:
 * fuzz/corpus/fuzz_decode_dns/.
 */
#include <linux/types.h>

#include "decode_harness.h"

static int decode(void *dec, struct capture_env *env, const void *rec, size_t len)
{
	return dns_decoder_decode(dec, env, rec, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct dns_decoder *dec = dns_decoder_new(&err);
	struct capture_env env;

	if (!dec)
		harness_fail("dns_decoder_new", err.data, err.len);
	harness_env(&env);
	harness_run(data, size, &env, decode, dec);
	dns_decoder_tick(dec, &env);
	dns_decoder_free(dec);
	process_cache_free(env.processes);
	return 0;
}
