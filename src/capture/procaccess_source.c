/*
 * Loader of the process-access source (kernel half: bpf/procaccess.bpf.c,
 * records: bpf/procaccess.h, decoder: procaccess_decode.c): loads and
 * attaches the programs and hands their records to the decoder, which
 * makes ProcessAccess (10), CreateRemoteThread (8) and ProcessTampering
 * (25) events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/procaccess.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "procaccess.skel.h"

/* ptrace, process_vm_readv, process_vm_writev, openat, openat2, open */
#define PROCACCESS_SYSCALLS 6

/* Ring buffer size in pages, unless the admin asked for less: process
 * accesses are rare next to execs and file events (a repeat is sent once a
 * second), so 2 MiB. */
#define PROCACCESS_RING_PAGES 512

/* The fexit programs (procaccess.bpf.c) and the kernel functions each may
 * attach to, first found wins; a program whose functions this kernel lacks
 * is not loaded.  REQUIRED: without it the syscall tracepoints are used. */
struct fexit_target {
	bool required;
	const char *functions[2];
};
#define FEXIT_PROGRAMS 9
#if defined(__x86_64__)
static const struct fexit_target fexit_targets[FEXIT_PROGRAMS] = {
	{ true, { "__x64_sys_ptrace" } },
	{ true, { "__x64_sys_process_vm_readv" } },
	{ true, { "__x64_sys_process_vm_writev" } },
	/* the ia32 table's entries; which of the process_vm_* two it names
	 * depends on the kernel: both are watched where both exist */
	{ false, { "__ia32_compat_sys_ptrace", "__ia32_sys_ptrace" } },
	{ false, { "__ia32_sys_process_vm_readv" } },
	{ false, { "__ia32_sys_process_vm_writev" } },
	{ false, { "__ia32_compat_sys_process_vm_readv" } },
	{ false, { "__ia32_compat_sys_process_vm_writev" } },
	{ true, { "vfs_open" } },
};
#elif defined(__aarch64__)
static const struct fexit_target fexit_targets[FEXIT_PROGRAMS] = {
	{ true, { "__arm64_sys_ptrace" } },
	{ true, { "__arm64_sys_process_vm_readv" } },
	{ true, { "__arm64_sys_process_vm_writev" } },
	{ false, { NULL } }, { false, { NULL } }, { false, { NULL } },
	{ false, { NULL } }, { false, { NULL } },
	{ true, { "vfs_open" } },
};
#else
#error "procaccess_source.c: fexit targets are defined for x86-64 and arm64 only"
#endif

struct procaccess_state {
	struct procaccess_bpf *skel;
	/* fexit programs loaded (this kernel has fentry/fexit and every
	 * required function); fexit_refused: the kernel refused to load them,
	 * the object is loaded without; fexit_failed: attaching them failed
	 * once, the tracepoints are used from then on */
	bool fexit_loaded, fexit_refused, fexit_failed;
	bool exit_tracepoints;   /* the per-syscall exit programs can load */
	const char *fexit_function[FEXIT_PROGRAMS];
	struct bpf_link *fexit_links[FEXIT_PROGRAMS];
	struct bpf_link *syscall_links[PROCACCESS_SYSCALLS];
	struct bpf_link *sys_exit_link;
	struct bpf_link *exec_link;
	struct procaccess_decoder *decoder;
};

static void fexit_programs(struct procaccess_bpf *skel, struct bpf_program *progs[FEXIT_PROGRAMS])
{
	struct bpf_program *all[FEXIT_PROGRAMS] = {
		skel->progs.fexit_ptrace, skel->progs.fexit_process_vm_readv,
		skel->progs.fexit_process_vm_writev, skel->progs.fexit_ia32_ptrace,
		skel->progs.fexit_ia32_process_vm_readv, skel->progs.fexit_ia32_process_vm_writev,
		skel->progs.fexit_ia32_compat_process_vm_readv,
		skel->progs.fexit_ia32_compat_process_vm_writev, skel->progs.fexit_vfs_open,
	};

	memcpy(progs, all, sizeof(all));
}

static void detach_syscalls(struct procaccess_state *st)
{
	capture_detach_each(st->fexit_links, FEXIT_PROGRAMS);
	capture_detach_each(st->syscall_links, PROCACCESS_SYSCALLS);
	bpf_link__destroy(st->sys_exit_link);
	st->sys_exit_link = NULL;
}

static void procaccess_unload(void *state)
{
	struct procaccess_state *st = state;

	detach_syscalls(st);
	bpf_link__destroy(st->exec_link);
	procaccess_bpf__destroy(st->skel);
	procaccess_decoder_free(st->decoder);
	free(st);
}

static bool procaccess_open(void *state, const struct capture_env *env, struct capture_object *obj,
			    struct strbuf *err)
{
	struct procaccess_state *st = state;

	(void)env;
	if (!(st->decoder = procaccess_decoder_new(err)) || !(st->skel = procaccess_bpf__open()))
		return false;
	*obj = CAPTURE_OBJECT(st->skel);
	return true;
}

/* Pick the kernel function of every fexit program in BTF (the kernel's);
 * false when one that is required is missing (then none is loaded). */
static bool choose_fexit_targets(struct procaccess_state *st, const struct btf *btf)
{
	for (size_t i = 0; i < FEXIT_PROGRAMS; i++) {
		st->fexit_function[i] = NULL;
		for (size_t k = 0; k < 2 && fexit_targets[i].functions[k] && btf; k++)
			if (btf__find_by_name_kind(btf, fexit_targets[i].functions[k], BTF_KIND_FUNC) > 0) {
				st->fexit_function[i] = fexit_targets[i].functions[k];
				break;
			}
		if (!st->fexit_function[i] && fexit_targets[i].required)
			return false;
	}
	return true;
}

/* The fexit programs when this kernel has their functions, types their
 * registers (not 5.10), runs fexit programs and did not refuse them, else
 * the tracepoint programs only. */
static int procaccess_prepare(void *state, const struct btf *btf, struct strbuf *err)
{
	struct procaccess_state *st = state;
	struct bpf_program *progs[FEXIT_PROGRAMS];

	st->fexit_loaded = !st->fexit_refused && capture_kernel_has_fexit(btf, "vfs_open") &&
			   choose_fexit_targets(st, btf);
	for (size_t i = 0; i < FEXIT_PROGRAMS && st->fexit_loaded; i++)
		st->fexit_loaded = !st->fexit_function[i] ||
				   capture_btf_first_arg_is_struct(btf, st->fexit_function[i]);
	fexit_programs(st->skel, progs);
	for (size_t i = 0; i < FEXIT_PROGRAMS; i++) {
		bool load = st->fexit_loaded && st->fexit_function[i];

		bpf_program__set_autoload(progs[i], load);
		if (load && bpf_program__set_attach_target(progs[i], 0, st->fexit_function[i]) != 0) {
			strbuf_printf(err, "setting the process-access program on %s failed: %s",
				      st->fexit_function[i], strerror(errno));
			return -1;
		}
	}
#if !defined(__x86_64__)
	bpf_program__set_autoload(st->skel->progs.exit_open, false);
#endif
	/* the syscall exit programs that read registers, where they can */
	st->exit_tracepoints = capture_kernel_has_task_pt_regs();
	bpf_program__set_autoload(st->skel->progs.exit_ptrace, st->exit_tracepoints);
	bpf_program__set_autoload(st->skel->progs.exit_process_vm_readv, st->exit_tracepoints);
	bpf_program__set_autoload(st->skel->progs.exit_process_vm_writev, st->exit_tracepoints);
	return 0;
}

/* A kernel that refuses the fexit programs: the tracepoints alone. */
static bool procaccess_retry(void *state, struct capture_object *obj)
{
	struct procaccess_state *st = state;

	if (!st->fexit_loaded)
		return false;
	procaccess_bpf__destroy(st->skel);
	st->fexit_refused = true;
	if (!(st->skel = procaccess_bpf__open()))
		return false;
	*obj = CAPTURE_OBJECT(st->skel);
	return true;
}

static const struct capture_loader procaccess_loader = {
	.what = "process-access",
	.max_ring_pages = PROCACCESS_RING_PAGES,
	.state_size = sizeof(struct procaccess_state),
	.open = procaccess_open,
	.prepare = procaccess_prepare,
	.retry = procaccess_retry,
	.unload = procaccess_unload,
};

/* Can this kernel run 32-bit syscalls (IA32 emulation built in)?  Its BTF
 * then has the ia32 entry of ptrace. */
static bool kernel_runs_ia32(void)
{
#if defined(__x86_64__)
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (!btf)
		return true;   /* unknown: watch for them */
	found = btf__find_by_name_kind(btf, "__ia32_compat_sys_ptrace", BTF_KIND_FUNC) > 0 ||
		btf__find_by_name_kind(btf, "__ia32_sys_ptrace", BTF_KIND_FUNC) > 0;
	btf__free(btf);
	return found;
#else
	return false;
#endif
}

/* The syscall exits.  On an x86 kernel that runs 32-bit syscalls, one
 * program on every syscall exit: the per-syscall tracepoints never see
 * 32-bit calls (int 0x80 from 64-bit code is a known way around monitors),
 * and the generic hook alone costs less than the per-syscall ones plus it
 * (about 105 ns per syscall against 150 on our machines: docs/events.md).
 * Elsewhere the per-syscall tracepoints (other syscalls run nothing),
 * falling back to the generic hook without tracefs or bpf_task_pt_regs
 * (before 5.15). */
static int attach_syscalls(struct procaccess_state *st, struct strbuf *err)
{
	struct bpf_program *programs[PROCACCESS_SYSCALLS] = {
		st->skel->progs.exit_ptrace, st->skel->progs.exit_process_vm_readv,
		st->skel->progs.exit_process_vm_writev, st->skel->progs.exit_openat,
		st->skel->progs.exit_openat2, st->skel->progs.exit_open,
	};

	if (st->sys_exit_link || st->syscall_links[0] || st->fexit_links[0])
		return 0;
	if (st->fexit_loaded && !st->fexit_failed) {
		struct bpf_program *progs[FEXIT_PROGRAMS];

		fexit_programs(st->skel, progs);
		if (capture_attach_each(progs, st->fexit_links, FEXIT_PROGRAMS) == 0)
			return 0;
		/* loaded but not attachable (fentry/fexit refused): tracepoints */
		st->fexit_failed = true;
	}
	if (st->exit_tracepoints && !kernel_runs_ia32() && capture_tracefs_available() &&
	    capture_attach_each(programs, st->syscall_links, PROCACCESS_SYSCALLS) == 0)
		return 0;
	st->skel->bss->native_in_sys_exit = 1;
	return capture_attach(st->skel->progs.procaccess_sys_exit, &st->sys_exit_link, "sys_exit", err);
}

static int procaccess_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct procaccess_state *st = state;
	const uint32_t syscall_events = CAPTURE_EVENT_BIT(PROCACCESS_EVENT_ACCESS) |
					CAPTURE_EVENT_BIT(PROCACCESS_EVENT_REMOTE_THREAD);

	st->skel->bss->enabled_events = mask;
	if (mask & syscall_events) {
		if (attach_syscalls(st, err) != 0)
			goto failed;
	} else {
		detach_syscalls(st);
	}
	if (mask & CAPTURE_EVENT_BIT(PROCACCESS_EVENT_TAMPERING)) {
		if (capture_attach(st->skel->progs.tamper_exec, &st->exec_link, "sched_process_exec", err) != 0)
			goto failed;
	} else {
		bpf_link__destroy(st->exec_link);
		st->exec_link = NULL;
	}
	return 0;
failed:
	st->skel->bss->enabled_events = 0;
	detach_syscalls(st);
	bpf_link__destroy(st->exec_link);
	st->exec_link = NULL;
	return -1;
}

static int procaccess_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct procaccess_state *st = state;

	return procaccess_decoder_decode(st->decoder, env, data, size);
}

static void procaccess_describe(void *state, unsigned id, struct strbuf *out)
{
	const struct procaccess_state *st = state;

	if (id == PROCACCESS_EVENT_TAMPERING) {
		capture_describe_link(out, st->exec_link, st->skel->progs.tamper_exec);
		return;
	}
	if (st->fexit_links[0]) {
		for (size_t i = 0; i < FEXIT_PROGRAMS; i++)
			if (st->fexit_links[i])
				strbuf_printf(out, "%sfexit %s", i ? ", " : "", st->fexit_function[i]);
	} else if (st->sys_exit_link)
		capture_describe_link(out, st->sys_exit_link, st->skel->progs.procaccess_sys_exit);
	else
		strbuf_puts(out, "tp sys_exit_{ptrace,process_vm_readv,process_vm_writev,openat,openat2,open}");
}

const struct capture_source procaccess_source = {
	.name = "process access",
	.event_mask = CAPTURE_EVENT_BIT(PROCACCESS_EVENT_REMOTE_THREAD) |
		      CAPTURE_EVENT_BIT(PROCACCESS_EVENT_ACCESS) |
		      CAPTURE_EVENT_BIT(PROCACCESS_EVENT_TAMPERING),
	.loader = &procaccess_loader,
	.set_events = procaccess_set_events,
	.decode = procaccess_decode,
	.describe = procaccess_describe,
};
