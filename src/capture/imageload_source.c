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
	struct bpf_link *fexit_links[2];   /* or ksys_mmap_pgoff's return, and its twin */
	struct imageload_decoder *decoder;
	/* the programs loaded: with bpf_loop, or the bounded ones; fexit[1]
	 * (the twin) NULL where the kernel does not preempt programs */
	struct bpf_program *exit_mmap, *sys_exit, *fexit[2];
	bool at_fexit;                  /* ksys_mmap_pgoff's return, no syscall hook */
};

static void detach(struct imageload_state *st)
{
	capture_detach_each(st->fexit_links, 2);
	bpf_link__destroy(st->link);
	bpf_link__destroy(st->enter_link);
	st->link = st->enter_link = NULL;
}

static void imageload_unload(void *state)
{
	struct imageload_state *st = state;

	detach(st);
	imageload_bpf__destroy(st->skel);
	imageload_decoder_free(st->decoder);
	free(st);
}

static bool imageload_open(void *state, const struct capture_env *env, struct capture_object *obj,
			   struct strbuf *err)
{
	struct imageload_state *st = state;

	(void)env;
	if (!(st->decoder = imageload_decoder_new(err)) || !(st->skel = imageload_bpf__open()))
		return false;
	*obj = CAPTURE_OBJECT(st->skel);
	return true;
}

/* Where fexit runs: ksys_mmap_pgoff's return (and its twin where the
 * kernel preempts programs), no syscall hook; else mmap's tracepoints, or
 * every syscall's exit.  Each with bpf_loop, or bounded loops without it. */
static int imageload_prepare(void *state, const struct btf *btf, struct strbuf *err)
{
	struct imageload_state *st = state;
	struct imageload_bpf *skel = st->skel;
	int ncpus = libbpf_num_possible_cpus();
	bool has_loop = capture_kernel_has_loop();
	struct bpf_program *fexit[2][2] = {
		{ skel->progs.mmap_return, skel->progs.mmap_return_twin },
		{ skel->progs.mmap_return_bounded, skel->progs.mmap_return_bounded_twin },
	};

	(void)err;
	/* a slot per CPU and twin */
	bpf_map__set_max_entries(skel->maps.load_scratch_map, 2 * (ncpus > 0 ? (uint32_t)ncpus : 1));
	st->at_fexit = capture_btf_has_kfunc(btf, "ksys_mmap_pgoff") &&
		       capture_kernel_has_fexit(btf, "ksys_mmap_pgoff");
	bool twins = st->at_fexit && capture_kernel_preempts_programs();

	skel->rodata->twin_programs = twins;
	for (int bounded = 0; bounded < 2; bounded++) {
		bool used = st->at_fexit && has_loop == !bounded;

		bpf_program__set_autoload(fexit[bounded][0], used);
		bpf_program__set_autoload(fexit[bounded][1], used && twins);
		if (used) {
			st->fexit[0] = fexit[bounded][0];
			st->fexit[1] = twins ? fexit[bounded][1] : NULL;
		}
	}
	st->exit_mmap = has_loop ? skel->progs.exit_mmap : skel->progs.exit_mmap_bounded;
	st->sys_exit = has_loop ? skel->progs.imageload_sys_exit : skel->progs.imageload_sys_exit_bounded;
	bpf_program__set_autoload(skel->progs.enter_mmap, !st->at_fexit);
	bpf_program__set_autoload(skel->progs.exit_mmap, !st->at_fexit && has_loop);
	bpf_program__set_autoload(skel->progs.imageload_sys_exit, !st->at_fexit && has_loop);
	bpf_program__set_autoload(skel->progs.exit_mmap_bounded, !st->at_fexit && !has_loop);
	bpf_program__set_autoload(skel->progs.imageload_sys_exit_bounded, !st->at_fexit && !has_loop);
	return 0;
}

static const struct capture_loader imageload_loader = {
	.what = "image-load",
	.state_size = sizeof(struct imageload_state),
	.open = imageload_open,
	.prepare = imageload_prepare,
	.unload = imageload_unload,
};

static int imageload_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct imageload_state *st = state;

	if (!(mask & CAPTURE_EVENT_BIT(IMAGELOAD_EVENT_ID))) {
		detach(st);
		return 0;
	}
	if (st->link || st->fexit_links[0])
		return 0;
	if (st->at_fexit) {
		if (capture_attach_each(st->fexit, st->fexit_links, 2) == 0)
			return 0;
		strbuf_printf(err, "attaching to fexit ksys_mmap_pgoff failed: %s", strerror(errno));
		return -1;
	}
	/* mmap's own tracepoints: no program runs for other syscalls (exit
	 * first: no entry recorded goes unseen) */
	if (capture_tracefs_available()) {
		st->link = bpf_program__attach(st->exit_mmap);
		if (st->link)
			st->enter_link = bpf_program__attach(st->skel->progs.enter_mmap);
		if (!st->enter_link)
			detach(st);
	}
	return capture_attach(st->sys_exit, &st->link, "mmap exit", err);
}

static int imageload_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct imageload_state *st = state;

	return imageload_decoder_decode(st->decoder, env, data, size);
}

static void imageload_describe(void *state, unsigned id, struct strbuf *out)
{
	const struct imageload_state *st = state;

	(void)id;
	if (st->fexit_links[0]) {
		strbuf_puts(out, st->fexit_links[1] ? "fexit ksys_mmap_pgoff, with a twin (this kernel preempts "
			     "eBPF programs)" : "fexit ksys_mmap_pgoff");
		return;
	}
	capture_describe_link(out, st->enter_link, st->skel->progs.enter_mmap);
	capture_describe_link(out, st->link, st->enter_link ? st->exit_mmap : st->sys_exit);
}

const struct capture_source imageload_source = {
	.name = "image load",
	.event_mask = CAPTURE_EVENT_BIT(IMAGELOAD_EVENT_ID),
	.loader = &imageload_loader,
	.set_events = imageload_set_events,
	.decode = imageload_decode,
	.describe = imageload_describe,
};
