/*
 * Loader of the file source (kernel half: bpf/file.bpf.c, records:
 * bpf/file.h, decoder: file_decode.c, which says how records become
 * events): loads and attaches the file programs and hands their records to
 * the decoder, which makes FileCreateTime (2), RawAccessRead (9),
 * FileCreate (11), FileDelete (23) and FileDeleteDetected (26) events.
 * The event ids the config can log are written to the kernel half, which
 * then sends nothing else, and given to the decoder; when the rules say so,
 * also the TargetFilename values one of which every loggable FileCreate
 * matches (set_create_filter).
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

/* The hooks whose programs keep the per-call inode journal (file.bpf.c):
 * the ctime tracepoints where the kernel has them (6.13 on; a kernel
 * without one of them loads without its program), else where it runs
 * fentry programs the vfs functions of unlink, rename and utimes. */
#define JOURNAL_HOOKS 3

static const char *const ctime_tracepoints[JOURNAL_HOOKS] = {
	"inode_set_ctime_to_ts", "ctime_xchg_skip", "ctime_ns_xchg",
};

static const char *const journal_functions[JOURNAL_HOOKS] = {
	"vfs_unlink", "vfs_rename", "vfs_utimes",
};

/* Where the kernel has fentry/fexit, each watched call's program (by name,
 * file.bpf.c) on its syscall function; all of them or none (file_sys_exit
 * on every syscall exit instead). */
static const struct {
	const char *program;
	const char *function;
} fexit_calls[] = {
#if defined(__x86_64__)
	{ "fx_open", "__x64_sys_open" }, { "fx_openat", "__x64_sys_openat" },
	{ "fx_openat2", "__x64_sys_openat2" }, { "fx_creat", "__x64_sys_creat" },
	{ "fx_link", "__x64_sys_link" }, { "fx_linkat", "__x64_sys_linkat" },
	{ "fx_symlink", "__x64_sys_symlink" }, { "fx_symlinkat", "__x64_sys_symlinkat" },
	{ "fx_mknod", "__x64_sys_mknod" }, { "fx_mknodat", "__x64_sys_mknodat" },
	{ "fx_unlink", "__x64_sys_unlink" }, { "fx_unlinkat", "__x64_sys_unlinkat" },
	{ "fx_rename", "__x64_sys_rename" }, { "fx_renameat", "__x64_sys_renameat" },
	{ "fx_renameat2", "__x64_sys_renameat2" }, { "fx_utime", "__x64_sys_utime" },
	{ "fx_utimes", "__x64_sys_utimes" }, { "fx_futimesat", "__x64_sys_futimesat" },
	{ "fx_utimensat", "__x64_sys_utimensat" },
	/* the i386 table's entries (syscall_32.tbl) */
	{ "fx32_open", "__ia32_compat_sys_open" }, { "fx32_openat", "__ia32_compat_sys_openat" },
	{ "fx32_openat2", "__ia32_sys_openat2" }, { "fx32_creat", "__ia32_sys_creat" },
	{ "fx32_link", "__ia32_sys_link" }, { "fx32_linkat", "__ia32_sys_linkat" },
	{ "fx32_symlink", "__ia32_sys_symlink" }, { "fx32_symlinkat", "__ia32_sys_symlinkat" },
	{ "fx32_mknod", "__ia32_sys_mknod" }, { "fx32_mknodat", "__ia32_sys_mknodat" },
	{ "fx32_unlink", "__ia32_sys_unlink" }, { "fx32_unlinkat", "__ia32_sys_unlinkat" },
	{ "fx32_rename", "__ia32_sys_rename" }, { "fx32_renameat", "__ia32_sys_renameat" },
	{ "fx32_renameat2", "__ia32_sys_renameat2" }, { "fx32_utime", "__ia32_sys_utime32" },
	{ "fx32_utimes", "__ia32_sys_utimes_time32" },
	{ "fx32_futimesat", "__ia32_sys_futimesat_time32" },
	{ "fx32_utimensat", "__ia32_sys_utimensat_time32" },
	{ "fx32_utimensat64", "__ia32_sys_utimensat" },
#elif defined(__aarch64__)
	/* the generic table: *at forms only (AArch32 calls are not read) */
	{ "fx_openat", "__arm64_sys_openat" }, { "fx_openat2", "__arm64_sys_openat2" },
	{ "fx_linkat", "__arm64_sys_linkat" }, { "fx_symlinkat", "__arm64_sys_symlinkat" },
	{ "fx_mknodat", "__arm64_sys_mknodat" }, { "fx_unlinkat", "__arm64_sys_unlinkat" },
	{ "fx_renameat", "__arm64_sys_renameat" }, { "fx_renameat2", "__arm64_sys_renameat2" },
	{ "fx_utimensat", "__arm64_sys_utimensat" },
#endif
};
#define FEXIT_CALLS (sizeof(fexit_calls) / sizeof(fexit_calls[0]))

/* Where the kernel runs fexit programs, opens and unlinks are seen at the
 * kernel functions every way of making them goes through (file.bpf.c):
 * those of the open's end, by kernel version, and of an unlink. */
static const char *const open_functions[] = { "do_filp_open", "do_file_open" };
#define OPEN_FUNCTIONS (sizeof(open_functions) / sizeof(open_functions[0]))

/* The functions of a change of a name, the security_path_* hook first
 * (file.bpf.c): all of them, or the syscalls' programs. */
#define NAME_FUNCTIONS 8
static const char *const name_functions[NAME_FUNCTIONS] = {
	"security_path_unlink", "vfs_unlink", "security_path_link", "vfs_link",
	"security_path_symlink", "vfs_symlink", "security_path_rename", "vfs_rename",
};

/* kernel_progs[]: the open's, then those of name_functions[]; then their
 * twins (file.bpf.c), in the same order */
#define KERNEL_HOOKS (1 + NAME_FUNCTIONS)
#define KERNEL_PROGRAMS (2 * KERNEL_HOOKS)

struct file_state {
	struct file_bpf *skel;
	/* the fexit programs are loaded (else file_sys_exit is) */
	bool use_fexit;
	struct bpf_program *sys_exit_program;   /* file_sys_exit, or its bounded twin */
	/* with them: opens at open_functions[open_function], unlinks, links,
	 * symlinks and renames at name_functions[], not at their syscalls */
	bool opens_in_kernel, names_in_kernel;
	/* else why not (file_describe: io_uring's are then not seen) */
	const char *opens_why_not, *names_why_not;
	size_t open_function;
	struct bpf_program *kernel_progs[KERNEL_PROGRAMS];
	struct bpf_link *kernel_links[KERNEL_PROGRAMS];
	struct bpf_link *fexit_links[FEXIT_CALLS];
	struct bpf_program *journal_progs[JOURNAL_HOOKS];
	struct bpf_link *journal_links[JOURNAL_HOOKS];
	struct bpf_link *exit_link;
	struct file_decoder *decoder;
	const struct capture_env *env;  /* its config's rules */
};

/* The journal programs first: every journal started must find sys_exit
 * attached to end it. */
static void detach_all(struct file_state *st)
{
	capture_detach_each(st->journal_links, JOURNAL_HOOKS);
	bpf_link__destroy(st->exit_link);
	st->exit_link = NULL;
	capture_detach_each(st->fexit_links, FEXIT_CALLS);
	capture_detach_each(st->kernel_links, KERNEL_PROGRAMS);
}

/* Is the fexit program PROGRAM ("fx_openat", "fx32_unlink") one of a call
 * seen in the kernel instead? */
static bool seen_in_kernel(const struct file_state *st, const char *program)
{
	const char *call = program + (strncmp(program, "fx32_", 5) == 0 ? 5 : 3);

	if (st->opens_in_kernel && (strncmp(call, "open", 4) == 0 || strcmp(call, "creat") == 0))
		return true;
	return st->names_in_kernel && (strncmp(call, "unlink", 6) == 0 || strncmp(call, "link", 4) == 0 ||
				       strncmp(call, "symlink", 7) == 0 || strncmp(call, "rename", 6) == 0);
}

/* With fexit: opens, and changes of names, at their kernel functions where
 * this kernel has them (file.bpf.c), each choice on its own. */
static void choose_kernel_hooks(struct file_state *st, const struct btf *btf)
{
	struct file_bpf *skel = st->skel;
	/* their programs walk paths with bpf_loop and read the return with
	 * bpf_get_func_ret: no bounded-loop twins of them (5.10 lacks both) */
	const char *no_fexit = !capture_kernel_has_fexit(btf, "vfs_open") ? "no fexit on this kernel"
			       : !capture_kernel_has_loop() ? "no bpf_loop, bpf_get_func_ret (5.17) for their fexit"
			       : "no fexit on the syscall functions";

	st->opens_in_kernel = false;
	for (size_t i = 0; i < OPEN_FUNCTIONS && st->use_fexit && !st->opens_in_kernel; i++)
		if (btf__find_by_name_kind(btf, open_functions[i], BTF_KIND_FUNC) > 0 &&
		    bpf_program__set_attach_target(skel->progs.file_open_exit, 0, open_functions[i]) == 0 &&
		    bpf_program__set_attach_target(skel->progs.file_open_exit_twin, 0, open_functions[i]) == 0) {
			st->opens_in_kernel = true;
			st->open_function = i;
		}
	st->opens_why_not = st->opens_in_kernel ? NULL : st->use_fexit ? "no do_filp_open, do_file_open in BTF"
						    : no_fexit;
	struct bpf_program *name_progs[NAME_FUNCTIONS] = {
		skel->progs.file_may_unlink, skel->progs.file_unlinked, skel->progs.file_may_link,
		skel->progs.file_linked, skel->progs.file_may_symlink, skel->progs.file_symlinked,
		skel->progs.file_may_rename, skel->progs.file_renamed,
	};
	/* the arguments file.bpf.c reads are those from 5.12, when struct
	 * renamedata came; the programs read their return value with
	 * bpf_get_func_ret (5.17, as bpf_loop, which this source needs) */
	st->names_in_kernel = st->use_fexit && btf__find_by_name_kind(btf, "renamedata", BTF_KIND_STRUCT) > 0;
	st->names_why_not = !st->use_fexit ? no_fexit
			    : !st->names_in_kernel ? "no struct renamedata (5.12) for vfs_rename" : NULL;
	for (int i = 0; i < NAME_FUNCTIONS && st->names_in_kernel; i++)
		if (btf__find_by_name_kind(btf, name_functions[i], BTF_KIND_FUNC) <= 0) {
			st->names_in_kernel = false;
			st->names_why_not = "a security_path_* or vfs_* function not in BTF";
		}
	skel->rodata->names_at_vfs = st->names_in_kernel;
	bool twins = capture_kernel_preempts_programs();

	skel->rodata->twin_programs = twins;
	for (int i = 0; i < KERNEL_HOOKS; i++) {
		struct bpf_program *prog = i == 0 ? skel->progs.file_open_exit : name_progs[i - 1];
		struct bpf_program *twin = capture_twin_of(skel->obj, prog);
		bool used = i == 0 ? st->opens_in_kernel : st->names_in_kernel;

		st->kernel_progs[i] = used ? prog : NULL;
		st->kernel_progs[KERNEL_HOOKS + i] = used && twins ? twin : NULL;
		bpf_program__set_autoload(prog, used);
		bpf_program__set_autoload(twin, used && twins);
	}
	for (size_t i = 0; i < FEXIT_CALLS && st->use_fexit; i++)
		if (seen_in_kernel(st, fexit_calls[i].program))
			bpf_program__set_autoload(bpf_object__find_program_by_name(skel->obj, fexit_calls[i].program),
						  false);
}

/* Every fexit program on its function when this kernel has them all, runs
 * fexit programs, types their registers and has bpf_loop (5.17); else
 * none, and file_sys_exit on every syscall exit (its bounded-loop twin
 * without bpf_loop). */
static void choose_exit_hooks(struct file_state *st, const struct btf *btf)
{
	struct bpf_object *obj = st->skel->obj;
	struct bpf_program *prog;
	bool has_loop = capture_kernel_has_loop();

	st->use_fexit = FEXIT_CALLS > 0 && has_loop && capture_kernel_has_fexit(btf, "vfs_open");
	for (size_t i = 0; i < FEXIT_CALLS && st->use_fexit; i++)
		st->use_fexit = capture_btf_first_arg_is_struct(btf, fexit_calls[i].function);
	bpf_object__for_each_program(prog, obj) {
		if (strncmp(bpf_program__name(prog), "fx", 2) == 0)
			bpf_program__set_autoload(prog, false);
	}
	for (size_t i = 0; i < FEXIT_CALLS && st->use_fexit; i++) {
		prog = bpf_object__find_program_by_name(obj, fexit_calls[i].program);
		if (!prog || bpf_program__set_attach_target(prog, 0, fexit_calls[i].function) != 0) {
			st->use_fexit = false;
			break;
		}
		bpf_program__set_autoload(prog, true);
	}
	if (!st->use_fexit)
		bpf_object__for_each_program(prog, obj) {
			if (strncmp(bpf_program__name(prog), "fx", 2) == 0)
				bpf_program__set_autoload(prog, false);
		}
	st->sys_exit_program = has_loop ? st->skel->progs.file_sys_exit : st->skel->progs.file_sys_exit_bounded;
	bpf_program__set_autoload(st->skel->progs.file_sys_exit, !st->use_fexit && has_loop);
	bpf_program__set_autoload(st->skel->progs.file_sys_exit_bounded, !has_loop);
}

/* The journal's programs: the ctime tracepoints this kernel has; none of
 * them, the vfs functions' fentry programs where the kernel has every one
 * of the functions and runs fexit programs (the same trampolines); else
 * none (file_describe says what is then missed). */
static void choose_journal_hooks(struct file_state *st, const struct btf *btf)
{
	struct bpf_program *ctime[JOURNAL_HOOKS] = {
		st->skel->progs.file_ctime_set, st->skel->progs.file_ctime_skip,
		st->skel->progs.file_ctime_xchg,
	};
	struct bpf_program *vfs[JOURNAL_HOOKS] = {
		st->skel->progs.file_vfs_unlink, st->skel->progs.file_vfs_rename,
		st->skel->progs.file_vfs_utimes,
	};
	/* the vfs programs find the call in its registers: bpf_task_pt_regs */
	bool any_ctime = false,
	     all_vfs = capture_kernel_has_task_pt_regs() && capture_kernel_has_fexit(btf, "vfs_open");

	for (int i = 0; i < JOURNAL_HOOKS; i++) {
		bool has = capture_btf_has_tracepoint(btf, ctime_tracepoints[i]);

		st->journal_progs[i] = has ? ctime[i] : NULL;
		bpf_program__set_autoload(ctime[i], has);
		any_ctime |= has;
		all_vfs = all_vfs && btf__find_by_name_kind(btf, journal_functions[i], BTF_KIND_FUNC) > 0;
	}
	bool use_vfs = !any_ctime && all_vfs;
	for (int i = 0; i < JOURNAL_HOOKS; i++) {
		/* unlinks and renames seen at their vfs functions need none */
		bool load = use_vfs && !(i < 2 && st->names_in_kernel);

		if (use_vfs)
			st->journal_progs[i] = load ? vfs[i] : NULL;
		bpf_program__set_autoload(vfs[i], load);
	}
}

/* The exit hooks: file_sys_exit, or every call's fexit program. */
static int attach_exits(struct file_state *st, struct strbuf *err)
{
	if (!st->use_fexit)
		return capture_attach(st->sys_exit_program, &st->exit_link, "sys_exit", err);
	/* each vfs function's program before its security hook's, which it
	 * ends (a twin's: after the other vfs program) */
	for (int i = KERNEL_PROGRAMS - 1; i >= 0; i--) {
		if (!st->kernel_progs[i] || st->kernel_links[i])
			continue;
		st->kernel_links[i] = bpf_program__attach(st->kernel_progs[i]);
		if (!st->kernel_links[i]) {
			strbuf_printf(err, "attaching to %s failed: %s", bpf_program__name(st->kernel_progs[i]),
				      strerror(errno));
			return -1;
		}
	}
	for (size_t i = 0; i < FEXIT_CALLS; i++) {
		if (st->fexit_links[i] || seen_in_kernel(st, fexit_calls[i].program))
			continue;
		struct bpf_program *prog = bpf_object__find_program_by_name(st->skel->obj, fexit_calls[i].program);
		st->fexit_links[i] = bpf_program__attach(prog);
		if (!st->fexit_links[i]) {
			strbuf_printf(err, "attaching to %s failed: %s", fexit_calls[i].function, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void file_unload(void *state)
{
	struct file_state *st = state;

	detach_all(st);
	file_bpf__destroy(st->skel);
	file_decoder_free(st->decoder);
	free(st);
}

static bool file_open(void *state, const struct capture_env *env, struct capture_object *obj,
		      struct strbuf *err)
{
	struct file_state *st = state;

	st->env = env;
	if (!(st->decoder = file_decoder_new(err)) || !(st->skel = file_bpf__open()))
		return false;
	*obj = CAPTURE_OBJECT(st->skel);
	return true;
}

static int file_prepare(void *state, const struct btf *btf, struct strbuf *err)
{
	(void)err;
	choose_exit_hooks(state, btf);
	choose_kernel_hooks(state, btf);
	choose_journal_hooks(state, btf);
	return 0;
}

static const struct capture_loader file_loader = {
	.what = "file",
	.state_size = sizeof(struct file_state),
	.open = file_open,
	.prepare = file_prepare,
	.unload = file_unload,
};

/* Tell the kernel half which FileCreate paths the config can log at all
 * (bpf/file.h); inactive when the rules do not say, or say too much. */
static void set_create_filter(struct file_state *st)
{
	struct file_create_filter *filter = &st->skel->bss->create_filter;
	struct rule_text_pattern patterns[FILE_PATTERNS];
	const struct rules *rules = st->env->config ? st->env->config->rules : NULL;
	int n = rules_field_patterns(rules, FILE_EVENT_CREATE, "TargetFilename", patterns, FILE_PATTERNS);

	/* off while it changes: a program reading it meanwhile sends more */
	__atomic_store_n(&filter->active, 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < n; i++)
		if (patterns[i].len >= FILE_PATTERN_MAX)
			n = -1;
	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		struct file_path_pattern *p = &filter->patterns[i];

		p->kind = patterns[i].kind == COND_IS ? FILE_PATTERN_IS :
			  patterns[i].kind == COND_BEGIN_WITH ? FILE_PATTERN_PREFIX : FILE_PATTERN_SUFFIX;
		p->len = patterns[i].len;
		memset(p->text, 0, sizeof(p->text));
		memcpy(p->text, patterns[i].text, patterns[i].len);
	}
	filter->count = (uint32_t)n;
	__atomic_store_n(&filter->active, 1, __ATOMIC_SEQ_CST);
}

static int file_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct file_state *st = state;
	const uint32_t journaled = CAPTURE_EVENT_BIT(FILE_EVENT_CREATE_TIME) |
				   CAPTURE_EVENT_BIT(FILE_EVENT_CREATE) |
				   CAPTURE_EVENT_BIT(FILE_EVENT_DELETE) |
				   CAPTURE_EVENT_BIT(FILE_EVENT_DELETE_DETECTED);

	/* the kernel half drops what is not wanted before building anything */
	set_create_filter(st);
	st->skel->bss->enabled_events = mask;
	file_decoder_set_events(st->decoder, mask);
	if (mask == 0) {
		detach_all(st);
		return 0;
	}
	/* the exits first: they end every journal the ctime programs start */
	if (attach_exits(st, err) != 0)
		goto fail;
	if (mask & journaled) {
		for (int i = 0; i < JOURNAL_HOOKS; i++) {
			struct bpf_program *prog = st->journal_progs[i];

			if (!prog || st->journal_links[i])
				continue;
			st->journal_links[i] = bpf_program__attach(prog);
			if (!st->journal_links[i]) {
				strbuf_printf(err, "attaching to %s failed: %s", bpf_program__section_name(prog),
					      strerror(errno));
				goto fail;
			}
		}
	} else {
		capture_detach_each(st->journal_links, JOURNAL_HOOKS);
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

/* What event type ID misses of io_uring's requests (which make no syscall
 * of their own) where their kernel functions are not hooked, and why. */
static void describe_io_uring(const struct file_state *st, unsigned id, struct strbuf *out)
{
	bool opens = !st->opens_in_kernel && (id == FILE_EVENT_CREATE || id == FILE_EVENT_RAW_ACCESS);
	bool names = !st->names_in_kernel && id != FILE_EVENT_RAW_ACCESS && id != FILE_EVENT_CREATE_TIME;
	const char *names_are = id == FILE_EVENT_CREATE ? "links, symlinks, renames" : "unlinks, renames";

	if (opens && names && strcmp(st->opens_why_not, st->names_why_not) == 0) {
		strbuf_printf(out, "; %s: io_uring's requests not seen (opens, %s)", st->opens_why_not, names_are);
		return;
	}
	if (opens)
		strbuf_printf(out, "; %s: io_uring's requests not seen (opens)", st->opens_why_not);
	if (names)
		strbuf_printf(out, "; %s: io_uring's requests not seen (%s)", st->names_why_not, names_are);
}

static void file_describe(void *state, unsigned id, struct strbuf *out)
{
	const struct file_state *st = state;

	size_t by_syscall = 0, first = FEXIT_CALLS;

	capture_describe_link(out, st->exit_link, st->sys_exit_program);
	if (st->kernel_links[0])
		strbuf_printf(out, "%sfexit %s (every open, io_uring's too)", out->len ? ", " : "",
			      open_functions[st->open_function]);
	if (st->kernel_links[1])
		strbuf_printf(out, "%sfexit security_path_{unlink,link,symlink,rename}, vfs_{unlink,link,symlink,"
			      "rename} (every unlink, link, symlink, rename, io_uring's too)", out->len ? ", " : "");
	for (size_t i = 0; i < FEXIT_CALLS; i++)
		if (st->fexit_links[i]) {
			by_syscall++;
			first = first < i ? first : i;
		}
	if (by_syscall)
		strbuf_printf(out, "%sfexit on the %zu syscall functions of %s%smknod, utime and their variants "
			      "(%s, ...)", out->len ? ", " : "", by_syscall, st->opens_in_kernel ? "" : "open, creat, ",
			      st->names_in_kernel ? "" : "link, symlink, unlink, rename, ", fexit_calls[first].function);
	if (id == FILE_EVENT_CREATE && st->sys_exit_program == st->skel->progs.file_sys_exit_bounded)
		strbuf_puts(out, "; no bpf_loop (5.17): no in-kernel path filter, every FileCreate "
			    "goes to the rule engine");
	bool journal = false;
	for (int i = 0; i < JOURNAL_HOOKS; i++) {
		capture_describe_link(out, st->journal_links[i], st->journal_progs[i]);
		journal |= st->journal_progs[i] != NULL;
	}
	describe_io_uring(st, id, out);
	/* renames and unlinks seen at their vfs functions need no journal */
	if (journal || id == FILE_EVENT_RAW_ACCESS || (st->names_in_kernel && id != FILE_EVENT_CREATE_TIME))
		return;
	strbuf_puts(out, capture_kernel_has_task_pt_regs()
		    ? "; no ctime tracepoints, no fentry on vfs_unlink, vfs_rename, vfs_utimes: "
		    : "; no ctime tracepoints, no bpf_task_pt_regs (5.15) for fentry on vfs_unlink, vfs_rename, "
		      "vfs_utimes: ");
	strbuf_puts(out, id == FILE_EVENT_CREATE ? "renames not seen" :
		    id == FILE_EVENT_CREATE_TIME ? "no PreviousCreationUtcTime" :
		    "renames over a file not seen, no IsExecutable");
}

const struct capture_source file_source = {
	.name = "file",
	.event_mask = CAPTURE_EVENT_BIT(FILE_EVENT_CREATE_TIME) | CAPTURE_EVENT_BIT(FILE_EVENT_RAW_ACCESS) |
		      CAPTURE_EVENT_BIT(FILE_EVENT_CREATE) | CAPTURE_EVENT_BIT(FILE_EVENT_DELETE) |
		      CAPTURE_EVENT_BIT(FILE_EVENT_DELETE_DETECTED),
	.loader = &file_loader,
	.set_events = file_set_events,
	.decode = file_decode,
	.describe = file_describe,
};
