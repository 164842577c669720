/*
 * Event records (see event.h): field values in a per-event arena, and the
 * time formats every formatter shares.
 */
#include "schema/event.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/strbuf.h"

void event_init(struct event *ev)
{
	memset(ev, 0, sizeof(*ev));
	for (int i = 0; i < SCHEMA_MAX_FIELDS; i++)
		ev->offset[i] = EVENT_UNSET;
}

int event_reset(struct event *ev, unsigned id)
{
	ev->schema = schema_event_by_id(id);
	ev->record_id = 0;
	ev->time_ns = 0;
	ev->arena_len = 0;
	for (int i = 0; i < SCHEMA_MAX_FIELDS; i++) {
		ev->offset[i] = EVENT_UNSET;
		ev->length[i] = 0;
	}
	return ev->schema ? 0 : -1;
}

void event_free(struct event *ev)
{
	free(ev->arena);
	event_init(ev);
}

static bool valid_index(const struct event *ev, int index)
{
	return ev->schema && index >= 0 && (unsigned)index < ev->schema->nfields;
}

void event_set(struct event *ev, int index, const char *text, size_t len)
{
	if (!valid_index(ev, index))
		return;
	if (len > UINT32_MAX / 2)
		len = UINT32_MAX / 2;
	if (ev->arena_len + len + 1 > ev->arena_cap) {
		size_t cap = ev->arena_cap ? ev->arena_cap : 1024;

		while (cap < ev->arena_len + len + 1)
			cap *= 2;
		ev->arena = xrealloc(ev->arena, cap);
		ev->arena_cap = cap;
	}
	memcpy(ev->arena + ev->arena_len, text, len);
	ev->arena[ev->arena_len + len] = '\0';
	ev->offset[index] = (uint32_t)ev->arena_len;
	ev->length[index] = (uint32_t)len;
	ev->arena_len += len + 1;
}

void event_set_str(struct event *ev, int index, const char *text)
{
	event_set(ev, index, text, strlen(text));
}

void event_setf(struct event *ev, int index, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		event_set(ev, index, small, (size_t)n);
		return;
	}
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	event_set(ev, index, big, (size_t)n);
	free(big);
}

int event_set_name(struct event *ev, const char *name, const char *text)
{
	int index = ev->schema ? schema_field_index(ev->schema, name) : -1;

	if (index < 0)
		return -1;
	event_set_str(ev, index, text);
	return 0;
}

bool event_is_set(const struct event *ev, int index)
{
	return valid_index(ev, index) && ev->offset[index] != EVENT_UNSET;
}

const char *event_value(const struct event *ev, int index)
{
	return event_is_set(ev, index) ? ev->arena + ev->offset[index] : "-";
}

size_t event_value_len(const struct event *ev, int index)
{
	return event_is_set(ev, index) ? ev->length[index] : 1;
}

const char *event_value_by_name(const struct event *ev, const char *name)
{
	int index = ev->schema ? schema_field_index(ev->schema, name) : -1;

	return index < 0 ? NULL : event_value(ev, index);
}

static void split_time(int64_t ns, struct tm *tm, long *frac_ns)
{
	time_t secs = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);

	if (frac < 0) {
		frac += 1000000000;
		secs--;
	}
	gmtime_r(&secs, tm);
	*frac_ns = frac;
}

const char *event_format_utctime(int64_t ns, char *buf)
{
	struct tm tm;
	long frac;

	split_time(ns, &tm, &frac);
	/* strftime, not snprintf: unoptimised, the compiler cannot bound tm's
	 * fields and -Wformat-truncation fails the build.  %Y is four digits
	 * for every int64 ns time (1677-2262). */
	size_t n = strftime(buf, 48, "%Y-%m-%d %H:%M:%S", &tm);

	snprintf(buf + n, 48 - n, ".%03ld", frac / 1000000);
	return buf;
}

const char *event_format_systemtime(int64_t ns, char *buf)
{
	struct tm tm;
	long frac;

	split_time(ns, &tm, &frac);
	snprintf(buf, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	return buf;
}

int64_t event_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}
