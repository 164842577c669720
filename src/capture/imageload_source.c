/*
 * User half of the image-load source (kernel half: bpf/imageload.bpf.c,
 * records: bpf/imageload.h): ImageLoad (7), a file mapped executable into
 * a process (a shared library loaded by ld.so or dlopen).
 *
 * Off unless the config can log ImageLoad, as in Sysmon (the programs are
 * attached only then).  ImageLoaded is the path the kernel walked from the
 * mapped file; Hashes per HashAlgorithms from the hash cache (by file
 * identity, so a library is hashed once however many processes load it);
 * the PE version fields are "-"; Signed "false", Signature "-" and
 * SignatureStatus "Unavailable": ELF libraries carry no signature.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "bpf/imageload.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "enrich/guid.h"
#include "enrich/users.h"
#include "imageload.skel.h"

struct imageload_fields {
	int utc_time, process_guid, process_id, image, image_loaded, file_version, description,
	    product, company, original_file_name, hashes, is_signed, signature, signature_status,
	    user;
};

struct imageload_state {
	struct imageload_bpf *skel;
	struct bpf_link *link;          /* exit of mmap, or of every syscall */
	struct bpf_link *enter_link;    /* entry of mmap, with the former */
	struct imageload_fields fields;
	struct event ev;
	struct strbuf path;
};

static int resolve_fields(struct imageload_fields *f, struct strbuf *err)
{
	const struct capture_field_slot slots[] = {
		{ "UtcTime", &f->utc_time }, { "ProcessGuid", &f->process_guid },
		{ "ProcessId", &f->process_id }, { "Image", &f->image },
		{ "ImageLoaded", &f->image_loaded }, { "FileVersion", &f->file_version },
		{ "Description", &f->description }, { "Product", &f->product },
		{ "Company", &f->company }, { "OriginalFileName", &f->original_file_name },
		{ "Hashes", &f->hashes }, { "Signed", &f->is_signed }, { "Signature", &f->signature },
		{ "SignatureStatus", &f->signature_status }, { "User", &f->user },
	};

	return CAPTURE_RESOLVE_FIELDS(IMAGELOAD_EVENT_ID, slots, err);
}

static void detach(struct imageload_state *st)
{
	bpf_link__destroy(st->link);
	bpf_link__destroy(st->enter_link);
	st->link = st->enter_link = NULL;
}

static void free_state(struct imageload_state *st)
{
	detach(st);
	imageload_bpf__destroy(st->skel);
	event_free(&st->ev);
	strbuf_release(&st->path);
	free(st);
}

static int imageload_load(struct capture_env *env, struct capture_loaded *out, struct strbuf *err)
{
	struct imageload_state *st = xcalloc(1, sizeof(*st));

	event_init(&st->ev);
	if (resolve_fields(&st->fields, err) != 0) {
		free_state(st);
		return -1;
	}
	st->skel = imageload_bpf__open();
	if (!st->skel) {
		strbuf_printf(err, "opening the image-load eBPF object failed: %s", strerror(errno));
		free_state(st);
		return -1;
	}
	st->skel->rodata->monitor_tgid = env->monitor_tgid;
	st->skel->rodata->wakeup_bytes = capture_configure_ring(st->skel->maps.events, env);
	int ncpus = libbpf_num_possible_cpus();
	bpf_map__set_max_entries(st->skel->maps.load_scratch_map, ncpus > 0 ? (uint32_t)ncpus : 1);
	int rc = imageload_bpf__load(st->skel);
	if (rc != 0) {
		strbuf_printf(err, "the kernel refused the image-load eBPF programs: %s", strerror(-rc));
		free_state(st);
		return -1;
	}
	capture_loaded_set(out, st, st->skel->maps.events, st->skel->maps.lost_events);
	return 0;
}

static int imageload_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct imageload_state *st = state;

	if (!(mask & CAPTURE_EVENT_BIT(IMAGELOAD_EVENT_ID))) {
		detach(st);
		return 0;
	}
	if (st->link)
		return 0;
	/* mmap's own tracepoints: no program runs for other syscalls (exit
	 * first: no entry recorded goes unseen) */
	if (capture_tracefs_available()) {
		st->link = bpf_program__attach(st->skel->progs.exit_mmap);
		if (st->link)
			st->enter_link = bpf_program__attach(st->skel->progs.enter_mmap);
		if (!st->enter_link)
			detach(st);
	}
	if (!st->link)
		st->link = bpf_program__attach(st->skel->progs.imageload_sys_exit);
	if (!st->link) {
		strbuf_printf(err, "attaching to the mmap exit tracepoint failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int imageload_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct imageload_state *st = state;
	const struct imageload_fields *f = &st->fields;
	struct imageload_record rec;

	if (size < sizeof(rec))
		return -1;
	memcpy(&rec, data, sizeof(rec));
	if (rec.path_len > size - sizeof(rec))
		return -1;
	strbuf_reset(&st->path);
	if (rec.flags & IMAGELOAD_PATH_PARTIAL)
		strbuf_putc(&st->path, '+');
	strbuf_append(&st->path, (const char *)data + sizeof(rec), rec.path_len);

	const struct process_info *info = capture_lookup_process(env, rec.tgid);
	char comm[CAPTURE_COMM_SIZE + 1];
	unsigned algorithms = env->config ? env->config->hash_algorithms : HASH_SHA256;
	const char *path = strbuf_str(&st->path);
	const char *hashes = path[0] == '/' ? hash_cache_get(env->hashes, path, algorithms) : "-";

	struct event *ev = &st->ev;
	event_reset(ev, IMAGELOAD_EVENT_ID);
	capture_set_utctime(ev, f->utc_time, rec.boot_ns);
	event_set_str(ev, f->process_guid, info ? info->guid : GUID_ZERO_TEXT);
	event_setf(ev, f->process_id, "%u", rec.tgid);
	event_set_str(ev, f->image, capture_image_of(info, rec.comm, comm));
	event_set(ev, f->image_loaded, path, st->path.len);
	event_set_str(ev, f->file_version, "-");
	event_set_str(ev, f->description, "-");
	event_set_str(ev, f->product, "-");
	event_set_str(ev, f->company, "-");
	event_set_str(ev, f->original_file_name, "-");
	event_set_str(ev, f->hashes, hashes);
	event_set_str(ev, f->is_signed, "false");
	event_set_str(ev, f->signature, "-");
	event_set_str(ev, f->signature_status, "Unavailable");
	event_set_str(ev, f->user, user_name(rec.uid));
	env->emit(env, ev);
	return 0;
}

static void imageload_unload(void *state)
{
	free_state(state);
}

const struct capture_source imageload_source = {
	.name = "image load",
	.event_mask = CAPTURE_EVENT_BIT(IMAGELOAD_EVENT_ID),
	.load = imageload_load,
	.set_events = imageload_set_events,
	.decode = imageload_decode,
	.unload = imageload_unload,
};
