/*
 * Decoder of the driver source (loader: driver_source.c, records:
 * bpf/driver.h): DriverLoad (6), a kernel module loaded.
 *
 * The kernel names the module; its file is looked up in the running
 * kernel's modules.dep (/lib/modules/RELEASE/), so ImageLoaded is that
 * file's path, or the module's name for a module loaded from elsewhere
 * (insmod of a file outside the tree, also one named as a tree module
 * whose signature the kernel refused while the tree's file has a good
 * one).  Hashes per HashAlgorithms of that file.
 * Signed/Signature/SignatureStatus from the file's appended signature
 * (enrich/modsig.h) when it is a .ko or a .ko.xz; otherwise
 * from the kernel's own verdict where it checks signatures
 * (CONFIG_MODULE_SIG: "Valid" or "Unsigned", Signature "-"), else
 * "false", "-", "Unavailable".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <linux/types.h>

#include "bpf/driver.h"
#include "capture/decode.h"
#include "enrich/guid.h"
#include "enrich/modsig.h"

struct driver_fields {
	int utc_time, image_loaded, hashes, is_signed, signature, signature_status;
};

struct driver_decoder {
	struct driver_fields fields;
	struct event ev;
	struct strbuf path;
};

static int resolve_fields(struct driver_fields *f, struct strbuf *err)
{
	const struct capture_field_slot slots[] = {
		{ "UtcTime", &f->utc_time }, { "ImageLoaded", &f->image_loaded },
		{ "Hashes", &f->hashes }, { "Signed", &f->is_signed },
		{ "Signature", &f->signature }, { "SignatureStatus", &f->signature_status },
	};

	return CAPTURE_RESOLVE_FIELDS(DRIVER_EVENT_ID, slots, err);
}

struct driver_decoder *driver_decoder_new(struct strbuf *err)
{
	struct driver_decoder *st = xcalloc(1, sizeof(*st));

	event_init(&st->ev);
	if (resolve_fields(&st->fields, err) != 0) {
		driver_decoder_free(st);
		return NULL;
	}
	return st;
}

void driver_decoder_free(struct driver_decoder *st)
{
	if (!st)
		return;
	event_free(&st->ev);
	strbuf_release(&st->path);
	free(st);
}

/* Do module names A (a file's base name up to its first '.') and B name
 * one module?  The kernel treats '-' and '_' alike. */
static bool same_module(const char *a, size_t a_len, const char *b)
{
	size_t i = 0;

	for (; i < a_len && b[i]; i++) {
		char x = a[i] == '-' ? '_' : a[i];
		char y = b[i] == '-' ? '_' : b[i];
		if (x != y)
			return false;
	}
	return i == a_len && b[i] == '\0';
}

/* The file of module NAME from modules.dep into OUT; false if not there. */
static bool find_module_file(const char *name, struct strbuf *out)
{
	struct utsname uts;
	char dir[512], dep[600];
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (uname(&uts) != 0)
		return false;
	snprintf(dir, sizeof(dir), "/lib/modules/%s", uts.release);
	snprintf(dep, sizeof(dep), "%s/modules.dep", dir);
	FILE *f = fopen(dep, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		const char *base = strrchr(line, '/');
		base = base ? base + 1 : line;
		size_t stem = strcspn(base, ".");
		if (same_module(base, stem, name)) {
			strbuf_reset(out);
			if (line[0] != '/')
				strbuf_printf(out, "%s/", dir);
			strbuf_puts(out, line);
			found = true;
		}
	}
	free(line);
	fclose(f);
	return found;
}

static bool ends_with(const char *text, const char *suffix)
{
	size_t n = strlen(text), m = strlen(suffix);

	return n >= m && strcmp(text + n - m, suffix) == 0;
}

int driver_decoder_decode(struct driver_decoder *st, struct capture_env *env, const void *data, size_t size)
{
	const struct driver_fields *f = &st->fields;
	struct driver_record rec;
	char name[DRIVER_NAME_MAX + 1];

	if (size < sizeof(rec))
		return -1;
	memcpy(&rec, data, sizeof(rec));
	memcpy(name, rec.name, DRIVER_NAME_MAX);
	name[DRIVER_NAME_MAX] = '\0';
	if (!name[0])
		return -1;

	bool have_file = find_module_file(name, &st->path);
	unsigned algorithms = env->config ? env->config->hash_algorithms : HASH_SHA256;
	struct modsig_info sig = { .status = MODSIG_UNSIGNED };
	struct strbuf err = STRBUF_INIT;
	bool parsed = have_file &&
		      ((ends_with(st->path.data, ".ko") && modsig_parse_file(st->path.data, &sig, &err) == 0) ||
		       (ends_with(st->path.data, ".ko.xz") && modsig_parse_xz_file(st->path.data, &sig, &err) == 0));
	strbuf_release(&err);
	/* The kernel refused the signature of a module whose file in the tree
	 * has a good one: what was loaded is another file of that name (an
	 * insmod of an unsigned copy); say what the kernel saw, not the tree. */
	if (parsed && sig.status == MODSIG_VALID && (rec.flags & DRIVER_SIG_KNOWN) && !(rec.flags & DRIVER_SIG_OK))
		have_file = parsed = false;

	struct event *ev = &st->ev;
	event_reset(ev, DRIVER_EVENT_ID);
	capture_set_utctime(ev, f->utc_time, rec.boot_ns);
	event_set_str(ev, f->image_loaded, have_file ? st->path.data : name);
	event_set_str(ev, f->hashes, have_file ? hash_cache_get(env->hashes, st->path.data, algorithms) : "-");
	if (parsed) {
		event_set_str(ev, f->is_signed, sig.status == MODSIG_VALID ? "true" : "false");
		event_set_str(ev, f->signature, sig.signer[0] ? sig.signer : "-");
		event_set_str(ev, f->signature_status, modsig_status_text(sig.status));
	} else if (rec.flags & DRIVER_SIG_KNOWN) {
		bool ok = rec.flags & DRIVER_SIG_OK;
		event_set_str(ev, f->is_signed, ok ? "true" : "false");
		event_set_str(ev, f->signature, "-");
		event_set_str(ev, f->signature_status, ok ? "Valid" : "Unsigned");
	} else {
		event_set_str(ev, f->is_signed, "false");
		event_set_str(ev, f->signature, "-");
		event_set_str(ev, f->signature_status, "Unavailable");
	}
	env->emit(env, ev);
	return 0;
}
