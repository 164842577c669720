/*
 * Loader of the process source (kernel half: bpf/process.bpf.c, records:
 * bpf/process.h, decoder: process_decode.c): loads and attaches the exec
 * and exit programs and hands their records to the decoder, which makes
 * ProcessCreate (1) and ProcessTerminate (5) events and keeps the process
 * cache up to date for every other source.
 *
 * Both programs are attached whenever either id is wanted: a
 * ProcessTerminate needs the Image that only the exec saw, and exits keep
 * the cache from holding dead processes.
 */
#include <stdlib.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "bpf/process.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "process.skel.h"

struct process_state {
	struct process_bpf *skel;
	struct bpf_link *exec_link;
	struct bpf_link *exit_link;
	struct bpf_program *exit_prog;   /* the variant this kernel supports */
	struct process_decoder *decoder;
	struct bpf_program *exec_prog;   /* handle_exec, or without bpf_loop handle_exec_bounded */
};

static void process_unload(void *state)
{
	struct process_state *st = state;

	bpf_link__destroy(st->exec_link);
	bpf_link__destroy(st->exit_link);
	process_bpf__destroy(st->skel);
	process_decoder_free(st->decoder);
	free(st);
}

static bool process_open(void *state, const struct capture_env *env, struct capture_object *obj,
			 struct strbuf *err)
{
	struct process_state *st = state;

	(void)env;
	if (!(st->decoder = process_decoder_new(err)) || !(st->skel = process_bpf__open()))
		return false;
	*obj = CAPTURE_OBJECT(st->skel);
	return true;
}

/* The exec program with bpf_loop (5.17) or the bounded-loop one before;
 * the exit program that reads group_dead where sched_process_exit passes it
 * (its prototype then takes the task and group_dead), else the one that
 * reads signal->live. */
static int process_prepare(void *state, const struct btf *btf, struct strbuf *err)
{
	struct process_state *st = state;
	bool has_loop = capture_kernel_has_loop();
	bool group_dead = capture_btf_tracepoint_args(btf, "sched_process_exit") >= 2;
	int ncpus = libbpf_num_possible_cpus();

	(void)err;
	st->exec_prog = has_loop ? st->skel->progs.handle_exec : st->skel->progs.handle_exec_bounded;
	bpf_program__set_autoload(st->skel->progs.handle_exec, has_loop);
	bpf_program__set_autoload(st->skel->progs.handle_exec_bounded, !has_loop);
	st->exit_prog = group_dead ? st->skel->progs.handle_exit : st->skel->progs.handle_exit_live;
	bpf_program__set_autoload(st->skel->progs.handle_exit, group_dead);
	bpf_program__set_autoload(st->skel->progs.handle_exit_live, !group_dead);
	bpf_map__set_max_entries(st->skel->maps.exec_scratch_map, ncpus > 0 ? (uint32_t)ncpus : 1);
	return 0;
}

static const struct capture_loader process_loader = {
	.what = "process",
	.state_size = sizeof(struct process_state),
	.open = process_open,
	.prepare = process_prepare,
	.unload = process_unload,
};

static int process_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct process_state *st = state;

	if (mask == 0) {
		bpf_link__destroy(st->exec_link);
		bpf_link__destroy(st->exit_link);
		st->exec_link = st->exit_link = NULL;
		return 0;
	}
	/* exit first: no process seen exec'ing may then exit unseen */
	if (capture_attach(st->exit_prog, &st->exit_link, "sched_process_exit", err) != 0)
		return -1;
	return capture_attach(st->exec_prog, &st->exec_link, "sched_process_exec", err);
}

static int process_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct process_state *st = state;

	return process_decoder_decode(st->decoder, env, data, size);
}

static void process_describe(void *state, unsigned id, struct strbuf *out)
{
	const struct process_state *st = state;

	(void)id;
	capture_describe_link(out, st->exec_link, st->exec_prog);
	capture_describe_link(out, st->exit_link, st->exit_prog);
}

const struct capture_source process_source = {
	.name = "process",
	.event_mask = CAPTURE_EVENT_BIT(PROCESS_EVENT_CREATE) | CAPTURE_EVENT_BIT(PROCESS_EVENT_TERMINATE),
	.loader = &process_loader,
	.set_events = process_set_events,
	.decode = process_decode,
	.describe = process_describe,
};
