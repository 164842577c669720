/*
 * bench/log: the event log's figures (issue 4).
 *
 *  1. Ingest: events per second through the real write path
 *     (eventlog_append + eventlog_flush every 100 ms worth of events is
 *     modelled as a flush every FLUSH_EVERY appends) into a log bounded at
 *     64 MiB, written long enough to wrap the bound several times; the
 *     bytes per event the log holds at the end.
 *  2. Query: a log of 1,000,000 events, then `--count-by Image`,
 *     `--event 3 --count-by Image`, `--where ... --limit 20` and others
 *     through the query engine (store/query.c) as `sysmon query` runs them
 *     (open, prepare, run, XML rendered into memory), best of 5 runs each.
 *
 * The events are realistic ProcessCreate / NetworkConnect / ProcessTerminate
 * records (sizes as in the recorded Sysmon for Linux samples), generated
 * before the clock starts.  Usage: build/bench/log [DIRECTORY] (default /tmp).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output/format.h"
#include "schema/event.h"
#include "store/eventlog.h"
#include "store/query.h"
#include "util/clock.h"
#include "util/strbuf.h"

#define POOL 4096
#define FLUSH_EVERY 4096
#define WRAP_EVENTS 1500000
#define QUERY_EVENTS 1000000

static double clock_seconds(clockid_t clock)
{
	return (double)clock_ns(clock) / 1e9;
}

static double now(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

/* CPU seconds of this process: the figure that other load on the machine
 * does not distort (the wall-clock rate is printed too). */
static double cpu_now(void)
{
	return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

static double ingest_cpu;   /* CPU seconds of the last ingest() */

static void make_event(struct event *ev, unsigned i, int64_t time_ns)
{
	static const char *const images[] = {
		"/usr/bin/curl", "/usr/bin/wget", "/usr/lib/firefox/firefox", "/usr/bin/python3.11",
		"/usr/sbin/sshd", "/usr/bin/bash", "/usr/bin/git", "/usr/lib/apt/methods/http",
	};
	char image[64], buf[48];
	unsigned kind = i % 3;   /* 1 process create, 3 network, 5 terminate */

	event_reset(ev, kind == 0 ? 1 : kind == 1 ? 3 : 5);
	ev->time_ns = time_ns;
	if (i % 5 == 0)
		snprintf(image, sizeof(image), "%s", images[i % 8]);
	else
		snprintf(image, sizeof(image), "/opt/app%u/bin/worker", i % 300);
	event_set_str(ev, 0, "-");
	event_set_str(ev, 1, event_format_utctime(time_ns, buf));
	event_setf(ev, 2, "{3d1219c7-d63a-6b07-%04x-ccfa85550000}", i % 65536);
	event_setf(ev, 3, "%u", 1000 + i % 30000);
	event_set_str(ev, 4, image);
	if (ev->schema->id == 1) {
		for (int f = 5; f <= 9; f++)
			event_set_str(ev, f, "-");
		event_setf(ev, 10, "%s --config /etc/app/%u.conf --verbose", image, i);
		event_set_str(ev, 11, "/home/user/demo");
		event_set_str(ev, 12, "root");
		event_set_str(ev, 13, "{3d1219c7-0000-0000-0000-000000000000}");
		event_set_str(ev, 14, "0");
		event_set_str(ev, 15, "4294967295");
		event_set_str(ev, 16, "no level");
		event_setf(ev, 17, "SHA256=%064x", i * 2654435761u);
		event_setf(ev, 18, "{3d1219c7-d639-6b07-9dcb-%012x}", i / 10);
		event_setf(ev, 19, "%u", 900 + i / 10);
		event_set_str(ev, 20, "/usr/bin/bash");
		event_set_str(ev, 21, "/bin/bash");
		event_set_str(ev, 22, "root");
	} else if (ev->schema->id == 3) {
		event_set_str(ev, 5, "root");
		event_set_str(ev, 6, "tcp");
		event_set_str(ev, 7, "true");
		event_set_str(ev, 8, "false");
		event_set_str(ev, 9, "127.0.0.1");
		event_set_str(ev, 10, "-");
		event_setf(ev, 11, "%u", 30000 + i % 30000);
		event_set_str(ev, 12, "-");
		event_set_str(ev, 13, "false");
		event_set_str(ev, 14, "127.0.0.1");
		event_set_str(ev, 15, "-");
		event_set_str(ev, 16, i % 4 == 1 ? "443" : "80");
		event_set_str(ev, 17, i % 4 == 1 ? "https" : "http");
	} else {
		event_set_str(ev, 5, "root");
	}
}

/* Append COUNT events from POOL (times advancing), flushing as the monitor
 * does; returns the elapsed seconds or -1. */
static double ingest(struct eventlog *log, struct event *pool, unsigned count)
{
	double start = now(), cpu_start = cpu_now();

	for (unsigned i = 0; i < count; i++) {
		struct event *ev = &pool[i % POOL];

		ev->time_ns += 1000;
		if (eventlog_append(log, ev) < 0 ||
		    ((i + 1) % FLUSH_EVERY == 0 && eventlog_flush(log) < 0)) {
			fprintf(stderr, "bench/log: %s\n", eventlog_error(log));
			return -1;
		}
	}
	if (eventlog_flush(log) < 0) {
		fprintf(stderr, "bench/log: %s\n", eventlog_error(log));
		return -1;
	}
	ingest_cpu = cpu_now() - cpu_start;
	return now() - start;
}

static void remove_log(const char *path)
{
	char name[4096];

	unlink(path);
	snprintf(name, sizeof(name), "%s-wal", path);
	unlink(name);
	snprintf(name, sizeof(name), "%s-shm", path);
	unlink(name);
}

struct bench_query {
	const char *title;
	const char *event;          /* --event, NULL if none */
	const char *where;          /* --where, NULL if none */
	const char *count_by;       /* --count-by, NULL for a listing */
	bool newest_first;
	uint64_t limit;
};

static int render_xml(const struct event *ev, unsigned origin, void *arg)
{
	struct strbuf *out = arg;
	struct format_context ctx = { "bench", origin, origin, NULL };

	format_xml(out, ev, &ctx);
	strbuf_putc(out, '\n');
	return 0;
}

static double query_cpu;   /* CPU seconds of the best run of time_query() */

/* Best of 5 runs of one query through the query engine, output (XML for a
 * listing) rendered into memory; -1 on failure. */
static double time_query(const char *path, const struct bench_query *bq)
{
	double best = 1e9;

	for (int run = 0; run < 5; run++) {
		struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
		struct query q;
		int rc = 0;
		double start = now(), cpu_start = cpu_now();
		struct eventlog *log = eventlog_open_readonly(path, &err);

		query_init(&q);
		q.newest_first = bq->newest_first;
		q.limit = bq->limit;
		if (!log || (bq->event && query_add_events(&q, bq->event, &err) < 0) ||
		    (bq->where && query_add_where(&q, bq->where, &err) < 0))
			rc = -1;
		if (rc == 0 && bq->count_by) {
			struct query_group *groups;
			size_t ngroups;

			rc = query_require_fields(&q, &bq->count_by, 1, &err);
			if (rc == 0)
				rc = query_count_by(log, &q, &bq->count_by, 1, &groups, &ngroups, &err);
			if (rc == 0)
				query_groups_free(groups, ngroups);
		} else if (rc == 0) {
			rc = query_run(log, &q, NULL, 0, render_xml, &out, &err) < 0 ? -1 : 0;
		}
		double took = now() - start, cpu = cpu_now() - cpu_start;

		query_free(&q);
		eventlog_close(log);
		strbuf_release(&out);
		if (rc < 0) {
			fprintf(stderr, "bench/log: %s: %s\n", bq->title, strbuf_str(&err));
			strbuf_release(&err);
			return -1;
		}
		strbuf_release(&err);
		if (took < best) {
			best = took;
			query_cpu = cpu;
		}
	}
	return best;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char path[4096];
	struct strbuf err = STRBUF_INIT;
	struct event *pool = calloc(POOL, sizeof(*pool));
	int64_t t0 = event_now_ns();
	struct eventlog_info info;

	for (unsigned i = 0; i < POOL; i++) {
		event_init(&pool[i]);
		make_event(&pool[i], i, t0 + (int64_t)i * 1000);
	}

	/* 1. Ingest with the default 64 MiB bound, wrapping. */
	snprintf(path, sizeof(path), "%s/bench-log-wrap-%d.db", dir, (int)getpid());
	remove_log(path);
	struct eventlog *log = eventlog_open(path, NULL, &err);

	if (!log) {
		fprintf(stderr, "bench/log: %s\n", strbuf_str(&err));
		return 1;
	}
	double took = ingest(log, pool, WRAP_EVENTS);

	if (took < 0 || eventlog_get_info(log, &info, &err) < 0)
		return 1;
	printf("ingest, 64 MiB bound: %u events in %.2f s = %.0f events/s; %.2f CPU s = %.0f events per CPU second\n"
	       "  (log wrapped %.1f times)\n", WRAP_EVENTS, took, WRAP_EVENTS / took, ingest_cpu,
	       WRAP_EVENTS / ingest_cpu, (double)WRAP_EVENTS / (double)info.records);
	printf("  log holds %llu events, file %.1f MiB (bound %.1f MiB), pages in use %.1f MiB, wal %.1f MiB\n",
	       (unsigned long long)info.records, (double)info.file_bytes / 1048576.0,
	       (double)info.max_size / 1048576.0, (double)info.used_bytes / 1048576.0,
	       (double)info.wal_bytes / 1048576.0);
	printf("  bytes per event: %.0f (pages in use / records)\n",
	       (double)info.used_bytes / (double)info.records);
	eventlog_close(log);
	remove_log(path);

	/* 2. Queries over 1,000,000 events. */
	snprintf(path, sizeof(path), "%s/bench-log-query-%d.db", dir, (int)getpid());
	remove_log(path);
	log = eventlog_open(path, NULL, &err);
	if (!log || eventlog_set_max_size(log, 4ull << 30, &err) < 0) {
		fprintf(stderr, "bench/log: %s\n", strbuf_str(&err));
		return 1;
	}
	for (unsigned i = 0; i < POOL; i++)
		make_event(&pool[i], i * 7 + 3, t0 + (int64_t)i * 1000);
	took = ingest(log, pool, QUERY_EVENTS);
	if (took < 0 || eventlog_get_info(log, &info, &err) < 0)
		return 1;
	printf("ingest, unbounded: %u events in %.2f s = %.0f events/s (%.0f per CPU second), %.0f bytes per event\n",
	       QUERY_EVENTS, took, QUERY_EVENTS / took, QUERY_EVENTS / ingest_cpu,
	       (double)info.used_bytes / (double)info.records);
	eventlog_close(log);

	static const struct bench_query queries[] = {
		{ "--count-by Image", NULL, NULL, "Image", false, 0 },
		{ "--event 3 --count-by Image", "3", NULL, "Image", false, 0 },
		{ "--where \"DestinationPort is 443\" --limit 20", NULL, "DestinationPort is 443", NULL, false, 20 },
		{ "--where \"Image end with curl\" --newest-first --limit 20", NULL, "Image end with curl", NULL, true, 20 },
		{ "--where \"CommandLine contains /etc/app/99\" --limit 20", NULL, "CommandLine contains /etc/app/99", NULL, false, 20 },
		{ "--event 1 --limit 20", "1", NULL, NULL, false, 20 },
	};
	printf("queries over %u events (best of 5, XML rendered for listings):      wall      CPU\n",
	       QUERY_EVENTS);
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		double took = time_query(path, &queries[i]);

		printf("  %-62s %8.1f ms %6.1f ms\n", queries[i].title, took * 1000, query_cpu * 1000);
	}
	remove_log(path);
	for (unsigned i = 0; i < POOL; i++)
		event_free(&pool[i]);
	free(pool);
	strbuf_release(&err);
	return 0;
}
