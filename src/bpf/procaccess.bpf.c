// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel half of the process-access source (records: bpf/procaccess.h, user
 * half: src/capture/procaccess_source.c):
 *
 *  - ProcessAccess (10): a process reaching into another one: ptrace
 *    attach/seize and peek/poke, process_vm_readv/writev, and opening
 *    another process's /proc/PID/mem, environ or maps.  Seen at the exit of
 *    those syscalls, on success only.
 *  - CreateRemoteThread (8): a tracer changing another process's code or
 *    registers (ptrace POKETEXT/POKEDATA/POKEUSER/SETREGS/SETREGSET), with
 *    the new instruction pointer when the call sets one.
 *  - ProcessTampering (25): an exec whose file has no name: a memfd, a
 *    deleted file, or a file run through a descriptor.
 *
 * The target is read from its task while the call holds it: a ptrace
 * tracee is on the tracer's `ptraced` list, a /proc file names its task
 * through its inode.  process_vm_* only give a pid: user space looks that
 * one up.  Repeats of one access between the same processes are sent once
 * per PROCACCESS_REPEAT_NS.  Programs never block: a full ring counts a
 * loss.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/capture.bpf.h"
#include "bpf/procaccess.h"
#include "bpf/lib/fd.bpf.h"
#include "bpf/lib/syscalls.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Where the instruction pointer is in struct user_regs_struct, and in
 * struct user (for PTRACE_POKEUSER). */
#if defined(__TARGET_ARCH_x86)
#define REGS_IP_OFFSET (16 * 8)
#define USER_IP_OFFSET (16 * 8)
#define HAVE_PTRACE_SETREGS 1
#elif defined(__TARGET_ARCH_arm64)
#define REGS_IP_OFFSET (32 * 8)    /* user_pt_regs: regs[31], sp, pc */
#define USER_IP_OFFSET (-1)        /* no PTRACE_POKEUSER */
#define HAVE_PTRACE_SETREGS 0
#endif

#define PTRACE_PEEKTEXT 1
#define PTRACE_PEEKDATA 2
#define PTRACE_PEEKUSR 3
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSR 6
#define PTRACE_SETREGS 13
#define PTRACE_ATTACH 16
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE 0x4206
#define NT_PRSTATUS 1

#define PROC_SUPER_MAGIC 0x9fa0
#define TMPFS_MAGIC 0x01021994
#define HUGETLBFS_MAGIC 0x958458f6
#define FMODE_READ_BIT 0x1
#define FMODE_WRITE_BIT 0x2
#define PF_KTHREAD_FLAG 0x00200000

/* Ids (CAPTURE_EVENT_BIT) whose records are wanted now: the loader changes
 * it when the config changes, without reattaching. */
volatile __u32 enabled_events = 0;
/* Set by the loader when procaccess_sys_exit handles native calls too
 * (always with 32-bit syscalls, or without tracefs). */
volatile __u32 native_in_sys_exit = 0;

struct repeat_key {
	__u32 source_tgid;
	__u32 target_tgid;
	__u32 kind;
	__u32 access;
	__u64 start_address;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct repeat_key);
	__type(value, __u64);              /* boot ns of the last report */
} last_reported SEC(".maps");

static __always_inline bool enabled(__u32 id)
{
	return enabled_events & (1u << id);
}

static __always_inline void read_task(struct procaccess_task *out, struct task_struct *task)
{
	out->tgid = BPF_CORE_READ(task, tgid);
	out->tid = BPF_CORE_READ(task, pid);
	out->uid = BPF_CORE_READ(task, real_cred, uid.val);
	BPF_CORE_READ_STR_INTO(&out->comm, task, comm);
}

/* Send REC unless the same access between the same processes was sent
 * less than PROCACCESS_REPEAT_NS ago. */
static __always_inline void submit_once(struct procaccess_record *rec, __u32 event_id)
{
	struct repeat_key key = {
		.source_tgid = rec->source.tgid,
		.target_tgid = rec->target.tgid ? rec->target.tgid : rec->target.tid,
		.kind = rec->kind,
		.access = rec->granted_access,
		.start_address = rec->start_address,
	};
	__u64 *last = bpf_map_lookup_elem(&last_reported, &key);

	if (last) {
		if (rec->boot_ns - *last < PROCACCESS_REPEAT_NS)
			return;
		*last = rec->boot_ns;
	} else if (bpf_map_update_elem(&last_reported, &key, &rec->boot_ns, BPF_NOEXIST) != 0) {
		return;  /* another CPU sent it just now */
	}
	capture_submit(rec, sizeof(*rec), event_id);
}

static __always_inline void init_record(struct procaccess_record *rec, __u32 kind, __u32 operation)
{
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->operation = operation;
	rec->boot_ns = bpf_ktime_get_boot_ns();
	read_task(&rec->source, current_task());
}

/* The tracee with thread id TID among the current thread's tracees: only
 * the tracing thread itself may make ptrace requests. */
static __always_inline struct task_struct *find_tracee(__u32 tid)
{
	struct task_struct *me = current_task();
	__u64 offset = bpf_core_field_offset(struct task_struct, ptrace_entry);
	__u64 head = (__u64)me + bpf_core_field_offset(struct task_struct, ptraced);
	struct list_head *node = BPF_CORE_READ(me, ptraced.next);

	for (int i = 0; i < 64; i++) {
		if (!node || (__u64)node == head)
			return NULL;
		struct task_struct *task = (void *)node - offset;
		if ((__u32)BPF_CORE_READ(task, pid) == tid)
			return task;
		node = BPF_CORE_READ(node, next);
	}
	return NULL;
}

/* The instruction pointer a successful ptrace REQUEST set, if it set one:
 * SETREGS and SETREGSET(NT_PRSTATUS) copy a register set from DATA,
 * POKEUSER at the ip slot of struct user writes DATA itself. */
static __always_inline bool new_instruction_pointer(long request, unsigned long addr,
						    unsigned long data, __u64 *ip)
{
	const void *regs = NULL;

	if (HAVE_PTRACE_SETREGS && request == PTRACE_SETREGS) {
		regs = (const void *)data;
	} else if (request == PTRACE_SETREGSET && addr == NT_PRSTATUS) {
		struct iovec iov = {};

		if (bpf_probe_read_user(&iov, sizeof(iov), (const void *)data) != 0 ||
		    iov.iov_len < REGS_IP_OFFSET + 8)
			return false;
		regs = iov.iov_base;
	} else if (request == PTRACE_POKEUSR && USER_IP_OFFSET >= 0 && addr == (unsigned long)USER_IP_OFFSET) {
		*ip = data;
		return true;
	}
	return regs && bpf_probe_read_user(ip, sizeof(*ip), regs + REGS_IP_OFFSET) == 0;
}

/* A successful ptrace(REQUEST, TID, ADDR, DATA); COMPAT: a 32-bit call,
 * whose register sets have another layout (no StartAddress is read). */
static __always_inline void on_ptrace(long request, __u32 tid, unsigned long addr, unsigned long data,
				      bool compat)
{
	__u32 access = 0;
	bool inject = false;

	switch (request) {
	case PTRACE_ATTACH:
	case PTRACE_SEIZE:
		access = PROCACCESS_ALL_ACCESS;
		break;
	case PTRACE_PEEKTEXT:
	case PTRACE_PEEKDATA:
	case PTRACE_PEEKUSR:
		access = PROCACCESS_VM_READ;
		break;
	case PTRACE_POKETEXT:
	case PTRACE_POKEDATA:
	case PTRACE_POKEUSR:
		access = PROCACCESS_VM_WRITE;
		inject = true;
		break;
	case PTRACE_SETREGS:
		inject = HAVE_PTRACE_SETREGS;
		break;
	case PTRACE_SETREGSET:
		inject = addr == NT_PRSTATUS;
		break;
	default:
		return;
	}
	bool want_access = access && enabled(PROCACCESS_EVENT_ACCESS);
	bool want_inject = inject && enabled(PROCACCESS_EVENT_REMOTE_THREAD);
	if (!want_access && !want_inject)
		return;

	struct procaccess_record rec;
	init_record(&rec, PROCACCESS_RECORD_ACCESS, PROCACCESS_OP_PTRACE);
	rec.request = request;
	struct task_struct *tracee = find_tracee(tid);
	if (tracee) {
		read_task(&rec.target, tracee);
		rec.flags |= PROCACCESS_TARGET_TASK;
	} else {
		rec.target.tid = tid;
	}
	if (want_access) {
		rec.granted_access = access;
		submit_once(&rec, PROCACCESS_EVENT_ACCESS);
	}
	if (want_inject) {
		rec.kind = PROCACCESS_RECORD_INJECT;
		rec.granted_access = 0;
		if (!compat && new_instruction_pointer(request, addr, data, &rec.start_address))
			rec.flags |= PROCACCESS_START_ADDRESS;
		submit_once(&rec, PROCACCESS_EVENT_REMOTE_THREAD);
	}
}

static __always_inline void on_process_vm(bool write, __u32 pid)
{
	struct procaccess_record rec;

	if (!enabled(PROCACCESS_EVENT_ACCESS))
		return;
	init_record(&rec, PROCACCESS_RECORD_ACCESS,
		    write ? PROCACCESS_OP_VM_WRITEV : PROCACCESS_OP_VM_READV);
	if (pid == rec.source.tgid || pid == rec.source.tid)
		return;
	rec.granted_access = write ? PROCACCESS_VM_WRITE : PROCACCESS_VM_READ;
	rec.target.tid = pid;
	submit_once(&rec, PROCACCESS_EVENT_ACCESS);
}

/* FILE, just opened by the current process, is /proc/PID/{mem,environ,maps}
 * (or /proc/PID/task/TID/...) of another process: report it.  FILE is a
 * typed pointer (a tracing argument, or kernel_typed()'s). */
static __always_inline void on_opened_file(struct file *file)
{
	struct inode *inode = KERNEL_READ(file, f_inode);
	if (!inode)
		return;
	struct super_block *sb = KERNEL_READ(inode, i_sb);
	if (KERNEL_READ(sb, s_magic) != PROC_SUPER_MAGIC)
		return;

	char name[8] = {};
	struct dentry *dentry = KERNEL_READ(file, f_path.dentry);
	__u32 len = KERNEL_READ(dentry, d_name.len);
	if (len > 7)
		return;
	const unsigned char *dname = KERNEL_READ(dentry, d_name.name);
	asm volatile("" : "+r"(len));   /* the mask below must stay, for the verifier */
	if (bpf_probe_read_kernel(name, len & 7, dname) != 0)
		return;
	__u32 access;
	if (len == 3 && name[0] == 'm' && name[1] == 'e' && name[2] == 'm') {
		fmode_t mode = KERNEL_READ(file, f_mode);

		access = 0;
		if (mode & FMODE_READ_BIT)
			access |= PROCACCESS_VM_READ;
		if (mode & FMODE_WRITE_BIT)
			access |= PROCACCESS_VM_WRITE;
	} else if ((len == 7 && name[0] == 'e' && name[1] == 'n' && name[2] == 'v' && name[3] == 'i' &&
		    name[4] == 'r' && name[5] == 'o' && name[6] == 'n') ||
		   (len == 4 && name[0] == 'm' && name[1] == 'a' && name[2] == 'p' && name[3] == 's')) {
		access = PROCACCESS_QUERY_LIMITED;
	} else {
		return;
	}

	/* the task the /proc directory stands for: its inode's pid */
	struct proc_inode *pinode = (void *)inode - bpf_core_field_offset(struct proc_inode, vfs_inode);
	struct pid *pid = BPF_CORE_READ(pinode, pid);
	if (!pid)
		return;
	struct procaccess_record rec;
	init_record(&rec, PROCACCESS_RECORD_ACCESS, PROCACCESS_OP_PROC_OPEN);
	rec.granted_access = access;
	struct hlist_node *link = BPF_CORE_READ(pid, tasks[0].first);
	if (link) {
		struct task_struct *task = (void *)link - bpf_core_field_offset(struct task_struct, pid_links);

		read_task(&rec.target, task);
		rec.flags |= PROCACCESS_TARGET_TASK;
	} else {
		rec.target.tid = BPF_CORE_READ(pid, numbers[0].nr);
	}
	if (rec.target.tgid == rec.source.tgid || rec.target.tid == rec.source.tgid)
		return;   /* a process reading its own /proc files */
	submit_once(&rec, PROCACCESS_EVENT_ACCESS);
}

/* The descriptor FD an open syscall of the current process returned. */
static __always_inline void on_open(long fd)
{
	if (!enabled(PROCACCESS_EVENT_ACCESS))
		return;
	struct file *file = file_of_fd(fd);
	if (file)
		on_opened_file(kernel_typed(file, struct file));
}

/* Native syscall NR returned RET >= 0; REGS holds its arguments. */
static __always_inline int on_syscall_exit(long nr, long ret, struct pt_regs *regs)
{
	if (capture_is_monitor(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (nr == NR_PTRACE)
		on_ptrace(PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs),
			  PT_REGS_PARM3_CORE_SYSCALL(regs), PT_REGS_PARM4_CORE_SYSCALL(regs), false);
	else if (nr == NR_PROCESS_VM_READV || nr == NR_PROCESS_VM_WRITEV)
		on_process_vm(nr == NR_PROCESS_VM_WRITEV, PT_REGS_PARM1_CORE_SYSCALL(regs));
	else if (nr == NR_OPENAT || nr == NR_OPENAT2 || nr == NR_OPEN)
		on_open(ret);
	return 0;
}

/* One program per watched syscall when tracefs is there (the other
 * syscalls then run nothing) on kernels without 32-bit syscalls;
 * procaccess_sys_exit below otherwise. */
/* The opens are frequent: straight to the descriptor, no registers (the
 * per-syscall tracepoints do not fire for 32-bit syscalls). */
#define OPEN_EXIT_PROGRAM(name)                                                 \
	SEC("tp/syscalls/sys_exit_" #name)                                      \
	int exit_##name(struct syscall_trace_exit *ctx)                         \
	{                                                                       \
		if (ctx->ret >= 0 && enabled(PROCACCESS_EVENT_ACCESS) &&        \
		    !capture_is_monitor(bpf_get_current_pid_tgid() >> 32))      \
			on_open(ctx->ret);                                      \
		return 0;                                                       \
	}

SYSCALL_EXIT_PROGRAM(ptrace, NR_PTRACE, on_syscall_exit)
SYSCALL_EXIT_PROGRAM(process_vm_readv, NR_PROCESS_VM_READV, on_syscall_exit)
SYSCALL_EXIT_PROGRAM(process_vm_writev, NR_PROCESS_VM_WRITEV, on_syscall_exit)
OPEN_EXIT_PROGRAM(openat)
OPEN_EXIT_PROGRAM(openat2)
OPEN_EXIT_PROGRAM(open)

#if defined(__TARGET_ARCH_x86)
/* 32-bit (ia32) calls, from a 32-bit process or int 0x80 in a 64-bit one:
 * the per-syscall tracepoints never see them, so ptrace through int 0x80
 * would go unseen. */
static __always_inline int on_ia32_exit(struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR(regs);

	if (ret < 0 || capture_is_monitor(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (nr == IA32_NR_PTRACE)
		on_ptrace((int)COMPAT_ARG1(regs), COMPAT_ARG2(regs), COMPAT_ARG3(regs), COMPAT_ARG4(regs), true);
	else if (nr == IA32_NR_PROCESS_VM_READV || nr == IA32_NR_PROCESS_VM_WRITEV)
		on_process_vm(nr == IA32_NR_PROCESS_VM_WRITEV, COMPAT_ARG1(regs));
	else if (nr == IA32_NR_OPEN || nr == IA32_NR_OPENAT || nr == IA32_NR_OPENAT2)
		on_open(ret);
	return 0;
}
#endif

/* A watched syscall returned RET, REGS holding its number and arguments:
 * a 32-bit one (x86), or a native one when NATIVE. */
static __always_inline int on_any_exit(struct pt_regs *regs, long ret, bool native)
{
#if defined(__TARGET_ARCH_x86)
	if (in_ia32_syscall(current_task()))
		return on_ia32_exit(regs, ret);
#endif
	if (!native)
		return 0;
	long nr = SYSCALL_NR(regs);

	if (ret < 0 || (nr != NR_PTRACE && nr != NR_PROCESS_VM_READV && nr != NR_PROCESS_VM_WRITEV &&
			nr != NR_OPENAT && nr != NR_OPENAT2 && nr != NR_OPEN))
		return 0;
	return on_syscall_exit(nr, ret, regs);
}

/* Every syscall exit: 32-bit calls (x86) and, with native_in_sys_exit,
 * the native ones (the per-syscall programs above are then not attached). */
SEC("tp_btf/sys_exit")
int BPF_PROG(procaccess_sys_exit, struct pt_regs *regs, long ret)
{
	return on_any_exit(regs, ret, native_in_sys_exit);
}

/* Where the kernel has fentry/fexit: the watched calls' own functions,
 * nothing on any other syscall.  ptrace and process_vm_* at the return of
 * their syscall functions (the loader picks each one's name on this
 * kernel and architecture: __x64_sys_ptrace, __ia32_compat_sys_ptrace, ...;
 * the 32-bit ones see ia32 registers, as on_any_exit expects), opens at
 * the return of vfs_open(), which every open of a file goes through
 * (open/openat/openat2 of 64- and 32-bit code, io_uring, ...), on success
 * only, as at the syscall exits. */
#define FEXIT_SYSCALL_PROGRAM(name)                                             \
	SEC("fexit")                                                            \
	int BPF_PROG(name, struct pt_regs *regs, long ret)                      \
	{                                                                       \
		return on_any_exit(regs, ret, true);                            \
	}

FEXIT_SYSCALL_PROGRAM(fexit_ptrace)
FEXIT_SYSCALL_PROGRAM(fexit_process_vm_readv)
FEXIT_SYSCALL_PROGRAM(fexit_process_vm_writev)
FEXIT_SYSCALL_PROGRAM(fexit_ia32_ptrace)
FEXIT_SYSCALL_PROGRAM(fexit_ia32_process_vm_readv)
FEXIT_SYSCALL_PROGRAM(fexit_ia32_process_vm_writev)
FEXIT_SYSCALL_PROGRAM(fexit_ia32_compat_process_vm_readv)
FEXIT_SYSCALL_PROGRAM(fexit_ia32_compat_process_vm_writev)

SEC("fexit/vfs_open")
int BPF_PROG(fexit_vfs_open, const struct path *path, struct file *file, int ret)
{
	if (ret == 0 && enabled(PROCACCESS_EVENT_ACCESS) &&
	    !(TASK_READ(current_task(), flags) & PF_KTHREAD_FLAG) &&
	    !capture_is_monitor(bpf_get_current_pid_tgid() >> 32))
		on_opened_file(file);
	return 0;
}

/* Does the kernel's copy of the exec'd path start like a descriptor path
 * ("/dev/fd/N" as execveat(fd, "", AT_EMPTY_PATH) names it, or
 * "/proc/PID/fd/N")? */
static __always_inline bool is_fd_path(const char *filename)
{
	char text[32] = {};

	if (bpf_probe_read_kernel_str(text, sizeof(text), filename) < 0)
		return false;
	if (text[0] == '/' && text[1] == 'd' && text[2] == 'e' && text[3] == 'v' && text[4] == '/' &&
	    text[5] == 'f' && text[6] == 'd' && text[7] == '/')
		return true;
	if (!(text[0] == '/' && text[1] == 'p' && text[2] == 'r' && text[3] == 'o' && text[4] == 'c' &&
	      text[5] == '/'))
		return false;
	for (int i = 6; i < 28; i++)
		if (text[i] == '/' && text[i + 1] == 'f' && text[i + 2] == 'd' && text[i + 3] == '/')
			return true;
	return false;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tamper_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct procaccess_tamper_record rec = {};

	if (capture_is_monitor(tgid) || !enabled(PROCACCESS_EVENT_TAMPERING))
		return 0;
	struct file *file = bprm->file;
	if (!file)
		return 0;
	struct dentry *dentry = file->f_path.dentry;
	unsigned long magic = file->f_inode->i_sb->s_magic;

	bpf_probe_read_kernel_str(rec.file_name, sizeof(rec.file_name), dentry->d_name.name);
	if ((magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) && dentry->d_parent == dentry &&
	    rec.file_name[0] == 'm' && rec.file_name[1] == 'e' && rec.file_name[2] == 'm' &&
	    rec.file_name[3] == 'f' && rec.file_name[4] == 'd' && rec.file_name[5] == ':')
		rec.type = PROCACCESS_TAMPER_MEMFD;
	else if (file->f_inode->__i_nlink == 0)
		rec.type = PROCACCESS_TAMPER_DELETED;
	else if (is_fd_path(bprm->filename))
		rec.type = PROCACCESS_TAMPER_FD_PATH;
	else
		return 0;
	rec.kind = PROCACCESS_RECORD_TAMPER;
	rec.tgid = tgid;
	rec.uid = task->real_cred->uid.val;
	rec.boot_ns = bpf_ktime_get_boot_ns();
	bpf_get_current_comm(rec.comm, sizeof(rec.comm));
	capture_submit(&rec, sizeof(rec), PROCACCESS_EVENT_TAMPERING);
	return 0;
}
