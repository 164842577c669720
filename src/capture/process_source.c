/*
 * Loader of the process source (kernel half: bpf/process.bpf.c, records:
 * bpf/process.h, decoder: process_decode.c): loads and attaches the exec
 * and exit programs and hands their records to the decoder, which makes
 * ProcessCreate (1) and ProcessTerminate (5) events and keeps the process
 * cache up to date for every other source.
 *
 * Both hooks are attached whenever either id is wanted: a ProcessTerminate
 * needs the Image that only the exec saw, and exits keep the cache from
 * holding dead processes.  Each hook has a program and its twin
 * (process.bpf.c says why).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "bpf/process.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "process.skel.h"

/* a program and its twin */
#define PROCESS_PAIR 2

struct process_state {
	struct process_bpf *skel;
	struct bpf_link *exec_links[PROCESS_PAIR];
	struct bpf_link *exit_links[PROCESS_PAIR];
	/* the variants this kernel supports: handle_exec, or without
	 * bpf_loop handle_exec_bounded; handle_exit, or without group_dead
	 * handle_exit_live; each with its twin */
	struct bpf_program *exec_progs[PROCESS_PAIR];
	struct bpf_program *exit_progs[PROCESS_PAIR];
	struct process_decoder *decoder;
};

static void detach_all(struct process_state *st)
{
	capture_detach_each(st->exec_links, PROCESS_PAIR);
	capture_detach_each(st->exit_links, PROCESS_PAIR);
}

static void process_unload(void *state)
{
	struct process_state *st = state;

	detach_all(st);
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

/* Of the programs FIRST and SECOND (each with a twin) load FIRST if
 * USE_FIRST, else SECOND, and its twin if TWINS: into PAIR. */
static void choose_pair(struct bpf_object *obj, struct bpf_program *first, struct bpf_program *second,
			bool use_first, bool twins, struct bpf_program *pair[PROCESS_PAIR])
{
	struct bpf_program *chosen = use_first ? first : second;
	struct bpf_program *other = use_first ? second : first;

	pair[0] = chosen;
	pair[1] = twins ? capture_twin_of(obj, chosen) : NULL;
	bpf_program__set_autoload(chosen, true);
	bpf_program__set_autoload(capture_twin_of(obj, chosen), twins);
	bpf_program__set_autoload(other, false);
	bpf_program__set_autoload(capture_twin_of(obj, other), false);
}

/* The exec pair with bpf_loop (5.17) or the bounded-loop one before; the
 * exit pair that reads group_dead where sched_process_exit passes it (its
 * prototype then takes the task and group_dead), else the one that reads
 * signal->live; the twins only where the kernel preempts programs.  Each
 * exec program has a scratch slot per CPU. */
static int process_prepare(void *state, const struct btf *btf, struct strbuf *err)
{
	struct process_state *st = state;
	struct process_bpf *skel = st->skel;
	bool group_dead = capture_btf_tracepoint_args(btf, "sched_process_exit") >= 2;
	int ncpus = libbpf_num_possible_cpus();
	bool twins = capture_kernel_preempts_programs();

	(void)err;
	skel->rodata->twin_programs = twins;
	choose_pair(skel->obj, skel->progs.handle_exec, skel->progs.handle_exec_bounded, capture_kernel_has_loop(),
		    twins, st->exec_progs);
	choose_pair(skel->obj, skel->progs.handle_exit, skel->progs.handle_exit_live, group_dead, twins,
		    st->exit_progs);
	bpf_map__set_max_entries(skel->maps.exec_scratch_map, PROCESS_PAIR * (ncpus > 0 ? (uint32_t)ncpus : 1));
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
		detach_all(st);
		return 0;
	}
	/* exit first: no process seen exec'ing may then exit unseen */
	if (capture_attach_each(st->exit_progs, st->exit_links, PROCESS_PAIR) != 0) {
		strbuf_printf(err, "attaching to sched_process_exit failed: %s", strerror(errno));
		return -1;
	}
	if (capture_attach_each(st->exec_progs, st->exec_links, PROCESS_PAIR) != 0) {
		strbuf_printf(err, "attaching to sched_process_exec failed: %s", strerror(errno));
		detach_all(st);
		return -1;
	}
	return 0;
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
	capture_describe_link(out, st->exec_links[0], st->exec_progs[0]);
	capture_describe_link(out, st->exit_links[0], st->exit_progs[0]);
	if (st->exec_links[1])
		strbuf_puts(out, ", each with a twin (this kernel preempts eBPF programs)");
}

const struct capture_source process_source = {
	.name = "process",
	.event_mask = CAPTURE_EVENT_BIT(PROCESS_EVENT_CREATE) | CAPTURE_EVENT_BIT(PROCESS_EVENT_TERMINATE),
	.loader = &process_loader,
	.set_events = process_set_events,
	.decode = process_decode,
	.describe = process_describe,
};
