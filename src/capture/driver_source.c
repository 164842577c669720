/*
 * Loader of the driver source (kernel half: bpf/driver.bpf.c, records:
 * bpf/driver.h, decoder: driver_decode.c): DriverLoad (6), a kernel module
 * loaded.
 *
 * A kernel built without module support has no module_load tracepoint:
 * DriverLoad is then reported unavailable and nothing is loaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/driver.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "driver.skel.h"

/* Ring buffer size in pages, unless the admin asked for less: module loads
 * are rare, so 64 KiB. */
#define DRIVER_RING_PAGES 16

struct driver_state {
	struct driver_bpf *skel;
	struct bpf_link *link;
	struct driver_decoder *decoder;
};

static void free_state(struct driver_state *st)
{
	bpf_link__destroy(st->link);
	driver_bpf__destroy(st->skel);
	driver_decoder_free(st->decoder);
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

	st->decoder = driver_decoder_new(err);
	if (!st->decoder) {
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
	int rc = capture_load(st->skel->skeleton);
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

static int driver_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct driver_state *st = state;

	return driver_decoder_decode(st->decoder, env, data, size);
}

static void driver_unload(void *state)
{
	free_state(state);
}

static void driver_describe(void *state, unsigned id, struct strbuf *out)
{
	const struct driver_state *st = state;

	(void)id;
	capture_describe_link(out, st->link, st->skel->progs.handle_module_load);
}

const struct capture_source driver_source = {
	.name = "driver",
	.event_mask = CAPTURE_EVENT_BIT(DRIVER_EVENT_ID),
	.load = driver_load,
	.set_events = driver_set_events,
	.decode = driver_decode,
	.unload = driver_unload,
	.describe = driver_describe,
};
