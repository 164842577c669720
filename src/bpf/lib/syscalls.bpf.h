/*
 * Syscalls as the kernel halves see them at sys_enter/sys_exit, for every
 * src/bpf/X.bpf.c that watches syscalls (included after vmlinux.h and
 * <bpf/bpf_helpers.h>):
 *  - NR_*: the native numbers of the calls watched, per architecture;
 *    IA32_NR_*: the i386 numbers of those that x86 also watches as 32-bit
 *    calls;
 *  - SYSCALL_NR() and SYSCALL_ARG1() to SYSCALL_ARG6(): the number and the
 *    arguments in the user registers saved at entry (direct loads: these run
 *    at every syscall exit, so they must cost next to nothing);
 *  - IN_COMPAT_SYSCALL() / in_ia32_syscall(): is the call a 32-bit one,
 *    whose numbers belong to another table and whose arguments sit in other
 *    registers (COMPAT_ARG1() to COMPAT_ARG5() on x86)?
 *  - current_syscall_regs(): those saved registers, from a program that is
 *    not handed them;
 *  - SYSCALL_EXIT_PROGRAM(): a program on one syscall's own exit tracepoint;
 *  - SYS_EXIT_PROGRAMS(): a program on every syscall's exit, and its twin
 *    for kernels without bpf_loop.
 */
#ifndef SYSMON_BPF_LIB_SYSCALLS_BPF_H
#define SYSMON_BPF_LIB_SYSCALLS_BPF_H

#include "bpf/lib/task.bpf.h"

#if defined(__TARGET_ARCH_x86)
#define NR_READ 0
#define NR_WRITE 1
#define NR_OPEN 2
#define NR_MMAP 9
#define NR_WRITEV 20
#define NR_ACCEPT 43
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#define NR_RENAME 82
#define NR_CREAT 85
#define NR_LINK 86
#define NR_UNLINK 87
#define NR_SYMLINK 88
#define NR_PTRACE 101
#define NR_UTIME 132
#define NR_MKNOD 133
#define NR_UTIMES 235
#define NR_OPENAT 257
#define NR_MKNODAT 259
#define NR_FUTIMESAT 261
#define NR_UNLINKAT 263
#define NR_RENAMEAT 264
#define NR_LINKAT 265
#define NR_SYMLINKAT 266
#define NR_UTIMENSAT 280
#define NR_ACCEPT4 288
#define NR_RECVMMSG 299
#define NR_SENDMMSG 307
#define NR_PROCESS_VM_READV 310
#define NR_PROCESS_VM_WRITEV 311
#define NR_RENAMEAT2 316
#define NR_OPENAT2 437

/* The i386 table. */
#define IA32_NR_OPEN 5
#define IA32_NR_CREAT 8
#define IA32_NR_LINK 9
#define IA32_NR_UNLINK 10
#define IA32_NR_MKNOD 14
#define IA32_NR_PTRACE 26
#define IA32_NR_UTIME 30
#define IA32_NR_RENAME 38
#define IA32_NR_SYMLINK 83
#define IA32_NR_UTIMES 271
#define IA32_NR_OPENAT 295
#define IA32_NR_MKNODAT 297
#define IA32_NR_FUTIMESAT 299
#define IA32_NR_UNLINKAT 301
#define IA32_NR_RENAMEAT 302
#define IA32_NR_LINKAT 303
#define IA32_NR_SYMLINKAT 304
#define IA32_NR_UTIMENSAT 320
#define IA32_NR_PROCESS_VM_READV 347
#define IA32_NR_PROCESS_VM_WRITEV 348
#define IA32_NR_RENAMEAT2 353
#define IA32_NR_UTIMENSAT_TIME64 412
#define IA32_NR_OPENAT2 437

#define SYSCALL_NR(regs) ((regs)->orig_ax)
#define SYSCALL_ARG1(regs) ((regs)->di)
#define SYSCALL_ARG2(regs) ((regs)->si)
#define SYSCALL_ARG3(regs) ((regs)->dx)
#define SYSCALL_ARG4(regs) ((regs)->r10)
#define SYSCALL_ARG5(regs) ((regs)->r8)
#define SYSCALL_ARG6(regs) ((regs)->r9)

/* A 32-bit (ia32) syscall, from a 32-bit process or int 0x80 from a 64-bit
 * one: TS_COMPAT in thread_info.status is set while one runs.  Its numbers
 * are the i386 table's (45 and 288 are brk and keyctl there, not recvfrom
 * and accept4), its arguments in bx, cx, dx, si, di, 32 bits each. */
#define TS_COMPAT_FLAG 0x0002
#define in_ia32_syscall(task) (TASK_READ((task), thread_info.status) & TS_COMPAT_FLAG)
#define IN_COMPAT_SYSCALL(task, regs) in_ia32_syscall(task)
#define COMPAT_ARG1(regs) ((__u32)(regs)->bx)
#define COMPAT_ARG2(regs) ((__u32)(regs)->cx)
#define COMPAT_ARG3(regs) ((__u32)(regs)->dx)
#define COMPAT_ARG4(regs) ((__u32)(regs)->si)
#define COMPAT_ARG5(regs) ((__u32)(regs)->di)

#elif defined(__TARGET_ARCH_arm64)
#define NR_MKNODAT 33
#define NR_UNLINKAT 35
#define NR_SYMLINKAT 36
#define NR_LINKAT 37
#define NR_RENAMEAT 38
#define NR_OPENAT 56
#define NR_READ 63
#define NR_WRITE 64
#define NR_WRITEV 66
#define NR_UTIMENSAT 88
#define NR_PTRACE 117
#define NR_ACCEPT 202
#define NR_SENDTO 206
#define NR_RECVFROM 207
#define NR_SENDMSG 211
#define NR_RECVMSG 212
#define NR_MMAP 222
#define NR_ACCEPT4 242
#define NR_RECVMMSG 243
#define NR_SENDMMSG 269
#define NR_PROCESS_VM_READV 270
#define NR_PROCESS_VM_WRITEV 271
#define NR_RENAMEAT2 276
#define NR_OPENAT2 437
/* The generic syscall table has only the *at forms; the others get
 * numbers no syscall has. */
#define NR_OPEN 100001
#define NR_RENAME 100002
#define NR_CREAT 100003
#define NR_LINK 100004
#define NR_UNLINK 100005
#define NR_SYMLINK 100006
#define NR_UTIME 100007
#define NR_UTIMES 100008
#define NR_FUTIMESAT 100009
#define NR_MKNOD 100010

#define SYSCALL_NR(regs) ((regs)->syscallno)
#define SYSCALL_ARG1(regs) ((regs)->orig_x0)  /* x0 holds the return value at exit */
#define SYSCALL_ARG2(regs) ((regs)->regs[1])
#define SYSCALL_ARG3(regs) ((regs)->regs[2])
#define SYSCALL_ARG4(regs) ((regs)->regs[3])
#define SYSCALL_ARG5(regs) ((regs)->regs[4])
#define SYSCALL_ARG6(regs) ((regs)->regs[5])

/* An AArch32 task (PSR_MODE32_BIT in pstate): its numbers are another
 * table's, which no source maps (its calls are skipped).  There is no
 * ia32 table here. */
#define PSR_MODE32_FLAG 0x10
#define in_ia32_syscall(task) false
#define IN_COMPAT_SYSCALL(task, regs) ((regs)->pstate & PSR_MODE32_FLAG)

#else
#error "bpf/lib/syscalls.bpf.h: syscall numbers are defined for x86 and arm64 only"
#endif

/* The user registers the current task saved at syscall entry (a typed
 * pointer: SYSCALL_NR() and SYSCALL_ARGn() read it directly), through
 * bpf_task_pt_regs (5.15): a program that calls it is loaded only where
 * the kernel has that helper (kernel_has_task_pt_regs()); before, a
 * source's tp_btf/sys_exit program, handed the registers, does the work
 * of its syscall exit programs. */
static __always_inline struct pt_regs *current_syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* One program, exit_NAME, on the exit tracepoint of syscall NAME
 * (tp/syscalls/sys_exit_NAME, found through tracefs), so that the other
 * syscalls run no program at all: HANDLER(NR, its return value, the saved
 * registers) for a call that did not fail.  Without tracefs a source
 * filters every syscall exit at tp_btf/sys_exit instead; the kernel never
 * fires these tracepoints for 32-bit calls. */
#define SYSCALL_EXIT_PROGRAM(name, nr, handler)                                 \
	SEC("tp/syscalls/sys_exit_" #name)                                      \
	int exit_##name(struct syscall_trace_exit *ctx)                         \
	{                                                                       \
		if (ctx->ret < 0)                                               \
			return 0;                                               \
		return handler(nr, ctx->ret, current_syscall_regs());           \
	}

/* Two programs on every syscall exit (tp_btf/sys_exit, handed the saved
 * registers): NAME, which runs HANDLER(regs, ret, false), and
 * NAME_bounded, HANDLER(regs, ret, true): the same without bpf_loop, for
 * kernels before 5.17, where a program must not even name a bpf_loop
 * callback.  The loader loads one of the two. */
#define SYS_EXIT_PROGRAMS(name, handler)                                        \
	SEC("tp_btf/sys_exit")                                                  \
	int BPF_PROG(name, struct pt_regs *regs, long ret)                      \
	{                                                                       \
		return handler(regs, ret, false);                               \
	}                                                                       \
	SEC("tp_btf/sys_exit")                                                  \
	int BPF_PROG(name##_bounded, struct pt_regs *regs, long ret)            \
	{                                                                       \
		return handler(regs, ret, true);                                \
	}

#endif
