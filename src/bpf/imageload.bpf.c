// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel half of the image-load source (records: bpf/imageload.h, user
 * half: src/capture/imageload_source.c): ImageLoad (7) for every file that
 * mmap maps executable (PROT_EXEC, backed by a file descriptor) into a
 * process, seen at the end of a successful mmap.  That is how ld.so
 * loads a program's libraries and dlopen() loads more.  The main
 * executable (the process's own exe file) is skipped; the dynamic loader
 * itself is mapped by the kernel at exec, not by mmap, and is not seen.
 *
 * Where the kernel runs fexit programs: at the return of ksys_mmap_pgoff(),
 * where the mmap syscalls (64- and 32-bit) go, and no syscall hook, which
 * would put every syscall of every task on the kernel's slow path.  Else
 * mmap's tracepoints: the mapping's arguments are checked at the entry
 * (cheap: the tracepoint's record), the file is read at the exit.
 *
 * The path is walked from the mapped file at the call, so a library
 * deleted or replaced a moment later keeps the name it was loaded from.
 * Programs never block: a full ring counts a loss.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/capture.bpf.h"
#include "bpf/imageload.h"
#include "bpf/lib/fd.bpf.h"
#include "bpf/lib/path.bpf.h"
#include "bpf/lib/syscalls.bpf.h"
#include "bpf/lib/twin.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PROT_EXEC_BIT 0x4
#define MAP_ANONYMOUS_BIT 0x20

struct load_scratch {
	struct imageload_record rec;
	char data[IMAGELOAD_DATA_SIZE];
	struct path_walk walk;
};

/* Indexed by CPU * 2 + twin (the loader sets max_entries): the kernel runs
 * a program at most once per CPU at a time, so a slot is ours for the run;
 * a program preempted there and its twin each have their own. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct load_scratch);
} load_scratch_map SEC(".maps");

/* The mapped file's path, into the scratch's data. */
PATH_WALKER(walk_path, load_scratch_map, IMAGELOAD_DATA_MASK, IMAGELOAD_PATH_MAX, false)

/* Threads inside an mmap of a file with PROT_EXEC, and the descriptor:
 * decided at the call's entry from the tracepoint's own record (no helper
 * calls), so that the exit of the far more frequent other mmaps costs one
 * lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);                 /* tid */
	__type(value, __s32);               /* fd */
} exec_mappings SEC(".maps");

static __always_inline bool maps_file_executable(unsigned long prot, unsigned long flags, long fd)
{
	return (prot & PROT_EXEC_BIT) && !(flags & MAP_ANONYMOUS_BIT) && fd >= 0;
}

#define CLAIM_LOAD(tid) ((1ULL << 32) | (tid))

/* A successful mmap (RET) of descriptor FD, PROT_EXEC, by the current
 * thread, seen by twin TWIN (0 or 1); SYSCALL_ARGS: FD is the syscall's
 * own argument, which a 32-bit call keeps elsewhere; BOUNDED_LOOPS: walk
 * its path without bpf_loop. */
static __always_inline int on_exec_mapping(long ret, long fd, __u32 twin, bool syscall_args,
					   bool bounded_loops)
{
	/* an error is a small negative number, an address is not */
	if (ret < 0 && ret > -4096)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	if (capture_is_monitor(tgid))
		return 0;
	struct task_struct *task = current_task();
	if (syscall_args && in_ia32_syscall(task))
		return 0;   /* 32-bit syscall: other numbers and arguments */

	struct file *file = file_of_fd(fd);
	if (!file || file == TASK_READ(task, mm, exe_file))
		return 0;   /* none, or the main executable: the process, not a load */
	if (!twin_claim(CLAIM_LOAD((__u32)pid_tgid), ret, twin))
		return 0;

	__u32 slot = bpf_get_smp_processor_id() * 2 + twin;
	struct load_scratch *s = bpf_map_lookup_elem(&load_scratch_map, &slot);
	if (!s) {
		capture_count_lost(IMAGELOAD_EVENT_ID);
		return 0;
	}
	struct imageload_record *rec = &s->rec;
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	rec->tgid = tgid;
	rec->uid = (__u32)bpf_get_current_uid_gid();
	rec->boot_ns = bpf_ktime_get_boot_ns();
	rec->ino = BPF_CORE_READ(inode, i_ino);
	rec->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	rec->flags = 0;
	rec->reserved[0] = rec->reserved[1] = rec->reserved[2] = 0;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	__u32 len = walk_path(s, &slot, 0, BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt),
			      bounded_loops);
	if (path_walk_partial(&s->walk))
		rec->flags |= IMAGELOAD_PATH_PARTIAL;
	rec->path_len = len;

	__u64 size = sizeof(*rec) + (len & IMAGELOAD_DATA_MASK);
	if (size > sizeof(*rec) + IMAGELOAD_DATA_SIZE)
		size = sizeof(*rec) + IMAGELOAD_DATA_SIZE;
	capture_submit(rec, size, IMAGELOAD_EVENT_ID);
	return 0;
}

/* ksys_mmap_pgoff(addr, len, prot, flags, fd, pgoff), returning the
 * address or an error: the mmap syscalls' arguments, for 32-bit calls too.
 * With its twin (bpf/lib/twin.bpf.h); both without bpf_loop (before 5.17)
 * as a second pair, the loader loads one pair. */
static __always_inline int on_mmap_return(long fd, unsigned long prot, unsigned long flags, long ret,
					  __u32 twin, bool bounded_loops)
{
	if (!maps_file_executable(prot, flags, fd))
		return 0;
	return on_exec_mapping(ret, fd, twin, false, bounded_loops);
}

TWIN_PROGRAMS("fexit/ksys_mmap_pgoff", mmap_return, on_mmap_return((int)fd, prot, flags, ret, twin, false),
	      unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags,
	      unsigned long fd, unsigned long pgoff, long ret)
TWIN_PROGRAMS("fexit/ksys_mmap_pgoff", mmap_return_bounded,
	      on_mmap_return((int)fd, prot, flags, ret, twin, true),
	      unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags,
	      unsigned long fd, unsigned long pgoff, long ret)

/* Without fexit: mmap's own tracepoints when tracefs is there: entry decides, exit
 * reports; every syscall exit through imageload_sys_exit otherwise. */
SEC("tp/syscalls/sys_enter_mmap")
int enter_mmap(struct syscall_trace_enter *ctx)
{
	/* mmap(addr, len, prot, flags, fd, offset) */
	unsigned long prot = ctx->args[2];
	unsigned long flags = ctx->args[3];
	long fd = (int)ctx->args[4];

	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (!maps_file_executable(prot, flags, fd)) {
		/* without bpf_task_pt_regs the exit cannot tell an entry
		 * left from before a detach: none is left */
		if (!kernel_has_task_pt_regs())
			bpf_map_delete_elem(&exec_mappings, &tid);
		return 0;
	}
	__s32 value = fd;
	bpf_map_update_elem(&exec_mappings, &tid, &value, BPF_ANY);
	return 0;
}

static __always_inline int on_mmap_exit(struct syscall_trace_exit *ctx, bool bounded_loops)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__s32 *fd = bpf_map_lookup_elem(&exec_mappings, &tid);

	if (!fd)
		return 0;
	long descriptor = *fd;
	bpf_map_delete_elem(&exec_mappings, &tid);
	/* an entry left from before a detach must not stand for this call */
	if (kernel_has_task_pt_regs()) {
		struct pt_regs *regs = current_syscall_regs();

		if ((int)PT_REGS_PARM5_CORE_SYSCALL(regs) != descriptor ||
		    !maps_file_executable(PT_REGS_PARM3_CORE_SYSCALL(regs), PT_REGS_PARM4_CORE_SYSCALL(regs),
					  descriptor))
			return 0;
	}
	return on_exec_mapping(ctx->ret, descriptor, 0, true, bounded_loops);
}

static __always_inline int on_any_exit(struct pt_regs *regs, long ret, bool bounded_loops)
{
	if (SYSCALL_NR(regs) != NR_MMAP)
		return 0;
	long fd = (int)PT_REGS_PARM5_CORE_SYSCALL(regs);
	if (!maps_file_executable(PT_REGS_PARM3_CORE_SYSCALL(regs), PT_REGS_PARM4_CORE_SYSCALL(regs), fd))
		return 0;
	return on_exec_mapping(ret, fd, 0, true, bounded_loops);
}

/* Each exit program twice: with bpf_loop, and with bounded loops for
 * kernels without it (before 5.17), where a program must not even name a
 * bpf_loop callback; the loader loads one of each pair. */
SEC("tp/syscalls/sys_exit_mmap")
int exit_mmap(struct syscall_trace_exit *ctx)
{
	return on_mmap_exit(ctx, false);
}

SEC("tp/syscalls/sys_exit_mmap")
int exit_mmap_bounded(struct syscall_trace_exit *ctx)
{
	return on_mmap_exit(ctx, true);
}

SYS_EXIT_PROGRAMS(imageload_sys_exit, on_any_exit)
