// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel half of the process source: ProcessCreate (1) from
 * sched_process_exec and ProcessTerminate (5) from sched_process_exit.
 *
 * Everything a short-lived process loses a moment later is captured here, at
 * the exec: argv, the executable's absolute path (walked from the file, not
 * the possibly relative name the caller passed), the working directory, ids
 * and the controlling tty.  Records go to user space through the ring buffer
 * of bpf/capture.bpf.h (records: bpf/process.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/capture.bpf.h"
#include "bpf/process.h"
#include "bpf/lib/path.bpf.h"
#include "bpf/lib/twin.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD_FLAG 0x00200000

/* Built per CPU, then copied to the ring with only the bytes used. */
struct exec_scratch {
	struct process_exec_record rec;
	char data[PROCESS_DATA_SIZE];
	struct path_walk walk;
};

/* An array indexed by CPU and twin (below) rather than a per-CPU array:
 * per-CPU values are limited to 32 KiB.  The loader sets max_entries to
 * twice the number of CPUs.  A CPU's slot for one program is that run's:
 * the kernel never runs a program twice at once on one CPU, even where it
 * preempts programs (7.x), and a twin has its own slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} exec_scratch_map SEC(".maps");

/* Each hook has a program and its twin (bpf/lib/twin.bpf.h): an exec is
 * claimed by its thread and self_exec_id, an exit by its thread and start
 * time. */
#define CLAIM_EXEC(tid) (((__u64)PROCESS_RECORD_EXEC << 32) | (tid))
#define CLAIM_EXIT(tid) (((__u64)PROCESS_RECORD_EXIT << 32) | (tid))

/* Paths into the scratch's data, pseudo files (memfds) by their name. */
PATH_WALKER(walk_path, exec_scratch_map, PROCESS_DATA_MASK, PROCESS_PATH_MAX, true)

/*
 * Append the absolute path of (DENTRY, VFSMNT) to S->data at OFF, crossing
 * mount points up to the root of the mount tree.  Returns the new offset;
 * sets PARTIAL_FLAG in *FLAGS if the path's beginning is missing, and
 * PSEUDO_FLAG if the file has no path, only a name (a memfd).
 */
static __always_inline __u32 append_path(struct exec_scratch *s, __u32 *cpu, __u32 off,
					 struct dentry *dentry, struct vfsmount *vfsmnt,
					 __u32 partial_flag, __u32 pseudo_flag, __u32 *flags,
					 bool bounded_loops)
{
	off = walk_path(s, cpu, off, dentry, vfsmnt, bounded_loops);
	if (path_walk_partial(&s->walk))
		*flags |= partial_flag;
	if (s->walk.pseudo)
		*flags |= pseudo_flag;
	return off;
}

/* An exec by TASK (the current task), in program TWIN (0 or 1) of the
 * pair; BOUNDED_LOOPS: walk paths without bpf_loop. */
static __always_inline int on_exec(struct task_struct *task, pid_t old_pid, bool bounded_loops, __u32 twin)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	if (capture_is_monitor(tgid) ||
	    !twin_claim(CLAIM_EXEC((__u32)pid_tgid), task->self_exec_id, twin))
		return 0;

	__u32 cpu = bpf_get_smp_processor_id() * 2 + twin;
	struct exec_scratch *s = bpf_map_lookup_elem(&exec_scratch_map, &cpu);
	if (!s) {
		capture_count_lost(PROCESS_EVENT_CREATE);
		return 0;
	}

	struct process_exec_record *rec = &s->rec;

	rec->kind = PROCESS_RECORD_EXEC;
	rec->tgid = tgid;
	rec->old_tid = old_pid;
	/* tp_btf: TASK is a typed pointer, read directly (no helper calls) */
	rec->ppid = task->real_parent->tgid;
	rec->uid = task->real_cred->uid.val;
	rec->loginuid = PROCESS_UNSET_ID;
	rec->sessionid = PROCESS_UNSET_ID;
	if (bpf_core_field_exists(task->loginuid)) {
		rec->loginuid = task->loginuid.val;
		rec->sessionid = task->sessionid;
	}
	struct tty_struct *tty = task->signal->tty;
	rec->tty_index = tty ? tty->index : PROCESS_NO_TTY;
	rec->exec_boot_ns = bpf_ktime_get_boot_ns();
	rec->flags = 0;
	rec->reserved = 0;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));

	/* argv: the new image's argument area, as the kernel copied it */
	struct mm_struct *mm = task->mm;
	unsigned long arg_start = mm->arg_start;
	unsigned long arg_end = mm->arg_end;
	__u32 args_len = 0;

	if (arg_end > arg_start) {
		unsigned long want = arg_end - arg_start;

		if (want > PROCESS_ARGS_MAX) {
			want = PROCESS_ARGS_MAX;
			rec->flags |= PROCESS_ARGS_TRUNCATED;
		}
		if (bpf_probe_read_user(s->data, want, (const void *)arg_start) == 0)
			args_len = want;
		else
			rec->flags |= PROCESS_ARGS_UNREADABLE;
	}
	rec->args_len = args_len;

	__u32 off = args_len;
	struct file *exe = mm->exe_file;
	if (exe) {
		struct dentry *dentry = exe->f_path.dentry;
		struct vfsmount *vfsmnt = exe->f_path.mnt;

		off = append_path(s, &cpu, off, dentry, vfsmnt, PROCESS_IMAGE_PARTIAL,
				  PROCESS_IMAGE_PSEUDO, &rec->flags, bounded_loops);
	} else {
		rec->flags |= PROCESS_NO_IMAGE;
	}
	rec->image_len = off - args_len;

	__u32 cwd_start = off;
	struct fs_struct *fs = task->fs;
	if (fs) {
		struct dentry *dentry = fs->pwd.dentry;
		struct vfsmount *vfsmnt = fs->pwd.mnt;

		off = append_path(s, &cpu, off, dentry, vfsmnt, PROCESS_CWD_PARTIAL, 0, &rec->flags,
				  bounded_loops);
	}
	rec->cwd_len = off - cwd_start;

	__u64 size = sizeof(*rec) + (off & PROCESS_DATA_MASK);
	if (size > sizeof(*s))
		size = sizeof(*s);
	capture_submit(rec, size, PROCESS_EVENT_CREATE);
	return 0;
}

/* tp_btf: typed arguments, and no tracefs needed (it is often not mounted).
 * The _bounded pair is for kernels without bpf_loop (Debian 11's 5.10);
 * the loader loads one of the two pairs. */
TWIN_PROGRAMS("tp_btf/sched_process_exec", handle_exec, on_exec(task, old_pid, false, twin),
	      struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
TWIN_PROGRAMS("tp_btf/sched_process_exec", handle_exec_bounded, on_exec(task, old_pid, true, twin),
	      struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)

static __always_inline void submit_exit(struct task_struct *task, __u32 flags, __u32 twin)
{
	struct task_struct *leader = task->group_leader;
	struct process_exit_record rec = {
		.kind = PROCESS_RECORD_EXIT,
		.tgid = task->tgid,
		.ppid = task->real_parent->tgid,
		.uid = task->real_cred->uid.val,
		.exit_code = task->exit_code,
		.flags = flags,
		.exit_boot_ns = bpf_ktime_get_boot_ns(),
		.start_boot_ns = leader->start_boottime,
	};

	if (!twin_claim(CLAIM_EXIT((__u32)task->pid), task->start_boottime, twin))
		return;
	/* an exec bumps self_exec_id; a fork copies its parent's into both */
	if (leader->self_exec_id == leader->parent_exec_id)
		rec.flags |= PROCESS_EXIT_NEVER_EXECED;
	bpf_get_current_comm(rec.comm, sizeof(rec.comm));   /* the exiting task is current */
	capture_submit(&rec, sizeof(rec), PROCESS_EVENT_TERMINATE);
}

static __always_inline int ignored_exit(struct task_struct *task)
{
	return capture_is_monitor(task->tgid) || (task->flags & PF_KTHREAD_FLAG);
}

/* One event per process: only the thread that ends the thread group. */
static __always_inline int on_exit(struct task_struct *task, bool group_dead, __u32 twin)
{
	if (group_dead && !ignored_exit(task))
		submit_exit(task, 0, twin);
	return 0;
}

/* The same for kernels whose tracepoint has no group_dead (the loader picks
 * one of the two pairs): signal->live has reached 0 for the last thread.
 * Two threads ending at once may both see 0; user space drops the second. */
static __always_inline int on_exit_live(struct task_struct *task, __u32 twin)
{
	if (task->signal->live.counter == 0 && !ignored_exit(task))
		submit_exit(task, PROCESS_EXIT_MAY_REPEAT, twin);
	return 0;
}

TWIN_PROGRAMS("tp_btf/sched_process_exit", handle_exit, on_exit(task, group_dead, twin),
	      struct task_struct *task, bool group_dead)
TWIN_PROGRAMS("tp_btf/sched_process_exit", handle_exit_live, on_exit_live(task, twin), struct task_struct *task)
