/*
 * Loader of the image-load source (kernel half: bpf/imageload.bpf.c,
 * records: bpf/imageload.h, decoder: imageload_decode.c): ImageLoad (7), a
 * file mapped executable into a process.
 *
 * Off unless the config can log ImageLoad, as in Sysmon (the programs are
 * attached only then).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "bpf/imageload.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "imageload.skel.h"

struct imageload_state {
	struct imageload_bpf *skel;
	struct bpf_link *link;          /* exit of mmap, or of every syscall */
	struct bpf_link *enter_link;    /* entry of mmap, with the former */
	struct imageload_decoder *decoder;
};

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
	imageload_decoder_free(st->decoder);
	free(st);
}

static int imageload_load(struct capture_env *env, struct capture_loaded *out, struct strbuf *err)
{
	struct imageload_state *st = xcalloc(1, sizeof(*st));

	st->decoder = imageload_decoder_new(err);
	if (!st->decoder) {
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
	int rc = capture_load(st->skel->skeleton);
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

	return imageload_decoder_decode(st->decoder, env, data, size);
}

static void imageload_unload(void *state)
{
	free_state(state);
}

static void imageload_describe(void *state, unsigned id, struct strbuf *out)
{
	const struct imageload_state *st = state;

	(void)id;
	capture_describe_link(out, st->enter_link, st->skel->progs.enter_mmap);
	capture_describe_link(out, st->link, st->enter_link ? st->skel->progs.exit_mmap
							   : st->skel->progs.imageload_sys_exit);
}

const struct capture_source imageload_source = {
	.name = "image load",
	.event_mask = CAPTURE_EVENT_BIT(IMAGELOAD_EVENT_ID),
	.helpers = CAPTURE_HELPER_TASK_BTF | CAPTURE_HELPER_TASK_PT_REGS | CAPTURE_HELPER_LOOP,
	.load = imageload_load,
	.set_events = imageload_set_events,
	.decode = imageload_decode,
	.unload = imageload_unload,
	.describe = imageload_describe,
};
