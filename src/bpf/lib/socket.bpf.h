/*
 * Sockets behind files and descriptors, for the kernel halves that watch
 * socket syscalls (included after bpf/capture.bpf.h, whose KERNEL_READ and
 * kernel_typed() they use): socket_of_file(), socket_of_fd().  The struct
 * sock they return is read with KERNEL_READ.
 */
#ifndef SYSMON_BPF_LIB_SOCKET_BPF_H
#define SYSMON_BPF_LIB_SOCKET_BPF_H

#include "bpf/lib/fd.bpf.h"

#define S_IFMT_BITS 00170000
#define S_IFSOCK_BITS 0140000

/* The socket of FILE, a socket's file (a typed pointer: a tracing
 * argument, or kernel_typed()'s), or NULL. */
static __always_inline struct sock *socket_of_file(struct file *file)
{
	struct socket *sock = kernel_typed(KERNEL_READ(file, private_data), struct socket);

	return sock ? KERNEL_READ(sock, sk) : NULL;
}

/* The socket behind descriptor FD of the current process, or NULL when
 * FD is not a socket's. */
static __always_inline struct sock *socket_of_fd(long fd)
{
	struct file *file = file_of_fd(fd);

	if (!file)
		return NULL;
	file = kernel_typed(file, struct file);
	struct inode *inode = KERNEL_READ(file, f_inode);
	if ((KERNEL_READ(inode, i_mode) & S_IFMT_BITS) != S_IFSOCK_BITS)
		return NULL;
	return socket_of_file(file);
}

#endif
