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
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/btf.h>
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

static void free_state(struct process_state *st)
{
	bpf_link__destroy(st->exec_link);
	bpf_link__destroy(st->exit_link);
	process_bpf__destroy(st->skel);
	process_decoder_free(st->decoder);
	free(st);
}

/* Does this kernel's sched_process_exit tracepoint pass group_dead?  Its
 * BTF prototype then has three parameters (context, task, group_dead). */
static bool exit_has_group_dead(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found = false;

	if (!btf)
		return false;
	int id = btf__find_by_name_kind(btf, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
	if (id > 0) {
		const struct btf_type *type = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
		if (type && btf_is_ptr(type)) {
			type = btf__type_by_id(btf, type->type);
			found = type && btf_is_func_proto(type) && btf_vlen(type) >= 3;
		}
	}
	btf__free(btf);
	return found;
}

static int process_load(struct capture_env *env, struct capture_loaded *out, struct strbuf *err)
{
	struct process_state *st = xcalloc(1, sizeof(*st));

	st->decoder = process_decoder_new(err);
	if (!st->decoder) {
		free_state(st);
		return -1;
	}
	st->skel = process_bpf__open();
	if (!st->skel) {
		strbuf_printf(err, "opening the process eBPF object failed: %s", strerror(errno));
		free_state(st);
		return -1;
	}
	st->skel->rodata->monitor_tgid = env->monitor_tgid;
	st->skel->rodata->wakeup_bytes = capture_configure_ring(st->skel->maps.events, env);
	/* bpf_loop since 5.17; the bounded-loop program before */
	bool has_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, NULL) == 1;
	st->exec_prog = has_loop ? st->skel->progs.handle_exec : st->skel->progs.handle_exec_bounded;
	bpf_program__set_autoload(st->skel->progs.handle_exec, has_loop);
	bpf_program__set_autoload(st->skel->progs.handle_exec_bounded, !has_loop);
	if (exit_has_group_dead()) {
		st->exit_prog = st->skel->progs.handle_exit;
		bpf_program__set_autoload(st->skel->progs.handle_exit_live, false);
	} else {
		st->exit_prog = st->skel->progs.handle_exit_live;
		bpf_program__set_autoload(st->skel->progs.handle_exit, false);
	}
	int ncpus = libbpf_num_possible_cpus();
	bpf_map__set_max_entries(st->skel->maps.exec_scratch_map, ncpus > 0 ? (uint32_t)ncpus : 1);
	int rc = capture_load(st->skel->skeleton);
	if (rc != 0) {
		strbuf_printf(err, "the kernel refused the process eBPF programs: %s", strerror(-rc));
		free_state(st);
		return -1;
	}
	capture_loaded_set(out, st, st->skel->maps.events, st->skel->maps.lost_events);
	return 0;
}

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

static void process_unload(void *state)
{
	free_state(state);
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
	.event_mask = CAPTURE_EVENT_BIT(EVENT_PROCESS_CREATE) | CAPTURE_EVENT_BIT(EVENT_PROCESS_TERMINATE),
	.load = process_load,
	.set_events = process_set_events,
	.decode = process_decode,
	.unload = process_unload,
	.describe = process_describe,
};
