/*
 * Decoder of the file source (loader: file_source.c, records: bpf/file.h):
 * its records into FileCreateTime (2), RawAccessRead (9), FileCreate (11),
 * FileDelete (23) and FileDeleteDetected (26) events.  docs/files.md says
 * what each event means on Linux.
 *
 * The kernel decided what happened and captured the path, the process and
 * the inode's mode at the call; here the record becomes Sysmon's fields:
 *  - TargetFilename / Device: the kernel's path with ".", ".." and repeated
 *    slashes of the caller's part removed ("+" first when the path's
 *    beginning could not be recovered, compatibility spec 3.6.8).
 *  - CreationUtcTime of FileCreate: the event time for a new file, symlink
 *    or mknod'ed file; for an overwrite, a new hard link or a rename the
 *    file's birth time (statx) when the file at that path is still the one
 *    the kernel saw, else the event time.
 *  - FileDelete: Hashes "-" (the file is gone when the record is read),
 *    IsExecutable from the mode the kernel captured (a regular file with an
 *    x bit), Archived "false" (nothing is archived on Linux).
 *  - FileDelete (23) and FileDeleteDetected (26) are each built only when
 *    the config can log them (the mask given to file_decoder_set_events).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <linux/types.h>

#include "bpf/file.h"
#include "capture/decode.h"
#include "enrich/guid.h"
#include "enrich/users.h"

/* The fields the file events have, by role. */
enum file_field {
	FF_UTC_TIME, FF_PROCESS_GUID, FF_PROCESS_ID, FF_IMAGE, FF_USER, FF_TARGET,
	FF_CREATION, FF_PREVIOUS, FF_DEVICE, FF_HASHES, FF_IS_EXECUTABLE, FF_ARCHIVED,
	FF_COUNT
};

static const char *const file_field_names[FF_COUNT] = {
	"UtcTime", "ProcessGuid", "ProcessId", "Image", "User", "TargetFilename",
	"CreationUtcTime", "PreviousCreationUtcTime", "Device", "Hashes", "IsExecutable",
	"Archived",
};

/* The events of this source and the fields each must have. */
static const struct {
	unsigned id;
	unsigned fields;        /* bits of enum file_field */
} file_events[] = {
#define FB(f) (1u << (f))
#define COMMON (FB(FF_UTC_TIME) | FB(FF_PROCESS_GUID) | FB(FF_PROCESS_ID) | FB(FF_IMAGE) | FB(FF_USER))
	{ FILE_EVENT_CREATE_TIME, COMMON | FB(FF_TARGET) | FB(FF_CREATION) | FB(FF_PREVIOUS) },
	{ FILE_EVENT_RAW_ACCESS, COMMON | FB(FF_DEVICE) },
	{ FILE_EVENT_CREATE, COMMON | FB(FF_TARGET) | FB(FF_CREATION) },
	{ FILE_EVENT_DELETE, COMMON | FB(FF_TARGET) | FB(FF_HASHES) | FB(FF_IS_EXECUTABLE) | FB(FF_ARCHIVED) },
	{ FILE_EVENT_DELETE_DETECTED, COMMON | FB(FF_TARGET) | FB(FF_HASHES) | FB(FF_IS_EXECUTABLE) },
#undef COMMON
};

#define FILE_EVENT_TYPES (sizeof(file_events) / sizeof(file_events[0]))

struct file_decoder {
	uint32_t mask;                  /* ids the config can log now */
	int fields[FILE_EVENT_TYPES][FF_COUNT];
	struct event ev;
	struct strbuf path;
};

static int event_slot(unsigned id)
{
	for (size_t i = 0; i < FILE_EVENT_TYPES; i++)
		if (file_events[i].id == id)
			return (int)i;
	return -1;
}

static int resolve_fields(struct file_decoder *st, struct strbuf *err)
{
	for (size_t i = 0; i < FILE_EVENT_TYPES; i++) {
		const struct schema_event *event = schema_event_by_id(file_events[i].id);

		for (int f = 0; f < FF_COUNT; f++) {
			st->fields[i][f] = -1;
			if (!(file_events[i].fields & (1u << f)))
				continue;
			st->fields[i][f] = event ? schema_field_index(event, file_field_names[f]) : -1;
			if (st->fields[i][f] < 0) {
				strbuf_printf(err, "the schema of event %u has no field %s",
					      file_events[i].id, file_field_names[f]);
				return -1;
			}
		}
	}
	return 0;
}

struct file_decoder *file_decoder_new(struct strbuf *err)
{
	struct file_decoder *st = xcalloc(1, sizeof(*st));

	event_init(&st->ev);
	if (resolve_fields(st, err) != 0) {
		file_decoder_free(st);
		return NULL;
	}
	return st;
}

void file_decoder_set_events(struct file_decoder *st, uint32_t mask)
{
	st->mask = mask;
}

void file_decoder_free(struct file_decoder *st)
{
	if (!st)
		return;
	event_free(&st->ev);
	strbuf_release(&st->path);
	free(st);
}

/*
 * PATH (LEN bytes from the kernel) into OUT, absolute and without ".",
 * ".." or empty components.  The kernel's part is already normalised; only
 * the caller's name may hold them.  A partial path keeps its "+" marker and
 * the ".." that climb above its known beginning.
 */
static void normalise_path(struct strbuf *out, const char *path, size_t len, bool partial)
{
	strbuf_reset(out);
	if (partial)
		strbuf_putc(out, '+');
	size_t base = out->len;
	size_t floor = base;            /* nothing below this can be removed */

	for (size_t i = 0; i < len;) {
		while (i < len && path[i] == '/')
			i++;
		size_t start = i;
		while (i < len && path[i] != '/')
			i++;
		size_t n = i - start;
		if (n == 0 || (n == 1 && path[start] == '.'))
			continue;
		if (n == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (out->len > floor) {
				while (out->len > floor && out->data[out->len - 1] != '/')
					out->len--;
				out->len--;     /* its slash */
				out->data[out->len] = '\0';
				continue;
			}
			if (!partial)
				continue;       /* ".." of the root is the root */
			strbuf_puts(out, "/..");
			floor = out->len;
			continue;
		}
		strbuf_putc(out, '/');
		strbuf_append(out, path + start, n);
	}
	if (out->len == base)
		strbuf_putc(out, '/');
}

/* "YYYY-MM-DD HH:MM:SS.mmm" for any time a file can carry (a stamped
 * mtime may lie far outside what nanoseconds in 64 bits can hold). */
static const char *format_file_time(int64_t sec, uint32_t nsec, char buf[48])
{
	struct tm tm;
	time_t t = (time_t)sec;

	if (nsec >= 1000000000u || !gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		snprintf(buf, 48, "-");
		return buf;
	}
	snprintf(buf, 48, "%04d-%02d-%02d %02d:%02d:%02d.%03u", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec / 1000000u);
	return buf;
}

/* Birth time of the file at PATH, if it is still the inode the kernel saw
 * (REC's ino, when the record has one). */
static bool birth_time(const char *path, const struct file_record *rec, char buf[48])
{
	struct statx stx;

	if (path[0] != '/')
		return false;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_BTIME | STATX_INO,
		  &stx) != 0)
		return false;
	if (!(stx.stx_mask & STATX_BTIME))
		return false;
	if ((rec->flags & FILE_HAVE_MODE) && stx.stx_ino != rec->ino &&
	    !((rec->flags & FILE_HAVE_TWO_MODES) && stx.stx_ino == rec->other_ino))
		return false;
	format_file_time(stx.stx_btime.tv_sec, stx.stx_btime.tv_nsec, buf);
	return true;
}

static bool mode_is_executable(uint32_t mode)
{
	return S_ISREG(mode) && (mode & 0111);
}

static const char *is_executable_text(const struct file_record *rec)
{
	if (!(rec->flags & FILE_HAVE_MODE))
		return "-";
	bool exec = mode_is_executable(rec->mode);
	if ((rec->flags & FILE_HAVE_TWO_MODES) && exec != mode_is_executable(rec->other_mode))
		return "-";   /* the replaced file is one of the two, which is not known */
	return exec ? "true" : "false";
}

/* Start event ID with the fields every file event has. */
static int *begin_event(struct file_decoder *st, struct capture_env *env, unsigned id,
			const struct file_record *rec, const char *utc_time)
{
	int *f = st->fields[event_slot(id)];
	struct event *ev = &st->ev;
	const struct process_info *info = capture_lookup_process(env, rec->tgid);
	char comm[CAPTURE_COMM_SIZE + 1];

	event_reset(ev, id);
	event_set_str(ev, f[FF_UTC_TIME], utc_time);
	event_set_str(ev, f[FF_PROCESS_GUID], info ? info->guid : GUID_ZERO_TEXT);
	event_setf(ev, f[FF_PROCESS_ID], "%u", rec->tgid);
	event_set_str(ev, f[FF_IMAGE], capture_image_of(info, rec->comm, comm));
	event_set_str(ev, f[FF_USER], user_name(rec->uid));
	return f;
}

static void emit_create(struct file_decoder *st, struct capture_env *env, const struct file_record *rec,
			const char *utc_time)
{
	char creation[48];
	bool new_name = rec->how == FILE_CREATE_NEW || rec->how == FILE_CREATE_SYMLINK ||
			rec->how == FILE_CREATE_MKNOD;

	if (new_name || !birth_time(strbuf_str(&st->path), rec, creation))
		snprintf(creation, sizeof(creation), "%s", utc_time);
	int *f = begin_event(st, env, FILE_EVENT_CREATE, rec, utc_time);
	event_set(&st->ev, f[FF_TARGET], strbuf_str(&st->path), st->path.len);
	event_set_str(&st->ev, f[FF_CREATION], creation);
	env->emit(env, &st->ev);
}

static void emit_delete(struct file_decoder *st, struct capture_env *env, const struct file_record *rec,
			const char *utc_time, unsigned id)
{
	int *f = begin_event(st, env, id, rec, utc_time);

	event_set(&st->ev, f[FF_TARGET], strbuf_str(&st->path), st->path.len);
	event_set_str(&st->ev, f[FF_HASHES], "-");
	event_set_str(&st->ev, f[FF_IS_EXECUTABLE], is_executable_text(rec));
	if (f[FF_ARCHIVED] >= 0)
		event_set_str(&st->ev, f[FF_ARCHIVED], "false");
	env->emit(env, &st->ev);
}

static void emit_deletes(struct file_decoder *st, struct capture_env *env, const struct file_record *rec,
			 const char *utc_time)
{
	if (st->mask & CAPTURE_EVENT_BIT(FILE_EVENT_DELETE))
		emit_delete(st, env, rec, utc_time, FILE_EVENT_DELETE);
	if (st->mask & CAPTURE_EVENT_BIT(FILE_EVENT_DELETE_DETECTED))
		emit_delete(st, env, rec, utc_time, FILE_EVENT_DELETE_DETECTED);
}

int file_decoder_decode(struct file_decoder *st, struct capture_env *env, const void *data, size_t size)
{
	struct file_record rec;
	char utc_time[48];

	if (size < sizeof(rec))
		return -1;
	memcpy(&rec, data, sizeof(rec));
	if (rec.path_len == 0 || rec.path_len > size - sizeof(rec))
		return -1;
	normalise_path(&st->path, (const char *)data + sizeof(rec), rec.path_len,
		       rec.flags & FILE_PATH_PARTIAL);
	event_format_utctime(guid_boot_to_wall_ns(rec.boot_ns), utc_time);

	switch (rec.kind) {
	case FILE_RECORD_CREATE:
		if (st->mask & CAPTURE_EVENT_BIT(FILE_EVENT_CREATE))
			emit_create(st, env, &rec, utc_time);
		return 0;
	case FILE_RECORD_DELETE:
		emit_deletes(st, env, &rec, utc_time);
		return 0;
	case FILE_RECORD_RENAME_OVER:
		emit_deletes(st, env, &rec, utc_time);
		if (st->mask & CAPTURE_EVENT_BIT(FILE_EVENT_CREATE))
			emit_create(st, env, &rec, utc_time);
		return 0;
	case FILE_RECORD_TIME: {
		if (!(st->mask & CAPTURE_EVENT_BIT(FILE_EVENT_CREATE_TIME)))
			return 0;
		char new_time[48], old_time[48] = "-";
		int *f = begin_event(st, env, FILE_EVENT_CREATE_TIME, &rec, utc_time);

		format_file_time(rec.new_sec, rec.new_nsec, new_time);
		if (rec.flags & FILE_HAVE_PREVIOUS)
			format_file_time(rec.old_sec, rec.old_nsec, old_time);
		event_set(&st->ev, f[FF_TARGET], strbuf_str(&st->path), st->path.len);
		event_set_str(&st->ev, f[FF_CREATION], new_time);
		event_set_str(&st->ev, f[FF_PREVIOUS], old_time);
		env->emit(env, &st->ev);
		return 0;
	}
	case FILE_RECORD_RAW_ACCESS: {
		if (!(st->mask & CAPTURE_EVENT_BIT(FILE_EVENT_RAW_ACCESS)))
			return 0;
		int *f = begin_event(st, env, FILE_EVENT_RAW_ACCESS, &rec, utc_time);

		event_set(&st->ev, f[FF_DEVICE], strbuf_str(&st->path), st->path.len);
		env->emit(env, &st->ev);
		return 0;
	}
	default:
		return -1;
	}
}
