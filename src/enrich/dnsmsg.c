/*
 * DNS message parsing and the Windows-style DnsQuery texts (interface and
 * formats: dnsmsg.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "enrich/dnsmsg.h"

#define DNS_HEADER_SIZE 12
#define DNS_NAME_WIRE_MAX 255
#define DNS_POINTER_HOPS_MAX 64

#define TYPE_A 1
#define TYPE_NS 2
#define TYPE_CNAME 5
#define TYPE_PTR 12
#define TYPE_MX 15
#define TYPE_AAAA 28
#define TYPE_SRV 33
#define TYPE_DNAME 39

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_label_byte(char *out, size_t *used, uint8_t c)
{
	if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
		out[(*used)++] = (char)c;
	} else {
		snprintf(out + *used, 5, "\\%03u", c);
		*used += 4;
	}
}

/*
 * Read the (possibly compressed) name at *POS of MSG into OUT (at least
 * DNS_NAME_TEXT_MAX bytes) and move *POS past it.  Returns 0, or -1 if the
 * name runs off the message, loops, or is longer than DNS allows.
 */
static int read_name(const uint8_t *msg, size_t len, size_t *pos, char *out)
{
	size_t at = *pos, used = 0, wire = 0;
	size_t after = 0;          /* where the name ends in place (first pointer) */
	unsigned hops = 0;

	for (;;) {
		if (at >= len)
			return -1;
		uint8_t label = msg[at];
		if ((label & 0xc0) == 0xc0) {
			if (at + 1 >= len || ++hops > DNS_POINTER_HOPS_MAX)
				return -1;
			if (!after)
				after = at + 2;
			at = (size_t)(label & 0x3f) << 8 | msg[at + 1];
			continue;
		}
		if (label & 0xc0)
			return -1;   /* extended label types: not used by resolvers */
		if (label == 0) {
			at++;
			break;
		}
		wire += 1u + label;
		if (wire > DNS_NAME_WIRE_MAX || at + 1 + label > len)
			return -1;
		if (used)
			out[used++] = '.';
		for (size_t i = 0; i < label; i++)
			put_label_byte(out, &used, msg[at + 1 + i]);
		at += 1u + label;
	}
	if (used == 0)
		out[used++] = '.';
	out[used] = '\0';
	*pos = after ? after : at;
	return 0;
}

int dns_parse(const uint8_t *msg, size_t len, struct dns_message *out)
{
	memset(out, 0, sizeof(*out));
	if (!msg || len < DNS_HEADER_SIZE)
		return -1;
	uint16_t flags = get16(msg + 2);
	out->id = get16(msg);
	out->response = flags & 0x8000;
	out->opcode = (flags >> 11) & 0xf;
	out->rcode = flags & 0xf;
	out->question_count = get16(msg + 4);
	out->answer_count = get16(msg + 6);
	if (out->question_count == 0)
		return -1;

	size_t pos = DNS_HEADER_SIZE;
	if (read_name(msg, len, &pos, out->query_name) != 0 || pos + 4 > len)
		return -1;
	out->query_type = get16(msg + pos);
	pos += 4;
	/* further questions (rare): skip them */
	char skipped[DNS_NAME_TEXT_MAX];
	for (unsigned i = 1; i < out->question_count; i++) {
		if (read_name(msg, len, &pos, skipped) != 0 || pos + 4 > len)
			return -1;
		pos += 4;
	}
	out->answers_offset = pos;
	return 0;
}

unsigned dns_query_status(const struct dns_message *response, size_t results)
{
	if (response->rcode != 0)
		return DNS_STATUS_RCODE_BASE + response->rcode;
	return results ? 0 : DNS_STATUS_NO_RECORDS;
}

/* Append "type:  N name;" for a record whose rdata holds a name at
 * RDATA_POS (after SKIP bytes). */
static void put_named(struct strbuf *out, const uint8_t *msg, size_t len, unsigned type,
		      size_t rdata_pos, size_t rdata_len, size_t skip)
{
	char name[DNS_NAME_TEXT_MAX];
	size_t pos = rdata_pos + skip;

	if (skip >= rdata_len || read_name(msg, len, &pos, name) != 0)
		strbuf_printf(out, "type:  %u;", type);
	else
		strbuf_printf(out, "type:  %u %s;", type, name);
}

size_t dns_format_results(const uint8_t *msg, size_t len, const struct dns_message *parsed,
			  struct strbuf *out)
{
	size_t pos = parsed->answers_offset, written = 0;
	char name[DNS_NAME_TEXT_MAX];

	for (unsigned i = 0; i < parsed->answer_count; i++) {
		if (read_name(msg, len, &pos, name) != 0 || pos + 10 > len)
			break;
		unsigned type = get16(msg + pos);
		size_t rdata_len = get16(msg + pos + 8);
		size_t rdata = pos + 10;
		if (rdata + rdata_len > len)
			break;   /* cut off: only whole records are shown */
		pos = rdata + rdata_len;

		char text[INET6_ADDRSTRLEN];
		switch (type) {
		case TYPE_A:
			if (rdata_len != 4)
				continue;
			strbuf_printf(out, "::ffff:%u.%u.%u.%u;", msg[rdata], msg[rdata + 1],
				      msg[rdata + 2], msg[rdata + 3]);
			break;
		case TYPE_AAAA:
			if (rdata_len != 16 || !inet_ntop(AF_INET6, msg + rdata, text, sizeof(text)))
				continue;
			strbuf_printf(out, "%s;", text);
			break;
		case TYPE_CNAME:
		case TYPE_NS:
		case TYPE_PTR:
		case TYPE_DNAME:
			put_named(out, msg, len, type, rdata, rdata_len, 0);
			break;
		case TYPE_MX:
			put_named(out, msg, len, type, rdata, rdata_len, 2);
			break;
		case TYPE_SRV:
			put_named(out, msg, len, type, rdata, rdata_len, 6);
			break;
		default:
			strbuf_printf(out, "type:  %u;", type);
			break;
		}
		written++;
	}
	return written;
}
