/*
 * DNS messages (RFC 1035) as DnsQuery (22) shows them: the question's name
 * for QueryName, and the answer in Windows Sysmon's forms for QueryStatus
 * and QueryResults (docs/events.md):
 *   QueryStatus   "0" answered; 9000 + RCODE for an error RCODE (9003 is
 *                 NXDOMAIN, as Windows' DNS_ERROR_RCODE_NAME_ERROR); 9501
 *                 (DNS_INFO_NO_RECORDS) for NOERROR without answer records
 *   QueryResults  one "X;" per answer record: "::ffff:a.b.c.d;" for A, the
 *                 RFC 5952 text for AAAA, "type:  N name;" for records that
 *                 name a host (CNAME 5, NS 2, PTR 12, MX 15, SRV 33, DNAME
 *                 39), "type:  N;" for other types; "-" when there is none.
 *
 * Messages come from other processes' traffic: every length and pointer is
 * checked, compression loops are bounded, a cut message gives what its
 * whole records say.
 */
#ifndef SYSMON_DNSMSG_H
#define SYSMON_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/* Longest name text: 255 wire bytes, each byte at most 4 characters
 * ("\\DDD"), plus the NUL. */
#define DNS_NAME_TEXT_MAX 1024

#define DNS_STATUS_NO_RECORDS 9501
#define DNS_STATUS_RCODE_BASE 9000
#define DNS_STATUS_TIMEOUT 1460    /* ERROR_TIMEOUT: no answer came back */

struct dns_message {
	uint16_t id;
	bool response;          /* QR bit */
	unsigned opcode;
	unsigned rcode;
	unsigned question_count, answer_count;
	uint16_t query_type;    /* of the first question */
	/* The first question's name, dotted, no final dot ("." for the root);
	 * bytes outside printable ASCII, and dots or backslashes inside a
	 * label, are written as \DDD as dig does. */
	char query_name[DNS_NAME_TEXT_MAX];
	size_t answers_offset;  /* where the answer section starts */
};

/* Parse the header and the first question of MSG (LEN bytes).  Returns 0,
 * or -1 if it is not a DNS message with a question. */
int dns_parse(const uint8_t *msg, size_t len, struct dns_message *out);

/* The QueryStatus number of a parsed response. */
unsigned dns_query_status(const struct dns_message *response, size_t results);

/* Append the QueryResults text of the answer records of MSG (parsed into
 * PARSED) to OUT; returns the number of records written. */
size_t dns_format_results(const uint8_t *msg, size_t len, const struct dns_message *parsed,
			  struct strbuf *out);

#endif
