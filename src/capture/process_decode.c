/*
 * Decoder of the process source (loader: process_source.c, records:
 * bpf/process.h): exec and exit records into ProcessCreate (1) and
 * ProcessTerminate (5) events, enriched (process cache, user names, hashes,
 * GUIDs); it keeps the process cache up to date for every other source.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/process.h"
#include "capture/decode.h"
#include "enrich/guid.h"
#include "enrich/users.h"

/* Field positions, resolved by name from the schema once at load. */
struct create_fields {
	int rule_name, utc_time, process_guid, process_id, image, file_version, description,
	    product, company, original_file_name, command_line, current_directory, user,
	    logon_guid, logon_id, terminal_session_id, integrity_level, hashes,
	    parent_process_guid, parent_process_id, parent_image, parent_command_line,
	    parent_user;
};

struct terminate_fields {
	int rule_name, utc_time, process_guid, process_id, image, user;
};

struct process_decoder {
	struct create_fields create;
	struct terminate_fields terminate;
	struct event ev;
	struct strbuf command_line, image, cwd;
	uint64_t ns_per_tick;            /* of /proc's start times */
};

static int resolve_all_fields(struct process_decoder *st, struct strbuf *err)
{
	struct create_fields *c = &st->create;
	const struct capture_field_slot create[] = {
		{ "RuleName", &c->rule_name }, { "UtcTime", &c->utc_time },
		{ "ProcessGuid", &c->process_guid }, { "ProcessId", &c->process_id },
		{ "Image", &c->image }, { "FileVersion", &c->file_version },
		{ "Description", &c->description }, { "Product", &c->product },
		{ "Company", &c->company }, { "OriginalFileName", &c->original_file_name },
		{ "CommandLine", &c->command_line }, { "CurrentDirectory", &c->current_directory },
		{ "User", &c->user }, { "LogonGuid", &c->logon_guid }, { "LogonId", &c->logon_id },
		{ "TerminalSessionId", &c->terminal_session_id },
		{ "IntegrityLevel", &c->integrity_level }, { "Hashes", &c->hashes },
		{ "ParentProcessGuid", &c->parent_process_guid },
		{ "ParentProcessId", &c->parent_process_id }, { "ParentImage", &c->parent_image },
		{ "ParentCommandLine", &c->parent_command_line }, { "ParentUser", &c->parent_user },
	};
	struct terminate_fields *t = &st->terminate;
	const struct capture_field_slot terminate[] = {
		{ "RuleName", &t->rule_name }, { "UtcTime", &t->utc_time },
		{ "ProcessGuid", &t->process_guid }, { "ProcessId", &t->process_id },
		{ "Image", &t->image }, { "User", &t->user },
	};

	if (CAPTURE_RESOLVE_FIELDS(PROCESS_EVENT_CREATE, create, err) != 0)
		return -1;
	return CAPTURE_RESOLVE_FIELDS(PROCESS_EVENT_TERMINATE, terminate, err);
}

struct process_decoder *process_decoder_new(struct strbuf *err)
{
	struct process_decoder *st = xcalloc(1, sizeof(*st));

	event_init(&st->ev);
	long ticks = sysconf(_SC_CLK_TCK);
	st->ns_per_tick = ticks > 0 ? 1000000000ull / (uint64_t)ticks : 10000000ull;
	if (resolve_all_fields(st, err) != 0) {
		process_decoder_free(st);
		return NULL;
	}
	return st;
}

void process_decoder_free(struct process_decoder *st)
{
	if (!st)
		return;
	event_free(&st->ev);
	strbuf_release(&st->command_line);
	strbuf_release(&st->image);
	strbuf_release(&st->cwd);
	free(st);
}

/* argv with its NULs as single spaces and the trailing NUL dropped, as
 * Sysmon for Linux joins it. */
static void join_args(struct strbuf *out, const char *args, size_t len)
{
	strbuf_reset(out);
	while (len > 0 && args[len - 1] == '\0')
		len--;
	strbuf_append(out, args, len);
	for (size_t i = 0; i < out->len; i++)
		if (out->data[i] == '\0')
			out->data[i] = ' ';
}

/* A number as Sysmon writes it (unsigned decimal), without printf: three of
 * these per event are a visible part of the per-exec cost. */
static void set_uint(struct event *ev, int index, uint32_t value)
{
	char text[10];
	size_t at = sizeof(text);

	do {
		text[--at] = (char)('0' + value % 10);
		value /= 10;
	} while (value);
	event_set(ev, index, text + at, sizeof(text) - at);
}

static void set_path(struct strbuf *out, const char *path, size_t len, bool partial)
{
	strbuf_reset(out);
	if (partial)
		strbuf_putc(out, '+');
	strbuf_append(out, path, len);
}

static const char *hashes_of(struct capture_env *env, uint32_t pid, const char *image)
{
	unsigned algorithms = env->config ? env->config->hash_algorithms : HASH_SHA256;

	if (!(algorithms & (HASH_SHA1 | HASH_MD5 | HASH_SHA256)))
		return "-";   /* IMPHASH alone: nothing Linux can compute */
	const char *hashes = image[0] == '/' ? hash_cache_get(env->hashes, image, algorithms) : "-";

	if (strcmp(hashes, "-") != 0)
		return hashes;
	/* path gone, replaced or not recovered: the running image, if still there */
	char link[32];
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	int fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hashes;
	hashes = hash_cache_get_fd(env->hashes, fd, algorithms);
	close(fd);
	return hashes;
}

static bool may_log(const struct capture_env *env, unsigned id)
{
	return !env->config || rules_may_log(env->config->rules, id);
}

static int decode_exec(struct process_decoder *st, struct capture_env *env, const void *data, size_t size)
{
	struct process_exec_record rec;

	if (size < sizeof(rec))
		return -1;
	memcpy(&rec, data, sizeof(rec));
	size_t variable = (size_t)rec.args_len + rec.image_len + rec.cwd_len;
	if (variable > size - sizeof(rec))
		return -1;
	const char *args = (const char *)data + sizeof(rec);
	const char *image = args + rec.args_len;
	const char *cwd = image + rec.image_len;
	char comm[sizeof(rec.comm) + 1];

	memcpy(comm, rec.comm, sizeof(rec.comm));
	comm[sizeof(rec.comm)] = '\0';

	join_args(&st->command_line, args, rec.args_len);
	if (rec.flags & PROCESS_NO_IMAGE)
		set_path(&st->image, comm, strlen(comm), false);
	else
		set_path(&st->image, image, rec.image_len, rec.flags & PROCESS_IMAGE_PARTIAL);
	if (rec.flags & PROCESS_IMAGE_PSEUDO)
		strbuf_puts(&st->image, " (deleted)");   /* as /proc/PID/exe shows it */
	set_path(&st->cwd, cwd, rec.cwd_len, rec.flags & PROCESS_CWD_PARTIAL);

	const struct process_info *info = process_cache_exec(
		env->processes, rec.tgid, rec.ppid, rec.uid, rec.exec_boot_ns, strbuf_str(&st->image),
		st->command_line.len ? st->command_line.data : "-",
		st->cwd.len ? st->cwd.data : "-");
	/* attached only to keep the cache for other sources: no event to build */
	if (!may_log(env, PROCESS_EVENT_CREATE))
		return 0;
	const struct process_info *parent = process_cache_lookup(env->processes, rec.ppid);

	const struct create_fields *f = &st->create;
	struct event *ev = &st->ev;
	char text[GUID_TEXT_SIZE + 16];

	event_reset(ev, PROCESS_EVENT_CREATE);
	capture_set_utctime(ev, f->utc_time, rec.exec_boot_ns);
	event_set_str(ev, f->process_guid, info ? info->guid : GUID_ZERO_TEXT);
	set_uint(ev, f->process_id, rec.tgid);
	event_set(ev, f->image, strbuf_str(&st->image), st->image.len);
	event_set_str(ev, f->file_version, "-");
	event_set_str(ev, f->description, "-");
	event_set_str(ev, f->product, "-");
	event_set_str(ev, f->company, "-");
	event_set_str(ev, f->original_file_name, "-");
	if (st->command_line.len)
		event_set(ev, f->command_line, st->command_line.data, st->command_line.len);
	event_set(ev, f->current_directory, strbuf_str(&st->cwd), st->cwd.len);
	event_set_str(ev, f->user, user_name(rec.uid));
	uint32_t tty = rec.tty_index >= 0 ? (uint32_t)rec.tty_index & 0xff : 0;
	guid_format_logon(text, rec.uid, tty);
	event_set_str(ev, f->logon_guid, text);
	guid_format_logon_id(text, rec.uid);
	event_set_str(ev, f->logon_id, text);
	set_uint(ev, f->terminal_session_id, rec.sessionid);
	event_set_str(ev, f->integrity_level, "no level");
	event_set_str(ev, f->hashes, hashes_of(env, rec.tgid, strbuf_str(&st->image)));
	event_set_str(ev, f->parent_process_guid, parent ? parent->guid : GUID_ZERO_TEXT);
	set_uint(ev, f->parent_process_id, rec.ppid);
	if (parent) {
		event_set_str(ev, f->parent_image, parent->image);
		event_set_str(ev, f->parent_command_line, parent->command_line);
		event_set_str(ev, f->parent_user, user_name(parent->uid));
	}
	env->emit(env, ev);
	return 0;
}

/* The cache entry of a process that exits without having exec'd since its
 * fork: it ran its parent's image (once init has adopted it, the parent is
 * unknown: then its /proc entry from the start-up seed, or its task name).  Its
 * GUID follows the /proc recipe (start time in clock ticks), so that it
 * matches what a lookup of the live process would have given. */
static const struct process_info *fork_entry(struct process_decoder *st, struct capture_env *env,
					     const struct process_exit_record *rec)
{
	char comm[sizeof(rec->comm) + 1];
	const struct process_info *parent = NULL;

	uint64_t start = rec->start_boot_ns - rec->start_boot_ns % st->ns_per_tick;

	memcpy(comm, rec->comm, sizeof(rec->comm));
	comm[sizeof(rec->comm)] = '\0';
	if (rec->ppid <= 1) {
		/* adopted: only an entry seeded from /proc knows the image */
		const struct process_info *self = process_cache_lookup(env->processes, rec->tgid);
		if (self && !self->exited && self->start_boot_ns == start)
			return self;
	} else {
		parent = process_cache_lookup(env->processes, rec->ppid);
	}
	/* copies: the exec below may move the parent's entry */
	strbuf_reset(&st->image);
	strbuf_puts(&st->image, parent ? parent->image : comm);
	strbuf_reset(&st->command_line);
	strbuf_puts(&st->command_line, parent ? parent->command_line : comm);
	strbuf_reset(&st->cwd);
	strbuf_puts(&st->cwd, parent ? parent->cwd : "-");
	return process_cache_exec(env->processes, rec->tgid, rec->ppid, rec->uid, start,
				  st->image.data, st->command_line.data, st->cwd.data);
}

static int decode_exit(struct process_decoder *st, struct capture_env *env, const void *data, size_t size)
{
	struct process_exit_record rec;
	const struct process_info *info;

	if (size < sizeof(rec))
		return -1;
	memcpy(&rec, data, sizeof(rec));
	if (rec.flags & PROCESS_EXIT_NEVER_EXECED) {
		info = fork_entry(st, env, &rec);
	} else {
		info = process_cache_lookup(env->processes, rec.tgid);
		if (info && info->exited && (rec.flags & PROCESS_EXIT_MAY_REPEAT))
			return 0;   /* already reported: one event per process */
	}

	int64_t wall = guid_boot_to_wall_ns(rec.exit_boot_ns);
	if (!may_log(env, PROCESS_EVENT_TERMINATE)) {
		process_cache_exit(env->processes, rec.tgid, wall);
		return 0;
	}
	const struct terminate_fields *f = &st->terminate;
	struct event *ev = &st->ev;

	event_reset(ev, PROCESS_EVENT_TERMINATE);
	event_set_str(ev, f->utc_time, event_format_utctime(wall, (char[48]){ 0 }));
	event_set_str(ev, f->process_guid, info ? info->guid : GUID_ZERO_TEXT);
	set_uint(ev, f->process_id, rec.tgid);
	event_set_str(ev, f->image, info ? info->image : "<unknown process>");
	/* the user of its ProcessCreate: one process, one User */
	event_set_str(ev, f->user, user_name(info ? info->uid : rec.uid));
	env->emit(env, ev);
	process_cache_exit(env->processes, rec.tgid, wall);
	return 0;
}

int process_decoder_decode(struct process_decoder *st, struct capture_env *env, const void *data,
			   size_t size)
{
	uint32_t kind;

	if (size < sizeof(kind))
		return -1;
	memcpy(&kind, data, sizeof(kind));
	if (kind == PROCESS_RECORD_EXEC)
		return decode_exec(st, env, data, size);
	if (kind == PROCESS_RECORD_EXIT)
		return decode_exit(st, env, data, size);
	return -1;
}
