/*
 * Loader of the file source (kernel half: bpf/file.bpf.c, records:
 * bpf/file.h, decoder: file_decode.c, which says how records become
 * events): loads and attaches the file programs and hands their records to
 * the decoder, which makes FileCreateTime (2), RawAccessRead (9),
 * FileCreate (11), FileDelete (23) and FileDeleteDetected (26) events.
 * The event ids the config can log are written to the kernel half, which
 * then sends nothing else, and given to the decoder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/file.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "file.skel.h"

/* Tracepoints whose programs keep the per-call inode journal; a kernel
 * without one of them loads without its program. */
#define CTIME_TRACEPOINTS 3

static const char *const ctime_tracepoints[CTIME_TRACEPOINTS] = {
	"inode_set_ctime_to_ts", "ctime_xchg_skip", "ctime_ns_xchg",
};

struct file_state {
	struct file_bpf *skel;
	struct bpf_program *ctime_progs[CTIME_TRACEPOINTS];
	struct bpf_link *ctime_links[CTIME_TRACEPOINTS];
	struct bpf_link *exit_link;
	struct file_decoder *decoder;
};

static void detach_journal(struct file_state *st)
{
	for (int i = 0; i < CTIME_TRACEPOINTS; i++) {
		bpf_link__destroy(st->ctime_links[i]);
		st->ctime_links[i] = NULL;
	}
}

/* The journal programs first: every journal started must find sys_exit
 * attached to end it. */
static void detach_all(struct file_state *st)
{
	detach_journal(st);
	bpf_link__destroy(st->exit_link);
	st->exit_link = NULL;
}

static void free_state(struct file_state *st)
{
	detach_all(st);
	file_bpf__destroy(st->skel);
	file_decoder_free(st->decoder);
	free(st);
}

static int file_load(struct capture_env *env, struct capture_loaded *out, struct strbuf *err)
{
	struct file_state *st = xcalloc(1, sizeof(*st));

	st->decoder = file_decoder_new(err);
	if (!st->decoder) {
		free_state(st);
		return -1;
	}
	st->skel = file_bpf__open();
	if (!st->skel) {
		strbuf_printf(err, "opening the file eBPF object failed: %s", strerror(errno));
		free_state(st);
		return -1;
	}
	st->skel->rodata->monitor_tgid = env->monitor_tgid;
	st->skel->rodata->wakeup_bytes = capture_configure_ring(st->skel->maps.events, env);

	struct bpf_program *progs[CTIME_TRACEPOINTS] = {
		st->skel->progs.file_ctime_set, st->skel->progs.file_ctime_skip,
		st->skel->progs.file_ctime_xchg,
	};
	struct btf *btf = btf__load_vmlinux_btf();
	for (int i = 0; i < CTIME_TRACEPOINTS; i++) {
		if (capture_btf_has_tracepoint(btf, ctime_tracepoints[i]))
			st->ctime_progs[i] = progs[i];
		else
			bpf_program__set_autoload(progs[i], false);
	}
	btf__free(btf);

	int rc = file_bpf__load(st->skel);
	if (rc != 0) {
		strbuf_printf(err, "the kernel refused the file eBPF programs: %s", strerror(-rc));
		free_state(st);
		return -1;
	}
	capture_loaded_set(out, st, st->skel->maps.events, st->skel->maps.lost_events);
	return 0;
}

static int file_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct file_state *st = state;
	const uint32_t journaled = CAPTURE_EVENT_BIT(FILE_EVENT_CREATE_TIME) |
				   CAPTURE_EVENT_BIT(FILE_EVENT_CREATE) |
				   CAPTURE_EVENT_BIT(FILE_EVENT_DELETE) |
				   CAPTURE_EVENT_BIT(FILE_EVENT_DELETE_DETECTED);

	/* the kernel half drops what is not wanted before building anything */
	st->skel->bss->enabled_events = mask;
	file_decoder_set_events(st->decoder, mask);
	if (mask == 0) {
		detach_all(st);
		return 0;
	}
	/* sys_exit first: it ends every journal the ctime programs start */
	if (capture_attach(st->skel->progs.file_sys_exit, &st->exit_link, "sys_exit", err) != 0)
		goto fail;
	if (mask & journaled) {
		for (int i = 0; i < CTIME_TRACEPOINTS; i++)
			if (st->ctime_progs[i] &&
			    capture_attach(st->ctime_progs[i], &st->ctime_links[i], ctime_tracepoints[i], err) != 0)
				goto fail;
	} else {
		detach_journal(st);
	}
	return 0;
fail:
	st->skel->bss->enabled_events = 0;
	file_decoder_set_events(st->decoder, 0);
	detach_all(st);
	return -1;
}

static int file_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct file_state *st = state;

	return file_decoder_decode(st->decoder, env, data, size);
}

static void file_unload(void *state)
{
	free_state(state);
}

static void file_describe(void *state, unsigned id, struct strbuf *out)
{
	const struct file_state *st = state;

	(void)id;
	capture_describe_link(out, st->exit_link, st->skel->progs.file_sys_exit);
	for (int i = 0; i < CTIME_TRACEPOINTS; i++)
		capture_describe_link(out, st->ctime_links[i], st->ctime_progs[i]);
}

const struct capture_source file_source = {
	.name = "file",
	.event_mask = CAPTURE_EVENT_BIT(FILE_EVENT_CREATE_TIME) | CAPTURE_EVENT_BIT(FILE_EVENT_RAW_ACCESS) |
		      CAPTURE_EVENT_BIT(FILE_EVENT_CREATE) | CAPTURE_EVENT_BIT(FILE_EVENT_DELETE) |
		      CAPTURE_EVENT_BIT(FILE_EVENT_DELETE_DETECTED),
	.helpers = CAPTURE_HELPER_TASK_BTF | CAPTURE_HELPER_TASK_PT_REGS | CAPTURE_HELPER_LOOP,
	.load = file_load,
	.set_events = file_set_events,
	.decode = file_decode,
	.unload = file_unload,
	.describe = file_describe,
};
