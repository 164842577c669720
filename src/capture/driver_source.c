/*
 * Loader of the driver source (kernel half: bpf/driver.bpf.c, records:
 * bpf/driver.h, decoder: driver_decode.c): DriverLoad (6), a kernel module
 * loaded.
 *
 * A kernel built without module support has no module_load tracepoint:
 * DriverLoad is then reported unavailable and nothing is loaded.
 */
#include <stdlib.h>

#include <linux/types.h>
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

static void driver_unload(void *state)
{
	struct driver_state *st = state;

	bpf_link__destroy(st->link);
	driver_bpf__destroy(st->skel);
	driver_decoder_free(st->decoder);
	free(st);
}

static bool driver_open(void *state, const struct capture_env *env, struct capture_object *obj,
			struct strbuf *err)
{
	struct driver_state *st = state;

	(void)env;
	if (!(st->decoder = driver_decoder_new(err)) || !(st->skel = driver_bpf__open()))
		return false;
	*obj = CAPTURE_OBJECT(st->skel);
	return true;
}

/* A kernel without a module_load tracepoint (BTF type btf_trace_module_load)
 * has no modules to load. */
static int driver_prepare(void *state, const struct btf *btf, struct strbuf *err)
{
	(void)state;
	if (capture_btf_has_tracepoint(btf, "module_load"))
		return 0;
	strbuf_puts(err, "kernel built without module support");
	return -1;
}

static const struct capture_loader driver_loader = {
	.what = "driver",
	.max_ring_pages = DRIVER_RING_PAGES,
	.state_size = sizeof(struct driver_state),
	.open = driver_open,
	.prepare = driver_prepare,
	.unload = driver_unload,
};

static int driver_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct driver_state *st = state;

	if (!(mask & CAPTURE_EVENT_BIT(DRIVER_EVENT_ID))) {
		bpf_link__destroy(st->link);
		st->link = NULL;
		return 0;
	}
	return capture_attach(st->skel->progs.handle_module_load, &st->link, "module_load", err);
}

static int driver_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct driver_state *st = state;

	return driver_decoder_decode(st->decoder, env, data, size);
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
	.loader = &driver_loader,
	.set_events = driver_set_events,
	.decode = driver_decode,
	.describe = driver_describe,
};
