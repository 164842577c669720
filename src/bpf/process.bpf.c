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

char LICENSE[] SEC("license") = "GPL";

#define EVENT_PROCESS_CREATE 1
#define EVENT_PROCESS_TERMINATE 5
#define PF_KTHREAD_FLAG 0x00200000

/* State of one path walk (see append_path). */
struct path_walk {
	__u32 depth;            /* components collected */
	__u32 off;              /* write position in data */
	__u32 start;            /* where this path starts in data */
	__u32 length;           /* bytes the collected components will take */
	int complete;           /* reached the root */
	int overflow;           /* longer than PROCESS_PATH_MAX */
	int pseudo;             /* the file is the root of an unmounted file system */
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *mnt_root;  /* mnt's root: where to cross to the parent mount */
};

/* A name collected on the way up, written out on the way down. */
struct path_component {
	const unsigned char *name;
	__u32 len;
	__u32 reserved;
};

/* Built per CPU, then copied to the ring with only the bytes used. */
struct exec_scratch {
	struct process_exec_record rec;
	char data[PROCESS_DATA_SIZE];
	struct path_component components[PROCESS_PATH_DEPTH];
	struct path_walk walk;
};

/* An array indexed by CPU rather than a per-CPU array: per-CPU values are
 * limited to 32 KiB.  The loader sets max_entries to the number of CPUs;
 * tracepoint programs are not preempted, so a CPU's slot is ours. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} exec_scratch_map SEC(".maps");

/* One step up the tree: collect a component, or cross a mount point.
 * The walk's state lives in the map value, not on the stack, so the
 * verifier sees it as unknown and checks the callback once instead of
 * following every possible offset. */
static long collect_component(__u64 index, void *ctx)
{
	struct exec_scratch *s = bpf_map_lookup_elem(&exec_scratch_map, ctx);

	if (!s)
		return 1;
	struct path_walk *walk = &s->walk;
	struct dentry *dentry = walk->dentry;
	struct mount *mnt = walk->mnt;

	if (dentry == walk->mnt_root) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		if (!mnt_parent || mnt_parent == mnt) {
			walk->complete = 1;
			return 1;
		}
		walk->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		walk->mnt = mnt_parent;
		walk->mnt_root = BPF_CORE_READ(mnt_parent, mnt.mnt_root);
		return 0;
	}
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	__u32 depth = walk->depth;
	if (!parent || parent == dentry) {
		/* Root of a file system that is not mounted.  A file that is such
		 * a root itself (a memfd) has only its name, which the kernel shows
		 * as "/NAME (deleted)": take the name, user space adds the rest. */
		walk->complete = 1;
		if (depth != 0)
			return 1;
		walk->pseudo = 1;
	}
	/* keep the deepest components that fit: a cut path loses its start */
	struct path_component *component = &s->components[depth & (PROCESS_PATH_DEPTH - 1)];
	struct qstr name;
	if (depth >= PROCESS_PATH_DEPTH || bpf_core_read(&name, sizeof(name), &dentry->d_name) != 0)
		return 1;
	__u32 len = name.len > 255 ? 255 : name.len;
	if (walk->length + 1 + len > PROCESS_PATH_MAX)
		return 1;
	component->name = name.name;
	component->len = len;
	walk->length += 1 + len;
	walk->depth = depth + 1;
	walk->dentry = parent;
	return walk->pseudo ? 1 : 0;   /* a pseudo file has no parent to walk */
}

/* Append "/name" of the INDEX-th component from the top. */
static long append_component(__u64 index, void *ctx)
{
	struct exec_scratch *s = bpf_map_lookup_elem(&exec_scratch_map, ctx);

	if (!s)
		return 1;
	struct path_walk *walk = &s->walk;
	__u32 depth = walk->depth;
	if (index >= depth)
		return 1;
	struct path_component *component = &s->components[(depth - 1 - index) & (PROCESS_PATH_DEPTH - 1)];
	__u32 len = component->len & 255;
	const unsigned char *name = component->name;
	__u32 off = walk->off;

	if (off - walk->start + 1 + len > PROCESS_PATH_MAX) {
		walk->overflow = 1;
		return 1;
	}
	s->data[off & PROCESS_DATA_MASK] = '/';
	off++;
	if (bpf_probe_read_kernel(&s->data[off & PROCESS_DATA_MASK], len & 255, name) != 0)
		return 1;
	walk->off = off + len;
	return 0;
}

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
	struct path_walk *walk = &s->walk;

	walk->depth = 0;
	walk->length = 0;
	walk->off = off;
	walk->start = off;
	walk->complete = 0;
	walk->overflow = 0;
	walk->pseudo = 0;
	walk->dentry = dentry;
	walk->mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	walk->mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);

	/* mount crossings take steps too, hence the margin; without bpf_loop
	 * (before 5.17) the same steps as a bounded loop */
	if (bounded_loops) {
		for (__u32 i = 0; i < PROCESS_PATH_DEPTH + 16; i++)
			if (collect_component(i, cpu))
				break;
	} else {
		bpf_loop(PROCESS_PATH_DEPTH + 16, collect_component, cpu, 0);
	}
	if (walk->depth == 0) {
		s->data[off & PROCESS_DATA_MASK] = '/';
		walk->off = off + 1;
	} else if (bounded_loops) {
		for (__u32 i = 0; i < PROCESS_PATH_DEPTH; i++)
			if (append_component(i, cpu))
				break;
	} else {
		bpf_loop(PROCESS_PATH_DEPTH, append_component, cpu, 0);
	}
	if (!walk->complete || walk->overflow)
		*flags |= partial_flag;
	if (walk->pseudo)
		*flags |= pseudo_flag;
	return walk->off;
}

/* An exec by TASK (the current task); BOUNDED_LOOPS: walk paths without
 * bpf_loop. */
static __always_inline int on_exec(struct task_struct *task, pid_t old_pid, bool bounded_loops)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	if (capture_is_monitor(tgid))
		return 0;

	__u32 cpu = bpf_get_smp_processor_id();
	struct exec_scratch *s = bpf_map_lookup_elem(&exec_scratch_map, &cpu);
	if (!s) {
		capture_count_lost(EVENT_PROCESS_CREATE);
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
	capture_submit(rec, size, EVENT_PROCESS_CREATE);
	return 0;
}

/* tp_btf: typed arguments, and no tracefs needed (it is often not mounted). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(task, old_pid, false);
}

/* The same for kernels without bpf_loop (Debian 11's 5.10); the loader
 * loads one of the two. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec_bounded, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(task, old_pid, true);
}

static __always_inline void submit_exit(struct task_struct *task, __u32 flags)
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

	/* an exec bumps self_exec_id; a fork copies its parent's into both */
	if (leader->self_exec_id == leader->parent_exec_id)
		rec.flags |= PROCESS_EXIT_NEVER_EXECED;
	bpf_get_current_comm(rec.comm, sizeof(rec.comm));   /* the exiting task is current */
	capture_submit(&rec, sizeof(rec), EVENT_PROCESS_TERMINATE);
}

static __always_inline int ignored_exit(struct task_struct *task)
{
	return capture_is_monitor(task->tgid) || (task->flags & PF_KTHREAD_FLAG);
}

/* One event per process: only the thread that ends the thread group. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task, bool group_dead)
{
	if (group_dead && !ignored_exit(task))
		submit_exit(task, 0);
	return 0;
}

/* The same for kernels whose tracepoint has no group_dead (the loader picks
 * one of the two): signal->live has reached 0 for the last thread.  Two
 * threads ending at once may both see 0; user space drops the second. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_live, struct task_struct *task)
{
	if (task->signal->live.counter == 0 && !ignored_exit(task))
		submit_exit(task, PROCESS_EXIT_MAY_REPEAT);
	return 0;
}
