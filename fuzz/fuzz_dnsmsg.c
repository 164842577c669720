/*
 * libFuzzer target for the DNS message parser behind DnsQuery
 * (src/enrich/dnsmsg.c): any bytes, as another process's traffic on port 53
 * may be, go to dns_parse() and dns_format_results(), which must never
 * crash, hang or read outside the message.  The texts are checked to be
 * NUL-free and bounded.  Seed corpus: fuzz/corpus/fuzz_dnsmsg/ (queries and
 * answers with compression).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrich/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_message msg;
	struct strbuf results = STRBUF_INIT;

	/* a private copy: the parser must not read past SIZE (ASan sees it) */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if (dns_parse(copy, size, &msg) == 0) {
		if (strlen(msg.query_name) >= DNS_NAME_TEXT_MAX)
			abort();
		size_t count = dns_format_results(copy, size, &msg, &results);
		if (count > msg.answer_count || strlen(strbuf_str(&results)) != results.len)
			abort();
		dns_query_status(&msg, count);
	}
	free(copy);
	strbuf_release(&results);
	return 0;
}
