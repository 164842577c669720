/*
 * Unit tests for the outputs (src/output/ except the formatters): RFC 6587
 * octet-counting frames, RFC 5424 messages and the local syslog datagram,
 * bounding a message without breaking the XML (checked with libxml2), the
 * reconnect back-off, the Elastic Common Schema mapping, JSON lines file
 * rotation, outputs.conf parsing and the forwarder's cursor file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "output/ecs.h"
#include "output/forwarder.h"
#include "output/jsonfile.h"
#include "output/outputs_config.h"
#include "output/syslog_sink.h"
#include "output/wire.h"
#include "util/units.h"

static const struct format_context ctx = { "web01", 812, 812, NULL };
static const struct wire_origin origin = { "web01", "3d6ed7f1c4c5404aaa1f6d2a48adfda4" };

static void make_network_event(struct event *ev)
{
	event_init(ev);
	event_reset(ev, 3);
	ev->record_id = 43;
	ev->time_ns = 1731010307402311000LL;   /* 2024-11-07T20:11:47.402311Z */
	event_set_str(ev, 1, "2024-11-07 20:11:47.398");
	event_set_str(ev, 2, "{3d6ed7f1-1f03-672d-00d0-c3a781550000}");
	event_set_str(ev, 3, "4242");
	event_set_str(ev, 4, "/usr/bin/curl");
	event_set_str(ev, 5, "alice");
	event_set_str(ev, 6, "tcp");
	event_set_str(ev, 7, "true");
	event_set_str(ev, 8, "false");
	event_set_str(ev, 9, "10.0.0.5");
	event_set_str(ev, 11, "51544");
	event_set_str(ev, 13, "false");
	event_set_str(ev, 14, "93.184.215.14");
	event_set_str(ev, 16, "443");
}

static bool xml_well_formed(const char *text, size_t len)
{
	xmlDocPtr doc = xmlReadMemory(text, (int)len, "event.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return false;
	xmlFreeDoc(doc);
	return true;
}

/* ---- local syslog sink ---- */

static void test_syslog_sink_queue_and_drops(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_outputs_syslog.XXXXXX";
	char path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log.sock", dir);
	struct syslog_config config = { .enabled = true, .socket_path = path, .max_message = 8096,
					.queue_bytes = 64 * 1024 };
	struct syslog_sink_stats stats;
	struct event ev;
	char buf[16384];

	/* no daemon at all: dropped at once, as glibc's syslog() does */
	struct syslog_sink *sink = syslog_sink_open(&config, false);
	make_network_event(&ev);
	syslog_sink_write(sink, &ev, &ctx);
	syslog_sink_get_stats(sink, &stats);
	assert_false(stats.connected);
	assert_int_equal(stats.dropped, 1);
	assert_int_equal(stats.queued, 0);
	assert_non_null(strstr(stats.last_error, path));

	/* the daemon appears: the next tick (a second after the last try)
	 * connects */
	int daemon = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, path);
	assert_int_equal(bind(daemon, (struct sockaddr *)&addr, sizeof(addr)), 0);
	sleep(1);
	syslog_sink_tick(sink);
	syslog_sink_write(sink, &ev, &ctx);
	ev.record_id = 44;
	syslog_sink_write(sink, &ev, &ctx);
	syslog_sink_get_stats(sink, &stats);
	assert_true(stats.connected);
	assert_int_equal(stats.sent, 2);
	assert_int_equal(stats.queued, 0);
	ssize_t n = recv(daemon, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "<EventRecordID>43</EventRecordID>"));
	assert_memory_equal(buf, "<14>", 4);
	n = recv(daemon, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "<EventRecordID>44</EventRecordID>"));

	/* the daemon stops reading: its queue fills, ours holds 64 KB, then drops */
	for (int i = 0; i < 2000; i++)
		syslog_sink_write(sink, &ev, &ctx);
	syslog_sink_get_stats(sink, &stats);
	assert_true(stats.queued > 0);
	assert_true(stats.dropped > 1);
	assert_int_equal(stats.sent + stats.queued + stats.dropped, 2003);
	uint64_t queued = stats.queued;

	/* it reads again: what waited goes, in order, at the next tick */
	while (recv(daemon, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	syslog_sink_tick(sink);
	syslog_sink_get_stats(sink, &stats);
	assert_true(stats.queued < queued);
	syslog_sink_close(sink);
	close(daemon);
	unlink(path);
	rmdir(dir);
	event_free(&ev);
}

/* rsyslog's imuxsock reports about our pid are counted, others' are not;
 * a rotated daemon log is read from its start. */
static void test_syslog_sink_rate_limit_reports(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_outputs_ratelimit.XXXXXX";
	char log[128], sock[128], text[1024];
	assert_non_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/syslog", dir);
	snprintf(sock, sizeof(sock), "%s/log.sock", dir);
	FILE *f = fopen(log, "w");
	assert_non_null(f);
	fputs("old line before the start\n", f);
	fclose(f);
	struct syslog_config config = { .enabled = true, .socket_path = sock, .max_message = 8096,
					.queue_bytes = 64 * 1024, .daemon_log = log };
	struct syslog_sink *sink = syslog_sink_open(&config, true);
	struct syslog_sink_stats stats;

	f = fopen(log, "a");
	snprintf(text, sizeof(text),
		 "x rsyslogd-2177: imuxsock[pid: %d, name: /usr/bin/sysmon] from <vm:sysmon>: begin to drop "
		 "messages due to rate-limiting\n"
		 "x rsyslogd-2177: imuxsock[pid: %d, name: /usr/bin/other]: 7 messages lost due to rate-limiting "
		 "(200 allowed within 5 seconds)\n"
		 "x rsyslogd-2177: imuxsock[pid: %d, name: /usr/bin/sysmon]: 800 messages lost due to rate-limiting "
		 "(200 allowed within 5 seconds)\n"
		 "x sysmon: <Event>rsyslogd-2177: imuxsock[pid: %d, name: a]: 5 messages lost due to "
		 "rate-limiting, quoted in a command line</Event>\n"
		 "x rsyslogd-2177: imuxsock[pid: %d, name: /usr/bin/sysmon]: 12 messages lost",
		 (int)getpid(), (int)getpid() + 1, (int)getpid(), (int)getpid(), (int)getpid());
	fputs(text, f);
	fclose(f);
	syslog_sink_watch(sink, true);
	syslog_sink_get_stats(sink, &stats);
	assert_int_equal(stats.rate_limited, 1);
	assert_int_equal(stats.daemon_lost, 800);

	/* the last line completes; then the log is rotated */
	f = fopen(log, "a");
	fputs(" due to rate-limiting (200 allowed within 5 seconds)\n", f);
	fclose(f);
	syslog_sink_watch(sink, true);
	syslog_sink_get_stats(sink, &stats);
	assert_int_equal(stats.daemon_lost, 812);
	assert_int_equal(unlink(log), 0);
	f = fopen(log, "w");
	snprintf(text, sizeof(text), "rsyslogd-2177: imuxsock[pid: %d, name: x]: 3 messages lost due to rate-limiting\n",
		 (int)getpid());
	fputs(text, f);
	fclose(f);
	syslog_sink_watch(sink, true);
	syslog_sink_get_stats(sink, &stats);
	assert_int_equal(stats.daemon_lost, 815);
	syslog_sink_close(sink);
	unlink(log);
	rmdir(dir);
}

/* ---- framing ---- */

/* Problems queued by an output thread come out a line at a time, in order;
 * a partial line stays until its end arrives. */
static void test_problem_lines_shift_in_order(void **state)
{
	(void)state;
	struct strbuf queue = STRBUF_INIT, line = STRBUF_INIT;

	strbuf_puts(&queue, "first\nsecond\npartial");
	assert_true(strbuf_shift_line(&queue, &line));
	assert_string_equal(line.data, "first");
	assert_true(strbuf_shift_line(&queue, &line));
	assert_string_equal(line.data, "second");
	assert_false(strbuf_shift_line(&queue, &line));
	assert_string_equal(line.data, "second");
	assert_string_equal(queue.data, "partial");
	strbuf_release(&queue);
	assert_false(strbuf_shift_line(&queue, &line));
	strbuf_release(&line);
}

static void test_octet_frame_round_trip(void **state)
{
	(void)state;
	struct strbuf out = STRBUF_INIT;
	const char *message;
	size_t len;

	wire_octet_frame(&out, "<14>1 - - - - - - hello", 23);
	wire_octet_frame(&out, "x y", 3);
	assert_string_equal(strbuf_str(&out), "23 <14>1 - - - - - - hello3 x y");
	long used = wire_octet_unframe(out.data, out.len, &message, &len);
	assert_int_equal(used, 26);
	assert_int_equal(len, 23);
	assert_memory_equal(message, "<14>1 - - - - - - hello", 23);
	used = wire_octet_unframe(out.data + 26, out.len - 26, &message, &len);
	assert_int_equal(used, 5);
	assert_memory_equal(message, "x y", 3);
	strbuf_release(&out);
}

static void test_octet_unframe_partial_and_bad(void **state)
{
	(void)state;
	const char *message;
	size_t len;

	assert_int_equal(wire_octet_unframe("12", 2, &message, &len), 0);        /* more to come */
	assert_int_equal(wire_octet_unframe("5 abc", 5, &message, &len), 0);
	assert_int_equal(wire_octet_unframe("<14>1 x", 7, &message, &len), -1);  /* not counted */
	assert_int_equal(wire_octet_unframe("05 abcde", 8, &message, &len), -1); /* leading zero */
	assert_int_equal(wire_octet_unframe("0 ", 2, &message, &len), -1);
	assert_int_equal(wire_octet_unframe("1234567890 x", 12, &message, &len), -1);
}

/* ---- RFC 5424 ---- */

static void test_rfc5424_message(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT, xml = STRBUF_INIT;

	make_network_event(&ev);
	assert_int_equal(wire_rfc5424_message(&out, &ev, &ctx, &origin, 8192), 0);
	static const char header[] = "<14>1 2024-11-07T20:11:47.402311Z web01 sysmon - - "
				     "[sysmon@32473 recordId=\"43\" eventId=\"3\" "
				     "hostId=\"3d6ed7f1c4c5404aaa1f6d2a48adfda4\"] ";
	assert_memory_equal(out.data, header, strlen(header));
	/* the message is the formatter's XML, unchanged */
	format_xml(&xml, &ev, &ctx);
	assert_string_equal(out.data + strlen(header), xml.data);
	strbuf_release(&out);
	strbuf_release(&xml);
	event_free(&ev);
}

static void test_rfc5424_error_event_and_hostname(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT;
	struct wire_origin odd = { "bad host\x01", "x\"]\\" };

	event_init(&ev);
	event_reset(&ev, EVENT_ID_ERROR);
	ev.record_id = 7;
	ev.time_ns = 1731010307000000000LL;
	event_set_name(&ev, "ID", "Output");
	event_set_name(&ev, "Description", "collector down");
	wire_rfc5424_message(&out, &ev, &ctx, &odd, 8192);
	/* user.err; HOSTNAME printable without spaces; SD values escaped */
	assert_non_null(strstr(out.data, "<11>1 2024-11-07T20:11:47.000000Z badhost sysmon - - "
					 "[sysmon@32473 recordId=\"7\" eventId=\"255\" hostId=\"x\\\"\\]\\\\\"] <Event>"));
	assert_int_equal(wire_priority(&ev), 11);
	strbuf_release(&out);
	event_free(&ev);
}

static void test_local_message_form(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT;

	make_network_event(&ev);
	setenv("TZ", "UTC", 1);
	wire_local_message(&out, &ev, &ctx, 8192, 1731010307000000000LL);
	/* what glibc's syslog(LOG_USER|LOG_INFO) sends for openlog("sysmon", LOG_NOWAIT, LOG_USER) */
	assert_memory_equal(out.data, "<14>Nov  7 20:11:47 sysmon: <Event><System>", 43);
	assert_string_equal(out.data + out.len - 16, "</EventData></Event>" + 4);
	assert_true(xml_well_formed(strstr(out.data, "<Event>"), strlen(strstr(out.data, "<Event>"))));
	strbuf_release(&out);
	event_free(&ev);
}

/* ---- bounded messages ---- */

static void test_bounded_cuts_values_not_markup(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT, big = STRBUF_INIT;

	/* a hostile command line: 20 KB of markup characters and UTF-8 */
	for (int i = 0; i < 2000; i++)
		strbuf_puts(&big, i % 3 ? "<a&b>\"'" : "\xc3\xa9\xe2\x82\xac");
	event_init(&ev);
	event_reset(&ev, 1);
	ev.record_id = 9;
	ev.time_ns = 1731010307000000000LL;
	int cmd = schema_field_index(ev.schema, "CommandLine");
	int parent = schema_field_index(ev.schema, "ParentCommandLine");
	event_set(&ev, cmd, big.data, big.len);
	event_set(&ev, parent, big.data, big.len);
	event_set_str(&ev, schema_field_index(ev.schema, "Image"), "/usr/bin/short");

	for (size_t max = 2048; max <= 16384; max *= 2) {
		strbuf_reset(&out);
		unsigned cut = wire_rfc5424_message(&out, &ev, &ctx, &origin, max);
		assert_int_equal(cut, 2);
		assert_true(out.len <= max);
		const char *xml = strstr(out.data, "<Event>");
		assert_non_null(xml);
		assert_true(xml_well_formed(xml, out.len - (size_t)(xml - out.data)));
		assert_non_null(strstr(xml, "...</Data><Data Name=\"CurrentDirectory\">"));
		assert_non_null(strstr(xml, "<Data Name=\"Image\">/usr/bin/short</Data>"));
		assert_non_null(strstr(xml, "</EventData></Event>"));
		/* the budget is used, not thrown away */
		assert_true(out.len > max * 3 / 4);
	}
	/* small events are not touched */
	struct event small;
	make_network_event(&small);
	strbuf_reset(&out);
	assert_int_equal(wire_format_xml_bounded(&out, &small, &ctx, 2048), 0);
	strbuf_release(&out);
	strbuf_release(&big);
	event_free(&ev);
	event_free(&small);
}

static void test_bounded_error_event(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT, big = STRBUF_INIT;

	/* id 255 is never trimmed by FieldSizes, but must still fit */
	for (int i = 0; i < 5000; i++)
		strbuf_puts(&big, "&x");
	event_init(&ev);
	event_reset(&ev, EVENT_ID_ERROR);
	event_set_name(&ev, "ID", "Output");
	event_set_name(&ev, "Description", big.data);
	wire_local_message(&out, &ev, &ctx, 4096, 0);
	assert_true(out.len <= 4096);
	const char *xml = strstr(out.data, "<Event>");
	assert_true(xml_well_formed(xml, out.len - (size_t)(xml - out.data)));
	assert_memory_equal(out.data, "<11>", 4);
	strbuf_release(&out);
	strbuf_release(&big);
	event_free(&ev);
}

/* ---- back-off ---- */

static void test_backoff(void **state)
{
	(void)state;
	static const unsigned expected[] = { 1000, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };

	for (unsigned i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		assert_int_equal(wire_backoff_ms(i, 1000, 60000, 0), expected[i]);
	assert_int_equal(wire_backoff_ms(1000, 500, 2000, 0), 2000);   /* no overflow */
	/* jitter takes off at most a fifth */
	for (double j = 0; j < 1; j += 0.1) {
		unsigned d = wire_backoff_ms(4, 1000, 60000, j);
		assert_true(d <= 8000 && d >= 6400);
	}
}

static void test_sd_escape(void **state)
{
	(void)state;
	struct strbuf out = STRBUF_INIT;

	wire_sd_escape(&out, "a\"b]c\\d");
	assert_string_equal(out.data, "a\\\"b\\]c\\\\d");
	strbuf_release(&out);
	assert_true(strlen(wire_host_id()) > 0);
}

/* ---- ECS ---- */

static void test_ecs_network_event(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT;

	make_network_event(&ev);
	ecs_format_json(&out, &ev, &ctx, "3d6ed7f1");
	assert_string_equal(out.data,
		"{\"@timestamp\":\"2024-11-07T20:11:47.398Z\","
		"\"destination\":{\"ip\":\"93.184.215.14\",\"port\":443},"
		"\"ecs\":{\"version\":\"" ECS_VERSION "\"},"
		"\"event\":{\"action\":\"Network connection detected\",\"code\":\"3\","
		"\"created\":\"2024-11-07T20:11:47.402311000Z\",\"kind\":\"event\",\"module\":\"sysmon\","
		"\"provider\":\"Linux-Sysmon\",\"sequence\":43},"
		"\"host\":{\"id\":\"3d6ed7f1\",\"name\":\"web01\"},"
		"\"network\":{\"direction\":\"egress\",\"transport\":\"tcp\",\"type\":\"ipv4\"},"
		"\"process\":{\"entity_id\":\"{3d6ed7f1-1f03-672d-00d0-c3a781550000}\",\"executable\":\"/usr/bin/curl\","
		"\"name\":\"curl\",\"pid\":4242},"
		"\"source\":{\"ip\":\"10.0.0.5\",\"port\":51544},"
		"\"sysmon\":{\"DestinationIsIpv6\":\"false\"},"
		"\"user\":{\"name\":\"alice\"}}");
	strbuf_release(&out);
	event_free(&ev);
}

static void test_ecs_process_event(void **state)
{
	(void)state;
	struct event ev;
	struct strbuf out = STRBUF_INIT;

	event_init(&ev);
	event_reset(&ev, 1);
	ev.record_id = 1;
	event_set_name(&ev, "Image", "/usr/bin/x\"y");
	event_set_name(&ev, "Hashes", "SHA1=aa,MD5=bb,SHA256=cc");
	event_set_name(&ev, "ParentImage", "/bin/bash");
	event_set_name(&ev, "ParentProcessId", "17");
	event_set_name(&ev, "ProcessId", "0x12");   /* not a number: stays text */
	event_set_name(&ev, "LogonId", "0");
	ecs_format_json(&out, &ev, &ctx, NULL);
	assert_non_null(strstr(out.data, "\"process\":{\"executable\":\"/usr/bin/x\\\"y\",\"hash\":{\"md5\":\"bb\","
					 "\"sha1\":\"aa\",\"sha256\":\"cc\"},\"name\":\"x\\\"y\","
					 "\"parent\":{\"executable\":\"/bin/bash\",\"name\":\"bash\",\"pid\":17},"
					 "\"pid\":\"0x12\"}"));
	assert_non_null(strstr(out.data, "\"sysmon\":{\"LogonId\":\"0\"}"));
	assert_null(strstr(out.data, "\"-\""));   /* unset values are left out */
	assert_string_equal(ecs_field_name(3, "DestinationPort"), "destination.port");
	assert_string_equal(ecs_field_name(1, "Hashes"), "process.hash");
	assert_string_equal(ecs_field_name(7, "Hashes"), "file.hash");
	assert_null(ecs_field_name(1, "LogonGuid"));
	strbuf_release(&out);
	event_free(&ev);
}

/* ---- JSON lines rotation ---- */

static size_t count_lines(const char *path, size_t *bytes, int *first, int *last)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t n = 0;

	*bytes = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		assert_int_equal(line[strlen(line) - 1], '\n');   /* whole lines only */
		int number = atoi(line + 8);
		if (n == 0)
			*first = number;
		*last = number;
		*bytes += strlen(line);
		n++;
	}
	fclose(f);
	return n;
}

static void test_jsonfile_rotation(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_outputs.XXXXXX";
	char path[128], rotated[160];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/events.json", dir);
	struct jsonfile_config config = { .name = "t", .path = path, .max_size = 1000, .keep = 2 };
	struct jsonfile *file = jsonfile_open(&config);
	char line[128];

	for (int i = 0; i < 100; i++) {
		/* 39-byte lines with their newline */
		int len = snprintf(line, sizeof(line), "{\"line\":%05d,\"pad\":\"xxxxxxxxxxxxxxx\"}", i);
		assert_int_equal(len, 38);
		jsonfile_write(file, line, (size_t)len);
	}
	jsonfile_close(file);
	/* 25 lines per file: the newest 75 lines survive, in order */
	size_t bytes;
	int first = -1, last = -1, next_first = -1;
	assert_int_equal(count_lines(path, &bytes, &first, &last), 25);
	assert_true(bytes <= 1000);
	assert_int_equal(last, 99);
	next_first = first;
	for (int n = 1; n <= 2; n++) {
		snprintf(rotated, sizeof(rotated), "%s.%d", path, n);
		assert_int_equal(count_lines(rotated, &bytes, &first, &last), 25);
		assert_true(bytes <= 1000);
		assert_int_equal(last, next_first - 1);
		next_first = first;
		unlink(rotated);
	}
	snprintf(rotated, sizeof(rotated), "%s.3", path);
	assert_int_equal(access(rotated, F_OK), -1);
	unlink(path);
	rmdir(dir);
}

static void test_jsonfile_unwritable(void **state)
{
	(void)state;
	struct jsonfile_config config = { .name = "t", .path = "/nonexistent-dir/x.json", .max_size = 0 };
	struct jsonfile *file = jsonfile_open(&config);
	struct jsonfile_stats stats;

	jsonfile_write(file, "{}", 2);
	assert_int_equal(jsonfile_flush(file), -1);
	jsonfile_get_stats(file, &stats);
	assert_int_equal(stats.discarded, 1);
	assert_non_null(strstr(stats.last_error, "/nonexistent-dir/x.json"));
	jsonfile_close(file);
}

/* ---- outputs.conf ---- */

static void test_config_parse(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct outputs_config *c = outputs_config_parse("t.conf",
		"# outputs\n"
		"status_file = /tmp/s.json\n"
		"[syslog]\n"
		"enabled = no\n"
		"[forward central]\n"
		"host = collector.example\n"
		"protocol = tls\n"
		"ca_file = /etc/ca.pem\n"
		"reconnect_max = 30s\n"
		"max_message = 64k\n"
		"[forward \"b\"]\n"
		"host = ::1\n"
		"port = 10514\n"
		"start = newest\n"
		"[json file]\n"
		"path = /var/log/sysmon/events.json\n"
		"max_size = 10M\n"
		"keep = 3\n"
		"ecs = yes\n", &err);

	assert_non_null(c);
	assert_string_equal(c->status_path, "/tmp/s.json");
	assert_false(c->syslog.enabled);
	assert_int_equal(c->nforwards, 2);
	assert_string_equal(c->forwards[0].name, "central");
	assert_int_equal(c->forwards[0].protocol, FORWARD_TLS);
	assert_string_equal(c->forwards[0].port, "6514");   /* the TLS default */
	assert_int_equal(c->forwards[0].reconnect_max_ms, 30000);
	assert_int_equal(c->forwards[0].max_message, 65536);
	assert_string_equal(c->forwards[1].name, "b");
	assert_string_equal(c->forwards[1].host, "::1");
	assert_string_equal(c->forwards[1].port, "10514");
	assert_true(c->forwards[1].start_at_newest);
	assert_int_equal(c->njsons, 1);
	assert_int_equal(c->jsons[0].max_size, 10u << 20);
	assert_int_equal(c->jsons[0].keep, 3);
	assert_true(c->jsons[0].ecs);
	outputs_config_free(c);
	strbuf_release(&err);
}

static void expect_error(const char *text, const char *message)
{
	struct strbuf err = STRBUF_INIT;
	struct outputs_config *c = outputs_config_parse("t.conf", text, &err);

	assert_null(c);
	if (!strstr(strbuf_str(&err), message))
		fail_msg("expected '%s' in '%s'", message, strbuf_str(&err));
	strbuf_release(&err);
}

static void test_config_errors(void **state)
{
	(void)state;
	expect_error("[forward a]\nport = 1\n", "t.conf:3: [forward a] has no host");
	expect_error("[forward a]\nhost = h\nprotcol = tls\n", "t.conf:3: unknown setting 'protcol'");
	expect_error("[forward a]\nhost = h\n[forward a]\nhost = i\n", "t.conf:3: a second [forward a]");
	expect_error("[forward]\n", "t.conf:1: [forward] needs a name");
	expect_error("[forward a/b]\n", "needs a name");
	expect_error("[kafka x]\n", "t.conf:1: unknown section [kafka]");
	expect_error("[forward a]\nhost = h\nmax_message = 100\n", "t.conf:3: max_message takes a size");
	expect_error("[forward a]\nhost = h\nreconnect_min = 1m\nreconnect_max = 2s\n",
		     "reconnect_min is larger");
	expect_error("[forward a]\nhost = h\nca_file = /x\n", "need protocol = tls");
	expect_error("[forward a]\nhost = h\nprotocol = tls\ncert_file = /c\n", "go together");
	expect_error("[json a]\npath = relative.json\n", "t.conf:2: path takes an absolute path");
	expect_error("[json a]\npath = /x\n[json b]\npath = /x\n", "same path");
	expect_error("[syslog]\nenabled = maybe\n", "t.conf:2: enabled takes yes or no");
	expect_error("[syslog\n", "t.conf:1: a section header ends with ']'");
	expect_error("just words\n", "t.conf:1: expected 'key = value'");
	expect_error("hostname = x\n", "t.conf:1: unknown setting 'hostname'");
	expect_error("[json a]\npath =\n", "t.conf:2: path has no value");
}

static void test_config_relp(void **state)
{
	(void)state;
	struct strbuf err = STRBUF_INIT;
	struct outputs_config *c = outputs_config_parse("t.conf",
		"[forward r]\nhost = h\nprotocol = relp\n[forward s]\nhost = h\nport = 20514\nprotocol = RELP\n", &err);

	assert_non_null(c);
	assert_int_equal(c->forwards[0].protocol, FORWARD_RELP);
	assert_string_equal(c->forwards[0].port, "2514");   /* the RELP default */
	assert_string_equal(c->forwards[1].port, "20514");
	assert_string_equal(outputs_protocol_name(c->forwards[1].protocol), "relp");
	outputs_config_describe(c, &err);
	assert_non_null(strstr(strbuf_str(&err), "forward r: relp h port 2514,"));
	outputs_config_free(c);
	strbuf_release(&err);
	expect_error("[forward a]\nhost = h\nprotocol = udp\n", "t.conf:3: protocol takes tcp, tls or relp");
	expect_error("[forward a]\nhost = h\nprotocol = relp\nca_file = /x\n", "need protocol = tls");
}

static void test_config_defaults_and_sizes(void **state)
{
	(void)state;
	struct outputs_config *c = outputs_config_default();
	uint64_t bytes;
	unsigned ms;

	assert_true(c->syslog.enabled);
	assert_string_equal(c->syslog.socket_path, "/dev/log");
	assert_int_equal(c->nforwards, 0);
	outputs_config_free(c);
	assert_int_equal(size_parse("64k", &bytes), 0);
	assert_int_equal(bytes, 65536);
	assert_int_equal(size_parse("1GB", &bytes), 0);
	assert_int_equal(bytes, 1u << 30);
	/* The syntax `sysmon log set /ms:` has always taken. */
	assert_int_equal(size_parse("64MiB", &bytes), 0);
	assert_int_equal(bytes, 64u << 20);
	assert_int_equal(size_parse("2gi", &bytes), 0);
	assert_int_equal(bytes, 2ull << 30);
	assert_int_equal(size_parse("100000000", &bytes), 0);
	assert_int_equal(bytes, 100000000);
	assert_int_equal(size_parse("-1", &bytes), -1);
	assert_int_equal(size_parse(" 1", &bytes), -1);
	assert_int_equal(size_parse("99999999999999999999", &bytes), -1);
	assert_int_equal(size_parse("17179869184G", &bytes), -1);
	assert_int_equal(size_parse("2x", &bytes), -1);
	assert_int_equal(size_parse("2MiBs", &bytes), -1);
	assert_int_equal(size_parse("2ib", &bytes), -1);
	assert_int_equal(duration_parse_ms("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(duration_parse_ms("2", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(duration_parse_ms("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(duration_parse_ms("9999999999h", &ms), -1);
	assert_int_equal(duration_parse_ms("1d", &ms), -1);
}

/* ---- cursor file ---- */

static void test_cursor_file(void **state)
{
	(void)state;
	struct strbuf path = STRBUF_INIT;
	uint64_t id = 99;

	forwarder_cursor_path("/var/lib/sysmon", "central", &path);
	assert_string_equal(path.data, "/var/lib/sysmon/forward-central.cursor");
	assert_int_equal(forwarder_read_cursor("/nonexistent/forward-x.cursor", &id), 0);
	assert_int_equal(id, 0);

	char file[] = "/tmp/test_outputs_cursor.XXXXXX";
	int fd = mkstemp(file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "# c\nrecord_id=12345\nlog=/x\n", 27), 27);
	close(fd);
	assert_int_equal(forwarder_read_cursor(file, &id), 1);
	assert_int_equal(id, 12345);
	FILE *f = fopen(file, "w");
	fputs("record_id=12x\n", f);
	fclose(f);
	assert_int_equal(forwarder_read_cursor(file, &id), -1);
	unlink(file);
	strbuf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem_lines_shift_in_order),
		cmocka_unit_test(test_octet_frame_round_trip),
		cmocka_unit_test(test_octet_unframe_partial_and_bad),
		cmocka_unit_test(test_rfc5424_message),
		cmocka_unit_test(test_rfc5424_error_event_and_hostname),
		cmocka_unit_test(test_local_message_form),
		cmocka_unit_test(test_bounded_cuts_values_not_markup),
		cmocka_unit_test(test_bounded_error_event),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_sd_escape),
		cmocka_unit_test(test_ecs_network_event),
		cmocka_unit_test(test_ecs_process_event),
		cmocka_unit_test(test_jsonfile_rotation),
		cmocka_unit_test(test_jsonfile_unwritable),
		cmocka_unit_test(test_config_parse),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_relp),
		cmocka_unit_test(test_config_defaults_and_sizes),
		cmocka_unit_test(test_cursor_file),
		cmocka_unit_test(test_syslog_sink_queue_and_drops),
		cmocka_unit_test(test_syslog_sink_rate_limit_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
