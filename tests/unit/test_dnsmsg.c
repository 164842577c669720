/*
 * Unit tests for the DNS message parser behind DnsQuery (src/enrich/dnsmsg.c):
 * questions, Windows-style QueryStatus and QueryResults, name compression,
 * and hostile messages (loops, cuts, odd labels) that must never crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "enrich/dnsmsg.h"

/* A message being built. */
struct wire {
	uint8_t data[2048];
	size_t len;
};

static void put(struct wire *w, const void *bytes, size_t len)
{
	memcpy(w->data + w->len, bytes, len);
	w->len += len;
}

static void put16(struct wire *w, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(w, b, 2);
}

static void put_name(struct wire *w, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);
		uint8_t len = (uint8_t)n;
		put(w, &len, 1);
		put(w, dotted, n);
		dotted += n + (dot ? 1 : 0);
	}
	put(w, "", 1);
}

static void header(struct wire *w, unsigned id, unsigned flags, unsigned questions, unsigned answers)
{
	w->len = 0;
	put16(w, id);
	put16(w, flags);
	put16(w, questions);
	put16(w, answers);
	put16(w, 0);
	put16(w, 0);
}

static void question(struct wire *w, const char *name, unsigned type)
{
	put_name(w, name);
	put16(w, type);
	put16(w, 1);
}

/* An answer record owned by the question's name (pointer to offset 12). */
static void record(struct wire *w, unsigned type, const void *rdata, size_t len)
{
	put16(w, 0xc00c);
	put16(w, type);
	put16(w, 1);
	put16(w, 0);
	put16(w, 60);
	put16(w, (unsigned)len);
	put(w, rdata, len);
}

static void results_of(struct wire *w, struct dns_message *msg, struct strbuf *out, size_t *count)
{
	assert_int_equal(dns_parse(w->data, w->len, msg), 0);
	strbuf_reset(out);
	*count = dns_format_results(w->data, w->len, msg, out);
}

static void test_query(void **state)
{
	(void)state;
	struct wire w;
	struct dns_message msg;

	header(&w, 0xbeef, 0x0100, 1, 0);
	question(&w, "www.Example.com", 28);
	assert_int_equal(dns_parse(w.data, w.len, &msg), 0);
	assert_int_equal(msg.id, 0xbeef);
	assert_false(msg.response);
	assert_int_equal(msg.opcode, 0);
	assert_int_equal(msg.query_type, 28);
	assert_string_equal(msg.query_name, "www.Example.com");
}

static void test_answers_windows_style(void **state)
{
	(void)state;
	struct wire w;
	struct dns_message msg;
	struct strbuf out = STRBUF_INIT;
	size_t count;
	const uint8_t a[4] = { 93, 184, 216, 34 };
	const uint8_t aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	uint8_t alias[32];
	size_t alias_len;

	header(&w, 1, 0x8180, 1, 3);
	question(&w, "www.example.com", 1);
	/* CNAME "edge." + pointer to "example.com" (offset 16) */
	alias_len = 0;
	alias[alias_len++] = 4;
	memcpy(alias + alias_len, "edge", 4);
	alias_len += 4;
	alias[alias_len++] = 0xc0;
	alias[alias_len++] = 16;
	record(&w, 5, alias, alias_len);
	record(&w, 1, a, sizeof(a));
	record(&w, 28, aaaa, sizeof(aaaa));
	results_of(&w, &msg, &out, &count);
	assert_int_equal(count, 3);
	assert_true(msg.response);
	assert_string_equal(out.data, "type:  5 edge.example.com;::ffff:93.184.216.34;2001:db8::1;");
	assert_int_equal(dns_query_status(&msg, count), 0);
	strbuf_release(&out);
}

static void test_status(void **state)
{
	(void)state;
	struct wire w;
	struct dns_message msg;
	struct strbuf out = STRBUF_INIT;
	size_t count;

	header(&w, 2, 0x8183, 1, 0);   /* NXDOMAIN */
	question(&w, "missing.example", 1);
	results_of(&w, &msg, &out, &count);
	assert_int_equal(count, 0);
	assert_int_equal(dns_query_status(&msg, count), 9003);

	header(&w, 3, 0x8180, 1, 0);   /* NOERROR, nothing */
	question(&w, "example.com", 28);
	results_of(&w, &msg, &out, &count);
	assert_int_equal(dns_query_status(&msg, count), DNS_STATUS_NO_RECORDS);

	header(&w, 4, 0x8182, 1, 0);   /* SERVFAIL */
	question(&w, "example.com", 1);
	results_of(&w, &msg, &out, &count);
	assert_int_equal(dns_query_status(&msg, count), 9002);
	strbuf_release(&out);
}

static void test_other_record_types(void **state)
{
	(void)state;
	struct wire w;
	struct dns_message msg;
	struct strbuf out = STRBUF_INIT;
	size_t count;
	const uint8_t mx[] = { 0, 10, 0xc0, 12 };
	const uint8_t txt[] = { 3, 'a', 'b', 'c' };
	const uint8_t bad_a[3] = { 1, 2, 3 };

	header(&w, 5, 0x8180, 1, 3);
	question(&w, "example.com", 15);
	record(&w, 15, mx, sizeof(mx));
	record(&w, 16, txt, sizeof(txt));
	record(&w, 1, bad_a, sizeof(bad_a));   /* wrong size: skipped */
	results_of(&w, &msg, &out, &count);
	assert_string_equal(out.data, "type:  15 example.com;type:  16;");
	assert_int_equal(count, 2);
	strbuf_release(&out);
}

static void test_escaped_labels_and_root(void **state)
{
	(void)state;
	struct wire w;
	struct dns_message msg;
	const uint8_t odd[] = { 4, 'a', '.', 0x01, '\\', 0 };

	header(&w, 6, 0x0100, 1, 0);
	put(&w, odd, sizeof(odd));
	put16(&w, 1);
	put16(&w, 1);
	assert_int_equal(dns_parse(w.data, w.len, &msg), 0);
	assert_string_equal(msg.query_name, "a\\046\\001\\092");

	header(&w, 7, 0x0100, 1, 0);
	question(&w, "", 2);
	assert_int_equal(dns_parse(w.data, w.len, &msg), 0);
	assert_string_equal(msg.query_name, ".");
}

static void test_hostile_messages(void **state)
{
	(void)state;
	struct wire w;
	struct dns_message msg;
	struct strbuf out = STRBUF_INIT;

	/* too short, no question */
	assert_int_equal(dns_parse((const uint8_t *)"\1\2\3", 3, &msg), -1);
	header(&w, 8, 0x0100, 0, 0);
	assert_int_equal(dns_parse(w.data, w.len, &msg), -1);
	assert_int_equal(dns_parse(NULL, 0, &msg), -1);

	/* a name pointing at itself */
	header(&w, 9, 0x0100, 1, 0);
	put16(&w, 0xc00c);
	put16(&w, 1);
	put16(&w, 1);
	assert_int_equal(dns_parse(w.data, w.len, &msg), -1);

	/* a name longer than 255 bytes on the wire */
	header(&w, 10, 0x0100, 1, 0);
	for (int i = 0; i < 5; i++) {
		uint8_t len = 63;
		put(&w, &len, 1);
		memset(w.data + w.len, 'x', 63);
		w.len += 63;
	}
	put(&w, "", 1);
	put16(&w, 1);
	put16(&w, 1);
	assert_int_equal(dns_parse(w.data, w.len, &msg), -1);

	/* answers claimed but cut: every prefix of a good response parses or
	 * fails cleanly, and shows only whole records */
	const uint8_t a[4] = { 10, 0, 0, 1 };
	header(&w, 11, 0x8180, 1, 40);
	question(&w, "cut.example", 1);
	record(&w, 1, a, sizeof(a));
	record(&w, 1, a, sizeof(a));
	for (size_t len = 0; len <= w.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, w.data, len);
		if (dns_parse(copy, len, &msg) == 0) {
			strbuf_reset(&out);
			size_t count = dns_format_results(copy, len, &msg, &out);
			assert_true(count <= 2);
		}
		free(copy);
	}
	/* random bytes after a valid header */
	srand(7);
	for (int round = 0; round < 2000; round++) {
		header(&w, 12, 0x8180, 1 + rand() % 3, rand() % 8);
		size_t extra = (size_t)(rand() % 200);
		for (size_t i = 0; i < extra; i++)
			w.data[w.len++] = (uint8_t)rand();
		if (dns_parse(w.data, w.len, &msg) == 0) {
			strbuf_reset(&out);
			dns_format_results(w.data, w.len, &msg, &out);
		}
	}
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_answers_windows_style),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_other_record_types),
		cmocka_unit_test(test_escaped_labels_and_root),
		cmocka_unit_test(test_hostile_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
