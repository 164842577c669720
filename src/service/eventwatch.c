/*
 * Reading the event log for the service's confirmations (see service.h):
 * the monitor's 'Started' (4) after a start and its config event (16)
 * after a reload show that it did what it was asked, which a signal alone
 * cannot.  Read-only, through the event log's own reader (store/eventlog.h).
 */
#include "service/service.h"

#include "schema/event.h"
#include "store/eventlog.h"

int64_t service_last_record(const char *path, unsigned id)
{
	struct strbuf err = STRBUF_INIT;
	struct eventlog *log = eventlog_open_readonly(path, &err);
	int64_t last = -1;

	strbuf_release(&err);
	if (!log)
		return -1;

	/* No event fields are needed: only the record id. */
	static const char *const no_fields[] = { NULL };
	struct eventlog_bind bind = { .kind = BIND_INT, .number = id };
	struct eventlog_select sel = {
		.where = id ? "EventID = ?" : NULL,
		.binds = &bind,
		.nbinds = id ? 1 : 0,
		.newest_first = true,
		.fields = no_fields,
		.nfields = 0,
	};
	struct eventlog_cursor *cur = eventlog_select(log, &sel, &err);

	if (cur) {
		struct event ev;
		unsigned origin;

		event_init(&ev);
		int rc = eventlog_next(cur, &ev, &origin, &err);

		if (rc == 1)
			last = (int64_t)ev.record_id;
		else if (rc == 0)
			last = 0;
		event_free(&ev);
		eventlog_cursor_free(cur);
	}
	strbuf_release(&err);
	eventlog_close(log);
	return last;
}
