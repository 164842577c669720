/*
 * The loader every source shares (interface: struct capture_loader in
 * capture.h): a source describes its skeleton (struct capture_object) and
 * its kernel-dependent choices (the prepare hook), and this file does the
 * rest of what loading one takes: its state and decoder, opening the
 * skeleton, the rodata every kernel half has (bpf/capture.bpf.h), the size
 * of its ring, the vmlinux BTF its choices are made from, the load itself
 * (capture_load(), which adopts a previous daemon's pins) and the ring's
 * and loss counters' descriptors for the reading loop.  The programs are
 * attached later, by the source's set_events().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capture/capture.h"

/* Size EVENTS to ENV's pages (at most MAX_PAGES when not 0), a power of
 * two as the kernel wants; returns the wake-up threshold: a quarter. */
static uint64_t configure_ring(struct bpf_map *events, const struct capture_env *env, unsigned max_pages)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned pages = env->ring_buffer_pages ? env->ring_buffer_pages : CAPTURE_DEFAULT_RING_PAGES;
	unsigned rounded = 1;

	if (max_pages && (!env->ring_buffer_pages || pages > max_pages))
		pages = max_pages;
	while (rounded < pages && rounded < (1u << 20))
		rounded <<= 1;
	size_t bytes = (size_t)rounded * page;
	bpf_map__set_max_entries(events, (uint32_t)bytes);
	return bytes / 4;
}

/* Configure, prepare and load LOADER's object OBJ, opened into STATE.
 * Returns 0, or -1 with ERR. */
static int load_object(const struct capture_loader *loader, void *state, const struct capture_env *env,
		       const struct capture_object *obj, struct strbuf *err)
{
	*obj->monitor_tgid = env->monitor_tgid;
	*obj->wakeup_bytes = configure_ring(obj->events, env, loader->max_ring_pages);

	struct btf *btf = btf__load_vmlinux_btf();
	*obj->kernel_has_rdonly_cast = capture_btf_has_kfunc(btf, "bpf_rdonly_cast");
	int prepared = loader->prepare ? loader->prepare(state, btf, err) : 0;
	btf__free(btf);
	if (prepared != 0)
		return -1;
	int rc = capture_load(obj->skeleton);
	if (rc != 0) {
		strbuf_printf(err, "the kernel refused the %s eBPF programs: %s", loader->what, strerror(-rc));
		return -1;
	}
	return 0;
}

int capture_load_source(const struct capture_loader *loader, const struct capture_env *env,
			struct capture_loaded *out, struct strbuf *err)
{
	void *state = xcalloc(1, loader->state_size);
	struct capture_object obj;

	if (!loader->open(state, env, &obj, err)) {
		if (!err->len)
			strbuf_printf(err, "opening the %s eBPF object failed: %s", loader->what, strerror(errno));
		loader->unload(state);
		return -1;
	}
	int rc = load_object(loader, state, env, &obj, err);
	if (rc != 0 && loader->retry && loader->retry(state, &obj)) {
		strbuf_reset(err);
		rc = load_object(loader, state, env, &obj, err);
	}
	if (rc != 0) {
		loader->unload(state);
		return -1;
	}
	out->state = state;
	out->ringbuf_fd = bpf_map__fd(obj.events);
	out->lost_fd = bpf_map__fd(obj.lost_events);
	return 0;
}

int capture_attach_each(struct bpf_program *const programs[], struct bpf_link *links[], size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (links[i] || !programs[i] || !bpf_program__autoload(programs[i]))
			continue;
		links[i] = bpf_program__attach(programs[i]);
		if (!links[i]) {
			int e = errno;
			capture_detach_each(links, count);
			errno = e;
			return -1;
		}
	}
	return 0;
}

void capture_detach_each(struct bpf_link *links[], size_t count)
{
	for (size_t i = 0; i < count; i++) {
		bpf_link__destroy(links[i]);
		links[i] = NULL;
	}
}

struct bpf_program *capture_twin_of(struct bpf_object *obj, const struct bpf_program *prog)
{
	char name[128];

	if (snprintf(name, sizeof(name), "%s_twin", bpf_program__name(prog)) >= (int)sizeof(name))
		return NULL;
	return bpf_object__find_program_by_name(obj, name);
}

void capture_twins_of(struct bpf_object *obj, struct bpf_program *programs[], size_t count)
{
	for (size_t i = 0; i < count; i++)
		programs[count + i] = capture_twin_of(obj, programs[i]);
}
