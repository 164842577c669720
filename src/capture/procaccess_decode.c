/*
 * Decoder of the process-access source (loader: procaccess_source.c,
 * records: bpf/procaccess.h): ProcessAccess (10), CreateRemoteThread (8)
 * and ProcessTampering (25).
 *
 * The kernel names both processes by tgid/tid and gives their uids and task
 * names as they were at the call; ProcessGuid and Image come from the shared
 * process cache (every process is seeded at start and every exec after is
 * recorded; exited ones stay for a grace period).  A process the cache does
 * not know keeps its task name as Image and the all-zero GUID.
 * docs/events.md says what each field means here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/procaccess.h"
#include "capture/decode.h"
#include "enrich/guid.h"
#include "enrich/users.h"

/* A process cache entry made by an exec this close to a tampering record's
 * exec is that exec's (both are taken at the same tracepoint). */
#define SAME_EXEC_NS (50LL * 1000000LL)

struct access_fields {
	int utc_time, source_guid, source_pid, source_tid, source_image, target_guid, target_pid,
	    target_image, granted_access, call_trace, source_user, target_user;
};

struct thread_fields {
	int utc_time, source_guid, source_pid, source_image, target_guid, target_pid, target_image,
	    new_thread_id, start_address, start_module, start_function, source_user, target_user;
};

struct tamper_fields {
	int utc_time, process_guid, process_id, image, type, user;
};

struct procaccess_decoder {
	struct access_fields access;
	struct thread_fields thread;
	struct tamper_fields tamper;
	struct event ev;
};

static int resolve_all_fields(struct procaccess_decoder *st, struct strbuf *err)
{
	struct access_fields *a = &st->access;
	const struct capture_field_slot access[] = {
		{ "UtcTime", &a->utc_time }, { "SourceProcessGUID", &a->source_guid },
		{ "SourceProcessId", &a->source_pid }, { "SourceThreadId", &a->source_tid },
		{ "SourceImage", &a->source_image }, { "TargetProcessGUID", &a->target_guid },
		{ "TargetProcessId", &a->target_pid }, { "TargetImage", &a->target_image },
		{ "GrantedAccess", &a->granted_access }, { "CallTrace", &a->call_trace },
		{ "SourceUser", &a->source_user }, { "TargetUser", &a->target_user },
	};
	struct thread_fields *t = &st->thread;
	const struct capture_field_slot thread[] = {
		{ "UtcTime", &t->utc_time }, { "SourceProcessGuid", &t->source_guid },
		{ "SourceProcessId", &t->source_pid }, { "SourceImage", &t->source_image },
		{ "TargetProcessGuid", &t->target_guid }, { "TargetProcessId", &t->target_pid },
		{ "TargetImage", &t->target_image }, { "NewThreadId", &t->new_thread_id },
		{ "StartAddress", &t->start_address }, { "StartModule", &t->start_module },
		{ "StartFunction", &t->start_function }, { "SourceUser", &t->source_user },
		{ "TargetUser", &t->target_user },
	};
	struct tamper_fields *p = &st->tamper;
	const struct capture_field_slot tamper[] = {
		{ "UtcTime", &p->utc_time }, { "ProcessGuid", &p->process_guid },
		{ "ProcessId", &p->process_id }, { "Image", &p->image }, { "Type", &p->type },
		{ "User", &p->user },
	};

	if (CAPTURE_RESOLVE_FIELDS(PROCACCESS_EVENT_ACCESS, access, err) != 0 ||
	    CAPTURE_RESOLVE_FIELDS(PROCACCESS_EVENT_REMOTE_THREAD, thread, err) != 0)
		return -1;
	return CAPTURE_RESOLVE_FIELDS(PROCACCESS_EVENT_TAMPERING, tamper, err);
}

struct procaccess_decoder *procaccess_decoder_new(struct strbuf *err)
{
	struct procaccess_decoder *st = xcalloc(1, sizeof(*st));

	event_init(&st->ev);
	if (resolve_all_fields(st, err) != 0) {
		procaccess_decoder_free(st);
		return NULL;
	}
	return st;
}

void procaccess_decoder_free(struct procaccess_decoder *st)
{
	if (!st)
		return;
	event_free(&st->ev);
	free(st);
}

/* One process of a record as the event shows it. */
struct process_view {
	char guid[GUID_TEXT_SIZE];
	const char *image;
	const char *user;
	uint32_t pid;
	char comm[17];
};

/* TASK as the process cache knows it (by tgid, or by the thread id alone
 * when the kernel only had the pid the caller named); KNOWN_UID says
 * whether task->uid was read from the task. */
static void describe(struct process_view *view, struct capture_env *env,
		     const struct procaccess_task *task, bool known_uid)
{
	uint32_t pid = task->tgid ? task->tgid : task->tid;
	const struct process_info *info = capture_lookup_process(env, pid);

	memcpy(view->comm, task->comm, sizeof(task->comm));
	view->comm[sizeof(task->comm)] = '\0';
	if (info) {
		view->pid = info->pid;
		memcpy(view->guid, info->guid, GUID_TEXT_SIZE);
		view->image = info->image;
		view->user = user_name(known_uid ? task->uid : info->uid);
		return;
	}
	view->pid = pid;
	memcpy(view->guid, GUID_ZERO_TEXT, GUID_TEXT_SIZE);
	view->image = view->comm[0] ? view->comm : "<unknown process>";
	view->user = known_uid ? user_name(task->uid) : "-";
}

static int decode_access(struct procaccess_decoder *st, struct capture_env *env, const void *data, size_t size)
{
	struct procaccess_record rec;
	struct process_view source, target;

	if (size < sizeof(rec))
		return -1;
	memcpy(&rec, data, sizeof(rec));
	describe(&source, env, &rec.source, true);
	describe(&target, env, &rec.target, rec.flags & PROCACCESS_TARGET_TASK);

	struct event *ev = &st->ev;
	if (rec.kind == PROCACCESS_RECORD_ACCESS) {
		const struct access_fields *f = &st->access;

		event_reset(ev, PROCACCESS_EVENT_ACCESS);
		capture_set_utctime(ev, f->utc_time, rec.boot_ns);
		event_set_str(ev, f->source_guid, source.guid);
		event_setf(ev, f->source_pid, "%u", source.pid);
		event_setf(ev, f->source_tid, "%u", rec.source.tid);
		event_set_str(ev, f->source_image, source.image);
		event_set_str(ev, f->target_guid, target.guid);
		event_setf(ev, f->target_pid, "%u", target.pid);
		event_set_str(ev, f->target_image, target.image);
		event_setf(ev, f->granted_access, "0x%x", rec.granted_access);
		event_set_str(ev, f->call_trace, "-");
		event_set_str(ev, f->source_user, source.user);
		event_set_str(ev, f->target_user, target.user);
	} else {
		const struct thread_fields *f = &st->thread;

		event_reset(ev, PROCACCESS_EVENT_REMOTE_THREAD);
		capture_set_utctime(ev, f->utc_time, rec.boot_ns);
		event_set_str(ev, f->source_guid, source.guid);
		event_setf(ev, f->source_pid, "%u", source.pid);
		event_set_str(ev, f->source_image, source.image);
		event_set_str(ev, f->target_guid, target.guid);
		event_setf(ev, f->target_pid, "%u", target.pid);
		event_set_str(ev, f->target_image, target.image);
		event_setf(ev, f->new_thread_id, "%u", rec.target.tid);
		if (rec.flags & PROCACCESS_START_ADDRESS)
			event_setf(ev, f->start_address, "0x%llx", (unsigned long long)rec.start_address);
		else
			event_set_str(ev, f->start_address, "-");
		event_set_str(ev, f->start_module, "-");
		event_set_str(ev, f->start_function, "-");
		event_set_str(ev, f->source_user, source.user);
		event_set_str(ev, f->target_user, target.user);
	}
	env->emit(env, ev);
	return 0;
}

static const char *tamper_type_text(uint32_t type)
{
	switch (type) {
	case PROCACCESS_TAMPER_MEMFD:
		return "Image is memfd";
	case PROCACCESS_TAMPER_DELETED:
		return "Image is deleted";
	case PROCACCESS_TAMPER_FD_PATH:
		return "Image is fd path";
	default:
		return NULL;
	}
}

static int decode_tamper(struct procaccess_decoder *st, struct capture_env *env, const void *data, size_t size)
{
	struct procaccess_tamper_record rec;

	if (size < sizeof(rec))
		return -1;
	memcpy(&rec, data, sizeof(rec));
	const char *type = tamper_type_text(rec.type);
	if (!type)
		return -1;
	rec.comm[sizeof(rec.comm) - 1] = '\0';
	rec.file_name[sizeof(rec.file_name) - 1] = '\0';

	/* the process source records this exec too, in its own ring: its cache
	 * entry is the one to use once it is there */
	const struct process_info *info = capture_lookup_process(env, rec.tgid);
	int64_t apart = info ? (int64_t)(info->start_boot_ns - rec.boot_ns) : 0;
	bool same_exec = info && !info->from_proc && apart < SAME_EXEC_NS && apart > -SAME_EXEC_NS;
	char guid[GUID_TEXT_SIZE];
	const char *image;
	char link[64];
	char exe[4096];

	if (same_exec) {
		memcpy(guid, info->guid, GUID_TEXT_SIZE);
		image = info->image;
	} else {
		/* the exec's record is not read yet (a ring read out of order
		 * under load): no GUID, the image as /proc shows it */
		memcpy(guid, GUID_ZERO_TEXT, GUID_TEXT_SIZE);
		snprintf(link, sizeof(link), "/proc/%u/exe", rec.tgid);
		ssize_t len = readlink(link, exe, sizeof(exe) - 1);
		if (len > 0) {
			exe[len] = '\0';
			image = exe;
		} else {
			image = rec.file_name[0] ? rec.file_name : rec.comm;
		}
	}

	/* a memfd has no path: name it as the kernel does (/proc/PID/exe) */
	if (rec.type == PROCACCESS_TAMPER_MEMFD && rec.file_name[0]) {
		snprintf(exe, sizeof(exe), "/%s (deleted)", rec.file_name);
		image = exe;
	}

	const struct tamper_fields *f = &st->tamper;
	struct event *ev = &st->ev;

	event_reset(ev, PROCACCESS_EVENT_TAMPERING);
	capture_set_utctime(ev, f->utc_time, rec.boot_ns);
	event_set_str(ev, f->process_guid, guid);
	event_setf(ev, f->process_id, "%u", rec.tgid);
	event_set_str(ev, f->image, image);
	event_set_str(ev, f->type, type);
	event_set_str(ev, f->user, user_name(rec.uid));
	env->emit(env, ev);
	return 0;
}

int procaccess_decoder_decode(struct procaccess_decoder *st, struct capture_env *env, const void *data,
			      size_t size)
{
	uint32_t kind;

	if (size < sizeof(kind))
		return -1;
	memcpy(&kind, data, sizeof(kind));
	if (kind == PROCACCESS_RECORD_ACCESS || kind == PROCACCESS_RECORD_INJECT)
		return decode_access(st, env, data, size);
	if (kind == PROCACCESS_RECORD_TAMPER)
		return decode_tamper(st, env, data, size);
	return -1;
}
