/*
 * User half of the driver source (kernel half: bpf/driver.bpf.c, records:
 * bpf/driver.h): DriverLoad (6), a kernel module loaded.
 *
 * The kernel names the module; its file is looked up in the running
 * kernel's modules.dep (/lib/modules/RELEASE/), so ImageLoaded is that
 * file's path, or the module's name for a module loaded from elsewhere
 * (insmod of a file outside the tree).  Hashes per HashAlgorithms of that
 * file.  Signed/Signature/SignatureStatus from the file's appended
 * signature (enrich/modsig.h) when it is an uncompressed .ko; otherwise
 * from the kernel's own verdict where it checks signatures
 * (CONFIG_MODULE_SIG: "Valid" or "Unsigned", Signature "-"), else
 * "false", "-", "Unavailable".
 *
 * A kernel built without module support has no module_load tracepoint:
 * DriverLoad is then reported unavailable and nothing is loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <linux/types.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/driver.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "enrich/guid.h"
#include "enrich/modsig.h"
#include "driver.skel.h"

/* Ring buffer size in pages, unless the admin asked for less: module loads
 * are rare, so 64 KiB. */
#define DRIVER_RING_PAGES 16

struct driver_fields {
	int utc_time, image_loaded, hashes, is_signed, signature, signature_status;
};

struct driver_state {
	struct driver_bpf *skel;
	struct bpf_link *link;
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

static void free_state(struct driver_state *st)
{
	bpf_link__destroy(st->link);
	driver_bpf__destroy(st->skel);
	event_free(&st->ev);
	strbuf_release(&st->path);
	free(st);
}

/* Has this kernel a module_load tracepoint (BTF type btf_trace_module_load)? */
static bool kernel_has_modules(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (!btf)
		return false;
	found = capture_btf_has_tracepoint(btf, "module_load");
	btf__free(btf);
	return found;
}

static int driver_load(struct capture_env *env, struct capture_loaded *out, struct strbuf *err)
{
	if (!kernel_has_modules()) {
		strbuf_puts(err, "kernel built without module support");
		return -1;
	}
	struct driver_state *st = xcalloc(1, sizeof(*st));

	event_init(&st->ev);
	if (resolve_fields(&st->fields, err) != 0) {
		free_state(st);
		return -1;
	}
	st->skel = driver_bpf__open();
	if (!st->skel) {
		strbuf_printf(err, "opening the driver eBPF object failed: %s", strerror(errno));
		free_state(st);
		return -1;
	}
	st->skel->rodata->monitor_tgid = env->monitor_tgid;
	struct capture_env ring = *env;
	if (!ring.ring_buffer_pages || ring.ring_buffer_pages > DRIVER_RING_PAGES)
		ring.ring_buffer_pages = DRIVER_RING_PAGES;
	st->skel->rodata->wakeup_bytes = capture_configure_ring(st->skel->maps.events, &ring);
	int rc = driver_bpf__load(st->skel);
	if (rc != 0) {
		strbuf_printf(err, "the kernel refused the driver eBPF program: %s", strerror(-rc));
		free_state(st);
		return -1;
	}
	capture_loaded_set(out, st, st->skel->maps.events, st->skel->maps.lost_events);
	return 0;
}

static int driver_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct driver_state *st = state;

	if (!(mask & CAPTURE_EVENT_BIT(DRIVER_EVENT_ID))) {
		bpf_link__destroy(st->link);
		st->link = NULL;
		return 0;
	}
	if (!st->link)
		st->link = bpf_program__attach(st->skel->progs.handle_module_load);
	if (!st->link) {
		strbuf_printf(err, "attaching to the module_load tracepoint failed: %s", strerror(errno));
		return -1;
	}
	return 0;
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

static int driver_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct driver_state *st = state;
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
	bool parsed = have_file && ends_with(st->path.data, ".ko") &&
		      modsig_parse_file(st->path.data, &sig, &err) == 0;
	strbuf_release(&err);

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

static void driver_unload(void *state)
{
	free_state(state);
}

const struct capture_source driver_source = {
	.name = "driver",
	.event_mask = CAPTURE_EVENT_BIT(DRIVER_EVENT_ID),
	.load = driver_load,
	.set_events = driver_set_events,
	.decode = driver_decode,
	.unload = driver_unload,
};
