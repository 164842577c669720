/*
 * The current task and the eBPF helpers that some kernels of the matrix
 * lack, for every src/bpf/X.bpf.c (included after vmlinux.h,
 * <bpf/bpf_helpers.h> and <bpf/bpf_core_read.h>):
 *  - current_task(): the current task_struct, a typed pointer from
 *    bpf_get_current_task_btf() where the kernel has it (5.11), else the
 *    plain address bpf_get_current_task() returns;
 *  - TASK_READ(task, a, b, ...): task->a->b... read directly from the typed
 *    pointer, or with BPF_CORE_READ from the plain address;
 *  - kernel_has_task_btf(), kernel_has_task_pt_regs() (5.15),
 *    kernel_has_loop() (bpf_loop, 5.17), kernel_has_func_ret()
 *    (bpf_get_func_ret, 5.17): does the running kernel have the helper?  Each is a CO-RE relocation of the kernel's enum bpf_func_id,
 *    a constant of the loaded program: the verifier follows one branch and
 *    drops the other, so a call of a helper the kernel lacks is never seen.
 */
#ifndef SYSMON_BPF_LIB_TASK_BPF_H
#define SYSMON_BPF_LIB_TASK_BPF_H

#define kernel_has_task_btf() bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)
#define kernel_has_task_pt_regs() bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs)
#define kernel_has_loop() bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop)
#define kernel_has_func_ret() bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_func_ret)

static __always_inline struct task_struct *current_task(void)
{
	if (kernel_has_task_btf())
		return bpf_get_current_task_btf();
	return (struct task_struct *)bpf_get_current_task();
}

/* A member (or a chain of pointers to members) of TASK, current_task()'s. */
#define TASK_READ(task, ...) \
	(kernel_has_task_btf() ? ___arrow((task), ##__VA_ARGS__) : BPF_CORE_READ((task), ##__VA_ARGS__))

#endif
