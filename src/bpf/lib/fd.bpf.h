/*
 * The current process's file descriptors, for the kernel halves that are
 * handed one by a syscall (included after vmlinux.h and
 * <bpf/bpf_helpers.h>): file_of_fd(), the open file a descriptor stands
 * for.  bpf/lib/socket.bpf.h builds on it for sockets.
 */
#ifndef SYSMON_BPF_LIB_FD_BPF_H
#define SYSMON_BPF_LIB_FD_BPF_H

#include "bpf/lib/task.bpf.h"

/* The file behind descriptor FD of the current process, or NULL: a plain
 * address (BPF_CORE_READ it, or make it typed with kernel_typed()). */
static __always_inline struct file *file_of_fd(long fd)
{
	struct task_struct *task = current_task();
	struct fdtable *fdt = TASK_READ(task, files, fdt);
	struct file *file = NULL;

	if (fd < 0 || fd >= TASK_READ(fdt, max_fds) ||
	    bpf_probe_read_kernel(&file, sizeof(file), TASK_READ(fdt, fd) + fd) != 0)
		return NULL;
	return file;
}

#endif
