/*
 * Decoder of the image-load source (loader: imageload_source.c, records:
 * bpf/imageload.h): ImageLoad (7), a file mapped executable into a process
 * (a shared library loaded by ld.so or dlopen).
 *
 * ImageLoaded is the path the kernel walked from the mapped file; Hashes
 * per HashAlgorithms from the hash cache (by file identity, so a library is
 * hashed once however many processes load it); the PE version fields are
 * "-"; Signed "false", Signature "-" and SignatureStatus "Unavailable": ELF
 * libraries carry no signature.
 */
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "bpf/imageload.h"
#include "capture/decode.h"
#include "enrich/guid.h"
#include "enrich/users.h"

struct imageload_fields {
	int utc_time, process_guid, process_id, image, image_loaded, file_version, description,
	    product, company, original_file_name, hashes, is_signed, signature, signature_status,
	    user;
};

struct imageload_decoder {
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

struct imageload_decoder *imageload_decoder_new(struct strbuf *err)
{
	struct imageload_decoder *st = xcalloc(1, sizeof(*st));

	event_init(&st->ev);
	if (resolve_fields(&st->fields, err) != 0) {
		imageload_decoder_free(st);
		return NULL;
	}
	return st;
}

void imageload_decoder_free(struct imageload_decoder *st)
{
	if (!st)
		return;
	event_free(&st->ev);
	strbuf_release(&st->path);
	free(st);
}

int imageload_decoder_decode(struct imageload_decoder *st, struct capture_env *env, const void *data,
			     size_t size)
{
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
